import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import type { XdsPeerCertificate } from "@ts-control-plane/xds";
import { compile, matchNodeGroup } from "../compile.ts";
import type { ModelObject } from "../model/model-object.ts";
import { authorizeNodeGroup } from "./authorize-node-group.ts";
import { NodeRefusals } from "./node-refusals.ts";

const o = (kind: string, name: string, spec: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind, metadata: { name }, spec });
const peer = (identity: string): XdsPeerCertificate => ({ commonName: "", uriSans: [], dnsSans: [], fingerprint256: "AA:BB", identity });
const node = (id: string, cluster: string) => create(NodeSchema, { id, cluster });

test("NodeGroup identities: sorted and deduplicated into the compiled group; malformed ones are diagnostics with path and fix", () => {
  const ok = compile([o("NodeGroup", "edge", { selector: { clusters: ["edge"] }, identities: ["spiffe://example.org/ns/edge/sa/envoy", "dns:edge.example.org", "dns:edge.example.org", "cn:edge"] })]);
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.groups.find((g) => g.name === "edge")?.identities, ["cn:edge", "dns:edge.example.org", "spiffe://example.org/ns/edge/sa/envoy"]);
  const bad = compile([o("NodeGroup", "edge", { selector: {}, identities: ["edge.example.org", "dns:", "cn:", 3] })]);
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.path, d.code]),
    [
      ["spec.identities[0]", "nodeGroup.identity"],
      ["spec.identities[1]", "nodeGroup.identity"],
      ["spec.identities[2]", "nodeGroup.identity"],
      ["spec.identities[3]", "schema.type"],
    ],
    "every bad item is reported at once",
  );
  const bad2 = compile([o("NodeGroup", "edge", { selector: {}, identities: ["edge.example.org", "dns:", "cn:"] })]);
  assert.deepEqual(bad2.diagnostics.map((d) => [d.object, d.path, d.code]), [
    ["NodeGroup/edge", "spec.identities[0]", "nodeGroup.identity"],
    ["NodeGroup/edge", "spec.identities[1]", "nodeGroup.identity"],
    ["NodeGroup/edge", "spec.identities[2]", "nodeGroup.identity"],
  ]);
  assert.match(bad2.diagnostics[0]?.hint ?? "", /spiffe:\/\/example\.org\/ns\/edge\/sa\/envoy/);
  assert.equal(compile([o("NodeGroup", "edge", { selector: {}, identities: [] })]).diagnostics[0]?.path, "spec.identities");
  assert.equal(compile([o("NodeGroup", "edge", { selector: {}, identitys: ["x://y"] })]).diagnostics[0]?.path, "spec.identitys", "strict keys");
});

test("authorize: with a verified certificate only a group's identities may connect as it; refusals are logged and recorded per node", () => {
  const result = compile([
    o("NodeGroup", "edge", { selector: { clusters: ["edge"] }, identities: ["spiffe://example.org/ns/edge/sa/envoy"] }),
    o("NodeGroup", "open", { selector: { clusters: ["open"] } }),
  ]);
  const refusals = new NodeRefusals({ max: 2 });
  const lines: string[] = [];
  const authorize = authorizeNodeGroup({ groups: () => result.groups, groupOf: (n) => matchNodeGroup(result.groups, { id: n.id, cluster: n.cluster }), refusals, log: (l) => lines.push(l) });
  assert.deepEqual(authorize(node("e1", "edge"), peer("spiffe://example.org/ns/edge/sa/envoy")), { allowed: true });
  assert.deepEqual(authorize(node("e1", "edge"), undefined), { allowed: true }, "no mTLS: nothing to check");
  assert.deepEqual(authorize(node("o1", "open"), peer("dns:anything")), { allowed: true }, "a group without identities takes any verified certificate");
  assert.deepEqual(authorize(node("x1", "nowhere"), peer("dns:anything")), { allowed: true }, "a node of no group gets nothing anyway");
  const refused = authorize(node("e2", "edge"), peer("dns:other.example.org"));
  assert.equal(refused.allowed, false);
  assert.match(refused.allowed ? "" : refused.reason, /^identity "dns:other\.example\.org" may not connect as node "e2" of node group "edge": add it to the NodeGroup's spec\.identities/);
  authorize(node("e2", "edge"), peer("dns:other.example.org"));
  assert.deepEqual(
    refusals.list().map((r) => [r.nodeId, r.cluster, r.group, r.identity, r.fingerprint256, r.count]),
    [["e2", "edge", "edge", "dns:other.example.org", "AA:BB", 2]],
  );
  assert.match(lines[1] ?? "", /xDS refused node e2 \(cluster "edge", certificate AA:BB\), 2 time\(s\)/);
  // Bounded, oldest first out; an allowed node leaves the record.
  authorize(node("e3", "edge"), peer(""));
  authorize(node("e4", "edge"), peer(""));
  assert.deepEqual(refusals.list().map((r) => r.nodeId), ["e3", "e4"]);
  assert.match(refusals.list()[0]?.reason ?? "", /^a certificate with no URI SAN, DNS SAN or CN may not/);
  authorize(node("e4", "edge"), peer("spiffe://example.org/ns/edge/sa/envoy"));
  assert.deepEqual(refusals.list().map((r) => r.nodeId), ["e3"]);
});
