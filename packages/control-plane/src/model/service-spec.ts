import { isIP } from "node:net";
import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";
import { readSubjectAltNames, type SubjectAltName } from "./subject-alt-name-spec.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { serviceSchema } from "./schema/service-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(serviceSchema);
const healthCheckFields = schemaFields(serviceSchema, "healthCheck");
const circuitBreakerFields = schemaFields(serviceSchema, "circuitBreakers");
const outlierDetectionFields = schemaFields(serviceSchema, "outlierDetection");
const tlsFields = schemaFields(serviceSchema, "tls");
const endpointFields = schemaFields(serviceSchema, "endpoints", "[]");

export const discoveryKinds = ["Static", "DNS"] as const;
export const lbPolicies = ["RoundRobin", "LeastRequest", "RingHash", "Random", "Maglev"] as const;
export const upstreamProtocols = ["HTTP1", "HTTP2"] as const;
export const dnsFamilies = ["Auto", "V4Only", "V6Only", "V4Preferred", "All"] as const;

export interface Endpoint {
  address: string;
  port: number;
  weight?: number;
}

export interface HealthCheck {
  kind: "HTTP" | "TCP";
  path: string;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface CircuitBreakers {
  maxConnections?: number;
  maxPendingRequests?: number;
  maxRequests?: number;
  maxRetries?: number;
}

export interface OutlierDetection {
  consecutive5xx?: number;
  intervalMs?: number;
  baseEjectionTimeMs?: number;
  maxEjectionPercent?: number;
}

export interface ServiceSpec {
  /** Static: IP endpoints served over EDS (endpoint changes take the fast path). DNS: STRICT_DNS, endpoints are hostnames Envoy resolves. */
  discovery: (typeof discoveryKinds)[number];
  endpoints: Endpoint[];
  connectTimeoutMs: number;
  lbPolicy: (typeof lbPolicies)[number];
  protocol: (typeof upstreamProtocols)[number];
  dnsLookupFamily?: (typeof dnsFamilies)[number];
  healthCheck?: HealthCheck;
  circuitBreakers?: CircuitBreakers;
  outlierDetection?: OutlierDetection;
  /**
   * Upstream TLS: Envoy originates TLS to the endpoints, with this SNI; it verifies them
   * against validationSecret's CA bundle and presents clientSecret's certificate (both
   * Secret objects, over SDS) when given; subjectAltNames, if set, are the names the
   * upstream's certificate must carry (one of them).
   */
  tls?: { sni?: string; validationSecret?: string; clientSecret?: string; subjectAltNames?: SubjectAltName[] };
}

export function validateService(spec: Record<string, unknown>, r: SpecReader): ServiceSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const discovery = r.enumeration(rec, "discovery", path, discoveryKinds) ?? "Static";
  const endpoints = readEndpoints(rec, path, r, discovery);
  const connectTimeoutMs = r.duration(rec, "connectTimeout", path, { min: 1 }) ?? 5000;
  const lbPolicy = r.enumeration(rec, "lbPolicy", path, lbPolicies) ?? "RoundRobin";
  const protocol = r.enumeration(rec, "protocol", path, upstreamProtocols) ?? "HTTP1";
  const dnsLookupFamily = r.enumeration(rec, "dnsLookupFamily", path, dnsFamilies);
  if (dnsLookupFamily !== undefined && discovery !== "DNS") {
    r.error([...path, "dnsLookupFamily"], "service.dns_only", "dnsLookupFamily only applies to discovery: DNS", "remove dnsLookupFamily or set discovery: DNS");
  }
  const out: ServiceSpec = { discovery, endpoints, connectTimeoutMs, lbPolicy, protocol };
  if (dnsLookupFamily !== undefined) out.dnsLookupFamily = dnsLookupFamily;
  if (rec["healthCheck"] !== undefined) {
    const hp = [...path, "healthCheck"];
    const h = r.mapping(rec["healthCheck"], hp, healthCheckFields);
    if (h !== undefined) {
      const kind = r.enumeration(h, "type", hp, ["HTTP", "TCP"] as const) ?? "HTTP";
      const hcPath = r.string(h, "path", hp) ?? "/";
      if (kind === "TCP" && h["path"] !== undefined) r.error([...hp, "path"], "service.health_check_path", "a TCP health check has no path", "remove path or use type: HTTP");
      if (kind === "HTTP" && !hcPath.startsWith("/")) r.error([...hp, "path"], "route.path_slash", `path '${hcPath}' does not start with /`, `write it as '/${hcPath}'`);
      out.healthCheck = {
        kind,
        path: hcPath,
        intervalMs: r.duration(h, "interval", hp, { min: 1 }) ?? 10_000,
        timeoutMs: r.duration(h, "timeout", hp, { min: 1 }) ?? 1000,
        healthyThreshold: r.integer(h, "healthyThreshold", hp, { min: 1 }) ?? 1,
        unhealthyThreshold: r.integer(h, "unhealthyThreshold", hp, { min: 1 }) ?? 3,
      };
    }
  }
  if (rec["circuitBreakers"] !== undefined) {
    const cp = [...path, "circuitBreakers"];
    const c = r.mapping(rec["circuitBreakers"], cp, circuitBreakerFields);
    if (c !== undefined) {
      const cb: CircuitBreakers = {};
      for (const k of ["maxConnections", "maxPendingRequests", "maxRequests", "maxRetries"] as const) {
        const v = r.integer(c, k, cp);
        if (v !== undefined) cb[k] = v;
      }
      out.circuitBreakers = cb;
    }
  }
  if (rec["outlierDetection"] !== undefined) {
    const op = [...path, "outlierDetection"];
    const o = r.mapping(rec["outlierDetection"], op, outlierDetectionFields);
    if (o !== undefined) {
      const od: OutlierDetection = {};
      const c5 = r.integer(o, "consecutive5xx", op);
      const iv = r.duration(o, "interval", op, { min: 1 });
      const be = r.duration(o, "baseEjectionTime", op, { min: 1 });
      const mp = r.integer(o, "maxEjectionPercent", op, { max: 100 });
      if (c5 !== undefined) od.consecutive5xx = c5;
      if (iv !== undefined) od.intervalMs = iv;
      if (be !== undefined) od.baseEjectionTimeMs = be;
      if (mp !== undefined) od.maxEjectionPercent = mp;
      out.outlierDetection = od;
    }
  }
  if (rec["tls"] !== undefined) {
    const tp = [...path, "tls"];
    const t = r.mapping(rec["tls"], tp, tlsFields);
    if (t !== undefined) {
      const sni = r.string(t, "sni", tp);
      const validationSecret = r.string(t, "validationSecret", tp);
      const clientSecret = r.string(t, "clientSecret", tp);
      const subjectAltNames = t["subjectAltNames"] === undefined ? undefined : readSubjectAltNames(t, "subjectAltNames", tp, r);
      if (subjectAltNames !== undefined && validationSecret === undefined) {
        r.error([...tp, "subjectAltNames"], "tls.san_without_ca", "subjectAltNames are only checked on a certificate Envoy verifies", "set validationSecret to a Secret with validationContext (the CA that signed the upstream's certificate)");
      }
      out.tls = {
        ...(sni === undefined ? {} : { sni }),
        ...(validationSecret === undefined ? {} : { validationSecret }),
        ...(clientSecret === undefined ? {} : { clientSecret }),
        ...(subjectAltNames === undefined ? {} : { subjectAltNames }),
      };
    }
  }
  return r.failed ? undefined : out;
}

