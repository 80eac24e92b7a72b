import { isIP } from "node:net";
import type { PathSegment } from "./field-path.ts";
import { checkCertificateAndKey } from "./pem.ts";
import type { SpecReader } from "./spec-reader.ts";

export const listenerProtocols = ["HTTP", "HTTPS", "TCP", "UDP"] as const;
export type ListenerProtocol = (typeof listenerProtocols)[number];

/** TLS termination, always inline PEM by the time compile() sees it. */
export interface ListenerTls {
  certificate: string;
  key: string;
}

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
}

const fields = ["protocol", "address", "port", "tls", "service", "tracing", "accessLogs", "requestId"];

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
    const rid = r.mapping(rec["requestId"], [...path, "requestId"], ["generate", "preserveExternal"]);
    if (rid !== undefined) {
      requestId = {
        generate: r.boolean(rid, "generate", [...path, "requestId"]) ?? true,
        preserveExternal: r.boolean(rid, "preserveExternal", [...path, "requestId"]) ?? false,
      };
    }
  }
  const tls = rec["tls"] === undefined ? undefined : readTls(rec["tls"], [...path, "tls"], r);

  if (protocol === "HTTPS" && rec["tls"] === undefined) {
    r.error([...path, "tls"], "schema.required", "an HTTPS listener needs tls", "add tls.certificate and tls.key (or certificateFile and keyFile), or use protocol: HTTP");
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
  if (proxied && (rec["tracing"] !== undefined || rec["requestId"] !== undefined)) {
    const field = rec["tracing"] !== undefined ? "tracing" : "requestId";
    r.error([...path, field], "listener.http_only", `${field} only applies to HTTP and HTTPS listeners`, `remove ${field} or use protocol: HTTP`);
  }
  if (r.failed || protocol === undefined || port === undefined) return undefined;
  const out: ListenerSpec = { protocol, address, port, accessLogs, requestId };
  if (tls !== undefined) out.tls = tls;
  if (service !== undefined) out.service = service;
  if (tracing !== undefined) out.tracing = tracing;
  return out;
}

function readTls(value: unknown, path: PathSegment[], r: SpecReader): ListenerTls | undefined {
  const rec = r.mapping(value, path, ["certificate", "key", "certificateFile", "keyFile"]);
  if (rec === undefined) return undefined;
  const certificate = r.string(rec, "certificate", path);
  const key = r.string(rec, "key", path);
  // compile() is pure and never reads files: the runtime inlines certificateFile/keyFile
  // into certificate/key before calling it. A file still here means it was not resolved.
  for (const [fileField, inline] of [["certificateFile", "certificate"], ["keyFile", "key"]] as const) {
    if (rec[fileField] !== undefined && rec[inline] === undefined) {
      r.error([...path, fileField], "tls.file_unresolved", `${fileField} was not read into ${inline}`, `make sure the file exists and is readable by the control plane, or write the PEM inline as ${inline}`);
    }
  }
  if (rec["certificate"] === undefined && rec["certificateFile"] === undefined) {
    r.error([...path, "certificate"], "schema.required", "tls needs a certificate", "set tls.certificate (inline PEM) or tls.certificateFile");
  }
  if (rec["key"] === undefined && rec["keyFile"] === undefined) {
    r.error([...path, "key"], "schema.required", "tls needs a key", "set tls.key (inline PEM) or tls.keyFile");
  }
  if (certificate === undefined || key === undefined) return undefined;
  for (const p of checkCertificateAndKey(certificate, key)) r.error([...path, p.field], p.code, p.message, p.hint);
  return { certificate, key };
}
