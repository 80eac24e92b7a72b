import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { createSnapshotCache } from "@ts-control-plane/xds";
import type { ModelObject } from "../model/model-object.ts";
import { type ObjectStore, openObjectStore } from "../store/object-store.ts";
import { createReconciler } from "./reconciler.ts";

// Issue 14: validation and commit are one step. Two writers on one database (two connections,
// as two processes would have): a delete of X lands after the apply of a Route to X was
// checked outside the transaction but before it was written. Checked inside the write
// transaction, the apply sees X gone and is refused: no dangling reference is ever stored.

const dir = mkdtempSync(join(tmpdir(), "cp-commit-atomic-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "control-plane.db");

const listener: ModelObject = { apiVersion: "tcp.dev/v1alpha1", kind: "Listener", metadata: { name: "l" }, spec: { protocol: "HTTP", port: 10000 } };
const service: ModelObject = { apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "x" }, spec: { endpoints: [{ address: "127.0.0.1", port: 8080 }] } };
const route: ModelObject = {
  apiVersion: "tcp.dev/v1alpha1",
  kind: "Route",
  metadata: { name: "to-x" },
  spec: { listeners: ["l"], domains: ["*"], routes: [{ match: { prefix: "/" }, backends: [{ service: "x" }] }] },
};

function writer(store: ObjectStore) {
  return createReconciler({ store, cache: createSnapshotCache(), debounceMs: 5 });
}

it("an apply referencing X and a concurrent delete of X never leave a dangling reference", async () => {
  const storeA = openObjectStore({ file });
  const storeB = openObjectStore({ file });
  const b = writer(storeB);
  let interleaved = false;
  // Store A with the delete injected at the last moment before A's write: where a check-then-commit would have already said yes.
  const racing: ObjectStore = {
    ...storeA,
    async commit(change, options) {
      if (!interleaved && change.upserts?.some((o) => o.kind === "Route")) {
        interleaved = true;
        const deleted = await b.changeNow({ deletes: ["Service/x"], source: "b" });
        assert.equal(deleted.accepted, true, JSON.stringify(deleted.diagnostics));
      }
      return storeA.commit(change, options);
    },
  };
  const a = writer(racing);
  try {
    assert.equal((await a.change({ upserts: [listener, service], source: "a" })).accepted, true);
    const outcome = await a.change({ upserts: [route], source: "a" });
    assert.ok(interleaved);
    assert.equal(outcome.accepted, false, "the apply must be judged against the store with X deleted");
    assert.ok(outcome.diagnostics.some((d) => d.severity === "error" && d.message.includes("x")), JSON.stringify(outcome.diagnostics));
    // What is stored: no Route pointing at a Service that is not there.
    const stored = openObjectStore({ file });
    const keys = stored.list().map((s) => s.key).sort();
    stored.close();
    assert.deepEqual(keys, ["Listener/l"]);

    // The other order: the Route is stored first, so the delete of X is the one refused.
    assert.equal((await a.change({ upserts: [service, route], source: "a" })).accepted, true);
    const deleteNow = await b.change({ deletes: ["Service/x"], source: "b" });
    assert.equal(deleteNow.accepted, false);
    assert.deepEqual(storeB.list().map((s) => s.key).sort(), ["Listener/l", "Route/to-x", "Service/x"]);
  } finally {
    await a.close();
    await b.close();
    storeA.close();
    storeB.close();
  }
});

it("a synchronous change (a watched file) committed while a queued change is judged in slices makes that change be judged again", async () => {
  const dir2 = mkdtempSync(join(tmpdir(), "cp-commit-sliced-"));
  const store = openObjectStore({ file: join(dir2, "control-plane.db") });
  const r = writer(store);
  try {
    assert.equal((await r.change({ upserts: [listener, service], source: "a" })).accepted, true);
    // Enough objects that judging takes many slices: the delete lands in the middle of it.
    const filler: ModelObject[] = Array.from({ length: 3000 }, (_, i) => ({
      apiVersion: "tcp.dev/v1alpha1",
      kind: "Service",
      metadata: { name: `f-${i}` },
      spec: { endpoints: [{ address: "127.0.0.1", port: 1000 + (i % 60000) }] },
    }));
    const pending = r.change({ upserts: [route, ...filler], source: "api" });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const deleted = await r.changeNow({ deletes: ["Service/x"], source: "file:x.yaml" });
    assert.equal(deleted.accepted, true, JSON.stringify(deleted.diagnostics));
    const outcome = await pending;
    assert.equal(outcome.accepted, false, "judged again on top of the delete");
    assert.ok(outcome.rejected.includes("Route/to-x"), JSON.stringify(outcome.rejected));
    assert.deepEqual(store.list().map((s) => s.key), ["Listener/l"]);
  } finally {
    await r.close();
    store.close();
    rmSync(dir2, { recursive: true, force: true });
  }
});
