import { createServer } from "node:http";
import type { TestContext } from "node:test";
import { listenLocal } from "../../harness/listen-local.ts";

/** The fields of a Zipkin v2 span the tests look at (https://zipkin.io/zipkin-api/#/default/post_spans). */
export interface ZipkinSpan {
  readonly traceId: string;
  readonly id: string;
  readonly parentId?: string;
  readonly name?: string;
  readonly kind?: string;
  readonly localEndpoint?: { readonly serviceName?: string };
  readonly tags?: Readonly<Record<string, string>>;
}

/** One POST the collector received. */
export interface ZipkinPost {
  readonly path: string;
  readonly contentType: string;
  readonly spans: readonly ZipkinSpan[];
}

export interface ZipkinCollector {
  readonly port: number;
  readonly posts: readonly ZipkinPost[];
  /** Every span received, in arrival order. */
  spans(): ZipkinSpan[];
  close(): Promise<void>;
}

/**
 * A Zipkin-compatible collector on 127.0.0.1 (ephemeral port): it accepts
 * `POST /api/v2/spans` with a JSON array of spans, records them and answers 202
 * as Zipkin does. Anything else is a 404 and recorded nowhere, so a tracer
 * posting to the wrong path or in another encoding shows up as "no spans".
 */
export async function startZipkinCollector(options: { t: TestContext }): Promise<ZipkinCollector> {
  const posts: ZipkinPost[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      if (req.method !== "POST" || req.url !== "/api/v2/spans" || !contentType.startsWith("application/json")) {
        res.writeHead(404).end();
        return;
      }
      let spans: unknown;
      try {
        spans = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400).end("not JSON");
        return;
      }
      if (!Array.isArray(spans)) {
        res.writeHead(400).end("not a JSON array of spans");
        return;
      }
      posts.push({ path: req.url, contentType, spans: spans as ZipkinSpan[] });
      res.writeHead(202).end();
    });
  });
  server.keepAliveTimeout = 120_000;
  const { port, close } = await listenLocal(server, { what: "collector", t: options.t });
  return { port, posts, spans: () => posts.flatMap((p) => p.spans), close };
}
