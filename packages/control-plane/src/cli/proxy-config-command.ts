import { stringify } from "yaml";
import { UsageError } from "../main.ts";
import { didYouMean } from "../model/did-you-mean.ts";
import type { ProxyConfig } from "../status/proxy-config.ts";
import type { AdminClient } from "./admin-client.ts";

/** The type argument, singular or plural, as the admin API's ?type= takes it. */
const typeAliases: ReadonlyMap<string, string> = new Map([
  ["all", "all"],
  ...(["cluster", "listener", "route", "endpoint", "secret"] as const).flatMap((t): [string, string][] => [
    [t, `${t}s`],
    [`${t}s`, `${t}s`],
  ]),
]);

/** `tcp proxy-config NODE [TYPE] [-o table|yaml|json]`; resolves with the exit code. */
export async function runProxyConfig(
  options: { positionals: readonly string[]; output: string | undefined },
  client: AdminClient,
  out: (text: string) => void,
): Promise<number> {
  const [node, typeArg = "all", ...extra] = options.positionals;
  if (node === undefined) throw new UsageError(`proxy-config needs a NODE (an Envoy's node id; \`tcp status\` lists them)`);
  if (extra.length > 0) throw new UsageError(`proxy-config takes NODE and at most one type, got ${JSON.stringify(options.positionals.join(" "))}`);
  const type = typeAliases.get(typeArg.toLowerCase());
  if (type === undefined) {
    const guess = didYouMean(typeArg, [...typeAliases.keys()]);
    throw new UsageError(
      `proxy-config: unknown type ${JSON.stringify(typeArg)}${guess === undefined ? "" : ` (did you mean ${guess}?)`}; use clusters, listeners, routes, endpoints, secrets or all`,
    );
  }
  const table = options.output === undefined || options.output === "table";
  const q = new URLSearchParams({ type, ...(table ? { contents: "false" } : {}) });
  const config = await client.request<ProxyConfig>("GET", `/api/v1/proxies/${encodeURIComponent(node)}/config?${q}`);
  if (options.output === "json") {
    out(`${JSON.stringify(config, null, 2)}\n`);
    return 0;
  }
  if (options.output === "yaml") {
    // No folding: a redacted digest or a PEM certificate stays one greppable line.
    out(stringify(config, { lineWidth: 0 }));
    return 0;
  }
  out(`node ${config.nodeId} (cluster ${config.cluster || "-"}, group ${config.group}, ${config.connected ? "connected" : "not connected"})\n`);
  printTable(
    out,
    ["TYPE", "NAME", "VERSION", "STATUS", "OBJECTS"],
    config.resources.map((r) => [r.type, r.name, r.version || "-", r.state, (r.objects ?? []).join(",") || "-"]),
  );
  const messages = new Set(config.resources.flatMap((r) => (r.nack === undefined ? [] : [`${r.type} ${r.name}: ${r.nack.message.trim()}`])));
  for (const m of messages) out(`NACKED ${m}\n`);
  return 0;
}

function printTable(out: (text: string) => void, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  for (const row of [header, ...rows]) out(`${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")}\n`);
}
