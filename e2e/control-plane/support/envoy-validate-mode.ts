import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Json } from "../../harness/config-dump.ts";

export interface ValidateVerdict {
  /** Envoy's exit code: 0 when it accepted the whole configuration. */
  readonly code: number | null;
  readonly output: string;
}

/**
 * `envoy --mode validate` on a bootstrap: Envoy loads and builds the whole
 * configuration, binds and connects nothing, and exits non-zero on the first
 * problem. Bounded; its temp dir is removed whatever happens.
 */
export async function envoyValidateMode(bootstrap: Json, options: { timeoutMs?: number } = {}): Promise<ValidateVerdict> {
  const bin = process.env["ENVOY_BIN"];
  if (!bin) throw new Error("ENVOY_BIN is not set: run through `bash scripts/toolchain.sh`");
  const dir = await mkdtemp(join(tmpdir(), "cp-e2e-validate-"));
  try {
    const file = join(dir, "bootstrap.json");
    await writeFile(file, JSON.stringify(bootstrap));
    // Output goes to a file, not a pipe: Node's stdio pipes are sockets, and
    // Envoy cannot open /dev/stdout on a socket (ENXIO), which an access log to
    // /dev/stdout (node-groups.yaml, services.yaml) does.
    const log = join(dir, "envoy.log");
    const fd = openSync(log, "a");
    const child = spawn(bin, ["--mode", "validate", "-c", file, "--disable-hot-restart", "--log-level", "warn"], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    let note = "";
    const timeoutMs = options.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      note = `\n(killed: no verdict within ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    const code = await new Promise<number | null>((resolve) => {
      child.once("error", (error) => {
        note += `\n${error.message}`;
        resolve(null);
      });
      child.once("close", resolve);
    });
    clearTimeout(timer);
    return { code, output: (await readFile(log, "utf8")) + note };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
