import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestAdmin, type TestAdmin } from "./start-test-admin.ts";
import { openTokenStore, type Role, TokenFileError } from "./token-store.ts";

// Issue 13: bearer tokens with roles. Every endpoint, every kind of caller: allowed, 401 or 403.

const service = (port: number) =>
  JSON.stringify({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "a" }, spec: { endpoints: [{ address: "127.0.0.1", port }] } });

/** method, path, body, the role it needs (undefined: none). */
const endpoints: [string, string, string | undefined, Role | undefined][] = [
  ["GET", "/healthz", undefined, undefined],
  ["GET", "/api/v1/version", undefined, "read"],
  ["GET", "/api/v1/objects", undefined, "read"],
  ["GET", "/api/v1/objects/Service/a", undefined, "read"],
  ["GET", "/api/v1/status", undefined, "read"],
  ["GET", "/api/v1/history", undefined, "read"],
  ["GET", "/api/v1/history/1", undefined, "read"],
  ["GET", "/api/v1/history/diff?from=0", undefined, "read"],
  ["GET", "/", undefined, undefined],
  ["GET", "/dashboard/dashboard.js", undefined, undefined],
  ["GET", "/api/v1/bootstrap?node=edge-1", undefined, "read"],
  ["GET", "/api/v1/proxies/edge-1/config", undefined, "read"],
  ["GET", "/metrics", undefined, "read"],
  ["POST", "/api/v1/validate", service(8081), "read"],
  ["POST", "/api/v1/diff", service(8082), "read"],
  ["POST", "/api/v1/apply", service(8083), "write"],
  ["PUT", "/api/v1/objects/Service/a", service(8084), "write"],
  ["POST", "/api/v1/rollback", JSON.stringify({ to: 1, dryRun: true }), "write"],
  ["POST", "/api/v1/delete?dryRun=true", JSON.stringify({ keys: ["Service/a"] }), "write"],
  ["DELETE", "/api/v1/objects/Service/a?dryRun=true", undefined, "write"],
  ["POST", "/api/v1/history/purge", JSON.stringify({ keep: 1000 }), "write"],
  ["GET", "/api/v1/tokens", undefined, "admin"],
  ["POST", "/api/v1/tokens", JSON.stringify({ name: "made", role: "read" }), "admin"],
  ["DELETE", "/api/v1/tokens/made", undefined, "admin"],
];
const rank: Record<Role, number> = { read: 0, write: 1, admin: 2 };

