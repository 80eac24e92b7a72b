// Child process of the replica-restart run of bench/postgres-replicas.ts: N lean ADS
// clients, SotW or Delta (CDS wildcard + EDS for every cluster name, ACK every response,
// responses only scanned) that reconnect when their stream ends, as Envoy does with several
// xDS addresses: the next port of --ports, round robin, every 50 ms, sending the versions
// they hold in the first request of the new stream (SotW version_info; Delta
// initial_resource_versions, so a replica with the same versions sends nothing).
//
// argv: --ports P1,P2,... --clients N --resources R [--protocol sotw|delta] [--id-prefix P]
// (node ids P-0, P-1, ...). IPC:
//   child → { type: "initial", at }     every client holds R clusters and R assignments
//   parent → { type: "watch" }, child → { type: "armed" }
//   child → { type: "converged", ... }  every client lost its stream, reconnected, and got CDS and
//            EDS again: per client when its stream ended, when it had both, the port it reconnected
//            to, and the bytes of the responses it got on the new stream (what was resent)
//            (SotW only: over Delta nothing may come, so the parent watches status instead)
//   parent → { type: "report" }, child → { type: "report", ports, bytes, resources }  where each
//            client is now, and the bytes and resources it got on new streams since the watch
//   child → { type: "failed", message }
//   parent → { type: "exit" }
import { parseArgs } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { TypeUrl } from "@ts-control-plane/xds";
import { now } from "./fanout-measure.ts";
import { clusterNames } from "./fanout-resources.ts";
import { concat, lengthDelimited, stringField } from "@ts-control-plane/xds";
import { encodeNode, encodeRequest, encodeResourceNames, readVarint, scanResponse } from "./lean-discovery.ts";
import { encodeDeltaNode, encodeDeltaRequest, encodeDeltaSubscribe } from "./lean-delta-request.ts";

export type ReconnectParentMessage = { readonly type: "watch" } | { readonly type: "report" } | { readonly type: "exit" };
export type ReconnectChildMessage =
  | { readonly type: "initial"; readonly at: number }
  | { readonly type: "armed" }
  | { readonly type: "converged"; readonly lostAt: readonly number[]; readonly convergedAt: readonly number[]; readonly ports: readonly number[]; readonly bytes: readonly number[]; readonly attempts: readonly number[] }
  | { readonly type: "report"; readonly ports: readonly number[]; readonly bytes: readonly number[]; readonly resources: readonly number[] }
  | { readonly type: "failed"; readonly message: string };

const paths = {
  sotw: "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources",
  delta: "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
} as const;
const identity = (b: Buffer): Buffer => b;
const { values } = parseArgs({ options: { ports: { type: "string" }, clients: { type: "string" }, resources: { type: "string" }, protocol: { type: "string" }, "id-prefix": { type: "string" } } });
if (values.protocol !== undefined && values.protocol !== "sotw" && values.protocol !== "delta") {
  console.error(`--protocol takes sotw or delta, got ${JSON.stringify(values.protocol)}`);
  process.exit(2);
}
const protocol: "sotw" | "delta" = values.protocol === "delta" ? "delta" : "sotw";
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
const deltaSubscribe = encodeDeltaSubscribe(clusterNames(resourceCount));
const utf8 = new TextDecoder();

