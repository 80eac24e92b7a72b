/**
 * Test support, not part of the control plane's API: a throwaway PostgreSQL cluster from
 * Debian's binaries (initdb into a temporary directory, its own free port, its unix socket in
 * that directory), stopped and deleted by `destroy`. PostgreSQL refuses to run as root, so as
 * root it runs as an unprivileged system user created once (`tcpgtest`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { migratePostgres } from "./postgres-schema.ts";

export interface ThrowawayPostgres {
  /** `postgres://tcpgtest@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** Stops the server (fast shutdown: connections are ended); `start` brings it back on the same port and data. */
  stop(): void;
  start(): void;
  /** Stops it and deletes its directory. Idempotent. */
  destroy(): void;
}

const pgUser = "tcpgtest";

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string | undefined {
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base)
    .filter((d) => existsSync(join(base, d, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(base, majors[0], "bin");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

const isRoot = (): boolean => process.getuid?.() === 0;

function ensureUser(): void {
  if (spawnSync("id", ["-u", pgUser]).status === 0) return;
  // Idempotent: a concurrent test may have created it in between.
  const made = spawnSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", pgUser], { encoding: "utf8" });
  if (made.status !== 0 && spawnSync("id", ["-u", pgUser]).status !== 0) throw new Error(`cannot create the user ${pgUser} for PostgreSQL: ${made.stderr}`);
}

/** Runs a PostgreSQL binary, as `tcpgtest` when we are root, from a directory that user may enter (not a root-only checkout). */
function run(bin: string, args: readonly string[], cwd: string): void {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", pgUser, "--", bin, ...args]] : [bin, [...args]];
  execFileSync(cmd, argv, { stdio: ["ignore", "pipe", "pipe"], cwd });
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): scripts/test.sh installs Debian's postgresql, or run apt-get install postgresql");
  const dir = mkdtempSync(join(tmpdir(), "tcp-pg-"));
  const data = join(dir, "data");
  const user = isRoot() ? pgUser : (process.env["USER"] ?? "postgres");
  if (isRoot()) {
    ensureUser();
    const uid = Number(execFileSync("id", ["-u", pgUser], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", pgUser], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
  }
  run(join(bin, "initdb"), ["-D", data, "-U", user, "--auth=trust", "--no-sync", "-E", "UTF8"], dir);
  const port = await freePort();
  // Throwaway: no fsync; listens on loopback and on a socket in its own directory, never /var/run.
  const ctl = (action: "start" | "stop"): void => {
    if (action === "start") {
      run(join(bin, "pg_ctl"), ["-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`, "start"], dir);
    } else {
      run(join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"], dir);
    }
  };
  ctl("start");
  let running = true;
  let destroyed = false;
  return {
    url: `postgres://${user}@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      if (!running) return;
      ctl("stop");
      running = false;
    },
    start() {
      if (running) return;
      ctl("start");
      running = true;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        if (running) ctl("stop");
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs `fn` with a client connected to `url`, ended afterwards whatever happens. */
export async function withPgClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates the database `name` on `server`, migrates it to the current schema and returns its URL. */
export async function migratedDatabase(server: ThrowawayPostgres, name: string): Promise<string> {
  await withPgClient(server.url, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = server.url.replace(/\/postgres$/, `/${name}`);
  await withPgClient(url, (c) => migratePostgres(c, url));
  return url;
}
