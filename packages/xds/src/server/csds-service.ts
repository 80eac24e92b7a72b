import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
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
import { StatusCode, type StreamError } from "./stream-transport.ts";
import type { ServerCall } from "./server-call.ts";

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
  const { refusal, answer } = csdsCore(sources, options);
  const refusalOf = (call: grpc.ServerUnaryCall<Buffer, CsdsResponse> | grpc.ServerDuplexStream<Buffer, CsdsResponse>): StreamError | undefined =>
    refusal(() => ({ peer: peerCertificateOf(call.getAuthContext().sslPeerCertificate), metadata: call.metadata }));
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

/** What both transports share: the authorization check and the answer to one request. */
function csdsCore(sources: CsdsSources, options: CsdsServiceOptions) {
  const limits = checkCsdsLimits(options.limits ?? {});
  const authorize = options.authorize;
  // Asked before the request is decoded: a refused caller learns nothing, not even whether its request was well formed.
  const refusal = (caller: () => CsdsCaller): StreamError | undefined => {
    if (authorize === undefined) return undefined;
    let refused: CsdsRefusal | undefined;
    try {
      refused = authorize(caller());
    } catch (error) {
      return { code: StatusCode.PermissionDenied, details: `CSDS authorization failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (refused === undefined) return undefined;
    return { code: refused.code === "unauthenticated" ? StatusCode.Unauthenticated : StatusCode.PermissionDenied, details: refused.message };
  };
  const answer = (bytes: Buffer): { response: Uint8Array } | { error: StreamError } => {
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
  return { refusal, answer };
}

/** A call's metadata as grpc-js's Metadata, which CsdsAuthorize receives whichever transport carried the call. */
function metadataOf(call: ServerCall): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, values] of call.metadata()) for (const v of values) metadata.add(key, v);
  return metadata;
}

const bufferOf = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * CSDS on the xDS server's own HTTP/2 transport (http2-grpc-server.ts): the
 * handlers by method path, with the same authorization, limits and answers
 * as {@link createCsdsService}.
 */
export function csdsCallHandlers(sources: CsdsSources, options: CsdsServiceOptions = {}): ReadonlyMap<string, (call: ServerCall) => void> {
  const { refusal, answer } = csdsCore(sources, options);
  const refusalOf = (call: ServerCall): StreamError | undefined => refusal(() => ({ peer: peerCertificateOf(call.peerCertificate()), metadata: metadataOf(call) }));
  const noop = (): void => {};
  const fetch = (call: ServerCall): void => {
    const refused = refusalOf(call);
    if (refused !== undefined) {
      call.end(refused);
      return;
    }
    let request: Buffer | undefined;
    let ended = false;
    call.listen({
      message: (bytes) => {
        if (ended) return;
        if (request !== undefined) {
          ended = true;
          call.end({ code: StatusCode.Unimplemented, details: "FetchClientStatus is unary: send one request" });
          return;
        }
        request = bytes;
      },
      halfClose: () => {
        if (ended) return;
        ended = true;
        if (request === undefined) {
          call.end({ code: StatusCode.Unimplemented, details: "FetchClientStatus is unary: no request was sent" });
          return;
        }
        const result = answer(request);
        if ("error" in result) {
          call.end(result.error);
          return;
        }
        call.write(bufferOf(result.response), noop);
        call.end();
      },
      gone: () => {
        ended = true;
      },
    });
  };
  const stream = (call: ServerCall): void => {
    const refused = refusalOf(call);
    if (refused !== undefined) {
      call.end(refused);
      return;
    }
    let ended = false;
    call.listen({
      message: (bytes) => {
        if (ended) return;
        const result = answer(bytes);
        if ("response" in result) {
          call.write(bufferOf(result.response), noop);
          return;
        }
        ended = true;
        call.end(result.error);
      },
      halfClose: () => {
        if (ended) return;
        ended = true;
        call.end();
      },
      gone: () => {
        ended = true;
      },
    });
  };
  return new Map([
    [`/${serviceName}/${ClientStatusDiscoveryService.method.fetchClientStatus.name}`, fetch],
    [`/${serviceName}/${ClientStatusDiscoveryService.method.streamClientStatus.name}`, stream],
  ]);
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
