// Child process of sotw-fanout.ts: N lean SotW ADS clients, each on its own
// HTTP/2 connection like N Envoys. Each subscribes to CDS (wildcard) and to EDS
// for every cluster name, and ACKs every response. Runs apart from the server
// so the server's RSS is measured alone.
//
// argv: --port P --clients N --clusters R. Talks to the parent over IPC:
//   child → { type: "connecting", at }         modules loaded, about to open the streams
//   child → { type: "initial", at }            every client has CDS and EDS with R resources each
//   parent → { type: "expect", typeUrl, version }, child → { type: "armed" }
//   child → { type: "received", at, cpuMs }   every client got that version (absolute ms per client; CPU the clients spent since "armed")
//   child → { type: "failed", message }        a stream ended or a response was not what was expected
//   parent → { type: "exit" }
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { TypeUrl } from "@ts-control-plane/xds";
import { clusterNames } from "./support/fanout-resources.ts";
import { encodeNode, encodeRequest, encodeResourceNames, scanResponse } from "./support/lean-discovery.ts";

export type ParentMessage = { readonly type: "expect"; readonly typeUrl: string; readonly version: string } | { readonly type: "exit" };
export type ChildMessage =
  | { readonly type: "connecting"; readonly at: number }
  | { readonly type: "initial"; readonly at: number }
  | { readonly type: "armed" }
  | { readonly type: "received"; readonly at: readonly number[]; readonly cpuMs: number }
  | { readonly type: "failed"; readonly message: string };

const adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const identity = (b: Buffer): Buffer => b;
/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const now = (): number => performance.timeOrigin + performance.now();

const { values } = parseArgs({ options: { port: { type: "string" }, clients: { type: "string" }, clusters: { type: "string" } } });
const port = Number(values.port);
const clientCount = Number(values.clients);
const clusterCount = Number(values.clusters);
if (!process.send || !(port > 0) || !(clientCount > 0) || !(clusterCount > 0)) {
  console.error("usage: fork fanout-clients.ts --port P --clients N --clusters R (with an IPC channel)");
  process.exit(2);
}
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

// Every EDS request and ACK repeats the full name list (a SotW request replaces
// the subscription), so it is encoded once for all clients.
const edsNames = encodeResourceNames(clusterNames(clusterCount));
let expectation: { typeUrl: string; version: string; at: Array<number | undefined>; missing: number; cpu: NodeJS.CpuUsage } | undefined;
let initialMissing = clientCount;
let failed = false;

function fail(message: string): void {
  if (failed) return;
  failed = true;
  send({ type: "failed", message });
}

interface LeanClient {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<Buffer, Buffer>;
}

function connect(index: number): LeanClient {
  // A local subchannel pool gives each client its own connection; grpc-js
  // would otherwise share one connection among channels to the same target.
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
    "grpc.max_receive_message_length": -1,
  });
  const call = client.makeBidiStreamRequest(adsPath, identity, identity);
  const versions = new Map<string, string>();
  let initialDone = false;
  call.on("data", (bytes: Buffer) => {
    let header: ReturnType<typeof scanResponse>;
    try {
      header = scanResponse(bytes);
    } catch (error) {
      fail(`client ${index}: undecodable response: ${(error as Error).message}`);
      return;
    }
    const at = now();
    const isEds = header.typeUrl === TypeUrl.Endpoint;
    call.write(
      encodeRequest({
        typeUrl: header.typeUrl,
        versionInfo: header.versionInfo,
        responseNonce: header.nonce,
        ...(isEds ? { resourceNames: edsNames } : {}),
      }),
    );
    if (header.resources !== clusterCount) {
      fail(`client ${index}: ${header.typeUrl} response carries ${header.resources} resources, expected ${clusterCount}`);
      return;
    }
    versions.set(header.typeUrl, header.versionInfo);
    if (!initialDone && versions.has(TypeUrl.Cluster) && versions.has(TypeUrl.Endpoint)) {
      initialDone = true;
      if (--initialMissing === 0) send({ type: "initial", at });
    }
    const e = expectation;
    if (e && e.typeUrl === header.typeUrl && e.version === header.versionInfo && e.at[index] === undefined) {
      e.at[index] = at;
      if (--e.missing === 0) {
        const cpu = process.cpuUsage(e.cpu);
        send({ type: "received", at: e.at as number[], cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      }
    }
  });
  call.on("error", (error: Error) => {
    if (!exiting) fail(`client ${index}: stream error: ${error.message}`);
  });
  call.on("end", () => {
    if (!exiting) fail(`client ${index}: the server ended the stream`);
  });
  // CDS first, as Envoy does; EDS for every name right away (the server orders its answers).
  const node = encodeNode({ id: `bench-client-${index}`, cluster: "bench" });
  call.write(encodeRequest({ typeUrl: TypeUrl.Cluster, node }));
  call.write(encodeRequest({ typeUrl: TypeUrl.Endpoint, resourceNames: edsNames }));
  return { client, call };
}

let exiting = false;
const clients: LeanClient[] = [];
send({ type: "connecting", at: now() });
for (let i = 0; i < clientCount; i++) clients.push(connect(i));

function exit(): void {
  exiting = true;
  for (const c of clients) {
    c.call.end();
    c.client.close();
  }
  process.exit(0);
}

process.on("message", (message: ParentMessage) => {
  if (message.type === "exit") {
    exit();
    return;
  }
  expectation = { typeUrl: message.typeUrl, version: message.version, at: new Array(clientCount).fill(undefined), missing: clientCount, cpu: process.cpuUsage() };
  send({ type: "armed" });
});
process.on("disconnect", exit);
