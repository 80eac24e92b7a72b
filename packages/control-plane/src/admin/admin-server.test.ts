import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSnapshotCache } from "@ts-control-plane/xds";
import { createReconciler } from "../reconciler/reconciler.ts";
import { buildStatusReport } from "../status/status-report.ts";
import { openObjectStore } from "../store/object-store.ts";
import { createAdminServer } from "./admin-server.ts";
import { createOpenApiRecorder } from "./openapi-check.ts";

const service = (name: string, port: number | string) => `apiVersion: tcp.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  endpoints:
    - address: 127.0.0.1
      port: ${port}
`;

describe("admin API", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-admin-"));
  const store = openObjectStore({ file: join(dir, "control-plane.db") });
  const cache = createSnapshotCache({ ads: true });
  const reconciler = createReconciler({ store, cache, debounceMs: 5 });
  const lines: string[] = [];
  // Every answer of this suite is checked against the OpenAPI document (issue 9).
  const openApi = createOpenApiRecorder();
  const admin = createAdminServer({
    onReply: openApi.onReply,
    store,
    reconciler,
    xds: { host: "127.0.0.1", port: 18000 },
    log: (l) => lines.push(l),
    status: () => buildStatusReport({ revision: store.currentRevision(), proxies: [], groupOf: () => undefined, snapshotOf: () => undefined, groups: [] }),
  });
  let base = "";
  before(async () => {
    await reconciler.start();
    base = `http://127.0.0.1:${await admin.listen({ host: "127.0.0.1", port: 0 })}`;
  });
  after(async () => {
    await admin.close();
    await reconciler.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    openApi.assertClean();
  });
  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    // State-changing requests carry a JSON or YAML type (request-origin.ts); YAML covers JSON bodies too.
    const typed = method === "GET" ? headers : { "content-type": "application/yaml", ...headers };
    const r = await fetch(base + path, { method, headers: typed, ...(body === undefined ? {} : { body }) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> & { error?: Record<string, unknown> } };
  };

  it("applies multi-document YAML as one revision and serves it back", async () => {
    const r = await call("POST", "/api/v1/apply", `${service("s1", 8081)}---\n${service("s2", 8082)}`);
    assert.equal(r.status, 200);
    assert.equal(r.json["revision"], 1);
    assert.deepEqual(r.json["changes"], [
      { key: "Service/s1", action: "created" },
      { key: "Service/s2", action: "created" },
    ]);
    const list = await call("GET", "/api/v1/objects");
    assert.deepEqual((list.json["items"] as { key: string }[]).map((i) => i.key), ["Service/s1", "Service/s2"]);
    const one = await call("GET", "/api/v1/objects/Service/s1");
    assert.equal(one.json["revision"], 1);
    assert.equal((await call("GET", "/api/v1/objects/Service/nope")).status, 404);
    // The change was compiled and set on the cache before the answer.
    assert.ok(cache.getSnapshot("default") !== undefined);
    assert.equal(reconciler.state().revision, 1);
  });

  it("refuses an invalid change with 422 and diagnostics, and keeps the last good version", async () => {
    const r = await call("POST", "/api/v1/apply", service("s1", 99999));
    assert.equal(r.status, 422);
    assert.equal(r.json.error?.["code"], "refused");
    const [d] = (r.json.error?.["diagnostics"] ?? []) as { object: string; path: string; hint: string; source: { line: number } }[];
    assert.equal(d?.object, "Service/s1");
    assert.equal(d?.path, "spec.endpoints[0].port");
    assert.ok(d?.hint);
    assert.equal(d?.source.line, 8);
    const one = await call("GET", "/api/v1/objects/Service/s1");
    assert.equal(((one.json["object"] as { spec: { endpoints: { port: number }[] } }).spec.endpoints[0])?.port, 8081);
    assert.ok(lines.some((l) => l.startsWith("refused change from api: Service/s1 spec.endpoints[0].port")));
  });

  // Issue 12: JSON bodies get the same strict checks as YAML files; an empty body is not "unchanged".
  it("refuses unknown keys outside spec in a JSON body, with the path and a did-you-mean", async () => {
    const body = JSON.stringify({ items: [{ apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "j1", namespace: "x" }, spec: {}, endpoints: [] }] });
    const r = await call("POST", "/api/v1/apply", body);
    assert.equal(r.status, 422);
    const ds = (r.json.error?.["diagnostics"] ?? []) as { code: string; path: string; hint: string }[];
    assert.deepEqual(
      ds.map((d) => [d.code, d.path]),
      [
        ["schema.unknown_field", "metadata.namespace"],
        ["schema.unknown_field", "endpoints"],
      ],
    );
    assert.equal(ds[1]?.hint, "'endpoints' is a field of Service spec: indent it under spec:");
    assert.equal((await call("GET", "/api/v1/objects/Service/j1")).status, 404);
  });

  it("refuses a body with no objects at apply, validate and diff", async () => {
    for (const path of ["/api/v1/apply", "/api/v1/validate", "/api/v1/diff"]) {
      for (const body of ["", "# only a comment\n", "---\n", "[]", '{"items": []}']) {
        const r = await call("POST", path, body);
        assert.equal(r.status, 422, `${path} ${JSON.stringify(body)}`);
        assert.equal(r.json.error?.["message"], "the request body holds no objects");
        assert.equal(((r.json.error?.["diagnostics"] ?? []) as { code: string }[])[0]?.code, "input.empty");
      }
    }
  });

  it("validates and dry-runs without storing anything", async () => {
    assert.equal((await call("POST", "/api/v1/validate", service("s9", 1))).status, 200);
    assert.equal((await call("POST", "/api/v1/validate", service("s9", 0))).status, 422);
    const dry = await call("POST", "/api/v1/apply?dryRun=true", service("s9", 1));
    assert.equal(dry.status, 200);
    assert.equal(dry.json["dryRun"], true);
    assert.equal((await call("GET", "/api/v1/objects/Service/s9")).status, 404);
    assert.equal(store.currentRevision(), 1);
  });

  it("answers 409 when PUT or DELETE carries a stale expectedRevision", async () => {
    const put = await call("PUT", "/api/v1/objects/Service/s1?expectedRevision=1", service("s1", 9081));
    assert.equal(put.status, 200);
    assert.equal(put.json["revision"], 2);
    const stale = await call("PUT", "/api/v1/objects/Service/s1", service("s1", 7081), { "if-match": '"1"' });
    assert.equal(stale.status, 409);
    assert.equal(stale.json.error?.["code"], "conflict");
    const mismatch = await call("PUT", "/api/v1/objects/Service/other", service("s1", 7081));
    assert.equal(mismatch.status, 400);
    assert.equal((await call("DELETE", "/api/v1/objects/Service/s2?expectedRevision=2")).status, 409);
    assert.equal((await call("DELETE", "/api/v1/objects/Service/s2?expectedRevision=1")).status, 200);
  });

  it("lists history and rolls back to an earlier revision as a new revision", async () => {
    const h = await call("GET", "/api/v1/history");
    assert.deepEqual((h.json["items"] as { revision: number }[]).map((i) => i.revision), [3, 2, 1]);
    const r = await call("POST", "/api/v1/rollback", JSON.stringify({ to: 1 }));
    assert.equal(r.status, 200);
    assert.equal(r.json["revision"], 4);
    const rev = await call("GET", "/api/v1/history/4");
    assert.equal(rev.json["source"], "rollback:1");
    assert.deepEqual(store.objectsAt(4), store.objectsAt(1));
    assert.equal((await call("POST", "/api/v1/rollback", JSON.stringify({ to: 99 }))).status, 404);
    assert.equal((await call("POST", "/api/v1/rollback", "{}")).status, 400);
  });

  it("never reads files named in a request body (certificateFile), and says how to send the PEM", async () => {
    const body = `apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata:
  name: https
spec:
  protocol: HTTPS
  port: 8443
  tls:
    certificateFile: /etc/hostname
    keyFile: /etc/hostname
`;
    const r = await call("POST", "/api/v1/apply", body);
    assert.equal(r.status, 422);
    const diagnostics = (r.json.error?.["diagnostics"] ?? []) as { code: string; path: string; hint: string }[];
    const d = diagnostics.find((x) => x.path === "spec.tls.certificateFile");
    assert.equal(d?.code, "api.file_reference");
    assert.match(d?.hint ?? "", /inline/);
    assert.equal((await call("GET", "/api/v1/objects/Listener/https")).status, 404);
  });

  it("serves a bootstrap, health and JSON errors for unknown paths and methods", async () => {
    const b = await fetch(`${base}/api/v1/bootstrap?node=edge-1&cluster=edge&adminPort=19901`);
    const text = await b.text();
    assert.equal(b.status, 200);
    assert.match(text, /id: edge-1/);
    assert.match(text, /port_value: 18000/);
    assert.match(text, /port_value: 19901/);
    assert.equal((await call("GET", "/api/v1/bootstrap")).status, 400);
    // Issue 14: a newline in the node id used to inject a top-level key.
    const injected = await call("GET", "/api/v1/bootstrap?node=edge-1%0Alayered_runtime:%20{}");
    assert.equal(injected.status, 400);
    assert.match(String(injected.json.error?.["message"]), /^node must be 1-256 characters/);
    assert.equal((await call("GET", "/healthz")).json["status"], "ok");
    assert.equal((await call("GET", "/api/v2/nothing")).status, 404);
    assert.equal((await call("GET", "/api/v1/apply")).status, 405);
    const bad = await call("POST", "/api/v1/apply", "kind: [unclosed");
    assert.equal(bad.status, 422);
    assert.equal(((bad.json.error?.["diagnostics"] ?? []) as { code: string }[])[0]?.code, "yaml.syntax");
  });
  // Issue 14: bad input is the caller's mistake, answered 4xx naming the problem.
  it("answers 400 for a bad URL escape in the path", async () => {
    const r = await call("GET", "/api/v1/objects/Service/%ZZ");
    assert.equal(r.status, 400);
    assert.match(String(r.json.error?.["message"]), /^bad URL escape in path segment "%ZZ"/);
  });

  it("answers 400 for too many YAML aliases, naming the limit", async () => {
    const body = `x: &a [1]\n${service("al", 80).replace("spec:\n", `spec:\n  l: [${Array(5000).fill("*a").join(",")}]\n`)}`;
    const r = await call("POST", "/api/v1/apply", body);
    assert.equal(r.status, 400);
    assert.match(String(r.json.error?.["message"]), /too many YAML aliases.*\(limit 100\)/);
  });

  it("answers 400 for a JSON or YAML body nested 200,000 deep", async () => {
    for (const body of [`${"[".repeat(200_000)}${"]".repeat(200_000)}`, `{"items": [${'{"a":'.repeat(200_000)}1${"}".repeat(200_000)}]}`, `${"- ".repeat(200_000)}x\n`]) {
      const r = await call("POST", "/api/v1/validate", body);
      assert.equal(r.status, 400);
      assert.match(String(r.json.error?.["message"]), /nested too deep \(limit 100/);
    }
  });

  it("says a port of 1e309 is not a finite number, in JSON as in YAML", async () => {
    const json = '[{"apiVersion": "tcp.dev/v1alpha1", "kind": "Service", "metadata": {"name": "inf"}, "spec": {"endpoints": [{"address": "127.0.0.1", "port": 1e309}]}}]';
    for (const body of [json, service("inf", "1e309")]) {
      const r = await call("POST", "/api/v1/validate", body);
      assert.equal(r.status, 422);
      const [d] = (r.json.error?.["diagnostics"] ?? []) as { path: string; message: string }[];
      assert.deepEqual([d?.path, d?.message], ["spec.endpoints[0].port", "port is not a finite number (out of range)"]);
    }
  });

  it("refuses duplicate keys in JSON bodies with the key's path, inside lists too", async () => {
    const obj = (endpoint: string) => `{"apiVersion": "tcp.dev/v1alpha1", "kind": "Service", "metadata": {"name": "dup"}, "spec": {"endpoints": [${endpoint}]}}`;
    const cases: [string, string][] = [
      [`[${obj('{"address": "127.0.0.1", "port": 80, "port": 81}')}]`, "[0].spec.endpoints[0].port"],
      [`{"items": [${obj('{"address": "127.0.0.1", "port": 80}')}, ${obj('{"address": "a", "address": "b", "port": 1}')}]}`, "items[1].spec.endpoints[0].address"],
      [obj('{"address": "127.0.0.1", "port": 80, "port": 81}'), "spec.endpoints[0].port"],
    ];
    for (const [body, path] of cases) {
      const r = await call("POST", "/api/v1/apply", body);
      assert.equal(r.status, 422, body);
      assert.deepEqual(((r.json.error?.["diagnostics"] ?? []) as { code: string; path: string }[]).map((d) => [d.code, d.path]), [["yaml.duplicate_key", path]]);
    }
    assert.equal((await call("GET", "/api/v1/objects/Service/dup")).status, 404);
  });
  it("answers 4xx, not 500, for other caller mistakes: huge numbers, duplicate or null JSON, a request target that is not a URL", async () => {
    const limit = await call("GET", "/api/v1/history?limit=99999999999999999999");
    assert.equal(limit.status, 400);
    assert.match(String(limit.json.error?.["message"]), /^limit must be a whole number from 0 to/);
    assert.equal((await call("GET", "/api/v1/bootstrap?node=a&adminPort=99999")).status, 400);
    const dup = await call("POST", "/api/v1/rollback", '{"to": 1, "to": 2}');
    assert.equal(dup.status, 400);
    assert.match(String(dup.json.error?.["message"]), /duplicate key/);
    assert.equal((await call("POST", "/api/v1/rollback", "null")).status, 400);
    assert.equal((await call("POST", "/api/v1/delete", "null")).status, 400);
    assert.equal((await call("POST", "/api/v1/delete", '{"keys": ["Service/s1"], "keys": ["Service/x"]}')).status, 400);
    const socket = connect({ host: "127.0.0.1", port: Number(new URL(base).port) });
    socket.write("GET http://[bad HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    const answer = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("close", () => resolve(text));
    });
    assert.match(answer, /^HTTP\/1.1 400 /);
    assert.match(answer, /is not a valid URL path/);
  });

  it("answers the change id; refuses a bad ?wait= with 400 before changing anything", async () => {
    const revision = store.currentRevision();
    const bad = await call("POST", "/api/v1/apply?wait=soon", service("s9", 8089));
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error?.["message"]), /wait takes a duration from 1ms to 10m such as 30s/);
    // This server has no xDS server to wait for: said so, and nothing stored either.
    const none = await call("POST", "/api/v1/apply?wait=1s", service("s9", 8089));
    assert.equal(none.status, 400);
    assert.equal(store.currentRevision(), revision);
    const ok = await call("POST", "/api/v1/apply", service("s9", 8089));
    assert.equal(ok.json["changeId"], `chg-${revision + 1}`);
    assert.equal((await call("DELETE", "/api/v1/objects/Service/s9")).status, 200);
  });
});
