// A minimal protobuf wire writer for pre-encoded messages.
//
// Responses are assembled from bytes encoded once per resource version (see
// docs/xds-protocol.md § Cost): only the small per-stream fields (nonce, version)
// are encoded per response, and the resource bytes are shared.

/** The number of bytes `n` takes as a protobuf varint. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

const utf8 = new TextEncoder();

/** A length-delimited field (wire type 2) around bytes that are already encoded. */
export function lengthDelimited(field: number, payload: Uint8Array): Uint8Array {
  const tag = (field << 3) | 2;
  const out = new Uint8Array(varintSize(tag) + varintSize(payload.length) + payload.length);
  let pos = writeVarint(out, 0, tag);
  pos = writeVarint(out, pos, payload.length);
  out.set(payload, pos);
  return out;
}

/**
 * `prefix` (fields already encoded) followed by a length-delimited field
 * around `payload`, in one allocation and one copy of the payload: how a
 * resource's `Any` is built (its type_url field is the same for every resource
 * of a type), where two steps copied each resource's bytes twice.
 */
export function withLengthDelimited(prefix: Uint8Array, field: number, payload: Uint8Array): Buffer {
  const tag = (field << 3) | 2;
  const out = Buffer.allocUnsafe(prefix.length + varintSize(tag) + varintSize(payload.length) + payload.length);
  out.set(prefix, 0);
  let pos = writeVarint(out, prefix.length, tag);
  pos = writeVarint(out, pos, payload.length);
  out.set(payload, pos);
  return out;
}

/** A string field; empty strings are omitted, as proto3 does. */
export function stringField(field: number, value: string): Uint8Array {
  if (value === "") return new Uint8Array(0);
  return lengthDelimited(field, utf8.encode(value));
}

/** A varint field (wire type 0); zero is omitted, as proto3 does. */
export function varintField(field: number, value: number): Uint8Array {
  if (value === 0) return new Uint8Array(0);
  const tag = field << 3;
  const out = new Uint8Array(varintSize(tag) + varintSize(value));
  writeVarint(out, writeVarint(out, 0, tag), value);
  return out;
}

/** Joins encoded parts into one buffer (a Node Buffer, ready for the transport). */
export function concat(parts: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** google.protobuf.Duration { seconds = 1, nanos = 2 } for milliseconds: TTLs in Resource wrappers. */
export function durationBytes(ms: number): Uint8Array {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return concat([varintField(1, seconds), varintField(2, nanos)]);
}
