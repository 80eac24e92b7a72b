import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSnapshotCache } from "@ts-control-plane/xds";
import { createReconciler } from "../reconciler/reconciler.ts";
import { openObjectStore } from "../store/object-store.ts";
import { createAdminServer } from "./admin-server.ts";
import { createOpenApiRecorder } from "./openapi-check.ts";

// Issue 14: request bodies are bounded in size, in total at once and in time; and our own bugs are 500 with an id.
describe("admin API request limits", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-admin-limits-"));
  const store = openObjectStore({ file: join(dir, "control-plane.db") });
  const reconciler = createReconciler({ store, cache: createSnapshotCache({ ads: true }), debounceMs: 5 });
  const lines: string[] = [];
  const openApi = createOpenApiRecorder();
  const admin = createAdminServer({
    onReply: openApi.onReply,
    store,
    reconciler,
    xds: { host: "127.0.0.1", port: 18000 },
    maxBodyBytes: 4000,
    bodyBudgetBytes: 1000,
    bodyTimeoutMs: 1000,
    log: (l) => lines.push(l),
    status: () => {
      throw new Error("a bug of ours");
    },
  });
  let port = 0;
  // State-changing requests must carry a type a cross-site form cannot send (request-origin.ts).
  const yaml = { "content-type": "application/yaml" };
  before(async () => {
    await reconciler.start();
    port = await admin.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await admin.close();
    await reconciler.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    openApi.assertClean();
  });

  /** A raw HTTP request whose body is sent in part; resolves with everything the server answered once it closes or answers. */
  const partial = (contentLength: number, sent: string) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.write(`POST /api/v1/validate HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/yaml\r\ncontent-length: ${contentLength}\r\n\r\n${sent}`);
    let answer = "";
    const answered = new Promise<string>((resolve) => {
      socket.on("data", (d) => {
        answer += d.toString();
        // The end of a chunked answer; the server keeps the connection open after it.
        if (answer.endsWith("\r\n0\r\n\r\n")) resolve(answer);
      });
      socket.on("close", () => resolve(answer));
    });
    return { socket, answered };
  };

  it("answers 413 for a body past the per-body limit", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/validate`, { method: "POST", headers: yaml, body: "#".repeat(5000) });
    assert.equal(r.status, 413);
  });

  it("answers 503 with Retry-After while other bodies hold the budget, and serves again after", async () => {
    const held = partial(900, "#".repeat(800));
    // Until the server has taken the held bytes, a second body fits: wait for the 503, bounded.
    let refused: Response | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/validate`, { method: "POST", headers: yaml, body: "#".repeat(300) });
      if (r.status === 503) refused = r;
      else {
        await r.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    assert.ok(refused !== undefined, "no 503 while the budget was held");
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal(body.error.code, "unavailable");
    assert.match(body.error.message, /more than 1000 bytes in all/);
    held.socket.write("#".repeat(100));
    assert.match(await held.answered, /^HTTP\/1.1 422/, "the held body, complete, is answered");
    held.socket.destroy();
    const again = await fetch(`http://127.0.0.1:${port}/api/v1/validate`, { method: "POST", headers: yaml, body: "#".repeat(300) });
    assert.equal(again.status, 422, "the budget was given back");
  });

  it("answers 408 and closes the connection when a body does not arrive in time", async () => {
    const started = Date.now();
    const slow = partial(100, "#".repeat(10));
    const answer = await slow.answered;
    slow.socket.destroy();
    assert.match(answer, /^HTTP\/1.1 408/);
    assert.match(answer, /connection: close/i);
    assert.match(answer, /did not arrive within 1000 ms/);
    assert.ok(Date.now() - started < 5000);
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/validate`, { method: "POST", headers: yaml, body: "#".repeat(300) });
    assert.equal(r.status, 422, "the slow body gave its budget back");
  });

  it("answers 500 with an error id for our own bug, and logs the same id with the stack", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/status`);
    assert.equal(r.status, 500);
    const body = (await r.json()) as { error: { code: string; message: string; errorId: string } };
    assert.equal(body.error.code, "internal");
    assert.match(body.error.errorId, /^[0-9a-f]{8}$/);
    assert.ok(!body.error.message.includes("a bug of ours"), "our internals are not shown");
    const line = lines.find((l) => l.includes(body.error.errorId));
    assert.match(line ?? "", /^admin API internal error [0-9a-f]{8} on GET \/api\/v1\/status: Error: a bug of ours\\n {4}at /);
  });
});
