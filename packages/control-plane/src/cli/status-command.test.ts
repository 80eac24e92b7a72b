import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { defaultExamplePath, serve } from "../main.ts";
import type { NodeReport, StatusReport } from "../status/status-report.ts";
import type { AdminClient } from "./admin-client.ts";
import { runCli } from "./run-cli.ts";
import { parseInterval, render, statusCommand } from "./status-command.ts";

async function cli(args: string[], env: Record<string, string>) {
  let out = "";
  let err = "";
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env, stdin: async () => "" });
  return { code, out, err };
}

const node = (nodeId: string, state: NodeReport["state"], connected = true): NodeReport => ({
  nodeId,
  cluster: "c",
  group: "default",
  connected,
  streams: connected ? 1 : 0,
  lastSeen: "2026-12-03T10:00:00.123Z",
  state,
  types: [{ type: "CDS", typeUrl: TypeUrl.Cluster, state, responses: 1, nacks: 0 }],
});
const report = (revision: number, nodes: NodeReport[]): StatusReport => ({ revision, nodes, objects: [] });

/** An admin client that answers GET /api/v1/status with the given reports in turn (the last one again after). */
function fakeClient(reports: StatusReport[]): AdminClient & { polls: number } {
  const c = {
    polls: 0,
    async request<T>(): Promise<T> {
      const r = reports[Math.min(c.polls, reports.length - 1)];
      c.polls++;
      return r as T;
    },
  };
  return c;
}

function capture() {
  const o = { out: "", err: "" };
  return { o, out: (t: string) => (o.out += t), err: (t: string) => (o.err += t) };
}

