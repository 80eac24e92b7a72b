// The dashboard's page script: plain JavaScript, served as it is (no build step), type-checked
// with JSDoc (tsconfig.json beside it). It reads only the admin API and builds every element
// with textContent: node ids and NACK messages are attacker-controlled text (docs/dashboard.md).

const tokenKey = "tcp-admin-token";

/** @typedef {{ type: string, state: string, currentVersion?: string, sentVersion?: string, ackedVersion?: string, sentAt?: string, ackedAt?: string, nack?: { message: string, at: string, version: string }, error?: { message: string } }} TypeReport */
/** @typedef {{ nodeId: string, cluster: string, group: string | null, connected: boolean, lastSeen: string, state: string, matchesGroup?: string, replica?: string, types: TypeReport[] }} NodeReport */
/** @typedef {{ object: string, targets: number, acknowledged: number, rejected?: { proxies: number, nacks: { nodeId: string, type: string, message: string }[] } }} ObjectReport */
/** @typedef {{ revision: number, nodes: NodeReport[], objects: ObjectReport[], refusals?: { nodeId: string, message?: string, reason?: string }[], fleet?: { replica: string, replicas: { id: string, proxies: number }[], singletons: { work: string, replica: string }[] } }} StatusReport */
/** @typedef {{ type: string, name: string, version: string, state: string, lastUpdated?: string, nack?: { message: string }, objects?: string[], config?: unknown }} ProxyResource */
/** @typedef {{ revision: number, createdAt: string, source: string, summary: string, rollout?: { id: number, outcome: string, reason?: string, stage?: string } }} RevisionInfo */
/** @typedef {{ key: string, action: string, lines: string[] }} ObjectDifference */
/** @typedef {{ requests: number, errors5xx: number, connects: number, connectFailures: number }} TrafficCounts */
/**
 * @typedef {{ id: number, state: string, fromRevision: number, toRevision: number, source: string, canary: { share?: number, next?: number[], group?: string },
 *   canaryNodes: string[], stages?: string[][], stage?: number, bakeMs: number, ackTimeoutMs: number, manualPromote: boolean, max5xxIncrease: number,
 *   maxConnectFailIncrease?: number, minRequests: number, startedAt: string, bakeEndsAt?: string, endedAt?: string, reason?: string, rollbackRevision?: number,
 *   traffic?: { canary: TrafficCounts, baseline: TrafficCounts, updatedAt: string } }} Rollout
 */
/** @typedef {{ revision: number, rollout: Rollout | null, nodes: { nodeId: string, group: string | null, revision: number, state: string }[], heldFiles?: { file: string, since: string, reason: string }[] }} RolloutStatus */

/** An answer the page cannot use: `status` and the API's own message. */
class ApiProblem extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * An element with attributes and children; strings become text nodes, never markup.
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** @param {string} id */
function byId(id) {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
}

/** @param {string} state */
const badge = (state) => h("span", { class: `badge ${state}` }, state);

