// Just enough of DiscoveryRequest/DiscoveryResponse on the wire for a client
// that only ACKs: the benchmark's clients must cost as little CPU as possible,
// because they share the machine with the server being measured. Responses are
// scanned at the top level only (resources are counted, never decoded).
import { concat, lengthDelimited, stringField } from "@ts-control-plane/xds";

/** The top-level fields of a DiscoveryResponse a SotW client needs to ACK it. */
export interface ResponseHeader {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  /** How many resources it carries. */
  readonly resources: number;
}

const utf8 = new TextDecoder();

/** Reads a varint at pos; returns [value, next position]. Lengths and tags here fit in 2^53. Throws when truncated or over 10 bytes. */
export function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error("truncated varint");
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
  throw new Error("varint too long");
}

/** Scans a DiscoveryResponse: version_info (1), resources (2, counted), type_url (4), nonce (5). */
export function scanResponse(buf: Uint8Array): ResponseHeader {
  let versionInfo = "";
  let typeUrl = "";
  let nonce = "";
  let resources = 0;
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    pos = afterTag;
    if (wire === 0) {
      pos = readVarint(buf, pos)[1];
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else if (wire === 2) {
      const [length, start] = readVarint(buf, pos);
      pos = start + length;
      if (pos > buf.length) throw new Error("truncated field");
      if (field === 1) versionInfo = utf8.decode(buf.subarray(start, pos));
      else if (field === 2) resources++;
      else if (field === 4) typeUrl = utf8.decode(buf.subarray(start, pos));
      else if (field === 5) nonce = utf8.decode(buf.subarray(start, pos));
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return { versionInfo, typeUrl, nonce, resources };
}

/** DiscoveryRequest.node (2) = Node { id (1), cluster (2) }. */
export function encodeNode(options: { id: string; cluster: string }): Uint8Array {
  return lengthDelimited(2, concat([stringField(1, options.id), stringField(2, options.cluster)]));
}

/** DiscoveryRequest.resource_names (3), encoded once and reused by every request and ACK of a stream. */
export function encodeResourceNames(names: readonly string[]): Uint8Array {
  return concat(names.map((n) => stringField(3, n)));
}

/** A DiscoveryRequest from parts: node and names come pre-encoded. */
export function encodeRequest(options: {
  typeUrl: string;
  versionInfo?: string;
  responseNonce?: string;
  node?: Uint8Array;
  resourceNames?: Uint8Array;
}): Buffer {
  return concat([
    stringField(1, options.versionInfo ?? ""),
    options.node ?? new Uint8Array(0),
    options.resourceNames ?? new Uint8Array(0),
    stringField(4, options.typeUrl),
    stringField(5, options.responseNonce ?? ""),
  ]);
}
