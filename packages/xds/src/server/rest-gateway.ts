import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { toBinary, type Registry } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { ConfigWatcher } from "../cache/config-watcher.ts";
import type { StatusRegistry } from "../cache/node-status.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import type { CsdsResourceVersions } from "./csds-resource-versions.ts";
import { decodeRestRequest, RestResponseEncoder, restEncodingOf, restMediaTypes } from "./rest-codec.ts";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import { createRestFetcher } from "./rest-fetch.ts";
import { restDiscoveryPaths } from "./rest-paths.ts";
import { encodedFieldBytes } from "./encoded-field-bytes.ts";
import { checkMaxNodeBytesOption, nodeSizeRefusal } from "./node-size-limit.ts";

/** The field number of DiscoveryRequest.node, to measure it on the wire. */
const nodeFieldNumber = DiscoveryRequestSchema.field["node"]?.number ?? 0;

/** Options of {@link createRestGateway}. */
export interface RestGatewayOptions {
  /** Where resources come from: the same cache the gRPC server serves. */
  readonly cache: ConfigWatcher;
  /** Status registry to record sent / ACKed / NACKed in (share the xDS server's). */
  readonly status?: StatusRegistry;
  /** Sent as control_plane.identifier in every response. */
  readonly controlPlaneId?: string;
  /** Per-resource versions for CSDS, when CSDS is served too. */
  readonly resourceVersions?: CsdsResourceVersions;
  /** Largest request body accepted; larger ones are answered 413. Default 1 MiB. */
  readonly maxRequestBytes?: number;
  /**
   * Largest encoded `node` a request may carry, as on the gRPC streams
   * (XdsServerOptions.maxNodeBytes, default 256 KiB): a bigger one is answered
   * 413 `node_too_large` naming both sizes, and status never sees it.
   */
  readonly maxNodeBytes?: number;
  /** Types for proto3 JSON `Any`s; by default every generated Envoy type. */
  readonly registry?: Registry;
  /** Remembered last answers, see createRestFetcher. */
  readonly maxTrackedClients?: number;
  /** Backoff before a NACKed set is offered again, see createRestFetcher. */
  readonly nackRetryMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** REST-JSON xDS (`POST /v3/discovery:clusters` and the rest), as returned by {@link createRestGateway}. */
export interface RestGateway {
  /** A node:http request handler: mount it on any HTTP server. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Serves the handler on host:port (127.0.0.1 by default); resolves with the bound port. */
  listen(options: { host?: string; port: number }): Promise<number>;
  /** Stops the server started by listen, dropping open connections. */
  close(): Promise<void>;
}

/**
 * REST fetch (Envoy's api_type REST): `POST /v3/discovery:<kind>` with a
 * DiscoveryRequest in proto3 JSON, or binary protobuf when the Content-Type is
 * application/x-protobuf; answered with a DiscoveryResponse in the same
 * encoding, selected as SotW selects, or 304 when the client has it already.
 * Errors are JSON `{ "code", "message" }`: 400 for a request that cannot be
 * served, 404 for an unknown path, 405, 413 (a body over maxRequestBytes, or
 * a node over maxNodeBytes), 415 as HTTP means them.
 */
export function createRestGateway(options: RestGatewayOptions): RestGateway {
  const registry = options.registry ?? envoyRegistry();
  const encoder = new RestResponseEncoder(options.controlPlaneId === undefined ? { registry } : { registry, controlPlaneId: options.controlPlaneId });
  const fetcher = createRestFetcher({
    cache: options.cache,
    ...(options.status === undefined ? {} : { status: options.status }),
    ...(options.resourceVersions === undefined ? {} : { resourceVersions: options.resourceVersions }),
    ...(options.maxTrackedClients === undefined ? {} : { maxTrackedClients: options.maxTrackedClients }),
    ...(options.nackRetryMs === undefined ? {} : { nackRetryMs: options.nackRetryMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const maxRequestBytes = options.maxRequestBytes ?? 1024 * 1024;
  checkMaxNodeBytesOption(options.maxNodeBytes);
  let server: Server | undefined;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "").split("?")[0] ?? "";
    const typeUrl = restDiscoveryPaths.get(path);
    if (typeUrl === undefined) {
      return fail(res, 404, "not_found", `no REST discovery endpoint at ${path}; known: ${[...restDiscoveryPaths.keys()].join(", ")}`);
    }
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return fail(res, 405, "method_not_allowed", `${path} takes POST with a DiscoveryRequest, not ${req.method ?? "?"}`);
    }
    const encoding = restEncodingOf(req.headers["content-type"]);
    if (encoding === undefined) {
      return fail(res, 415, "unsupported_media_type", `Content-Type ${req.headers["content-type"] ?? ""} is neither ${restMediaTypes.json} nor ${restMediaTypes.binary}`);
    }
    const body = await readBody(req, maxRequestBytes);
    if (body === undefined) {
      // The rest of the body is not read: the connection cannot be reused.
      res.setHeader("connection", "close");
      return fail(res, 413, "payload_too_large", `the request body is larger than ${maxRequestBytes} bytes`);
    }
    let result: ReturnType<typeof fetcher.fetch>;
    try {
      // Binary: measured on the wire before decoding, as the streams do. JSON has no wire size
      // of its own: the decoded node is measured as it would be encoded (the same unit).
      const wireNode = encoding === "binary" ? encodedFieldBytes(body, nodeFieldNumber) : undefined;
      const early = nodeSizeRefusal({ nodeBytes: wireNode, maxNodeBytes: options.maxNodeBytes, messageName: "DiscoveryRequest" });
      if (early !== undefined) return fail(res, 413, "node_too_large", early);
      const request = decodeRestRequest(body, encoding, registry);
      const jsonNode = encoding === "binary" || request.node === undefined ? undefined : toBinary(NodeSchema, request.node).length;
      const late = nodeSizeRefusal({ nodeBytes: jsonNode, maxNodeBytes: options.maxNodeBytes, messageName: "DiscoveryRequest" });
      if (late !== undefined) return fail(res, 413, "node_too_large", late);
      result = fetcher.fetch(typeUrl, request);
    } catch (error) {
      if (error instanceof XdsError && error.code === XdsErrorCode.InvalidArgument) return fail(res, 400, "invalid_argument", error.message);
      throw error;
    }
    if (result.kind === "not_modified") {
      res.writeHead(304).end();
      return;
    }
    const out = encoder.encode(encoding, result);
    res.writeHead(200, { "content-type": restMediaTypes[encoding], "content-length": out.length }).end(out);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else fail(res, 500, "internal", `REST fetch failed: ${(error as Error).message}`);
    });
  };

  return {
    handler,
    async listen({ host = "127.0.0.1", port }) {
      if (server) throw new XdsError(XdsErrorCode.InvalidState, "the REST gateway is already listening");
      const s = createServer(handler);
      const bound = await new Promise<number>((resolve, reject) => {
        s.once("error", reject);
        s.listen({ host, port }, () => {
          const a = s.address();
          if (a === null || typeof a === "string") reject(new XdsError(XdsErrorCode.InvalidState, "the REST gateway has no TCP address"));
          else resolve(a.port);
        });
      });
      server = s;
      return bound;
    },
    async close() {
      const s = server;
      server = undefined;
      if (!s) return;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      });
    },
  };
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ code, message });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/** The whole body, or undefined once it exceeds the limit (the rest is not read). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
