import assert from "node:assert/strict";
import { it } from "node:test";
import { RolloutError } from "./rollout.ts";
import { parseRolloutSpec } from "./rollout-spec.ts";

it("reads rollout options with defaults, and refuses bad ones naming the fix", () => {
  assert.equal(parseRolloutSpec({}), undefined);
  assert.deepEqual(parseRolloutSpec({ canary: "10%" }), { canary: { share: 10 }, bakeMs: 60_000, ackTimeoutMs: 30_000, manualPromote: false, max5xxIncrease: 0.05, minRequests: 20, maxConnectFailIncrease: 0.05 });
  assert.deepEqual(parseRolloutSpec({ canaryGroup: "canary", bake: "2s", ackTimeout: "500ms", manualPromote: true, max5xxIncrease: "1.5%", minRequests: "100", maxConnectFailIncrease: "20%" }), {
    canary: { group: "canary" },
    bakeMs: 2000,
    ackTimeoutMs: 500,
    manualPromote: true,
    max5xxIncrease: 0.015,
    minRequests: 100,
    maxConnectFailIncrease: 0.2,
  });
  assert.deepEqual(parseRolloutSpec({ canary: "10%,50%" })?.canary, { share: 10, next: [50] }, "stages: 10%, then 50%, then all");
  assert.deepEqual(parseRolloutSpec({ canary: "5, 25%,100" })?.canary, { share: 5, next: [25, 100] });
  assert.deepEqual(parseRolloutSpec({ canary: "25", bake: "90" })?.bakeMs, 90_000, "plain numbers are seconds");
  const refused = (input: Parameters<typeof parseRolloutSpec>[0], message: RegExp) =>
    assert.throws(() => parseRolloutSpec(input), (e: unknown) => e instanceof RolloutError && e.code === "rollout_invalid" && message.test(e.message));
  refused({ canary: "0%" }, /from 1% to 100%/);
  refused({ canary: "150%" }, /from 1% to 100%/);
  refused({ canary: "ten" }, /such as 10%/);
  refused({ canary: "10%", canaryGroup: "g" }, /not both/);
  refused({ canary: "10%", bake: "soon" }, /bake takes a duration/);
  refused({ bake: "60s" }, /add a canary/);
  refused({ canary: "10%", max5xxIncrease: "5" }, /such as 5%/);
  refused({ canary: "10%", minRequests: "0" }, /from 1, such as 20/);
  refused({ canary: "10%", maxConnectFailIncrease: "0.05" }, /max connect fail increase takes percentage points/);
  refused({ maxConnectFailIncrease: "5%" }, /add a canary/);
  refused({ canary: "50%,10%" }, /stages must grow/);
  refused({ canary: "10%,10%" }, /stages must grow/);
  refused({ canary: "10%,," }, /or stages such as 10%,50%/);
});
