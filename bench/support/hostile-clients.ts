// Child process of bench/hostile-memory.ts: the hostile clients, in their own
// process so the server's RSS and heap are measured alone.
//
// IPC:
//   parent → { type: "connect", variant, prefix, count, metadataBytes }
//   child  → { type: "connected", served, refused, details }   every stream was answered or refused
//   parent → { type: "disconnect" }, child → { type: "disconnected" }   every stream closed
//   parent → { type: "csds", prefix? }, child → { type: "csds", bytes, nodes, code?, details? }
//   child  → { type: "failed", message }
//   parent → { type: "exit" }
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { ClientStatusRequestSchema, ClientStatusResponseSchema } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawDeltaClient, RawXdsClient } from "@ts-control-plane/xds/testing";

export type HostileParentMessage =
  | { readonly type: "connect"; readonly variant: "sotw" | "delta"; readonly prefix: string; readonly count: number; readonly metadataBytes: number }
  | { readonly type: "disconnect" }
  | { readonly type: "csds"; readonly prefix?: string }
  | { readonly type: "exit" };
export type HostileChildMessage =
  | { readonly type: "connected"; readonly served: number; readonly refused: number; readonly details: string }
  | { readonly type: "disconnected" }
  | { readonly type: "csds"; readonly bytes: number; readonly nodes: number; readonly code?: number; readonly details?: string }
  | { readonly type: "failed"; readonly message: string };

const port = Number(process.argv[2]);
const send = (m: HostileChildMessage): void => void process.send?.(m);
let open: Array<RawXdsClient | RawDeltaClient> = [];
const csds = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": -1 });
const identity = (b: Buffer): Buffer => b;

async function connect(m: Extract<HostileParentMessage, { type: "connect" }>): Promise<void> {
  const outcomes: Array<Promise<{ served: boolean; details: string }>> = [];
  for (let i = 0; i < m.count; i++) {
    // A different string per node, as real metadata would be: nothing is shared.
    const node = create(NodeSchema, { id: `${m.prefix}${i}`, cluster: "hostile", metadata: { blob: String(i).padEnd(m.metadataBytes, "x") } });
    const c = m.variant === "sotw" ? new RawXdsClient({ port }) : new RawDeltaClient({ port });
    if (c instanceof RawXdsClient) c.write(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, resourceNames: ["e1"], node }));
    else c.write(DeltaDiscoveryRequestSchema, create(DeltaDiscoveryRequestSchema, { typeUrl: TypeUrl.Endpoint, resourceNamesSubscribe: ["e1"], node }));
    open.push(c);
    outcomes.push(
      Promise.race([
        c.next(30_000).then((r) => {
          if (c instanceof RawXdsClient) c.ack(r as Parameters<RawXdsClient["ack"]>[0]);
          else c.ack(r as Parameters<RawDeltaClient["ack"]>[0]);
          return { served: true, details: "" };
        }),
        c.ended.then((s) => ({ served: false, details: s.details })),
      ]),
    );
  }
  const results = await Promise.all(outcomes);
  const refused = results.filter((r) => !r.served);
  send({ type: "connected", served: results.length - refused.length, refused: refused.length, details: refused[0]?.details ?? "" });
}

async function disconnect(): Promise<void> {
  const closing = open;
  open = [];
  for (const c of closing) c.close();
  await Promise.all(closing.map((c) => c.ended));
  send({ type: "disconnected" });
}

function fetchCsds(prefix: string | undefined): void {
  const request = create(ClientStatusRequestSchema, {
    excludeResourceContents: true,
    ...(prefix === undefined ? {} : { nodeMatchers: [{ nodeId: { matchPattern: { case: "prefix", value: prefix } } }] }),
  });
  const path = "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus";
  csds.makeUnaryRequest(path, identity, identity, Buffer.from(toBinary(ClientStatusRequestSchema, request)), (error, value) => {
    if (error || !value) send({ type: "csds", bytes: 0, nodes: 0, code: error?.code ?? -1, details: error?.details ?? "no response" });
    else send({ type: "csds", bytes: value.length, nodes: fromBinary(ClientStatusResponseSchema, value).config.length });
  });
}

process.on("message", (m: HostileParentMessage) => {
  const run = async (): Promise<void> => {
    if (m.type === "connect") await connect(m);
    else if (m.type === "disconnect") await disconnect();
    else if (m.type === "csds") fetchCsds(m.prefix);
    else {
      for (const c of open) c.close();
      csds.close();
      process.exit(0);
    }
  };
  run().catch((error: unknown) => send({ type: "failed", message: error instanceof Error ? error.message : String(error) }));
});
