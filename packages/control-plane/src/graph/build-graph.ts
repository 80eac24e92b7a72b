import { TypeUrl } from "@ts-control-plane/xds";
import type { Diagnostic } from "../model/model-object.ts";
import { Kind } from "../model/kinds.ts";
import type { ValidObject } from "../model/validate-object.ts";
import { formatPath, type PathSegment } from "../model/field-path.ts";
import type { ListenerSpec } from "../model/listener-spec.ts";
import { secretShapeOf, type SecretShape, type SecretSpec } from "../model/secret-spec.ts";
import type { ServiceSpec } from "../model/service-spec.ts";
import type { RouteSpec } from "../model/route-spec.ts";
import { tracingService, type TracingSpec } from "../model/tracing-spec.ts";
import { checkGrpcService } from "./check-grpc-service.ts";
import type { Graph, GraphGroup, GraphListener, GraphVirtualHost } from "./graph.ts";
import { References } from "./references.ts";
import { ruleServices } from "./rule-services.ts";
import { assignGroups, type GroupPlan } from "./assign-groups.ts";
import { httpFilterServices } from "../model/http-filter-spec.ts";
import { checkFilterOverrides } from "./check-filter-overrides.ts";
import { findListenerConflicts, findDomainConflicts } from "./find-conflicts.ts";
import { checkRawResources } from "./check-raw-resources.ts";
import { runToEnd, type Steps } from "../model/time-slice.ts";
import { checkBackend } from "./check-backend.ts";

export interface GraphResult {
  graph: Graph;
  diagnostics: Diagnostic[];
  /** objectKeys refused here because of a broken reference or a conflict (model rejections not repeated). */
  rejected: Set<string>;
}

type Of<K extends ValidObject["kind"]> = Extract<ValidObject, { kind: K }>;

/**
 * Resolves the valid objects into the intermediate form. An object whose reference is
 * broken, or which conflicts with another (same port, same domain, same resource name),
 * is refused on its own with a diagnostic; everything else keeps flowing. Conflicts are
 * settled for the objects a change does not touch, then by name order, so the outcome
 * never depends on input order.
 */
export function buildGraph(objects: readonly ValidObject[], options: GraphOptions): GraphResult {
  return runToEnd(buildGraphSteps(objects, options));
}

export interface GraphOptions {
  readonly refused: ReadonlySet<string>;
  readonly allowRawFilename?: boolean;
  /** objectKeys a change adds or modifies: they lose conflicts with objects it does not touch (find-conflicts.ts conflictOrder). */
  readonly changed?: ReadonlySet<string>;
}

