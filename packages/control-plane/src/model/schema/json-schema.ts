/** The part of JSON Schema (draft 2020-12) the model's schema uses; a fragment per kind lives beside it. */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  patternProperties?: Record<string, JsonSchema>;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minProperties?: number;
  maxProperties?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  if?: JsonSchema;
  then?: JsonSchema;
  else?: JsonSchema;
  dependentRequired?: Record<string, string[]>;
}

/** A schema path that names no mapping: a reader asked for fields the schema does not define (a programming error, not user input). */
export class SchemaPathError extends Error {
  readonly code = "model.schema_path";
  constructor(path: readonly string[]) {
    super(`the model schema has no mapping at '${path.join(".") || "(root)"}'; declare it in src/model/schema/ first`);
    this.name = "SchemaPathError";
  }
}

/**
 * The allowed fields of the mapping at `path` inside `schema` (a segment is a property
 * name; "[]" steps into an array's items), in declaration order. Readers pass this to
 * SpecReader.mapping so a field is declared once, in the schema (packages/control-plane/schema/README.md).
 */
export function schemaFields(schema: JsonSchema, ...path: string[]): string[] {
  let node: JsonSchema | undefined = schema;
  for (const segment of path) {
    node = segment === "[]" ? node?.items : node?.properties?.[segment];
  }
  if (node?.properties === undefined) throw new SchemaPathError(path);
  return Object.keys(node.properties);
}
