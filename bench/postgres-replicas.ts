// Replicas-on-PostgreSQL benchmark (issue 10): `node bench/postgres-replicas.ts
// [--clients 200] [--applies 100] [--protocol sotw|delta] [--restart-clients 200] [--quick]`.
// Prints a table for people and, last, one JSON line for machines.
//
// Three control-plane replicas, each its own process (`serve --store postgres://...`,
// e2e/control-plane/control-plane-process.ts: --debounce-ms 20), on one throwaway
// PostgreSQL (packages/control-plane/src/store/throwaway-postgres.ts). --clients lean
// xDS clients (bench/support/fleet-clients.ts, one HTTP/2 connection each, ACK every
// response) connect to replica B and as many to replica C; none to A. Each apply is a
// PUT of Service cluster-0 on A that moves its endpoint port (EDS); it is timed from
// just before the PUT until every client on B and C has received the new EDS version
// (and written its ACK). The path: A's commit (advisory lock, catch-up, write, NOTIFY),
// B's and C's LISTEN, catch-up read, compile after the debounce, push. The EDS versions
// are content hashes, so the two alternating ports give two versions, learnt in a
// warm-up from B's status before the timed applies.
//
// Then the cost of a replica restart, four times (SotW, then Delta; clients that know C
// and B, as Envoy with two --xds-address, then clients that know only C):
// --restart-clients more lean clients (support/reconnecting-clients.ts) on replica C.
// C is killed with SIGKILL and started again at once on the same ports; each client
// reconnects (round robin every 50 ms: to B while C is down, or to C once it is back),
// sending the versions it holds (SotW version_info, Delta initial_resource_versions).
// Timed from the kill until every one of them has CDS and EDS again on its new stream
// (SotW) or is connected and SYNCED on a live replica by that replica's status (Delta,
// where a replica with the same versions sends nothing); the resources and bytes the
// clients got on their new streams are what the restart made the replicas resend.
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { TypeUrl } from "@ts-control-plane/xds";
import { startThrowawayPostgres } from "@ts-control-plane/control-plane/store/throwaway-postgres";
import { type ControlPlaneProcess, startControlPlane } from "../e2e/control-plane/control-plane-process.ts";
import { positiveInt, runMain } from "./support/cli.ts";
import { now } from "./support/fanout-measure.ts";
import type { FleetChildMessage, FleetParentMessage, FleetProtocol } from "./support/fleet-clients.ts";
import { forkProcess } from "./support/forked-process.ts";
import type { ReconnectChildMessage, ReconnectParentMessage } from "./support/reconnecting-clients.ts";
import { summarizeTimings } from "./support/summarize-timings.ts";
import { ms, textTable } from "./support/text-table.ts";

const apiVersion = "tcp.dev/v1alpha1";
const serviceJson = (port: number): string => JSON.stringify({ apiVersion, kind: "Service", metadata: { name: "cluster-0" }, spec: { endpoints: [{ address: "127.0.0.1", port }] } });
const ports = [9101, 9102] as const;

