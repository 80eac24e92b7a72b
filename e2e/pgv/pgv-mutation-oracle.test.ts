// Mutation oracle: starting from valid realistic resources (a TLS cluster, a
// listener whose HCM has inline routes, one with rate limits, CORS, faults,
// access log and a TCP proxy chain), break each rule that applies to a field
// they set, one at a time, and ask both validateMessage and Envoy
// (`--mode validate`). Envoy must reject every mutation we reject (else we
// report a false violation), and when Envoy's reason is PGV its message and
// field chain must match one of our violations at the mutated path. The rules
// come from the same Envoy release as the binary (the API is generated from
// go-control-plane's envoy module of that version), so there is no drift to
// allow for: any disagreement is a bug in our check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromJson, toJson, type DescMessage, type JsonObject, type Message } from "@bufbuild/protobuf";
import { ClusterSchema } from "@ts-control-plane/envoy-api/envoy/config/cluster/v3/cluster_pb";
import { ListenerSchema } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { envoyRegistry, type Violation, validateMessage } from "@ts-control-plane/xds";
import { envoyJsonFixtures as fx } from "@ts-control-plane/xds/testing";
import { chainMatches } from "./envoy-error-chain.ts";
import { envoySays, envoyValidate, mapLimited, type StaticResource } from "./envoy-validate.ts";
import { staticCluster } from "./oracle-resources.ts";
import { ruleMutations } from "./rule-mutations.ts";

interface Probe {
  readonly label: string;
  readonly resource: StaticResource;
  readonly ours: Violation[];
}

test("every rule we can break in realistic resources: Envoy rejects what we reject, for the same field and reason", { timeout: 300_000 }, async (t) => {
  const registry = envoyRegistry();
  const bases: { kind: StaticResource["kind"]; schema: DescMessage; message: Message }[] = [
    { kind: "cluster", schema: ClusterSchema, message: fromJson(ClusterSchema, staticCluster() as JsonObject, { registry }) },
    { kind: "cluster", schema: ClusterSchema, message: fromJson(ClusterSchema, fx.richCluster(), { registry }) },
    { kind: "listener", schema: ListenerSchema, message: fromJson(ListenerSchema, fx.hcmListener(), { registry }) },
    { kind: "listener", schema: ListenerSchema, message: fromJson(ListenerSchema, fx.richHcmListener(), { registry }) },
  ];
  const probes: Probe[] = [];
  // One probe per rule and mutation: the same rule at another index or in another resource adds nothing.
  const seen = new Set<string>();
  for (const base of bases) {
    assert.deepEqual(validateMessage(base.schema, base.message), [], `${base.kind} base must be valid`);
    for (const m of ruleMutations(base.schema, base.message, registry)) {
      if (seen.has(`${m.site} ${m.what}`)) continue;
      seen.add(`${m.site} ${m.what}`);
      m.apply();
      const ours = validateMessage(base.schema, base.message);
      const json = toJson(base.schema, base.message, { registry }) as JsonObject;
      m.undo();
      probes.push({ label: `${base.kind} ${m.path} ${m.what}`, resource: { kind: base.kind, resource: json }, ours });
      assert.ok(
        ours.some((v) => v.path === m.path),
        `${base.kind}: ${m.what} at ${m.path} should be reported there, got ${JSON.stringify(ours)}`,
      );
    }
    assert.deepEqual(validateMessage(base.schema, base.message), [], `${base.kind} base must be restored after the mutations`);
  }
  const dir = await mkdtemp(join(tmpdir(), "pgv-mutations-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const verdicts = await mapLimited(probes, 3, (p, i) => envoyValidate(dir, p.resource, `m-${i}.json`));
  const failures: string[] = [];
  let pgvAgreed = 0;
  probes.forEach((p, i) => {
    const envoy = verdicts[i]!;
    const show = `\n  ours:  ${p.ours.map((v) => `${v.path} [${v.rule}] ${v.message}`).join("; ")}\n  envoy: exit ${envoy.code}: ${envoySays(envoy)}`;
    if (envoy.code === 0) failures.push(`${p.label}: Envoy accepts what we reject${show}`);
    else if (envoy.pgv === undefined) t.diagnostic(`${p.label}: Envoy rejects it before PGV runs${show}`);
    else if (!p.ours.some((v) => envoy.pgv!.includes(v.message) && chainMatches(v.path, envoy.pgv!))) {
      failures.push(`${p.label}: Envoy names another field or reason${show}`);
    } else {
      pgvAgreed++;
      t.diagnostic(`${p.label}: agree`);
    }
  });
  t.diagnostic(`${probes.length} mutations, ${pgvAgreed} with the same PGV field and message as Envoy`);
  assert.deepEqual(failures, [], failures.join("\n"));
  assert.ok(probes.length >= 20, `only ${probes.length} mutations`);
});