/** @param {string | undefined} iso */
function when(iso) {
  if (iso === undefined) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** @param {string[]} headings @param {HTMLElement[]} rows */
const table = (headings, rows) => h("table", {}, h("thead", {}, h("tr", {}, ...headings.map((t) => h("th", {}, t)))), h("tbody", {}, ...rows));

/** @param {string} text @param {"info" | "error"} [kind] */
function flash(text, kind = "info") {
  const el = byId("flash");
  el.className = kind === "error" ? "error" : "";
  el.textContent = text;
}

function authHeaders() {
  const token = sessionStorage.getItem(tokenKey);
  /** @type {Record<string, string>} */
  const headers = {};
  if (token !== null && token !== "") headers.authorization = `Bearer ${token}`;
  return headers;
}

/** A 401 or 403 shows the token form: the API has authentication on and this tab has no (good) token. */
function askForToken(/** @type {string} */ why) {
  const form = byId("token-form");
  form.hidden = false;
  byId("token-button").hidden = false;
  flash(why, "error");
}

/**
 * One admin API call, JSON both ways. State-changing calls send Content-Type JSON: the API
 * refuses the types a cross-site form could send (request-origin.ts).
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 * @returns {Promise<any>}
 */
async function api(path, options = {}) {
  /** @type {RequestInit} */
  const init = { method: options.method ?? "GET", headers: { accept: "application/json", ...authHeaders() } };
  if (options.body !== undefined) {
    init.headers = { ...init.headers, "content-type": "application/json" };
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  /** @type {any} */
  let json = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { error: { message: text } };
  }
  if (!res.ok) {
    const message = json?.error?.message ?? `${res.status} ${res.statusText}`;
    if (res.status === 401 || res.status === 403) askForToken(message);
    throw new ApiProblem(res.status, message);
  }
  return json;
}

// ---- pages -----------------------------------------------------------------

/** @param {StatusReport} status */
function fleetPage(status) {
  const counts = { SYNCED: 0, STALE: 0, NACKED: 0 };
  for (const n of status.nodes) counts[/** @type {"SYNCED" | "STALE" | "NACKED"} */ (n.state)] += 1;
  /** @type {Map<string, NodeReport[]>} */
  const groups = new Map();
  for (const n of status.nodes) {
    const g = n.group ?? "(no node group)";
    groups.set(g, [...(groups.get(g) ?? []), n]);
  }
  // On PostgreSQL (issue 10 item 4) every replica's proxies are listed, with the replica serving each.
  const fleet = status.fleet !== undefined;
  const sections = [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, nodes]) =>
      h(
        "section",
        { "data-group": group },
        h("h2", {}, `Group ${group}`),
        table(
          ["Proxy", "Cluster", ...(fleet ? ["Replica"] : []), "State", "Connected", "Last seen", "Envoy's message"],
          nodes.map((n) => {
            const nacks = n.types.filter((t) => t.nack !== undefined && t.state === "NACKED");
            const problems = [
              ...nacks.map((t) => `${t.type}: ${(t.nack?.message ?? "").trim()}`),
              ...n.types.flatMap((t) => (t.error === undefined ? [] : [`${t.type}: ${t.error.message}`])),
              ...(n.matchesGroup === undefined ? [] : [`now matches group ${n.matchesGroup}`]),
            ];
            return h(
              "tr",
              { "data-node": n.nodeId, "data-state": n.state },
              h("td", { class: "mono" }, h("a", { href: `#/proxy/${encodeURIComponent(n.nodeId)}` }, n.nodeId)),
              h("td", { class: "mono" }, n.cluster),
              ...(fleet ? [h("td", { class: "mono" }, n.replica ?? "-")] : []),
              h("td", {}, badge(n.state)),
              h("td", {}, n.connected ? "yes" : "no"),
              h("td", {}, when(n.lastSeen)),
              h("td", { class: "nack" }, problems.join("\n")),
            );
          }),
        ),
      ),
    );
  const refusals = status.refusals ?? [];
  return [
    h("h1", {}, "Fleet"),
    h(
      "div",
      { class: "summary" },
      ...Object.entries(counts).map(([state, n]) => h("span", { "data-count": state }, badge(state), ` ${n}`)),
    ),
    ...(status.fleet === undefined
      ? []
      : [
          h(
            "p",
            { class: "muted", "data-fleet": status.fleet.replica },
            `Answered by replica ${status.fleet.replica}. Live replicas: ${status.fleet.replicas.map((r) => `${r.id} (${r.proxies})`).join(", ")}.`,
            ...status.fleet.singletons.map((w) => ` ${w.work} runs on ${w.replica}.`),
          ),
        ]),
    ...(sections.length === 0 ? [h("p", { class: "muted" }, "No proxy has connected yet. `tcp bootstrap NODE` writes an Envoy bootstrap for this control plane.")] : sections),
    ...(refusals.length === 0
      ? []
      : [h("h2", {}, "Refused streams"), table(["Node", "Why"], refusals.map((r) => h("tr", {}, h("td", { class: "mono" }, r.nodeId), h("td", { class: "nack" }, r.message ?? r.reason ?? ""))))]),
  ];
}

