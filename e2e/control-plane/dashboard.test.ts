// Issue 9: the web dashboard in real headless Chromium against a real control plane and
// real Envoys. The fleet page lists the Envoy as SYNCED; a Listener Envoy cannot bind turns
// it NACKED with Envoy's message, without a reload; a rollback from the history page (after
// its confirmation) reaches Envoy's config_dump. A node id that is markup shows as text.
// With --admin-auth token the page asks for a token, keeps it in the tab, streams live
// events with it, and says which role a rollback needs. The rollouts page (issue 11) shows the running
// rollout and its bake traffic, promotes and aborts after a confirmation, and lists past rollouts.
// Screenshots are saved under e2e/artifacts/.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { dynamicListeners } from "../harness/config-dump.ts";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { artifactPath, startBrowser } from "../harness/start-browser.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";
import { startControlPlane } from "./control-plane-process.ts";

const object = (kind: string, name: string, spec: Json) => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
/** A node id an attacker could choose: rendered as markup, it would run its handler. */
const evilNode = `<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">edge-2`;

test("dashboard: SYNCED, then NACKED with Envoy's message, then a rollback from the history page reaches Envoy", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-dashboard-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "service1", t });
  const httpPort = await freePort();
  const cp = await startControlPlane({ dataDir: join(dir, "data"), t });
  const server = cp.adminUrl;
  const apply = async (objects: readonly Json[]) => {
    const r = await fetch(`${server}/api/v1/apply`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
    assert.equal(r.status, 200, await r.clone().text());
    return ((await r.json()) as { revision: number }).revision;
  };
  const good = await apply([
    object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] }),
    object("Listener", "web", { protocol: "HTTP", address: "127.0.0.1", port: httpPort }),
    object("Route", "all", { listeners: ["web"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
  ]);
  const envoy = await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: "edge-1" }) as Json, name: "cp-dashboard", t });
  // Envoy binds listeners with SO_REUSEPORT, so a second Envoy takes the same configuration.
  await startEnvoy({ bootstrap: xdsBootstrap({ xdsPort: cp.xdsPort, mode: "ads", nodeId: evilNode }) as Json, name: "cp-dashboard-evil", t });
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${httpPort}/`)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });

  const browser = await startBrowser({ t });
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  const shot = async (name: string) => {
    const path = artifactPath(`dashboard-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot: ${path}`);
  };

  // Fleet: edge-1 SYNCED; the markup node id is text, and its handler never ran.
  await page.goto(`${server}/`);
  const edge1 = page.locator('tr[data-node="edge-1"]');
  await edge1.locator(".badge", { hasText: "SYNCED" }).waitFor({ timeout: 15_000 });
  assert.equal(await edge1.getAttribute("data-state"), "SYNCED");
  const evilRow = page.locator("tr[data-node]").filter({ hasText: "edge-2" });
  await evilRow.waitFor({ timeout: 10_000 });
  assert.equal(await evilRow.locator("td").first().textContent(), evilNode, "the node id is shown as it is");
  assert.equal(await page.locator("#app img, #app script").count(), 0, "no element was made from the node id");
  assert.equal(await page.title(), "ts-control-plane", "neither the script nor the onerror handler ran");
  await page.locator("#live[data-state=live]").waitFor({ timeout: 5_000 });
  await shot("1-fleet-synced");
  // Its own page, reached through an escaped link, shows it as text too.
  await evilRow.locator("a").click();
  await page.locator('#app[data-page="proxy"]').waitFor();
  assert.equal(await page.locator("#app h1 .mono").textContent(), evilNode);
  assert.equal(await page.locator("#app img, #app script").count(), 0);
  assert.equal(await page.title(), "ts-control-plane");
  await page.goBack();
  await edge1.waitFor();

  // A listener on a port another process holds: Envoy NACKs it; the page turns NACKED by itself.
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ host: "127.0.0.1", port: 0 }, resolve));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const heldPort = (holder.address() as { port: number }).port;
  const bad = await apply([object("Listener", "tcp_busy", { protocol: "TCP", address: "127.0.0.1", port: heldPort, service: "backend" })]);
  assert.equal(bad, good + 1);
  await edge1.locator(".badge", { hasText: "NACKED" }).waitFor({ timeout: 15_000 });
  const message = (await edge1.locator("td.nack").textContent()) ?? "";
  t.diagnostic(`Envoy's message on the page: ${message}`);
  assert.match(message, /^LDS: .*tcp_busy.*(bind|address)/is);
  const status = (await (await fetch(`${server}/api/v1/status`)).json()) as { nodes: { nodeId: string; types: { type: string; nack?: { message: string } }[] }[] };
  const apiMessage = status.nodes.find((n) => n.nodeId === "edge-1")?.types.find((x) => x.nack !== undefined)?.nack?.message;
  assert.equal(message, `LDS: ${apiMessage?.trim()}`, "the page shows Envoy's message as the API reports it");
  await shot("2-fleet-nacked");

  // The proxy page: per type, and the resources sent with their JSON.
  await edge1.locator("a").click();
  await page.locator('#app[data-page="proxy"]').waitFor();
  const listenersRow = page.locator('tr[data-type="LDS"]');
  assert.equal(await listenersRow.getAttribute("data-state"), "NACKED");
  assert.match((await listenersRow.locator("td.nack").textContent()) ?? "", /tcp_busy/);
  const busy = page.locator('tr[data-resource="listeners/tcp_busy"]');
  assert.equal(await busy.getAttribute("data-state"), "NACKED");
  await busy.locator("summary").click();
  assert.match((await busy.locator("pre").textContent()) ?? "", new RegExp(`"port_value": ${heldPort}`));
  await shot("3-proxy-nacked");

  // Objects: programmed by N of M proxies, and who rejected what.
  await page.locator('a[href="#/objects"]').click();
  const busyObject = page.locator('tr[data-object="Listener/tcp_busy"]');
  await busyObject.waitFor();
  assert.match((await busyObject.textContent()) ?? "", /programmed by 0 of 2 proxies/);
  assert.match((await busyObject.locator("td.nack").textContent()) ?? "", /edge-1 \(LDS\): .*tcp_busy/);
  assert.match((await page.locator('tr[data-object="Route/all"]').textContent()) ?? "", /programmed by 2 of 2 proxies/);

  // History: the diff of the two revisions, then a rollback; dismissing the confirmation changes nothing.
  await page.locator('a[href="#/history"]').click();
  await page.locator(`tr[data-revision="${bad}"]`).waitFor();
  await page.locator("#compare").click();
  await page.locator(`#app[data-page="diff"]`).waitFor();
  const created = page.locator('section[data-diff-object="Listener/tcp_busy"]');
  assert.match((await created.textContent()) ?? "", /created/);
  assert.match((await created.locator("pre").textContent()) ?? "", new RegExp(`\\+ spec: .*"port":${heldPort}`));
  await shot("4-diff");
  await page.goBack();
  // Each revision links to its own changes (from the one before it).
  await page.locator(`a[data-diff="${bad}"]`).click();
  await page.locator(`#app[data-page="diff"] h1`, { hasText: `Revision ${good} → ${bad}` }).waitFor();
  assert.equal(await page.locator("section[data-diff-object]").count(), 1);
  await page.goBack();
  const rollbackButton = page.locator(`button[data-rollback="${good}"]`);
  await rollbackButton.waitFor();
  page.once("dialog", (d) => void d.dismiss());
  await rollbackButton.click();
  await waitUntil(async () => (await (await fetch(`${server}/api/v1/version`)).json()) as { revision: number }, { timeoutMs: 2_000 }).then((v) =>
    assert.equal(v.revision, bad, "a dismissed confirmation rolls nothing back"),
  );
  let question = "";
  page.once("dialog", (d) => {
    question = d.message();
    void d.accept();
  });
  await rollbackButton.click();
  await page.locator("#flash", { hasText: `Rolled back to revision ${good}: now at revision ${bad + 1}.` }).waitFor({ timeout: 10_000 });
  assert.match(question, new RegExp(`^Roll back to revision ${good}\\?`));
  await envoy.waitFor((dump) => !dynamicListeners(dump).some((l) => l.name === "tcp_busy"), { timeoutMs: 15_000, description: "tcp_busy gone from Envoy's config_dump" });
  assert.deepEqual(dynamicListeners(await envoy.configDump()).map((l) => l.name), ["web"]);
  await page.locator(`tr[data-revision="${bad + 1}"]`).waitFor({ timeout: 5_000 });
  await shot("5-history-rolled-back");

  // Back on the fleet page, edge-1 is SYNCED again.
  await page.locator('a[href="#/"]').click();
  await edge1.locator(".badge", { hasText: "SYNCED" }).waitFor({ timeout: 15_000 });
  await shot("6-fleet-synced-again");
  assert.deepEqual(pageErrors, [], "the page logged no error");
});

