import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readSingletonHolders, type SingletonLease, startSingletonLease } from "./singleton-lease.ts";
import { migratedDatabase, startThrowawayPostgres, type ThrowawayPostgres, withPgClient } from "./throwaway-postgres.ts";

let server: ThrowawayPostgres;
before(async () => {
  server = await startThrowawayPostgres();
});
after(() => server?.destroy());

const freshDatabase = (name: string): Promise<string> => migratedDatabase(server, name);

/** Polls every 20 ms for at most 20 s (the lease retries every 100 ms here). */
async function eventually(what: string, fn: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const work = { name: "test-work", lockKey: 7_219_999 };

describe("singleton work under an advisory lock", () => {
  it("runs on one replica; when its session is killed another replica takes it over, and status names the holder", async () => {
    const url = await freshDatabase("s1");
    const running = new Map<string, number>();
    const leases = new Map<string, SingletonLease>();
    for (const id of ["replica-a", "replica-b"]) {
      running.set(id, 0);
      leases.set(
        id,
        startSingletonLease({
          url,
          replicaId: id,
          work,
          retryMs: 100,
          onAcquire: () => void running.set(id, (running.get(id) ?? 0) + 1),
          onRelease: () => void running.set(id, (running.get(id) ?? 0) - 1),
        }),
      );
    }
    try {
      const active = () => [...running].filter(([, n]) => n > 0).map(([id]) => id);
      await eventually("one replica to hold the work", () => active().length === 1);
      const first = active()[0] ?? "";
      const second = first === "replica-a" ? "replica-b" : "replica-a";
      // Several tries of the other replica later, it still runs once.
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(active(), [first]);
      assert.deepEqual((await withPgClient(url, readSingletonHolders)).map((h) => [h.work, h.replica]), [[work.name, first]]);

      // The holder's session ends as a kill -9 of its process would end it.
      await withPgClient(url, (c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`tcp-singleton:${first}`]));
      await eventually("the other replica to take the work over", () => active().length === 1 && active()[0] === second);
      assert.equal(leases.get(first)?.held(), false);
      await eventually("status to name the new holder", async () => (await withPgClient(url, readSingletonHolders)).map((h) => h.replica).join() === second);

      // A graceful stop frees the lock at once for the other replica.
      await leases.get(second)?.close();
      leases.delete(second);
      await eventually("the first replica to take it back", () => active().length === 1 && active()[0] === first);
    } finally {
      for (const l of leases.values()) await l.close();
    }
    assert.deepEqual([...running.values()], [0, 0]);
  });

  it("a holder row whose session died is not a holder", async () => {
    const url = await freshDatabase("s2");
    await withPgClient(url, (c) => c.query("INSERT INTO singleton_holders (work, replica_id, backend_pid, lock_key, since) VALUES ('gone', 'dead-replica', 999999, 1, now())"));
    assert.deepEqual(await withPgClient(url, readSingletonHolders), []);
  });
});
