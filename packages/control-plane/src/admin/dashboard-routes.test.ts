import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { after, before, describe, it } from "node:test";
import { startTestAdmin, type TestAdmin } from "./start-test-admin.ts";

// Issue 9: the web dashboard's files, its live events and the revision diff it shows.

const service = (port: number) =>
  JSON.stringify({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "a" }, spec: { endpoints: [{ address: "127.0.0.1", port }] } });

/** Opens GET /api/v1/events and hands back each event block as it arrives. */
function openEvents(port: number, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; next: () => Promise<string>; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/api/v1/events", headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      const blocks: string[] = [];
      const waiting: ((block: string) => void)[] = [];
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!block.includes("event: ")) continue;
          const w = waiting.shift();
          if (w !== undefined) w(block);
          else blocks.push(block);
        }
      });
      resolve({
        res,
        next: () => {
          const b = blocks.shift();
          return b !== undefined ? Promise.resolve(b) : new Promise((r) => waiting.push(r));
        },
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const dataOf = (block: string) => JSON.parse(block.split("\n").find((l) => l.startsWith("data: "))?.slice(6) ?? "null") as { revision: number; status: string };

describe("dashboard files", () => {
  let admin: TestAdmin;
  before(async () => {
    admin = await startTestAdmin({ auth: "none" });
  });
  after(() => admin.close());

  it("serves the page at / with its content type and a CSP that allows only its own files", async () => {
    const r = await admin.send({ path: "/" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["content-type"], "text/html; charset=utf-8");
    assert.match(String(r.headers["content-security-policy"]), /^default-src 'self'; /);
    assert.match(String(r.headers["content-security-policy"]), /frame-ancestors 'none'/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    const html = String(r.json["text"]);
    assert.match(html, /<script type="module" src="\/dashboard\/dashboard.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=|style=/i, "no inline script, handler or style (the CSP would block it)");
    assert.doesNotMatch(html, /https?:\/\//, "nothing from a CDN");
  });

  it("serves the script and the stylesheet with their content types", async () => {
    const js = await admin.send({ path: "/dashboard/dashboard.js" });
    assert.equal(js.status, 200);
    assert.equal(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert.match(String(js.headers["content-security-policy"]), /default-src 'self'/);
    const css = await admin.send({ path: "/dashboard/dashboard.css" });
    assert.equal(css.status, 200);
    assert.equal(css.headers["content-type"], "text/css; charset=utf-8");
    const icon = await admin.send({ path: "/dashboard/favicon.svg" });
    assert.equal(icon.headers["content-type"], "image/svg+xml");
  });

  it("answers an unknown dashboard file 404 and a POST 405, as JSON errors", async () => {
    const missing = await admin.send({ path: "/dashboard/../../package.json" });
    assert.equal(missing.status, 404);
    const other = await admin.send({ path: "/dashboard/secrets.json" });
    assert.equal(other.status, 404);
    assert.match(JSON.stringify(other.json), /no such dashboard file \/dashboard\/secrets.json/);
    const post = await admin.send({ method: "POST", path: "/", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(post.status, 405);
  });

  it("the page script builds the DOM from text only: no innerHTML, outerHTML, insertAdjacentHTML or document.write", () => {
    const js = readFileSync(new URL("./dashboard/dashboard.js", import.meta.url), "utf8");
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  });
});

describe("GET /api/v1/history/diff", () => {
  let admin: TestAdmin;
  before(async () => {
    admin = await startTestAdmin({ auth: "none" });
    for (const port of [8080, 8081]) {
      const r = await admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json" }, body: service(port) });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
  });
  after(() => admin.close());

  it("lists the objects that changed between two revisions, with the lines tcp diff prints", async () => {
    const r = await admin.send({ path: "/api/v1/history/diff?from=1&to=2" });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, {
      from: 1,
      to: 2,
      objects: [{ key: "Service/a", action: "updated", fields: [{ path: "spec.endpoints[0].port", before: 8080, after: 8081 }], lines: ["~ spec.endpoints[0].port: 8080 → 8081"] }],
    });
    const created = await admin.send({ path: "/api/v1/history/diff?from=0" });
    assert.equal((created.json["to"] as number), 2, "to defaults to the current revision");
    assert.deepEqual((created.json["objects"] as { key: string; action: string }[]).map((o) => [o.key, o.action]), [["Service/a", "created"]]);
  });

  it("says what is wrong with a missing or unknown revision", async () => {
    const none = await admin.send({ path: "/api/v1/history/diff" });
    assert.equal(none.status, 400);
    assert.match(JSON.stringify(none.json), /say which revision to compare from: \?from=A&to=B/);
    const later = await admin.send({ path: "/api/v1/history/diff?from=1&to=9" });
    assert.equal(later.status, 404);
    assert.match(JSON.stringify(later.json), /revision 9 does not exist \(latest is 2\)/);
  });
});

describe("GET /api/v1/events", () => {
  it("needs a read token when authentication is on, while the page itself needs none", async () => {
    const admin = await startTestAdmin({ auth: "token" });
    try {
      assert.equal((await admin.send({ path: "/" })).status, 200);
      assert.equal((await admin.send({ path: "/api/v1/status" })).status, 401);
      const refused = await openEvents(admin.port);
      assert.equal(refused.res.statusCode, 401);
      refused.close();
      const token = admin.tokens.create({ name: "viewer", role: "read" }).token;
      const events = await openEvents(admin.port, { authorization: `Bearer ${token}` });
      assert.equal(events.res.statusCode, 200);
      assert.equal(events.res.headers["content-type"], "text/event-stream");
      assert.equal(dataOf(await events.next()).revision, 0);
      events.close();
    } finally {
      await admin.close();
    }
  });

  it("sends a change event when the revision changes, and admin close() ends open streams", async () => {
    const admin = await startTestAdmin({ auth: "none" });
    const events = await openEvents(admin.port);
    const first = dataOf(await events.next());
    assert.equal(first.revision, 0);
    const r = await admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json" }, body: service(8080) });
    assert.equal(r.status, 200);
    assert.equal(dataOf(await events.next()).revision, 1);
    const ended = new Promise<void>((resolve) => events.res.on("close", () => resolve()));
    const started = Date.now();
    await admin.close();
    await ended;
    assert.ok(Date.now() - started < 2000, "close() does not wait for the stream");
  });
});