/** @param {string} nodeId @param {StatusReport} status */
async function proxyPage(nodeId, status) {
  const node = status.nodes.find((n) => n.nodeId === nodeId);
  if (node === undefined) return [h("h1", {}, `Proxy ${nodeId}`), h("p", {}, "This proxy is not known to the control plane (never connected, or forgotten).")];
  /** @type {{ resources: ProxyResource[] } | undefined} */
  let config;
  try {
    config = await api(`/api/v1/proxies/${encodeURIComponent(nodeId)}/config`);
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.status !== 404) throw error;
  }
  const types = table(
    ["Type", "State", "Current version", "Sent", "ACKed", "Sent at", "ACKed at", "NACK"],
    node.types.map((t) =>
      h(
        "tr",
        { "data-type": t.type, "data-state": t.state },
        h("td", {}, t.type),
        h("td", {}, badge(t.state)),
        h("td", { class: "mono" }, t.currentVersion ?? ""),
        h("td", { class: "mono" }, t.sentVersion ?? ""),
        h("td", { class: "mono" }, t.ackedVersion ?? ""),
        h("td", {}, when(t.sentAt)),
        h("td", {}, when(t.ackedAt)),
        h("td", { class: "nack" }, t.nack === undefined ? "" : `${t.nack.message.trim()} (version ${t.nack.version}, ${when(t.nack.at)})`),
      ),
    ),
  );
  const resources = (config?.resources ?? []).map((r) => {
    const details = h("details", { "data-key": `${r.type}/${r.name}` }, h("summary", {}, "JSON"), h("pre", {}, JSON.stringify(r.config ?? null, null, 2)));
    return h(
      "tr",
      { "data-resource": `${r.type}/${r.name}`, "data-state": r.state },
      h("td", {}, r.type),
      h("td", { class: "mono" }, r.name),
      h("td", { class: "mono" }, r.version),
      h("td", {}, badge(r.state)),
      h("td", {}, (r.objects ?? []).join(", ")),
      h("td", {}, r.nack === undefined ? "" : h("div", { class: "nack" }, r.nack.message.trim()), details),
    );
  });
  return [
    h("h1", {}, "Proxy ", h("span", { class: "mono" }, node.nodeId), " ", badge(node.state)),
    h("p", { class: "muted" }, `cluster ${node.cluster} · group ${node.group ?? "none"} · ${node.connected ? "connected" : "disconnected"} · last seen ${when(node.lastSeen)}`),
    h("h2", {}, "Per type"),
    types,
    h("h2", {}, "Resources sent"),
    resources.length === 0 ? h("p", { class: "muted" }, "Nothing sent yet.") : table(["Type", "Name", "Version", "State", "Objects", "Details"], resources),
  ];
}

/** @param {StatusReport} status */
async function objectsPage(status) {
  /** @type {{ items: { key: string, revision: number, source: string }[] }} */
  const list = await api("/api/v1/objects");
  const reports = new Map(status.objects.map((o) => [o.object, o]));
  return [
    h("h1", {}, "Objects"),
    table(
      ["Object", "Revision", "Source", "Programmed", "Rejected by Envoy"],
      list.items.map((o) => {
        const r = reports.get(o.key);
        const programmed = r === undefined ? "not used by any node group" : `programmed by ${r.acknowledged} of ${r.targets} ${r.targets === 1 ? "proxy" : "proxies"}`;
        const rejected = (r?.rejected?.nacks ?? []).map((n) => `${n.nodeId} (${n.type}): ${n.message.trim()}`).join("\n");
        return h(
          "tr",
          { "data-object": o.key },
          h("td", { class: "mono" }, o.key),
          h("td", {}, String(o.revision)),
          h("td", { class: "mono" }, o.source),
          h("td", {}, programmed),
          h("td", { class: "nack" }, rejected),
        );
      }),
    ),
  ];
}

