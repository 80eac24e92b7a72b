import { UsageError } from "../main.ts";
import type { AdminClient } from "./admin-client.ts";
import type { CliIo } from "./cli-io.ts";
import { formatTable } from "./table.ts";

interface TokenInfo {
  name: string;
  role: string;
  createdAt: string;
}

/** `tcp token create --name N --role read|write|admin`, `tcp token list`, `tcp token revoke NAME`. */
export async function tokenCommand(
  client: AdminClient,
  io: CliIo,
  options: { readonly positionals: readonly string[]; readonly name?: string | undefined; readonly role?: string | undefined; readonly output?: string | undefined },
): Promise<number> {
  const [verb, ...rest] = options.positionals;
  switch (verb) {
    case "create": {
      const name = options.name ?? rest[0];
      if (name === undefined || rest.length > 1) throw new UsageError("token create needs --name NAME (and --role read|write|admin)");
      if (options.role === undefined) throw new UsageError("token create needs --role read|write|admin");
      const r = await client.request<TokenInfo & { token: string }>("POST", "/api/v1/tokens", { body: JSON.stringify({ name, role: options.role }) });
      if (options.output === "json") io.out(`${JSON.stringify(r, null, 2)}\n`);
      else {
        // The value is shown this once: only its hash is kept.
        io.out(`${r.token}\n`);
        io.err(`created token ${r.name} with role ${r.role}; store it now, it cannot be shown again\n`);
      }
      return 0;
    }
    case "list": {
      if (rest.length > 0) throw new UsageError("token list takes no arguments");
      const r = await client.request<{ items: TokenInfo[] }>("GET", "/api/v1/tokens");
      if (options.output === "json") io.out(`${JSON.stringify(r.items, null, 2)}\n`);
      else io.out(formatTable(["NAME", "ROLE", "CREATED"], r.items.map((t) => [t.name, t.role, t.createdAt])));
      return 0;
    }
    case "revoke": {
      const [name, ...extra] = rest;
      if (name === undefined || extra.length > 0) throw new UsageError("token revoke takes one token name");
      await client.request("DELETE", `/api/v1/tokens/${encodeURIComponent(name)}`);
      io.out(`revoked token ${name}\n`);
      return 0;
    }
    default:
      throw new UsageError(`token takes create, list or revoke, not ${JSON.stringify(verb ?? "")}`);
  }
}
