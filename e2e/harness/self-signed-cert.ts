import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export interface SelfSignedCert {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
}

/**
 * A fresh self-signed certificate for `hostname` (CN and subjectAltName), made
 * at test time with the openssl CLI: nothing is committed and nothing leaves the
 * machine. node:crypto can make keys but not X.509 certificates, hence openssl.
 * P-256 keys keep this to a few milliseconds.
 */
export async function createSelfSignedCert(options: { hostname: string; days?: number }): Promise<SelfSignedCert> {
  const dir = await mkdtemp(join(tmpdir(), "e2e-cert-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    const san = /^[0-9.]+$/.test(options.hostname) ? `IP:${options.hostname}` : `DNS:${options.hostname}`;
    await promisify(execFile)(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        keyFile,
        "-out",
        certFile,
        "-days",
        String(options.days ?? 1),
        "-subj",
        `/CN=${options.hostname}`,
        "-addext",
        `subjectAltName=${san}`,
      ],
      { timeout: 10_000 },
    );
    return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
