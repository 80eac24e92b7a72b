/** Name and labels of a declarative object, as written under `metadata`. */
export interface ObjectMeta {
  name: string;
  labels?: Record<string, string>;
}

/** One declarative object as parsed from YAML or received from the API, not yet validated. */
export interface ModelObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Record<string, unknown>;
}

/** Where something was written: file, 1-based line and column. */
export interface SourceRef {
  file?: string;
  line?: number;
  column?: number;
}

/**
 * A problem in the operator's configuration. Never thrown: user config problems
 * are data, with the field path and a hint naming the fix (docs/architecture.md § Naming and style).
 */
export interface Diagnostic {
  severity: "error" | "warning";
  /** Stable machine-readable code, e.g. "ref.not_found". */
  code: string;
  message: string;
  hint?: string;
  /** "Kind/name" of the object the problem is in. */
  object?: string;
  /** Field path inside the object, e.g. "spec.routes[0].backends[1].weight". */
  path?: string;
  source?: SourceRef;
}

/** The identity of an object across the whole configuration: "Kind/name". */
export const objectKey = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`;
