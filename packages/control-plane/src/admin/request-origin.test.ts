import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { after, before, describe, it } from "node:test";
import { startTestAdmin, type TestAdmin } from "./start-test-admin.ts";
import { allowedHosts } from "./request-origin.ts";

// Issue 13: with or without tokens, a browser page must not be able to drive the admin API
// (DNS rebinding through Host, cross-site requests through Origin and form bodies).

const service = JSON.stringify({ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "a" }, spec: { endpoints: [{ address: "127.0.0.1", port: 8081 }] } });

describe("admin API request origin checks", () => {
  let admin: TestAdmin;
  before(async () => {
    admin = await startTestAdmin({ auth: "none", allowedHosts: ["cp.internal"] });
  });
  after(() => admin.close());
  const errorOf = (json: Record<string, unknown>) => json["error"] as { code: string; message: string };

  it("answers the loopback names and the extra allowed host, on its own port", async () => {
    for (const host of [`127.0.0.1:${admin.port}`, `localhost:${admin.port}`, `[::1]:${admin.port}`, `cp.internal:${admin.port}`, `LOCALHOST:${admin.port}`]) {
      assert.equal((await admin.send({ path: "/api/v1/objects", headers: { host } })).status, 200, host);
    }
  });

  it("refuses another Host with 403 before reading the store (DNS rebinding), naming the flag", async () => {
    for (const host of [`evil.example:${admin.port}`, "127.0.0.1:1", "127.0.0.1", `127.0.0.1.evil.example:${admin.port}`]) {
      const r = await admin.send({ path: "/api/v1/objects", headers: { host } });
      assert.equal(r.status, 403, host);
      assert.equal(errorOf(r.json).code, "forbidden");
      assert.match(errorOf(r.json).message, /is not an address of this admin API .*--admin-allowed-host/);
    }
    // A change through a rebinding name is refused too, and nothing is stored.
    const r = await admin.send({ method: "POST", path: "/api/v1/apply", headers: { host: `evil.example:${admin.port}`, "content-type": "application/json" }, body: service });
    assert.equal(r.status, 403);
    assert.deepEqual((await admin.send({ path: "/api/v1/objects" })).json["items"], []);
  });

  it("refuses a foreign Origin with 403 and takes its own", async () => {
    for (const origin of ["http://evil.example", `https://127.0.0.1:${admin.port}`, "null", `http://127.0.0.1:${admin.port + 1}`]) {
      const r = await admin.send({ path: "/api/v1/status", headers: { origin } });
      assert.equal(r.status, 403, origin);
      assert.match(errorOf(r.json).message, /cross-site requests are refused/);
    }
    assert.equal((await admin.send({ path: "/api/v1/status", headers: { origin: `http://localhost:${admin.port}` } })).status, 200);
  });

  it("refuses state-changing requests a cross-site form could send with 415, and keeps what was accepted", async () => {
    const ok = await admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json" }, body: service });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const cases: [string, string, Record<string, string>][] = [
      ["POST", "/api/v1/apply", { "content-type": "text/plain;charset=UTF-8" }],
      ["POST", "/api/v1/apply", { "content-type": "application/x-www-form-urlencoded" }],
      ["POST", "/api/v1/apply", { "content-type": "multipart/form-data; boundary=x" }],
      ["POST", "/api/v1/rollback?to=0", {}],
      ["PUT", "/api/v1/objects/Service/a", { "content-type": "text/plain" }],
      ["DELETE", "/api/v1/objects/Service/a", {}],
    ];
    for (const [method, path, headers] of cases) {
      const r = await admin.send({ method, path, headers, body: method === "DELETE" ? "" : service });
      assert.equal(r.status, 415, `${method} ${path} ${JSON.stringify(headers)}`);
      assert.equal(errorOf(r.json).code, "unsupported_media_type");
      assert.match(errorOf(r.json).message, new RegExp(`^${method} needs Content-Type application/json or application/yaml`));
    }
    const items = (await admin.send({ path: "/api/v1/objects" })).json["items"] as { key: string }[];
    assert.deepEqual(items.map((i) => i.key), ["Service/a"]);
    // YAML is as good as JSON.
    const yaml = await admin.send({ method: "POST", path: "/api/v1/validate", headers: { "content-type": "application/yaml; charset=utf-8" }, body: service });
    assert.equal(yaml.status, 200);
  });
});

describe("allowedHosts", () => {
  it("adds the port to names without one, keeps given ports, brackets IPv6 and skips wildcards", () => {
    const wildcard = [...allowedHosts({ port: 9000, bindHost: "0.0.0.0", extra: ["cp.example", "proxy:8443", "fd00::1"] })];
    assert.deepEqual(wildcard.slice(0, 6), [
      "127.0.0.1:9000",
      "localhost:9000",
      "[::1]:9000",
      "cp.example:9000",
      "proxy:8443",
      "[fd00::1]:9000",
    ]);
    // Bound to every interface: every address of this machine, never a name.
    for (const a of Object.values(networkInterfaces()).flat()) {
      if (a !== undefined && !a.address.includes("%")) assert.ok(wildcard.includes(a.family === "IPv6" ? `[${a.address}]:9000` : `${a.address}:9000`), a.address);
    }
    assert.ok(allowedHosts({ port: 9000, bindHost: "10.0.0.5" }).has("10.0.0.5:9000"));
  });
});
