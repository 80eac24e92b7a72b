import { parseDuration } from "../model/duration.ts";
import { ApiError, ApiErrorCode } from "./api-error.ts";
import type { BootstrapOptions, XdsAddress, XdsReconnect } from "./envoy-bootstrap.ts";

/** A DNS name as Envoy resolves it: labels of letters, digits and hyphens, at most 253 characters. */
const dnsName = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ipv4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const ipv6 = /^[0-9A-Fa-f:.]+$/;

const bad = (message: string): ApiError => new ApiError(ApiErrorCode.BadRequest, message);

/**
 * `HOST:PORT` of one control-plane replica: a DNS name, an IPv4 address or a
 * bracketed IPv6 address (`[::1]:18000`), and a port from 1 to 65535. Throws a
 * bad_request ApiError naming the parameter and the accepted forms.
 */
export function parseXdsAddress(text: string): XdsAddress {
  const shown = JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
  const problem = (why: string) => bad(`xdsAddress (--xds-address) must be HOST:PORT, e.g. cp-0.cp:18000, 10.0.0.5:18000 or [fd00::5]:18000; ${shown} ${why}`);
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (m === null) throw problem("is not of that form");
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw problem("has a port outside 1-65535");
  const v6 = m[1];
  const host = v6 ?? m[2] ?? "";
  if (v6 !== undefined ? !(ipv6.test(v6) && v6.includes(":")) : !(ipv4.test(host) || (dnsName.test(host) && !/^[0-9.]+$/.test(host)))) {
    throw problem("has a host that is neither a DNS name nor an IP address");
  }
  return { host, port };
}

function durationParam(params: URLSearchParams, name: string, flag: string, minMs: number): number | undefined {
  const text = params.get(name);
  if (text === null || text === "") return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < minMs) throw bad(`${name} (${flag}) must be a duration of at least ${minMs} ms such as 100ms or 2s, not ${JSON.stringify(text.slice(0, 40))}`);
  return ms;
}

/**
 * The replica addresses and reconnect settings of `GET /api/v1/bootstrap`:
 * `xdsAddress` (repeatable), `xdsRetryBase`, `xdsRetryMax`, `xdsConnectTimeout`.
 * Throws a bad_request ApiError on the first value that is not usable.
 */
export function bootstrapReplicaOptions(params: URLSearchParams): Pick<BootstrapOptions, "xdsAddresses" | "reconnect"> {
  const addresses = params.getAll("xdsAddress").map(parseXdsAddress);
  const seen = new Set<string>();
  for (const a of addresses) {
    const key = `${a.host}:${a.port}`;
    if (seen.has(key)) throw bad(`xdsAddress (--xds-address) ${key} is given twice: list each replica once`);
    seen.add(key);
  }
  // Envoy's BackoffStrategy needs base_interval of at least 1 ms and max_interval >= base_interval.
  const retryBaseMs = durationParam(params, "xdsRetryBase", "--xds-retry-base", 1);
  const retryMaxMs = durationParam(params, "xdsRetryMax", "--xds-retry-max", 1);
  const connectTimeoutMs = durationParam(params, "xdsConnectTimeout", "--xds-connect-timeout", 1);
  if (retryBaseMs !== undefined && retryMaxMs !== undefined && retryMaxMs < retryBaseMs) {
    throw bad(`xdsRetryMax (--xds-retry-max) ${retryMaxMs} ms is below xdsRetryBase (--xds-retry-base) ${retryBaseMs} ms: the cap must be at least the base`);
  }
  const reconnect: XdsReconnect = {
    ...(retryBaseMs === undefined ? {} : { retryBaseMs }),
    ...(retryMaxMs === undefined ? {} : { retryMaxMs }),
    ...(connectTimeoutMs === undefined ? {} : { connectTimeoutMs }),
  };
  return { ...(addresses.length > 0 ? { xdsAddresses: addresses } : {}), ...(Object.keys(reconnect).length > 0 ? { reconnect } : {}) };
}
