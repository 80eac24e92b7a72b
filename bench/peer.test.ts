// Smoke test of `npm run bench:peer`: `--quick` builds the Go harness and the
// load client, runs every scenario against both servers and prints a table
// and a JSON line with every figure present. No timing thresholds: the
// figures depend on the machine. Go is on our machines and in CI, so this
// runs for real; only the command itself skips where Go is missing.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { dirname } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./peer.ts", import.meta.url));

interface Figures {
  timeMs?: number;
  cpuSeconds?: number;
  bytesPerStream?: number;
  rssPerStreamBytes?: number;
  eventLoopMaxMs?: number;
}
interface Result {
  bench: string;
  runs: number;
  startupMs: { ours: number; gcp: number };
  idleRssBytes: { ours: number; gcp: number };
  scenarios: Array<{ scenario: string; clients: number; resources: number; ours: Figures; gcp: Figures }>;
}

// A cold Go build cache (a fresh CI machine) compiles gRPC and
// go-control-plane first: about 45 s here, so it gets its own budget.
before(async () => {
  const { stdout } = await run(process.execPath, [script, "--build-only"], { timeout: 600_000 });
  assert.match(stdout, /built .*gcp-server and .*load-client/);
}, { timeout: 610_000 });

test("bench/peer.ts --quick runs every scenario on both servers and prints one table with ratios", { timeout: 120_000 }, async () => {
  const { stdout } = await run(process.execPath, [script, "--quick"], { timeout: 110_000, maxBuffer: 1 << 24 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Result;
  assert.equal(result.bench, "peer");
  assert.equal(result.runs, 1);
  for (const server of ["ours", "gcp"] as const) {
    assert.ok(result.startupMs[server] > 0, `start-up of ${server}`);
    assert.ok(result.idleRssBytes[server] > 0, `idle RSS of ${server}`);
  }
  assert.deepEqual(
    result.scenarios.map((s) => s.scenario),
    ["sotw-all", "sotw-one", "delta-one", "initial", "initial-delta", "idle", "streams-10k", "set-unwatched"],
  );
  for (const s of result.scenarios) {
    for (const server of ["ours", "gcp"] as const) {
      const f = s[server];
      assert.ok(Number.isFinite(f.timeMs), `${s.scenario} ${server} time`);
      assert.ok(Number.isFinite(f.cpuSeconds), `${s.scenario} ${server} CPU`);
      if (s.clients > 0) {
        assert.ok((f.bytesPerStream ?? 0) > 0, `${s.scenario} ${server} bytes per stream`);
        assert.ok(Number.isFinite(f.rssPerStreamBytes), `${s.scenario} ${server} RSS per stream`);
      }
    }
    assert.ok(Number.isFinite(s.ours.eventLoopMaxMs), `${s.scenario}: our event-loop block`);
    assert.equal(s.gcp.eventLoopMaxMs, undefined, "go-control-plane has no event loop");
    if (s.clients > 0) {
      // Same resources on both sides: the streams received nearly the same
      // bytes (versions, nonces and the control-plane identifier differ).
      const ours = s.ours.bytesPerStream ?? 0;
      const gcp = s.gcp.bytesPerStream ?? 0;
      if (s.scenario === "initial-delta") {
        // Except a Delta initial sync, which carries every resource's own
        // version: go-control-plane's is a 64-character SHA-256 hex, ours
        // shorter, so ours is smaller by up to 64 B per resource.
        assert.ok(ours < gcp * 1.15 && ours > gcp * 0.5, `${s.scenario}: ${ours} B per stream from ours, ${gcp} B from go-control-plane`);
      } else {
        assert.ok(Math.abs(ours - gcp) / gcp < 0.15, `${s.scenario}: ${ours} B per stream from ours, ${gcp} B from go-control-plane`);
      }
    }
  }
  assert.match(stdout, /ours\/gcp/);
  assert.match(stdout, /setSnapshot to all ACKed/);
  assert.match(stdout, /longest event-loop block/);
});

test("bench/peer.ts --scenarios runs only those, and an unknown name is an error that lists the known ones", async () => {
  const { stdout } = await run(process.execPath, [script, "--quick", "--scenarios", "sotw-one"], { timeout: 60_000 });
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as Result;
  assert.deepEqual(
    result.scenarios.map((s) => s.scenario),
    ["sotw-one"],
  );
  await assert.rejects(run(process.execPath, [script, "--quick", "--scenarios", "sotw-one,nope"], { timeout: 60_000 }), (error: unknown) => {
    const failed = error as { stderr: string; code: number };
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /--scenarios: unknown nope; known: sotw-all, sotw-one/);
    return true;
  });
});

test("bench/peer.ts without the Go toolchain says why it skips and exits 0", async () => {
  // Node's own directory and the system's, without Go's.
  const path = [dirname(process.execPath), "/usr/bin", "/bin"].join(":");
  const { stdout } = await run(process.execPath, [script, "--quick"], { timeout: 60_000, env: { ...process.env, PATH: path } });
  assert.match(stdout, /bench:peer skipped: the Go toolchain \(go\) is not on PATH/);
});
