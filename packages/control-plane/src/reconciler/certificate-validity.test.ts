import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createSnapshotCache } from "@ts-control-plane/xds";
import { TestPki } from "@ts-control-plane/xds/testing";
import type { ModelObject } from "../model/model-object.ts";
import { openObjectStore } from "../store/object-store.ts";
import { createReconciler } from "./reconciler.ts";

// Issue 13: an expired or not-yet-valid certificate is refused when a change brings it (clients would
// refuse it at once), but one already stored only warns as time passes: expiry never takes a listener down.

let pki: TestPki;
let cert = "";
let key = "";
const dir = mkdtempSync(join(tmpdir(), "cp-cert-validity-"));
before(async () => {
  pki = await TestPki.create({ commonName: "validity test CA" });
  const issued = await pki.issue({ name: "web", commonName: "localhost", sans: ["DNS:localhost"] });
  cert = await readFile(issued.certFile, "utf8");
  key = await readFile(issued.keyFile, "utf8");
});
after(async () => {
  await pki.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const objects = (port: number): ModelObject[] => [
  o("Secret", "web-cert", { tlsCertificate: { certificate: cert, key } }),
  o("Listener", "l", { protocol: "HTTPS", port: 10443, tls: { secret: "web-cert" } }),
  o("Service", "web", { endpoints: [{ address: "127.0.0.1", port }] }),
  o("Route", "r", { listeners: ["l"], routes: [{ match: { prefix: "/" }, backends: [{ service: "web" }] }] }),
];

test("a change bringing an expired certificate is refused; a stored one that expires later only warns", async () => {
  let now = Date.now();
  const store = openObjectStore({ file: join(dir, "a.db") });
  const reconciler = createReconciler({ store, cache: createSnapshotCache({ ads: true }), debounceMs: 5, compile: { now: () => now } });
  try {
    const farFuture = now + 10 * 365 * 24 * 3600 * 1000;
    const present = now;
    now = farFuture;
    const refused = await reconciler.change({ upserts: objects(8081), source: "test" });
    assert.equal(refused.accepted, false);
    const d = refused.diagnostics.find((x) => x.code === "tls.expired");
    assert.deepEqual(d && { severity: d.severity, object: d.object, path: d.path }, { severity: "error", object: "Secret/web-cert", path: "spec.tlsCertificate.certificate" });
    assert.match(d?.message ?? "", /expired at .*: a change may not bring a certificate clients refuse/);
    assert.equal(store.list().length, 0, "nothing stored");

    // The same certificate once it is valid (here: the clock back): accepted, not a stale verdict of the compiler.
    now = present;
    assert.equal((await reconciler.change({ upserts: objects(8081), source: "test" })).accepted, true);
    // Time passes: the stored certificate expires. Another change is still accepted, with a warning.
    now = farFuture;
    const later = await reconciler.change({ upserts: [o("Service", "web", { endpoints: [{ address: "127.0.0.1", port: 8082 }] })], source: "test" });
    assert.equal(later.accepted, true, JSON.stringify(later.diagnostics));
    await reconciler.flush();
    assert.equal(reconciler.state().rejected.length, 0, "the listener and its Secret keep being served");
  } finally {
    await reconciler.close();
    store.close();
  }
});
