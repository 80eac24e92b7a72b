import { randomUUID } from "node:crypto";
import type { DiscoveryRequest } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import type { ConfigWatcher, TypeResources } from "../cache/config-watcher.ts";
import type { StatusRegistry } from "../cache/node-status.ts";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { resourceType } from "../resource/resource-types.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import { selectSotw, shouldRespondSotw, type SotwSelection } from "../protocol/sotw-selection.ts";
import { applySotwRequest } from "../protocol/sotw-subscription.ts";
import type { CsdsResourceVersions } from "./csds-resource-versions.ts";

export interface RestFetcherOptions {
  readonly cache: ConfigWatcher;
  /** Updated with what each node was sent, and what it ACKed or NACKed, as far as REST tells. */
  readonly status?: StatusRegistry;
  /** Per-resource versions for CSDS, when CSDS is served too. */
  readonly resourceVersions?: CsdsResourceVersions;
  /**
   * How many (node, type) pairs the fetcher remembers its last answer for; the
   * oldest is forgotten beyond it (such a client just gets a full answer next time).
   * Default 65536.
   */
  readonly maxTrackedClients?: number;
  /**
   * After a NACK, the rejected set is withheld (answered 304) for this long,
   * then offered once more: a backoff, not a resend on every poll. Over REST a
   * "NACK" may be inferred from a lost answer, which the retry repairs.
   * Default 15 s.
   */
  readonly nackRetryMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** What to answer one REST DiscoveryRequest. */
export type RestFetchResult =
  | { readonly kind: "response"; readonly typeUrl: string; readonly source: TypeResources; readonly selection: SotwSelection; readonly nonce: string }
  /** HTTP 304: nothing new for this client (Envoy then keeps what it has and polls again). */
  | { readonly kind: "not_modified" };

/** The last answer given to one node for one type: REST has no stream to hold it. */
interface LastAnswer {
  readonly nonce: string;
  readonly version: string;
  readonly sent: readonly EncodedResource[];
  /** The version_info the client had when it was given this answer. */
  readonly clientVersionBefore: string;
  /** Whether the client's ACK or NACK of it was already recorded (Envoy repeats it on every poll). */
  answered: boolean;
  /** When the NACK of this answer was recorded. */
  nackedAt?: number;
}

export interface RestFetcher {
  /**
   * Answers a request for the type of its path. Throws XdsError
   * "invalid_argument" when the request cannot be served (no node, a type_url
   * that contradicts the path, an unknown type).
   */
  fetch(typeUrl: string, request: DiscoveryRequest): RestFetchResult;
}

/**
 * SotW semantics over stateless REST polling (Envoy's api_type REST): every
 * request carries the node and the full list of names, so selection is the SotW
 * one applied afresh; what a stream would remember (the last answer) is kept
 * per node and type, so that an unchanged set is answered 304, and a NACKed
 * set is not sent again on every poll (docs/xds-protocol.md § ACK and NACK: do not resend
 * the same bytes in a loop).
 */
export function createRestFetcher(options: RestFetcherOptions): RestFetcher {
  const last = new Map<string, LastAnswer>();
  const maxTracked = options.maxTrackedClients ?? 65536;
  // Nonces are unique per gateway instance, so replicas behind one address
  // never mistake each other's nonces for their own.
  const instance = randomUUID().slice(0, 8);
  let nonceCounter = 0;
  const now = options.now ?? Date.now;
  const nackRetryMs = options.nackRetryMs ?? 15_000;

  return {
    fetch(typeUrl, request) {
      const type = resourceType(typeUrl);
      if (!type) throw new XdsError(XdsErrorCode.InvalidArgument, `unknown resource type ${typeUrl}`);
      if (request.typeUrl !== "" && request.typeUrl !== typeUrl) {
        throw new XdsError(XdsErrorCode.InvalidArgument, `type_url ${request.typeUrl} does not match this path, which serves ${typeUrl}`);
      }
      const node = request.node;
      // Every REST request stands alone, so each must say who asks (Envoy sends node every time).
      if (!node || node.id === "") throw new XdsError(XdsErrorCode.InvalidArgument, "a REST DiscoveryRequest must carry node with a non-empty id");
      const key = options.cache.keyOf(node);
      const status = options.status;
      if (status) {
        // No stream to open: a poll records the node, its cluster and cache key for CSDS.
        status.seen(node, key);
      }

      const stateKey = `${node.id}\u0000${typeUrl}`;
      const previous = last.get(stateKey);
      const answer = previous === undefined ? undefined : answerTo(request, previous);
      if (previous && answer && !previous.answered) {
        previous.answered = true;
        if (answer === "ack") {
          status?.acked(node.id, typeUrl, request.versionInfo);
        } else {
          previous.nackedAt = now();
          const message =
            request.errorDetail?.message ??
            `the client asked again with version '${request.versionInfo}' instead of '${previous.version}': it did not apply '${previous.version}' (REST requests carry no error_detail; the client's log says why)`;
          status?.nacked(node.id, typeUrl, { version: previous.version, nonce: previous.nonce, message, code: request.errorDetail?.code ?? 0 });
        }
      }

      const subscription = applySotwRequest(undefined, request.resourceNames, { fullState: type.fullState });
      status?.subscribed(node.id, typeUrl, subscription.wildcard ? ["*", ...subscription.names] : [...subscription.names]);
      const available = options.cache.get(key, typeUrl);
      // Nothing for this node yet: like a stream's request, it waits (here: polls again).
      if (!available) return { kind: "not_modified" };
      const selection = selectSotw(available, subscription);

      let respond: boolean;
      if (previous && answer === "nack" && previous.nackedAt !== undefined && now() - previous.nackedAt >= nackRetryMs) {
        // Backoff over: offer the set once more, as to a new client.
        respond = type.fullState || selection.resources.length > 0;
      } else if (previous && answer) {
        respond = shouldRespondSotw({ fullState: type.fullState, selection, lastSent: previous.sent, initial: false });
      } else if (subscription.wildcard && request.versionInfo !== "" && request.versionInfo === selection.version) {
        // The client already holds this version of the whole type (e.g. asked a restarted gateway).
        respond = false;
      } else {
        respond = type.fullState || selection.resources.length > 0;
      }
      if (!respond) return { kind: "not_modified" };

      const nonce = `${instance}-${++nonceCounter}`;
      last.delete(stateKey); // re-insert: Map order is the eviction order
      last.set(stateKey, { nonce, version: selection.version, sent: selection.resources, clientVersionBefore: request.versionInfo, answered: false });
      if (last.size > maxTracked) {
        const oldest = last.keys().next();
        if (!oldest.done) last.delete(oldest.value);
      }
      status?.sent(node.id, typeUrl, selection.version, nonce);
      options.resourceVersions?.recordSent({ nodeId: node.id, typeUrl, versionInfo: selection.version, resources: selection.resources });
      return { kind: "response", typeUrl, source: available, selection, nonce };
    },
  };
}

/**
 * How a request answers the last response given to its client, if it does.
 * By nonce when the client echoes one. Envoy's REST client does not: it sends
 * the version it has applied and nothing else, not even error_detail when it
 * rejects an answer. So, without a nonce: echoing the version sent is an ACK;
 * error_detail is a NACK; and asking again with exactly the version it had
 * before the answer means the answer was not applied: a NACK as far as REST
 * can tell (or a lost answer, which the NACK backoff's retry repairs).
 * An empty version is never taken for a NACK: that is how a restarted Envoy
 * asks, and it must be answered at once, not after a backoff.
 */
function answerTo(request: DiscoveryRequest, previous: LastAnswer): "ack" | "nack" | undefined {
  if (request.responseNonce !== "") {
    if (request.responseNonce !== previous.nonce) return undefined;
    return request.errorDetail ? "nack" : "ack";
  }
  if (request.versionInfo !== "" && request.versionInfo === previous.version) return "ack";
  if (request.errorDetail) return "nack";
  return request.versionInfo !== "" && request.versionInfo === previous.clientVersionBefore ? "nack" : undefined;
}
