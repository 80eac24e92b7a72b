import { equals, ScalarType, type DescMessage, type Message } from "@bufbuild/protobuf";
import type { MapRules, RepeatedRules } from "@ts-control-plane/envoy-api/validate/validate_pb";
import { type Check, isFull, report } from "./check-context.ts";

interface Count {
  readonly min: number | undefined;
  readonly max: number | undefined;
}

/** Item and pair counts, worded as PGV does ("value must contain at least 1 item(s)"). */
function countCheck(family: string, noun: string, nouns: string, minRule: string, maxRule: string, { min, max }: Count): ((n: number, ctx: Parameters<Check>[1]) => void) | undefined {
  if (min !== undefined && max !== undefined && min === max) {
    const text = `value must contain exactly ${min} ${noun}(s)`;
    return (n, ctx) => {
      if (n !== min) report(ctx, `${family}.${n < min ? minRule : maxRule}`, text);
    };
  }
  if (min !== undefined && max !== undefined) {
    const text = `value must contain between ${min} and ${max} ${nouns}, inclusive`;
    return (n, ctx) => {
      if (n < min) report(ctx, `${family}.${minRule}`, text);
      else if (n > max) report(ctx, `${family}.${maxRule}`, text);
    };
  }
  if (min !== undefined) {
    const text = `value must contain at least ${min} ${noun}(s)`;
    return (n, ctx) => {
      if (n < min) report(ctx, `${family}.${minRule}`, text);
    };
  }
  if (max !== undefined) {
    const text = `value must contain no more than ${max} ${noun}(s)`;
    return (n, ctx) => {
      if (n > max) report(ctx, `${family}.${maxRule}`, text);
    };
  }
  return undefined;
}

// min_items/max_items are proto2 optionals whose zero means "no bound" in PGV's templates.
const bound = (n: bigint): number | undefined => (n > 0n ? Number(n) : undefined);

/** Identity for `unique` on scalars: bytes by content, everything else by value. */
const scalarKey = (v: unknown): unknown => (v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v);

/**
 * RepeatedRules plus the per-item check, as one check on the array. Items are
 * visited at `field[i]`.
 */
export function compileRepeated(r: RepeatedRules | undefined, item: Check | undefined, elementMessage: DescMessage | undefined): Check | undefined {
  const count = r === undefined ? undefined : countCheck("repeated", "item", "items", "min_items", "max_items", { min: bound(r.minItems), max: bound(r.maxItems) });
  const unique = r?.unique === true;
  const ignoreEmpty = r?.ignoreEmpty === true;
  if (count === undefined && !unique && item === undefined) return undefined;
  return (value, ctx) => {
    const list = value as readonly unknown[];
    if (ignoreEmpty && list.length === 0) return;
    count?.(list.length, ctx);
    if (unique) checkUnique(list, elementMessage, ctx);
    if (item === undefined) return;
    for (let i = 0; i < list.length && !isFull(ctx); i++) {
      ctx.path.push(i);
      item(list[i], ctx);
      ctx.path.pop();
    }
  };
}

function checkUnique(list: readonly unknown[], elementMessage: DescMessage | undefined, ctx: Parameters<Check>[1]): void {
  const dup = (i: number): void => {
    ctx.path.push(i);
    report(ctx, "repeated.unique", "repeated value must contain unique items");
    ctx.path.pop();
  };
  if (elementMessage !== undefined) {
    for (let i = 1; i < list.length; i++) {
      for (let j = 0; j < i; j++) {
        if (equals(elementMessage, list[i] as Message, list[j] as Message)) {
          dup(i);
          break;
        }
      }
    }
    return;
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < list.length; i++) {
    const k = scalarKey(list[i]);
    if (seen.has(k)) dup(i);
    else seen.add(k);
  }
}

/** protobuf-es keeps map keys as object keys (strings); key rules need the typed value. */
function typedKey(scalar: ScalarType): (k: string) => unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return (k) => k;
    case ScalarType.BOOL:
      return (k) => k === "true";
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return (k) => BigInt(k);
    default:
      return (k) => Number(k);
  }
}

/**
 * MapRules plus key and value checks, as one check on the map object. Entries are
 * visited at `field["key"]`, in key order so the report is stable.
 */
export function compileMap(r: MapRules | undefined, keyScalar: ScalarType, key: Check | undefined, value: Check | undefined): Check | undefined {
  const count = r === undefined ? undefined : countCheck("map", "pair", "pairs", "min_pairs", "max_pairs", { min: bound(r.minPairs), max: bound(r.maxPairs) });
  const ignoreEmpty = r?.ignoreEmpty === true;
  const noSparse = r?.noSparse === true;
  if (count === undefined && key === undefined && value === undefined && !noSparse) return undefined;
  const toKey = typedKey(keyScalar);
  return (v, ctx) => {
    const map = v as Record<string, unknown>;
    const keys = Object.keys(map);
    if (ignoreEmpty && keys.length === 0) return;
    count?.(keys.length, ctx);
    if (key === undefined && value === undefined && !noSparse) return;
    keys.sort();
    for (const k of keys) {
      if (isFull(ctx)) return;
      ctx.path.push(`[${JSON.stringify(k)}]`);
      // Key and value violations share the entry's path, as in Envoy's messages.
      key?.(toKey(k), ctx);
      const val = map[k];
      if (val === undefined || val === null) {
        if (noSparse) report(ctx, "map.no_sparse", "value cannot be sparse, all pairs must be non-nil");
      } else value?.(val, ctx);
      ctx.path.pop();
    }
  };
}
