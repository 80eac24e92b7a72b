import { after, before } from "node:test";
import pg from "pg";
import { openPostgresStore } from "./postgres-store.ts";
import { describeStoreBehaviours } from "./store-behaviours.ts";
import { startThrowawayPostgres, type ThrowawayPostgres } from "./throwaway-postgres.ts";

let server: ThrowawayPostgres;
before(async () => {
  server = await startThrowawayPostgres();
});
after(() => server?.destroy());
let n = 0;

/** A database of its own per case, on the one throwaway cluster. */
async function freshDatabase(): Promise<string> {
  const name = `s${n++}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.url.replace(/\/postgres$/, `/${name}`);
}

describeStoreBehaviours("PostgreSQL", {
  async fresh(options = {}) {
    const url = await freshDatabase();
    const open = () => openPostgresStore({ url, ...(options.cipher === undefined ? {} : { cipher: options.cipher }) });
    return {
      store: await open(),
      reopen: open,
      async rawBodies() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const rows = await client.query<{ body: string }>("SELECT body FROM object_versions WHERE body IS NOT NULL UNION ALL SELECT body FROM objects");
          return rows.rows.map((r) => r.body);
        } finally {
          await client.end();
        }
      },
    };
  },
});
