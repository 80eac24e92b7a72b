import type { ListenerSpec } from "../model/listener-spec.ts";
import type { Diagnostic } from "../model/model-object.ts";
import type { RouteSpec } from "../model/route-spec.ts";
import type { GroupPlan } from "./assign-groups.ts";

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
 * on that port (bind fails). The listener the change does not touch keeps the port,
 * otherwise the one whose name sorts first (conflictOrder).
 */
export function findListenerConflicts(plans: readonly GroupPlan[], listeners: ReadonlyMap<string, ListenerSpec>, changed?: ReadonlySet<string>): Diagnostic[] {
  const out = new Map<string, Diagnostic>();
  for (const plan of plans) {
    const taken: { name: string; spec: ListenerSpec }[] = [];
    for (const name of conflictOrder(plan.listeners, (n) => `Listener/${n}`, changed)) {
      const spec = listeners.get(name);
      if (spec === undefined) continue;
      const clash = taken.find((t) => overlaps(t.spec, spec));
      if (clash === undefined) {
        taken.push({ name, spec });
        continue;
      }
      const key = `Listener/${name}`;
      if (out.has(key)) continue;
      out.set(key, {
        severity: "error",
        code: "listener.port_conflict",
        message: `${spec.address}:${spec.port} (${spec.protocol}) is already used by Listener '${clash.name}'${plan.nodeGroup === undefined ? "" : ` in node group '${plan.name}'`}`,
        hint: `choose another port, or put the two listeners in different NodeGroups`,
        object: key,
        path: "spec.port",
      });
    }
  }
  return [...out.values()];
}

function overlaps(a: ListenerSpec, b: ListenerSpec): boolean {
  if (a.port !== b.port || (a.protocol === "UDP") !== (b.protocol === "UDP")) return false;
  if (a.address === b.address) return true;
  const v6 = (s: string): boolean => s.includes(":");
  if (v6(a.address) !== v6(b.address)) return a.address === "::" || b.address === "::";
  return a.address === "0.0.0.0" || b.address === "0.0.0.0" || a.address === "::" || b.address === "::";
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
