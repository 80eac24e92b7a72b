import type { Message } from "@bufbuild/protobuf";
import { TypeUrl, type Violation } from "@ts-control-plane/xds";
import { buildGroupResources, compareResources, createBuildMemo, graphKey, type BuildMemo } from "./envoy/build-group-resources.ts";
import { buildServiceResources } from "./envoy/build-service-resources.ts";
import type { BuiltResource } from "./envoy/built-resource.ts";
import { checkResource } from "./envoy/check-resource.ts";
import { buildGraphSteps } from "./graph/build-graph.ts";
import type { GraphGroup, GraphService } from "./graph/graph.ts";
import { objectKey, type Diagnostic, type ModelObject } from "./model/model-object.ts";
import { certificateTimeCodes } from "./model/pem.ts";
import { runSliced, runToEnd, type Steps } from "./model/time-slice.ts";
import { validateObject, type ValidObject } from "./model/validate-object.ts";

/** Which Envoys a node group is for. Every field given must match (AND); within a list, any item (OR). */
export interface NodeSelector {
  nodeIds?: string[];
  clusters?: string[];
  metadata?: Record<string, string>;
}

export interface NodeGroupConfig {
  name: string;
  selector: NodeSelector;
  /** Client certificate identities allowed to connect as this group (mTLS); any when absent. */
  identities?: readonly string[];
  /** Typed protobuf-es Envoy messages, sorted (ADS push order, then name), with stable names. */
  resources: Message[];
  /** objectKeys that contributed. */
  objects: string[];
  /** typeUrl -> Envoy resource name -> the objectKeys that produced it (see BuiltResource.objects). */
  resourceObjects: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

export interface CompileResult {
  diagnostics: Diagnostic[];
  /** objectKeys refused. */
  rejected: string[];
  groups: NodeGroupConfig[];
}

/** Operator settings of the translation (serve flags), not part of any object. */
export interface CompileOptions {
  /** RawResources may name files on Envoy's host (DataSource filename); refused by default (issue 13). */
  readonly allowRawFilename?: boolean;
  /**
   * The clock for certificate expiry (a warning, tls.expired). Without it compile() reads no
   * clock and its result depends on the objects alone; the runtime passes Date.now.
   */
  readonly now?: () => number;
}

/** A compiler that remembers its last input, so the next compile redoes only what changed. */
/** What one compile is for. */
export interface CompileRequest {
  /**
   * objectKeys the change being judged adds or modifies. In a conflict (same port, same
   * domain) with an object the change does not touch, they are the ones refused, so the
   * error names the new object, not the live one (issue 8). Without it, name order decides.
   */
  readonly changed?: ReadonlySet<string>;
}

export interface Compiler {
  compile(objects: readonly ModelObject[], request?: CompileRequest): CompileResult;
  /**
   * The same compile, giving the event loop a turn now and then during a full one (issue 14:
   * 20,000 objects must not block xDS streams for half a second). One at a time: the
   * caller must not start another compile on this compiler before it resolves.
   */
  compileSliced(objects: readonly ModelObject[], request?: CompileRequest): Promise<CompileResult>;
  /** How the last compile ran: "full", "endpoints" (fast path) or "unchanged". */
  readonly lastPath: "full" | "endpoints" | "unchanged" | undefined;
}

/**
 * The whole pure pipeline: validate each object -> graph (references, conflicts) ->
 * Envoy resources per node group -> protoc-gen-validate check. Deterministic: the same
 * set of objects, in any order, gives the same result. Never throws on user input.
 */
export function compile(objects: readonly ModelObject[], options: CompileOptions = {}): CompileResult {
  return createCompiler(options).compile(objects);
}

interface Remembered {
  object: ModelObject;
  fingerprint: string;
}

interface State {
  objects: Map<string, Remembered>;
  count: number;
  rejected: ReadonlySet<string>;
  result: CompileResult;
  groups: { graph: GraphGroup; built: BuiltResource[] }[];
  /** The `changed` keys the result was compiled for (CompileRequest). */
  changedKey?: string;
}

/** Diagnostics whose object depends on who the change touched (CompileRequest.changed). */
const conflictCodes: ReadonlySet<string> = new Set(["listener.port_conflict", "route.domain_conflict"]);

/**
 * Incremental compiles. Built resources are memoised per listener and service (and their
 * PGV verdicts per message), so a full compile after a small change rebuilds only what
 * changed; and a change to nothing but the endpoints of valid Services skips validation
 * of everything else, the graph and the conflict checks entirely (the fast path), since
 * endpoints are referenced by nothing and cannot create or break a reference.
 */
export function createCompiler(options: CompileOptions = {}): Compiler {
  const memo = createBuildMemo();
  const verdicts = new WeakMap<Message, Violation[]>();
  let state: State | undefined;
  let lastPath: Compiler["lastPath"];
  const check = (m: Message): Violation[] => {
    let v = verdicts.get(m);
    if (v === undefined) verdicts.set(m, (v = checkResource(m)));
    return v;
  };
  return {
    get lastPath() {
      return lastPath;
    },
    compile(objects, request = {}) {
      return runToEnd(compileSteps(objects, request));
    },
    compileSliced(objects, request = {}) {
      return runSliced(compileSteps(objects, request));
    },
  };
  /** One compile: the fast path when it applies, else the full pipeline, which yields between pieces of work. */
  function* compileSteps(objects: readonly ModelObject[], request: CompileRequest): Steps<CompileResult> {
    // A certificate's validity depends on the clock, which the fast paths do not read: a result that
    // holds an expired / not-yet-valid verdict is compiled again, so a certificate that became valid is seen.
    const timeBound = options.now !== undefined && state?.result.diagnostics.some((d) => certificateTimeCodes.has(d.code)) === true;
    // Who wins a conflict depends on `changed`: a result holding a conflict is reused only for the same one.
    const changedKey = [...(request.changed ?? [])].sort().join("\n");
    const conflictBound = state !== undefined && state.changedKey !== changedKey && state.result.diagnostics.some((d) => conflictCodes.has(d.code));
    const fast = state === undefined || timeBound || conflictBound ? undefined : fastPath(state, objects, memo, check);
    if (fast !== undefined) {
      lastPath = fast === state ? "unchanged" : "endpoints";
      state = { ...fast, changedKey };
      return fast.result;
    }
    lastPath = "full";
    state = { ...(yield* fullCompile(objects, memo, check, options, request)), changedKey };
    return state.result;
  }
}

function* fullCompile(objects: readonly ModelObject[], memo: BuildMemo, check: (m: Message) => Violation[], options: CompileOptions, request: CompileRequest): Steps<State> {
  const diagnostics: Diagnostic[] = [];
  const remembered = new Map<string, Remembered>();
  const valid: ValidObject[] = [];
  const refused = new Set<string>();
  const clock = options.now === undefined ? {} : { nowMs: options.now() };
  for (const o of objects) {
    yield;
    const key = objectKey(o);
    if (remembered.has(key)) {
      diagnostics.push({
        severity: "error",
        code: "object.duplicate",
        message: `${key} is defined more than once; the first definition is used`,
        hint: "remove or rename the other definition",
        object: key,
        path: "metadata.name",
      });
      continue;
    }
    remembered.set(key, { object: o, fingerprint: fingerprint(o) });
    const v = validateObject(o, clock);
    diagnostics.push(...v.diagnostics);
    if (v.valid === undefined) refused.add(key);
    else valid.push(v.valid);
  }
  // A resource Envoy would NACK refuses the object that produced it; that can break
  // references to it, so the graph is rebuilt without it (a few rounds at most).
  const pgv: Diagnostic[] = [];
  for (;;) {
    const g = yield* buildGraphSteps(valid, { refused, allowRawFilename: options.allowRawFilename === true, ...(request.changed === undefined ? {} : { changed: request.changed }) });
    const groups: { graph: GraphGroup; built: BuiltResource[] }[] = [];
    for (const graph of g.graph.groups) {
      groups.push({ graph, built: yield* buildGroupResources(graph, memo) });
    }
    const blamed = new Map<string, Diagnostic>();
    const seen = new Set<Message>();
    for (const { built } of groups) {
      for (const r of built) {
        yield;
        if (seen.has(r.message)) continue;
        seen.add(r.message);
        for (const v of check(r.message)) {
          const owner = r.owner(v.path);
          if (!blamed.has(owner)) blamed.set(owner, pgvDiagnostic(r, v, owner));
        }
      }
    }
    if (blamed.size === 0) {
      const all = [...diagnostics, ...g.diagnostics, ...pgv].sort(compareDiagnostics);
      const rejected = new Set([...refused, ...g.rejected]);
      const result: CompileResult = { diagnostics: all, rejected: [...rejected].sort(), groups: groups.map(toConfig) };
      return { objects: remembered, count: objects.length, rejected, result, groups };
    }
    for (const [owner, d] of blamed) {
      pgv.push(d);
      refused.add(owner);
    }
  }
}

function fastPath(prev: State, objects: readonly ModelObject[], memo: BuildMemo, check: (m: Message) => Violation[]): State | undefined {
  if (objects.length !== prev.count || prev.objects.size !== prev.count) return undefined;
  const changed: { key: string; object: ModelObject; fingerprint: string }[] = [];
  for (const o of objects) {
    const key = objectKey(o);
    const p = prev.objects.get(key);
    if (p === undefined) return undefined;
    if (p.object === o) continue;
    const fp = fingerprint(o);
    if (fp === p.fingerprint) continue;
    if (o.kind !== "Service" || prev.rejected.has(key)) return undefined;
    if (withoutEndpoints(o) !== withoutEndpoints(p.object)) return undefined;
    changed.push({ key, object: o, fingerprint: fp });
  }
  if (changed.length === 0) return prev;
  const objectsNext = new Map(prev.objects);
  const replaced = new Map<string, BuiltResource[]>();
  const services = new Map<string, GraphService>();
  const newDiagnostics: Diagnostic[] = [];
  for (const c of changed) {
    const v = validateObject(c.object);
    if (v.valid?.kind !== "Service") return undefined; // now invalid: the full path refuses it properly
    const service: GraphService = { name: v.valid.name, spec: v.valid.spec };
    // An EDS cluster does not depend on its endpoints: only the ClusterLoadAssignment is new,
    // and the Cluster message (and its encoding downstream) is reused as is.
    const resources =
      service.spec.discovery === "Static"
        ? buildServiceResources(service).filter((r) => r.typeUrl === TypeUrl.Endpoint)
        : buildServiceResources(service);
    if (resources.some((r) => check(r.message).length > 0)) return undefined;
    services.set(service.name, service);
    newDiagnostics.push(...v.diagnostics);
    replaced.set(v.valid.name, resources);
    objectsNext.set(c.key, { object: c.object, fingerprint: c.fingerprint });
  }
  // Commit only once every changed service passed: a later full compile then reuses them.
  for (const [name, service] of services) {
    const fresh = replaced.get(name) ?? [];
    const kept = (memo.services.get(name)?.resources ?? []).filter((r) => !fresh.some((f) => f.typeUrl === r.typeUrl));
    memo.services.set(name, { key: graphKey(service), resources: [...kept, ...fresh].sort(compareResources) });
  }
  const keys = new Set(changed.map((c) => c.key));
  const groups = prev.groups.map((g) => {
    if (!g.graph.services.some((s) => replaced.has(s.name))) return g;
    const fresh = new Map<string, BuiltResource>();
    for (const [name, rs] of replaced) if (g.graph.services.some((s) => s.name === name)) for (const r of rs) fresh.set(`${r.typeUrl}\0${r.name}`, r);
    const built = g.built.map((r) => fresh.get(`${r.typeUrl}\0${r.name}`) ?? r);
    const graph: GraphGroup = { ...g.graph, services: g.graph.services.map((s) => services.get(s.name) ?? s) };
    return { graph, built: built.sort(compareResources) };
  });
  const diagnostics = [...prev.result.diagnostics.filter((d) => d.object === undefined || !keys.has(d.object)), ...newDiagnostics].sort(compareDiagnostics);
  const result: CompileResult = { diagnostics, rejected: prev.result.rejected, groups: groups.map(toConfig) };
  return { objects: objectsNext, count: prev.count, rejected: prev.rejected, result, groups };
}

function toConfig(g: { graph: GraphGroup; built: BuiltResource[] }): NodeGroupConfig {
  const resourceObjects = new Map<string, Map<string, readonly string[]>>();
  for (const r of g.built) {
    let byName = resourceObjects.get(r.typeUrl);
    if (byName === undefined) resourceObjects.set(r.typeUrl, (byName = new Map()));
    byName.set(r.name, r.objects);
  }
  return { name: g.graph.name, selector: { ...g.graph.selector }, ...(g.graph.identities === undefined ? {} : { identities: [...g.graph.identities] }), resources: g.built.map((r) => r.message), objects: [...g.graph.objects], resourceObjects };
}

function pgvDiagnostic(r: BuiltResource, v: Violation, owner: string): Diagnostic {
  const type = r.typeUrl.slice(r.typeUrl.lastIndexOf(".") + 1);
  const raw = owner.startsWith("RawResource/");
  return {
    severity: "error",
    code: "envoy.invalid",
    message: `Envoy would reject ${type} '${r.name}': ${v.path}: ${v.message}`,
    hint: raw
      ? `fix spec.resource.${v.path} (rule ${v.rule})`
      : `change the setting that produces ${v.path} (rule ${v.rule}); until then ${owner} is refused and the fleet keeps its last good configuration`,
    object: owner,
    path: raw ? `spec.resource.${v.path}` : "spec",
  };
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  const ka = `${a.object ?? ""}\0${a.path ?? ""}\0${a.code}\0${a.message}`;
  const kb = `${b.object ?? ""}\0${b.path ?? ""}\0${b.code}\0${b.message}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Identity of an object's content. Plain JSON, in the key order given: equal text means
 * equal objects; equal objects written in another key order merely miss the fast path.
 * (Sorting keys costs more than it saves: this runs on every object of every compile.)
 */
function fingerprint(value: unknown): string {
  return JSON.stringify(value);
}

function withoutEndpoints(o: ModelObject): string {
  return fingerprint({ ...o, spec: { ...o.spec, endpoints: null } });
}

/**
 * The group a node belongs to: the first, in name order, whose selector matches. A node
 * matching no group gets no configuration (its requests wait) rather than a guess.
 */
export function matchNodeGroup(groups: readonly NodeGroupConfig[], node: { id: string; cluster: string; metadata?: Record<string, unknown> }): string | undefined {
  for (const g of groups) {
    const s = g.selector;
    if (s.nodeIds !== undefined && !s.nodeIds.includes(node.id)) continue;
    if (s.clusters !== undefined && !s.clusters.includes(node.cluster)) continue;
    if (s.metadata !== undefined && !Object.entries(s.metadata).every(([k, v]) => metadataEquals(node.metadata?.[k], v))) continue;
    return g.name;
  }
  return undefined;
}

function metadataEquals(actual: unknown, wanted: string): boolean {
  // Node metadata is a Struct: numbers and booleans match their written form.
  return typeof actual === "string" || typeof actual === "number" || typeof actual === "boolean" ? String(actual) === wanted : false;
}
