import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { JsonObject } from "@bufbuild/protobuf";
import { namedStaticCluster } from "./oracle-resources.ts";

export interface EnvoyVerdict {
  readonly code: number | null;
  readonly output: string;
  /** The text inside "Proto constraint validation failed (...)", when PGV is what failed. */
  readonly pgv: string | undefined;
}

export interface StaticResource {
  readonly kind: "cluster" | "listener";
  /** Proto3 JSON of the resource. */
  readonly resource: JsonObject;
}

/**
 * `envoy --mode validate` on a bootstrap holding one static resource: Envoy
 * builds the whole configuration (extensions included) without binding or
 * serving anything, and exits non-zero on the first problem. Listener cases get
 * the clusters their routes name, since Envoy checks those references too.
 */
export async function envoyValidate(dir: string, r: StaticResource, file: string): Promise<EnvoyVerdict> {
  const envoy = process.env["ENVOY_BIN"];
  assert.ok(envoy, "ENVOY_BIN is not set: run through scripts/toolchain.sh");
  const bootstrap = {
    staticResources:
      r.kind === "cluster" ? { clusters: [r.resource] } : { listeners: [r.resource], clusters: ["backend", "canary", "static"].map(namedStaticCluster) },
  };
  const path = join(dir, file);
  await writeFile(path, JSON.stringify(bootstrap));
  const child = spawn(envoy, ["--mode", "validate", "-c", path, "--disable-hot-restart", "--log-level", "error"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  return { code, output, pgv: /Proto constraint validation failed \(([^\n]*)\)/.exec(output)?.[1] };
}

/** Envoy's complaint in one line: the PGV text, or the last lines of its output. */
export function envoySays(v: EnvoyVerdict): string {
  return v.pgv ?? v.output.trim().split("\n").slice(-3).join(" | ").slice(0, 400);
}

/** Runs `fn` over items with at most `limit` in flight (each Envoy run takes a core). */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
