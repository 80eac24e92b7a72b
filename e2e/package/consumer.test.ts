// The library as a user gets it: `npm pack` both library packages, install the
// tarballs into an empty project (their dependencies come from the registry),
// and run the README's "library in 20 lines", as plain JavaScript, on the
// machine's own Node 20 (SYSTEM_NODE, exported by scripts/toolchain.sh), with
// no export condition and no type stripping. A real Envoy must then get the
// cluster and listener from it and route a request through them.
//
// What this guards: dist/ and the export maps (a file missing from `files`, an
// import of a path that is not exported, a `.ts` specifier left in the output),
// the descriptor set reaching an installed package, and any API the library
// uses that Node 20 lacks.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../harness/free-port.ts";
import { httpGet } from "../harness/http-get.ts";
import { startHttpUpstream } from "../harness/http-upstream.ts";
import { startEnvoy } from "../harness/start-envoy.ts";
import { waitUntil } from "../harness/wait-until.ts";
import { xdsBootstrap } from "../harness/xds-bootstrap.ts";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../", import.meta.url));

/** The README's snippet: the ```js block under "## The library in 20 lines". */
export function readmeSnippet(readme: string): string {
  const section = readme.split("## The library in 20 lines")[1];
  const code = section === undefined ? undefined : /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('README.md has no ```js block under "## The library in 20 lines"');
  return code;
}

/** The environment of a child that must see the published packages, not the repository's sources. */
function withoutSourceCondition(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  return { ...env, ...extra };
}

/** A strict Node ESM project, without the repository's source condition. */
const consumerCompilerOptions = { target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true, types: ["node"] };

// Spelled in two parts so that the layer rule, which reads this file's imports, does not take it for one.
const internalPath = ["@ts-control-plane/xds", "resource/wire"].join("/");

/** Uses both entries; the @ts-expect-error lines fail the check if they stop being errors. */
const typeScriptConsumer = `import { createSnapshot, createSnapshotCache, createXdsServer, envoyFromJson, TypeUrl, type NodeStatus } from "@ts-control-plane/xds";
import { RawXdsClient, cacheBehaviour, type CacheBehaviourOptions } from "@ts-control-plane/xds/testing";
const cache = createSnapshotCache();
const server = createXdsServer({ cache, hooks: { onNack: (e) => console.log(e.message.length) } });
await cache.setSnapshot("n", createSnapshot({ resources: [envoyFromJson({ "@type": TypeUrl.Cluster, name: "a" })] }));
const status: NodeStatus | undefined = server.status.node("n");
const client = new RawXdsClient({ port: 1 });
const typeUrl: string | undefined = client.responses[0]?.typeUrl;
// @ts-expect-error keys() returns string[]
const wrong: string = cache.keys();
// @ts-expect-error internal paths are not exported
await import("${internalPath}");
export const used = [status, typeUrl, wrong, cacheBehaviour satisfies (o: CacheBehaviourOptions) => void];
`;

