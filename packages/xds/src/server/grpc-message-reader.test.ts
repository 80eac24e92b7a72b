import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { GrpcMessageReader } from "./grpc-message-reader.ts";
import type { StreamError } from "./stream-transport.ts";

const frame = (body: Buffer, compressed = false): Buffer => {
  const header = Buffer.alloc(5);
  header[0] = compressed ? 1 : 0;
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
};

function reader(options: { max?: number; encoding?: string } = {}) {
  const messages: Buffer[] = [];
  const errors: StreamError[] = [];
  const r = new GrpcMessageReader({ maxMessageBytes: options.max ?? 1024, encoding: options.encoding, onMessage: (m) => messages.push(Buffer.from(m)), onError: (e) => errors.push(e) });
  return { r, messages, errors };
}

test("messages whole in one chunk are handed on in order, as views of the chunk", () => {
  const views: Buffer[] = [];
  const chunk = Buffer.concat([frame(Buffer.from("one")), frame(Buffer.alloc(0)), frame(Buffer.from("three"))]);
  const r = new GrpcMessageReader({ maxMessageBytes: 1024, encoding: undefined, onMessage: (m) => views.push(m), onError: (e) => assert.fail(e.details) });
  r.push(chunk);
  assert.deepEqual(views.map(String), ["one", "", "three"]);
  assert.equal(views[0]?.buffer, chunk.buffer, "no copy of a message that lies in one chunk");
  assert.ok(r.atBoundary);
});

test("a message split across chunks, header included, arrives once and whole", () => {
  const { r, messages, errors } = reader();
  const body = Buffer.from("x".repeat(300) + "end");
  const bytes = Buffer.concat([frame(body), frame(Buffer.from("next"))]);
  for (const cut of [[0, 2], [2, 7], [7, 150], [150, bytes.length]] as const) {
    r.push(bytes.subarray(cut[0], cut[1]));
    if (cut[1] < 308) assert.equal(r.atBoundary, false, "inside a message");
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(messages.map(String), [body.toString(), "next"]);
  assert.ok(r.atBoundary);
});

test("a message over maxMessageBytes is RESOURCE_EXHAUSTED naming both sizes, and nothing after it is delivered", () => {
  const { r, messages, errors } = reader({ max: 10 });
  r.push(Buffer.concat([frame(Buffer.alloc(11)), frame(Buffer.from("late"))]));
  assert.deepEqual(messages, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 8);
  assert.match(errors[0]?.details ?? "", /11 bytes, larger than the server's maxReceiveMessageBytes 10/);
  assert.ok(r.failed);
});

test("an invalid flag is INTERNAL", () => {
  const { r, errors } = reader();
  const bad = frame(Buffer.from("a"));
  bad[0] = 2;
  r.push(bad);
  assert.equal(errors[0]?.code, 13);
  assert.match(errors[0]?.details ?? "", /flag 2/);
});

test("gzip and deflate messages are decompressed; a compressed message without an encoding is INTERNAL", () => {
  const gz = reader({ encoding: "gzip" });
  gz.r.push(frame(gzipSync(Buffer.from("hello")), true));
  assert.deepEqual(gz.messages.map(String), ["hello"]);
  const none = reader();
  none.r.push(frame(gzipSync(Buffer.from("hello")), true));
  assert.equal(none.errors[0]?.code, 13);
  assert.match(none.errors[0]?.details ?? "", /grpc-encoding "identity".*identity,deflate,gzip/);
});

test("a compressed message that inflates past the limit is RESOURCE_EXHAUSTED (no decompression bomb)", () => {
  const { r, messages, errors } = reader({ max: 1000, encoding: "gzip" });
  r.push(frame(gzipSync(Buffer.alloc(1_000_000)), true));
  assert.deepEqual(messages, []);
  assert.equal(errors[0]?.code, 8);
  assert.match(errors[0]?.details ?? "", /maxReceiveMessageBytes 1000/);
});
