// Issue 9: one change id follows a change from the admin API through compile
// and push to each node's ACK and NACK, as structured log fields.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TypeUrl } from "@ts-control-plane/xds";
import { RawXdsClient } from "@ts-control-plane/xds/testing";
import { createLogger } from "./log/logger.ts";
import { defaultExamplePath, serve } from "./main.ts";

const onLoopback = { xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, configPaths: [], debounceMs: 5 } as const;

type Line = { level: string; msg: string; changeId?: string; node?: string; type?: string; source?: string };

test("the change id is logged at accept, push, and each node's ACK and NACK of that change's versions", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-change-id-"));
  const chunks: string[] = [];
  const cp = await serve({
    ...onLoopback,
    dataDir: dir,
    examplePath: defaultExamplePath,
    logger: createLogger({ format: "json", level: "debug", destination: { write: (s: string) => chunks.push(s) } }),
  });
  const client = new RawXdsClient({ port: cp.xdsPort, nodeId: "edge-1" });
  t.after(async () => {
    client.close();
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const lines = (): Line[] => chunks.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Line);

  client.send({ typeUrl: TypeUrl.Cluster });
  const first = await client.next();
  client.ack(first);
  const service = { apiVersion: "tcp.dev/v1alpha1", kind: "Service", metadata: { name: "extra" }, spec: { endpoints: [{ address: "127.0.0.1", port: 9999 }] } };
  const r = await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([service]) });
  const body = (await r.json()) as { changeId: string };
  assert.equal(body.changeId, "chg-2", "the example is revision 1");
  const second = await client.next();
  client.send({ typeUrl: TypeUrl.Cluster, responseNonce: second.nonce, versionInfo: first.versionInfo, errorMessage: "cluster extra: bad" });
  for (let i = 0; i < 100 && !lines().some((l) => l.msg.startsWith("NACK from")); i++) await new Promise((resolve) => setTimeout(resolve, 10));

  const ofChange = (id: string) => lines().filter((l) => l.changeId === id);
  assert.ok(ofChange("chg-1").some((l) => l.level === "info" && l.msg.startsWith("ACK from edge-1 for Cluster") && l.node === "edge-1" && l.type === "Cluster"), JSON.stringify(lines()));
  const two = ofChange("chg-2");
  assert.deepEqual(
    two.map((l) => [l.level, l.msg.replace(/ \(.*$|;.*$|: .*$/, "")]),
    [
      ["info", "accepted change from api"],
      ["info", "revision 2 compiled and pushed"],
      ["warn", "NACK from edge-1 for Cluster"],
    ],
  );
  assert.equal(two[2]?.node, "edge-1");
  assert.ok(lines().some((l) => l.level === "debug" && l.msg === "xDS stream opened by edge-1"), "debug events at --log-level debug");
});