/** The steps of buildGraph, yielding between its phases (model/time-slice.ts; issue 14). */
export function* buildGraphSteps(objects: readonly ValidObject[], options: GraphOptions): Steps<GraphResult> {
  const byKind = new Map<Kind, Map<string, ValidObject>>();
  for (const o of [...objects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    let m = byKind.get(o.kind);
    if (m === undefined) byKind.set(o.kind, (m = new Map()));
    m.set(o.name, o);
  }
  const all = <K extends ValidObject["kind"]>(k: K): Of<K>[] => [...(byKind.get(k)?.values() ?? [])] as Of<K>[];
  const names = new Map<Kind, ReadonlySet<string>>([...byKind].map(([k, m]) => [k, new Set(m.keys())]));

  // Conflicts found in one pass refuse objects that others may reference: iterate to a fixed point.
  const conflicts: Diagnostic[] = [];
  let dropped = new Set(options.refused);
  for (;;) {
    yield;
    const refs = new References(names, dropped);
    const diagnostics: Diagnostic[] = [];
    resolveReferences(refs, all, diagnostics);
    yield;
    const plans = assignGroups({
      listeners: refs.aliveNames(Kind.Listener),
      raw: refs.aliveNames(Kind.RawResource),
      nodeGroups: all(Kind.NodeGroup).filter((g) => refs.alive(Kind.NodeGroup, g.name)),
    });
    const listeners = new Map(all(Kind.Listener).map((l) => [l.name, l.spec]));
    const routes = all(Kind.Route).filter((r) => refs.alive(Kind.Route, r.name));
    const found = [
      ...findListenerConflicts(plans, listeners, options.changed, new Map(all(Kind.RawResource).map((r) => [r.name, r.spec]))),
      ...findDomainConflicts(routes, options.changed),
    ];
    const groups: GraphGroup[] = [];
    for (const p of found.length > 0 ? [] : plans) {
      yield;
      groups.push(assembleGroup(p, refs, all));
    }
    if (found.length === 0) {
      found.push(...checkRawResources(groups, { allowFilename: options.allowRawFilename === true, ...(options.changed === undefined ? {} : { changed: options.changed }) }));
    }
    if (found.length === 0) {
      const rejected = new Set([...refs.dropped].filter((k) => !options.refused.has(k)));
      return { graph: { groups }, diagnostics: [...conflicts, ...diagnostics], rejected };
    }
    conflicts.push(...found);
    dropped = new Set([...refs.dropped, ...found.map((d) => d.object ?? "")]);
  }
}

function resolveReferences(refs: References, all: <K extends ValidObject["kind"]>(k: K) => Of<K>[], diagnostics: Diagnostic[]): void {
  const drop = (key: string, ok: boolean): void => {
    if (!ok) refs.dropped.add(key);
  };
  // Dependency order: what is referenced is settled before what references it.
  const secrets = new Map(all(Kind.Secret).map((x) => [x.name, x.spec]));
  const rawClusters = new Map(all(Kind.RawResource).flatMap((x) => (x.spec.typeUrl === TypeUrl.Cluster ? [[x.spec.name, x.name] as const] : [])));
  for (const sv of all(Kind.Service)) {
    const key = `Service/${sv.name}`;
    if (!refs.alive(Kind.Service, sv.name) || sv.spec.tls === undefined) continue;
    let ok = true;
    const { validationSecret, clientSecret } = sv.spec.tls;
    if (validationSecret !== undefined) ok = checkSecret(refs, secrets, { from: key, path: ["spec", "tls", "validationSecret"], name: validationSecret, shape: "validationContext" }, diagnostics) && ok;
    if (clientSecret !== undefined) ok = checkSecret(refs, secrets, { from: key, path: ["spec", "tls", "clientSecret"], name: clientSecret, shape: "tlsCertificate" }, diagnostics) && ok;
    drop(key, ok);
  }
  const serviceSpecs = new Map(all(Kind.Service).map((x) => [x.name, x.spec]));
  for (const t of all(Kind.Tracing)) {
    const key = `Tracing/${t.name}`;
    if (!refs.alive(Kind.Tracing, t.name)) continue;
    const { service, path } = tracingService(t.spec);
    drop(key, "zipkin" in t.spec ? refs.check(key, path, Kind.Service, service, diagnostics) : checkGrpcService(refs, serviceSpecs, { from: key, path, service, what: "OpenTelemetry tracing", code: "ref.grpc_needs_http2" }, diagnostics));
  }
  for (const a of all(Kind.AccessLog)) {
    const key = `AccessLog/${a.name}`;
    if (!refs.alive(Kind.AccessLog, a.name) || a.spec.type !== "opentelemetry") continue;
    drop(key, checkGrpcService(refs, serviceSpecs, { from: key, path: ["spec", "service"], service: a.spec.service, what: "An OpenTelemetry access log", code: "ref.grpc_needs_http2" }, diagnostics));
  }
  for (const l of all(Kind.Listener)) {
    const key = `Listener/${l.name}`;
    if (!refs.alive(Kind.Listener, l.name)) continue;
    let ok = true;
    if (l.spec.service !== undefined) ok = checkBackend(refs, rawClusters, { from: key, path: ["spec", "service"], service: l.spec.service }, diagnostics) && ok;
    if (l.spec.tracing !== undefined) ok = refs.check(key, ["spec", "tracing"], Kind.Tracing, l.spec.tracing, diagnostics) && ok;
    l.spec.accessLogs.forEach((a, i) => {
      ok = refs.check(key, ["spec", "accessLogs", i], Kind.AccessLog, a, diagnostics) && ok;
    });
    for (const { path, service, grpc } of httpFilterServices(l.spec.httpFilters)) {
      ok = (grpc ? checkGrpcService(refs, serviceSpecs, { from: key, path, service, what: "extAuthz", code: "filter.grpc_needs_http2", otherwise: "use protocol: HTTP in the filter" }, diagnostics) : refs.check(key, path, Kind.Service, service, diagnostics)) && ok;
    }
    const tls = l.spec.tls;
    tls?.certificates.forEach((c, i) => {
      // The short form (tls.secret) is read as certificates[0]: report it where the operator wrote it.
      const path = tls.certificatesListed ? ["spec", "tls", "certificates", i, "secret"] : ["spec", "tls", "secret"];
      if ("secret" in c) ok = checkSecret(refs, secrets, { from: key, path, name: c.secret, shape: "tlsCertificate" }, diagnostics) && ok;
    });
    if (tls?.clientValidationSecret !== undefined) {
      ok = checkSecret(refs, secrets, { from: key, path: ["spec", "tls", "clientValidationSecret"], name: tls.clientValidationSecret, shape: "validationContext" }, diagnostics) && ok;
    }
    drop(key, ok);
  }
  const listenerSpecs = new Map(all(Kind.Listener).map((l) => [l.name, l.spec]));
  const services = new Map(all(Kind.Service).map((x) => [x.name, x]));
  for (const r of all(Kind.Route)) {
    const key = `Route/${r.name}`;
    if (!refs.alive(Kind.Route, r.name)) continue;
    let ok = true;
    r.spec.listeners.forEach((name, i) => {
      const path = ["spec", "listeners", i];
      if (!refs.check(key, path, Kind.Listener, name, diagnostics)) {
        ok = false;
        return;
      }
      const protocol = listenerSpecs.get(name)?.protocol;
      if (protocol === "TCP" || protocol === "UDP") {
        ok = false;
        diagnostics.push({
          severity: "error",
          code: "ref.wrong_protocol",
          message: `Listener '${name}' is a ${protocol} listener; routes attach only to HTTP and HTTPS listeners`,
          hint: `attach the route to an HTTP or HTTPS listener, or send the ${protocol} listener's traffic with its spec.service`,
          object: key,
          path: `spec.listeners[${i}]`,
        });
      }
    });
    const filterProblems = checkFilterOverrides(key, r.spec, listenerSpecs);
    if (filterProblems.length > 0) ok = false;
    diagnostics.push(...filterProblems);
    r.spec.routes.forEach((rule, i) => {
      for (const u of ruleServices(rule)) {
        ok = checkBackend(refs, rawClusters, { from: key, path: ["spec", "routes", i, ...u.path], service: u.service }, diagnostics) && ok;
      }
      const hashed = rule.backends.find((b) => {
        const policy = services.get(b.service)?.spec.lbPolicy;
        return policy === "RingHash" || policy === "Maglev";
      });
      if (hashed !== undefined && rule.hashOn === undefined) {
        // Without a hash policy Envoy hashes on a random value: consistent hashing silently becomes random.
        diagnostics.push({
          severity: "warning",
          code: "route.no_hash_policy",
          message: `Service '${hashed.service}' balances by consistent hashing, but this route gives it nothing to hash on`,
          hint: "add hashOn (header, cookie, queryParameter or sourceIp: true) to this route, or use lbPolicy: RoundRobin",
          object: key,
          path: `spec.routes[${i}]`,
        });
      }
    });
    drop(key, ok);
  }
  warnUnusedListeners(refs, all, diagnostics);
  for (const g of all(Kind.NodeGroup)) {
    const key = `NodeGroup/${g.name}`;
    if (!refs.alive(Kind.NodeGroup, g.name)) continue;
    let ok = true;
    (g.spec.listeners ?? []).forEach((name, i) => {
      ok = refs.check(key, ["spec", "listeners", i], Kind.Listener, name, diagnostics) && ok;
    });
    (g.spec.rawResources ?? []).forEach((name, i) => {
      ok = refs.check(key, ["spec", "rawResources", i], Kind.RawResource, name, diagnostics) && ok;
    });
    drop(key, ok);
  }
}

/** A reference to a Secret: it must exist, be valid, and hold what the field needs (a certificate or a CA bundle). */
function checkSecret(
  refs: References,
  secrets: ReadonlyMap<string, SecretSpec>,
  ref: { from: string; path: readonly PathSegment[]; name: string; shape: SecretShape },
  diagnostics: Diagnostic[],
): boolean {
  if (!refs.check(ref.from, ref.path, Kind.Secret, ref.name, diagnostics)) return false;
  const spec = secrets.get(ref.name);
  if (spec === undefined || secretShapeOf(spec) === ref.shape) return true;
  const field = String(ref.path.at(-1));
  diagnostics.push({
    severity: "error",
    code: "ref.wrong_secret_type",
    message: `Secret '${ref.name}' holds ${secretShapeOf(spec)}, but ${field} needs a Secret with ${ref.shape}`,
    hint: ref.shape === "tlsCertificate" ? `point ${field} at a Secret with tlsCertificate (certificate and key)` : `point ${field} at a Secret with validationContext (caCertificates)`,
    object: ref.from,
    path: formatPath(ref.path),
  });
  return false;
}

/** The Secrets a listener or a service uses, by name. */
function secretsOf(tls: ListenerSpec["tls"] | ServiceSpec["tls"]): string[] {
  if (tls === undefined) return [];
  const out: string[] = [];
  if ("certificates" in tls) for (const c of tls.certificates) if ("secret" in c) out.push(c.secret);
  if ("clientValidationSecret" in tls && tls.clientValidationSecret !== undefined) out.push(tls.clientValidationSecret);
  if ("validationSecret" in tls && tls.validationSecret !== undefined) out.push(tls.validationSecret);
  if ("clientSecret" in tls && tls.clientSecret !== undefined) out.push(tls.clientSecret);
  return out;
}

function assembleGroup(plan: GroupPlan, refs: References, all: <K extends ValidObject["kind"]>(k: K) => Of<K>[]): GraphGroup {
  const objects = new Set<string>(plan.nodeGroup === undefined ? [] : [`NodeGroup/${plan.nodeGroup}`]);
  const services = new Set<string>();
  const listenerNames = new Set(plan.listeners);
  const routesByListener = new Map<string, Of<"Route">[]>();
  for (const r of all(Kind.Route)) {
    if (!refs.alive(Kind.Route, r.name)) continue;
    for (const l of r.spec.listeners) {
      if (!listenerNames.has(l)) continue;
      let list = routesByListener.get(l);
      if (list === undefined) routesByListener.set(l, (list = []));
      list.push(r);
    }
  }
  const tracings = new Map(all(Kind.Tracing).map((t) => [t.name, t]));
  const logs = new Map(all(Kind.AccessLog).map((a) => [a.name, a]));
  const listeners: GraphListener[] = [];
  for (const l of all(Kind.Listener)) {
    if (!listenerNames.has(l.name)) continue;
    objects.add(`Listener/${l.name}`);
    const routes = routesByListener.get(l.name) ?? [];
    for (const r of routes) {
      objects.add(`Route/${r.name}`);
      for (const rule of r.spec.routes) for (const u of ruleServices(rule)) services.add(u.service);
    }
    if (l.spec.service !== undefined) services.add(l.spec.service);
    for (const { service } of httpFilterServices(l.spec.httpFilters)) services.add(service);
    const tracing = l.spec.tracing === undefined ? undefined : tracings.get(l.spec.tracing);
    if (tracing !== undefined) {
      objects.add(`Tracing/${tracing.name}`);
      services.add(tracingService(tracing.spec).service);
    }
    const accessLogs = [...new Set(l.spec.accessLogs)].sort().flatMap((n) => {
      const a = logs.get(n);
      if (a === undefined) return [];
      objects.add(`AccessLog/${n}`);
      if (a.spec.type === "opentelemetry") services.add(a.spec.service);
      return [{ name: n, spec: a.spec }];
    });
    listeners.push(graphListener(l.name, l.spec, routes, tracing, accessLogs));
  }
  if (plan.whole) {
    // A whole-configuration group also carries what no listener uses yet (e.g. a Service
    // prepared ahead of a route change, so its cluster is warm when the route arrives).
    for (const name of refs.aliveNames(Kind.Service)) services.add(name);
    for (const name of refs.aliveNames(Kind.Tracing)) {
      objects.add(`Tracing/${name}`);
      const t = tracings.get(name);
      if (t !== undefined) services.add(tracingService(t.spec).service);
    }
    for (const name of refs.aliveNames(Kind.AccessLog)) {
      objects.add(`AccessLog/${name}`);
      const a = logs.get(name);
      if (a?.spec.type === "opentelemetry") services.add(a.spec.service);
    }
  }
  const serviceObjects = new Map(all(Kind.Service).map((s) => [s.name, s]));
  const graphServices = [...services].sort().flatMap((n) => {
    const s = serviceObjects.get(n);
    // A backend name may be a raw Cluster (check-backend.ts), also when a refused Service shares it.
    if (s === undefined || !refs.alive(Kind.Service, n)) return [];
    objects.add(`Service/${n}`);
    return [{ name: n, spec: s.spec }];
  });
  const secretObjects = new Map(all(Kind.Secret).map((x) => [x.name, x]));
  const used = new Set([...listeners.flatMap((l) => secretsOf(l.tls)), ...graphServices.flatMap((x) => secretsOf(x.spec.tls))]);
  const secrets = [...used].sort().flatMap((n) => {
    const x = secretObjects.get(n);
    if (x === undefined) return [];
    objects.add(`Secret/${n}`);
    return [{ name: n, spec: x.spec }];
  });
  const rawObjects = new Map(all(Kind.RawResource).map((r) => [r.name, r]));
  const raw = [...plan.raw].sort().flatMap((n) => {
    const r = rawObjects.get(n);
    if (r === undefined) return [];
    objects.add(`RawResource/${n}`);
    return [{ name: n, spec: r.spec }];
  });
  return { name: plan.name, selector: plan.selector, ...(plan.identities === undefined ? {} : { identities: plan.identities }), listeners, services: graphServices, secrets, raw, objects: [...objects].sort() };
}

function graphListener(
  name: string,
  spec: ListenerSpec,
  routes: readonly { name: string; spec: RouteSpec }[],
  tracing: { name: string; spec: TracingSpec } | undefined,
  accessLogs: GraphListener["accessLogs"],
): GraphListener {
  const virtualHosts: GraphVirtualHost[] = routes
    .map((r) => ({ name: r.name, domains: [...r.spec.domains].sort(), rules: r.spec.routes, headers: r.spec.headers }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: GraphListener = {
    name,
    protocol: spec.protocol,
    address: spec.address,
    port: spec.port,
    accessLogs,
    requestId: spec.requestId,
    httpFilters: spec.httpFilters,
    virtualHosts,
    upgrades: spec.upgrades,
    headers: spec.headers,
    ...(spec.tls === undefined ? {} : { tls: spec.tls }),
    ...(spec.service === undefined ? {} : { service: spec.service }),
    ...(tracing === undefined ? {} : { tracing: { name: tracing.name, spec: tracing.spec } }),
  };
  return out;
}

/**
 * An HTTP(S) listener no route attaches to answers 404 to everything: legal, but rarely
 * meant. A route that names it but was refused does not count as missing (its own error
 * already says what to fix).
 */
function warnUnusedListeners(refs: References, all: <K extends ValidObject["kind"]>(k: K) => Of<K>[], diagnostics: Diagnostic[]): void {
  const attached = new Set(all(Kind.Route).flatMap((r) => r.spec.listeners));
  for (const l of all(Kind.Listener)) {
    if (!refs.alive(Kind.Listener, l.name) || attached.has(l.name) || (l.spec.protocol !== "HTTP" && l.spec.protocol !== "HTTPS")) continue;
    diagnostics.push({
      severity: "warning",
      code: "listener.no_routes",
      message: `no Route attaches to Listener '${l.name}', so it answers 404 to every request`,
      hint: `add a Route with listeners: [${l.name}]`,
      object: `Listener/${l.name}`,
      path: "spec",
    });
  }
}
