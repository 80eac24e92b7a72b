import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  ClientStatusDiscoveryService,
  ClientStatusRequestSchema,
  ClientStatusResponseSchema,
  type ClientStatusRequest,
  type ClientStatusResponse,
} from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import { encodeCsdsResponse, type CsdsLimits, type CsdsSources } from "./csds-response.ts";
import { peerCertificateOf, type XdsPeerCertificate } from "./authorize-stream.ts";
import { StatusCode } from "./stream-transport.ts";

/** Who is calling CSDS, as {@link CsdsAuthorize} sees it. */
export interface CsdsCaller {
  /** The verified client certificate; undefined without mTLS. */
  readonly peer: XdsPeerCertificate | undefined;
  /** The call's request metadata (e.g. `authorization: Bearer TOKEN`). */
  readonly metadata: grpc.Metadata;
}

/** Why {@link CsdsAuthorize} refused a call: the gRPC status (UNAUTHENTICATED 16 or PERMISSION_DENIED 7) and its details. */
export interface CsdsRefusal {
  /** "unauthenticated": the caller gave no (known) credentials; "permission_denied": known, but not allowed. */
  readonly code: "unauthenticated" | "permission_denied";
  /** The status details the caller receives: say what is missing and how to get it. */
  readonly message: string;
}

/**
 * Decides whether a CSDS call may be answered: undefined allows it, a
 * {@link CsdsRefusal} ends it with that status before any request is read, so
 * nothing of the status is returned. Called once per FetchClientStatus call
 * and once per StreamClientStatus stream, when it opens (credentials are
 * per call in gRPC: a stream cannot change them). A throw is a
 * PERMISSION_DENIED refusal. Without it every call is answered.
 */
export type CsdsAuthorize = (caller: CsdsCaller) => CsdsRefusal | undefined;

/** Options of {@link createCsdsService} and {@link registerCsds}. */
export interface CsdsServiceOptions {
  /** Bounds on one answer; `defaultCsdsLimits` when absent. */
  readonly limits?: CsdsLimits;
  /** Who may read status; everyone when absent. */
  readonly authorize?: CsdsAuthorize;
}

/** A @grpc/grpc-js service definition and implementation, for `server.addService(definition, implementation)`. */
export interface CsdsService {
  /** The service's methods (StreamClientStatus and FetchClientStatus). */
  readonly definition: grpc.ServiceDefinition;
  /** Their handlers. */
  readonly implementation: grpc.UntypedServiceImplementation;
}

const serviceName = ClientStatusDiscoveryService.typeName;
const identity = (b: Buffer): Buffer => b;
/** The server writes the bytes encodeCsdsResponse built; a message (from a client built on this definition, or an embedder) is encoded here. */
type CsdsResponse = Uint8Array | ClientStatusResponse;
const serializeResponse = (r: CsdsResponse): Buffer =>
  r instanceof Uint8Array ? Buffer.from(r.buffer, r.byteOffset, r.byteLength) : Buffer.from(toBinary(ClientStatusResponseSchema, r));
const deserializeResponse = (b: Buffer): CsdsResponse => fromBinary(ClientStatusResponseSchema, b);

/**
 * envoy.service.status.v3.ClientStatusDiscoveryService (CSDS): FetchClientStatus
 * answers once, StreamClientStatus answers every request of the stream, both
 * with {@link encodeCsdsResponse}. CSDS is not a hot path, so responses are
 * encoded with protobuf-es per request. Requests are decoded here rather than
 * by grpc-js so that a malformed one is INVALID_ARGUMENT with a reason; a
 * request whose answer would pass `limits` (default `defaultCsdsLimits`)
 * is RESOURCE_EXHAUSTED with what to ask instead.
 */
