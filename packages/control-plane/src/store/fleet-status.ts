import type { NodeStatus, TypeStatus } from "@ts-control-plane/xds";
import pg from "pg";
import { redactStoreUrl } from "./postgres-store.ts";
import { readSingletonHolders, type SingletonHolder } from "./singleton-lease.ts";
import { StoreError, StoreErrorCode } from "./store-error.ts";

export interface FleetStatusOptions {
  /** The shared store's `postgres://` URL. */
  readonly url: string;
  /** This replica's identifier (`--replica-id`; what Envoy sees as `control_plane.identifier`). */
  readonly replicaId: string;
  /** The proxies connected to this replica (`server.status.nodes()`). */
  readonly proxies: () => readonly NodeStatus[];
  /** A replica whose lease was not renewed for this long is dead: its proxies leave the view. Default 15,000. */
  readonly leaseMs?: number;
  /** How often the lease is renewed (and everything unwritten is written). Default 5,000; must be below leaseMs. */
  readonly renewMs?: number;
  /** Changes are written this long after the first of them, batched (never one write per ACK). Default 250. */
  readonly flushMs?: number;
  /** How often the other replicas' proxies are read. Default 1,000. */
  readonly refreshMs?: number;
  readonly log?: (line: string, fields?: { level?: "info" | "warn" | "error" }) => void;
}

/** One proxy of the fleet and the replica that serves it. */
export interface FleetProxy {
  readonly replica: string;
  readonly proxy: NodeStatus;
}

/** A replica whose lease is live. */
export interface FleetReplica {
  readonly id: string;
  readonly renewedAt: string;
  readonly expiresAt: string;
  /** Proxies it recorded (connected or not). */
  readonly proxies: number;
}

export interface FleetStatus {
  /** Something in this replica's status changed: written within flushMs, together with whatever else changes meanwhile. */
  changed(): void;
  /**
   * Every proxy of every live replica, this one's read live; a node id recorded by several replicas
   * shows once (see newestRecord). When the database could not be read for a lease, this replica's only.
   */
  proxies(): readonly FleetProxy[];
  /** Live replicas, by id (this one included once it has written its lease); none while the database could not be read for a lease. */
  replicas(): readonly FleetReplica[];
  /** Singleton work and the replica that holds it (singleton-lease.ts). */
  singletons(): readonly SingletonHolder[];
  /** Called when the other replicas' proxies or the lease table changed. */
  onChange(listener: () => void): () => void;
  /** Writes now what is pending (tests, shutdown). */
  flush(): Promise<void>;
  /**
   * Stops. By default the lease and this replica's proxies are deleted, so they leave every
   * replica's view at once; `{ release: false }` leaves them to expire, as a crash does.
   */
  close(options?: { readonly release?: boolean }): Promise<void>;
}

/** NodeStatus as stored: dates as ISO strings, without the node's metadata (kept off the database, as the slim disconnected record: issue 14). */
type StoredType = Omit<TypeStatus, "sentAt" | "ackedAt" | "lastNack" | "error"> & {
  sentAt?: string;
  ackedAt?: string;
  lastNack?: Omit<NonNullable<TypeStatus["lastNack"]>, "at"> & { at: string };
  error?: Omit<NonNullable<TypeStatus["error"]>, "at"> & { at: string };
};
type StoredNode = Omit<NodeStatus, "node" | "firstSeenAt" | "connectedAt" | "lastSeenAt" | "types"> & {
  firstSeenAt: string;
  connectedAt?: string;
  lastSeenAt: string;
  types: StoredType[];
};

