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