describe("admin API roles", () => {
  let admin: TestAdmin;
  const tokens: Partial<Record<Role, string>> = {};
  before(async () => {
    admin = await startTestAdmin({ auth: "token" });
    for (const role of ["read", "write", "admin"] as const) tokens[role] = admin.tokens.create({ name: `t-${role}`, role }).token;
    // Something to read, change and roll back to.
    const seed = await admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json", authorization: `Bearer ${tokens.write}` }, body: service(8080) });
    assert.equal(seed.status, 200, JSON.stringify(seed.json));
  });
  after(() => admin.close());

  const callers: [string, string | undefined, Role | undefined][] = [
    ["no token", undefined, undefined],
    ["an unknown token", "tcp_not-a-token", undefined],
    ["a read token", "read", "read"],
    ["a write token", "write", "write"],
    ["an admin token", "admin", "admin"],
  ];
  for (const [method, path, body, needed] of endpoints) {
    for (const [who, token, role] of callers) {
      const expect = needed === undefined || (role !== undefined && rank[role] >= rank[needed]) ? "allowed" : role === undefined ? 401 : 403;
      it(`${method} ${path} with ${who}: ${expect}`, async () => {
        const bearer = role !== undefined ? tokens[role] : token;
        const r = await admin.send({
          method,
          path,
          headers: { ...(method === "GET" ? {} : { "content-type": "application/json" }), ...(bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}) },
          ...(body !== undefined ? { body } : {}),
        });
        const error = r.json["error"] as { code: string; message: string; requiredRole?: string; role?: string } | undefined;
        if (expect === "allowed") {
          assert.ok(r.status !== 401 && r.status !== 403, `${r.status} ${JSON.stringify(r.json)}`);
          return;
        }
        assert.equal(r.status, expect, JSON.stringify(r.json));
        assert.equal(error?.requiredRole, needed);
        if (expect === 401) {
          assert.equal(error?.code, "unauthorized");
          assert.match(error?.message ?? "", token === undefined ? /needs a token with role \w+: send Authorization: Bearer TOKEN/ : /the token is not known/);
        } else {
          assert.equal(error?.code, "forbidden");
          assert.equal(error?.role, role);
          assert.equal(error?.message, `token "t-${role}" has role ${role}; ${method} ${path.split("?")[0]} needs role ${needed}`);
        }
      });
    }
  }

  it("records the token's name as the source of a change; X-Change-Source only adds a note", async () => {
    const send = (port: number, headers: Record<string, string>) =>
      admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json", authorization: `Bearer ${tokens.write}`, ...headers }, body: service(port) });
    assert.equal((await send(9001, {})).status, 200);
    assert.equal((await send(9002, { "x-change-source": "deploy-42" })).status, 200);
    assert.equal((await send(9003, { "x-change-source": "token:t-admin" })).status, 200);
    const history = (await admin.send({ path: "/api/v1/history?limit=3", headers: { authorization: `Bearer ${tokens.read}` } })).json["items"] as { source: string }[];
    assert.deepEqual(history.map((h) => h.source), ["token:t-write (token:t-admin)", "token:t-write (deploy-42)", "token:t-write"]);
  });

  it("lists tokens without their values, shows a new one once, and a revoked token stops working", async () => {
    const auth = { authorization: `Bearer ${tokens.admin}` };
    const made = await admin.send({ method: "POST", path: "/api/v1/tokens", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: "ci", role: "write" }) });
    assert.equal(made.status, 201);
    const value = made.json["token"] as string;
    assert.match(value, /^tcp_[A-Za-z0-9_-]{43}$/);
    const list = await admin.send({ path: "/api/v1/tokens", headers: auth });
    assert.ok(!JSON.stringify(list.json).includes(value));
    assert.deepEqual((list.json["items"] as { name: string }[]).map((t) => t.name), ["t-read", "t-write", "t-admin", "ci"]);
    assert.equal((await admin.send({ path: "/api/v1/status", headers: { authorization: `Bearer ${value}` } })).status, 200);
    assert.equal((await admin.send({ method: "DELETE", path: "/api/v1/tokens/ci", headers: { ...auth, "content-type": "application/json" } })).status, 200);
    assert.equal((await admin.send({ path: "/api/v1/status", headers: { authorization: `Bearer ${value}` } })).status, 401);
    const dup = await admin.send({ method: "POST", path: "/api/v1/tokens", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: "t-read", role: "read" }) });
    assert.equal(dup.status, 409);
    const bad = await admin.send({ method: "POST", path: "/api/v1/tokens", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ name: "x", role: "root" }) });
    assert.equal(bad.status, 400);
    assert.match((bad.json["error"] as { message: string }).message, /role must be one of read, write, admin/);
  });
});

describe("admin API without authentication", () => {
  it("takes X-Change-Source as the source, as there is no identity, and has no tokens to manage", async (t) => {
    const admin = await startTestAdmin({ auth: "none" });
    t.after(() => admin.close());
    const r = await admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json", "x-change-source": "cli" }, body: service(8080) });
    assert.equal(r.status, 200);
    assert.equal(((await admin.send({ path: "/api/v1/history" })).json["items"] as { source: string }[])[0]?.source, "cli");
    const tokens = await admin.send({ path: "/api/v1/tokens" });
    assert.equal(tokens.status, 400);
    assert.match((tokens.json["error"] as { message: string }).message, /--admin-auth token/);
  });
});

describe("token store file", () => {
  it("answers 401 with WWW-Authenticate: Bearer, and refuses to start from a damaged token file, naming it and the fix", async (t) => {
    const admin = await startTestAdmin({ auth: "token" });
    t.after(() => admin.close());
    const header = await new Promise<string | undefined>((resolve, reject) => {
      request({ host: "127.0.0.1", port: admin.port, path: "/api/v1/status" }, (res) => {
        res.resume();
        resolve(res.headers["www-authenticate"]);
      })
        .on("error", reject)
        .end();
    });
    assert.equal(header, 'Bearer realm="tcp-admin"');

    const dir = mkdtempSync(join(tmpdir(), "cp-tokens-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "admin-tokens.json");
    for (const text of ["{not json", '{"tokens": [{"name": "x", "role": "root", "createdAt": "", "sha256": ""}]}']) {
      writeFileSync(file, text);
      assert.throws(() => openTokenStore({ file }), (e: unknown) => e instanceof TokenFileError && e.message.includes(file) && e.message.includes("remove it (which revokes every token"));
    }
  });
});
