import type { DescMessage, Message } from "@bufbuild/protobuf";
import { type CheckContext, isFull } from "./check-context.ts";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import { messagePlan } from "./message-plan.ts";
import type { ValidateOptions, Violation } from "./violation.ts";

export type { ValidateOptions, Violation } from "./violation.ts";

function validateNested(desc: DescMessage, message: unknown, ctx: CheckContext): void {
  const { steps } = messagePlan(desc);
  const m = message as Record<string, unknown>;
  for (let i = 0; i < steps.length; i++) {
    steps[i]!(m, ctx);
    if (isFull(ctx)) return;
  }
}

/**
 * Checks a message against the protoc-gen-validate rules in its .proto files,
 * the checks Envoy runs on every resource it receives (and NACKs on failure).
 * Descends into sub-messages, list and map values, and the contents of
 * `google.protobuf.Any` fields. Pure: the same message always gives the same
 * violations, in field order. An empty array means Envoy's PGV checks pass.
 */
export function validateMessage(schema: DescMessage, message: Message, options: ValidateOptions = {}): Violation[] {
  const out: Violation[] = [];
  const registry = options.registry;
  const ctx: CheckContext = {
    path: [],
    out,
    max: options.maxViolations ?? Number.POSITIVE_INFINITY,
    nowMs: options.nowMs ?? Date.now(),
    reportUnknownAny: options.unknownAnyTypes !== "ignore",
    registry: registry === undefined ? envoyRegistry : () => registry,
    validateNested,
  };
  if (ctx.max > 0) validateNested(schema, message, ctx);
  return out;
}
