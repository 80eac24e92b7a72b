// maxResponseBytes over Delta, on the wire: a large logical response goes out
// in parts under the limit, and answering any part of it is current.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLinearCache } from "../cache/linear-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { endpoints } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import type { DeltaResponseEvent } from "./delta-stream.ts";
import { createXdsServer } from "./xds-server.ts";

const names = Array.from({ length: 60 }, (_, i) => `cla-${String(i).padStart(2, "0")}`);

test("a response over maxResponseBytes is sent in parts under it; a NACK of an early part still counts", async (t) => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint, resources: names.map((n, i) => endpoints(n, [10000 + i])) });
  const events: DeltaResponseEvent[] = [];
  const server = createXdsServer({ cache, maxResponseBytes: 2048, hooks: { onResponse: (e) => events.push(e as DeltaResponseEvent) } });
  const port = await server.listen({ port: 0 });
  const c = new RawDeltaClient({ port, nodeId: "big" });
  t.after(async () => {
    c.close();
    await server.close({ graceMs: 100 });
  });
  c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["*"] });
  const first = await c.next();
  const parts = events[0]?.parts ?? 0;
  assert.ok(parts >= 3, `split in ${parts} parts`);
  const rest = [];
  for (let i = 1; i < parts; i++) rest.push(await c.next());
  const all = [first, ...rest];
  assert.deepEqual(all.flatMap((r) => r.resources.map((x) => x.name)), names, "every resource once, in order");
  assert.ok(events.every((e) => e.bytes <= 2048), `every part within the limit: ${events.map((e) => e.bytes).join(", ")}`);
  assert.deepEqual(events.map((e) => e.part), Array.from({ length: parts }, (_, i) => i + 1));
  // Envoy answers each part; a NACK of the first is a NACK, not a stale request.
  c.nack(first, "part one rejected");
  for (const r of rest) c.ack(r);
  await c.expectNone(200);
  const s = server.status.node("big")?.types.find((x) => x.typeUrl === TypeUrl.Endpoint);
  assert.equal(s?.nacks, 1);
  assert.equal(s?.lastNack?.message, "part one rejected");
});

test("maxResponseBytes below 1 KiB is misuse", () => {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint });
  assert.throws(() => createXdsServer({ cache, maxResponseBytes: 100 }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
});
