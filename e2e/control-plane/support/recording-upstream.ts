import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { TestContext } from "node:test";
import { listenLocal } from "../../harness/listen-local.ts";

/** What the upstream saw of one request, headers included (request ids, trace context). */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface RecordingUpstream {
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP/1.1 upstream on 127.0.0.1 (ephemeral port) that answers every
 * request with `body` and records its headers: the harness upstream records
 * only Host and SNI, and the scenarios here must prove what Envoy added
 * (x-request-id, B3 trace headers).
 */
export async function startRecordingUpstream(options: { body: string; t: TestContext }): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(options.body);
    });
  });
  // Envoy reuses pooled upstream connections; closing an idle one under it would
  // be a 503 unrelated to the control plane.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  const { port, close } = await listenLocal(server, { what: "upstream", t: options.t });
  return { port, requests, close };
}
