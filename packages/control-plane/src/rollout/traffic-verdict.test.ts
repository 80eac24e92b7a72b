import assert from "node:assert/strict";
import { it } from "node:test";
import { trafficVerdict } from "./traffic-verdict.ts";

const judge = (canary: [number, number], baseline: [number, number]) =>
  trafficVerdict({
    canary: { requests: canary[0], errors5xx: canary[1], connects: 0, connectFailures: 0 },
    baseline: { requests: baseline[0], errors5xx: baseline[1], connects: 0, connectFailures: 0 },
    max5xxIncrease: 0.05,
    maxConnectFailIncrease: 0.05,
    minRequests: 20,
    fromRevision: 3,
  });

it("fails the canary when its 5xx share is more than the allowed points above the baseline's, once it served enough requests", () => {
  assert.equal(judge([19, 19], [100, 0]), undefined, "too few canary requests to say");
  assert.equal(judge([100, 5], [100, 0]), undefined, "5 points worse is allowed");
  assert.equal(judge([100, 12], [100, 8]), undefined, "worse by 4 points of a bad baseline");
  assert.equal(judge([100, 6], [100, 0]), "canary 5xx share 6.0% (6 of 100 requests) against 0.0% (0 of 100) on the proxies still on revision 3: more than 5.0% worse");
  assert.match(judge([40, 40], [0, 0]) ?? "", /^canary 5xx share 100\.0% \(40 of 40 requests\) against 0\.0% \(0 of 0\)/, "no baseline traffic: a clean baseline");
});

// Counts as a canary Envoy pushed them over the metrics service while its new cluster pointed at a
// closed port (cluster.<name>.upstream_cx_total / upstream_cx_connect_fail), since the bake started.
const closedPortCanary = { requests: 0, errors5xx: 0, connects: 31, connectFailures: 31 };
const healthyBaseline = { requests: 0, errors5xx: 0, connects: 64, connectFailures: 1 };

it("fails the canary on its share of failed upstream connection attempts against the baseline's, with its own threshold", () => {
  const verdict = (canary: typeof closedPortCanary, maxConnectFailIncrease: number, minRequests = 20) =>
    trafficVerdict({ canary, baseline: healthyBaseline, max5xxIncrease: 0.05, maxConnectFailIncrease, minRequests, fromRevision: 7 });
  assert.equal(
    verdict(closedPortCanary, 0.05),
    "canary upstream connect failure share 100.0% (31 of 31 connection attempts) against 1.6% (1 of 64) on the proxies still on revision 7: more than 5.0% worse",
    "a TCP proxy's canary: no requests, every connection refused",
  );
  assert.equal(verdict(closedPortCanary, 1), undefined, "100% allowed: the signal is off");
  assert.equal(verdict(closedPortCanary, 0.05, 40), undefined, "too few connection attempts to say");
  assert.equal(verdict({ ...closedPortCanary, connectFailures: 4 }, 0.15), undefined, "12.9% - 1.6% = 11.3 points is within 15");
  assert.equal(verdict({ ...closedPortCanary, connectFailures: 4 }, 0.1), "canary upstream connect failure share 12.9% (4 of 31 connection attempts) against 1.6% (1 of 64) on the proxies still on revision 7: more than 10.0% worse");
  // An HTTP canary routed to a closed port breaks both: both are told.
  const both = trafficVerdict({ canary: { ...closedPortCanary, requests: 31, errors5xx: 31 }, baseline: { ...healthyBaseline, requests: 64 }, max5xxIncrease: 0.05, maxConnectFailIncrease: 0.05, minRequests: 20, fromRevision: 7 });
  assert.match(both ?? "", /^canary 5xx share 100\.0% \(31 of 31 requests\) against 0\.0% \(0 of 64\) on the proxies still on revision 7: more than 5\.0% worse; canary upstream connect failure share 100\.0%/);
});
