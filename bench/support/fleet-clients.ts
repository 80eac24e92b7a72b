// Child process of the fan-out runs (run-fanout-protocol.ts, for delta-fanout.ts
// and sotw-fanout.ts): N lean ADS clients, Delta or SotW, each on
// its own HTTP/2 connection like N Envoys, so the server's process is measured
// alone. Every client subscribes to CDS (wildcard) and to EDS for every cluster
// name, ACKs every response, and only scans responses (resources are counted,
// never decoded). The gRPC client is our own, over node:http2
// (lean-grpc-stream.ts), not grpc-js: this process shares the machine with the
// server it measures, and grpc-js's decoder alone cost it seconds of CPU in a
// 1,000-client initial sync.
//
// argv: --port P --clients N --resources R --protocol delta|sotw
// [--ca FILE --cert FILE --key FILE] (mTLS: every client presents that certificate). IPC:
//   child → { type: "connecting", at }        modules loaded, about to open the streams
//   child → { type: "initial", at, cpuMs }    every client holds R clusters and R assignments; the
//            process's own CPU since "connecting"
//   parent → { type: "expect", typeUrl, version }, child → { type: "armed" }
//   child → { type: "received", at, resources, bytes, cpuMs }  every client got a response of that
//            type and (system) version: per client its arrival time, resources and message bytes
//   child → { type: "failed", message }       a stream ended or a response was not what was expected
//   parent → { type: "exit" }
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { TypeUrl } from "@ts-control-plane/xds";
import { clusterNames } from "./fanout-resources.ts";
import { encodeNode, encodeRequest, encodeResourceNames, scanResponse } from "./lean-discovery.ts";
import { now } from "./fanout-measure.ts";
import { openLeanGrpcStream, type LeanGrpcStream } from "./lean-grpc-stream.ts";
import { encodeDeltaNode, encodeDeltaRequest, encodeDeltaSubscribe } from "./lean-delta-request.ts";

export type FleetProtocol = "delta" | "sotw";
export type FleetParentMessage = { readonly type: "expect"; readonly typeUrl: string; readonly version: string } | { readonly type: "exit" };
export type FleetChildMessage =
  | { readonly type: "connecting"; readonly at: number }
  | { readonly type: "initial"; readonly at: number; readonly cpuMs: number }
  | { readonly type: "armed" }
  | { readonly type: "received"; readonly at: readonly number[]; readonly resources: readonly number[]; readonly bytes: readonly number[]; readonly cpuMs: number }
  | { readonly type: "failed"; readonly message: string };

const paths: Record<FleetProtocol, string> = {
  sotw: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
  delta: "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
};

const { values } = parseArgs({
  options: { port: { type: "string" }, clients: { type: "string" }, resources: { type: "string" }, protocol: { type: "string" }, ca: { type: "string" }, cert: { type: "string" }, key: { type: "string" } },
});
const port = Number(values.port);
const clientCount = Number(values.clients);
const resourceCount = Number(values.resources);
const protocol = values.protocol as FleetProtocol;
if (!process.send || !(port > 0) || !(clientCount > 0) || !(resourceCount > 0) || !(protocol === "delta" || protocol === "sotw")) {
  console.error("usage: fork fleet-clients.ts --port P --clients N --resources R --protocol delta|sotw (with an IPC channel)");
  process.exit(2);
}
// Read once; each client still makes its own connection and TLS handshake.
// The server's certificate names 127.0.0.1 (an IP SAN), which Node checks when
// no servername is given (an IP is never sent as SNI).
const tls =
  values.ca === undefined || values.cert === undefined || values.key === undefined
    ? undefined
    : { ca: readFileSync(values.ca), cert: readFileSync(values.cert), key: readFileSync(values.key) };
const authority = `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`;
const send = (message: FleetChildMessage): void => {
  process.send?.(message);
};

// The name list is encoded once for all clients: SotW repeats it in every EDS
// request and ACK (a SotW request replaces the subscription); Delta sends it
// once per stream and ACKs with the nonce alone.
const names = clusterNames(resourceCount);
const sotwNames = protocol === "sotw" ? encodeResourceNames(names) : new Uint8Array(0);
const deltaSubscribe = protocol === "delta" ? encodeDeltaSubscribe(names) : new Uint8Array(0);

