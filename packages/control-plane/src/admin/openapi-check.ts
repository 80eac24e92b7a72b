// Checks admin API answers against the OpenAPI document (issue 9): the test helpers
// hook it into every admin server they start, so a response that drifts from the
// document, or a path, method or status it does not list, fails the test that saw it.
// A small JSON Schema subset (what openapi-document.ts uses), compiled once; cheap per answer.
import { type JsonSchema, openApiDocument } from "./openapi-document.ts";

/** One answer of the admin server, as it goes out (AdminServerOptions.onReply). */
export interface AdminExchange {
  readonly method: string;
  /** The URL's path, without the query. */
  readonly path: string;
  readonly status: number;
  readonly contentType: string;
  /** The JSON value answered (also when sent as YAML); undefined for a text answer. */
  readonly json?: unknown;
}

interface CompiledPath {
  readonly template: string;
  readonly pattern: RegExp;
  readonly params: number;
  readonly operations: Readonly<Record<string, { responses?: Readonly<Record<string, unknown>> }>>;
}

/** Statuses the API answers before it knows the route (origin, token, unknown path or method): allowed anywhere, as the error shape. */
const beforeRouting = new Set([400, 401, 403, 404, 405]);

/** Compiles a document once: path templates to patterns, literal paths before templated ones. */
export function openApiChecker(document: Readonly<Record<string, unknown>> = openApiDocument): (exchange: AdminExchange) => string | undefined {
  const schemas = ((document["components"] as { schemas?: Record<string, JsonSchema> } | undefined)?.schemas ?? {}) as Readonly<Record<string, JsonSchema>>;
  const responsesByRef = ((document["components"] as { responses?: Record<string, unknown> } | undefined)?.responses ?? {}) as Readonly<Record<string, unknown>>;
  const paths: CompiledPath[] = Object.entries((document["paths"] ?? {}) as Record<string, CompiledPath["operations"]>)
    .map(([template, operations]) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`),
      params: (template.match(/\{/g) ?? []).length,
      operations,
    }))
    .sort((a, b) => a.params - b.params);
  const errorSchema: JsonSchema = { $ref: "#/components/schemas/Error" };
  const validate = (schema: JsonSchema, value: unknown, at: string): string | undefined => validateValue(schema, value, at, schemas);

  return (x) => {
    const what = `${x.method} ${x.path} answered ${x.status}`;
    const path = paths.find((p) => p.pattern.test(x.path));
    const operation = path?.operations[x.method.toLowerCase()];
    if (operation === undefined) {
      if (beforeRouting.has(x.status)) {
        const problem = validate(errorSchema, x.json, "body");
        return problem === undefined ? undefined : `${what}: ${problem}`;
      }
      return `${what}, but the OpenAPI document (admin/openapi-document.ts) has no ${path === undefined ? `path for ${x.path}` : `${x.method} ${path.template}`}: document it`;
    }
    let response = operation.responses?.[String(x.status)] as { $ref?: string; content?: Record<string, { schema?: JsonSchema }> } | undefined;
    if (response?.$ref !== undefined) response = responsesByRef[response.$ref.slice(response.$ref.lastIndexOf("/") + 1)] as typeof response;
    if (response === undefined) return `${what}, a status the OpenAPI document does not list for ${x.method} ${path?.template}: document it`;
    const type = x.contentType.split(";")[0]?.trim() ?? "";
    const content = response.content?.[type];
    if (content === undefined) return `${what} as ${type}, which the OpenAPI document does not list for it (${Object.keys(response.content ?? {}).join(", ")})`;
    if (x.json === undefined) return content.schema?.["type"] === "string" ? undefined : `${what} with text where the OpenAPI document says JSON`;
    const problem = content.schema === undefined ? undefined : validate(content.schema, x.json, "body");
    return problem === undefined ? undefined : `${what}, which does not match the OpenAPI document: ${problem}`;
  };
}

function validateValue(schema: JsonSchema, value: unknown, at: string, schemas: Readonly<Record<string, JsonSchema>>): string | undefined {
  const ref = schema["$ref"];
  if (typeof ref === "string") {
    const target = schemas[ref.slice(ref.lastIndexOf("/") + 1)];
    if (target === undefined) return `${at}: unknown $ref ${ref}`;
    return validateValue(target, value, at, schemas);
  }
  if ("const" in schema && value !== schema["const"]) return `${at} is ${JSON.stringify(value)}, not ${JSON.stringify(schema["const"])}`;
  const enumeration = schema["enum"];
  if (Array.isArray(enumeration) && !enumeration.includes(value)) return `${at} is ${JSON.stringify(value)}, not one of ${enumeration.map((e) => JSON.stringify(e)).join(", ")}`;
  const type = schema["type"];
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as string[]) : [type as string];
    if (!types.some((t) => hasType(value, t))) return `${at} is ${describe(value)}, not ${types.join(" or ")}`;
  }
  for (const sub of (schema["allOf"] as JsonSchema[] | undefined) ?? []) {
    const problem = validateValue(sub, value, at, schemas);
    if (problem !== undefined) return problem;
  }
  const oneOf = schema["oneOf"] as JsonSchema[] | undefined;
  if (oneOf !== undefined) {
    const problems = oneOf.map((sub) => validateValue(sub, value, at, schemas));
    if (problems.filter((p) => p === undefined).length !== 1) return `${at} matches ${problems.filter((p) => p === undefined).length} of the oneOf schemas, not exactly one (${problems.filter(Boolean).join("; ")})`;
  }
  if (isObject(value)) {
    for (const key of (schema["required"] as string[] | undefined) ?? []) if (!(key in value)) return `${at}.${key} is missing`;
    const properties = (schema["properties"] ?? {}) as Readonly<Record<string, JsonSchema>>;
    for (const [key, v] of Object.entries(value)) {
      const sub = properties[key];
      if (sub !== undefined) {
        const problem = validateValue(sub, v, `${at}.${key}`, schemas);
        if (problem !== undefined) return problem;
      } else if (schema["additionalProperties"] === false) {
        return `${at}.${key} is not in the document`;
      }
    }
  }
  const items = schema["items"] as JsonSchema | undefined;
  if (items !== undefined && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = validateValue(items, value[i], `${at}[${i}]`, schemas);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "object":
      return isObject(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "null":
      return value === null;
    default:
      return typeof value === type;
  }
}

function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `${typeof value} ${JSON.stringify(value)?.slice(0, 60) ?? ""}`;
}

/** What the test helpers hook into an admin server: every mismatch is kept, and `assertClean` fails with all of them. */
export interface OpenApiRecorder {
  readonly onReply: (exchange: AdminExchange) => void;
  readonly mismatches: readonly string[];
  /** Throws an Error listing every answer that did not match the document. */
  assertClean(): void;
}

let sharedChecker: ((exchange: AdminExchange) => string | undefined) | undefined;

/** A recorder checking against the served document (compiled once per process). */
export function createOpenApiRecorder(): OpenApiRecorder {
  sharedChecker ??= openApiChecker();
  const check = sharedChecker;
  const mismatches: string[] = [];
  return {
    onReply: (exchange) => {
      const problem = check(exchange);
      if (problem !== undefined) mismatches.push(problem);
    },
    mismatches,
    assertClean() {
      if (mismatches.length > 0) throw new Error(`admin API answers that do not match the OpenAPI document:\n- ${mismatches.join("\n- ")}`);
    },
  };
}
