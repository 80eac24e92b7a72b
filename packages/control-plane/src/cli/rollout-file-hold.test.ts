// A watched config file changed while a rollout runs (issue 11 item 5): applied then, it would bypass
// the rollout (the held proxies stay on the old revision while the canary gets it, and a failed
// canary rolls the store back over it). It waits, logged and listed in rollout status with how to end
// the rollout, and is applied once the rollout ends: promoted or aborted.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cli, poll, serveOptions, serviceYaml } from "./cli-test-kit.ts";
import { serve } from "../main.ts";
import type { Rollout } from "../rollout/rollout.ts";

type RolloutStatus = { revision: number; rollout: Rollout | null; heldFiles?: { file: string; since: string; reason: string }[] };
type History = { revision: number; items: { revision: number; source: string }[] };

test("a watched file changed during a rollout waits for it, named in logs and rollout status, and is applied once the rollout is promoted or aborted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-rollout-files-"));
  const conf = join(dir, "conf");
  mkdirSync(conf);
  const file = join(conf, "services.yaml");
  writeFileSync(file, serviceYaml("from-file", 9001));
  const logs: string[] = [];
  const cp = await serve(serveOptions(join(dir, "data"), { configPaths: [conf], log: (line) => logs.push(line) }));
  const base = `http://127.0.0.1:${cp.adminPort}`;
  t.after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const get = async <T>(path: string) => (await (await fetch(`${base}${path}`)).json()) as T;
  const portInStore = async () => ((await get<{ object: { spec: { endpoints: { port: number }[] } } }>("/api/v1/objects/Service/from-file")).object.spec.endpoints[0]?.port);
  assert.equal(await portInStore(), 9001);

  for (const end of ["promote", "abort"] as const) {
    const port = end === "promote" ? 9002 : 9003;
    // No proxy is connected: the canary stage passes at once and bakes for long.
    const applied = await fetch(`${base}/api/v1/apply?canaryGroup=default&bake=10m`, { method: "POST", headers: { "content-type": "application/yaml" }, body: serviceYaml(`extra-${end}`, 9999) });
    assert.equal(applied.status, 200, await applied.clone().text());
    const { rollout } = (await applied.json()) as { rollout: Rollout };

    writeFileSync(file, serviceYaml("from-file", port));
    const held = await poll("the file change is held", async () => {
      const s = await get<RolloutStatus>("/api/v1/rollout");
      return s.heldFiles?.length === 1 ? s : undefined;
    });
    assert.equal(held.heldFiles?.[0]?.file, file);
    assert.match(held.heldFiles?.[0]?.reason ?? "", new RegExp(`^rollout ${rollout.id} is running \\(baking, revision ${rollout.fromRevision} -> ${rollout.toRevision}\\) and a change now would bypass it; it is applied once the rollout ends: promote it \\(tcp rollout promote\\) or abort it \\(tcp rollout abort\\)$`));
    assert.ok(logs.some((l) => l.includes(`change from ${file} not applied yet: rollout ${rollout.id} is running`)), logs.join("\n"));
    assert.equal(held.revision, rollout.toRevision, "no revision from the file while the rollout runs");
    assert.equal(await portInStore(), end === "promote" ? 9001 : 9002);
    const status = await cli(["rollout", "status"], { CONTROL_PLANE_SERVER: base });
    assert.match(status.out, new RegExp(`config file ${file.replaceAll("/", "\\/")} changed \\(.*\\), not applied until the rollout ends`));

    const ended = await fetch(`${base}/api/v1/rollout/${end}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(ended.status, 200, await ended.clone().text());
    const after = await poll("the file change is applied", async () => {
      const h = await get<History>("/api/v1/history?limit=1");
      return h.items[0]?.source === `file:${file}` ? h : undefined;
    });
    // After an abort, the rollback revision comes first; the file's change goes on top of it.
    assert.equal(after.revision, rollout.toRevision + (end === "promote" ? 1 : 2));
    assert.equal(await portInStore(), port);
    assert.equal((await get<RolloutStatus>("/api/v1/rollout")).heldFiles, undefined);
    assert.ok(logs.some((l) => l.includes(`applying the config file changes that waited for the rollout: ${file}`)));
  }
});
