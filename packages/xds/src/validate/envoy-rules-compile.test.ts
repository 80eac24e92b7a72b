import { test } from "node:test";
import assert from "node:assert/strict";
import { create, type DescMessage } from "@bufbuild/protobuf";
import { envoyRegistry } from "../resource/envoy-registry.ts";
import { messagePlan } from "./message-plan.ts";
import { validateMessage } from "./validate-message.ts";

test("every message type of the Envoy API compiles its rules, and an empty one validates", (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  let types = 0;
  let withSteps = 0;
  for (const desc of envoyRegistry()) {
    if (desc.kind !== "message") continue;
    types++;
    if (messagePlan(desc).steps.length > 0) withSteps++;
    // Must not throw, whatever the type; an empty message may well break rules.
    validateMessage(desc as DescMessage, create(desc as DescMessage));
  }
  process.off("warning", onWarning);
  assert.ok(types > 1000, `only ${types} message types`);
  t.diagnostic(`${types} message types, ${withSteps} with checks`);
  assert.ok(withSteps > 500, `only ${withSteps} types have checks`);
  assert.deepEqual(warnings, []);
});