/** @param {number} to */
async function rollback(to) {
  if (!window.confirm(`Roll back to revision ${to}? This writes a new revision with the objects of revision ${to}, and every Envoy receives it.`)) return;
  try {
    const r = await api("/api/v1/rollback", { method: "POST", body: { to } });
    flash(r.changed ? `Rolled back to revision ${to}: now at revision ${r.revision}.` : `Revision ${to} has the objects of the current revision already; nothing changed.`);
    await render();
  } catch (error) {
    flash(`Rollback to revision ${to} failed: ${error instanceof Error ? error.message : String(error)}`, "error");
  }
}

const runningStates = new Set(["canary", "baking", "awaiting-promote"]);

/** @param {Rollout} r */
function describeCanary(r) {
  if (r.canary.group !== undefined) return `node group ${r.canary.group}`;
  const shares = [r.canary.share ?? 0, ...(r.canary.next ?? [])];
  if (shares.length === 1) return `${shares[0]}% of the targeted proxies`;
  return `stage ${(r.stage ?? 0) + 1} of ${shares.length}: ${shares.map((s, i) => (i === (r.stage ?? 0) ? `[${s}%]` : `${s}%`)).join(" → ")} → all`;
}

/** @param {number} bad @param {number} total */
const share = (bad, total) => (total === 0 ? "–" : `${((bad / total) * 100).toFixed(1)}%`);

/** The bake's figures, canary against the others, next to the thresholds that judge them. @param {Rollout} r */
function trafficTable(r) {
  const t = r.traffic;
  if (t === undefined) return h("p", { class: "muted" }, "No traffic figures yet (they come from Envoy's metrics service during the bake: serve --metrics-sink-port).");
  const row = (/** @type {string} */ who, /** @type {TrafficCounts} */ c) =>
    h(
      "tr",
      { "data-traffic": who },
      h("td", {}, who),
      h("td", {}, String(c.requests)),
      h("td", {}, `${share(c.errors5xx, c.requests)} (${c.errors5xx})`),
      h("td", {}, String(c.connects)),
      h("td", {}, `${share(c.connectFailures, c.connects)} (${c.connectFailures})`),
    );
  return h(
    "div",
    {},
    table(["Proxies", "Requests", "5xx share", "Upstream connection attempts", "Connect failure share"], [row("canary", t.canary), row("others", t.baseline)]),
    h(
      "p",
      { class: "muted" },
      `Fails when the canary is worse than the others by more than ${(r.max5xxIncrease * 100).toFixed(1)} points of 5xx share or ${((r.maxConnectFailIncrease ?? 0.05) * 100).toFixed(1)} points of connect failure share, once it made ${r.minRequests} requests (connection attempts). Updated ${when(t.updatedAt)}.`,
    ),
  );
}

/** @param {"promote" | "abort"} action @param {Rollout} r */
async function endRollout(action, r) {
  const laterStage = r.stages !== undefined && (r.stage ?? 0) + 1 < r.stages.length;
  const question =
    action === "promote"
      ? `Promote rollout ${r.id}? ${laterStage ? `The next stage's proxies get revision ${r.toRevision}.` : `Every proxy gets revision ${r.toRevision} now.`}`
      : `Abort rollout ${r.id}? The canary proxies go back to revision ${r.fromRevision}, and a new revision puts the objects back.`;
  if (!window.confirm(question)) return;
  try {
    /** @type {{ rollout: Rollout }} */
    const done = await api(`/api/v1/rollout/${action}`, { method: "POST", body: {} });
    const s = done.rollout;
    flash(
      action === "abort"
        ? `Rollout ${s.id} aborted: the canary is back on revision ${s.fromRevision}${s.rollbackRevision === undefined ? "" : `, revision ${s.rollbackRevision} put the objects back`}.`
        : s.state === "succeeded"
          ? `Rollout ${s.id} promoted: every proxy gets revision ${s.toRevision}.`
          : `Rollout ${s.id}: stage ${(s.stage ?? 0) + 1} started.`,
    );
    await render();
  } catch (error) {
    flash(`${action === "promote" ? "Promote" : "Abort"} of rollout ${r.id} failed: ${error instanceof Error ? error.message : String(error)}`, "error");
  }
}

