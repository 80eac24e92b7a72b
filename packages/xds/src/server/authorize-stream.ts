import type { Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { PeerCertificate } from "node:tls";

/**
 * The client certificate the TLS handshake verified, as {@link XdsAuthorize}
 * sees it. Present only when the server requires client certificates (mTLS);
 * with plaintext or server-only TLS it is undefined.
 */
export interface XdsPeerCertificate {
  /** The subject's common name (CN), "" when the certificate has none. */
  readonly commonName: string;
  /** URI subject alternative names, e.g. SPIFFE ids (`spiffe://example.org/ns/edge/sa/envoy`). */
  readonly uriSans: readonly string[];
  /** DNS subject alternative names. */
  readonly dnsSans: readonly string[];
  /** SHA-256 fingerprint of the certificate, colon-separated upper-case hex (as `openssl x509 -fingerprint -sha256` prints it). */
  readonly fingerprint256: string;
  /**
   * The identity to authorize by, the most specific one the certificate
   * carries: the first URI SAN, else `dns:` + the first DNS SAN, else `cn:` +
   * the common name, else "".
   */
  readonly identity: string;
}

/** What {@link XdsAuthorize} answers: allowed, or refused with a reason the client receives as the PERMISSION_DENIED details. */
export type XdsAuthorizeDecision =
  | {
      /** The stream is served. */
      readonly allowed: true;
    }
  | {
      /** The stream ends with PERMISSION_DENIED. */
      readonly allowed: false;
      /** Why, for the client (the status details) and for logs: name the identity and what it may be. */
      readonly reason: string;
    };

/**
 * Decides whether a stream may be served as this node. Called once per stream
 * on its first request, again on a later request that carries a node with
 * another id or cluster, and for every open stream on `XdsServer.rekey()`
 * (the answer may depend on configuration that changed). A refusal ends the
 * stream with PERMISSION_DENIED and the reason, before anything is sent when
 * the stream is new. It must not throw (a throw is a refusal).
 *
 * @param node - the node the request carries.
 * @param peer - the verified client certificate; undefined without mTLS.
 */
export type XdsAuthorize = (node: Node, peer: XdsPeerCertificate | undefined) => XdsAuthorizeDecision;

/** Splits Node's `subjectaltname` ("DNS:a, URI:spiffe://x, IP Address:1.2.3.4") into its URI and DNS names. */
function sans(subjectaltname: string | undefined): { uri: string[]; dns: string[] } {
  const uri: string[] = [];
  const dns: string[] = [];
  // Node quotes an entry that contains a comma or quote as JSON ("URI:\"a,b\"").
  for (const raw of (subjectaltname ?? "").match(/(?:[^,"]|"(?:\\.|[^"\\])*")+/g) ?? []) {
    const entry = raw.trim();
    const colon = entry.indexOf(":");
    if (colon < 0) continue;
    const kind = entry.slice(0, colon);
    let value = entry.slice(colon + 1);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    if (kind === "URI") uri.push(value);
    else if (kind === "DNS") dns.push(value);
  }
  return { uri, dns };
}

/**
 * The peer of a verified TLS connection as {@link XdsPeerCertificate};
 * undefined for no certificate (plaintext, or a client that sent none).
 */
export function peerCertificateOf(cert: PeerCertificate | undefined): XdsPeerCertificate | undefined {
  if (cert === undefined || cert.raw === undefined) return undefined;
  const { uri, dns } = sans(cert.subjectaltname);
  const cnField = cert.subject?.CN as string | string[] | undefined;
  const commonName = Array.isArray(cnField) ? (cnField[0] ?? "") : (cnField ?? "");
  const identity = uri[0] ?? (dns[0] !== undefined ? `dns:${dns[0]}` : commonName !== "" ? `cn:${commonName}` : "");
  return { commonName, uriSans: uri, dnsSans: dns, fingerprint256: cert.fingerprint256, identity };
}

/**
 * The per-stream check StreamSession runs: asks `authorize` for the first node,
 * again whenever a request carries a node with another id or cluster, and
 * whenever `recheck` is set (a rekey); returns the refusal reason, or
 * undefined when allowed.
 */
export function streamAuthorizer(authorize: XdsAuthorize, peer: () => XdsPeerCertificate | undefined): (node: Node, options?: { recheck: boolean }) => string | undefined {
  let allowed: { id: string; cluster: string } | undefined;
  return (node, options) => {
    if (options?.recheck !== true && allowed !== undefined && allowed.id === node.id && allowed.cluster === node.cluster) return undefined;
    let decision: XdsAuthorizeDecision;
    try {
      decision = authorize(node, peer());
    } catch (error) {
      return `authorization failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (!decision.allowed) {
      allowed = undefined;
      return decision.reason;
    }
    allowed = { id: node.id, cluster: node.cluster };
    return undefined;
  };
}
