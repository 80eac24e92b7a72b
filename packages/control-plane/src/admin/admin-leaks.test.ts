import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { TestPki } from "@ts-control-plane/xds/testing";
import { startTestAdmin, type TestAdmin } from "./start-test-admin.ts";

// Issue 13, "nothing leaks": private keys sent in objects never come back out of the admin API or its log.

interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

/** What must appear nowhere: each PEM body line of the key, and the base64 of the whole key file. */
const needles = (key: string): string[] => [...key.split("\n").filter((l) => l !== "" && !l.startsWith("-----")), Buffer.from(key).toString("base64").slice(0, 48)];

const listener = (tls: KeyPair) => ({
  apiVersion: "tcp.dev/v1alpha1",
  kind: "Listener",
  metadata: { name: "https" },
  spec: { protocol: "HTTPS", port: 8443, tls: { certificate: tls.cert, key: tls.key } },
});
const rawSecret = (tls: KeyPair) => ({
  apiVersion: "tcp.dev/v1alpha1",
  kind: "RawResource",
  metadata: { name: "raw-secret" },
  spec: {
    resource: {
      "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
      name: "raw-secret",
      tls_certificate: {
        certificate_chain: { inline_string: tls.cert },
        private_key: { inline_bytes: Buffer.from(tls.key).toString("base64") },
      },
    },
  },
});

