import assert from "node:assert/strict";
import { it } from "node:test";
import { trafficVerdict } from "./traffic-verdict.ts";

const judge = (canary: [number, number], baseline: [number, number]) =>
  trafficVerdict({ canary: { requests: canary[0], errors5xx: canary[1] }, baseline: { requests: baseline[0], errors5xx: baseline[1] }, max5xxIncrease: 0.05, minRequests: 20, fromRevision: 3 });

it("fails the canary when its 5xx share is more than the allowed points above the baseline's, once it served enough requests", () => {
  assert.equal(judge([19, 19], [100, 0]), undefined, "too few canary requests to say");
  assert.equal(judge([100, 5], [100, 0]), undefined, "5 points worse is allowed");
  assert.equal(judge([100, 12], [100, 8]), undefined, "worse by 4 points of a bad baseline");
  assert.equal(judge([100, 6], [100, 0]), "canary 5xx share 6.0% (6 of 100 requests) against 0.0% (0 of 100) on the proxies still on revision 3: more than 5.0% worse");
  assert.match(judge([40, 40], [0, 0]) ?? "", /^canary 5xx share 100\.0% \(40 of 40 requests\) against 0\.0% \(0 of 0\)/, "no baseline traffic: a clean baseline");
});
