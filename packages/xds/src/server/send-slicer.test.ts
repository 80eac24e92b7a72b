// The send slicer (issue 15 item 4): long runs of sends yield to the event
// loop, in arrival order, and the drain gate bounds what is in flight. No
// durations are asserted: a fake clock says how long each send "took", and
// the tests check what ran before what.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { endpoints } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { SendSlicer } from "./send-slicer.ts";
import { createXdsServer } from "./xds-server.ts";

/** A clock that advances only when a task says it worked. */
function fakeClock(): { now: () => number; work: (ms: number) => void } {
  let t = 0;
  return { now: () => t, work: (ms) => (t += ms) };
}

test("a long run of sends is cut into slices: a timer set during it fires before the run finishes, and order is kept", async () => {
  const clock = fakeClock();
  const slicer = new SendSlicer({ sliceMs: 15, now: clock.now });
  const ran: string[] = [];
  let timerFiredAfter: number | undefined;
  setTimeout(() => {
    timerFiredAfter = ran.length;
  }, 0);
  for (let i = 0; i < 100; i++) {
    const key = {};
    // Each send "takes" 1 ms: 100 of them are far over one 15 ms slice.
    slicer.run(key, () => {
      clock.work(1);
      ran.push(`s${i}`);
    });
  }
  // Only the first slice ran synchronously.
  assert.ok(ran.length > 0 && ran.length < 100, `ran ${ran.length} at once`);
  const deadline = Date.now() + 10_000;
  while (ran.length < 100 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ran, Array.from({ length: 100 }, (_, i) => `s${i}`), "first come first served");
  assert.ok(timerFiredAfter !== undefined && timerFiredAfter < 100, `the timer fired after ${timerFiredAfter} sends: the loop yielded`);
  assert.ok(slicer.metrics.slices > 1);
});

test("asking again while queued keeps the place; requests are not held by the drain gate, sends are until a drain", async () => {
  const clock = fakeClock();
  const slicer = new SendSlicer({ sliceMs: 15, maxDraining: 1, now: clock.now });
  let drained: (() => void) | undefined;
  const resumed: string[] = [];
  const draining = {};
  slicer.awaitDrain(
    draining,
    (callback) => {
      drained = callback;
    },
    () => resumed.push("resumed"),
  );
  const ran: string[] = [];
  const a = {};
  slicer.run(a, () => ran.push("send a"));
  slicer.run(a, () => ran.push("send a again"));
  slicer.run({}, () => ran.push("request"), { gated: false });
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ran, ["request"], "the send waits while one stream drains");
  drained?.();
  const deadline = Date.now() + 10_000;
  while (ran.length < 2 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ran, ["request", "send a"], "one send for the key, queued once");
  assert.deepEqual(resumed, ["resumed"]);
});

test("a stream that stops draining stops counting after stallMs: others are not held forever", async () => {
  let t = 0;
  const slicer = new SendSlicer({ maxDraining: 1, stallMs: 50, now: () => t });
  slicer.awaitDrain({}, () => {}, () => {});
  const ran: string[] = [];
  slicer.run({}, () => ran.push("send"));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(ran, []);
  t = 100;
  const deadline = Date.now() + 10_000;
  while (ran.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(ran, ["send"]);
});

test("a real server's fan-out of large responses to many streams yields: a timer set as it starts fires before the last stream is sent its response", async () => {
  const names = Array.from({ length: 3000 }, (_, i) => `cluster-with-a-long-name-${String(i).padStart(5, "0")}`);
  const snapshotAt = (port: number): ReturnType<typeof createSnapshot> => createSnapshot({ resources: names.map((n) => endpoints(n, [port, port + 1, port + 2])) });
  const cache = createSnapshotCache({ nodeKey: () => "fleet" });
  let written = 0;
  let largest = 0;
  const server = createXdsServer({
    cache,
    hooks: {
      onResponse: (e) => {
        written++;
        largest = Math.max(largest, e.bytes);
      },
    },
  });
  const port = await server.listen({ port: 0 });
  // More streams than the slicer lets drain at once (128), each sent more than a transport takes before it says wait (256 KiB).
  const clients = Array.from({ length: 140 }, (_, i) => new RawDeltaClient({ port, nodeId: `n${i}` }));
  try {
    await cache.setSnapshot("fleet", snapshotAt(8000));
    for (const c of clients) c.send({ typeUrl: TypeUrl.Endpoint, subscribe: names });
    for (const c of clients) c.ack(await c.next(60_000));
    assert.ok(largest > 256 * 1024, `each response is ${largest} bytes`);
    const before = written;
    let atTimer: number | undefined;
    setTimeout(() => {
      atTimer = written - before;
    }, 0);
    await cache.setSnapshot("fleet", snapshotAt(9000));
    for (const c of clients) {
      const r = await c.next(60_000);
      assert.equal(r.resources.length, names.length);
    }
    assert.equal(written - before, clients.length);
    assert.ok(atTimer !== undefined && atTimer < clients.length, `the timer fired after ${atTimer} of ${clients.length} responses: the loop yielded`);
  } finally {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  }
});