describe("admin API: nothing leaks", () => {
  let admin: TestAdmin;
  let pki: TestPki;
  let a: KeyPair;
  let b: KeyPair;
  let c: KeyPair;
  const json = { "content-type": "application/json" };
  before(async () => {
    pki = await TestPki.create();
    const read = async (name: string): Promise<KeyPair> => {
      const files = await pki.issue({ name, commonName: name });
      return { cert: readFileSync(files.certFile, "utf8"), key: readFileSync(files.keyFile, "utf8") };
    };
    [a, b, c] = [await read("a"), await read("b"), await read("c")];
    admin = await startTestAdmin({ auth: "none" });
  });
  after(async () => {
    await admin.close();
    await pki.dispose();
  });

  it("answers every endpoint, success or refusal, JSON or YAML, and logs, without a private key", async () => {
    const answers: unknown[] = [];
    const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const r = await admin.send({ method, path, headers: { ...json, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      answers.push(r.json);
      return r;
    };
    assert.equal((await send("POST", "/api/v1/validate", [listener(a), rawSecret(a)])).status, 200);
    const applied = await send("POST", "/api/v1/apply", [listener(a), rawSecret(a)]);
    assert.equal(applied.status, 200, JSON.stringify(applied.json));
    assert.equal((await send("POST", "/api/v1/diff", [listener(b), rawSecret(b)])).status, 200);
    assert.equal((await send("POST", "/api/v1/apply?dryRun=true", [listener(b)])).status, 200);
    assert.equal((await send("PUT", "/api/v1/objects/Listener/https", listener(b))).status, 200);
    // Refused: the key of another certificate; the diagnostics and the log quote nothing of it.
    const refused = await send("POST", "/api/v1/apply", [listener({ cert: b.cert, key: c.key }), rawSecret(c)]);
    assert.equal(refused.status, 422);
    for (const path of ["/api/v1/objects", "/api/v1/objects/Listener/https", "/api/v1/objects/RawResource/raw-secret", "/api/v1/history", "/api/v1/history/1", "/api/v1/history/2", "/api/v1/status", "/api/v1/bootstrap?node=edge-1"]) {
      assert.equal((await send("GET", path)).status, 200, path);
      assert.equal((await send("GET", path, undefined, { accept: "application/yaml" })).status, 200, path);
    }
    assert.equal((await send("POST", "/api/v1/rollback", { to: 1, dryRun: true })).status, 200);

    const everything = JSON.stringify(answers) + admin.lines.join("\n");
    for (const key of [a.key, b.key, c.key]) for (const needle of needles(key)) assert.ok(!everything.includes(needle), `leaked: ${needle}`);
    assert.ok(!everything.includes("PRIVATE KEY-----"), "no PEM private key block at all");
    assert.match(everything, /<redacted sha256:[0-9a-f]{12}>/);
    assert.ok(everything.includes(a.cert.split("\n")[1] ?? "?"), "certificates are not secrets: they stay");
  });

  it("shows that a key changed: history of two revisions carries two placeholders", async () => {
    const one = await admin.send({ method: "GET", path: "/api/v1/history/1" });
    const two = await admin.send({ method: "GET", path: "/api/v1/history/2" });
    const keyAt = (r: { json: Record<string, unknown> }) =>
      (r.json["objects"] as { kind: string; spec: { tls?: { key: string } } }[]).find((o) => o.kind === "Listener")?.spec.tls?.key;
    assert.match(keyAt(one) ?? "", /^<redacted sha256:[0-9a-f]{12}>\n?$/);
    assert.notEqual(keyAt(one), keyAt(two));
  });

  it("refuses an object read back with its placeholder, naming the field, and keeps the stored key", async () => {
    const got = await admin.send({ method: "GET", path: "/api/v1/objects/Listener/https" });
    const object = got.json["object"];
    const before = admin.lines.length;
    const r = await admin.send({ method: "POST", path: "/api/v1/apply", headers: json, body: JSON.stringify(object) });
    assert.equal(r.status, 422);
    const error = r.json["error"] as { diagnostics: { code: string; path: string; object: string; hint: string }[] };
    assert.deepEqual(
      error.diagnostics.map((d) => [d.code, d.object, d.path]),
      [["secret.redacted_value", "Listener/https", "spec.tls.key"]],
    );
    assert.match(error.diagnostics[0]?.hint ?? "", /send the real key .* or omit the field/);
    assert.equal(admin.lines.length, before, "nothing was changed");
    const again = await admin.send({ method: "GET", path: "/api/v1/objects/Listener/https" });
    assert.equal((again.json["revision"] as number) > 0, true);
  });

  it("purges old revisions (write role), after which they answer 410 and rollback to them is refused", async () => {
    const current = (await admin.send({ method: "GET", path: "/api/v1/history" })).json["revision"] as number;
    const r = await admin.send({ method: "POST", path: "/api/v1/history/purge", headers: json, body: JSON.stringify({ keep: 1 }) });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json["oldest"], current);
    const gone = await admin.send({ method: "GET", path: "/api/v1/history/1" });
    assert.equal(gone.status, 410);
    assert.match(String((gone.json["error"] as { message: string }).message), /revision 1 was purged/);
    const rollback = await admin.send({ method: "POST", path: "/api/v1/rollback", headers: json, body: JSON.stringify({ to: 1 }) });
    assert.equal(rollback.status, 410);
    assert.equal((await admin.send({ method: "GET", path: "/api/v1/objects/Listener/https" })).status, 200, "current objects are intact");
    const bad = await admin.send({ method: "POST", path: "/api/v1/history/purge", headers: json, body: JSON.stringify({ before: 1, keep: 1 }) });
    assert.equal(bad.status, 400);
  });
});

describe("admin API: token values are never logged", () => {
  it("logs a token's name and role when it is created, used or refused, never its value", async () => {
    const admin = await startTestAdmin({ auth: "token" });
    try {
      const root = admin.tokens.create({ name: "root", role: "admin" }).token;
      const made = await admin.send({ method: "POST", path: "/api/v1/tokens", headers: { "content-type": "application/json", authorization: `Bearer ${root}` }, body: JSON.stringify({ name: "ci", role: "read" }) });
      assert.equal(made.status, 201);
      const ci = String(made.json["token"]);
      assert.equal((await admin.send({ method: "POST", path: "/api/v1/apply", headers: { "content-type": "application/json", authorization: `Bearer ${ci}` }, body: "{}" })).status, 403);
      assert.equal((await admin.send({ method: "GET", path: "/api/v1/objects", headers: { authorization: `Bearer ${ci}x` } })).status, 401);
      assert.match(admin.lines.join("\n"), /token ci \(role read\) created by token:root/);
      for (const value of [root, ci]) assert.ok(!admin.lines.some((l) => l.includes(value)), "no token value in the log");
    } finally {
      await admin.close();
    }
  });
});
