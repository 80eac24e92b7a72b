import pg from "pg";
import { redactStoreUrl } from "./postgres-store.ts";

/** Work that runs on one replica at a time, and its advisory lock key (distinct from the store's own locks, 7_210_001/2). */
export const singletonWork = {
  /** Watching `--config` files and applying their changes (sources/file-sources.ts). */
  fileSources: { name: "file-sources", lockKey: 7_210_101 },
} as const;

export interface SingletonLeaseOptions {
  readonly url: string;
  readonly replicaId: string;
  /** What runs under the lock (status shows it by this name). */
  readonly work: { readonly name: string; readonly lockKey: number };
  /** Called once the lock is held: start the work. */
  readonly onAcquire: () => Promise<void> | void;
  /** Called when the lock is lost (the session ended) or on close: stop the work. */
  readonly onRelease: () => Promise<void> | void;
  /** How often a replica without the lock tries again, and how often the holder checks its session. Default 1,000. */
  readonly retryMs?: number;
  readonly log?: (line: string, fields?: { level?: "info" | "warn" | "error" }) => void;
}

export interface SingletonLease {
  /** Whether this replica holds the lock now. */
  held(): boolean;
  /** Stops the work if it runs here and frees the lock for another replica. */
  close(): Promise<void>;
}

/** Who holds a piece of singleton work: only rows whose session still holds the advisory lock count. */
export interface SingletonHolder {
  readonly work: string;
  readonly replica: string;
  readonly since: string;
}

/**
 * The holders of singleton work, from `singleton_holders` joined with `pg_locks`: a row left by
 * a session that died (its lock freed with it) is not a holder.
 */
export async function readSingletonHolders(client: pg.ClientBase): Promise<SingletonHolder[]> {
  const rows = await client.query<{ work: string; replica_id: string; since: Date }>(
    `SELECT h.work, h.replica_id, h.since FROM singleton_holders h
     WHERE EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = h.backend_pid
                   AND l.classid::bigint = (h.lock_key >> 32) AND l.objid::bigint = (h.lock_key & 4294967295))
     ORDER BY h.work`,
  );
  return rows.rows.map((r) => ({ work: r.work, replica: r.replica_id, since: r.since.toISOString() }));
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Runs work on one replica of the fleet (issue 10 item 5): a session-level
 * `pg_try_advisory_lock` on a dedicated connection. PostgreSQL frees the lock when the session
 * ends, so when the holder dies (kill -9, a lost network) another replica's next try, within
 * retryMs, takes it over. The holder checks its session every retryMs and stops the work as
 * soon as the session is gone, since the lock went with it.
 */
export function startSingletonLease(options: SingletonLeaseOptions): SingletonLease {
  const retryMs = options.retryMs ?? 1_000;
  const log = options.log ?? (() => {});
  const location = redactStoreUrl(options.url);
  const { name, lockKey } = options.work;
  let client: pg.Client | undefined;
  let held = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let step: Promise<void> = Promise.resolve();
  let lastProblem = "";

  const release = async (why: string): Promise<void> => {
    if (!held) return;
    held = false;
    log(`singleton ${name}: ${why}; stopping it on ${options.replicaId}`, { level: closed ? "info" : "warn" });
    try {
      await options.onRelease();
    } catch (error) {
      log(`singleton ${name}: stopping failed: ${messageOf(error)}`, { level: "error" });
    }
  };

  const dropClient = async (): Promise<void> => {
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };

  async function tick(): Promise<void> {
    if (closed) return;
    try {
      if (client === undefined) {
        const c = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 3_000, keepAlive: true, application_name: `tcp-singleton:${options.replicaId}` });
        // A lost session is noticed by the next check; until then the handler keeps the process alive.
        c.on("error", () => {});
        await c.connect();
        client = c;
      }
      if (held) {
        // The lock lives as long as this session: a failing check means it is gone.
        await client.query("SELECT 1");
        return;
      }
      const got = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [lockKey]);
      if (got.rows[0]?.locked !== true) return;
      await client.query(
        `INSERT INTO singleton_holders (work, replica_id, backend_pid, lock_key, since) VALUES ($1, $2, pg_backend_pid(), $3, now())
         ON CONFLICT (work) DO UPDATE SET replica_id = excluded.replica_id, backend_pid = excluded.backend_pid, lock_key = excluded.lock_key, since = excluded.since`,
        [name, options.replicaId, lockKey],
      );
      held = true;
      lastProblem = "";
      log(`singleton ${name}: ${options.replicaId} holds it (advisory lock ${lockKey} on ${location}); starting it`);
      try {
        await options.onAcquire();
      } catch (error) {
        log(`singleton ${name}: starting failed: ${messageOf(error)}; giving the lock up for another replica`, { level: "error" });
        held = false;
        await dropClient();
      }
    } catch (error) {
      await release(`lost the session that held the lock (${messageOf(error)})`);
      await dropClient();
      const problem = messageOf(error);
      if (problem !== lastProblem) log(`singleton ${name}: cannot reach ${location} (${problem}); trying again every ${retryMs} ms`, { level: "warn" });
      lastProblem = problem;
    }
  }

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      step = tick().finally(schedule);
    }, retryMs);
  };
  step = tick().finally(schedule);

  return {
    held: () => held,
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      await step;
      await release("the replica is shutting down");
      // Ending the session frees the lock: another replica takes the work at its next try.
      await dropClient();
    },
  };
}
