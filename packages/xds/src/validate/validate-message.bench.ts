// Measures validateMessage on a realistic fleet: 10,000 clusters and 1,000
// listeners with an HTTP connection manager (the Any is unpacked and checked).
// Run: bash scripts/toolchain.sh node packages/xds/src/validate/validate-message.bench.ts
import { fromJson, type DescMessage, type Message } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import * as fx from "../../testing/envoy-fixtures.ts";
import { validateMessage } from "./validate-message.ts";

const registry = envoyRegistry();
const clusters: Message[] = [];
for (let i = 0; i < 10_000; i++) {
  const json = i % 2 === 0 ? fx.tlsCluster(`backend-${i}`, 8000 + (i % 1000)) : fx.edsCluster(`svc-${i}`);
  clusters.push(fromJson(ClusterSchema, json, { registry }));
}
const listeners: Message[] = [];
for (let i = 0; i < 1_000; i++) {
  const json = i % 2 === 0 ? fx.hcmListener(`http-${i}`, 10_000 + i, `routes-${i}`) : fx.rdsTlsListener(`tls-${i}`, 20_000 + i);
  listeners.push(fromJson(ListenerSchema, json, { registry }));
}

/**
 * Wall time and this process's CPU time per round: on a shared machine the CPU
 * time is the steadier figure (it does not count time spent waiting for a core).
 */
function run(label: string, schema: DescMessage, messages: readonly Message[]): void {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < 8; round++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let violations = 0;
    for (const m of messages) violations += validateMessage(schema, m).length;
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if (violations !== 0) throw new Error(`${label}: ${violations} unexpected violations`);
  }
  const median = (xs: number[]): number => xs.slice(1).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  const per = (ms: number): string => ((ms * 1000) / messages.length).toFixed(1);
  console.log(
    `${label}: first pass ${wall[0]!.toFixed(0)} ms wall (plans compiled); warm median ${median(wall).toFixed(0)} ms wall, ${median(cpu).toFixed(0)} ms CPU = ${per(median(cpu))} µs CPU per resource`,
  );
}

run(`${clusters.length} clusters`, ClusterSchema, clusters);
run(`${listeners.length} listeners with HCM`, ListenerSchema, listeners);