export function createCsdsService(sources: CsdsSources, options: CsdsServiceOptions = {}): CsdsService {
  const limits = checkCsdsLimits(options.limits ?? {});
  const authorize = options.authorize;
  // Asked before the request is decoded: a refused caller learns nothing, not even whether its request was well formed.
  const refusalOf = (call: grpc.ServerUnaryCall<Buffer, CsdsResponse> | grpc.ServerDuplexStream<Buffer, CsdsResponse>): Partial<grpc.StatusObject> | undefined => {
    if (authorize === undefined) return undefined;
    let refusal: CsdsRefusal | undefined;
    try {
      refusal = authorize({ peer: peerCertificateOf(call.getAuthContext().sslPeerCertificate), metadata: call.metadata });
    } catch (error) {
      return { code: StatusCode.PermissionDenied, details: `CSDS authorization failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (refusal === undefined) return undefined;
    return { code: refusal.code === "unauthenticated" ? StatusCode.Unauthenticated : StatusCode.PermissionDenied, details: refusal.message };
  };
  const method = (name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, CsdsResponse> => ({
    path: `/${serviceName}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: serializeResponse,
    responseDeserialize: deserializeResponse,
  });
  const definition: grpc.ServiceDefinition = {
    StreamClientStatus: method(ClientStatusDiscoveryService.method.streamClientStatus.name, true, true),
    FetchClientStatus: method(ClientStatusDiscoveryService.method.fetchClientStatus.name, false, false),
  };

  const answer = (bytes: Buffer): { response: Uint8Array } | { error: Partial<grpc.StatusObject> } => {
    let request: ClientStatusRequest;
    try {
      request = fromBinary(ClientStatusRequestSchema, bytes);
    } catch (error) {
      return { error: { code: StatusCode.InvalidArgument, details: `malformed ClientStatusRequest: ${(error as Error).message}` } };
    }
    try {
      const result = encodeCsdsResponse(request, sources, limits);
      if ("refused" in result) return { error: { code: StatusCode.ResourceExhausted, details: result.refused } };
      return { response: result.bytes };
    } catch (error) {
      if (error instanceof XdsError && error.code === XdsErrorCode.InvalidArgument) return { error: { code: StatusCode.InvalidArgument, details: error.message } };
      return { error: { code: StatusCode.Internal, details: `CSDS failed: ${(error as Error).message}` } };
    }
  };

  const implementation: grpc.UntypedServiceImplementation = {
    FetchClientStatus: (call: grpc.ServerUnaryCall<Buffer, CsdsResponse>, callback: grpc.sendUnaryData<CsdsResponse>) => {
      const refused = refusalOf(call);
      if (refused !== undefined) {
        callback(refused);
        return;
      }
      const result = answer(call.request);
      if ("response" in result) callback(null, result.response);
      else callback(result.error);
    },
    StreamClientStatus: (call: grpc.ServerDuplexStream<Buffer, CsdsResponse>) => {
      const refused = refusalOf(call);
      let ended = refused !== undefined;
      if (refused !== undefined) {
        // The stream is ended before a single request is read.
        call.emit("error", refused);
        return;
      }
      call.on("data", (bytes: Buffer) => {
        if (ended) return;
        const result = answer(bytes);
        if ("response" in result) {
          call.write(result.response);
          return;
        }
        ended = true;
        call.emit("error", result.error);
      });
      call.on("end", () => {
        if (ended) return;
        ended = true;
        call.end();
      });
      // A client that goes away needs nothing more; nothing is held per stream.
      call.on("error", () => {
        ended = true;
      });
    },
  };
  return { definition, implementation };
}

/** The limits, checked: each an integer >= 1; else XdsError "invalid_argument". */
export function checkCsdsLimits(limits: CsdsLimits): CsdsLimits {
  for (const key of ["maxNodes", "maxResponseBytes"] as const) {
    const v = limits[key];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new XdsError(XdsErrorCode.InvalidArgument, `CSDS ${key} must be an integer >= 1, not ${v}`);
  }
  return limits;
}

/** Adds CSDS to a @grpc/grpc-js server (the xDS server's, or any other). */
export function registerCsds(server: grpc.Server, sources: CsdsSources, options: CsdsServiceOptions = {}): void {
  const service = createCsdsService(sources, options);
  server.addService(service.definition, service.implementation);
}
