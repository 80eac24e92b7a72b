import { create, toBinary } from "@bufbuild/protobuf";
import { AnySchema, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ClientResourceStatus, UpdateFailureStateSchema } from "@ts-control-plane/envoy-api/envoy/admin/v3/config_dump_shared_pb";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import {
  ClientConfig_GenericXdsConfigSchema,
  ClientConfigSchema,
  ClientStatusResponseSchema,
  ConfigStatus,
  type ClientConfig,
  type ClientConfig_GenericXdsConfig,
  type ClientStatusRequest,
  type ClientStatusResponse,
} from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import type { ConfigWatcher, TypeResources } from "../cache/config-watcher.ts";
import type { NodeStatus, StatusRegistry, TypeStatus } from "../cache/node-status.ts";
import { wildcardName } from "../protocol/sotw-subscription.ts";
import { compileNodeMatchers } from "./csds-node-matcher.ts";
import type { CsdsResourceVersions } from "./csds-resource-versions.ts";

/** Where {@link buildCsdsResponse} and the CSDS service read what they report. */
export interface CsdsSources {
  /** What was sent, ACKed and NACKed, per node and type. */
  readonly status: StatusRegistry;
  /** Where the resources themselves are read, by each node's cache key. */
  readonly cache: ConfigWatcher;
  /**
   * Per-resource versions as Envoy reports them (see CsdsResourceVersions);
   * without it every resource reports its type's last sent version_info.
   */
  readonly resourceVersions?: CsdsResourceVersions;
  /**
   * Rewrites each resource before CSDS shows it, e.g. to replace private keys: CSDS answers
   * debugging tools, which must not receive what only a proxy needs. Gets the resource as
   * the cache holds it (encoded once, shared with xDS responses: never change `bytes` in
   * place) and returns the bytes to show. Absent: resources are shown as they are sent.
   */
  readonly redact?: CsdsRedact;
}

/** One resource as CSDS would show it, given to {@link CsdsSources.redact}. */
export interface CsdsResource {
  /** Its type URL, e.g. `type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret`. */
  readonly typeUrl: string;
  /** Its resource name. */
  readonly name: string;
  /** Its encoded protobuf bytes, as xDS sends them. */
  readonly bytes: Uint8Array;
}

/** Returns the bytes CSDS shows for a resource (see {@link CsdsSources.redact}). */
export type CsdsRedact = (resource: CsdsResource) => Uint8Array;

/**
 * The CSDS answer for a ClientStatusRequest, built from the control plane's own
 * records: one ClientConfig per known node (filtered by node_matchers, OR
 * semantics), with one generic_xds_config per resource the node subscribes to.
 *
 * This is the server's view, which is all a control plane can report: an ACK
 * means "accepted", not "serving" (a cluster may still be warming), and a
 * resource's contents are the cache's current ones, i.e. the latest config the
 * server holds for the node (what CSDS asks for, also for a NACKed one).
 *
 * Throws XdsError "invalid_argument" for node matchers it cannot evaluate.
 */
export function buildCsdsResponse(request: ClientStatusRequest, sources: CsdsSources): ClientStatusResponse {
  const config = selectNodes(request, sources).map((node) => clientConfigFor(node, request, sources));
  return create(ClientStatusResponseSchema, { config });
}

/**
 * How much one CSDS answer may carry (createCsdsService, XdsServerOptions.csds),
 * so that one FetchClientStatus over a large fleet cannot make the server
 * build, and the client receive, an unbounded message (issue 14). CSDS has no
 * paging; a request over a limit is refused with a message that says how to
 * ask in parts (node_matchers on node_id), never answered with a silent subset.
 */
export interface CsdsLimits {
  /** Most nodes (ClientConfig entries) in one response; default 1000. */
  readonly maxNodes?: number;
  /**
   * Most bytes of one encoded response; default 4 MiB, the receive limit gRPC
   * clients (grpcurl, buf curl, grpc-go) keep by default.
   */
  readonly maxResponseBytes?: number;
}

/** The default {@link CsdsLimits}. */
export const defaultCsdsLimits: Readonly<Required<CsdsLimits>> = { maxNodes: 1000, maxResponseBytes: 4 * 1024 * 1024 };

/** What {@link encodeCsdsResponse} answers: the encoded ClientStatusResponse, or why it was refused. */
export type CsdsAnswer =
  | {
      /** The encoded envoy.service.status.v3.ClientStatusResponse. */
      readonly bytes: Uint8Array;
    }
  | {
      /** Which limit the request ran into, and how to ask instead (for gRPC RESOURCE_EXHAUSTED). */
      readonly refused: string;
    };

/**
 * {@link buildCsdsResponse}, encoded, within {@link CsdsLimits}: each node's
 * ClientConfig is encoded as it is built and the response is their
 * concatenation (ClientStatusResponse is only `repeated ClientConfig config = 1`),
 * so a response over maxResponseBytes stops being built at the node that
 * passes the limit, and nothing is encoded twice.
 *
 * Throws XdsError "invalid_argument" for node matchers it cannot evaluate.
 */
