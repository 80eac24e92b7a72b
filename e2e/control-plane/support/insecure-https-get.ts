import { connect } from "node:http2";
import { request, type RequestOptions } from "node:https";
import type { ConnectionOptions, PeerCertificate, TLSSocket } from "node:tls";

export interface HttpsAnswer {
  readonly status: number;
  readonly body: string;
  /** The certificate the server presented (to compare with the one configured). */
  readonly certificate: PeerCertificate;
  /** The protocol ALPN settled on: the client offers only http/1.1 (Node speaks HTTP/2 through another API). */
  readonly alpn: string | false;
}

/**
 * GET over HTTPS accepting any certificate, like `curl -k`: the front proxy
 * serves the example's self-signed certificate. The test checks the presented
 * certificate itself instead. One connection per call (no agent), bounded.
 */
export function insecureHttpsGet(url: string, options: { timeoutMs?: number; servername?: string } = {}): Promise<HttpsAnswer> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    // node:https hands these to tls.connect; its RequestOptions type just does not list ALPNProtocols.
    const tlsOptions: RequestOptions & Pick<ConnectionOptions, "ALPNProtocols"> = {
      rejectUnauthorized: false,
      agent: false,
      ALPNProtocols: ["http/1.1"],
      ...(options.servername === undefined ? {} : { servername: options.servername }),
    };
    const req = request(url, tlsOptions, (res) => {
      const socket = res.socket as TLSSocket;
      const certificate = socket.getPeerCertificate();
      const alpn = socket.alpnProtocol ?? false;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), certificate, alpn });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${url}: no complete answer after ${timeoutMs} ms`)), timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/**
 * GET over HTTP/2 with TLS, accepting any certificate: what `curl -k` does by
 * default (it offers h2 first). Resolves with the status, the body and the
 * protocol ALPN chose. One session per call, closed before resolving; bounded.
 */
export function insecureH2Get(url: string, options: { timeoutMs?: number; servername?: string } = {}): Promise<{ status: number; body: string; alpn: string | false }> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const session = connect(target.origin, { rejectUnauthorized: false, ...(options.servername === undefined ? {} : { servername: options.servername }) });
    const timer = setTimeout(() => session.destroy(new Error(`h2 GET ${url}: no complete answer after ${timeoutMs} ms`)), timeoutMs);
    session.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const stream = session.request({ ":method": "GET", ":path": target.pathname + target.search });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on("response", (headers) => (status = Number(headers[":status"])));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => undefined); // the session's error handler reports it
    stream.on("end", () => {
      clearTimeout(timer);
      const alpn = session.alpnProtocol ?? false;
      session.close(() => resolve({ status, body: Buffer.concat(chunks).toString("utf8"), alpn }));
    });
    stream.end();
  });
}
