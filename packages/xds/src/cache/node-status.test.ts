import { test } from "node:test";
import assert from "node:assert/strict";
import { StatusRegistry } from "./node-status.ts";

test("a NACK is data: it marks the type until a later ACK", () => {
  const s = new StatusRegistry();
  s.streamOpened({ id: "n", cluster: "c" }, "n");
  s.sent("n", "t", "v2", "7");
  s.nacked("n", "t", { version: "v2", nonce: "7", message: "bad cluster", code: 3 });
  let t = s.node("n")?.types[0];
  assert.equal(t?.nacked, true);
  assert.equal(t?.lastNack?.message, "bad cluster");
  s.sent("n", "t", "v3", "8");
  s.acked("n", "t", "v3");
  t = s.node("n")?.types[0];
  assert.equal(t?.nacked, false);
  assert.equal(t?.ackedVersion, "v3");
  assert.equal(t?.lastNack?.version, "v2", "the last NACK stays visible for the operator");
});

test("several streams of one node are one entry; closing all keeps the last status", () => {
  const s = new StatusRegistry();
  s.streamOpened({ id: "n", cluster: "c" }, "group");
  s.streamOpened({ id: "n", cluster: "c" }, "group");
  assert.equal(s.node("n")?.streams, 2);
  assert.equal(s.node("n")?.cacheKey, "group");
  s.streamClosed("n");
  s.streamClosed("n");
  assert.equal(s.node("n")?.streams, 0);
});

test("disconnected nodes are bounded: the oldest disconnected are forgotten first", () => {
  const s = new StatusRegistry({ maxDisconnected: 2 });
  for (const id of ["a", "b", "c", "live"]) s.streamOpened({ id, cluster: "" }, id);
  s.streamClosed("a");
  s.streamClosed("b");
  s.streamOpened({ id: "a", cluster: "" }, "a"); // a comes back
  s.streamClosed("c");
  s.streamClosed("a");
  // Disconnected in order: b, c, a; the bound of 2 forgets b.
  assert.deepEqual(s.nodes().map((n) => n.nodeId), ["a", "c", "live"]);
});

test("a response error is visible until a response delivers; a TTL heartbeat or another part of the same version does not clear it", () => {
  let now = 0;
  const s = new StatusRegistry({ now: () => new Date(now) });
  s.streamOpened({ id: "n", cluster: "c" }, "n");
  s.sent("n", "t", "v1", "1");
  now = 5;
  s.responseFailed("n", "t", { code: "response_too_large", message: "too big", version: "v2" });
  let t = s.node("n")?.types[0];
  assert.deepEqual(t?.error, { code: "response_too_large", message: "too big", version: "v2", at: new Date(5) });
  assert.equal(t?.sentVersion, "v1", "the node keeps what it was sent");
  now = 9;
  s.responseFailed("n", "t", { code: "response_too_large", message: "too big", version: "v2" });
  assert.deepEqual(s.node("n")?.types[0]?.error?.at, new Date(5), "met again: since when, not when last seen");
  s.sent("n", "t", "v1", "2", { error: "keep" });
  assert.equal(s.node("n")?.types[0]?.error?.code, "response_too_large");
  s.sent("n", "t", "v2", "3");
  assert.equal(s.node("n")?.types[0]?.error?.code, "response_too_large", "another part of the same (Delta) response keeps it");
  s.sent("n", "t", "v2", "4", { error: "clear" });
  assert.equal(s.node("n")?.types[0]?.error, undefined, "a (SotW) response that delivers clears it");
  s.responseFailed("n", "t", { code: "response_too_large", message: "too big", version: "v2" });
  s.sent("n", "t", "v3", "3");
  t = s.node("n")?.types[0];
  assert.equal(t?.error, undefined);
  assert.equal(t?.sentVersion, "v3");
});
