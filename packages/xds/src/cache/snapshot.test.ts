import { test } from "node:test";
import assert from "node:assert/strict";
import { TypeUrl } from "../resource/type-urls.ts";
import { XdsError } from "../resource/xds-error.ts";
import { edsCluster, endpoints, httpListener, route } from "../../testing/fixtures.ts";
import { createSnapshot, encodeSnapshotResource } from "./snapshot.ts";
import { create } from "@bufbuild/protobuf";
import { ClusterLoadAssignmentSchema } from "@ts-control-plane/envoy-api/envoy/config/endpoint/v3/endpoint_pb";

test("the consistency check names every dangling EDS and RDS reference", () => {
  assert.throws(
    () => createSnapshot({ resources: [edsCluster("a"), edsCluster("b", { serviceName: "b-svc" }), httpListener("l", "missing-route")] }),
    (e: unknown) => {
      assert.ok(e instanceof XdsError);
      assert.equal(e.code, "inconsistent_snapshot");
      assert.deepEqual(e.details, [
        "CDS resource 'a' references EDS resource 'a', which the snapshot does not contain",
        "CDS resource 'b' references EDS resource 'b-svc', which the snapshot does not contain",
        "LDS resource 'l' references RDS resource 'missing-route', which the snapshot does not contain",
      ]);
      return true;
    },
  );
});

test("duplicate names in one type are refused", () => {
  assert.throws(() => createSnapshot({ resources: [endpoints("a"), endpoints("a", [1])] }), (e: unknown) => e instanceof XdsError && e.code === "duplicate_resource");
});

test("versions are content hashes: same content same version, per type", () => {
  const build = (port: number) => createSnapshot({ resources: [edsCluster("c"), endpoints("c", [port]), httpListener("l", "r"), route("r", "c")] });
  const a = build(1);
  const b = build(1);
  const c = build(2);
  assert.equal(a.version, b.version);
  assert.notEqual(a.version, c.version);
  assert.equal(a.typeVersion(TypeUrl.Cluster), c.typeVersion(TypeUrl.Cluster));
  assert.notEqual(a.typeVersion(TypeUrl.Endpoint), c.typeVersion(TypeUrl.Endpoint));
});

test("a caller-given version is used for every type", () => {
  const s = createSnapshot({ version: "v7", resources: [endpoints("a")] });
  assert.equal(s.version, "v7");
  assert.equal(s.typeVersion(TypeUrl.Endpoint), "v7");
  assert.equal(s.resources(TypeUrl.Endpoint).get("a")?.name, "a");
});

test("a message object seen before is not encoded again", () => {
  const c = endpoints("a");
  const first = createSnapshot({ resources: [c] }).resources(TypeUrl.Endpoint).get("a");
  // Built before anything was encoded: no encoding to share yet, so its own lazy resource.
  const early = createSnapshot({ resources: [c] }).resources(TypeUrl.Endpoint).get("a");
  assert.ok(first !== undefined && early !== undefined);
  assert.ok(first.version !== ""); // encodes `first`
  const second = createSnapshot({ resources: [c] }).resources(TypeUrl.Endpoint).get("a");
  assert.ok(first === second, "once encoded, the same EncodedResource (same bytes) is reused");
  assert.equal(early.any, first.any, "one built earlier adopts that encoding when it needs one: the same bytes, not a second encoding");
  assert.equal(early.version, first.version);
  const fresh = createSnapshot({ resources: [endpoints("a")] }).resources(TypeUrl.Endpoint).get("a");
  assert.notEqual(fresh, first);
  assert.equal(fresh?.version, first.version, "equal content still has the equal version");
});

test("with validate, a resource Envoy's PGV rules reject fails at set time with its field path", () => {
  const bad = endpoints("a", [70000]); // port_value must be <= 65535
  assert.doesNotThrow(() => createSnapshot({ resources: [bad] }));
  assert.throws(
    () => createSnapshot({ resources: [bad], validate: true }),
    (e: unknown) => {
      assert.ok(e instanceof XdsError);
      assert.equal(e.code, "invalid_resource");
      assert.match(e.details[0] ?? "", /^EDS resource 'a': endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.port_value: /);
      return true;
    },
  );
  assert.doesNotThrow(() => createSnapshot({ resources: [endpoints("a")], validate: true }));
});

test("resources are encoded on first use: an encoding failure names the resource there, and encodeSnapshotResource encodes at once", () => {
  const big = create(ClusterLoadAssignmentSchema, { clusterName: "big", endpoints: [{ loadBalancingWeight: 2 ** 33 }] });
  const s = createSnapshot({ resources: [big] });
  assert.deepEqual([...s.resources(TypeUrl.Endpoint).keys()], ["big"], "names, duplicates and references are checked without encoding");
  const isEncodingError = (e: unknown) => e instanceof XdsError && e.code === "invalid_resource" && /ClusterLoadAssignment '(big|other)' cannot be encoded: .*invalid uint32/.test(e.message);
  assert.throws(() => s.typeVersion(TypeUrl.Endpoint), isEncodingError);
  const other = create(ClusterLoadAssignmentSchema, { clusterName: "other", endpoints: [{ loadBalancingWeight: 2 ** 33 }] });
  assert.throws(() => encodeSnapshotResource(other), isEncodingError);
});

test("with encode, every resource is encoded at once and one that cannot be is refused there, by name", () => {
  const big = create(ClusterLoadAssignmentSchema, { clusterName: "big2", endpoints: [{ loadBalancingWeight: 2 ** 33 }] });
  assert.throws(
    () => createSnapshot({ resources: [endpoints("fine"), big], encode: true }),
    (e: unknown) => {
      assert.ok(e instanceof XdsError);
      assert.equal(e.code, "invalid_resource");
      assert.equal(e.details.length, 1);
      assert.match(e.details[0] ?? "", /ClusterLoadAssignment 'big2' cannot be encoded: .*invalid uint32/);
      return true;
    },
  );
  const s = createSnapshot({ resources: [endpoints("fine")], encode: true });
  assert.equal(s.resources(TypeUrl.Endpoint).get("fine")?.version, createSnapshot({ resources: [endpoints("fine")] }).typeResources(TypeUrl.Endpoint).items.get("fine")?.version);
});
