import { readVarint } from "../resource/read-varint.ts";

/**
 * How many bytes the value of the top-level field `fieldNumber` takes in an
 * encoded message (for a message field: its own encoded size, tag and length
 * prefix excluded; every occurrence summed, as protobuf merges repeated
 * occurrences of a message field), read without decoding anything.
 * The server checks a request's `node` with it before decoding, so an
 * oversized node is refused without ever being materialised (issue 14:
 * bounded memory under hostile clients). Undefined for bytes that are not a
 * well-formed message: the full decode then says what is wrong.
 */
export function encodedFieldBytes(bytes: Uint8Array, fieldNumber: number): number | undefined {
  let total = 0;
  let pos = 0;
  while (pos < bytes.length) {
    const tag = readVarint(bytes, pos);
    if (!tag) return undefined;
    pos = tag.end;
    let start = pos;
    switch (tag.value & 7) {
      case 0: {
        const v = readVarint(bytes, pos, 10);
        if (!v) return undefined;
        pos = v.end;
        break;
      }
      case 1:
        pos += 8;
        break;
      case 2: {
        const length = readVarint(bytes, pos);
        if (!length) return undefined;
        start = length.end;
        pos = length.end + length.value;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        return undefined; // groups are not used by xDS messages
    }
    if (pos > bytes.length) return undefined;
    if (tag.value >>> 3 === fieldNumber) total += pos - start;
  }
  return total;
}
