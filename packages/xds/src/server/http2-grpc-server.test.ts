import assert from "node:assert/strict";
import { connect, type IncomingHttpHeaders } from "node:http2";
import { test, type TestContext } from "node:test";
import { GrpcMessageReader } from "./grpc-message-reader.ts";
import { createHttp2GrpcServer } from "./http2-grpc-server.ts";
import type { ServerCall } from "./server-call.ts";

const frame = (body: Buffer): Buffer => {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
};

interface Answer {
  readonly status: number | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly messages: string[];
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly body: string;
}

/** One call with a plain node:http2 client: sends `messages`, half-closes, collects everything the server answers. */
async function call(port: number, path: string, options: { messages?: Buffer[]; headers?: Record<string, string> } = {}): Promise<Answer> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...options.headers });
      const messages: string[] = [];
      const raw: Buffer[] = [];
      const reader = new GrpcMessageReader({ maxMessageBytes: 1 << 20, encoding: undefined, onMessage: (m) => messages.push(m.toString()), onError: (e) => reject(new Error(e.details)) });
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders | undefined;
      req.on("response", (h) => (headers = h));
      req.on("trailers", (t) => (trailers = t));
      req.on("data", (chunk: Buffer) => {
        raw.push(chunk);
        if (String(headers["content-type"]).startsWith("application/grpc")) reader.push(chunk);
      });
      req.on("error", reject);
      req.on("close", () => resolve({ status: headers[":status"] as number | undefined, headers, messages, trailers, body: Buffer.concat(raw).toString() }));
      for (const m of options.messages ?? []) req.write(frame(m));
      req.end();
    });
  } finally {
    session.close();
  }
}

async function serve(t: TestContext, methods: Record<string, (call: ServerCall) => void>, maxReceiveMessageBytes = 1024): Promise<number> {
  const server = createHttp2GrpcServer({ methods: new Map(Object.entries(methods)), maxReceiveMessageBytes });
  const port = await server.listen("127.0.0.1", 0);
  t.after(() => server.close(100));
  return port;
}

const echo = (call: ServerCall): void => {
  call.listen({
    message: (bytes) => call.write(Buffer.from(`echo ${bytes.toString()}`), () => {}),
    halfClose: () => call.end({ code: 9, details: "done: 100% naïve\nbye" }),
    gone: () => {},
  });
};

test("messages in, messages out, then the status in trailers with a percent-encoded grpc-message", async (t) => {
  const port = await serve(t, { "/test.Echo/Chat": echo });
  const answer = await call(port, "/test.Echo/Chat", { messages: [Buffer.from("a"), Buffer.from("b")] });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["content-type"], "application/grpc");
  assert.deepEqual(answer.messages, ["echo a", "echo b"]);
  assert.equal(answer.trailers?.["grpc-status"], "9");
  assert.equal(answer.trailers?.["grpc-message"], "done: 100%25 na%C3%AFve%0Abye");
  assert.equal(decodeURIComponent(String(answer.trailers?.["grpc-message"])), "done: 100% naïve\nbye");
});

test("an unknown method is UNIMPLEMENTED, trailers-only, naming the path", async (t) => {
  const port = await serve(t, { "/test.Echo/Chat": echo });
  const answer = await call(port, "/test.Echo/Nope");
  assert.equal(answer.status, 200);
  assert.equal(answer.headers["grpc-status"], "12", "status in the only HEADERS frame");
  assert.match(decodeURIComponent(String(answer.headers["grpc-message"])), /unknown method \/test.Echo\/Nope/);
  assert.equal(answer.trailers, undefined);
});

test("a request that is not gRPC gets HTTP 415 with a reason", async (t) => {
  const port = await serve(t, { "/test.Echo/Chat": echo });
  const answer = await call(port, "/test.Echo/Chat", { headers: { "content-type": "application/json" } });
  assert.equal(answer.status, 415);
  assert.match(answer.body, /POST with content-type application\/grpc, not POST application\/json/);
});

test("a request message over maxReceiveMessageBytes ends the call with RESOURCE_EXHAUSTED before the handler sees it", async (t) => {
  const seen: string[] = [];
  const port = await serve(t, { "/test.Echo/Chat": (c) => c.listen({ message: (m) => seen.push(m.toString()), halfClose: () => c.end(), gone: () => {} }) }, 16);
  const answer = await call(port, "/test.Echo/Chat", { messages: [Buffer.alloc(17)] });
  assert.equal(answer.headers["grpc-status"], "8");
  assert.match(decodeURIComponent(String(answer.headers["grpc-message"])), /17 bytes, larger than the server's maxReceiveMessageBytes 16/);
  assert.deepEqual(seen, []);
});

test("metadata: custom headers, -bin ones decoded; pseudo and gRPC headers left out; no peer certificate in plaintext", async (t) => {
  let seen: ReadonlyMap<string, readonly (string | Buffer)[]> | undefined;
  let peer: unknown = "unset";
  const port = await serve(t, {
    "/test.Echo/Chat": (c) => {
      seen = c.metadata();
      peer = c.peerCertificate();
      c.end();
    },
  });
  const answer = await call(port, "/test.Echo/Chat", { headers: { authorization: "Bearer t0k", "x-trace-bin": Buffer.from([1, 2, 3]).toString("base64") } });
  assert.equal(answer.headers["grpc-status"], "0");
  assert.deepEqual(seen?.get("authorization"), ["Bearer t0k"]);
  assert.deepEqual(seen?.get("x-trace-bin"), [Buffer.from([1, 2, 3])]);
  for (const k of [":path", "content-type", "te"]) assert.equal(seen?.has(k), false, k);
  assert.equal(peer, undefined);
});

test("close ends sessions whose streams stay open after the grace period", async () => {
  const server = createHttp2GrpcServer({ methods: new Map([["/test.Echo/Hold", (c: ServerCall) => c.listen({ message: () => {}, halfClose: () => {}, gone: () => {} })]]), maxReceiveMessageBytes: 1024 });
  const port = await server.listen("127.0.0.1", 0);
  const session = connect(`http://127.0.0.1:${port}`);
  const req = session.request({ ":method": "POST", ":path": "/test.Echo/Hold", "content-type": "application/grpc" });
  req.on("error", () => {});
  session.on("error", () => {});
  await new Promise((r) => setTimeout(r, 50));
  const closed = new Promise((r) => session.once("close", r));
  await server.close(50);
  await closed;
});
