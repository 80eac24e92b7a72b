import type { PathSegment } from "./field-path.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { nodeGroupSchema } from "./schema/node-group-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const fields = schemaFields(nodeGroupSchema);
const selectorFields = schemaFields(nodeGroupSchema, "selector");

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
  /**
   * Client certificate identities that may connect as a node of this group
   * when the xDS server requires client certificates (mTLS): a URI SAN as
   * written (`spiffe://example.org/ns/edge/sa/envoy`), `dns:` + a DNS SAN, or
   * `cn:` + a subject common name. A certificate's identity is its first URI
   * SAN, else its first DNS SAN, else its CN. Absent: any certificate the
   * client CA verified. Sorted, deduplicated.
   */
  identities?: string[];
}

/** Why an identity is not one a certificate can have; undefined when it is well formed. */
export function identityProblem(identity: string): string | undefined {
  if (identity.startsWith("dns:")) return /^dns:[^\s]+$/.test(identity) ? undefined : "a DNS name must follow dns: and has no spaces";
  if (identity.startsWith("cn:")) return identity.length > 3 ? undefined : "a common name must follow cn:";
  if (/^[a-z][a-z0-9+.-]*:\/\/./i.test(identity)) return undefined;
  return "it is neither a URI SAN (scheme://...), dns:NAME nor cn:NAME";
}

export function validateNodeGroup(spec: Record<string, unknown>, r: SpecReader): NodeGroupSpec | undefined {
  const path: PathSegment[] = ["spec"];
  const rec = r.mapping(spec, path, fields);
  if (rec === undefined) return undefined;
  const selector: NodeSelectorSpec = {};
  if (rec["selector"] === undefined) {
    r.error([...path, "selector"], "schema.required", "selector is required", "set selector.nodeIds, selector.clusters or selector.metadata; use selector: {} to match every node");
  } else {
    const sp = [...path, "selector"];
    const s = r.mapping(rec["selector"], sp, selectorFields);
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
  const identities = r.stringList(rec, "identities", path, { minItems: 1 });
  identities?.forEach((identity, i) => {
    const problem = identityProblem(identity);
    if (problem !== undefined) {
      r.error([...path, "identities", i], "nodeGroup.identity", `identity ${JSON.stringify(identity)} is not valid: ${problem}`, `write a URI SAN such as "spiffe://example.org/ns/edge/sa/envoy", "dns:edge.example.org" or "cn:edge"`);
    }
  });
  if (r.failed) return undefined;
  const out: NodeGroupSpec = { selector };
  // As written, so that diagnostics on references can name the index.
  if (listeners !== undefined) out.listeners = listeners;
  if (rawResources !== undefined) out.rawResources = rawResources;
  if (identities !== undefined) out.identities = [...new Set(identities)].sort();
  return out;
}
