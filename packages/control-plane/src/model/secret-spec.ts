import type { PathSegment } from "./field-path.ts";
import { checkCaBundle, checkCertificateAndKey, checkValidity } from "./pem.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { secretSchema } from "./schema/secret-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(secretSchema);
const validationContextFields = schemaFields(secretSchema, "validationContext");

/** A certificate chain and its private key, inline PEM by the time compile() sees it. */
export interface SecretTlsCertificate {
  certificate: string;
  key: string;
}

/**
 * A Secret delivered to Envoy over SDS, on the ADS stream: either a certificate with its key
 * (what a listener presents, or a client certificate for upstream TLS) or a CA bundle to
 * verify peers with. Exactly one of the two.
 */
export type SecretSpec = { tlsCertificate: SecretTlsCertificate } | { validationContext: { caCertificates: string } };

/** The two shapes, by the field that names them: references check that they get the one they need. */
export type SecretShape = "tlsCertificate" | "validationContext";

export const secretShapeOf = (spec: SecretSpec): SecretShape => ("tlsCertificate" in spec ? "tlsCertificate" : "validationContext");

export function validateSecret(spec: Record<string, unknown>, r: SpecReader): SecretSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const hasCert = rec["tlsCertificate"] !== undefined;
  const hasCa = rec["validationContext"] !== undefined;
  if (hasCert === hasCa) {
    r.error(
      path,
      hasCert ? "secret.both_shapes" : "schema.required",
      hasCert ? "a Secret holds either tlsCertificate or validationContext, not both" : "a Secret needs tlsCertificate or validationContext",
      hasCert
        ? "split it into two Secrets: one with tlsCertificate (certificate and key), one with validationContext (caCertificates)"
        : "add tlsCertificate (certificate and key, or certificateFile and keyFile) or validationContext (caCertificates)",
    );
    return undefined;
  }
  if (hasCert) {
    const cp = [...path, "tlsCertificate"];
    const c = r.mapping(rec["tlsCertificate"], cp, certificateAndKeyFields);
    const tlsCertificate = c === undefined ? undefined : readCertificateAndKey(c, cp, r);
    return tlsCertificate === undefined || r.failed ? undefined : { tlsCertificate };
  }
  const vp = [...path, "validationContext"];
  const v = r.mapping(rec["validationContext"], vp, validationContextFields);
  if (v === undefined) return undefined;
  if (v["caCertificatesFile"] !== undefined && v["caCertificates"] === undefined) {
    r.error([...vp, "caCertificatesFile"], "tls.file_unresolved", "caCertificatesFile was not read into caCertificates", "make sure the file exists and is readable by the control plane, or write the PEM inline as caCertificates");
    return undefined;
  }
  const caCertificates = r.string(v, "caCertificates", vp, { required: true });
  if (caCertificates === undefined) return undefined;
  for (const p of checkCaBundle(caCertificates)) r.error([...vp, "caCertificates"], p.code, p.message, p.hint);
  return r.failed ? undefined : { validationContext: { caCertificates } };
}

/** The fields of a certificate with its key, inline or as files. */
export const certificateAndKeyFields = ["certificate", "key", "certificateFile", "keyFile"] as const;

/**
 * certificate/key, or certificateFile/keyFile which the runtime reads into them before
 * compile() (sources/resolve-file-references.ts), checked with the same PEM rules as a
 * listener's inline tls. Shared by Listener tls and Secret tlsCertificate: one rule, one place.
 */
export function readCertificateAndKey(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): SecretTlsCertificate | undefined {
  const certificate = r.string(rec, "certificate", path);
  const key = r.string(rec, "key", path);
  // compile() is pure and never reads files: the runtime inlines certificateFile/keyFile
  // into certificate/key before calling it. A file still here means it was not resolved.
  for (const [fileField, inline] of [["certificateFile", "certificate"], ["keyFile", "key"]] as const) {
    if (rec[fileField] !== undefined && rec[inline] === undefined) {
      r.error([...path, fileField], "tls.file_unresolved", `${fileField} was not read into ${inline}`, `make sure the file exists and is readable by the control plane, or write the PEM inline as ${inline}`);
    }
  }
  // In a list (a listener's tls.certificates[1]) the entry is named with its index.
  const last = path.at(-1);
  const where = typeof last === "number" ? `${String(path.at(-2))}[${last}]` : last;
  if (rec["certificate"] === undefined && rec["certificateFile"] === undefined) {
    r.error([...path, "certificate"], "schema.required", `${where} needs a certificate`, `set ${where}.certificate (inline PEM) or ${where}.certificateFile`);
  }
  if (rec["key"] === undefined && rec["keyFile"] === undefined) {
    r.error([...path, "key"], "schema.required", `${where} needs a key`, `set ${where}.key (inline PEM) or ${where}.keyFile`);
  }
  if (certificate === undefined || key === undefined) return undefined;
  const problems = checkCertificateAndKey(certificate, key);
  for (const p of problems) r.error([...path, p.field], p.code, p.message, p.hint);
  const validity = problems.length > 0 || r.nowMs === undefined ? undefined : checkValidity(certificate, r.nowMs);
  if (validity !== undefined) r.warn([...path, "certificate"], validity.code, validity.message, validity.hint);
  return { certificate, key };
}
