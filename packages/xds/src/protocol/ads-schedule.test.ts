// The ordering rules of docs/xds-protocol.md § Ordering, driven
// synchronously: the policy has no I/O and no timers, time is an argument.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";
import { encodeResource } from "../resource/encoded-resource.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { AdsSchedule, defaultWarmingTimeoutMs, endpointsToAwait } from "./ads-schedule.ts";

const { Cluster: CDS, Endpoint: EDS, Listener: LDS, Route: RDS, Secret: SDS, Runtime: RTDS } = TypeUrl;

const ads = (warmingTimeoutMs = 1000): AdsSchedule => new AdsSchedule({ ads: true, warmingTimeoutMs });

/** Takes every type the policy lets go now, in the order it gives them. */
function drain(s: AdsSchedule, onEach: (typeUrl: string) => void = () => {}): string[] {
  const out: string[] = [];
  for (let t = s.next(); t !== undefined; t = s.next()) {
    out.push(t);
    onEach(t);
  }
  return out;
}

function subscribed(s: AdsSchedule, ...typeUrls: string[]): AdsSchedule {
  for (const t of typeUrls) s.requested(t);
  drain(s);
  return s;
}

test("push order: CDS, EDS, LDS, RDS, then the rest, whatever order they were asked in", () => {
  const s = ads();
  for (const t of [RTDS, RDS, SDS, LDS, EDS, CDS]) s.requested(t);
  assert.deepEqual(drain(s), [CDS, EDS, LDS, RDS, SDS, RTDS]);
  assert.equal(s.pending, false);
});

test("a cache change makes due only the types the client subscribed to; a type due twice goes once", () => {
  const s = subscribed(ads(), LDS, CDS);
  s.changed([RDS, LDS, CDS, EDS]);
  s.changed([LDS]);
  assert.deepEqual(drain(s), [CDS, LDS]);
});

test("rekey makes every subscribed type due", () => {
  const s = subscribed(ads(), RDS, EDS, CDS, LDS);
  s.rekeyed();
  assert.deepEqual(drain(s), [CDS, EDS, LDS, RDS]);
});

test("deferred removals: a type's removals wait until the later types were sent, then go in a pass that does not defer again", () => {
  const s = subscribed(ads(), CDS, EDS, LDS, RDS);
  s.changed([CDS, EDS, LDS, RDS]);
  const log: string[] = [];
  drain(s, (t) => {
    const hold = s.holdRemovals(t);
    log.push(`${t === CDS ? "CDS" : t === EDS ? "EDS" : t === LDS ? "LDS" : "RDS"}${hold ? " keeps" : " removes"}`);
    // CDS and LDS have removals the client holds: kept back while later types are due.
    if (hold && (t === CDS || t === LDS)) s.heldRemovals(t);
  });
  assert.deepEqual(log, ["CDS keeps", "EDS keeps", "LDS keeps", "RDS removes", "CDS removes", "LDS removes"]);
});

test("nothing later due: removals go out at once", () => {
  const s = subscribed(ads(), CDS, LDS);
  s.changed([LDS]);
  assert.equal(s.next(), LDS);
  assert.equal(s.holdRemovals(LDS), false);
});

test("gate: after CDS, listeners and routes wait for the new clusters' endpoints; endpoints go at once", () => {
  const s = subscribed(ads(), CDS, EDS, LDS, RDS);
  s.changed([CDS, RDS]);
  assert.equal(s.next(), CDS);
  s.clustersSent(["c2", "c3"], 0);
  assert.equal(s.gateClosed, true);
  assert.equal(s.deadline, 1000);
  assert.equal(s.next(), undefined, "RDS is held");
  assert.equal(s.pending, true);
  // Envoy asks for c2 and c3 while warming them (before it ACKs the clusters).
  s.requested(EDS);
  assert.equal(s.next(), EDS);
  s.endpointsSent(["c2", "unrelated"]);
  assert.equal(s.next(), undefined, "c3 is still awaited");
  s.requested(EDS);
  assert.equal(s.next(), EDS);
  s.endpointsSent(["c3"]);
  assert.equal(s.gateClosed, false);
  assert.equal(s.deadline, undefined);
  assert.deepEqual(drain(s), [RDS]);
});

test("gate: an endpoint reported removed counts as delivered", () => {
  const s = subscribed(ads(), CDS, EDS, RDS);
  s.clustersSent(["c2"], 0);
  s.endpointsSent(["c2"]);
  assert.equal(s.gateClosed, false);
});

test("gate: a CDS NACK opens it (rejected clusters never ask for endpoints); other NACKs do not", () => {
  const s = subscribed(ads(), CDS, EDS, LDS);
  s.changed([CDS, LDS]);
  assert.equal(s.next(), CDS);
  s.clustersSent(["c2"], 0);
  s.nacked(EDS);
  s.nacked(LDS);
  assert.equal(s.next(), undefined);
  s.nacked(CDS);
  assert.deepEqual(drain(s), [LDS]);
});

