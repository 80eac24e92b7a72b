import { validateAccessLog, type AccessLogSpec } from "./access-log-spec.ts";
import { didYouMean } from "./did-you-mean.ts";
import { API_VERSION, isKind, Kind, kinds } from "./kinds.ts";
import { validateListener, type ListenerSpec } from "./listener-spec.ts";
import { objectKey, type Diagnostic, type ModelObject } from "./model-object.ts";
import { validateNodeGroup, type NodeGroupSpec } from "./node-group-spec.ts";
import { validateRawResource, type RawResourceSpec } from "./raw-resource-spec.ts";
import { validateRoute, type RouteSpec } from "./route-spec.ts";
import { validateSecret, type SecretSpec } from "./secret-spec.ts";
import { validateService, type ServiceSpec } from "./service-spec.ts";
import { SpecReader } from "./spec-reader.ts";
import { validateTracing, type TracingSpec } from "./tracing-spec.ts";

/** An object whose spec passed its own checks (references to other objects are checked later, in the graph). */
export type ValidObject =
  | { kind: "Listener"; name: string; spec: ListenerSpec }
  | { kind: "Route"; name: string; spec: RouteSpec }
  | { kind: "Service"; name: string; spec: ServiceSpec }
  | { kind: "Tracing"; name: string; spec: TracingSpec }
  | { kind: "AccessLog"; name: string; spec: AccessLogSpec }
  | { kind: "NodeGroup"; name: string; spec: NodeGroupSpec }
  | { kind: "RawResource"; name: string; spec: RawResourceSpec }
  | { kind: "Secret"; name: string; spec: SecretSpec };

// Names become Envoy resource names and stat prefixes: keep them to characters that are safe in both.
const namePattern = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?$/;

/** Validates one object on its own. Returns undefined (with error diagnostics) when it must be refused. */
export function validateObject(o: ModelObject, options: { nowMs?: number } = {}): { valid?: ValidObject; diagnostics: Diagnostic[] } {
  const key = objectKey(o);
  const r = new SpecReader(key, options);
  if (o.apiVersion !== API_VERSION) {
    r.error(["apiVersion"], "object.api_version", `apiVersion '${o.apiVersion}' is not supported`, `set apiVersion: ${API_VERSION}`);
  }
  if (!isKind(o.kind)) {
    const near = didYouMean(o.kind, kinds);
    r.error(["kind"], "object.unknown_kind", `kind '${o.kind}' is unknown`, near !== undefined ? `did you mean '${near}'?` : `use one of: ${kinds.join(", ")}`);
    return { diagnostics: r.diagnostics };
  }
  if (!namePattern.test(o.metadata.name)) {
    r.error(["metadata", "name"], "object.name", `name '${o.metadata.name}' is not a valid name`, "use letters, digits, '-', '_' and '.', starting and ending with a letter or digit");
  }
  const valid = validateSpec(o.kind, o.metadata.name, o.spec, r);
  return r.failed || valid === undefined ? { diagnostics: r.diagnostics } : { valid, diagnostics: r.diagnostics };
}

function validateSpec(kind: Kind, name: string, spec: Record<string, unknown>, r: SpecReader): ValidObject | undefined {
  switch (kind) {
    case Kind.Listener: {
      const s = validateListener(spec, r);
      return s && { kind, name, spec: s };
    }
    case Kind.Route: {
      const s = validateRoute(spec, r);
      return s && { kind, name, spec: s };
    }
    case Kind.Service: {
      const s = validateService(spec, r);
      return s && { kind, name, spec: s };
    }
    case Kind.Tracing: {
      const s = validateTracing(spec, r);
      return s && { kind, name, spec: s };
    }
    case Kind.AccessLog: {
      const s = validateAccessLog(spec, r, name);
      return s && { kind, name, spec: s };
    }
    case Kind.NodeGroup: {
      const s = validateNodeGroup(spec, r);
      return s && { kind, name, spec: s };
    }
    case Kind.RawResource: {
      const s = validateRawResource(spec, r);
      return s && { kind, name, spec: s };
    }
    case Kind.Secret: {
      const s = validateSecret(spec, r);
      return s && { kind, name, spec: s };
    }
  }
}
