import { stringify } from "yaml";
import type { StatusReport } from "../status/status-report.ts";
import type { AdminClient } from "./admin-client.ts";
import type { CliIo } from "./cli-io.ts";
import { parseObjectRefs } from "./kind-names.ts";
import { objectStatus } from "./object-status.ts";
import { formatTable } from "./table.ts";

type Item = { key: string; revision: number; source: string; object: Record<string, unknown> };

/** `tcp get [KIND [NAME...] | KIND/NAME...] [-o table|wide|name|yaml|json]`. */
export async function getCommand(client: AdminClient, io: CliIo, options: { positionals: readonly string[]; output?: string }): Promise<number> {
  const refs = parseObjectRefs(options.positionals);
  const items: Item[] = [];
  if (refs.length === 0) items.push(...(await client.request<{ items: Item[] }>("GET", "/api/v1/objects")).items);
  for (const r of refs) {
    if (r.name === undefined) items.push(...(await client.request<{ items: Item[] }>("GET", `/api/v1/objects/${encodeURIComponent(r.kind)}`)).items);
    else items.push(await client.request<Item>("GET", `/api/v1/objects/${encodeURIComponent(r.kind)}/${encodeURIComponent(r.name)}`));
  }
  // One named object prints as itself, a list as a list (kubectl's -o json shape).
  const single = refs.length === 1 && refs[0]?.name !== undefined;
  switch (options.output) {
    case "json":
      io.out(`${JSON.stringify(single ? items[0]?.object : items.map((i) => i.object), null, 2)}\n`);
      return 0;
    case "yaml":
      io.out(items.map((i) => stringify(i.object)).join("---\n"));
      return 0;
    case "name":
      io.out(items.map((i) => `${i.key}\n`).join(""));
      return 0;
    case "wide": {
      const status = await client.request<StatusReport>("GET", "/api/v1/status");
      const byObject = new Map(status.objects.map((o) => [o.object, o]));
      io.out(
        formatTable(
          ["KIND/NAME", "REVISION", "SOURCE", "STATUS", "NODE GROUPS", "ACKNOWLEDGED"],
          items.map((i) => {
            const o = byObject.get(i.key);
            return [i.key, String(i.revision), i.source, objectStatus(o), o === undefined ? "-" : o.groups.join(","), o === undefined ? "-" : `${o.acknowledged}/${o.targets}`];
          }),
        ),
      );
      return 0;
    }
    default: {
      if (items.length === 0) {
        io.err(refs.length === 0 ? "no objects (apply some with tcp apply -f FILE)\n" : `no ${refs.map((r) => r.kind).join(", ")} objects\n`);
        return 0;
      }
      // STATUS: acknowledged/targets, or "NACKED by N" when a proxy rejected one of the object's Envoy resources.
      const objects = new Map((await client.request<StatusReport>("GET", "/api/v1/status")).objects.map((o) => [o.object, o]));
      io.out(formatTable(["KIND/NAME", "REVISION", "SOURCE", "STATUS"], items.map((i) => [i.key, String(i.revision), i.source, objectStatus(objects.get(i.key))])));
      return 0;
    }
  }
}
