import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";

/** Result of checking a certificate chain and key written inline as PEM. */
export type PemProblem = { field: "certificate" | "key"; code: string; message: string; hint: string };

/**
 * Checks inline PEM the way Envoy will when it loads the listener, so a bad certificate
 * is refused at the API instead of being NACKed by every proxy. Pure: no clock is read
 * (expiry is checkValidity's, a warning given only when the caller passes the time).
 */
export function checkCertificateAndKey(certificate: string, key: string): PemProblem[] {
  let cert: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  const problems: PemProblem[] = [];
  try {
    cert = new X509Certificate(certificate);
  } catch {
    problems.push({
      field: "certificate",
      code: "tls.invalid_certificate",
      message: "certificate is not a PEM-encoded X.509 certificate",
      hint: "paste the whole PEM block, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----",
    });
  }
  try {
    privateKey = createPrivateKey(key);
  } catch {
    problems.push({
      field: "key",
      code: "tls.invalid_key",
      message: "key is not a PEM-encoded private key",
      hint: "paste the whole PEM block, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY----- (unencrypted)",
    });
  }
  if (cert !== undefined && privateKey !== undefined && !cert.checkPrivateKey(privateKey)) {
    problems.push({
      field: "key",
      code: "tls.key_mismatch",
      message: "the private key does not belong to the certificate",
      hint: "use the key that was generated with this certificate",
    });
  }
  return problems;
}

/** The codes of {@link checkValidity}: they depend on the clock, not only on the objects. */
export const certificateTimeCodes: ReadonlySet<string> = new Set(["tls.expired", "tls.not_yet_valid"]);

/**
 * A certificate outside its validity window at `nowMs`: Envoy serves it as given and every
 * client refuses it. Reported as a warning by the caller, never a refusal: a certificate that
 * expires while it is stored must not make the next unrelated change drop its listener.
 */
export function checkValidity(certificate: string, nowMs: number): Omit<PemProblem, "field"> | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificate);
  } catch {
    return undefined; // reported by checkCertificateAndKey
  }
  const notAfter = Date.parse(cert.validTo);
  const notBefore = Date.parse(cert.validFrom);
  if (nowMs > notAfter) {
    return { code: "tls.expired", message: `the certificate expired at ${new Date(notAfter).toISOString()}`, hint: "renew the certificate (and its key) and apply it again: clients refuse an expired certificate" };
  }
  if (nowMs < notBefore) {
    return { code: "tls.not_yet_valid", message: `the certificate is valid only from ${new Date(notBefore).toISOString()}`, hint: "check the clock of the machine that issued it, or wait: clients refuse it until then" };
  }
  return undefined;
}

const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Checks a CA bundle (one or more PEM certificates) the way Envoy will when it loads a
 * validation context: every block must parse, and there must be at least one. Node's
 * X509Certificate reads only the first block, so the blocks are split first.
 */
export function checkCaBundle(bundle: string): Omit<PemProblem, "field">[] {
  const blocks = bundle.match(certificateBlock) ?? [];
  const hint = "paste one or more whole PEM blocks, each from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----";
  if (blocks.length === 0) return [{ code: "tls.invalid_ca", message: "caCertificates holds no PEM-encoded certificate", hint }];
  const problems: Omit<PemProblem, "field">[] = [];
  blocks.forEach((b, i) => {
    try {
      new X509Certificate(b);
    } catch {
      problems.push({ code: "tls.invalid_ca", message: `certificate ${i + 1} of caCertificates is not a valid X.509 certificate`, hint });
    }
  });
  return problems;
}
