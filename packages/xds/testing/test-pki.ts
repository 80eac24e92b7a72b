import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PEM files of one certificate made by {@link TestPki}. */
export interface TestCertFiles {
  /** The certificate (PEM). */
  readonly certFile: string;
  /** Its unencrypted private key (PEM). */
  readonly keyFile: string;
}

/** What a leaf certificate of {@link TestPki.issue} carries. */
export interface TestCertOptions {
  /** File name stem inside the PKI's directory. */
  readonly name: string;
  /** Subject common name. */
  readonly commonName: string;
  /** subjectAltName entries as openssl writes them, e.g. `["URI:spiffe://example.org/ns/edge/sa/envoy", "DNS:localhost", "IP:127.0.0.1"]`. */
  readonly sans?: readonly string[];
  /** Validity in days from now, at least 1 (test expiry with loadTlsFiles' `now`). Default 1. */
  readonly days?: number;
}

/**
 * A throwaway certificate authority for tests, made with the openssl CLI in a
 * temporary directory (nothing committed, nothing leaves the machine):
 * `TestPki.create()` makes the CA, `issue` signs server or client
 * certificates with the SANs mTLS identities need, `dispose` deletes it all.
 * P-256 keys keep each certificate to a few milliseconds.
 */
export class TestPki {
  /** The temporary directory holding every file. */
  readonly dir: string;
  /** The CA certificate (PEM), the bundle servers and clients trust. */
  readonly caFile: string;
  readonly #caKey: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.caFile = join(dir, "ca.pem");
    this.#caKey = join(dir, "ca-key.pem");
  }

  /** Makes a new CA named `commonName` in a fresh temporary directory. */
  static async create(options: { commonName?: string } = {}): Promise<TestPki> {
    const pki = new TestPki(await mkdtemp(join(tmpdir(), "test-pki-")));
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await run("openssl", ["req", "-x509", ...ec, "-keyout", pki.#caKey, "-out", pki.caFile, "-days", "2", "-subj", `/CN=${options.commonName ?? "test CA"}`], { timeout: 10_000 });
    return pki;
  }

  /** Issues a certificate signed by this CA (usable as server and client certificate). */
  async issue(options: TestCertOptions): Promise<TestCertFiles> {
    const keyFile = join(this.dir, `${options.name}-key.pem`);
    const certFile = join(this.dir, `${options.name}.pem`);
    const csr = join(this.dir, `${options.name}.csr`);
    const ext = join(this.dir, `${options.name}.ext`);
    const days = Math.max(1, options.days ?? 1);
    const lines = ["basicConstraints=CA:FALSE", "keyUsage=digitalSignature,keyEncipherment", "extendedKeyUsage=serverAuth,clientAuth"];
    if (options.sans && options.sans.length > 0) lines.push(`subjectAltName=${options.sans.join(",")}`);
    await writeFile(ext, `${lines.join("\n")}\n`);
    await run("openssl", ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", csr, "-subj", `/CN=${options.commonName}`], { timeout: 10_000 });
    await run("openssl", ["x509", "-req", "-in", csr, "-CA", this.caFile, "-CAkey", this.#caKey, "-CAcreateserial", "-out", certFile, "-days", String(days), "-extfile", ext], { timeout: 10_000 });
    return { certFile, keyFile };
  }

  /** Deletes the directory and everything in it. */
  async dispose(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