function readEndpoints(rec: Record<string, unknown>, path: PathSegment[], r: SpecReader, discovery: ServiceSpec["discovery"]): Endpoint[] {
  // A static Service may have no endpoints yet (EDS with an empty assignment); a DNS one needs a name to resolve.
  const items = r.list(rec, "endpoints", path, { required: discovery === "DNS", minItems: discovery === "DNS" ? 1 : 0 }) ?? [];
  const out: Endpoint[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const ep = [...path, "endpoints", i];
    const e = r.mapping(item, ep, endpointFields);
    if (e === undefined) return;
    const address = r.string(e, "address", ep, { required: true });
    const port = r.integer(e, "port", ep, { required: true, min: 1, max: 65535 });
    const weight = r.integer(e, "weight", ep, { min: 1, max: 128 * 1024 });
    if (address === undefined || port === undefined) return;
    if (discovery === "Static" && isIP(address) === 0) {
      // EDS endpoints must be IP addresses: Envoy does not resolve names in a ClusterLoadAssignment.
      r.error([...ep, "address"], "service.static_hostname", `address '${address}' is a hostname, but discovery is Static`, "write an IP address, or set discovery: DNS so Envoy resolves the name");
      return;
    }
    const key = `${address}:${port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      r.error([...ep, "address"], "service.duplicate_endpoint", `endpoint ${key} is listed twice (also endpoints[${first}])`, "list each endpoint once; use weight to send it more traffic");
      return;
    }
    seen.set(key, i);
    out.push(weight === undefined ? { address, port } : { address, port, weight });
  });
  return out;
}
