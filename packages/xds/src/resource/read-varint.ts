/** A varint read off the wire: its value and the offset just past it. */
export interface Varint {
  /** The decoded value (exact up to 2^53; tags and lengths stay far below). */
  readonly value: number;
  /** The offset of the first byte after the varint. */
  readonly end: number;
}

/**
 * The protobuf varint at `pos`, or undefined when it runs past the end or
 * past `maxBytes` bytes. The one reader of the modules that scan requests
 * without decoding them (encoded-field-bytes.ts, delta-subscribe-names.ts,
 * sotw-repeat-request.ts). The default of 5 bytes fits tags and lengths (32
 * bits); a varint field's value takes up to 10.
 */
export function readVarint(bytes: Uint8Array, pos: number, maxBytes = 5): Varint | undefined {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < bytes.length && i < pos + maxBytes; i++) {
    const b = bytes[i] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, end: i + 1 };
    scale *= 128;
  }
  return undefined;
}