async function rolloutsPage() {
  /** @type {RolloutStatus} */
  const status = await api("/api/v1/rollout");
  /** @type {{ items: Rollout[] }} */
  const past = await api("/api/v1/rollouts");
  const r = status.rollout;
  const running = r !== null && runningStates.has(r.state);
  /** @type {(Node | string)[]} */
  const current = [];
  if (r !== null && running) {
    const promote = h("button", { type: "button", id: "rollout-promote" }, "Promote");
    promote.addEventListener("click", () => void endRollout("promote", r));
    const abort = h("button", { type: "button", id: "rollout-abort" }, "Abort");
    abort.addEventListener("click", () => void endRollout("abort", r));
    current.push(
      h(
        "section",
        { id: "rollout-running", "data-rollout": String(r.id), "data-state": r.state },
        h("h2", {}, `Rollout ${r.id} `, badge(r.state)),
        h("p", {}, `Revision ${r.fromRevision} → ${r.toRevision} (by ${r.source}), canary ${describeCanary(r)}; bake ${r.bakeMs / 1000}s${r.bakeEndsAt === undefined ? "" : ` (ends ${when(r.bakeEndsAt)})`}, ACK deadline ${r.ackTimeoutMs / 1000}s${r.manualPromote ? ", promoted by hand" : ""}.`),
        h("p", { id: "rollout-stage" }, r.stages === undefined ? "One stage, then every proxy." : `Stage ${(r.stage ?? 0) + 1} of ${r.stages.length}, then every proxy.`),
        h("p", {}, promote, " ", abort),
        h("h3", {}, "Canary proxies"),
        r.canaryNodes.length === 0 ? h("p", { class: "muted" }, "No connected proxy.") : h("ul", { id: "rollout-canary" }, ...r.canaryNodes.map((n) => h("li", { class: "mono" }, n))),
        h("h3", {}, "Proxies"),
        table(
          ["Proxy", "Group", "Revision", "State"],
          status.nodes.map((n) =>
            h("tr", { "data-rollout-node": n.nodeId }, h("td", { class: "mono" }, n.nodeId), h("td", {}, n.group ?? ""), h("td", {}, String(n.revision)), h("td", {}, badge(n.state))),
          ),
        ),
        h("h3", {}, "Bake traffic"),
        trafficTable(r),
        ...(status.heldFiles ?? []).map((f) => h("p", { class: "nack" }, `Config file ${f.file} changed ${when(f.since)}: not applied until the rollout ends.`)),
      ),
    );
  } else current.push(h("p", { class: "muted", id: "rollout-none" }, `No rollout is running; revision ${status.revision} is served to every proxy. Start one with tcp apply -f FILE --canary 10% --bake 60s.`));
  const rows = past.items.map((p) =>
    h(
      "tr",
      { "data-past-rollout": String(p.id), "data-state": p.state },
      h("td", {}, String(p.id)),
      h("td", {}, badge(p.state)),
      h("td", {}, `${p.fromRevision} → ${p.toRevision}`),
      h("td", {}, describeCanary(p)),
      h("td", { class: "mono" }, p.canaryNodes.join(", ")),
      h("td", {}, when(p.startedAt)),
      h("td", {}, when(p.endedAt)),
      h("td", { class: "nack" }, p.reason ?? ""),
    ),
  );
  return [
    h("h1", {}, "Rollouts"),
    ...current,
    h("h2", {}, "All rollouts"),
    rows.length === 0 ? h("p", { class: "muted" }, "None yet.") : table(["Rollout", "State", "Revisions", "Canary", "Canary proxies", "Started", "Ended", "Reason"], rows),
  ];
}