export function encodeNodeStatus(s: NodeStatus): string {
  const stored: StoredNode = {
    nodeId: s.nodeId,
    nodeCluster: s.nodeCluster,
    cacheKey: s.cacheKey,
    streams: s.streams,
    firstSeenAt: s.firstSeenAt.toISOString(),
    ...(s.connectedAt === undefined ? {} : { connectedAt: s.connectedAt.toISOString() }),
    lastSeenAt: s.lastSeenAt.toISOString(),
    types: s.types.map(({ sentAt, ackedAt, lastNack, error, ...t }) => ({
      ...t,
      ...(sentAt === undefined ? {} : { sentAt: sentAt.toISOString() }),
      ...(ackedAt === undefined ? {} : { ackedAt: ackedAt.toISOString() }),
      ...(lastNack === undefined ? {} : { lastNack: { ...lastNack, at: lastNack.at.toISOString() } }),
      ...(error === undefined ? {} : { error: { ...error, at: error.at.toISOString() } }),
    })),
  };
  return JSON.stringify(stored);
}

export function decodeNodeStatus(text: string): NodeStatus {
  const s = JSON.parse(text) as StoredNode;
  return {
    nodeId: s.nodeId,
    nodeCluster: s.nodeCluster,
    cacheKey: s.cacheKey,
    streams: s.streams,
    firstSeenAt: new Date(s.firstSeenAt),
    ...(s.connectedAt === undefined ? {} : { connectedAt: new Date(s.connectedAt) }),
    lastSeenAt: new Date(s.lastSeenAt),
    types: s.types.map(({ sentAt, ackedAt, lastNack, error, ...t }) => ({
      ...t,
      ...(sentAt === undefined ? {} : { sentAt: new Date(sentAt) }),
      ...(ackedAt === undefined ? {} : { ackedAt: new Date(ackedAt) }),
      ...(lastNack === undefined ? {} : { lastNack: { ...lastNack, at: new Date(lastNack.at) } }),
      ...(error === undefined ? {} : { error: { ...error, at: new Date(error.at) } }),
    })),
  };
}

/**
 * Which of two records of one node id to show: a connected one over a disconnected one (the
 * replica it left keeps its record until forgotten), then the one seen last. So a proxy that
 * reconnected elsewhere shows under its new replica.
 */
