import { readVarint } from "../resource/read-varint.ts";

/**
 * A SotW ACK repeats the names of the request before it: at 10,000 names, a
 * fan-out of 1,000 ACKs decodes ten million strings only to find them
 * unchanged. This reads the few small fields of an encoded DiscoveryRequest
 * and keeps its resource_names as the bytes they are, so a stream can compare
 * them with the bytes of the request that built its subscription
 * (sotw-subscription.ts) and decode nothing more.
 */
export interface RawSotwRequest {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly responseNonce: string;
  /** Every encoded resource_names field, one contiguous run (empty when there are none). */
  readonly names: Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const noBytes = new Uint8Array(0);

/**
 * The request's version_info, type_url, response_nonce and encoded names;
 * the node is skipped (only a stream's first request, which is always fully
 * decoded, counts). Undefined for anything else (error_detail, resource
 * locators, other fields, names not in one run, malformed bytes): those take
 * the full decode.
 */
export function readRawSotwRequest(bytes: Uint8Array): RawSotwRequest | undefined {
  let versionInfo = "";
  let typeUrl = "";
  let responseNonce = "";
  let namesStart = -1;
  let namesEnd = -1;
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const fieldStart = pos;
      const tag = readVarint(bytes, pos);
      if (!tag) return undefined;
      pos = tag.end;
      if ((tag.value & 7) !== 2) return undefined;
      const length = readVarint(bytes, pos);
      if (!length || length.end + length.value > bytes.length) return undefined;
      const start = length.end;
      pos = start + length.value;
      switch (tag.value >>> 3) {
        case 1:
          versionInfo = utf8.decode(bytes.subarray(start, pos));
          break;
        case 2:
          // node: Envoy repeats it on every request unless told otherwise
          // (set_node_on_first_message_only); a stream only reads the first.
          break;
        case 3:
          if (namesStart < 0) namesStart = fieldStart;
          else if (namesEnd !== fieldStart) return undefined;
          namesEnd = pos;
          break;
        case 4:
          typeUrl = utf8.decode(bytes.subarray(start, pos));
          break;
        case 5:
          responseNonce = utf8.decode(bytes.subarray(start, pos));
          break;
        default:
          return undefined;
      }
    }
  } catch {
    return undefined; // not UTF-8: the full decode says what is wrong
  }
  return { versionInfo, typeUrl, responseNonce, names: namesStart < 0 ? noBytes : bytes.subarray(namesStart, namesEnd) };
}
