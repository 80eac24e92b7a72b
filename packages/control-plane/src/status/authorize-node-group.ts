import type { XdsAuthorize } from "@ts-control-plane/xds";
import type { NodeGroupConfig } from "../compile.ts";
import type { NodeRefusals } from "./node-refusals.ts";

/** What {@link authorizeNodeGroup} needs: the groups now served and how a node maps to one. */
export interface AuthorizeNodeGroupOptions {
  /** The node groups of the configuration served now. */
  readonly groups: () => readonly NodeGroupConfig[];
  /** The group a node's id / cluster / metadata maps to (graph/assign-groups.ts order); undefined for none. */
  readonly groupOf: (node: { id: string; cluster: string; metadata?: Readonly<Record<string, unknown>> | undefined }) => string | undefined;
  readonly refusals: NodeRefusals;
  readonly log: (line: string) => void;
}

/** A verified client certificate's identity as refusals name it. */
export function describePeerIdentity(peer: { readonly identity: string }): string {
  return peer.identity === "" ? "a certificate with no URI SAN, DNS SAN or CN" : `identity ${JSON.stringify(peer.identity)}`;
}

/**
 * The xDS server's `authorize` for the control plane: with mTLS, a proxy may
 * connect as a node group only with a certificate identity that group's
 * `identities` lists. A group without `identities`, a node matching no group
 * (it gets nothing anyway) and plaintext or server-only TLS (no verified peer)
 * are allowed. Each refusal is logged and recorded per node id for status.
 */
export function authorizeNodeGroup(options: AuthorizeNodeGroupOptions): XdsAuthorize {
  return (node, peer) => {
    if (peer === undefined) return { allowed: true };
    const group = options.groupOf({ id: node.id, cluster: node.cluster, metadata: node.metadata });
    // A node matching no group has no entry here: it is allowed and gets nothing.
    const allowed = options.groups().find((g) => g.name === group)?.identities;
    if (allowed === undefined || allowed.includes(peer.identity)) {
      options.refusals.clear(node.id);
      return { allowed: true };
    }
    const reason = `${describePeerIdentity(peer)} may not connect as node ${JSON.stringify(node.id)} of node group ${JSON.stringify(group)}: add it to the NodeGroup's spec.identities, or give the proxy a certificate that group allows`;
    const entry = options.refusals.record({ nodeId: node.id, cluster: node.cluster, group: options.groups().some((g) => g.name === group) ? (group ?? null) : null, identity: peer.identity, fingerprint256: peer.fingerprint256, reason });
    options.log(`xDS refused node ${node.id} (cluster ${JSON.stringify(node.cluster)}, certificate ${peer.fingerprint256}), ${entry.count} time(s): ${reason}`);
    return { allowed: false, reason };
  };
}
