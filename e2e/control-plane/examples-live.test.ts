// Every example under examples/control-plane/ runs live: the control plane
// loads it the way a user runs it (`--config <dir>`, certificate files beside
// the YAML so relative paths resolve), and one real Envoy per node group the
// example compiles to, bootstrapped from the control plane's own bootstrap
// endpoint with a node id / cluster / metadata that group's selector matches,
// becomes SYNCED in the status API: every type it subscribed to ACKed, no NACK.
// examples-validate.test.ts proves Envoy *could* load each group offline; this
// proves the xDS exchange itself (ordering, RDS/EDS/SDS names, warming) works.
//
// Only ports and listen addresses change: every Listener object's port, and
// every raw Envoy Listener's socket addresses, become free ephemeral ports on
// 127.0.0.1, so examples run side by side. Upstream addresses stay as written
// (Envoy accepts clusters whose hosts do not answer).
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { test, type TestContext } from "node:test";
import { compile, matchNodeGroup, readConfigFile, type NodeGroupConfig } from "@ts-control-plane/control-plane";
import { parse, parseAllDocuments } from "yaml";
import type { Json } from "../harness/config-dump.ts";
import { freePorts } from "../harness/free-port.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { startControlPlane } from "./control-plane-process.ts";
import { type ExampleEdit, examplesDir, writeExampleCopy } from "./support/example-copy.ts";

const configFile = /\.(ya?ml|json)$/;
/** An example is a YAML/JSON file, or a directory of them (loaded as one `--config` directory). */
const examples = readdirSync(examplesDir)
  .filter((f) => configFile.test(f) || (statSync(join(examplesDir, f)).isDirectory() && f !== "certs"))
  .sort();
const rawListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener";

/** The config files of an example, relative to examplesDir. */
function exampleFiles(example: string): string[] {
  const full = join(examplesDir, example);
  if (!statSync(full).isDirectory()) return [example];
  return (readdirSync(full, { recursive: true, encoding: "utf8" }) as string[])
    .filter((f) => configFile.test(f))
    .map((f) => join(example, f))
    .sort();
}

/** Where each file's listeners bind: the socket-address fields to point at 127.0.0.1:<free port>. */
interface SocketField {
  readonly kind: string;
  readonly name: string;
  /** Path to the port; the address sits beside it (model `spec.address`, raw `socket_address.address`). */
  readonly portPath: readonly (string | number)[];
  readonly addressPath: readonly (string | number)[];
}

function socketFields(file: string): SocketField[] {
  const docs = parseAllDocuments(readFileSync(join(examplesDir, file), "utf8"));
  const out: SocketField[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const o = doc.toJS() as { kind?: string; metadata?: { name?: string }; spec?: Json } | null;
    const name = o?.metadata?.name;
    if (o === null || name === undefined || o.spec === undefined) continue;
    if (o.kind === "Listener") out.push({ kind: "Listener", name, portPath: ["spec", "port"], addressPath: ["spec", "address"] });
    const resource = o.spec["resource"] as Json | undefined;
    if (o.kind === "RawResource" && resource?.["@type"] === rawListenerType) {
      const at = (base: (string | number)[]): SocketField => ({
        kind: "RawResource",
        name,
        portPath: [...base, "socket_address", "port_value"],
        addressPath: [...base, "socket_address", "address"],
      });
      out.push(at(["spec", "resource", "address"]));
      const extra = (resource["additional_addresses"] as unknown[] | undefined) ?? [];
      for (let i = 0; i < extra.length; i++) out.push(at(["spec", "resource", "additional_addresses", i, "address"]));
    }
  }
  return out;
}

interface ExamplePlan {
  readonly example: string;
  readonly files: readonly { readonly file: string; readonly fields: readonly SocketField[] }[];
}

const plans: ExamplePlan[] = examples.map((example) => ({ example, files: exampleFiles(example).map((file) => ({ file, fields: socketFields(file) })) }));

interface NodeStatus {
  nodeId: string;
  group: string | null;
  state: string;
  types: { type: string; state: string; nack?: { message: string } }[];
}

/** A node that the group's selector matches: its first id and cluster when it names them, its metadata. */
function nodeFor(example: string, group: NodeGroupConfig): { id: string; cluster: string; metadata?: Record<string, string> } {
  const s = group.selector;
  const id = s.nodeIds?.[0] ?? `${example.replace(/\.(ya?ml|json)$/, "")}-${group.name}`;
  return { id, cluster: s.clusters?.[0] ?? id, ...(s.metadata === undefined ? {} : { metadata: s.metadata }) };
}

// A control plane (about 1 s to start) and its Envoys per example: two examples
// at a time on two cores, each test awaiting its own.
const limit = 2;
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

