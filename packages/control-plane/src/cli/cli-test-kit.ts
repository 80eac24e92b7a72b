// What the CLI's tests share: running `tcp` in-process with captured output,
// a Service document, and a control plane on ephemeral ports to talk to.
import { join } from "node:path";
import { after } from "node:test";
import { type RunningControlPlane, type ServeOptions, serve } from "../main.ts";
import { createOpenApiRecorder } from "../admin/openapi-check.ts";
import { runCli } from "./run-cli.ts";

/** One recorder for the test file's process: checked once every test has run (below). */
const openApi = createOpenApiRecorder();
after(() => openApi.assertClean());

/** Runs `tcp ARGS` in-process; returns its exit code and what it printed. */
export async function cli(args: string[], env: Record<string, string> = {}, stdin = ""): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t), env, stdin: async () => stdin });
  return { code, out, err };
}

/** A Service with one endpoint on 127.0.0.1:PORT, as YAML. */
export const serviceYaml = (name: string, port: number): string =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  endpoints:\n    - address: 127.0.0.1\n      port: ${port}\n`;

/**
 * Serve options for tests: the store in DATADIR, xDS and admin on ephemeral loopback ports, no files, no log,
 * and every admin answer checked against the OpenAPI document (a mismatch fails the test when the process exits); MORE wins.
 */
export const serveOptions = (dataDir: string, more: Partial<ServeOptions> = {}): ServeOptions => ({
  onAdminReply: openApi.onReply,
  xdsHost: "127.0.0.1",
  xdsPort: 0,
  adminHost: "127.0.0.1",
  adminPort: 0,
  dataDir,
  configPaths: [],
  debounceMs: 5,
  log: () => {},
  ...more,
});

/** A control plane with its store under DIR/data, xDS and admin on ephemeral loopback ports, and the env that points the CLI at it. */
export async function serveForTests(dir: string): Promise<{ cp: RunningControlPlane; env: Record<string, string> }> {
  const cp = await serve(serveOptions(join(dir, "data")));
  return { cp, env: { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` } };
}

/**
 * Calls `fn` until it gives a value. The bound (about 10 s) is far above what these waits take
 * here and only stops a hung test; `detail` adds what the test saw to the timeout's message.
 */
export async function poll<T>(what: string, fn: () => Promise<T | undefined>, detail?: () => Promise<string>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${detail === undefined ? "" : `: ${await detail()}`}`);
}
