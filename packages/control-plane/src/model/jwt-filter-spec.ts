import type { PathSegment } from "./field-path.ts";
import type { HttpFilterConfig, JwtProviderSpec } from "./http-filter-spec.ts";
import type { SpecReader } from "./spec-reader.ts";
import { schemaFields } from "./schema/json-schema.ts";
import { httpFilterSchema } from "./schema/http-filter-schema.ts";

// Allowed fields come from the schema definitions (one place per field; packages/control-plane/schema/README.md).
const providerFields = schemaFields(httpFilterSchema, "providers", "[]");
const remoteJwksFields = schemaFields(httpFilterSchema, "providers", "[]", "remoteJwks");

/** The fields of a jwt filter: providers (keys inline or fetched) and the requirement for every request. */
export function readJwt(rec: Record<string, unknown>, path: readonly PathSegment[], r: SpecReader): HttpFilterConfig | undefined {
  const providers: JwtProviderSpec[] = [];
  (r.list(rec, "providers", path, { required: true, minItems: 1 }) ?? []).forEach((item, i) => {
    const pp = [...path, "providers", i];
    const p = r.mapping(item, pp, providerFields);
    if (p === undefined) return;
    const name = r.string(p, "name", pp, { required: true });
    const issuer = r.string(p, "issuer", pp);
    const audiences = r.stringList(p, "audiences", pp) ?? [];
    if ((p["jwks"] === undefined) === (p["remoteJwks"] === undefined)) {
      r.error([...pp, p["jwks"] === undefined ? "jwks" : "remoteJwks"], p["jwks"] === undefined ? "schema.required" : "filter.jwks", "a provider needs exactly one of jwks or remoteJwks", "give the keys inline (jwks) or where Envoy fetches them (remoteJwks: { service, path })");
      return;
    }
    let keys: JwtProviderSpec["keys"] | undefined;
    if (p["jwks"] !== undefined) {
      const jwks = r.string(p, "jwks", pp, { required: true });
      if (jwks !== undefined && !isJwks(jwks)) {
        r.error([...pp, "jwks"], "filter.jwks", "jwks is not a JSON Web Key Set", 'write the JWKS document as a string: {"keys": [{"kty": "RSA", "n": "...", "e": "AQAB", ...}]}');
        return;
      }
      if (jwks !== undefined) keys = { jwks };
    } else {
      const rp = [...pp, "remoteJwks"];
      const rj = r.mapping(p["remoteJwks"], rp, remoteJwksFields);
      const service = rj === undefined ? undefined : r.string(rj, "service", rp, { required: true });
      const jwksPath = rj === undefined ? undefined : r.string(rj, "path", rp, { required: true });
      const cacheDurationMs = rj === undefined ? undefined : r.duration(rj, "cacheDuration", rp, { min: 1000 });
      if (jwksPath !== undefined && !jwksPath.startsWith("/")) r.error([...rp, "path"], "route.path_slash", `path '${jwksPath}' does not start with /`, `write it as '/${jwksPath}'`);
      if (service !== undefined && jwksPath !== undefined) keys = { remote: { service, path: jwksPath, ...(cacheDurationMs === undefined ? {} : { cacheDurationMs }) } };
    }
    if (keys === undefined) return;
    if (name !== undefined && providers.some((q) => q.name === name)) {
      r.error([...pp, "name"], "schema.duplicate", `provider '${name}' is listed twice`, "give each provider its own name");
      return;
    }
    if (name !== undefined) providers.push({ name, audiences, keys, ...(issuer === undefined ? {} : { issuer }) });
  });
  const require = r.string(rec, "require", path);
  if (require !== undefined && providers.length > 0 && !providers.some((p) => p.name === require)) {
    r.error([...path, "require"], "filter.jwt_provider", `require names provider '${require}', which is not in providers`, `use one of: ${providers.map((p) => p.name).join(", ")}`);
    return undefined;
  }
  return { type: "jwt", jwt: { providers, ...(require === undefined ? {} : { require }) } };
}

function isJwks(text: string): boolean {
  try {
    const doc = JSON.parse(text) as unknown;
    return typeof doc === "object" && doc !== null && Array.isArray((doc as { keys?: unknown }).keys) && (doc as { keys: unknown[] }).keys.length > 0;
  } catch {
    return false;
  }
}