async function putService(a: ControlPlaneProcess, port: number): Promise<number> {
  const res = await fetch(`${a.adminUrl}/api/v1/objects/Service/cluster-0`, { method: "PUT", headers: { "content-type": "application/json" }, body: serviceJson(port) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`PUT on A answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { revision: number }).revision;
}

interface StatusView {
  revision: number;
  nodes: { connected: boolean; types: { type: string; currentVersion?: string }[] }[];
}
const statusOf = async (cp: ControlPlaneProcess): Promise<StatusView> => (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as StatusView;

/** The EDS version replica `cp` serves once it pushed `revision`; polled every 10 ms for at most 20 s. */
async function edsVersionAt(cp: ControlPlaneProcess, revision: number): Promise<string> {
  for (let i = 0; i < 2000; i++) {
    const s = await statusOf(cp);
    const version = s.nodes.find((n) => n.connected)?.types.find((t) => t.type === "EDS")?.currentVersion;
    if (s.revision === revision && version !== undefined) return version;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`replica at ${cp.adminUrl} did not push revision ${revision}`);
}

/** When each of the clients `prefix-0..` was connected and SYNCED on a live replica, by that replica's own status. */
async function deltaConverged(options: { replicas: () => readonly ControlPlaneProcess[]; prefix: string; clients: number; timeoutMs: number }): Promise<number[]> {
  const at = new Map<string, number>();
  const until = now() + options.timeoutMs;
  while (at.size < options.clients) {
    if (now() > until) throw new Error(`${options.clients - at.size} of ${options.clients} Delta clients did not converge within ${options.timeoutMs} ms`);
    for (const cp of options.replicas()) {
      const s = (await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as { nodes: { nodeId: string; connected: boolean; state: string; replica?: string }[]; fleet?: { replica: string } };
      const seen = now();
      for (const n of s.nodes) {
        if (n.nodeId.startsWith(`${options.prefix}-`) && n.connected && n.state === "SYNCED" && n.replica === s.fleet?.replica && !at.has(n.nodeId)) at.set(n.nodeId, seen);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return [...at.values()];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { clients: { type: "string" }, applies: { type: "string" }, protocol: { type: "string" }, "restart-clients": { type: "string" }, quick: { type: "boolean", default: false } } });
  const quick = values.quick === true;
  const clients = positiveInt("clients", values.clients, quick ? 10 : 200);
  const applies = positiveInt("applies", values.applies, quick ? 5 : 100);
  const restartClients = positiveInt("restart-clients", values["restart-clients"], quick ? 10 : 200);
  const protocol = (values.protocol ?? "sotw") as FleetProtocol;
  if (protocol !== "sotw" && protocol !== "delta") throw new Error(`--protocol takes sotw or delta, got ${JSON.stringify(values.protocol)}`);
  const timeoutMs = 60_000;

  const dir = mkdtempSync(join(tmpdir(), "bench-pg-replicas-"));
  const pg = await startThrowawayPostgres();
  const replicas: ControlPlaneProcess[] = [];
  const fleets: ReturnType<typeof forkProcess<FleetParentMessage, FleetChildMessage>>[] = [];
  let restartFleet: ReturnType<typeof forkProcess<ReconnectParentMessage, ReconnectChildMessage>> | undefined;
  try {
    for (const r of ["a", "b", "c"]) replicas.push(await startControlPlane({ dataDir: join(dir, `data-${r}`), extraArgs: ["--store", pg.url] }));
    const [a, b, c] = replicas as [ControlPlaneProcess, ControlPlaneProcess, ControlPlaneProcess];
    await putService(a, ports[0]);

    for (const cp of [b, c]) {
      const fleet = forkProcess<FleetParentMessage, FleetChildMessage>(new URL("./support/fleet-clients.ts", import.meta.url), ["--port", String(cp.xdsPort), "--clients", String(clients), "--resources", "1", "--protocol", protocol], { exitMessage: { type: "exit" } });
      fleets.push(fleet);
    }
    for (const fleet of fleets) await fleet.next("initial", { timeoutMs });

    // Warm-up: the EDS version of each port, as B serves it (C serves the same: same revision, same content).
    const versions = new Map<number, string>();
    for (const port of [ports[1], ports[0]]) {
      const revision = await putService(a, port);
      versions.set(port, await edsVersionAt(b, revision));
      await edsVersionAt(c, revision);
    }

    const samples: number[] = [];
    for (let i = 0; i < applies; i++) {
      const port = ports[(i + 1) % 2] ?? ports[0];
      const version = versions.get(port) ?? "";
      for (const fleet of fleets) fleet.send({ type: "expect", typeUrl: TypeUrl.Endpoint, version });
      for (const fleet of fleets) await fleet.next("armed", { timeoutMs });
      const t0 = now();
      await putService(a, port);
      const received = await Promise.all(fleets.map((f) => f.next("received", { timeoutMs })));
      samples.push(Math.max(...received.flatMap((r) => r.at)) - t0);
    }
    const t = summarizeTimings(samples);
    const machine = `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`;
    console.log(
      textTable([
        ["replicas", "clients (B + C)", "protocol", "applies on A", "p50", "p95", "max"],
        ["3", `${clients} + ${clients}`, protocol, String(t.runs), ms(t.medianMs), ms(t.p95Ms), ms(t.maxMs)],
      ]),
    );
    console.log(`apply on A -> every client on B and C received (and ACKed) the new EDS version; ${machine}`);

    // The cost of a replica restart: clients of C, kill -9 C, start it again on the same ports.
    // Clients that also know B (they fail over), then clients that know only C (they wait for it); SotW, then Delta.
    const restarts: Record<string, unknown>[] = [];
    const rows: string[][] = [["restart of C", "protocol", "clients know", "clients", "C ready again", "all converged", "per client p50", "p95", "back on C / on B", "resources resent", "bytes resent (per client)"]];
    let run = 0;
    for (const restartProtocol of ["sotw", "delta"] as const) {
      for (const know of ["C and B", "C only"] as const) {
        const cNow = replicas[2] as ControlPlaneProcess;
        const prefix = `restart-${run++}`;
        const fleetPorts = know === "C and B" ? `${cNow.xdsPort},${b.xdsPort}` : String(cNow.xdsPort);
        restartFleet = forkProcess<ReconnectParentMessage, ReconnectChildMessage>(
          new URL("./support/reconnecting-clients.ts", import.meta.url),
          ["--ports", fleetPorts, "--clients", String(restartClients), "--resources", "1", "--protocol", restartProtocol, "--id-prefix", prefix],
          { exitMessage: { type: "exit" } },
        );
        await restartFleet.next("initial", { timeoutMs });
        restartFleet.send({ type: "watch" });
        await restartFleet.next("armed", { timeoutMs });
        const killedAt = now();
        await cNow.stop({ signal: "SIGKILL" });
        let readyMs = 0;
        const starting = startControlPlane({ dataDir: join(dir, "data-c"), xdsPort: cNow.xdsPort, adminPort: cNow.adminPort, extraArgs: ["--store", pg.url] }).then((cp) => {
          readyMs = now() - killedAt;
          replicas[2] = cp;
          return cp;
        });
        let convergedAt: number[];
        if (restartProtocol === "sotw") {
          convergedAt = [...(await restartFleet.next("converged", { timeoutMs })).convergedAt];
          await starting;
        } else {
          // Over Delta a replica with the same versions sends nothing: converged is each client
          // connected and SYNCED on a live replica, as that replica's own status says (polled every 50 ms).
          convergedAt = await deltaConverged({ replicas: () => [b, ...(readyMs > 0 ? [replicas[2] as ControlPlaneProcess] : [])], prefix, clients: restartClients, timeoutMs });
          await starting;
          // Anything the replicas would resend arrives right after the reconnect: a second's grace.
          await new Promise((r) => setTimeout(r, 1_000));
        }
        restartFleet.send({ type: "report" });
        const report = await restartFleet.next("report", { timeoutMs });
        await restartFleet.stop();
        restartFleet = undefined;
        const perClient = summarizeTimings(convergedAt.map((at) => at - killedAt));
        const onC = report.ports.filter((p) => p === cNow.xdsPort).length;
        const resent = report.bytes.reduce((sum, n) => sum + n, 0);
        const resources = report.resources.reduce((sum, n) => sum + n, 0);
        rows.push(["kill -9, start", restartProtocol, know, String(restartClients), ms(readyMs), ms(perClient.maxMs), ms(perClient.medianMs), ms(perClient.p95Ms), `${onC} / ${restartClients - onC}`, String(resources), `${resent} (${Math.round(resent / restartClients)})`]);
        restarts.push({ protocol: restartProtocol, know, clients: restartClients, readyMs, convergedMs: perClient.maxMs, p50Ms: perClient.medianMs, p95Ms: perClient.p95Ms, backOnC: onC, onB: restartClients - onC, resourcesResent: resources, bytesResent: resent });
      }
    }
    console.log(textTable(rows));
    console.log(`restart: timed from the kill until every client of C had CDS and EDS again on a new stream (SotW) / was connected and SYNCED on a live replica by its status, polled every 50 ms (Delta); clients reconnect every 50 ms, round robin over the replicas they know, with the versions they hold; ${machine}`);
    console.log(
      JSON.stringify({
        bench: "postgres-replicas",
        replicas: 3,
        clientsPerReplica: clients,
        protocol,
        applies: t.runs,
        p50Ms: t.medianMs,
        p95Ms: t.p95Ms,
        maxMs: t.maxMs,
        minMs: t.minMs,
        restart: restarts,
      }),
    );
  } finally {
    await restartFleet?.stop();
    for (const f of fleets) await f.stop();
    for (const r of replicas) await r.stop();
    pg.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(import.meta, main);