export function newestRecord(a: FleetProxy, b: FleetProxy): FleetProxy {
  const ac = a.proxy.streams > 0;
  const bc = b.proxy.streams > 0;
  if (ac !== bc) return ac ? a : b;
  return b.proxy.lastSeenAt.getTime() > a.proxy.lastSeenAt.getTime() ? b : a;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A replica's lease on the fleet view when not set (`--replica-lease-ms`, `--replica-renew-ms`): renewed every 5 s, expiring after 15 s. */
export const defaultReplicaLease = { leaseMs: 15_000, renewMs: 5_000 } as const;

/**
 * The fleet-wide status on PostgreSQL (issue 10 item 4). Each replica writes its proxies' status
 * to `replica_proxies` (batched: what changed since the last write, at most every flushMs) under
 * a lease in `replica_leases` that it renews every renewMs; it reads the other replicas' rows
 * every refreshMs, only those whose `updated_at` moved. Rows of a replica whose lease expired
 * are not read: a dead replica's proxies leave the view leaseMs after its last renewal.
 */
export async function startFleetStatus(options: FleetStatusOptions): Promise<FleetStatus> {
  const leaseMs = options.leaseMs ?? defaultReplicaLease.leaseMs;
  const renewMs = options.renewMs ?? defaultReplicaLease.renewMs;
  const flushMs = options.flushMs ?? 250;
  const refreshMs = options.refreshMs ?? 1_000;
  if (!(renewMs > 0 && renewMs < leaseMs)) {
    throw new StoreError(StoreErrorCode.InvalidArgument, `the lease renewal (${renewMs} ms) must be shorter than the lease (${leaseMs} ms), or the lease expires between renewals`);
  }
  const log = options.log ?? (() => {});
  const location = redactStoreUrl(options.url);
  const self = options.replicaId;
  const pool = new pg.Pool({ connectionString: options.url, max: 2, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 10_000, application_name: `tcp-fleet:${self}` });
  // A PostgreSQL restart reports here (idle clients) and on each client (checked out: an 'error'
  // event without a listener would crash the process) instead; the failed query fails the write, the next renewal retries.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  /** What this replica last wrote, per node id; cleared when its rows may be gone (a lapsed lease). */
  let written = new Map<string, string>();
  let remote = new Map<string, { replica: string; updatedAt: string; proxy: NodeStatus }>();
  let replicas: FleetReplica[] = [];
  let singletons: SingletonHolder[] = [];
  /** When the other replicas were last read: a view older than a lease (the database unreachable) is not shown. */
  let readAt = 0;
  const current = (): boolean => Date.now() - readAt <= leaseMs;
  const listeners = new Set<() => void>();
  let closed = false;
  let failing = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  async function write(): Promise<void> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      // The lease first: when it had lapsed (or this is our first write), other replicas have
      // stopped reading our rows and may have deleted them; start over with every proxy.
      const lease = await client.query<{ live: boolean | null }>(
        `WITH old AS (SELECT expires_at > now() AS live FROM replica_leases WHERE replica_id = $1)
         INSERT INTO replica_leases (replica_id, renewed_at, expires_at) VALUES ($1, now(), now() + $2 * interval '1 millisecond')
         ON CONFLICT (replica_id) DO UPDATE SET renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
         RETURNING (SELECT live FROM old) AS live`,
        [self, leaseMs],
      );
      let base = written;
      if (lease.rows[0]?.live !== true || base.size === 0) {
        await client.query("DELETE FROM replica_proxies WHERE replica_id = $1", [self]);
        base = new Map();
      }
      const now = new Map(options.proxies().map((p) => [p.nodeId, encodeNodeStatus(p)]));
      const upserts = [...now].filter(([id, text]) => base.get(id) !== text);
      const gone = [...base.keys()].filter((id) => !now.has(id));
      if (upserts.length > 0) {
        await client.query(
          `INSERT INTO replica_proxies (replica_id, node_id, status, updated_at) SELECT $1, n, s, clock_timestamp() FROM unnest($2::text[], $3::text[]) AS t(n, s)
           ON CONFLICT (replica_id, node_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
          [self, upserts.map(([id]) => id), upserts.map(([, text]) => text)],
        );
      }
      if (gone.length > 0) await client.query("DELETE FROM replica_proxies WHERE replica_id = $1 AND node_id = ANY($2::text[])", [self, gone]);
      await client.query("COMMIT");
      written = now;
      if (failing) log(`fleet status: writing to ${location} works again`);
      failing = false;
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query("ROLLBACK").catch(() => {});
      written = new Map();
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** One write at a time; a change during a write is written right after it. */
  function flush(): Promise<void> {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await write();
        } while (again && !closed);
      } catch (error) {
        if (!failing) log(`fleet status: cannot write this replica's proxies to ${location} (${messageOf(error)}); retrying at the next renewal`, { level: "warn" });
        failing = true;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  async function refresh(): Promise<void> {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const live = await client.query<{ replica_id: string; renewed_at: Date; expires_at: Date; proxies: string }>(
        `SELECT l.replica_id, l.renewed_at, l.expires_at, (SELECT COUNT(*) FROM replica_proxies p WHERE p.replica_id = l.replica_id) AS proxies
         FROM replica_leases l WHERE l.expires_at > now() ORDER BY l.replica_id`,
      );
      const rows = await client.query<{ replica_id: string; node_id: string; updated_at: string }>(
        `SELECT p.replica_id, p.node_id, p.updated_at::text AS updated_at FROM replica_proxies p JOIN replica_leases l ON l.replica_id = p.replica_id
         WHERE l.expires_at > now() AND p.replica_id <> $1`,
        [self],
      );
      const key = (replica: string, node: string) => `${replica}\u0000${node}`;
      const next = new Map<string, { replica: string; updatedAt: string; proxy: NodeStatus }>();
      const stale: { replica: string; node: string }[] = [];
      for (const r of rows.rows) {
        const k = key(r.replica_id, r.node_id);
        const known = remote.get(k);
        if (known !== undefined && known.updatedAt === r.updated_at) next.set(k, known);
        else stale.push({ replica: r.replica_id, node: r.node_id });
      }
      if (stale.length > 0) {
        const fetched = await client.query<{ replica_id: string; node_id: string; updated_at: string; status: string }>(
          `SELECT p.replica_id, p.node_id, p.updated_at::text AS updated_at, p.status FROM replica_proxies p
           JOIN unnest($1::text[], $2::text[]) AS t(r, n) ON p.replica_id = t.r AND p.node_id = t.n`,
          [stale.map((s) => s.replica), stale.map((s) => s.node)],
        );
        for (const r of fetched.rows) next.set(key(r.replica_id, r.node_id), { replica: r.replica_id, updatedAt: r.updated_at, proxy: decodeNodeStatus(r.status) });
      }
      const nextReplicas = live.rows.map((r) => ({ id: r.replica_id, renewedAt: r.renewed_at.toISOString(), expiresAt: r.expires_at.toISOString(), proxies: Number(r.proxies) }));
      const nextSingletons = await readSingletonHolders(client);
      const changed =
        stale.length > 0 ||
        next.size !== remote.size ||
        JSON.stringify(nextReplicas.map((r) => [r.id, r.proxies])) !== JSON.stringify(replicas.map((r) => [r.id, r.proxies])) ||
        JSON.stringify(nextSingletons) !== JSON.stringify(singletons);
      remote = next;
      replicas = nextReplicas;
      singletons = nextSingletons;
      readAt = Date.now();
      // Dead replicas' rows go after a while (an hour): a replica that comes back rewrites its own.
      await client.query("DELETE FROM replica_proxies p USING replica_leases l WHERE l.replica_id = p.replica_id AND l.expires_at < now() - interval '1 hour'");
      await client.query("DELETE FROM replica_leases WHERE expires_at < now() - interval '1 hour'");
      if (changed) for (const l of listeners) l();
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  await flush();
  if (failing) {
    await pool.end().catch(() => {});
    throw new StoreError(StoreErrorCode.Unavailable, `cannot write this replica's lease to ${location}: start PostgreSQL, or fix --store (env CONTROL_PLANE_STORE)`);
  }
  await refresh().catch(() => {});
  const renewTimer = setInterval(() => void flush(), renewMs);
  let refreshing = false;
  const refreshTimer = setInterval(() => {
    if (refreshing) return;
    refreshing = true;
    refresh()
      .catch(() => {})
      .finally(() => {
        refreshing = false;
      });
  }, refreshMs);

  return {
    changed() {
      if (closed || flushTimer !== undefined) return;
      flushTimer = setTimeout(() => void flush(), flushMs);
    },
    proxies() {
      const byNode = new Map<string, FleetProxy>();
      const add = (p: FleetProxy): void => {
        const known = byNode.get(p.proxy.nodeId);
        byNode.set(p.proxy.nodeId, known === undefined ? p : newestRecord(known, p));
      };
      for (const proxy of options.proxies()) add({ replica: self, proxy });
      // Unread for longer than a lease, the others' proxies may be long gone: only ours are known.
      if (current()) for (const r of remote.values()) add({ replica: r.replica, proxy: r.proxy });
      return [...byNode.values()].sort((a, b) => (a.proxy.nodeId < b.proxy.nodeId ? -1 : a.proxy.nodeId > b.proxy.nodeId ? 1 : 0));
    },
    replicas: () => (current() ? replicas : []),
    singletons: () => (current() ? singletons : []),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async flush() {
      await flush();
      await refresh();
    },
    async close(closeOptions = {}) {
      closed = true;
      clearInterval(renewTimer);
      clearInterval(refreshTimer);
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      await running;
      if (closeOptions.release !== false) {
        // A graceful stop: our proxies reconnect elsewhere, so they leave every view now rather than after the lease.
        await pool
          .query("WITH p AS (DELETE FROM replica_proxies WHERE replica_id = $1) DELETE FROM replica_leases WHERE replica_id = $1", [self])
          .catch((error: unknown) => log(`fleet status: could not give up the lease of ${self} (${messageOf(error)}); it expires on its own`, { level: "warn" }));
      }
      await pool.end().catch(() => {});
    },
  };
}
