/**
 * Per-Envoy (node id) xDS status, kept from the library's server hooks. The
 * library keys its own status by cache key (our node group); operators ask
 * about one proxy, so this tracker follows each stream's node id instead.
 *
 * Event shapes are read structurally: only the fields below are relied upon.
 */
export interface HookEvent {
  readonly streamId: string | number;
  readonly nodeId?: string;
  readonly typeUrl?: string;
  readonly node?: { readonly id: string; readonly cluster: string; readonly metadata?: Readonly<Record<string, unknown>> | undefined } | undefined;
  readonly version?: string;
  readonly nonce?: string;
  readonly message?: string;
  /** The snapshot cache key the stream follows (our node group); it changes when the stream is re-keyed. */
  readonly cacheKey?: string;
}

export interface ProxyNack {
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: Date;
}

export interface ProxyTypeStatus {
  readonly typeUrl: string;
  sentVersion?: string;
  sentNonce?: string;
  sentAt?: Date;
  ackedVersion?: string;
  ackedAt?: Date;
  lastNack?: ProxyNack;
  responses: number;
  nacks: number;
}

export interface ProxyStatus {
  readonly nodeId: string;
  cluster: string;
  metadata: Readonly<Record<string, unknown>>;
  /** The cache key of its latest stream: the node group whose snapshot it actually follows. */
  cacheKey?: string;
  streams: number;
  firstSeen: Date;
  lastSeen: Date;
  readonly types: Map<string, ProxyTypeStatus>;
}

export interface ProxyStatusHooks {
  onStreamOpen(event: HookEvent): void;
  /** A connected stream moved to another node group (its selectors changed). */
  onStreamRekey(event: HookEvent): void;
  onStreamClose(event: HookEvent): void;
  onRequest(event: HookEvent): void;
  onResponse(event: HookEvent): void;
  onAck(event: HookEvent): void;
  onNack(event: HookEvent): void;
}

export interface ProxyStatusTracker {
  readonly hooks: ProxyStatusHooks;
  proxies(): ProxyStatus[];
  proxy(nodeId: string): ProxyStatus | undefined;
}

export interface ProxyStatusTrackerOptions {
  /** Called once per NACK, after the status is updated (main logs it). */
  readonly onNack?: (proxy: ProxyStatus, typeUrl: string, nack: ProxyNack) => void;
  readonly now?: () => Date;
  /** Disconnected proxies are forgotten after this long (1 hour by default), so node id churn cannot grow memory forever. */
  readonly forgetAfterMs?: number;
}

export function createProxyStatusTracker(options: ProxyStatusTrackerOptions = {}): ProxyStatusTracker {
  const now = options.now ?? (() => new Date());
  const byNode = new Map<string, ProxyStatus>();
  const streamNode = new Map<string, string>();
  const openStreams = new Set<string>();

  const nodeIdOf = (event: HookEvent): string | undefined =>
    event.node?.id || event.nodeId || streamNode.get(String(event.streamId));

  function touch(event: HookEvent): ProxyStatus | undefined {
    const nodeId = nodeIdOf(event);
    if (nodeId === undefined || nodeId === "") return undefined;
    const streamId = String(event.streamId);
    streamNode.set(streamId, nodeId);
    let proxy = byNode.get(nodeId);
    if (proxy === undefined) {
      proxy = { nodeId, cluster: "", metadata: {}, streams: 0, firstSeen: now(), lastSeen: now(), types: new Map() };
      byNode.set(nodeId, proxy);
    }
    if (event.node !== undefined) {
      proxy.cluster = event.node.cluster;
      proxy.metadata = event.node.metadata ?? {};
    }
    if (event.cacheKey !== undefined) proxy.cacheKey = event.cacheKey;
    // Some transports may report the first request before (or instead of) the open.
    if (!openStreams.has(streamId)) {
      openStreams.add(streamId);
      proxy.streams++;
    }
    proxy.lastSeen = now();
    return proxy;
  }

  function typeOf(proxy: ProxyStatus, typeUrl: string | undefined): ProxyTypeStatus | undefined {
    if (typeUrl === undefined || typeUrl === "") return undefined;
    let t = proxy.types.get(typeUrl);
    if (t === undefined) {
      t = { typeUrl, responses: 0, nacks: 0 };
      proxy.types.set(typeUrl, t);
    }
    return t;
  }

  const hooks: ProxyStatusHooks = {
    onStreamOpen(event) {
      touch(event);
    },
    onStreamRekey(event) {
      touch(event);
    },
    onStreamClose(event) {
      const streamId = String(event.streamId);
      const nodeId = nodeIdOf(event);
      streamNode.delete(streamId);
      if (!openStreams.delete(streamId)) return;
      const proxy = nodeId === undefined ? undefined : byNode.get(nodeId);
      if (proxy !== undefined) {
        proxy.streams = Math.max(0, proxy.streams - 1);
        proxy.lastSeen = now();
      }
    },
    onRequest(event) {
      const proxy = touch(event);
      if (proxy !== undefined) typeOf(proxy, event.typeUrl);
    },
    onResponse(event) {
      const proxy = touch(event);
      const t = proxy && typeOf(proxy, event.typeUrl);
      if (t === undefined) return;
      if (event.version !== undefined) t.sentVersion = event.version;
      if (event.nonce !== undefined) t.sentNonce = event.nonce;
      t.sentAt = now();
      t.responses++;
    },
    onAck(event) {
      const proxy = touch(event);
      const t = proxy && typeOf(proxy, event.typeUrl);
      if (t === undefined) return;
      if (event.version !== undefined) t.ackedVersion = event.version;
      t.ackedAt = now();
    },
    onNack(event) {
      const proxy = touch(event);
      const t = proxy && typeOf(proxy, event.typeUrl);
      if (proxy === undefined || t === undefined) return;
      // A NACK echoes the last *accepted* version; the rejected one is what we sent with that nonce.
      const nack: ProxyNack = {
        version: event.version ?? "",
        nonce: event.nonce ?? "",
        message: event.message ?? "",
        at: now(),
      };
      t.lastNack = nack;
      t.nacks++;
      options.onNack?.(proxy, t.typeUrl, nack);
    },
  };

  const forgetAfterMs = options.forgetAfterMs ?? 3_600_000;
  const prune = () => {
    const limit = now().getTime() - forgetAfterMs;
    for (const [id, p] of byNode) if (p.streams === 0 && p.lastSeen.getTime() < limit) byNode.delete(id);
  };

  return {
    hooks,
    proxies: () => {
      prune();
      return [...byNode.values()].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    },
    proxy: (nodeId) => byNode.get(nodeId),
  };
}
