import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";

/** Which Envoys a group is for. Every field given must match (AND); within a list, any item (OR). */
export interface NodeSelectorSpec {
  nodeIds?: string[];
  clusters?: string[];
  metadata?: Record<string, string>;
}

export interface NodeGroupSpec {
  selector: NodeSelectorSpec;
  /** Listeners (names, as written) this group serves, with everything they reference; every listener when absent. */
  listeners?: string[];
  /** RawResources this group serves; every raw resource when absent. */
  rawResources?: string[];
}

export function validateNodeGroup(spec: Record<string, unknown>, r: SpecReader): NodeGroupSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, ["selector", "listeners", "rawResources"]);
  if (rec === undefined) return undefined;
  const selector: NodeSelectorSpec = {};
  if (rec["selector"] === undefined) {
    r.error([...path, "selector"], "schema.required", "selector is required", "set selector.nodeIds, selector.clusters or selector.metadata; use selector: {} to match every node");
  } else {
    const sp = [...path, "selector"];
    const s = r.mapping(rec["selector"], sp, ["nodeIds", "clusters", "metadata"]);
    if (s !== undefined) {
      const nodeIds = r.stringList(s, "nodeIds", sp, { minItems: 1 });
      const clusters = r.stringList(s, "clusters", sp, { minItems: 1 });
      const metadata = r.stringMap(s, "metadata", sp);
      if (nodeIds !== undefined) selector.nodeIds = [...new Set(nodeIds)].sort();
      if (clusters !== undefined) selector.clusters = [...new Set(clusters)].sort();
      if (metadata !== undefined) selector.metadata = metadata;
    }
  }
  const listeners = r.stringList(rec, "listeners", path);
  const rawResources = r.stringList(rec, "rawResources", path);
  if (r.failed) return undefined;
  const out: NodeGroupSpec = { selector };
  // As written, so that diagnostics on references can name the index.
  if (listeners !== undefined) out.listeners = listeners;
  if (rawResources !== undefined) out.rawResources = rawResources;
  return out;
}
