import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { TLSSocket } from "node:tls";
import type { TestContext } from "node:test";
import { createSelfSignedCert } from "./self-signed-cert.ts";
import { listenLocal } from "./listen-local.ts";

/** What an upstream saw of one request. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** The Host header (":authority" as Envoy sent it upstream). */
  readonly host: string;
  /** TLS server name indication of the connection; undefined for plain HTTP or no SNI. */
  readonly sni?: string;
}

export interface Upstream {
  readonly name: string;
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Every request seen so far, in order. */
  readonly requests: readonly SeenRequest[];
  close(): Promise<void>;
}

export interface UpstreamOptions {
  /** The page says "served by NAME". */
  readonly name: string;
  /** When given, the upstream is closed in `t.after`. */
  readonly t?: TestContext;
}

/** A local HTTP/1.1 upstream on 127.0.0.1 (ephemeral port) that answers `served by NAME\n` to everything. */
export function startHttpUpstream(options: UpstreamOptions): Promise<Upstream> {
  return serve(createServer(), options);
}

/**
 * A local HTTPS upstream with a self-signed certificate for `hostname`
 * ("localhost" by default) made at start time. It records the SNI and Host of
 * every request, so a test can prove what Envoy sent upstream.
 */
export async function startHttpsUpstream(options: UpstreamOptions & { hostname?: string }): Promise<Upstream> {
  const { cert, key } = await createSelfSignedCert({ hostname: options.hostname ?? "localhost" });
  return serve(createHttpsServer({ cert, key }), options);
}

async function serve(server: Server, options: UpstreamOptions): Promise<Upstream> {
  const requests: SeenRequest[] = [];
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const servername = (req.socket as Partial<TLSSocket>).servername;
    requests.push({
      method: req.method ?? "",
      path: req.url ?? "",
      host: req.headers.host ?? "",
      ...(typeof servername === "string" ? { sni: servername } : {}),
    });
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`served by ${options.name}\n`);
    });
  });
  // Envoy pools upstream connections. If this server closed an idle one at the
  // moment Envoy reused it, the request would fail with a 503 that has nothing
  // to do with the control plane; keep idle connections longer than any test.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  const { port, close } = await listenLocal(server, { what: "upstream" });
  options.t?.after(close);
  return { name: options.name, host: "127.0.0.1", port, requests, close };
}
