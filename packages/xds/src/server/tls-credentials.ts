import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { createSecureContext } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";

/** TLS for the xDS server: its certificate and key, and optionally the CA that client certificates must chain to (mTLS). */
export interface XdsTlsOptions {
  /** PEM file with the server certificate, leaf first, then any intermediates. */
  readonly certFile: string;
  /** PEM file with the private key of the certificate. */
  readonly keyFile: string;
  /** PEM bundle of CAs for client certificates. When given, every client must present a certificate that chains to one (mTLS). */
  readonly clientCaFile?: string;
  /** How often the files are checked for changes, in milliseconds; default 1000. 0 never re-reads them. */
  readonly watchIntervalMs?: number;
  /** Told after the files changed: the new material is served, or it was refused (with why) and the previous material stays. */
  readonly onReload?: (outcome: { readonly ok: true } | { readonly ok: false; readonly error: XdsError }) => void;
}

/** What {@link loadTlsFiles} read and checked. */
export interface TlsMaterial {
  /** The certificate chain, as read. */
  readonly cert: Buffer;
  /** The private key, as read. */
  readonly key: Buffer;
  /** The client CA bundle, as read; undefined without mTLS. */
  readonly clientCa: Buffer | undefined;
  /** When the server certificate expires. */
  readonly notAfter: Date;
}

const pemCertificates = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

function fail(file: string, reason: string, fix: string, cause?: unknown): never {
  throw new XdsError(XdsErrorCode.InvalidTls, `${file}: ${reason}; ${fix}`, { details: [file], ...(cause === undefined ? {} : { cause }) });
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(file, `cannot read the ${what} (${code ?? (error as Error).message})`, `check the path and that the control plane may read it`, error);
  }
}

function certificates(file: string, text: string, what: string): X509Certificate[] {
  const blocks = pemCertificates(text);
  if (blocks.length === 0) fail(file, `no PEM certificate in the ${what}`, `give a file with "-----BEGIN CERTIFICATE-----" blocks`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      return fail(file, `certificate ${i + 1} of the ${what} is malformed (${(error as Error).message})`, `re-export it as PEM`, error);
    }
  });
}

/**
 * Reads and checks the server's TLS files: each readable PEM, the key matching
 * the certificate, the certificate valid now, the CA bundle parseable.
 *
 * @throws XdsError `invalid_tls` naming the file (in `details`), what is wrong and how to fix it.
 */
export function loadTlsFiles(options: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | undefined; readonly now?: Date }): TlsMaterial {
  const cert = read(options.certFile, "server certificate");
  const key = read(options.keyFile, "server key");
  const [leaf] = certificates(options.certFile, cert.toString("utf8"), "server certificate");
  if (leaf === undefined) throw new XdsError(XdsErrorCode.InvalidTls, `${options.certFile}: no certificate`);
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    return fail(options.keyFile, `not a PEM private key (${(error as Error).message})`, `give the unencrypted PEM key of ${options.certFile}`, error);
  }
  if (!leaf.checkPrivateKey(privateKey)) fail(options.keyFile, `the key does not match the certificate in ${options.certFile}`, `give the key the certificate was issued for`);
  const now = options.now ?? new Date();
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (now < notBefore) fail(options.certFile, `the server certificate is not valid before ${notBefore.toISOString()}`, `check the clock or issue a certificate valid now`);
  if (now > notAfter) fail(options.certFile, `the server certificate expired at ${notAfter.toISOString()}`, `renew it`);
  let clientCa: Buffer | undefined;
  if (options.clientCaFile !== undefined) {
    clientCa = read(options.clientCaFile, "client CA bundle");
    certificates(options.clientCaFile, clientCa.toString("utf8"), "client CA bundle");
  }
  try {
    createSecureContext({ cert, key, ...(clientCa === undefined ? {} : { ca: clientCa }) });
  } catch (error) {
    return fail(options.certFile, `OpenSSL refused the certificate, key or CA (${(error as Error).message})`, `check the three files belong together`, error);
  }
  return { cert, key, clientCa, notAfter };
}

