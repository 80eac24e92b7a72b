import { request, type Agent, type IncomingHttpHeaders } from "node:http";

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpGetOptions {
  /** Upper bound for the whole exchange; 5 s by default. */
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly method?: string;
  /**
   * Connection reuse. By default every call opens its own connection and closes
   * it (no pooled socket outlives a test); pass a keep-alive agent to reuse one.
   */
  readonly agent?: Agent;
}

/** A plain HTTP/1.1 request that resolves with status, headers and body, or rejects on error or timeout. */
export function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers ?? {}, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${req.method} ${url}: no complete answer after ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}
