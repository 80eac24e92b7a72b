// The real parts of the latency benchmark, started and stopped together: the
// control plane as its own process (ephemeral ports, temp data dir, embedded
// sqlite store), two local HTTP upstreams ("served by alpha" / "served by beta"),
// and a real Envoy booted from the control plane's own bootstrap endpoint.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { startControlPlane, type ControlPlaneProcess } from "../../e2e/control-plane/control-plane-process.ts";
import type { Json } from "../../e2e/harness/config-dump.ts";
import { freePort } from "../../e2e/harness/free-port.ts";
import { httpGet } from "../../e2e/harness/http-get.ts";
import { startHttpUpstream, type Upstream } from "../../e2e/harness/http-upstream.ts";
import { startEnvoy, type EnvoyProcess } from "../../e2e/harness/start-envoy.ts";
import { waitUntil } from "../../e2e/harness/wait-until.ts";
import { syntheticRoutes } from "./synthetic-config.ts";

export const apiVersion = "tcp.dev/v1alpha1";
export const routeName = "bench";

export interface LatencyRig {
  readonly controlPlane: ControlPlaneProcess;
  readonly envoy: EnvoyProcess;
  readonly upstreams: { readonly alpha: Upstream; readonly beta: Upstream };
  /** "http://127.0.0.1:PORT" of Envoy's HTTP listener. */
  readonly listenerUrl: string;
  /** Stops everything this rig started and removes its temp dir. Idempotent, never throws. */
  close(): Promise<void>;
}

/** The starting configuration: `/` on the listener goes to Service alpha; Service beta is there but unused. */
function initialObjects(listenerPort: number, upstreams: LatencyRig["upstreams"]): unknown[] {
  const service = (name: string, port: number) => ({
    apiVersion,
    kind: "Service",
    metadata: { name },
    spec: { discovery: "Static", endpoints: [{ address: "127.0.0.1", port }] },
  });
  return [
    { apiVersion, kind: "Listener", metadata: { name: "edge" }, spec: { protocol: "HTTP", address: "127.0.0.1", port: listenerPort } },
    service("alpha", upstreams.alpha.port),
    service("beta", upstreams.beta.port),
    routeObject([{ prefix: "/", service: "alpha" }]),
  ];
}

/** The benchmark's Route object: rules in order, each a path prefix to one service. */
export function routeObject(rules: readonly { prefix: string; service: string }[]): unknown {
  return {
    apiVersion,
    kind: "Route",
    metadata: { name: routeName },
    spec: { listeners: ["edge"], domains: ["*"], routes: rules.map((r) => ({ match: { prefix: r.prefix }, backends: [{ service: r.service }] })) },
  };
}

export interface LatencyRigOptions {
  /**
   * Routes of bench/support/synthetic-config.ts (their own Services, domains
   * group-K.example.com) added to the same listener before Envoy starts: a realistic
   * amount of configuration for every change to be compiled and pushed with.
   */
  readonly backgroundRoutes?: number;
}

/** Objects per apply when loading background routes, well under the admin API's 4 MiB body limit. */
const applyBatch = 1000;

async function apply(adminUrl: string, objects: readonly unknown[]): Promise<void> {
  const res = await fetch(`${adminUrl}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
  if (res.status !== 200) throw new Error(`apply answered ${res.status}: ${(await res.text()).slice(0, 2000)}`);
}

export async function startLatencyRig(options: LatencyRigOptions = {}): Promise<LatencyRig> {
  const background = options.backgroundRoutes ?? 0;
  const dir = await mkdtemp(join(tmpdir(), "bench-cp-latency-"));
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const stop of stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          process.stderr.write(`bench cleanup: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    })();
    return closing;
  };
  try {
    const alpha = await startHttpUpstream({ name: "alpha" });
    stops.push(() => alpha.close());
    const beta = await startHttpUpstream({ name: "beta" });
    stops.push(() => beta.close());
    const upstreams = { alpha, beta };
    const listenerPort = await freePort();
    // The admin API flushes before it answers, so the debounce never delays an API
    // change; it is set back to the shipped default (50 ms) all the same.
    const controlPlane = await startControlPlane({ dataDir: join(dir, "data"), extraArgs: ["--debounce-ms", "50"] });
    stops.push(() => controlPlane.stop());
    await apply(controlPlane.adminUrl, initialObjects(listenerPort, upstreams));
    // Services before the Routes that name them (sorted by kind), so every batch is accepted on its own.
    const extra = syntheticRoutes(background, "edge").sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "Service" ? -1 : 1));
    for (let i = 0; i < extra.length; i += applyBatch) await apply(controlPlane.adminUrl, extra.slice(i, i + applyBatch));
    const boot = await fetch(`${controlPlane.adminUrl}/api/v1/bootstrap?node=bench-1&cluster=bench`);
    if (boot.status !== 200) throw new Error(`bootstrap answered ${boot.status}: ${await boot.text()}`);
    // Envoy's initial fetch of many clusters takes longer than the harness's default bound.
    const startTimeoutMs = 20_000 + background * 5;
    const envoy = await startEnvoy({ bootstrap: parse(await boot.text()) as Json, name: "bench-cp-latency", logLevel: "warning", startTimeoutMs });
    stops.push(() => envoy.stop());
    const listenerUrl = `http://127.0.0.1:${listenerPort}`;
    await waitUntil(async () => (await httpGet(`${listenerUrl}/`)).body === "served by alpha\n", {
      timeoutMs: startTimeoutMs,
      description: "Envoy serves / from alpha",
      onTimeout: () => envoy.logs(40),
    });
    return { controlPlane, envoy, upstreams, listenerUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}