describe("tcp status --check and --watch", () => {
  it("--check exits 1 while a connected proxy is NACKED or STALE, saying why; disconnected ones do not count", async () => {
    const nacked = node("edge-1", "NACKED");
    const withNack = { ...nacked, types: [{ ...nacked.types[0], type: "LDS", state: "NACKED", nack: { version: "v2", nonce: "3", message: "cannot bind", at: "x" } }] } as NodeReport;
    let c = capture();
    assert.equal(await statusCommand(fakeClient([report(2, [withNack, node("edge-2", "STALE"), node("gone", "STALE", false)])]), c.out, c.err, { check: true }), 1);
    assert.match(c.o.err, /check: edge-1 is NACKED: LDS rejected: cannot bind\ncheck: edge-2 is STALE: CDS not acknowledged at the current version\ncheck failed: 2 of 2 connected Envoys are not SYNCED\n/);
    assert.match(c.o.out, /gone +default +no +STALE +2026-12-03T10:00:00Z +CDS:STALE\n/);

    c = capture();
    assert.equal(await statusCommand(fakeClient([report(2, [node("edge-1", "SYNCED"), node("gone", "STALE", false)])]), c.out, c.err, { check: true }), 0);
    assert.match(c.o.out, /check: ok, all 1 connected Envoys are SYNCED\n$/);
    c = capture();
    assert.equal(await statusCommand(fakeClient([report(2, [node("edge-1", "NACKED")])]), c.out, c.err, {}), 0, "without --check the exit code stays 0");
  });

  it("--watch prints again only when the report changes, and stops after max polls or on abort", async () => {
    const a = report(1, [node("edge-1", "STALE")]);
    const b = report(2, [node("edge-1", "SYNCED")]);
    const client = fakeClient([a, a, b, b]);
    const c = capture();
    const code = await statusCommand(client, c.out, c.err, { watch: true, check: true, intervalMs: 1, maxPolls: 4 });
    assert.equal(client.polls, 4);
    assert.equal(c.o.out.match(/^revision /gm)?.length, 2, c.o.out);
    assert.match(c.o.out, /^revision 1\n[\s\S]*\n\nrevision 2\n/);
    assert.equal(code, 0, "the exit code of --check follows the last report");

    const stop = new AbortController();
    const forever = fakeClient([a]);
    const watching = statusCommand(forever, () => {}, () => {}, { watch: true, intervalMs: 60_000, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    assert.equal(await watching, 0);
    assert.equal(forever.polls, 1, "abort ends the wait at once");
  });

  it("takes --interval as 2s, 500ms or 1m and refuses nonsense", () => {
    assert.deepEqual(["2s", "500ms", "1m", "3"].map(parseInterval), [2000, 500, 60_000, 3000]);
    assert.throws(() => parseInterval("fast"), /--interval takes a duration/);
    assert.throws(() => parseInterval("10ms"), /at least 100ms/);
  });

  it("against a real control plane: NACKED exits 1, all acknowledged exits 0, a closed stream shows CONNECTED no and STALE", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "cp-status-"));
    const cp = await serve({ xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: dir, configPaths: [], examplePath: defaultExamplePath, debounceMs: 5, log: () => {} });
    const xds = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1" });
    t.after(async () => {
      xds.close();
      await cp.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
    const until = async (args: string[], want: number) => {
      let r = await cli(args, env);
      for (let i = 0; i < 100 && r.code !== want; i++) {
        await new Promise((res) => setTimeout(res, 20));
        r = await cli(args, env);
      }
      return r;
    };

    const responses = new Map<string, Awaited<ReturnType<RawXdsClient["next"]>>>();
    // As Envoy subscribes: CDS and LDS wildcard, EDS and RDS by the names those name (scenario-2.yaml).
    const names: Record<string, string[]> = { [TypeUrl.Endpoint]: ["example_proxy_cluster"], [TypeUrl.Route]: ["listener_0"] };
    for (const typeUrl of [TypeUrl.Cluster, TypeUrl.Endpoint, TypeUrl.Listener, TypeUrl.Route]) {
      xds.send({ typeUrl, resourceNames: names[typeUrl] ?? [] });
      const r = await xds.next();
      responses.set(typeUrl, r);
    }
    const cds = responses.get(TypeUrl.Cluster);
    assert.ok(cds !== undefined);
    xds.send({ typeUrl: TypeUrl.Cluster, responseNonce: cds.nonce, errorMessage: "cluster example_proxy_cluster: bad" });
    const nacked = await until(["status", "--check"], 1);
    assert.equal(nacked.code, 1, nacked.out);
    assert.match(nacked.err, /check: edge-1 is NACKED: CDS rejected: cluster example_proxy_cluster: bad/);

    for (const r of responses.values()) xds.ack(r, names[r.typeUrl] ?? []);
    const synced = await until(["status", "--check"], 0);
    assert.equal(synced.code, 0, `${synced.out}${synced.err}`);
    assert.match(synced.out, /edge-1 +default +yes +SYNCED +now +CDS:SYNCED EDS:SYNCED LDS:SYNCED RDS:SYNCED\n/);

    xds.close();
    let gone = await cli(["status", "--check"], env);
    for (let i = 0; i < 100 && !/edge-1 +default +no/.test(gone.out); i++) {
      await new Promise((res) => setTimeout(res, 20));
      gone = await cli(["status", "--check"], env);
    }
    assert.match(gone.out, /NODE +GROUP +CONNECTED +STATE +LAST SEEN +TYPES\nedge-1 +default +no +STALE +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +CDS:STALE/);
    assert.equal(gone.code, 0, "a disconnected Envoy is listed, not counted");
    assert.match(gone.out, /check: ok, no Envoy is connected/);

    const watched = await cli(["status", "--watch", "--interval", "100ms", "--max-polls", "3"], env);
    assert.equal(watched.code, 0, watched.err);
    assert.equal(watched.out.match(/^revision /gm)?.length, 1, "an unchanged report prints once");
    assert.match((await cli(["status", "--interval", "1s"], env)).err, /--interval goes with --watch/);
  });
});

describe("status refusals", () => {
  it("prints one line per refused node id, with the count, when and why", () => {
    const report: StatusReport = {
      revision: 2,
      nodes: [],
      objects: [],
      refusals: [
        {
          nodeId: "internal-1",
          cluster: "internal",
          group: "internal",
          identity: "spiffe://example.org/ns/edge/sa/envoy",
          fingerprint256: "AA:BB",
          reason: 'identity "spiffe://example.org/ns/edge/sa/envoy" may not connect as node "internal-1" of node group "internal": add it to the NodeGroup\'s spec.identities, or give the proxy a certificate that group allows',
          at: "2026-12-04T01:00:00.123Z",
          count: 3,
        },
      ],
    };
    assert.match(render(report, undefined), /^internal-1 refused \(3 times, last 2026-12-04T01:00:00Z\): identity "spiffe:\/\/example\.org\/ns\/edge\/sa\/envoy" may not connect as node "internal-1"/m);
    assert.doesNotMatch(render({ revision: 1, nodes: [], objects: [] }, undefined), /refused/);
  });

  it("says when streams are queued for their initial sync or over their write budget, and nothing otherwise", () => {
    const quiet = { openStreams: 2, syncingStreams: 0, queuedStreams: 0, bufferedBytes: 120, streamsOverBudget: 0, stuckStreamsEnded: 0, streamsShed: 0, streamsRefused: 0 };
    assert.doesNotMatch(render({ revision: 1, nodes: [], objects: [], xds: quiet }, undefined), /xDS:/);
    const storm = render({ revision: 1, nodes: [], objects: [], xds: { ...quiet, syncingStreams: 64, queuedStreams: 900, streamsOverBudget: 1 } }, undefined);
    assert.match(storm, /^xDS: 900 streams queued for their initial sync, 64 syncing \(--xds-max-initial-syncs\)$/m);
    assert.match(storm, /^xDS: 1 stream over their write budget, not reading \(--xds-max-buffered-bytes\)$/m);
  });

  it("on PostgreSQL adds a REPLICA column, the live replicas and who runs the singleton work (issue 10 item 4)", () => {
    const fleet = render(
      {
        revision: 7,
        nodes: [{ ...node("edge-1", "SYNCED"), replica: "replica-1" }, { ...node("edge-2", "SYNCED"), replica: "replica-2" }],
        objects: [],
        fleet: {
          replica: "replica-2",
          replicas: [
            { id: "replica-1", renewedAt: "2026-12-04T01:00:00.000Z", expiresAt: "2026-12-04T01:00:15.000Z", proxies: 1 },
            { id: "replica-2", renewedAt: "2026-12-04T01:00:00.000Z", expiresAt: "2026-12-04T01:00:15.000Z", proxies: 1 },
          ],
          singletons: [{ work: "file-sources", replica: "replica-1", since: "2026-12-04T00:00:00.000Z" }],
        },
      },
      undefined,
    );
    assert.match(fleet, /^replica replica-2; live replicas: replica-1 \(1 proxy\), replica-2 \(1 proxy\)$/m);
    assert.match(fleet, /^singleton file-sources runs on replica-1$/m);
    assert.match(fleet, /^NODE\s+GROUP\s+REPLICA\s+CONNECTED/m);
    assert.match(fleet, /^edge-2\s+default\s+replica-2\s+yes/m);
    assert.doesNotMatch(render({ revision: 4, nodes: [node("edge-1", "SYNCED")], objects: [] }, undefined), /REPLICA|live replicas/);
  });

  it("adds a REVISION column while a rollout runs: the revision each proxy is served", () => {
    const plain = render({ revision: 4, nodes: [node("edge-1", "SYNCED")], objects: [] }, undefined);
    assert.doesNotMatch(plain, /REVISION/);
    const during = render({ revision: 4, nodes: [{ ...node("edge-1", "SYNCED"), revision: 4 }, { ...node("edge-2", "SYNCED"), revision: 3 }], objects: [] }, undefined);
    assert.match(during, /^NODE +GROUP +REVISION +CONNECTED/m);
    assert.match(during, /^edge-1 +default +4 +yes +SYNCED/m);
    assert.match(during, /^edge-2 +default +3 +yes +SYNCED/m);
  });
});
