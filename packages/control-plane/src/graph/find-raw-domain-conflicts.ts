import type { Message } from "@bufbuild/protobuf";
import { walkRawMessage } from "./walk-raw-message.ts";

/** A domain a second virtual host of one raw RouteConfiguration claims again. */
export interface RawDomainConflict {
  readonly domain: string;
  /** The virtual host that claimed it first. */
  readonly virtualHost: string;
  /** Field path of the second claim, e.g. `virtual_hosts[1].domains[0]`. */
  readonly path: string;
}

/**
 * Domains claimed twice within one RouteConfiguration (top level, or inline in an HTTP
 * connection manager): Envoy NACKs the whole resource ("Only unique values for domains are
 * permitted"; a second "*" is "Only a single wildcard domain is permitted"), comparing
 * domains without regard to case, as the model's Route check does (find-conflicts.ts).
 */
export function findRawDomainConflicts(message: Message): RawDomainConflict[] {
  const out: RawDomainConflict[] = [];
  walkRawMessage(message, ({ typeName, fields, path }) => {
    if (typeName !== "envoy.config.route.v3.RouteConfiguration") return undefined;
    const claimed = new Map<string, string>();
    const hosts = (fields["virtualHosts"] ?? []) as readonly { name?: unknown; domains?: readonly unknown[] }[];
    hosts.forEach((vh, i) => {
      (vh.domains ?? []).forEach((d, j) => {
        if (typeof d !== "string") return;
        const owner = claimed.get(d.toLowerCase());
        if (owner === undefined) claimed.set(d.toLowerCase(), String(vh.name ?? ""));
        else out.push({ domain: d, virtualHost: owner, path: `${path === "" ? "" : `${path}.`}virtual_hosts[${i}].domains[${j}]` });
      });
    });
    return true;
  });
  return out;
}
