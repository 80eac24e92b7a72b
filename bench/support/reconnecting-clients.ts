// Child process of the replica-restart run of bench/postgres-replicas.ts: N lean SotW ADS
// clients (CDS wildcard + EDS for every cluster name, ACK every response, responses only
// scanned) that reconnect when their stream ends, as Envoy does with several xDS
// addresses: the next port of --ports, round robin, every 50 ms, sending the versions
// they hold in the first request of the new stream.
//
// argv: --ports P1,P2,... --clients N --resources R. IPC:
//   child → { type: "initial", at }     every client holds R clusters and R assignments
//   parent → { type: "watch" }, child → { type: "armed" }
//   child → { type: "converged", ... }  every client lost its stream, reconnected, and got CDS and
//            EDS again: per client when its stream ended, when it had both, the port it reconnected
//            to, and the bytes of the responses it got on the new stream (what was resent)
//   child → { type: "failed", message }
//   parent → { type: "exit" }
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { TypeUrl } from "@ts-control-plane/xds";
import { now } from "./fanout-measure.ts";
import { clusterNames } from "./fanout-resources.ts";
import { encodeNode, encodeRequest, encodeResourceNames, scanResponse } from "./lean-discovery.ts";

export type ReconnectParentMessage = { readonly type: "watch" } | { readonly type: "exit" };
export type ReconnectChildMessage =
  | { readonly type: "initial"; readonly at: number }
  | { readonly type: "armed" }
  | { readonly type: "converged"; readonly lostAt: readonly number[]; readonly convergedAt: readonly number[]; readonly ports: readonly number[]; readonly bytes: readonly number[]; readonly attempts: readonly number[] }
  | { readonly type: "failed"; readonly message: string };

const path = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const identity = (b: Buffer): Buffer => b;
const { values } = parseArgs({ options: { ports: { type: "string" }, clients: { type: "string" }, resources: { type: "string" } } });
const ports = (values.ports ?? "").split(",").map(Number);
const clientCount = Number(values.clients);
const resourceCount = Number(values.resources);
if (!process.send || ports.length === 0 || !ports.every((p) => p > 0) || !(clientCount > 0) || !(resourceCount > 0)) {
  console.error("usage: fork reconnecting-clients.ts --ports P1,P2 --clients N --resources R (with an IPC channel)");
  process.exit(2);
}
const send = (m: ReconnectChildMessage): void => {
  process.send?.(m);
};
const sotwNames = encodeResourceNames(clusterNames(resourceCount));

interface Watch {
  readonly lostAt: number[];
  readonly convergedAt: number[];
  readonly ports: number[];
  readonly bytes: number[];
  readonly attempts: number[];
  missing: number;
}
let watch: Watch | undefined;
let initialMissing = clientCount;
let exiting = false;

class LeanClient {
  readonly #index: number;
  #portIndex = 0;
  #client: grpc.Client | undefined;
  #call: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  /** Last version per type: sent in the first request of a new stream, as Envoy does. */
  readonly #versions = new Map<string, string>();
  #initialDone = false;
  /** Types received on the current stream since the stream was lost (the watch). */
  #since: Set<string> | undefined;

  constructor(index: number) {
    this.#index = index;
    this.#open();
  }

  #open(): void {
    const port = ports[this.#portIndex % ports.length] ?? ports[0] ?? 0;
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": -1, "grpc.initial_reconnect_backoff_ms": 50 });
    const call = client.makeBidiStreamRequest(path, identity, identity);
    this.#client = client;
    this.#call = call;
    let ended = false;
    const lost = (): void => {
      if (ended || exiting) return;
      ended = true;
      client.close();
      const w = watch;
      if (w !== undefined) {
        if (w.lostAt[this.#index] === 0) w.lostAt[this.#index] = now();
        w.attempts[this.#index] = (w.attempts[this.#index] ?? 0) + 1;
        this.#since = new Set();
      }
      this.#portIndex++;
      setTimeout(() => this.#open(), 50);
    };
    call.on("error", lost);
    call.on("end", lost);
    call.on("data", (bytes: Buffer) => {
      const header = scanResponse(bytes);
      call.write(encodeRequest({ typeUrl: header.typeUrl, versionInfo: header.versionInfo, responseNonce: header.nonce, ...(header.typeUrl === TypeUrl.Endpoint ? { resourceNames: sotwNames } : {}) }));
      this.#versions.set(header.typeUrl, header.versionInfo);
      if (!this.#initialDone && this.#versions.has(TypeUrl.Cluster) && this.#versions.has(TypeUrl.Endpoint)) {
        this.#initialDone = true;
        if (--initialMissing === 0) send({ type: "initial", at: now() });
      }
      const w = watch;
      const since = this.#since;
      if (w === undefined || since === undefined || w.convergedAt[this.#index] !== 0) return;
      w.bytes[this.#index] = (w.bytes[this.#index] ?? 0) + bytes.length;
      since.add(header.typeUrl);
      if (since.has(TypeUrl.Cluster) && since.has(TypeUrl.Endpoint)) {
        w.convergedAt[this.#index] = now();
        w.ports[this.#index] = port;
        if (--w.missing === 0) send({ type: "converged", lostAt: w.lostAt, convergedAt: w.convergedAt, ports: w.ports, bytes: w.bytes, attempts: w.attempts });
      }
    });
    const id = `restart-client-${this.#index}`;
    call.write(encodeRequest({ typeUrl: TypeUrl.Cluster, versionInfo: this.#versions.get(TypeUrl.Cluster) ?? "", node: encodeNode({ id, cluster: "bench" }) }));
    call.write(encodeRequest({ typeUrl: TypeUrl.Endpoint, versionInfo: this.#versions.get(TypeUrl.Endpoint) ?? "", resourceNames: sotwNames }));
  }

  close(): void {
    this.#call?.end();
    this.#client?.close();
  }
}

const clients: LeanClient[] = [];
for (let i = 0; i < clientCount; i++) clients.push(new LeanClient(i));

process.on("message", (message: ReconnectParentMessage) => {
  if (message.type === "exit") {
    exiting = true;
    for (const c of clients) c.close();
    process.exit(0);
  }
  const zeros = () => new Array<number>(clientCount).fill(0);
  watch = { lostAt: zeros(), convergedAt: zeros(), ports: zeros(), bytes: zeros(), attempts: zeros(), missing: clientCount };
  send({ type: "armed" });
});
process.on("disconnect", () => {
  exiting = true;
  process.exit(0);
});