test("dashboard with --admin-auth token: asks for a token, goes live with it, and names the role a rollback needs", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-dashboard-auth-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = join(dir, "data");
  const cp = await startControlPlane({ dataDir, extraArgs: ["--admin-auth", "token"], t });
  const server = cp.adminUrl;
  const admin = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
  const call = async (path: string, body: unknown, token = admin) => {
    const r = await fetch(`${server}${path}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    assert.ok(r.ok, await r.clone().text());
    return (await r.json()) as Record<string, unknown>;
  };
  const viewer = String((await call("/api/v1/tokens", { name: "viewer", role: "read" }))["token"]);
  await call("/api/v1/apply", [object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: 8080 }] })]);

  const browser = await startBrowser({ t });
  const page = await browser.newPage();
  await page.goto(`${server}/`);
  await page.locator("#token-form").waitFor({ state: "visible", timeout: 10_000 });
  assert.match((await page.locator("#flash").textContent()) ?? "", /needs a token with role read/);
  await page.locator("#live[data-state=token]").waitFor({ timeout: 10_000 });
  await page.locator("#token-input").fill("tcp_not-a-token");
  await page.locator("#token-form button").click();
  await page.locator("#flash", { hasText: "the token is not known" }).waitFor({ timeout: 10_000 });
  await page.locator("#token-input").fill(viewer);
  await page.locator("#token-form button").click();
  await page.locator('#app[data-page="fleet"]').waitFor({ timeout: 10_000 });
  await page.locator("#live[data-state=live]").waitFor({ timeout: 10_000 });
  assert.equal(await page.locator("#token-form").isHidden(), true);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("tcp-admin-token")), viewer, "kept in the tab's sessionStorage");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "and nowhere that outlives the tab");

  // A change made elsewhere shows up without a reload: the event stream carries the token too.
  await call("/api/v1/apply", [object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: 8081 }] })]);
  await page.locator("#revision", { hasText: "revision 2" }).waitFor({ timeout: 10_000 });

  // A read token cannot roll back: the page says which role is needed, and nothing changes.
  await page.locator('a[href="#/history"]').click();
  const rollbackButton = page.locator('button[data-rollback="1"]');
  await rollbackButton.waitFor();
  page.once("dialog", (d) => void d.accept());
  await rollbackButton.click();
  await page.locator("#flash", { hasText: "Rollback to revision 1 failed" }).waitFor({ timeout: 10_000 });
  assert.match((await page.locator("#flash").textContent()) ?? "", /token "viewer" has role read; POST \/api\/v1\/rollback needs role write/);
  const version = (await (await fetch(`${server}/api/v1/version`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { revision: number };
  assert.equal(version.revision, 2);

  // A live update redraws the history page, and the revisions the reader picked stay picked.
  // (Not the defaults: after revision 3 those are from 2, to 3.)
  await page.locator('input[name="from"][value="1"]').check();
  await page.locator('input[name="to"][value="2"]').check();
  await call("/api/v1/apply", [object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: 8082 }] })]);
  await page.locator('tr[data-revision="3"]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('input[name="from"][value="1"]').isChecked(), true);
  assert.equal(await page.locator('input[name="to"][value="2"]').isChecked(), true);
  const path = artifactPath("dashboard-7-token-role.png");
  await page.screenshot({ path, fullPage: true });
  t.diagnostic(`screenshot: ${path}`);
});

test("dashboard rollouts: the running rollout with its stage, canary, proxies and bake traffic; promote and abort after a confirmation; past rollouts and history", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-e2e-dashboard-rollout-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const upstream = await startHttpUpstream({ name: "service1", t });
  const httpPort = await freePort();
  const sinkPort = await freePort();
  const cp = await startControlPlane({ dataDir: join(dir, "data"), extraArgs: ["--no-example", "--metrics-sink-port", String(sinkPort)], t });
  const server = cp.adminUrl;
  const apply = async (objects: readonly Json[], query = "") => {
    const r = await fetch(`${server}/api/v1/apply${query}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(objects) });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as { revision: number; rollout?: { id: number; canaryNodes: string[] } };
  };
  await apply([
    object("Service", "backend", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] }),
    object("Listener", "web", { protocol: "HTTP", address: "127.0.0.1", port: httpPort }),
    object("Route", "all", { listeners: ["web"], routes: [{ match: { prefix: "/" }, backends: [{ service: "backend" }] }] }),
  ]);
  // The control plane's own bootstrap: it points Envoy's stats at the metrics sink. Both Envoys bind the listener (SO_REUSEPORT).
  for (const node of ["edge-1", "edge-2"]) {
    const bootstrap = parse(await (await fetch(`${server}/api/v1/bootstrap?node=${node}&adminPort=0`)).text()) as Json;
    await startEnvoy({ bootstrap, name: `cp-dashboard-rollout-${node}`, t });
  }
  await waitUntil(async () => (await httpGet(`http://127.0.0.1:${httpPort}/`)).body === "served by service1\n", { timeoutMs: 15_000, description: "Envoy routes to service1" });
  // Traffic through both Envoys all along, for the bake's figures.
  let stop = false;
  const traffic = (async () => {
    while (!stop) await httpGet(`http://127.0.0.1:${httpPort}/`).catch(() => undefined);
  })();
  t.after(async () => {
    stop = true;
    await traffic;
  });

  const browser = await startBrowser({ t });
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const shot = async (name: string) => {
    const path = artifactPath(`dashboard-rollout-${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot: ${path}`);
  };
  await page.goto(`${server}/#/rollouts`);
  await page.locator("#rollout-none").waitFor({ timeout: 10_000 });

  // In two stages (50%, then all), waiting for a promote after a bake long enough for two metrics pushes (every 5 s).
  const first = await apply([object("Service", "extra", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] })], "?canary=50%25,100%25&bake=12s&manualPromote=true");
  const canary = first.rollout?.canaryNodes ?? [];
  assert.equal(canary.length, 1);
  const running = page.locator(`#rollout-running[data-rollout="${first.rollout?.id}"]`);
  await running.waitFor({ timeout: 10_000 });
  assert.equal(await page.locator("#rollout-stage").textContent(), "Stage 1 of 2, then every proxy.");
  assert.deepEqual(await page.locator("#rollout-canary li").allTextContents(), canary);
  assert.equal(await page.locator("tr[data-rollout-node]").count(), 2);
  // The bake's figures, as Envoy pushed them: requests on both sides, no 5xx.
  const canaryTraffic = page.locator('tr[data-traffic="canary"]');
  await canaryTraffic.waitFor({ timeout: 20_000 });
  await waitUntil(async () => Number(await canaryTraffic.locator("td").nth(1).textContent()) > 0 || undefined, { timeoutMs: 20_000, description: "canary requests counted" });
  assert.match((await canaryTraffic.locator("td").nth(2).textContent()) ?? "", /^0\.0% \(0\)$/);
  await shot("1-running");
  await page.locator('#rollout-running[data-state="awaiting-promote"]').waitFor({ timeout: 30_000 });

  // Promote: dismissing the confirmation changes nothing; accepting it starts stage 2, then a second promote ends it.
  page.once("dialog", (d) => void d.dismiss());
  await page.locator("#rollout-promote").click();
  const state = async () => ((await (await fetch(`${server}/api/v1/rollout`)).json()) as { rollout: { state: string; stage?: number } }).rollout;
  assert.deepEqual(await state(), { ...(await state()), state: "awaiting-promote", stage: 0 });
  let question = "";
  page.once("dialog", (d) => {
    question = d.message();
    void d.accept();
  });
  await page.locator("#rollout-promote").click();
  await page.locator("#flash", { hasText: `Rollout ${first.rollout?.id}: stage 2 started.` }).waitFor({ timeout: 10_000 });
  assert.equal(question, `Promote rollout ${first.rollout?.id}? The next stage's proxies get revision ${first.revision}.`);
  await page.locator("#rollout-stage", { hasText: "Stage 2 of 2" }).waitFor({ timeout: 10_000 });
  await page.locator('#rollout-running[data-state="awaiting-promote"]').waitFor({ timeout: 40_000 });
  page.once("dialog", (d) => void d.accept());
  await page.locator("#rollout-promote").click();
  await page.locator("#flash", { hasText: `Rollout ${first.rollout?.id} promoted: every proxy gets revision ${first.revision}.` }).waitFor({ timeout: 10_000 });
  await page.locator(`tr[data-past-rollout="${first.rollout?.id}"][data-state="succeeded"]`).waitFor({ timeout: 10_000 });

  // Abort, after its confirmation: the canary goes back, the past rollouts say why.
  const second = await apply([object("Service", "extra-2", { endpoints: [{ address: "127.0.0.1", port: upstream.port }] })], "?canary=50%25&bake=10m");
  await page.locator(`#rollout-running[data-rollout="${second.rollout?.id}"]`).waitFor({ timeout: 10_000 });
  page.once("dialog", (d) => {
    question = d.message();
    void d.accept();
  });
  await page.locator("#rollout-abort").click();
  await page.locator("#flash", { hasText: `Rollout ${second.rollout?.id} aborted: the canary is back on revision ${first.revision}, revision ${second.revision + 1} put the objects back.` }).waitFor({ timeout: 10_000 });
  assert.match(question, new RegExp(`^Abort rollout ${second.rollout?.id}\\? The canary proxies go back to revision ${first.revision}`));
  const aborted = page.locator(`tr[data-past-rollout="${second.rollout?.id}"][data-state="aborted"]`);
  await aborted.waitFor({ timeout: 10_000 });
  assert.equal(await aborted.locator("td.nack").textContent(), "aborted by api");
  await page.locator("#rollout-none").waitFor();
  await shot("2-past");

  // History marks the revisions that were rolled out, and how.
  await page.locator('a[href="#/history"]').click();
  await page.locator(`tr[data-revision="${first.revision}"] td[data-rollout-outcome="promoted"]`).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator(`tr[data-revision="${second.revision}"] td[data-rollout-outcome="rolled-back"]`).textContent(), "rolled back: aborted by api");
  assert.equal(await page.locator(`tr[data-revision="${second.revision + 1}"] td[data-rollout-outcome=""]`).count(), 1);
  assert.deepEqual(pageErrors, [], "the page logged no error");
});