export function encodeCsdsResponse(request: ClientStatusRequest, sources: CsdsSources, limits: CsdsLimits = {}): CsdsAnswer {
  const maxNodes = limits.maxNodes ?? defaultCsdsLimits.maxNodes;
  const maxBytes = limits.maxResponseBytes ?? defaultCsdsLimits.maxResponseBytes;
  const nodes = selectNodes(request, sources);
  const askInParts = "ask in parts with node_matchers on node_id (exact for one node, or one prefix or safe_regex at a time)";
  if (nodes.length > maxNodes) {
    return { refused: `${nodes.length} nodes match this ClientStatusRequest, over the limit of ${maxNodes} per response (maxNodes): ${askInParts}` };
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [i, node] of nodes.entries()) {
    const body = toBinary(ClientConfigSchema, clientConfigFor(node, request, sources));
    const head = lengthDelimitedHeader(1, body.length);
    total += head.length + body.length;
    if (total > maxBytes) {
      const contents = request.excludeResourceContents ? "" : "set exclude_resource_contents, or ";
      return {
        refused: `this ClientStatusResponse passes the limit of ${maxBytes} bytes (maxResponseBytes) at node ${i + 1} of ${nodes.length} (${JSON.stringify(node.nodeId)}): ${contents}${askInParts}`,
      };
    }
    parts.push(head, body);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes };
}

/** The known nodes the request's node_matchers select, sorted by node id; prunes CSDS versions of nodes status forgot. */
function selectNodes(request: ClientStatusRequest, sources: CsdsSources): NodeStatus[] {
  const matches = compileNodeMatchers(request.nodeMatchers);
  const nodes = sources.status.nodes();
  sources.resourceVersions?.retainOnly(new Set(nodes.map((n) => n.nodeId)));
  return nodes.filter((node) => matches({ id: node.nodeId }));
}

function clientConfigFor(node: NodeStatus, request: ClientStatusRequest, sources: CsdsSources): ClientConfig {
  const versionOf = (typeUrl: string, name: string) => sources.resourceVersions?.versionOf(node.nodeId, typeUrl, name);
  return clientConfigOf(node, sources.cache, { withContents: !request.excludeResourceContents, versionOf, ...(sources.redact ? { redact: sources.redact } : {}) });
}

/** The tag and length of a length-delimited field, as protobuf encodes them. */
function lengthDelimitedHeader(fieldNumber: number, length: number): Uint8Array {
  const out = [(fieldNumber << 3) | 2];
  let n = length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

interface ResourceOptions {
  readonly withContents: boolean;
  readonly versionOf: (typeUrl: string, name: string) => string | undefined;
  readonly redact?: CsdsRedact;
}

function clientConfigOf(node: NodeStatus, cache: ConfigWatcher, options: ResourceOptions): ClientConfig {
  const genericXdsConfigs: ClientConfig_GenericXdsConfig[] = [];
  for (const type of node.types) {
    const available = cache.get(node.cacheKey, type.typeUrl);
    for (const name of namesOf(type, available)) {
      genericXdsConfigs.push(resourceConfigOf(type, name, available, options));
    }
  }
  // The node as it introduced itself (metadata included), so tools can tell nodes apart.
  return create(ClientConfigSchema, { node: node.node ?? create(NodeSchema, { id: node.nodeId, cluster: node.nodeCluster }), genericXdsConfigs });
}

/**
 * The resource names to report for a type: those the node asked for by name,
 * plus, for a wildcard subscription, every resource the cache holds for it.
 */
function namesOf(type: TypeStatus, available: TypeResources | undefined): string[] {
  const names = new Set(type.subscribed.filter((n) => n !== wildcardName));
  if (type.subscribed.includes(wildcardName) && available) for (const n of available.items.keys()) names.add(n);
  return [...names].sort();
}

function resourceConfigOf(
  type: TypeStatus,
  name: string,
  available: TypeResources | undefined,
  options: ResourceOptions,
): ClientConfig_GenericXdsConfig {
  const resource = available?.items.get(name);
  const sent = type.sentVersion !== undefined;
  const acked = sent && type.ackedVersion === type.sentVersion;
  return create(ClientConfig_GenericXdsConfigSchema, {
    typeUrl: type.typeUrl,
    name,
    // SotW versions are per type; Envoy shows each resource with the version
    // that last changed it, which the resource-version record knows when given.
    versionInfo: (resource && options.versionOf(type.typeUrl, name)) ?? type.sentVersion ?? "",
    ...(resource && options.withContents
      ? { xdsConfig: create(AnySchema, { typeUrl: resource.typeUrl, value: options.redact ? options.redact({ typeUrl: resource.typeUrl, name, bytes: resource.bytes }) : resource.bytes }) }
      : {}),
    ...(type.sentAt ? { lastUpdated: timestampFromDate(type.sentAt) } : {}),
    configStatus: type.nacked ? ConfigStatus.ERROR : !sent ? ConfigStatus.NOT_SENT : acked ? ConfigStatus.SYNCED : ConfigStatus.STALE,
    clientStatus: clientStatusOf(type, { exists: resource !== undefined, acked, sent }),
    ...(type.nacked && type.lastNack
      ? {
          errorState: create(UpdateFailureStateSchema, {
            details: type.lastNack.message,
            versionInfo: type.lastNack.version,
            lastUpdateAttempt: timestampFromDate(type.lastNack.at),
          }),
        }
      : {}),
  });
}

/**
 * The client's side as far as the server can tell. A named resource the
 * server has already answered without is DOES_NOT_EXIST (xDS: the client then
 * knows it is absent); before any answer it is only REQUESTED.
 */
function clientStatusOf(type: TypeStatus, facts: { exists: boolean; acked: boolean; sent: boolean }): ClientResourceStatus {
  if (!facts.exists) return facts.sent ? ClientResourceStatus.DOES_NOT_EXIST : ClientResourceStatus.REQUESTED;
  if (type.nacked) return ClientResourceStatus.NACKED;
  return facts.acked ? ClientResourceStatus.ACKED : ClientResourceStatus.REQUESTED;
}
