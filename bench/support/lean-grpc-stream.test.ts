// A real node:http2 server speaking the gRPC framing, against the lean client.
import assert from "node:assert/strict";
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { frameMessage, GrpcFrameDecoder } from "./grpc-frame-decoder.ts";
import { openLeanGrpcStream } from "./lean-grpc-stream.ts";

async function serve(handler: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void): Promise<{ server: Http2Server; authority: string }> {
  const server = createServer();
  server.on("stream", handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, authority: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function run(authority: string, requests: readonly string[]): Promise<{ messages: string[]; error: string | undefined }> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    const s = openLeanGrpcStream({
      authority,
      path: "/test.Echo/Chat",
      onMessage: (m) => messages.push(m.toString()),
      onEnd: (error) => resolve({ messages, error }),
    });
    for (const r of requests) s.write(Buffer.from(r));
  });
}

test("requests go out framed with the gRPC headers; responses come back per message; grpc-status 0 ends it cleanly", async () => {
  const { server, authority } = await serve((stream, headers) => {
    assert.equal(headers[":method"], "POST");
    assert.equal(headers[":path"], "/test.Echo/Chat");
    assert.equal(headers["content-type"], "application/grpc");
    assert.equal(headers["te"], "trailers");
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    let seen = 0;
    const decoder = new GrpcFrameDecoder((m) => {
      // A large reply, to cross chunks and the default 64 KiB window.
      stream.write(frameMessage(Buffer.concat([Buffer.from(`echo ${m.toString()}:`), Buffer.alloc(200_000, 0x2e)])));
      if (++seen === 2) stream.end();
    });
    stream.on("data", (chunk: Buffer) => decoder.push(chunk));
  });
  try {
    const { messages, error } = await run(authority, ["one", "two"]);
    assert.equal(error, undefined);
    assert.deepEqual(messages.map((m) => m.slice(0, m.indexOf(":"))), ["echo one", "echo two"]);
    assert.ok(messages.every((m) => m.length === "echo one:".length + 200_000));
  } finally {
    server.close();
  }
});

test("a trailers-only failure is reported with its status and message", async () => {
  const { server, authority } = await serve((stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "7", "grpc-message": encodeURIComponent("not allowed: node x") }, { endStream: true });
  });
  try {
    const { messages, error } = await run(authority, ["hello"]);
    assert.deepEqual(messages, []);
    assert.equal(error, "grpc-status 7: not allowed: node x");
  } finally {
    server.close();
  }
});

test("a reset stream and a refused connection are failures, not clean ends", async () => {
  const { server, authority } = await serve((stream) => {
    // Closing with an error code also raises it on the server's own stream.
    stream.on("error", () => undefined);
    stream.close(2);
  });
  try {
    const { error } = await run(authority, ["hello"]);
    assert.match(error ?? "", /stream/);
  } finally {
    server.close();
  }
  const { error } = await run(authority, ["hello"]);
  assert.match(error ?? "", /ECONNREFUSED/);
});
