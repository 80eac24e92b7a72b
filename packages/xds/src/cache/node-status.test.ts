import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
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

test("what an operator view needs: first seen, last seen up to the disconnect, node metadata, streams and counts per type", () => {
  let now = 1000;
  const s = new StatusRegistry({ now: () => new Date(now) });
  const node = create(NodeSchema, { id: "n", cluster: "edge", metadata: { zone: "a" } });
  s.streamOpened(node, "group");
  now = 2000;
  s.streamOpened(node, "group");
  s.sent("n", "t", "v1", "1");
  s.nacked("n", "t", { version: "v1", nonce: "1", message: "bad", code: 3 });
  s.sent("n", "t", "v2", "2");
  s.acked("n", "t", "v2");
  now = 3000;
  s.streamClosed("n");
  const n = s.node("n");
  assert.equal(n?.firstSeenAt.getTime(), 1000);
  assert.equal(n?.connectedAt?.getTime(), 1000, "since the first of the open streams");
  assert.equal(n?.lastSeenAt.getTime(), 3000, "a stream closing is the last news of it");
  assert.equal(n?.streams, 1);
  assert.deepEqual(n?.node?.metadata, { zone: "a" });
  assert.equal(n?.nodeCluster, "edge");
  const t = n?.types[0];
  assert.deepEqual([t?.responses, t?.nacks, t?.sentVersion, t?.ackedVersion, t?.lastNack?.message], [2, 1, "v2", "v2", "bad"]);
});

test("forgetAfterMs forgets nodes without a stream once unseen for that long, never connected ones", () => {
  let now = 0;
  const s = new StatusRegistry({ now: () => new Date(now), forgetAfterMs: 1000 });
  s.streamOpened({ id: "gone", cluster: "" }, "gone");
  s.streamOpened({ id: "here", cluster: "" }, "here");
  s.seen({ id: "polled", cluster: "" }, "polled"); // REST: never had a stream
  now = 500;
  s.streamClosed("gone");
  now = 1400;
  assert.deepEqual(s.nodes().map((n) => n.nodeId), ["gone", "here"], "counted from the disconnect, not the connect");
  assert.equal(s.node("polled"), undefined);
  now = 1501;
  assert.equal(s.node("gone"), undefined);
  assert.deepEqual(s.nodes().map((n) => n.nodeId), ["here"]);
  // Coming back starts a new record.
  s.streamOpened({ id: "gone", cluster: "" }, "gone");
  assert.equal(s.node("gone")?.firstSeenAt.getTime(), 1501);
  assert.throws(() => new StatusRegistry({ forgetAfterMs: Number.NaN }), /forgetAfterMs/);
});

test("forgotten by time, a node no longer counts against maxDisconnected", () => {
  let now = 0;
  const s = new StatusRegistry({ now: () => new Date(now), forgetAfterMs: 100, maxDisconnected: 1 });
  s.streamOpened({ id: "a", cluster: "" }, "a");
  s.streamClosed("a");
  now = 200;
  assert.deepEqual(s.nodes(), []);
  s.streamOpened({ id: "b", cluster: "" }, "b");
  s.streamClosed("b");
  assert.deepEqual(s.nodes().map((n) => n.nodeId), ["b"], "the bound of 1 holds b: a is already gone");
});

test("a disconnected node keeps a slim record: no node metadata, no subscriptions; versions, NACKs and times stay", () => {
  const s = new StatusRegistry();
  const node = create(NodeSchema, { id: "n", cluster: "edge", metadata: { blob: "x".repeat(10_000) } });
  s.streamOpened(node, "group");
  s.subscribed("n", "t", ["a", "b"]);
  s.sent("n", "t", "v1", "1");
  s.nacked("n", "t", { version: "v1", nonce: "1", message: "bad", code: 3 });
  assert.equal(s.node("n")?.node?.metadata?.["blob"], "x".repeat(10_000), "kept while connected");
  assert.equal(s.streamClosed("n"), true, "the last stream");
  const n = s.node("n");
  assert.equal(n?.node, undefined);
  assert.deepEqual([n?.nodeId, n?.nodeCluster, n?.cacheKey], ["n", "edge", "group"]);
  assert.deepEqual([n?.types[0]?.sentVersion, n?.types[0]?.lastNack?.message, n?.types[0]?.subscribed], ["v1", "bad", []]);
  // Coming back introduces the node again.
  s.streamOpened(node, "group");
  assert.equal(s.node("n")?.node?.id, "n");
  assert.equal(s.streamClosed("missing"), false);
});

test("onForget tells of every node forgotten, whatever forgot it; maxDisconnected must be an integer >= 0", () => {
  let now = 0;
  const s = new StatusRegistry({ now: () => new Date(now), maxDisconnected: 1, forgetAfterMs: 100 });
  const forgotten: string[] = [];
  const stop = s.onForget((id) => forgotten.push(id));
  for (const id of ["a", "b"]) {
    s.streamOpened({ id, cluster: "" }, id);
    s.streamClosed(id);
  }
  assert.deepEqual(forgotten, ["a"], "over maxDisconnected: the oldest disconnected");
  now = 200;
  s.nodes();
  assert.deepEqual(forgotten, ["a", "b"], "past forgetAfterMs");
  s.streamOpened({ id: "c", cluster: "" }, "c");
  s.streamClosed("c");
  s.pruneDisconnected();
  assert.deepEqual(forgotten, ["a", "b", "c"]);
  stop();
  s.streamOpened({ id: "d", cluster: "" }, "d");
  s.streamClosed("d");
  s.pruneDisconnected();
  assert.equal(forgotten.length, 3, "unsubscribed");
  assert.throws(() => new StatusRegistry({ maxDisconnected: -1 }), /maxDisconnected must be an integer >= 0, not -1/);
});