/** Server credentials that follow their files, as returned by {@link createTlsCredentials}. */
export interface TlsCredentials {
  /** For `grpc.Server.bindAsync`. */
  readonly credentials: grpc.ServerCredentials;
  /** What is served now. */
  readonly material: TlsMaterial;
  /** Calls back after each accepted reload (`material` is then the new files); returns the unsubscribe. */
  onUpdate(listener: () => void): () => void;
  /** Stops watching the files. */
  close(): void;
}

/**
 * gRPC server credentials from certificate files, re-read when they change.
 * New handshakes use the new files; connected streams keep theirs (TLS is
 * negotiated once per connection), so a rotation drops nobody. Files that fail
 * {@link loadTlsFiles} after a change are refused and the previous ones stay.
 * `credentials` are @grpc/grpc-js certificate-provider credentials, which call
 * `setSecureContext` on the listening server at each update; the server's own
 * HTTP/2 transport does the same through `onUpdate`.
 *
 * @throws XdsError `invalid_tls` when the files are wrong at start; `invalid_argument` for a negative or non-finite `watchIntervalMs`.
 */
export function createTlsCredentials(options: XdsTlsOptions): TlsCredentials {
  const interval = options.watchIntervalMs ?? 1000;
  if (!(Number.isFinite(interval) && interval >= 0)) throw new XdsError(XdsErrorCode.InvalidArgument, `tls.watchIntervalMs must be a finite number >= 0, not ${interval}`);
  let material = loadTlsFiles(options);
  const identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  const caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  const updateListeners = new Set<() => void>();
  const publish = (): void => {
    for (const l of updateListeners) l();
    for (const l of identityListeners) l({ certificate: material.cert, privateKey: material.key });
    if (material.clientCa !== undefined) for (const l of caListeners) l({ caCertificate: material.clientCa });
  };
  const provider: grpc.experimental.CertificateProvider = {
    // grpc-js registers its server's watcher only after adding these
    // listeners, so the first update must come on a later tick or the
    // listening server never gets a certificate.
    addIdentityCertificateListener(l) {
      identityListeners.add(l);
      process.nextTick(() => identityListeners.has(l) && l({ certificate: material.cert, privateKey: material.key }));
    },
    removeIdentityCertificateListener(l) {
      identityListeners.delete(l);
    },
    addCaCertificateListener(l) {
      caListeners.add(l);
      process.nextTick(() => caListeners.has(l) && material.clientCa !== undefined && l({ caCertificate: material.clientCa }));
    },
    removeCaCertificateListener(l) {
      caListeners.delete(l);
    },
  };
  const mtls = options.clientCaFile !== undefined;
  // grpc-js names this function's parameters (ca, identity) but passes them on
  // as (identity, ca): the first is the identity provider, the second the CA.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, mtls ? provider : null, mtls);
  const files = [options.certFile, options.keyFile, ...(options.clientCaFile === undefined ? [] : [options.clientCaFile])];
  let settle: NodeJS.Timeout | undefined;
  const reload = (): void => {
    // A rotation writes the certificate and the key one after the other: wait
    // for the writes to settle before checking that they match.
    clearTimeout(settle);
    settle = setTimeout(() => {
      try {
        material = loadTlsFiles(options);
      } catch (error) {
        options.onReload?.({ ok: false, error: error as XdsError });
        return;
      }
      publish();
      options.onReload?.({ ok: true });
    }, Math.min(interval, 200));
    settle.unref();
  };
  if (interval > 0) for (const f of files) watchFile(f, { interval, persistent: false }, reload);
  return {
    credentials,
    get material() {
      return material;
    },
    onUpdate(listener) {
      updateListeners.add(listener);
      return () => updateListeners.delete(listener);
    },
    close() {
      clearTimeout(settle);
      for (const f of files) unwatchFile(f, reload);
    },
  };
}
