import { X509Certificate } from "node:crypto";
import type { PathSegment } from "./field-path.ts";
import { certificateAndKeyFields, readCertificateAndKey, type SecretTlsCertificate } from "./secret-spec.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { listenerSchema } from "./schema/listener-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(listenerSchema, "tls");
const entryFields = schemaFields(listenerSchema, "tls", "certificates", "[]");

/** Where a served certificate comes from: inline PEM (sent inside the Listener) or a Secret object (sent over SDS). */
export type CertificateSource = SecretTlsCertificate | { secret: string };

/** One certificate a listener presents, to the clients asking for one of serverNames (SNI); none: the default. */
export type ServedCertificate = CertificateSource & { serverNames: string[] };

export const tlsVersions = ["TLSv1_2", "TLSv1_3"] as const;
export type TlsVersion = (typeof tlsVersions)[number];

export const clientCertificateModes = ["required", "optional"] as const;
export type ClientCertificateMode = (typeof clientCertificateModes)[number];

/**
 * TLS termination. `certificates` holds one entry per certificate: the short form (secret, or
 * certificate and key, at the top of tls) is one default certificate. Entries with serverNames
 * are picked by the client's SNI; the entry without is used for every other name.
 * clientValidationSecret names a CA bundle Secret that client certificates must verify against;
 * clientCertificate says whether a client without one is refused (required) or let in (optional).
 */
export interface ListenerTls {
  certificates: ServedCertificate[];
  /** Written as the certificates list (true) or the short form at the top of tls (false): where diagnostics point. */
  certificatesListed: boolean;
  clientValidationSecret?: string;
  clientCertificate?: ClientCertificateMode;
  minVersion?: TlsVersion;
  /** ALPN protocols offered, in order of preference. */
  alpn: string[];
}

/** What a listener offers when tls.alpn is not set: h2 too, since the connection manager's codec is AUTO. */
export const defaultAlpn = ["h2", "http/1.1"];

const certificateFields = [...certificateAndKeyFields, "secret"];

// Envoy matches server_names exactly or by a leading "*." wildcard (filter_chain_match docs).
const serverNamePattern = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Reads a Listener's spec.tls: the short form or the certificates list, client certificates, version and ALPN. */
export function readListenerTls(value: unknown, path: PathSegment[], r: SpecReader): ListenerTls | undefined {
  const rec = r.mapping(value, path, fields);
  if (rec === undefined) return undefined;
  const failedBefore = r.failed;
  const shortForm = certificateFields.filter((f) => rec[f] !== undefined);
  let certificates: ServedCertificate[] | undefined;
  if (rec["certificates"] !== undefined) {
    if (shortForm.length > 0) {
      r.error([...path, shortForm[0] ?? "secret"], "tls.certificates_and_short_form", `tls has certificates and also ${shortForm.join(", ")}`, "move the certificate into the certificates list (an entry without serverNames is the default), or drop certificates");
      return undefined;
    }
    certificates = readCertificateList(rec, path, r);
  } else {
    const one = readCertificateSource(rec, path, r);
    certificates = one === undefined ? undefined : [{ ...one, serverNames: [] }];
  }
  const clientValidationSecret = r.string(rec, "clientValidationSecret", path);
  const clientCertificate = r.enumeration(rec, "clientCertificate", path, clientCertificateModes);
  if (rec["clientCertificate"] !== undefined && rec["clientValidationSecret"] === undefined) {
    r.error([...path, "clientCertificate"], "tls.client_certificate_without_ca", "clientCertificate needs clientValidationSecret to verify client certificates with", "set clientValidationSecret to a Secret with validationContext (the CA bundle of your clients), or remove clientCertificate");
  }
  const minVersion = r.enumeration(rec, "minVersion", path, tlsVersions);
  const alpn = r.stringList(rec, "alpn", path, { minItems: 1 }) ?? defaultAlpn;
  const dupAlpn = alpn.find((p, i) => alpn.indexOf(p) !== i);
  if (dupAlpn !== undefined) r.error([...path, "alpn"], "schema.duplicate", `ALPN protocol '${dupAlpn}' is listed twice`, "list each protocol once, most preferred first");
  if (certificates === undefined || r.failed !== failedBefore) return undefined;
  const out: ListenerTls = { certificates, certificatesListed: rec["certificates"] !== undefined, alpn };
  if (clientValidationSecret !== undefined) out.clientValidationSecret = clientValidationSecret;
  if (clientCertificate !== undefined) out.clientCertificate = clientCertificate;
  if (minVersion !== undefined) out.minVersion = minVersion;
  return out;
}

