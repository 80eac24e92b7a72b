import assert from "node:assert/strict";
import { test } from "node:test";
import { frameMessage, GrpcFrameDecoder } from "./grpc-frame-decoder.ts";

const messages = [Buffer.from("first message"), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from("x")];
const stream = Buffer.concat(messages.map((m) => frameMessage(m)));

function decode(chunks: readonly Buffer[]): { got: Buffer[]; pending: boolean } {
  const got: Buffer[] = [];
  // Copied: a message is a view that is only valid during the call.
  const decoder = new GrpcFrameDecoder((m) => got.push(Buffer.from(m)));
  for (const c of chunks) decoder.push(c);
  return { got, pending: decoder.pending };
}

test("frameMessage writes the 5-byte prefix: uncompressed, big-endian length", () => {
  assert.deepEqual([...frameMessage(Buffer.from("ab"))], [0, 0, 0, 0, 2, 0x61, 0x62]);
});

test("frames in one chunk come out whole, as views of the chunk", () => {
  const views: Buffer[] = [];
  new GrpcFrameDecoder((m) => views.push(m)).push(stream);
  assert.deepEqual(views, messages);
  assert.ok(views.every((v) => v.buffer === stream.buffer), "no copy of a message that lies in one chunk");
});

test("frames split at every possible point, prefixes included, come out the same", () => {
  for (const size of [1, 2, 3, 4, 5, 6, 7, 16_384]) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
    const { got, pending } = decode(chunks);
    assert.deepEqual(got, messages, `chunks of ${size} bytes`);
    assert.equal(pending, false);
  }
});

test("a stream cut inside a frame leaves it pending", () => {
  assert.equal(decode([stream.subarray(0, 3)]).pending, true);
  assert.equal(decode([stream.subarray(0, 20)]).pending, true);
});

test("a compressed message is an error: the clients negotiate no encoding", () => {
  const compressed = frameMessage(Buffer.from("z"));
  compressed[0] = 1;
  assert.throws(() => new GrpcFrameDecoder(() => undefined).push(compressed), /compressed gRPC message/);
});
