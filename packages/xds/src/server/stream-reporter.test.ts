import { test } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { StatusRegistry } from "../cache/node-status.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { endpoints } from "../../testing/fixtures.ts";
import { CsdsResourceVersions } from "./csds-resource-versions.ts";
import type { DeltaResponseEvent } from "./delta-stream.ts";
import type { SotwResponseEvent } from "./sotw-stream.ts";
import { StreamReporter } from "./stream-reporter.ts";

const stream = { streamId: 1, variant: "sotw" as const, ads: true, nodeId: "n" };
const sotw = (fields: Partial<SotwResponseEvent>): SotwResponseEvent => ({
  ...stream,
  typeUrl: TypeUrl.Endpoint,
  version: "v1",
  nonce: "1",
  resourceNames: ["a"],
  bytes: 10,
  heartbeats: [],
  ...fields,
});
const delta = (fields: Partial<DeltaResponseEvent>): DeltaResponseEvent => ({
  ...stream,
  variant: "delta",
  typeUrl: TypeUrl.Endpoint,
  version: "d1",
  nonce: "1",
  resourceNames: ["a"],
  removedResources: [],
  heartbeats: [],
  bytes: 10,
  part: 1,
  parts: 1,
  ...fields,
});

test("the server's records are up to date when an application hook runs, and a throwing hook reaches onHookError", () => {
  const status = new StatusRegistry();
  const seen: string[] = [];
  const errors: string[] = [];
  const reporter = new StreamReporter({
    status,
    hooks: {
      onStreamOpen: (e) => seen.push(`open streams=${status.node(e.nodeId)?.streams}`),
      onNack: (e) => {
        seen.push(`nack nacks=${status.node(e.nodeId)?.types[0]?.nacks}`);
        throw new Error("application bug");
      },
      onHookError: (_error, hook) => errors.push(hook),
    },
  });
  reporter.streamOpened({ ...stream, node: create(NodeSchema, { id: "n" }), cacheKey: "g" });
  reporter.sentSotw(sotw({}), { cacheKey: "g", heartbeat: false });
  reporter.nacked({ ...stream, typeUrl: TypeUrl.Endpoint, version: "v1", nonce: "1", message: "bad", code: 3 });
  reporter.streamClosed({ ...stream }, { opened: true });
  assert.deepEqual(seen, ["open streams=1", "nack nacks=1"]);
  assert.deepEqual(errors, ["onNack"]);
  assert.equal(status.node("n")?.types[0]?.lastNack?.message, "bad", "kept, whatever the hook did");
  assert.equal(status.node("n")?.streams, 0);
  // A stream the server ended before it said who it is: no status, but the hook hears of it.
  const closes: number[] = [];
  new StreamReporter({ status, hooks: { onStreamClose: (e) => closes.push(e.streamId) } }).streamClosed({ ...stream, streamId: 2, nodeId: "" }, { opened: false });
  assert.deepEqual(closes, [2]);
  assert.equal(status.node(""), undefined);
});

test("SotW responses feed CSDS versions from the stream's key, heartbeats do not; Delta responses never do", async () => {
  const cache = createSnapshotCache();
  await cache.setSnapshot("g", createSnapshot({ version: "v1", resources: [endpoints("a")] }));
  const versions = new CsdsResourceVersions({ cache });
  const reporter = new StreamReporter({ status: new StatusRegistry(), resourceVersions: versions });
  reporter.sentSotw(sotw({ version: "v1" }), { cacheKey: "g", heartbeat: false });
  assert.equal(versions.versionOf("n", TypeUrl.Endpoint, "a"), "v1");
  await cache.setSnapshot("g", createSnapshot({ version: "v2", resources: [endpoints("a", [9])] }));
  reporter.sentSotw(sotw({ version: "v1", nonce: "2", heartbeats: ["a"] }), { cacheKey: "g", heartbeat: true });
  assert.equal(versions.versionOf("n", TypeUrl.Endpoint, "a"), "v1", "a heartbeat resends what the node has");
  reporter.sentDelta(delta({ version: "v2" }), { maxResponseBytes: 1024 });
  assert.equal(versions.versionOf("n", TypeUrl.Endpoint, "a"), "v1", "Delta versions are per resource already");
});

test("a Delta part over maxResponseBytes is in status as response_too_large until a later response is sent", () => {
  const status = new StatusRegistry();
  const reporter = new StreamReporter({ status });
  const error = () => status.node("n")?.types[0]?.error;
  reporter.sentDelta(delta({ nonce: "1", part: 1, parts: 3 }), { maxResponseBytes: 1024 });
  reporter.sentDelta(delta({ nonce: "2", resourceNames: ["huge"], bytes: 5000, part: 2, parts: 3 }), { maxResponseBytes: 1024 });
  reporter.sentDelta(delta({ nonce: "3", part: 3, parts: 3 }), { maxResponseBytes: 1024 });
  assert.equal(error()?.code, "response_too_large");
  assert.equal(
    error()?.message,
    `the ${TypeUrl.Endpoint} resource huge alone makes a 5000-byte Delta response (part 2 of 3), over maxResponseBytes 1024: a resource cannot be split`,
  );
  assert.equal(status.node("n")?.types[0]?.responses, 3);
  reporter.sentDelta(delta({ version: "d2", nonce: "4" }), { maxResponseBytes: 1024 });
  assert.equal(error(), undefined);
});