function readCertificateList(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): ServedCertificate[] | undefined {
  const items = r.list(rec, "certificates", path, { minItems: 1 });
  if (items === undefined) return undefined;
  const out: ServedCertificate[] = [];
  const seen = new Map<string, number>();
  let defaultAt: number | undefined;
  items.forEach((item, i) => {
    const ip = [...path, "certificates", i];
    const c = r.mapping(item, ip, entryFields);
    if (c === undefined) return;
    const serverNames = (r.stringList(c, "serverNames", ip) ?? []).map((n) => n.toLowerCase());
    serverNames.forEach((n, j) => {
      if (!serverNamePattern.test(n)) {
        r.error([...ip, "serverNames", j], "tls.invalid_server_name", `server name '${n}' is not a host name`, "write a DNS name such as api.example.com, or *.example.com for every name under example.com");
      }
      const other = seen.get(n);
      if (other !== undefined && other !== i) {
        r.error([...ip, "serverNames", j], "tls.duplicate_server_name", `server name '${n}' is already served by certificates[${other}]`, "list each server name under one certificate only");
      }
      seen.set(n, i);
    });
    if (c["serverNames"] === undefined) {
      if (defaultAt !== undefined) {
        r.error(ip, "tls.two_defaults", `certificates[${defaultAt}] and certificates[${i}] both have no serverNames`, "give one of them serverNames: only one certificate can be the default for clients whose SNI matches no other");
      }
      defaultAt = i;
    }
    const source = readCertificateSource(c, ip, r);
    if (source !== undefined && "certificate" in source) warnUncoveredNames(source.certificate, serverNames, ip, r);
    if (source !== undefined) out.push({ ...source, serverNames: [...new Set(serverNames)].sort() });
  });
  return out;
}

function readCertificateSource(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader): CertificateSource | undefined {
  if (rec["secret"] !== undefined) {
    const secret = r.string(rec, "secret", path);
    const inline = certificateAndKeyFields.filter((f) => rec[f] !== undefined);
    if (inline.length > 0) {
      r.error([...path, inline[0] ?? "certificate"], "tls.secret_and_inline", `${String(path.at(-1))} names a Secret and also has ${inline.join(", ")}`, "keep either secret (the certificate comes from that Secret over SDS) or the inline certificate and key, not both");
      return undefined;
    }
    return secret === undefined ? undefined : { secret };
  }
  return readCertificateAndKey(rec, path, r);
}

/**
 * A name the certificate does not cover makes every client that checks host names refuse
 * the handshake. Only a warning: a client may not check, and the certificate may be renewed
 * next. A Secret's certificate is another object's, so only inline PEM is checked here.
 */
function warnUncoveredNames(pem: string, serverNames: readonly string[], path: PathSegment[], r: SpecReader): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return; // readCertificateAndKey has reported it
  }
  serverNames.forEach((n, j) => {
    // A wildcard server name is checked with one name it stands for.
    const host = n.startsWith("*.") ? `wildcard-check${n.slice(1)}` : n;
    if (cert.checkHost(host) === undefined) {
      r.warn([...path, "serverNames", j], "tls.server_name_not_in_certificate", `the certificate of this entry is not valid for '${n}'`, `use a certificate whose subjectAltName covers ${n}, or move ${n} to the entry that has one`);
    }
  });
}
