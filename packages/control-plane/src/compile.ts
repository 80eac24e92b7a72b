import type { Message } from "@bufbuild/protobuf";
import type { Diagnostic, ModelObject } from "./model/model-object.ts";
import { objectKey } from "./model/model-object.ts";
import { validateObject } from "./model/validate-object.ts";

/** Which Envoys a node group is for. Every field given must match (AND); within a list, any item (OR). */
export interface NodeSelector {
  nodeIds?: string[];
  clusters?: string[];
  metadata?: Record<string, string>;
}

export interface NodeGroupConfig {
  name: string;
  selector: NodeSelector;
  /** Typed protobuf-es Envoy messages, sorted (ADS push order, then name), with stable names. */
  resources: Message[];
  /** objectKeys that contributed. */
  objects: string[];
}

export interface CompileResult {
  diagnostics: Diagnostic[];
  /** objectKeys refused. */
  rejected: string[];
  groups: NodeGroupConfig[];
}

/** PROVISIONAL: validates objects only; translation lands next. */
export function compile(objects: readonly ModelObject[]): CompileResult {
  const diagnostics: Diagnostic[] = [];
  const rejected: string[] = [];
  for (const o of objects) {
    const v = validateObject(o);
    diagnostics.push(...v.diagnostics);
    if (v.valid === undefined) rejected.push(objectKey(o));
  }
  return { diagnostics, rejected: rejected.sort(), groups: [{ name: "default", selector: {}, resources: [], objects: [] }] };
}

export function matchNodeGroup(groups: readonly NodeGroupConfig[], node: { id: string; cluster: string; metadata?: Record<string, unknown> }): string | undefined {
  for (const g of groups) {
    const s = g.selector;
    if (s.nodeIds !== undefined && !s.nodeIds.includes(node.id)) continue;
    if (s.clusters !== undefined && !s.clusters.includes(node.cluster)) continue;
    if (s.metadata !== undefined && !Object.entries(s.metadata).every(([k, v]) => node.metadata?.[k] === v)) continue;
    return g.name;
  }
  return undefined;
}
