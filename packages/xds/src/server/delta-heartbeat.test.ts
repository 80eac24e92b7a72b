// TTL and heartbeats over Delta, on the wire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { createLinearCache } from "../cache/linear-cache.ts";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { endpoints } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import type { DeltaResponseEvent } from "./delta-stream.ts";
import { createXdsServer } from "./xds-server.ts";

test("resources with a TTL carry it, and are re-announced without their body while the client holds them", async (t) => {
  const ttl = encodeResource(ClusterLoadAssignmentSchema, endpoints("ttl", [1]), { ttlMs: 1500 });
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: [ttl, endpoints("plain", [2])] });
  const events: DeltaResponseEvent[] = [];
  const server = createXdsServer({ cache, heartbeatIntervalMs: 100, hooks: { onResponse: (e) => events.push(e as DeltaResponseEvent) } });
  const port = await server.listen({ port: 0 });
  const c = new RawDeltaClient({ port });
  t.after(async () => {
    c.close();
    await server.close({ graceMs: 100 });
  });
  c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["ttl", "plain"] });
  const first = await c.next();
  assert.deepEqual(first.resources.map((r) => [r.name, r.ttl?.seconds, r.ttl?.nanos, r.resource !== undefined]), [
    ["plain", undefined, undefined, true],
    ["ttl", 1n, 500_000_000, true],
  ]);
  c.ack(first);
  const beat = await c.next(1000);
  assert.deepEqual(beat.resources.map((r) => [r.name, r.version, r.ttl?.seconds, r.resource]), [["ttl", ttl.version, 1n, undefined]], "name, version and ttl, no body");
  c.ack(beat);
  assert.deepEqual(events.at(-1)?.heartbeats, ["ttl"]);
  assert.deepEqual(events.at(-1)?.resourceNames, []);
  assert.ok(server.deltaMetrics.heartbeatsWritten >= 1);
  // A client that no longer holds the resource gets no heartbeat for it.
  c.send({ typeUrl: TypeUrl.Endpoint, unsubscribe: ["ttl"] });
  await new Promise((r) => setTimeout(r, 150));
  const seen = c.responses.length;
  await c.expectNone(300);
  assert.equal(c.responses.length, seen);
});

test("a negative heartbeat interval is misuse", () => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint });
  assert.throws(() => createXdsServer({ cache, heartbeatIntervalMs: -1 }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
});
