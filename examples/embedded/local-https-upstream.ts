// A stand-in for a public HTTPS site: nothing in this example leaves the machine.
// It makes a throwaway self-signed certificate with the openssl CLI at start
// (Node's crypto can make keys but not X.509 certificates), so nothing secret
// is ever committed. Envoy's cluster has no validation context, so it accepts it.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface LocalHttpsUpstream {
  readonly hostname: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startLocalHttpsUpstream(options: { hostname: string; port: number }): Promise<LocalHttpsUpstream> {
  const dir = await mkdtemp(join(tmpdir(), "xds-demo-cert-"));
  let cert: string;
  let key: string;
  try {
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${options.hostname}`,
      "-addext",
      `subjectAltName=DNS:${options.hostname}`,
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    cert = await readFile(join(dir, "cert.pem"), "utf8");
    key = await readFile(join(dir, "key.pem"), "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const server = createServer({ cert, key }, (req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(
      `<html><body><h1>Hello from ${options.hostname}</h1>` +
        `<p>Host header: ${escapeHtml(req.headers.host ?? "")}; SNI: ${escapeHtml(String((req.socket as { servername?: unknown }).servername ?? ""))}</p></body></html>\n`,
    );
  });
  // Longer than Envoy's pooled connections stay idle, so a reused connection is never closed under a request.
  server.keepAliveTimeout = 120_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: options.port }, () => {
      const a = server.address();
      if (a === null || typeof a === "string") reject(new Error("no TCP address"));
      else resolve(a.port);
    });
  });
  return {
    hostname: options.hostname,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
