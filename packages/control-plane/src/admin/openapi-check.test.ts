import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startTestAdmin } from "./start-test-admin.ts";
import { openApiChecker } from "./openapi-check.ts";
import { openApiDocument } from "./openapi-document.ts";

const check = openApiChecker();
const json = "application/json";

describe("OpenAPI document and response check (issue 9)", () => {
  it("is served at GET /api/v1/openapi.json with the read role, and lists every route of the admin API", async (t) => {
    const admin = await startTestAdmin({ auth: "token" });
    t.after(() => admin.close());
    const read = admin.tokens.create({ name: "reader", role: "read" }).token;
    assert.equal((await admin.send({ path: "/api/v1/openapi.json" })).status, 401);
    const r = await admin.send({ path: "/api/v1/openapi.json", headers: { authorization: `Bearer ${read}` } });
    assert.equal(r.status, 200);
    assert.equal(r.json["openapi"], "3.1.0");
    assert.deepEqual(r.json, JSON.parse(JSON.stringify(openApiDocument)));
    const paths = Object.keys(r.json["paths"] as object).sort();
    for (const p of [
      "/healthz",
      "/api/v1/objects",
      "/api/v1/objects/{kind}/{name}",
      "/api/v1/apply",
      "/api/v1/validate",
      "/api/v1/diff",
      "/api/v1/delete",
      "/api/v1/status",
      "/api/v1/proxies/{node}/config",
      "/api/v1/history",
      "/api/v1/history/{revision}",
      "/api/v1/history/purge",
      "/api/v1/rollback",
      "/api/v1/tokens",
      "/api/v1/tokens/{name}",
      "/api/v1/bootstrap",
      "/api/v1/version",
      "/api/v1/openapi.json",
    ]) {
      assert.ok(paths.includes(p), `${p} is documented`);
    }
  });

  it("accepts answers that match, and names what does not: a field, an undocumented path, method or status", () => {
    assert.equal(check({ method: "GET", path: "/api/v1/version", status: 200, contentType: json, json: { version: "1", revision: 3 } }), undefined);
    assert.equal(check({ method: "GET", path: "/api/v1/history/purge", status: 405, contentType: json, json: { error: { code: "method_not_allowed", message: "m", diagnostics: [] } } }), undefined);
    assert.match(check({ method: "GET", path: "/api/v1/version", status: 200, contentType: json, json: { version: 1, revision: 3 } }) ?? "", /body\.version is number 1, not string/);
    assert.match(check({ method: "GET", path: "/api/v1/version", status: 200, contentType: json, json: { version: "1" } }) ?? "", /body\.revision is missing/);
    assert.match(check({ method: "GET", path: "/api/v1/metrics", status: 200, contentType: "text/plain", json: undefined }) ?? "", /has no path for \/api\/v1\/metrics: document it/);
    assert.match(check({ method: "PATCH", path: "/api/v1/apply", status: 200, contentType: json, json: {} }) ?? "", /has no PATCH \/api\/v1\/apply/);
    assert.match(check({ method: "GET", path: "/api/v1/version", status: 418, contentType: json, json: {} }) ?? "", /a status the OpenAPI document does not list/);
    assert.match(check({ method: "GET", path: "/api/v1/status", status: 404, contentType: json, json: { error: { code: "nope", message: "m", diagnostics: [] } } }) ?? "", /body\.error\.code is "nope", not one of/);
    // An unknown path is answered 404 in the error shape, which is what the document says of any path.
    assert.equal(check({ method: "GET", path: "/api/v2/x", status: 404, contentType: json, json: { error: { code: "not_found", message: "no such path", diagnostics: [] } } }), undefined);
    assert.equal(check({ method: "GET", path: "/api/v1/bootstrap", status: 200, contentType: "application/yaml", json: undefined }), undefined);
  });
});