interface PackedFile {
  readonly path: string;
}
interface PackResult {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

test("the packed library installs into an empty project and serves Envoy from plain JavaScript on Node 20", { timeout: 240_000 }, async (t) => {
  const systemNode = process.env["SYSTEM_NODE"];
  assert.ok(systemNode, "SYSTEM_NODE is not set: run through scripts/toolchain.sh, which exports the machine's own node (Node 20)");
  const { stdout: systemVersion } = await run(systemNode, ["--version"]);
  assert.match(systemVersion, /^v20\./, `SYSTEM_NODE (${systemNode}) is ${systemVersion.trim()}, not the Node 20 the library promises to support`);

  const dir = await mkdtemp(join(tmpdir(), "tcp-consumer-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const started = Date.now();
  const phase = (name: string, since: number) => t.diagnostic(`${name}: ${((Date.now() - since) / 1000).toFixed(1)} s`);

  // 1. Pack: prepack builds xds's dist/ and makes sure envoy-api's gen/ exists.
  let since = Date.now();
  const { stdout: packJson } = await run("npm", ["pack", "--json", "--silent", "--pack-destination", dir, "--workspace", "packages/envoy-api", "--workspace", "packages/xds"], {
    cwd: root,
    env: withoutSourceCondition(),
    maxBuffer: 64 * 1024 * 1024,
  });
  phase("npm pack (with prepack build)", since);
  const packed = JSON.parse(packJson.slice(packJson.indexOf("["))) as PackResult[];
  assert.deepEqual(packed.map((p) => p.name).sort(), ["@ts-control-plane/envoy-api", "@ts-control-plane/xds"]);
  const xds = packed.find((p) => p.name === "@ts-control-plane/xds")!;
  const shipped = xds.files.map((f) => f.path);
  assert.ok(shipped.includes("dist/src/index.js") && shipped.includes("dist/src/index.d.ts") && shipped.includes("dist/testing/index.js"), "xds ships dist/src and dist/testing");
  const stray = shipped.filter((p) => !(p.startsWith("dist/") || p === "package.json" || /^(README|LICENSE)/i.test(p)) || /\.test\.|\.bench\./.test(p) || p.endsWith(".ts") && !p.endsWith(".d.ts"));
  assert.deepEqual(stray, [], "xds ships only its build: no sources, tests or benches");
  const envoyApi = packed.find((p) => p.name === "@ts-control-plane/envoy-api")!;
  assert.ok(envoyApi.files.some((f) => f.path === "gen/envoy-api.binpb"), "envoy-api ships its descriptor set");

  // 2. An empty project that installs the two tarballs; their own dependencies come from the registry.
  since = Date.now();
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...packed.map((p) => `./${p.filename}`)], {
    cwd: dir,
    env: withoutSourceCondition(),
    maxBuffer: 16 * 1024 * 1024,
  });
  phase("npm install of the tarballs", since);

  // 3. A TypeScript consumer type-checks against the shipped .d.ts (both entries),
  // and cannot reach an internal path.
  since = Date.now();
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...consumerCompilerOptions, typeRoots: [join(root, "node_modules/@types")] }, include: ["check.ts"] }));
  await writeFile(join(dir, "check.ts"), typeScriptConsumer);
  await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir, env: withoutSourceCondition() }).catch((e: { stdout?: string }) => {
    assert.fail(`a TypeScript consumer does not type-check against the packed declarations:\n${e.stdout ?? e}`);
  });
  phase("tsc on a TypeScript consumer", since);

  // 4. The README's snippet, verbatim, as main.mjs on the machine's Node 20.
  await writeFile(join(dir, "main.mjs"), readmeSnippet(await readFile(join(root, "README.md"), "utf8")));
  const upstream = await startHttpUpstream({ name: "consumer-backend", t });
  const listenerPort = await freePort();
  const child = spawn(systemNode, ["main.mjs"], {
    cwd: dir,
    env: withoutSourceCondition({ XDS_PORT: "0", UPSTREAM_PORT: String(upstream.port), LISTENER_PORT: String(listenerPort) }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  });
  const xdsPort = await waitUntil(() => Number(/xDS on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]) || (child.exitCode !== null ? -1 : undefined), {
    timeoutMs: 15_000,
    description: "main.mjs to report its xDS port",
    onTimeout: () => `main.mjs output:\n${output}`,
  });
  assert.ok(xdsPort > 0, `main.mjs exited on ${systemVersion.trim()}:\n${output}`);

  // 5. A real Envoy gets the cluster and listener and routes through them.
  since = Date.now();
  const envoy = await startEnvoy({ name: "package-consumer", t, bootstrap: xdsBootstrap({ xdsPort, mode: "ads", nodeId: "xds-node-id" }) });
  const res = await waitUntil(
    async () => {
      const r = await httpGet(`http://127.0.0.1:${listenerPort}/hello`);
      return r.status === 200 ? r : undefined;
    },
    { timeoutMs: 10_000, description: "a 200 through listener_0", onTimeout: () => `main.mjs output:\n${output}\nEnvoy log:\n${envoy.logs(40)}` },
  );
  assert.ok(upstream.requests.some((r) => r.path === "/hello"), `the request reached the backend through Envoy (${res.body})`);
  phase("Envoy configured and serving", since);
  assert.doesNotMatch(output, /rejected/, "Envoy NACKed nothing");
  t.diagnostic(`whole test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
