import { didYouMean, oneOf } from "./did-you-mean.ts";
import { parseDuration } from "./duration.ts";
import { formatPath, type PathSegment } from "./field-path.ts";
import type { Diagnostic } from "./model-object.ts";

export interface FieldOptions {
  required?: boolean;
}

/**
 * Reads one object's spec field by field, checking types and ranges, and records a
 * diagnostic with the exact field path and a hint for every problem. Validation is
 * hand-written rather than done by a JSON-Schema library so that every message can
 * name the fix (the JSON Schema under schema/ documents the same rules for editors).
 */
export class SpecReader {
  readonly object: string;
  readonly diagnostics: Diagnostic[] = [];
  /** The time checks that need a clock compare with (certificate expiry); those checks are skipped without it. */
  readonly nowMs: number | undefined;

  constructor(object: string, options: { nowMs?: number } = {}) {
    this.object = object;
    this.nowMs = options.nowMs;
  }

  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === "error");
  }

  error(path: readonly PathSegment[], code: string, message: string, hint: string): void {
    this.diagnostics.push({ severity: "error", code, message, hint, object: this.object, path: formatPath(path) });
  }

  warn(path: readonly PathSegment[], code: string, message: string, hint: string): void {
    this.diagnostics.push({ severity: "warning", code, message, hint, object: this.object, path: formatPath(path) });
  }

  /** A mapping with only the allowed keys; unknown keys are errors (a typo must not be silently ignored). */
  mapping(value: unknown, path: readonly PathSegment[], allowed: readonly string[]): Record<string, unknown> | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.error(path, "schema.type", `${describe(path)} must be a mapping`, `write ${describe(path)} as a mapping of fields (${oneOf(allowed)})`);
      return undefined;
    }
    const rec = value as Record<string, unknown>;
    for (const key of Object.keys(rec).sort()) {
      if (allowed.includes(key)) continue;
      const near = didYouMean(key, allowed);
      this.error(
        [...path, key],
        "schema.unknown_field",
        `unknown field '${key}'`,
        near !== undefined ? `did you mean '${near}'?` : `remove it; allowed fields here: ${oneOf(allowed)}`,
      );
    }
    return rec;
  }

  private missing(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions, what: string): boolean {
    const v = rec[key];
    if (v !== undefined && v !== null) return false;
    if (options.required === true) this.error([...path, key], "schema.required", `${key} is required`, `set ${key} to ${what}`);
    return true;
  }

  string(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions & { nonEmpty?: boolean } = {}): string | undefined {
    if (this.missing(rec, key, path, options, "a string")) return undefined;
    const v = rec[key];
    if (typeof v !== "string") {
      this.error([...path, key], "schema.type", `${key} must be a string, not ${typeName(v)}`, `quote the value of ${key}`);
      return undefined;
    }
    if (options.nonEmpty !== false && v === "") {
      this.error([...path, key], "schema.empty", `${key} must not be empty`, `set ${key} to a non-empty value or remove it`);
      return undefined;
    }
    return v;
  }

  integer(
    rec: Record<string, unknown>,
    key: string,
    path: readonly PathSegment[],
    options: FieldOptions & { min?: number; max?: number } = {},
  ): number | undefined {
    const min = options.min ?? 0;
    const max = options.max ?? 4_294_967_295;
    if (this.missing(rec, key, path, options, `a whole number from ${min} to ${max}`)) return undefined;
    const v = rec[key];
    // 1e309 reads as Infinity and .nan as NaN: say so, rather than "not a whole number" (issue 14).
    if (typeof v === "number" && !Number.isFinite(v)) {
      this.error([...path, key], "schema.range", `${key} is not a finite number (out of range ${min}..${max})`, `set ${key} to a number from ${min} to ${max}`);
      return undefined;
    }
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.error([...path, key], "schema.type", `${key} must be a whole number, not ${typeName(v)}`, `write ${key} as a number from ${min} to ${max}, without quotes`);
      return undefined;
    }
    if (v < min || v > max) {
      this.error([...path, key], "schema.range", `${key} is ${v}, outside ${min}..${max}`, `set ${key} to a number from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  boolean(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions = {}): boolean | undefined {
    if (this.missing(rec, key, path, options, "true or false")) return undefined;
    const v = rec[key];
    if (typeof v !== "boolean") {
      this.error([...path, key], "schema.type", `${key} must be true or false, not ${typeName(v)}`, `write ${key}: true or ${key}: false, without quotes`);
      return undefined;
    }
    return v;
  }

  enumeration<T extends string>(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], values: readonly T[], options: FieldOptions = {}): T | undefined {
    if (this.missing(rec, key, path, options, `one of: ${values.join(", ")}`)) return undefined;
    const v = rec[key];
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
      const near = typeof v === "string" ? didYouMean(v, values) : undefined;
      this.error(
        [...path, key],
        "schema.enum",
        `${key} is ${JSON.stringify(v)}, which is not one of: ${values.join(", ")}`,
        near !== undefined ? `did you mean '${near}'?` : `set ${key} to one of: ${values.join(", ")}`,
      );
      return undefined;
    }
    return v as T;
  }

  /** A duration such as "5s" or "250ms", in milliseconds. */
  duration(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions & { min?: number } = {}): number | undefined {
    if (this.missing(rec, key, path, options, 'a duration such as "5s"')) return undefined;
    const v = rec[key];
    const ms = typeof v === "string" ? parseDuration(v) : undefined;
    if (ms === undefined) {
      this.error([...path, key], "schema.duration", `${key} is ${JSON.stringify(v)}, not a duration`, `write ${key} as a number with a unit: "250ms", "5s", "1m" or "1h"`);
      return undefined;
    }
    const min = options.min ?? 0;
    if (ms < min) {
      this.error([...path, key], "schema.range", `${key} is ${v}, shorter than ${min}ms`, `set ${key} to at least ${min}ms`);
      return undefined;
    }
    return ms;
  }

  list(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions & { minItems?: number } = {}): unknown[] | undefined {
    if (this.missing(rec, key, path, options, "a list")) return undefined;
    const v = rec[key];
    if (!Array.isArray(v)) {
      this.error([...path, key], "schema.type", `${key} must be a list, not ${typeName(v)}`, `write ${key} as a YAML list (lines starting with "- ")`);
      return undefined;
    }
    const min = options.minItems ?? 0;
    if (v.length < min) {
      this.error([...path, key], "schema.min_items", `${key} needs at least ${min} item${min === 1 ? "" : "s"}`, `add ${min === 1 ? "an item" : "items"} to ${key}`);
      return undefined;
    }
    return v;
  }

  stringList(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions & { minItems?: number } = {}): string[] | undefined {
    const items = this.list(rec, key, path, options);
    if (items === undefined) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      if (typeof item === "string" && item !== "") out.push(item);
      else this.error([...path, key, i], "schema.type", `${key}[${i}] must be a non-empty string`, `write each item of ${key} as a string`);
    });
    return out;
  }

  stringMap(rec: Record<string, unknown>, key: string, path: readonly PathSegment[], options: FieldOptions = {}): Record<string, string> | undefined {
    if (this.missing(rec, key, path, options, "a mapping of strings")) return undefined;
    const v = rec[key];
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.error([...path, key], "schema.type", `${key} must be a mapping of strings`, `write ${key} as "name: value" lines`);
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
      if (typeof item === "string") out[k] = item;
      else if (typeof item === "number" || typeof item === "boolean") out[k] = String(item);
      else this.error([...path, key, k], "schema.type", `${key}.${k} must be a string`, `quote the value of ${k}`);
    }
    return out;
  }
}

function describe(path: readonly PathSegment[]): string {
  return path.length === 0 ? "the value" : formatPath(path);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}
