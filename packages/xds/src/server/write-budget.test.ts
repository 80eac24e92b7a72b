// A client that stops reading costs a bounded write buffer (issue 15 item 3):
// the server stops writing to it past maxBufferedBytes, never queues the
// versions superseded meanwhile, sends the latest once it reads again, and
// ends it with RESOURCE_EXHAUSTED past stuckStreamTimeoutMs. The client is a
// raw node:http2 stream that does not read, so HTTP/2 flow control really
// pushes back on the server.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { DiscoveryRequestSchema, DiscoveryResponseSchema, type DiscoveryResponse } from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { createLinearCache } from "../cache/linear-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { endpoints } from "../../testing/fixtures.ts";
import { adsPath } from "../../testing/raw-xds-client.ts";
import { serveForTest, until } from "../../testing/serve-for-test.ts";

const names = ["a", "b", "c", "d"];
/** About 100 KB each: four make a response several times the budget. */
const big = (name: string, marker: number) => endpoints(name, [marker, ...Array.from({ length: 4000 }, (_, i) => 20000 + i)]);

/** A SotW ADS stream over raw HTTP/2 that reads only when told to. */
class NonReadingClient {
  readonly #session: http2.ClientHttp2Session;
  readonly #stream: http2.ClientHttp2Stream;
  readonly responses: DiscoveryResponse[] = [];
  readonly status: Promise<{ code: number; message: string }>;
  #pending = Buffer.alloc(0);

  constructor(port: number) {
    this.#session = http2.connect(`http://127.0.0.1:${port}`);
    this.#session.on("error", () => {});
    this.#stream = this.#session.request({ ":method": "POST", ":path": adsPath, "content-type": "application/grpc", te: "trailers" });
    this.#stream.on("error", () => {});
    this.#stream.pause();
    this.status = new Promise((resolve) => {
      this.#stream.on("trailers", (t) => resolve({ code: Number(t["grpc-status"]), message: decodeURIComponent(String(t["grpc-message"] ?? "")) }));
    });
  }

  send(typeUrl: string, resourceNames: readonly string[], nodeId: string): void {
    const bytes = toBinary(DiscoveryRequestSchema, create(DiscoveryRequestSchema, { typeUrl, resourceNames: [...resourceNames], node: create(NodeSchema, { id: nodeId, cluster: "test" }) }));
    const frame = Buffer.alloc(5 + bytes.length);
    frame.writeUInt32BE(bytes.length, 1);
    frame.set(bytes, 5);
    this.#stream.write(frame);
  }

  /** Starts reading: gRPC frames are decoded as they arrive. */
  read(): void {
    this.#stream.on("data", (chunk: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, chunk]);
      while (this.#pending.length >= 5) {
        const size = this.#pending.readUInt32BE(1);
        if (this.#pending.length < 5 + size) break;
        this.responses.push(fromBinary(DiscoveryResponseSchema, this.#pending.subarray(5, 5 + size)));
        this.#pending = this.#pending.subarray(5 + size);
      }
    });
    this.#stream.resume();
  }

  close(): void {
    this.#stream.close();
    this.#session.destroy();
  }
}

test("a client that stops reading: the buffer stays within the budget plus one response, superseded versions are not queued, the latest comes when it reads", { timeout: 60_000 }, async (t) => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: names.map((n) => big(n, 1)) });
  const budget = 128 * 1024;
  const sent: number[] = [];
  const { server, port, client } = await serveForTest(t, { cache, maxBufferedBytes: budget, stuckStreamTimeoutMs: 0, hooks: { onResponse: (e) => sent.push(e.bytes) } });
  const c = client(new NonReadingClient(port));
  c.send(TypeUrl.Endpoint, names, "stuck");
  await until("the stream to go over its budget", () => server.metrics.streamsOverBudget === 1);
  const response = Math.max(...sent);
  assert.ok(response > budget, `one response (${response} bytes) is larger than the budget`);
  for (let i = 2; i <= 21; i++) {
    await cache.updateResources({ upsert: names.map((n) => big(n, i)) });
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(server.metrics.bufferedBytes <= budget + response, `buffered ${server.metrics.bufferedBytes} <= ${budget} + ${response}`);
  }
  assert.equal(sent.length, 1, "none of the 20 versions set while the client did not read was written to it");
  assert.equal(server.metrics.streamsOverBudget, 1);
  c.read();
  await until("the latest version", () => c.responses.at(-1)?.versionInfo === cache.version);
  assert.ok(c.responses.length <= 2, `got ${c.responses.length} responses: the first, then the latest`);
  await until("the buffer to drain", () => server.metrics.bufferedBytes === 0 && server.metrics.streamsOverBudget === 0);
});

test("a client stuck past stuckStreamTimeoutMs is ended with RESOURCE_EXHAUSTED, recorded in status", { timeout: 60_000 }, async (t) => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: names.map((n) => big(n, 1)) });
  const { server, port, client } = await serveForTest(t, { cache, maxBufferedBytes: 64 * 1024, stuckStreamTimeoutMs: 200 });
  const c = client(new NonReadingClient(port));
  c.send(TypeUrl.Endpoint, names, "stuck");
  await until("the stuck stream to be ended", () => server.metrics.stuckStreamsEnded === 1);
  assert.equal(server.metrics.openStreams, 0);
  assert.equal(server.metrics.bufferedBytes, 0, "its bytes leave the server's count with it");
  assert.equal(server.metrics.streamsOverBudget, 0);
  const error = server.status.node("stuck")?.lastStreamError;
  assert.equal(error?.reason, "stuck");
  assert.equal(error?.code, 8);
  assert.match(error?.message ?? "", /stayed over maxBufferedBytes 65536 for 200 ms \(\d+ bytes written and not read\)/);
  // What was buffered comes first, then the status.
  c.read();
  const status = await c.status;
  assert.equal(status.code, 8, "RESOURCE_EXHAUSTED");
  assert.match(status.message, /stayed over maxBufferedBytes 65536 for 200 ms .*reconnect and read/);
});