test("every example the README lists is run, and a raw Listener's port is rewritten too", () => {
  const listed = [...readFileSync(join(examplesDir, "README.md"), "utf8").matchAll(/^\| `([^`]+\.ya?ml)` \|/gm)].map((m) => m[1]);
  assert.ok(listed.length > 0, "the README lists examples");
  for (const name of listed) assert.ok(plans.some((p) => p.example === name), `${name} is run`);
  const mixing = plans.find((p) => p.example === "mixing-raw.yaml");
  assert.ok(mixing?.files.some((f) => f.fields.some((s) => s.kind === "RawResource" && s.name === "edge")), "mixing-raw.yaml's raw Listener edge is found");
});

for (const plan of plans) {
  test(`examples/control-plane/${plan.example}: a real Envoy per node group gets SYNCED through --config`, { timeout: 120_000 }, (t) => limited(() => runExample(t, plan)));
}

async function runExample(t: TestContext, plan: ExamplePlan): Promise<void> {
  const { example } = plan;
  const dir = mkdtempSync(join(tmpdir(), `cp-e2e-example-${example.replace(/[^a-zA-Z0-9_-]/g, "_")}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const configDir = join(dir, "config");
  mkdirSync(configDir);
  // Files an example names (certificateFile: certs/localhost.crt) are relative to its YAML.
  const certs = join(examplesDir, "certs");
  if (existsSync(certs)) cpSync(certs, join(configDir, "certs"), { recursive: true });
  const total = plan.files.reduce((n, f) => n + f.fields.length, 0);
  const ports = await freePorts(total);
  const written: string[] = [];
  for (const { file, fields } of plan.files) {
    const edits: ExampleEdit[] = fields.flatMap((s) => {
      const port = ports.shift();
      assert.ok(port !== undefined);
      return [
        { kind: s.kind, name: s.name, path: s.portPath, value: port },
        { kind: s.kind, name: s.name, path: s.addressPath, value: "127.0.0.1" },
      ];
    });
    // A directory example keeps its layout; a file example is the directory's one file.
    const target = join(configDir, dirname(relative(example, file)));
    mkdirSync(target, { recursive: true });
    written.push(writeExampleCopy(file, edits, target));
  }

  // What the control plane will serve, to know the node groups and a node for each.
  const objects = written.flatMap((f) => readConfigFile(f).objects);
  const compiled = compile(objects);
  const groups = compiled.groups.filter((g) => g.resources.length > 0);
  assert.ok(groups.length > 0, `${example} generates resources`);

  const cp = await startControlPlane({ dataDir: join(dir, "data"), config: [configDir], t });
  // The files are loaded before the ready line; a refused object is logged with its diagnostic.
  const refused = cp
    .logs()
    .split("\n")
    .flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { level?: string; msg?: string };
        return entry.level === "warn" || entry.level === "error" ? [entry.msg ?? line] : [];
      } catch {
        return [];
      }
    });
  assert.deepEqual(refused, [], `${example}: the control plane did not take all of it:\n${refused.join("\n")}`);

  const nodes = groups.map((g) => ({ group: g.name, node: nodeFor(example, g) }));
  for (const { group, node } of nodes) assert.equal(matchNodeGroup(compiled.groups, node), group, `${example}: node ${JSON.stringify(node)} is in node group ${group}`);

  await Promise.all(
    nodes.map(async ({ node }) => {
      const q = new URLSearchParams({ node: node.id, cluster: node.cluster });
      const res = await fetch(`${cp.adminUrl}/api/v1/bootstrap?${q}`);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const bootstrap = parse(text) as Json & { node: Json };
      if (node.metadata !== undefined) bootstrap.node["metadata"] = node.metadata;
      // "admin": a NACKed example is reported from the status below, not as an Envoy that never went LIVE.
      await startEnvoy({ bootstrap, name: `cp-example-${node.id}`, readyWhen: "admin", t });
    }),
  );

  const status = async () => ((await (await fetch(`${cp.adminUrl}/api/v1/status`)).json()) as { nodes: NodeStatus[] }).nodes;
  const describe = (s: readonly NodeStatus[]) =>
    s.map((n) => `  ${n.nodeId} (group ${n.group}): ${n.state}; ${n.types.map((x) => `${x.type} ${x.state}${x.nack ? `: ${x.nack.message}` : ""}`).join(", ")}`).join("\n");
  let last: NodeStatus[] = [];
  const settled = await waitUntil(
    async () => {
      last = await status();
      const mine = nodes.map(({ node }) => last.find((n) => n.nodeId === node.id));
      // A NACK is final for this content: report it at once with Envoy's words.
      if (mine.some((n) => n?.state === "NACKED")) return "nacked";
      return mine.every((n, i) => n?.state === "SYNCED" && n.group === nodes[i]?.group) && "synced";
    },
    { timeoutMs: 30_000, intervalMs: 100, description: `${example}: every Envoy SYNCED`, onTimeout: () => `status:\n${describe(last)}` },
  ).catch((error: unknown) => assert.fail(`${example}: ${error instanceof Error ? error.message : String(error)}`));
  assert.equal(settled, "synced", `${example}: Envoy NACKed what the control plane sent:\n${describe(last)}`);
  t.diagnostic(describe(last).trim());
}
