import { isIP } from "node:net";
import type { PathSegment } from "./field-path.ts";
import { headerModifierFields, readHeaderModifiers, type HeaderModifiers } from "./header-modifier-spec.ts";
import { type HttpFilterSpec, readHttpFilters } from "./http-filter-spec.ts";
import { readUpgradeList } from "./route-action-spec.ts";
import { type ListenerTls, readListenerTls } from "./listener-tls-spec.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { listenerSchema } from "./schema/listener-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(listenerSchema);
const requestIdFields = schemaFields(listenerSchema, "requestId");

export const listenerProtocols = ["HTTP", "HTTPS", "TCP", "UDP"] as const;
export type ListenerProtocol = (typeof listenerProtocols)[number];

export type { ListenerTls };

export interface ListenerSpec {
  protocol: ListenerProtocol;
  address: string;
  port: number;
  tls?: ListenerTls;
  /** TCP and UDP listeners: the Service every connection or datagram goes to. */
  service?: string;
  /** HTTP(S): Tracing object to report spans to. */
  tracing?: string;
  accessLogs: string[];
  /** HTTP(S): generate an x-request-id when missing; keep one that comes from outside. */
  requestId: { generate: boolean; preserveExternal: boolean };
  /** HTTP(S): upgrade types let through, e.g. websocket (sorted). */
  upgrades: string[];
  /** HTTP(S): header changes for every request and response (route table level). */
  headers: HeaderModifiers;
  /** HTTP(S): filters run in this order before the router (http-filter-spec.ts). */
  httpFilters: HttpFilterSpec[];
}

export function validateListener(spec: Record<string, unknown>, r: SpecReader): ListenerSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const protocol = r.enumeration(rec, "protocol", path, listenerProtocols, { required: true });
  const address = r.string(rec, "address", path) ?? "0.0.0.0";
  if (isIP(address) === 0) {
    r.error([...path, "address"], "schema.ip", `address '${address}' is not an IP address`, "listen on an IP address such as 0.0.0.0 (all IPv4) or :: (all IPv6)");
  }
  const port = r.integer(rec, "port", path, { required: true, min: 1, max: 65535 });
  const service = r.string(rec, "service", path);
  const tracing = r.string(rec, "tracing", path);
  const accessLogs = r.stringList(rec, "accessLogs", path) ?? [];
  const dupLog = accessLogs.find((l, i) => accessLogs.indexOf(l) !== i);
  if (dupLog !== undefined) r.error([...path, "accessLogs"], "schema.duplicate", `access log '${dupLog}' is listed twice`, "list each access log once");
  let requestId = { generate: true, preserveExternal: false };
  if (rec["requestId"] !== undefined) {
    const rid = r.mapping(rec["requestId"], [...path, "requestId"], requestIdFields);
    if (rid !== undefined) {
      requestId = {
        generate: r.boolean(rid, "generate", [...path, "requestId"]) ?? true,
        preserveExternal: r.boolean(rid, "preserveExternal", [...path, "requestId"]) ?? false,
      };
    }
  }
  const tls = rec["tls"] === undefined ? undefined : readListenerTls(rec["tls"], [...path, "tls"], r);

  if (protocol === "HTTPS" && rec["tls"] === undefined) {
    r.error([...path, "tls"], "schema.required", "an HTTPS listener needs tls", "add tls.secret (a Secret with tlsCertificate), or tls.certificate and tls.key (or certificateFile and keyFile), or tls.certificates (several, by SNI), or use protocol: HTTP");
  }
  if (protocol !== undefined && protocol !== "HTTPS" && rec["tls"] !== undefined) {
    r.error([...path, "tls"], "listener.tls_not_https", `tls is only used by HTTPS listeners, this one is ${protocol}`, "use protocol: HTTPS or remove tls");
  }
  const proxied = protocol === "TCP" || protocol === "UDP";
  if (proxied && service === undefined && rec["service"] === undefined) {
    r.error([...path, "service"], "schema.required", `a ${protocol} listener needs service`, `set service to the Service that receives the ${protocol === "TCP" ? "connections" : "datagrams"}`);
  }
  if (!proxied && protocol !== undefined && rec["service"] !== undefined) {
    r.error([...path, "service"], "listener.service_not_proxy", `service is only used by TCP and UDP listeners; ${protocol} traffic is routed by Route objects`, "remove service and attach a Route to this listener (Route spec.listeners)");
  }
  const upgrades = readUpgradeList(rec, path, r);
  const headers = readHeaderModifiers(rec, path, r);
  const httpFilters = readHttpFilters(rec, path, r);
  const httpOnly = ["tracing", "requestId", "upgrades", "httpFilters", ...headerModifierFields].find((f) => rec[f] !== undefined);
  if (proxied && httpOnly !== undefined) {
    const field = httpOnly;
    r.error([...path, field], "listener.http_only", `${field} only applies to HTTP and HTTPS listeners`, `remove ${field} or use protocol: HTTP`);
  }
  if (r.failed || protocol === undefined || port === undefined) return undefined;
  const out: ListenerSpec = { protocol, address, port, accessLogs, requestId, upgrades, headers, httpFilters };
  if (tls !== undefined) out.tls = tls;
  if (service !== undefined) out.service = service;
  if (tracing !== undefined) out.tracing = tracing;
  return out;
}