interface Expectation {
  readonly typeUrl: string;
  readonly version: string;
  readonly at: Array<number | undefined>;
  readonly resources: number[];
  readonly bytes: number[];
  missing: number;
  readonly cpu: NodeJS.CpuUsage;
}
let expectation: Expectation | undefined;
let initialMissing = clientCount;
let failed = false;
let exiting = false;

function fail(message: string): void {
  if (failed) return;
  failed = true;
  send({ type: "failed", message });
}

function ackFor(header: ReturnType<typeof scanResponse>): Buffer {
  if (protocol === "delta") return encodeDeltaRequest({ typeUrl: header.typeUrl, responseNonce: header.nonce });
  return encodeRequest({
    typeUrl: header.typeUrl,
    versionInfo: header.versionInfo,
    responseNonce: header.nonce,
    ...(header.typeUrl === TypeUrl.Endpoint ? { resourceNames: sotwNames } : {}),
  });
}

function connect(index: number): LeanGrpcStream {
  // Resources held per type until the initial config is complete: a SotW
  // response carries all of them, Delta may split them over several responses.
  const held = new Map<string, number>();
  let initialDone = false;
  const onMessage = (bytes: Buffer): void => {
    let header: ReturnType<typeof scanResponse>;
    try {
      header = scanResponse(bytes);
    } catch (error) {
      fail(`client ${index}: undecodable response: ${(error as Error).message}`);
      return;
    }
    const at = now();
    call.write(ackFor(header));
    if (protocol === "sotw" && header.resources !== resourceCount) {
      fail(`client ${index}: ${header.typeUrl} response carries ${header.resources} resources, expected ${resourceCount}`);
      return;
    }
    if (!initialDone) {
      held.set(header.typeUrl, protocol === "sotw" ? header.resources : (held.get(header.typeUrl) ?? 0) + header.resources);
      if ((held.get(TypeUrl.Cluster) ?? 0) >= resourceCount && (held.get(TypeUrl.Endpoint) ?? 0) >= resourceCount) {
        initialDone = true;
        if (--initialMissing === 0) {
          const cpu = process.cpuUsage(connectingCpu);
          send({ type: "initial", at, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
        }
      }
    }
    const e = expectation;
    if (e && e.typeUrl === header.typeUrl && e.version === header.versionInfo && e.at[index] === undefined) {
      e.at[index] = at;
      e.resources[index] = header.resources;
      e.bytes[index] = bytes.length;
      if (--e.missing === 0) {
        const cpu = process.cpuUsage(e.cpu);
        send({ type: "received", at: e.at as number[], resources: e.resources, bytes: e.bytes, cpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      }
    }
  };
  const call = openLeanGrpcStream({
    authority,
    path: paths[protocol],
    ...(tls === undefined ? {} : { tls }),
    onMessage,
    onEnd: (error) => {
      if (!exiting) fail(error === undefined ? `client ${index}: the server ended the stream` : `client ${index}: stream error: ${error}`);
    },
  });
  // CDS first (an empty first request: wildcard), as Envoy does; EDS for every
  // name right away (the server orders its answers).
  const id = `bench-client-${index}`;
  if (protocol === "delta") {
    call.write(encodeDeltaRequest({ typeUrl: TypeUrl.Cluster, node: encodeDeltaNode({ id, cluster: "bench" }) }));
    call.write(encodeDeltaRequest({ typeUrl: TypeUrl.Endpoint, subscribe: deltaSubscribe }));
  } else {
    call.write(encodeRequest({ typeUrl: TypeUrl.Cluster, node: encodeNode({ id, cluster: "bench" }) }));
    call.write(encodeRequest({ typeUrl: TypeUrl.Endpoint, resourceNames: sotwNames }));
  }
  return call;
}

const clients: LeanGrpcStream[] = [];
send({ type: "connecting", at: now() });
const connectingCpu = process.cpuUsage();
for (let i = 0; i < clientCount; i++) clients.push(connect(i));

function exit(): void {
  exiting = true;
  for (const c of clients) c.close();
  process.exit(0);
}

process.on("message", (message: FleetParentMessage) => {
  if (message.type === "exit") {
    exit();
    return;
  }
  expectation = {
    typeUrl: message.typeUrl,
    version: message.version,
    at: new Array<number | undefined>(clientCount).fill(undefined),
    resources: new Array<number>(clientCount).fill(0),
    bytes: new Array<number>(clientCount).fill(0),
    missing: clientCount,
    cpu: process.cpuUsage(),
  };
  send({ type: "armed" });
});
process.on("disconnect", exit);
