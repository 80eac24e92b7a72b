import { createHash } from "node:crypto";

/**
 * Private keys never leave the control plane through its admin API, its logs or its
 * diagnostics (issue 13, "nothing leaks"). This is the one place that knows what key
 * material looks like; the admin API's output boundary, the log and proxy-config call it.
 *
 * What is redacted, in any value and whatever kind of object holds it:
 * - every PEM block `-----BEGIN ... PRIVATE KEY----- ... -----END ... PRIVATE KEY-----`
 *   in any string (RSA, EC, ENCRYPTED, PKCS#8, ...), also inside longer text;
 * - every base64 run that decodes to such a block (Envoy's `inline_bytes`, a quoted value);
 * - the `inline_string` / `inline_bytes` of any data source below a field that holds key
 *   material (`private_key`, `password`, session ticket `keys`, generic `secret`, HMAC and
 *   OAuth2 secrets, `pkcs12`, in proto and JSON spellings), whatever it holds.
 * Certificates, file names and SDS references stay: they say where a key is, not the key.
 *
 * A value is replaced by `<redacted sha256:XXXXXXXXXXXX>`, the first 12 hex digits of the
 * SHA-256 of the key's bytes (decoded for base64), so a diff or a history shows that a key
 * changed, and the same key inline as text or as bytes has the same placeholder.
 */

const pemBlock = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;
const base64Run = /[A-Za-z0-9+/]{64,}={0,2}/g;
const secretFields = new Set([
  "private_key",
  "privateKey",
  "password",
  "keys",
  "secret",
  "hmac_secret",
  "hmacSecret",
  "token_secret",
  "tokenSecret",
  "client_secret",
  "clientSecret",
  "pkcs12",
]);
const inlineText = new Set(["inline_string", "inlineString"]);
const inlineBytes = new Set(["inline_bytes", "inlineBytes"]);

/** Matches a placeholder this module writes. */
export const redactedPattern = /<redacted sha256:[0-9a-f]{12}>/;

/** `<redacted sha256:XXXXXXXXXXXX>` for the bytes (or UTF-8 text) of one secret. */
export function redactedPlaceholder(secret: string | Uint8Array): string {
  return `<redacted sha256:${createHash("sha256").update(secret).digest("hex").slice(0, 12)}>`;
}

function holdsPrivateKey(text: string): boolean {
  pemBlock.lastIndex = 0;
  const found = pemBlock.test(text);
  pemBlock.lastIndex = 0;
  return found;
}

/** Any text (a log line, a message, a YAML answer) with every private key replaced. */
export function redactText(text: string): string {
  const pem = text.includes("PRIVATE KEY") ? text.replace(pemBlock, (block) => redactedPlaceholder(block)) : text;
  if (pem.length < 64) return pem;
  return pem.replace(base64Run, (run) => {
    const bytes = Buffer.from(run, "base64");
    return holdsPrivateKey(bytes.toString("latin1")) ? redactedPlaceholder(bytes) : run;
  });
}

/**
 * A copy of `value` (any JSON-like data: objects, config dumps, diagnostics, error
 * answers) with every private key replaced by its placeholder. Parts that hold none are
 * shared with the input, which is never changed.
 */
export function redactSecrets<T>(value: T): T {
  return walk(value, undefined, false) as T;
}

function walk(value: unknown, field: string | undefined, inSecret: boolean): unknown {
  if (typeof value === "string") {
    if (inSecret && field !== undefined && inlineBytes.has(field)) return redactedPlaceholder(Buffer.from(value, "base64"));
    if (inSecret && field !== undefined && inlineText.has(field)) return redactedPlaceholder(value);
    return redactText(value);
  }
  if (value instanceof Uint8Array) {
    return inSecret || holdsPrivateKey(Buffer.from(value).toString("latin1")) ? redactedPlaceholder(value) : value;
  }
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = walk(v, field, inSecret);
      if (r !== v) changed = true;
      return r;
    });
    return changed ? out : value;
  }
  if (typeof value === "object" && value !== null) {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      // Class instances go out as their JSON form (Date, protobuf messages): redact that form.
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      return typeof toJSON === "function" ? walk(toJSON.call(value), field, inSecret) : value;
    }
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = walk(v, k, inSecret || secretFields.has(k));
      if (r !== v) changed = true;
      out[k] = r;
    }
    return changed ? out : value;
  }
  return value;
}

/** The field path of the first placeholder in `value` (an object read back and sent again as it was). */
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
export function redactingLog<F>(log: (line: string, fields?: F) => void): (line: string, fields?: F) => void {
  // Structured fields too: a NACK message or a diagnostic can sit in a field as well as in the line (issue 13).
  return (line, fields) => (fields === undefined ? log(redactText(line)) : log(redactText(line), redactSecrets(fields)));
}
