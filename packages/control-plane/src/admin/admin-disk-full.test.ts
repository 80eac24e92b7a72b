import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import { createSnapshotCache } from "@ts-control-plane/xds";
import { createReconciler } from "../reconciler/reconciler.ts";
import { buildStatusReport } from "../status/status-report.ts";
import { openObjectStore } from "../store/object-store.ts";
import { createAdminServer } from "./admin-server.ts";
import { createOpenApiRecorder } from "./openapi-check.ts";

// Issue 14: a full disk answers 507 "disk full", not 500 "cannot rollback - no transaction is active",
// and the next change succeeds once there is space again. PRAGMA max_page_count makes SQLite
// answer SQLITE_FULL exactly as a full disk does.

const service = (name: string, filler = "") => `apiVersion: tcp.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
  labels: { filler: "${filler}" }
spec:
  endpoints:
    - address: 127.0.0.1
      port: 8080
`;

it("answers 507 disk_full on SQLITE_FULL and recovers when space returns", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-disk-full-"));
  const file = join(dir, "control-plane.db");
  let limit: number | undefined;
  const store = openObjectStore({ file, maxPageCount: () => limit });
  const reconciler = createReconciler({ store, cache: createSnapshotCache({ ads: true }), debounceMs: 5 });
  const openApi = createOpenApiRecorder();
  const admin = createAdminServer({
    onReply: openApi.onReply,
    store,
    reconciler,
    xds: { host: "127.0.0.1", port: 18000 },
    status: () => buildStatusReport({ revision: store.currentRevision(), proxies: [], groupOf: () => undefined, snapshotOf: () => undefined, groups: [] }),
  });
  const base = `http://127.0.0.1:${await admin.listen({ port: 0 })}`;
  t.after(async () => {
    await admin.close();
    await reconciler.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    openApi.assertClean();
  });
  const apply = (body: string) => fetch(`${base}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/yaml" }, body });

  const first = await apply(service("small"));
  assert.equal(first.status, 200, await first.clone().text());
  const probe = new DatabaseSync(file);
  limit = Number((probe.prepare("PRAGMA page_count").get() as Record<string, unknown>)["page_count"]);
  probe.close();

  const full = await apply(service("big", "x".repeat(64 * 1024)));
  const body = (await full.json()) as { error: { code: string; message: string } };
  assert.equal(full.status, 507);
  assert.equal(body.error.code, "disk_full");
  assert.match(body.error.message, /disk full/);
  assert.doesNotMatch(body.error.message, /cannot rollback/);
  assert.equal(store.currentRevision(), 1, "nothing was stored");

  // Space is back.
  limit = 1_000_000;
  const again = await apply(service("big", "x".repeat(64 * 1024)));
  assert.equal(again.status, 200, await again.clone().text());
  assert.equal(store.currentRevision(), 2);
});
