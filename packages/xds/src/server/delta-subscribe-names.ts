import type { EncodedResource } from "../resource/encoded-resource.ts";
import { readVarint } from "../resource/read-varint.ts";

/** DeltaDiscoveryRequest.resource_names_subscribe. */
const subscribeField = 3;
/** Below this many bytes of names, decoding them as usual costs less than looking them up. */
const minSharedBytes = 4096;
/** How many distinct name lists are remembered (a fleet has few: one per kind of proxy). */
const remembered = 4;

/** A request's bytes with its subscribed names taken out. */
export interface SplitRequest {
  /** The request without resource_names_subscribe, to decode as usual. */
  readonly rest: Uint8Array;
  /** The resource_names_subscribe fields, as on the wire. */
  readonly names: Buffer;
}

interface Entry {
  readonly bytes: Buffer;
  readonly known: ReadonlyMap<string, EncodedResource> | undefined;
  readonly names: readonly string[];
}

const utf8 = new TextDecoder();

/**
 * The subscribed names of large Delta requests, decoded once per distinct
 * list (issue 15 item 1). 1,000 Envoys reconnecting send the same 10,000
 * names byte for byte; decoding and re-interning them cost each stream about
 * 3 ms and most of the sync's garbage. A request whose names fields are the
 * same bytes as a remembered one gets that one's array (the very strings the
 * cache holds, so streams also share their subscription's set,
 * delta-subscription.ts). Small or malformed requests are decoded as usual.
 */
export class DeltaSubscribeNames {
  readonly #entries: Entry[] = [];

  /** The request without its names, when they are many; undefined otherwise (decode it whole). */
  split(bytes: Uint8Array): SplitRequest | undefined {
    const ranges = subscribeRanges(bytes);
    if (ranges === undefined) return undefined;
    let size = 0;
    for (const [start, end] of ranges) size += end - start;
    if (size < minSharedBytes) return undefined;
    const names = Buffer.allocUnsafe(size);
    const rest = Buffer.allocUnsafe(bytes.length - size);
    let at = 0;
    let restAt = 0;
    let from = 0;
    for (const [start, end] of ranges) {
      rest.set(bytes.subarray(from, start), restAt);
      restAt += start - from;
      names.set(bytes.subarray(start, end), at);
      at += end - start;
      from = end;
    }
    rest.set(bytes.subarray(from), restAt);
    return { rest, names };
  }

  /** The names of a split request, as the cache's own strings where it has them; a remembered list when the bytes are the same. */
  names(split: SplitRequest, known: ReadonlyMap<string, EncodedResource> | undefined): readonly string[] {
    const hit = this.#entries.find((e) => e.known === known && e.bytes.equals(split.names));
    if (hit) return hit.names;
    const names = decodeNames(split.names, known);
    this.#entries.unshift({ bytes: split.names, known, names });
    if (this.#entries.length > remembered) this.#entries.pop();
    return names;
  }
}

/**
 * The byte ranges (tags included) of the top-level field-3 occurrences of a
 * message, adjacent ones merged (a request lists its names in one run);
 * undefined when it is not well formed. Reads varints inline: this runs over
 * 10,000 names per request.
 */
function subscribeRanges(bytes: Uint8Array): Array<[number, number]> | undefined {
  const ranges: Array<[number, number]> = [];
  let pos = 0;
  const n = bytes.length;
  while (pos < n) {
    const start = pos;
    let tag = 0;
    let scale = 1;
    for (;;) {
      if (pos >= n || scale > 2 ** 28) return undefined;
      const b = bytes[pos++] as number;
      tag += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    const wire = tag & 7;
    if (wire === 0) {
      for (let i = 0; ; i++) {
        if (pos >= n || i >= 10) return undefined;
        if ((bytes[pos++] as number) < 0x80) break;
      }
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 2) {
      let length = 0;
      scale = 1;
      for (;;) {
        if (pos >= n || scale > 2 ** 28) return undefined;
        const b = bytes[pos++] as number;
        length += (b & 0x7f) * scale;
        if (b < 0x80) break;
        scale *= 128;
      }
      pos += length;
    } else if (wire === 5) {
      pos += 4;
    } else {
      return undefined;
    }
    if (pos > n) return undefined;
    if (tag === (subscribeField << 3) + 2) {
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last[1] === start) last[1] = pos;
      else ranges.push([start, pos]);
    }
  }
  return ranges;
}

/** The strings of a run of field-3 occurrences (checked well formed by subscribeRanges), mapped to the cache's own strings. */
function decodeNames(region: Uint8Array, known: ReadonlyMap<string, EncodedResource> | undefined): string[] {
  const names: string[] = [];
  let pos = 0;
  while (pos < region.length) {
    const tag = readVarint(region, pos);
    const length = tag && readVarint(region, tag.end);
    if (!length) break;
    const end = length.end + length.value;
    const name = utf8.decode(region.subarray(length.end, end));
    names.push(known?.get(name)?.name ?? name);
    pos = end;
  }
  return names;
}

/** The process's one instance: streams of every server share what they decoded. */
export const deltaSubscribeNames: DeltaSubscribeNames = new DeltaSubscribeNames();
