import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSnapshotCache } from "@ts-control-plane/xds";
import { createReconciler } from "../reconciler/reconciler.ts";
import { buildStatusReport } from "../status/status-report.ts";
import { openObjectStore } from "../store/object-store.ts";
import { createAdminServer } from "./admin-server.ts";

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
  const admin = createAdminServer({
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
    assert.equal((await call("GET", "/healthz")).json["status"], "ok");
    assert.equal((await call("GET", "/api/v2/nothing")).status, 404);
    assert.equal((await call("GET", "/api/v1/apply")).status, 405);
    const bad = await call("POST", "/api/v1/apply", "kind: [unclosed");
    assert.equal(bad.status, 422);
    assert.equal(((bad.json.error?.["diagnostics"] ?? []) as { code: string }[])[0]?.code, "yaml.syntax");
  });
});
