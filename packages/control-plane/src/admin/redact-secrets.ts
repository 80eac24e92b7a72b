import { createHash } from "node:crypto";

/**
 * Private keys never leave the control plane through its admin API, its logs or its
 * diagnostics (issue 13, "nothing leaks"). This is the one place that knows what a
 * private key looks like; everything else calls `redactSecrets` / `redactText`.
 *
 * What counts as a key:
 * - any PEM block `-----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----`
 *   found in any string (RSA, EC, ENCRYPTED, PKCS#8, ...), wherever it sits;
 * - the same block base64-encoded (Envoy's `inline_bytes`), when a string decodes to one;
 * - any string value of a field named `key`, `privateKey` or `private_key` that holds
 *   such a block, and the `inline_string` / `inline_bytes` / `inlineString` / `inlineBytes`
 *   of a `private_key` / `privateKey` data source (Envoy JSON), whatever it holds.
 *
 * A key is replaced by `<redacted sha256:XXXXXXXXXXXX>`: the first 12 hex digits of the
 * SHA-256 of the value, so a diff or a history still shows that a key changed.
 */

const pemBlock = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;
const pemStart = "-----BEGIN ";
const keyFields = new Set(["key", "privateKey", "private_key"]);
const dataSourceOf = new Set(["privateKey", "private_key"]);
const inlineFields = new Set(["inline_string", "inline_bytes", "inlineString", "inlineBytes"]);

/** The placeholder a redacted value is replaced by. */
export const redactedPattern = /<redacted sha256:[0-9a-f]{12}>/;

/** `<redacted sha256:XXXXXXXXXXXX>` for one secret value. */
export function redactedPlaceholder(secret: string): string {
  return `<redacted sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 12)}>`;
}

function holdsPrivateKey(text: string): boolean {
  pemBlock.lastIndex = 0;
  return pemBlock.test(text);
}

/** The text a base64 string decodes to, when it decodes to a PEM private key. */
function base64PrivateKey(text: string): boolean {
  const compact = text.replace(/\s+/g, "");
  if (compact.length < 64 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return false;
  const decoded = Buffer.from(compact, "base64").toString("latin1");
  return decoded.includes(pemStart) && holdsPrivateKey(decoded);
}

/** Any text (a log line, a message) with every PEM private key block replaced. */
export function redactText(text: string): string {
  if (!text.includes("PRIVATE KEY")) return redactBase64Words(text);
  return redactBase64Words(text.replace(pemBlock, (block) => redactedPlaceholder(block)));
}

/** A base64 run inside free text (an error quoting an inline_bytes value) that decodes to a key. */
function redactBase64Words(text: string): string {
  if (text.length < 64) return text;
  return text.replace(/[A-Za-z0-9+/]{64,}={0,2}/g, (word) => (base64PrivateKey(word) ? redactedPlaceholder(word) : word));
}

function redactString(value: string, field: string | undefined, parent: string | undefined): string {
  if (field !== undefined && parent !== undefined && inlineFields.has(field) && dataSourceOf.has(parent)) return redactedPlaceholder(value);
  if (field !== undefined && keyFields.has(field) && base64PrivateKey(value)) return redactedPlaceholder(value);
  return redactText(value);
}

/**
 * A deep copy of `value` (any JSON-like data: objects, config dumps, diagnostics) with
 * every private key replaced by its placeholder. Values that hold no key are returned
 * as they are; the input is never changed.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, undefined, undefined) as T;
}

function walk(value: unknown, field: string | undefined, parent: string | undefined): unknown {
  if (typeof value === "string") return redactString(value, field, parent);
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = walk(v, field, parent);
      if (r !== v) changed = true;
      return r;
    });
    return changed ? out : value;
  }
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString("latin1");
    return holdsPrivateKey(text) || (field !== undefined && inlineFields.has(field) && parent !== undefined && dataSourceOf.has(parent))
      ? redactedPlaceholder(Buffer.from(value).toString("base64"))
      : value;
  }
  if (typeof value === "object" && value !== null) {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      // Class instances (Dates, errors, protobuf messages) go out as JSON: redact that form.
      const json = (value as { toJSON?: () => unknown }).toJSON;
      return typeof json === "function" ? walk(json.call(value), field, parent) : value;
    }
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = walk(v, k, field);
      if (r !== v) changed = true;
      out[k] = r;
    }
    return changed ? out : value;
  }
  return value;
}

/** Where in `value` a redaction placeholder was sent back (a read-back object applied as it was). */
export function findRedactedPlaceholder(value: unknown, path = ""): string | undefined {
  if (typeof value === "string") return redactedPattern.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findRedactedPlaceholder(v, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const found = findRedactedPlaceholder(v, path === "" ? k : `${path}.${k}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Wraps a log function so no line it writes holds a private key. */
export function redactingLog(log: (line: string) => void): (line: string) => void {
  return (line) => log(redactText(line));
}