/** The length-delimited fields of a message, by field number (other wire types skipped). */
function fields(buf: Uint8Array, wanted: (field: number, bytes: Uint8Array) => void): void {
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const wire = tag & 7;
    pos = afterTag;
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [length, start] = readVarint(buf, pos);
      pos = start + length;
      wanted(Math.floor(tag / 8), buf.subarray(start, pos));
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** A DeltaDiscoveryResponse's resources (2): Resource { version (1), name (3) }. */
function deltaResources(buf: Uint8Array): [string, string][] {
  const out: [string, string][] = [];
  fields(buf, (field, bytes) => {
    if (field !== 2) return;
    let name = "";
    let version = "";
    fields(bytes, (f, b) => {
      if (f === 1) version = utf8.decode(b);
      else if (f === 3) name = utf8.decode(b);
    });
    out.push([name, version]);
  });
  return out;
}

/** DeltaDiscoveryRequest.initial_resource_versions (5): map<string, string> entries. */
const initialVersions = (held: ReadonlyMap<string, string> | undefined): Uint8Array =>
  concat([...(held ?? new Map<string, string>())].map(([name, version]) => lengthDelimited(5, concat([stringField(1, name), stringField(2, version)]))));

interface Watch {
  readonly lostAt: number[];
  readonly convergedAt: number[];
  readonly ports: number[];
  readonly bytes: number[];
  readonly resources: number[];
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
  /** Delta: the version of each resource held, per type (initial_resource_versions). */
  readonly #held = new Map<string, Map<string, string>>();
  #port = 0;
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
    const call = client.makeBidiStreamRequest(paths[protocol], identity, identity);
    this.#port = port;
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
      if (protocol === "delta") {
        call.write(encodeDeltaRequest({ typeUrl: header.typeUrl, responseNonce: header.nonce }));
        const held = this.#held.get(header.typeUrl) ?? new Map<string, string>();
        for (const [name, version] of deltaResources(bytes)) held.set(name, version);
        this.#held.set(header.typeUrl, held);
      } else {
        call.write(encodeRequest({ typeUrl: header.typeUrl, versionInfo: header.versionInfo, responseNonce: header.nonce, ...(header.typeUrl === TypeUrl.Endpoint ? { resourceNames: sotwNames } : {}) }));
      }
      this.#versions.set(header.typeUrl, header.versionInfo);
      if (!this.#initialDone && this.#versions.has(TypeUrl.Cluster) && this.#versions.has(TypeUrl.Endpoint)) {
        this.#initialDone = true;
        if (--initialMissing === 0) send({ type: "initial", at: now() });
      }
      const w = watch;
      const since = this.#since;
      if (w === undefined || since === undefined) return;
      w.bytes[this.#index] = (w.bytes[this.#index] ?? 0) + bytes.length;
      w.resources[this.#index] = (w.resources[this.#index] ?? 0) + header.resources;
      if (protocol === "delta" || w.convergedAt[this.#index] !== 0) return;
      since.add(header.typeUrl);
      if (since.has(TypeUrl.Cluster) && since.has(TypeUrl.Endpoint)) {
        w.convergedAt[this.#index] = now();
        w.ports[this.#index] = port;
        if (--w.missing === 0) send({ type: "converged", lostAt: w.lostAt, convergedAt: w.convergedAt, ports: w.ports, bytes: w.bytes, attempts: w.attempts });
      }
    });
    const id = `${values["id-prefix"] ?? "restart-client"}-${this.#index}`;
    if (protocol === "delta") {
      call.write(concat([encodeDeltaRequest({ typeUrl: TypeUrl.Cluster, node: encodeDeltaNode({ id, cluster: "bench" }) }), initialVersions(this.#held.get(TypeUrl.Cluster))]));
      call.write(concat([encodeDeltaRequest({ typeUrl: TypeUrl.Endpoint, subscribe: deltaSubscribe }), initialVersions(this.#held.get(TypeUrl.Endpoint))]));
    } else {
      call.write(encodeRequest({ typeUrl: TypeUrl.Cluster, versionInfo: this.#versions.get(TypeUrl.Cluster) ?? "", node: encodeNode({ id, cluster: "bench" }) }));
      call.write(encodeRequest({ typeUrl: TypeUrl.Endpoint, versionInfo: this.#versions.get(TypeUrl.Endpoint) ?? "", resourceNames: sotwNames }));
    }
  }

  get port(): number {
    return this.#port;
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
  if (message.type === "report") {
    send({ type: "report", ports: clients.map((c) => c.port), bytes: watch?.bytes ?? [], resources: watch?.resources ?? [] });
    return;
  }
  const zeros = () => new Array<number>(clientCount).fill(0);
  watch = { lostAt: zeros(), convergedAt: zeros(), ports: zeros(), bytes: zeros(), resources: zeros(), attempts: zeros(), missing: clientCount };
  send({ type: "armed" });
});
process.on("disconnect", () => {
  exiting = true;
  process.exit(0);
});
