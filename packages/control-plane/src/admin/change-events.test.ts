import assert from "node:assert/strict";
import { createServer, get, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { type ChangeEventsOptions, createChangeEvents } from "./change-events.ts";

/** The events module behind a real HTTP server, and one client reading its stream. */
async function serve(options: ChangeEventsOptions) {
  const events = createChangeEvents(options);
  const server = createServer((req, res) => events.attach(req, res));
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const res = await new Promise<IncomingMessage>((resolve) => get({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, path: "/" }, resolve));
  const frames: string[] = [];
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => frames.push(...chunk.split("\n\n").filter((f) => f.startsWith("event: "))));
  return {
    frames,
    async close() {
      events.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const until = async (what: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; !what(); ) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

test("an event per change of revision or status, none while nothing changes", async () => {
  let state = { revision: 1, status: { nodes: ["a"] } as unknown };
  const s = await serve({ snapshot: () => state, intervalMs: 10 });
  try {
    await until(() => s.frames.length === 1, 2000);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(s.frames.length, 1, "no event while nothing changed");
    state = { revision: 1, status: { nodes: ["a", "b"] } };
    await until(() => s.frames.length === 2, 2000);
    state = { revision: 2, status: state.status };
    await until(() => s.frames.length === 3, 2000);
    assert.match(s.frames[2] ?? "", /^event: change\ndata: \{"revision":2,"status":"[0-9a-f]{16}"\}$/);
  } finally {
    await s.close();
  }
});

test("a slow status report is compared less often: the comparisons keep to their share of a core", async () => {
  let calls = 0;
  const busy = (ms: number) => {
    for (const end = performance.now() + ms; performance.now() < end; );
  };
  const s = await serve({
    snapshot: () => {
      calls++;
      busy(20);
      return { revision: 1, status: {} };
    },
    intervalMs: 5,
    cpuShare: 0.1,
  });
  try {
    await new Promise((r) => setTimeout(r, 700));
    // Every 5 ms would be ~30 calls in 700 ms at 20 ms each; at a 10% share, 20 ms of work waits 200 ms.
    assert.ok(calls >= 2 && calls <= 6, `${calls} comparisons in 700 ms`);
  } finally {
    await s.close();
  }
});

test("a status report that fails is told once and the stream goes on", async () => {
  let failing = false;
  let revision = 1;
  const errors: string[] = [];
  const s = await serve({
    snapshot: () => {
      if (failing) throw new Error("status unavailable");
      return { revision, status: {} };
    },
    intervalMs: 5,
    onError: (m) => errors.push(m),
  });
  try {
    await until(() => s.frames.length === 1, 2000);
    failing = true;
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(errors, ["status unavailable"]);
    failing = false;
    revision = 2;
    await until(() => s.frames.length === 2, 2000);
  } finally {
    await s.close();
  }
});