async function historyPage() {
  /** @type {{ revision: number, items: RevisionInfo[] }} */
  const history = await api("/api/v1/history");
  const [newest, previous] = history.items;
  const radio = (/** @type {string} */ name, /** @type {number} */ rev, /** @type {boolean} */ checked) => {
    const input = /** @type {HTMLInputElement} */ (h("input", { type: "radio", name, value: String(rev), "aria-label": `${name} revision ${rev}` }));
    input.checked = checked;
    return input;
  };
  const rows = history.items.map((r) => {
    const button = h("button", { type: "button", "data-rollback": String(r.revision) }, "Roll back to this");
    button.addEventListener("click", () => void rollback(r.revision));
    return h(
      "tr",
      { "data-revision": String(r.revision) },
      h("td", {}, radio("from", r.revision, r.revision === previous?.revision)),
      h("td", {}, radio("to", r.revision, r.revision === newest?.revision)),
      h("td", {}, String(r.revision)),
      h("td", {}, when(r.createdAt)),
      h("td", { class: "mono" }, r.source),
      h("td", {}, r.summary),
      h("td", { "data-rollout-outcome": r.rollout?.outcome ?? "" }, r.rollout === undefined ? "" : h("a", { href: "#/rollouts" }, r.rollout.outcome === "rolled-back" ? `rolled back: ${r.rollout.reason ?? ""}` : r.rollout.outcome)),
      h("td", {}, r.revision >= 1 ? h("a", { href: `#/diff/${r.revision - 1}/${r.revision}`, "data-diff": String(r.revision) }, "changes") : ""),
      h("td", {}, r.revision === history.revision ? h("span", { class: "muted" }, "current") : button),
    );
  });
  const compare = h("button", { type: "button", id: "compare" }, "Compare selected revisions");
  compare.addEventListener("click", () => {
    const from = document.querySelector('input[name="from"]:checked');
    const to = document.querySelector('input[name="to"]:checked');
    if (!(from instanceof HTMLInputElement) || !(to instanceof HTMLInputElement)) return flash("Pick a revision in each of the From and To columns.", "error");
    location.hash = `#/diff/${from.value}/${to.value}`;
  });
  return [h("h1", {}, "History"), h("p", {}, compare), table(["From", "To", "Revision", "When", "Source", "Summary", "Rollout", "Diff", ""], rows)];
}

/** @param {number} from @param {number} to */
async function diffPage(from, to) {
  /** @type {{ objects: ObjectDifference[] }} */
  const diff = await api(`/api/v1/history/diff?from=${from}&to=${to}`);
  const lineClass = (/** @type {string} */ l) => (l.startsWith("+") ? "add" : l.startsWith("-") ? "del" : "mod");
  return [
    h("h1", {}, `Revision ${from} → ${to}`),
    h("p", {}, h("a", { href: "#/history" }, "← History")),
    ...(diff.objects.length === 0 ? [h("p", { class: "muted" }, "The two revisions hold the same objects.")] : []),
    ...diff.objects.map((o) =>
      h(
        "section",
        { "data-diff-object": o.key },
        h("h2", {}, h("span", { class: "mono" }, o.key), " ", badge(o.action)),
        h("pre", {}, ...o.lines.map((l) => h("div", { class: `diff-line ${lineClass(l)}` }, l))),
      ),
    ),
  ];
}

// ---- rendering and live updates ----------------------------------------------

let rendering = 0;