test("gate: it opens by itself at the deadline, fed by tick(now); a second CDS keeps the first deadline", () => {
  const s = subscribed(ads(500), CDS, EDS, LDS);
  s.changed([CDS, LDS]);
  assert.equal(s.next(), CDS);
  s.clustersSent(["c2"], 1000);
  assert.equal(s.deadline, 1500);
  s.clustersSent(["c3"], 1200);
  assert.equal(s.deadline, 1500, "a client that keeps changing clusters is not held forever");
  s.tick(1499);
  assert.equal(s.next(), undefined);
  s.tick(1500);
  assert.equal(s.gateClosed, false);
  assert.deepEqual(drain(s), [LDS]);
});

test("gate: a client that takes no EDS on the stream (nothing awaited) is not held", () => {
  const s = subscribed(ads(), CDS, LDS);
  s.changed([CDS, LDS]);
  assert.equal(s.next(), CDS);
  s.clustersSent([], 0);
  assert.equal(s.gateClosed, false);
  assert.equal(s.deadline, undefined);
  assert.deepEqual(drain(s), [LDS]);
});

test("gate: while it is closed, removals stay deferred, even with nothing else due, until it opens", () => {
  const s = subscribed(ads(), CDS, EDS, LDS);
  s.changed([CDS]);
  assert.equal(s.next(), CDS);
  s.clustersSent(["c2"], 0);
  s.changed([EDS]);
  assert.equal(s.next(), EDS);
  assert.equal(s.holdRemovals(EDS), true, "the gate is closed");
  s.heldRemovals(EDS);
  s.endpointsSent(["other"]);
  assert.equal(s.next(), undefined, "deferred removals wait for the gate");
  s.tick(1000);
  assert.equal(s.next(), EDS);
  assert.equal(s.holdRemovals(EDS), false, "the released pass removes");
});

test("per-type streams are never gated and never defer removals", () => {
  const s = new AdsSchedule({ ads: false, warmingTimeoutMs: 1000 });
  s.requested(RDS);
  s.requested(CDS);
  assert.equal(s.next(), CDS);
  s.clustersSent(["c2"], 0);
  assert.equal(s.gateClosed, false);
  assert.equal(s.deadline, undefined);
  assert.equal(s.next(), RDS);
  assert.equal(s.holdRemovals(RDS), false);
});

test("heartbeats: in push order, on the type's own turn, behind nothing and beside nothing; consumed once", () => {
  const s = subscribed(ads(), CDS, EDS, LDS, RDS);
  s.changed([LDS]); // an update already queued
  s.heartbeat([RDS, CDS, SDS]); // SDS is not subscribed: ignored
  const log: string[] = [];
  drain(s, (t) => log.push(`${t}:${s.takeHeartbeat(t)}`));
  assert.deepEqual(log, [`${CDS}:true`, `${LDS}:false`, `${RDS}:true`]);
  assert.equal(s.takeHeartbeat(CDS), false);
});

test("heartbeats wait behind the gate like any later type", () => {
  const s = subscribed(ads(), CDS, EDS, RDS);
  s.clustersSent(["c2"], 0);
  s.heartbeat([RDS, EDS]);
  assert.deepEqual(drain(s), [EDS]);
  s.endpointsSent(["c2"]);
  assert.deepEqual(drain(s), [RDS]);
  assert.equal(s.takeHeartbeat(RDS), true);
});

test("clear forgets everything, the gate included", () => {
  const s = subscribed(ads(), CDS, LDS);
  s.clustersSent(["c2"], 0);
  s.changed([LDS]);
  s.clear();
  assert.equal(s.gateClosed, false);
  assert.equal(s.pending, false);
  s.changed([LDS]);
  assert.equal(s.next(), undefined, "LDS is no longer subscribed");
});

test("a warming timeout that is negative or not a number is misuse; the default is 5 s", () => {
  assert.equal(defaultWarmingTimeoutMs, 5000);
  for (const warmingTimeoutMs of [-1, Number.NaN]) {
    assert.throws(() => new AdsSchedule({ ads: true, warmingTimeoutMs }), (e: unknown) => e instanceof XdsError && e.code === "invalid_argument");
  }
});

test("endpoints to await: referenced by the clusters, present in the cache, not held at that version", () => {
  const clusters = [encodeResource(ClusterSchema, edsCluster("c1")), encodeResource(ClusterSchema, edsCluster("c2", { serviceName: "svc2" })), encodeResource(ClusterSchema, edsCluster("c3"))];
  const cla = (n: string, port = 1) => encodeResource(ClusterLoadAssignmentSchema, endpoints(n, [port]));
  const available = new Map([
    ["c1", cla("c1")],
    ["svc2", cla("svc2")],
  ]);
  assert.deepEqual(endpointsToAwait(clusters, available, new Map()), ["c1", "svc2"], "c3 has no endpoints in the cache: nothing to wait for");
  assert.deepEqual(endpointsToAwait(clusters, available, new Map([["c1", cla("c1").version]])), ["svc2"]);
  assert.deepEqual(endpointsToAwait(clusters, available, new Map([["c1", cla("c1", 2).version]])), ["c1", "svc2"], "an old version is awaited again");
  assert.deepEqual(endpointsToAwait(clusters, undefined, new Map()), [], "no endpoints in the cache at all");
});
