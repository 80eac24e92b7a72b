import type { ListenerSpec } from "../model/listener-spec.ts";
import type { Diagnostic } from "../model/model-object.ts";
import type { RawResourceSpec } from "../model/raw-resource-spec.ts";
import type { RouteSpec } from "../model/route-spec.ts";
import type { GroupPlan } from "./assign-groups.ts";
import { rawListenerSockets, socketsOverlap, type ListenerSocket } from "./raw-listener-sockets.ts";

/**
 * Who keeps what two objects claim: one the change does not touch (`changed`: the
 * objectKeys a change adds or modifies) over one it does, so the object being added
 * carries the error and a live one is never taken down by a newcomer (issue 8); then name order.
 */
export function conflictOrder<T>(items: readonly T[], key: (item: T) => string, changed: ReadonlySet<string> = new Set()): T[] {
  const rank = (item: T): string => `${changed.has(key(item)) ? 1 : 0}${key(item)}`;
  return [...items].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/**
 * Two listeners of one group on the same address and port: Envoy refuses the second
 * ("has duplicate address"), and a wildcard address overlaps every address of its family
 * on that port (bind fails). Raw Listeners take part like model ones, with every socket
 * they bind (raw-listener-sockets.ts). The listener the change does not touch keeps the
 * port, otherwise the one whose objectKey sorts first (conflictOrder).
 */
export function findListenerConflicts(
  plans: readonly GroupPlan[],
  listeners: ReadonlyMap<string, ListenerSpec>,
  changed?: ReadonlySet<string>,
  raw: ReadonlyMap<string, RawResourceSpec> = new Map(),
): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const plan of plans) {
    const claims: { key: string; label: string; protocol: string | undefined; sockets: ListenerSocket[] }[] = [];
    for (const name of plan.listeners) {
      const spec = listeners.get(name);
      if (spec === undefined) continue;
      const socket = { address: spec.address, port: spec.port, udp: spec.protocol === "UDP", path: "spec.port" };
      claims.push({ key: `Listener/${name}`, label: `Listener '${name}'`, protocol: spec.protocol, sockets: [socket] });
    }
    for (const name of plan.raw) {
      const spec = raw.get(name);
      const sockets = spec === undefined ? [] : rawListenerSockets(spec);
      if (sockets.length > 0) claims.push({ key: `RawResource/${name}`, label: `RawResource '${name}'`, protocol: undefined, sockets });
    }
    const taken: { label: string; socket: ListenerSocket }[] = [];
    for (const claim of conflictOrder(claims, (c) => c.key, changed)) {
      let clash: { socket: ListenerSocket; by: string } | undefined;
      for (const socket of claim.sockets) {
        const t = taken.find((x) => socketsOverlap(x.socket, socket));
        if (t !== undefined) {
          clash = { socket, by: t.label };
          break;
        }
      }
      if (clash === undefined) {
        for (const socket of claim.sockets) taken.push({ label: claim.label, socket });
        continue;
      }
      if (out.has(claim.key)) continue;
      const { socket, by } = clash;
      out.set(claim.key, {
        severity: "error",
        code: "listener.port_conflict",
        message: `${socket.address}:${socket.port} (${claim.protocol ?? (socket.udp ? "UDP" : "TCP")}) is already used by ${by}${plan.nodeGroup === undefined ? "" : ` in node group '${plan.name}'`}`,
        hint: "choose another port, or put the two listeners in different NodeGroups",
        object: claim.key,
        path: socket.path,
      });
    }
  }
  return [...out.values()];
}

/**
 * Two Route objects on one listener claiming the same domain: Envoy NACKs the whole
 * RouteConfiguration ("Only unique values for domains are permitted"), so one route is
 * refused instead, and the listener keeps working: the one the change touches, otherwise
 * the one whose name sorts later (conflictOrder).
 */
export function findDomainConflicts(routes: readonly { name: string; spec: RouteSpec }[], changed?: ReadonlySet<string>): Diagnostic[] {
  const claimed = new Map<string, string>(); // "listener\0domain" -> route name
  const out: Diagnostic[] = [];
  for (const r of conflictOrder(routes, (x) => `Route/${x.name}`, changed)) {
    let conflict: Diagnostic | undefined;
    const mine: string[] = [];
    r.spec.listeners.forEach((l) => {
      r.spec.domains.forEach((d, i) => {
        const owner = claimed.get(`${l}\0${d.toLowerCase()}`);
        if (owner !== undefined && conflict === undefined) {
          conflict = {
            severity: "error",
            code: "route.domain_conflict",
            message: `domain '${d}' on Listener '${l}' is already served by Route '${owner}'`,
            hint: `move these routes into Route '${owner}', or use a different domain`,
            object: `Route/${r.name}`,
            path: `spec.domains[${i}]`,
          };
        }
        mine.push(`${l}\0${d.toLowerCase()}`);
      });
    });
    if (conflict !== undefined) out.push(conflict);
    else for (const k of mine) claimed.set(k, r.name);
  }
  return out;
}