/** Renders the page the URL's fragment names; keeps open <details> open across live updates. */
async function render() {
  const generation = ++rendering;
  const app = byId("app");
  const hash = location.hash.replace(/^#\/?/, "");
  const [page = "", ...rest] = hash.split("/");
  try {
    /** @type {StatusReport} */
    const status = await api("/api/v1/status");
    byId("revision").textContent = `revision ${status.revision}`;
    let content;
    if (page === "" || page === "fleet") content = fleetPage(status);
    else if (page === "proxy") content = await proxyPage(decodeURIComponent(rest.join("/")), status);
    else if (page === "objects") content = await objectsPage(status);
    else if (page === "history") content = await historyPage();
    else if (page === "rollouts") content = await rolloutsPage();
    else if (page === "diff") content = await diffPage(Number(rest[0]), Number(rest[1]));
    else content = [h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Fleet"))];
    if (generation !== rendering) return;
    // A live update redraws the page the reader is on: what they opened or picked stays so.
    const name = page === "" ? "fleet" : page;
    const same = app.dataset.page === name && app.dataset.hash === hash;
    const open = new Set([...app.querySelectorAll("details[open]")].map((d) => d.getAttribute("data-key")));
    const picked = [...app.querySelectorAll("input[type=radio]:checked")].map((i) => /** @type {HTMLInputElement} */ (i)).map((i) => [i.name, i.value]);
    app.replaceChildren(...content);
    if (same) {
      for (const d of app.querySelectorAll("details")) if (open.has(d.getAttribute("data-key"))) d.setAttribute("open", "");
      for (const [group, value] of picked) {
        const input = app.querySelector(`input[type=radio][name="${group}"][value="${value}"]`);
        if (input instanceof HTMLInputElement) input.checked = true;
      }
    }
    app.dataset.page = name;
    app.dataset.hash = hash;
  } catch (error) {
    if (generation !== rendering) return;
    if (!(error instanceof ApiProblem && (error.status === 401 || error.status === 403))) {
      flash(`Could not load this page: ${error instanceof Error ? error.message : String(error)}`, "error");
    }
  }
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let pending;
function renderSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => void render(), 100);
}

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Listens to GET /api/v1/events. EventSource cannot send an Authorization header, so the
 * stream is read with fetch; the token stays in a header, never in a URL (docs/dashboard.md).
 */
async function listen() {
  const live = byId("live");
  for (;;) {
    try {
      const res = await fetch("/api/v1/events", { headers: { accept: "text/event-stream", ...authHeaders() } });
      if (res.status === 401 || res.status === 403) {
        // The API's own words, the same the page's other requests show (no race between two texts).
        /** @type {any} */
        const body = await res.json().catch(() => ({}));
        askForToken(body?.error?.message ?? "This admin API needs a token with role read.");
        live.dataset.state = "token";
        live.textContent = "token needed";
        await new Promise((resolve) => byId("token-form").addEventListener("submit", resolve, { once: true }));
        continue;
      }
      if (!res.ok || res.body === null) throw new Error(`events: ${res.status}`);
      live.dataset.state = "live";
      live.textContent = "live";
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.split("\n").includes("event: change")) renderSoon();
        }
      }
    } catch {
      // The control plane restarted or the network dropped: retry below.
    }
    live.dataset.state = "reconnecting";
    live.textContent = "reconnecting";
    await sleep(2000);
  }
}

function start() {
  byId("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (byId("token-input"));
    sessionStorage.setItem(tokenKey, input.value.trim());
    input.value = "";
    byId("token-form").hidden = true;
    flash("");
    void render();
  });
  byId("token-button").addEventListener("click", () => {
    byId("token-form").hidden = false;
  });
  window.addEventListener("hashchange", () => {
    flash("");
    void render();
  });
  // A rollout moves on (baked, promoted by someone else) without changing the revision or the
  // status the event stream watches: its page asks again every second.
  setInterval(() => {
    if (byId("app").dataset.page === "rollouts") renderSoon();
  }, 1000);
  void render();
  void listen();
}

start();
