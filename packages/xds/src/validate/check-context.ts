import type { DescMessage, Registry } from "@bufbuild/protobuf";
import type { Violation } from "./violation.ts";

/**
 * The walk's mutable state. The path is a stack of segments joined only when a
 * violation is reported, so a valid resource costs no string building.
 * Segments: a field name, a list index (number), or a pre-formatted map key
 * ("[\"key\"]").
 */
export interface CheckContext {
  readonly path: (string | number)[];
  readonly out: Violation[];
  readonly max: number;
  readonly nowMs: number;
  /** Report Anys of unknown types (else skip them). */
  readonly reportUnknownAny: boolean;
  /** The registry for Any contents; resolved on first use. */
  readonly registry: () => Registry;
  /** Validates a sub-message at the current path (set by validate-message.ts). */
  readonly validateNested: (desc: DescMessage, message: unknown, ctx: CheckContext) => void;
}

/** Checks one present value at the context's current path. */
export type Check = (value: unknown, ctx: CheckContext) => void;

export function joinPath(segments: readonly (string | number)[]): string {
  let s = "";
  for (const seg of segments) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (seg.startsWith("[")) s += seg;
    else s += s === "" ? seg : "." + seg;
  }
  return s;
}

export function report(ctx: CheckContext, rule: string, message: string): void {
  if (ctx.out.length >= ctx.max) return;
  ctx.out.push({ path: joinPath(ctx.path), rule, message });
}

export function isFull(ctx: CheckContext): boolean {
  return ctx.out.length >= ctx.max;
}

/** Runs checks in order; undefined when there are none, so callers can skip the field. */
export function allOf(checks: readonly (Check | undefined)[]): Check | undefined {
  const list = checks.filter((c): c is Check => c !== undefined);
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  return (value, ctx) => {
    for (const c of list) c(value, ctx);
  };
}
