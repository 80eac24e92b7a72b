import { readFileSync } from "node:fs";

/** What the example reads from its environment; see the table in README.md. */
export interface ExampleEnv {
  readonly nodeId: string;
  readonly xdsPort: number;
  readonly listenerAddress: string;
  readonly listenerPort: number;
  readonly upstreamHost: string | undefined;
  readonly upstreamPort: number | undefined;
}

/** envoy-bootstrap.yaml's own values: with them, that file works as it is. */
export const bootstrapDefaults = { nodeId: "xds-node-id", xdsPort: 18000 } as const;

/** Reads the environment; a malformed port is an Error whose message names the variable. */
export function readExampleEnv(env: Readonly<Record<string, string | undefined>>): ExampleEnv {
  const port = (name: string, fallback: number | undefined): number | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n > 65535) throw new Error(`${name} must be a port number (0-65535), got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    nodeId: env["NODE_ID"] || bootstrapDefaults.nodeId,
    xdsPort: port("XDS_PORT", bootstrapDefaults.xdsPort) ?? bootstrapDefaults.xdsPort,
    listenerAddress: env["LISTENER_ADDRESS"] || "127.0.0.1",
    listenerPort: port("LISTENER_PORT", 12000) ?? 12000,
    upstreamHost: env["UPSTREAM_HOST"] || undefined,
    upstreamPort: port("UPSTREAM_PORT", undefined),
  };
}

/**
 * The bootstrap Envoy needs for this run: envoy-bootstrap.yaml with the xDS port and node id
 * actually in use. The checked-in file names 18000 and xds-node-id; when XDS_PORT or NODE_ID
 * say otherwise, Envoy started with that file would ask the wrong port or get nothing for its
 * node, so the example prints this instead (issue 12).
 */
export function bootstrapFor(o: { nodeId: string; xdsPort: number }, template = readFileSync(new URL("./envoy-bootstrap.yaml", import.meta.url), "utf8")): string {
  return template
    .replace(/^(\s+id: )xds-node-id\b/m, `$1${o.nodeId}`)
    .replace(/^(\s+port_value: )18000$/m, `$1${o.xdsPort}`)
    .replace(/127\.0\.0\.1:18000/g, `127.0.0.1:${o.xdsPort}`);
}
