// The same xDS behaviour on both transports `listen` offers: the server's own
// node:http2 one (the default) and @grpc/grpc-js. The rest of the server's
// tests run on the default; these run the essentials on each, through
// grpc-js clients, so a difference between the two shows here.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { RawDeltaClient } from "../../testing/raw-delta-client.ts";
import { RawXdsClient } from "../../testing/raw-xds-client.ts";
import { serveForTest, until } from "../../testing/serve-for-test.ts";
import { TestPki } from "../../testing/test-pki.ts";
import type { XdsPeerCertificate } from "./authorize-stream.ts";

const snapshot = (version: number) => createSnapshot({ resources: [edsCluster("a"), endpoints("a", [version])] });

for (const transport of ["http2", "grpc-js"] as const) {
  describe(`transport ${transport}`, () => {
    test("SotW ADS: a response, its ACK in status, a change, and the stream's end when the client half-closes", async (t) => {
      const cache = createSnapshotCache();
      await cache.setSnapshot("n1", snapshot(1));
      const { server, port, client } = await serveForTest(t, { cache, transport });
      const c = client(new RawXdsClient({ port, nodeId: "n1" }));
      c.send({ typeUrl: TypeUrl.Cluster });
      const first = await c.next(5000);
      assert.deepEqual(first.resources.length, 1);
      c.ack(first);
      await until("the ACK in status", () => server.status.node("n1")?.types.some((x) => x.ackedVersion === first.versionInfo) === true);
      c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["a"] });
      const eds = await c.next(5000);
      c.ack(eds, ["a"]);
      await cache.setSnapshot("n1", snapshot(2));
      const changed = await c.next(5000);
      assert.equal(changed.typeUrl, TypeUrl.Endpoint);
      assert.notEqual(changed.versionInfo, eds.versionInfo);
      assert.equal(server.metrics.openStreams, 1);
      c.close();
      await until("the stream to be gone", () => server.metrics.openStreams === 0);
    });

    test("Delta ADS: the subscribed resource, then only what changed", async (t) => {
      const cache = createSnapshotCache();
      await cache.setSnapshot("d1", snapshot(1));
      const { port, client } = await serveForTest(t, { cache, transport });
      const c = client(new RawDeltaClient({ port, nodeId: "d1" }));
      c.send({ typeUrl: TypeUrl.Endpoint, subscribe: ["a"] });
      const first = await c.next(5000);
      assert.deepEqual(first.resources.map((r) => r.name), ["a"]);
      c.ack(first);
      await cache.setSnapshot("d1", snapshot(2));
      const next = await c.next(5000);
      assert.deepEqual(next.resources.map((r) => r.name), ["a"]);
      assert.notEqual(next.resources[0]?.version, first.resources[0]?.version);
    });

    test("a request over maxReceiveMessageBytes ends the stream with RESOURCE_EXHAUSTED", async (t) => {
      const { port, client } = await serveForTest(t, { cache: createSnapshotCache(), transport, maxReceiveMessageBytes: 2048 });
      const c = client(new RawXdsClient({ port, nodeId: "big" }));
      c.send({ typeUrl: TypeUrl.Endpoint, resourceNames: ["x".repeat(4096)] });
      const end = await c.ended;
      assert.equal(end.code, grpc.status.RESOURCE_EXHAUSTED);
    });

    test("over the stream cap a new stream is refused with UNAVAILABLE before anything is read", async (t) => {
      const cache = createSnapshotCache();
      await cache.setSnapshot("n1", snapshot(1));
      const { server, port, client } = await serveForTest(t, { cache, transport, maxStreams: 1 });
      const one = client(new RawXdsClient({ port, nodeId: "n1" }));
      one.send({ typeUrl: TypeUrl.Cluster });
      await one.next(5000);
      const two = client(new RawXdsClient({ port, nodeId: "n1" }));
      two.send({ typeUrl: TypeUrl.Cluster });
      const end = await two.ended;
      assert.equal(end.code, grpc.status.UNAVAILABLE);
      assert.match(end.details, /stream/);
      assert.equal(server.metrics.openStreams, 1);
    });

    test("mTLS: authorize sees the verified client certificate", async (t) => {
      const pki = await TestPki.create();
      t.after(() => pki.dispose());
      const serverCert = await pki.issue({ name: "server", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
      const cert = await pki.issue({ name: "edge", commonName: "edge", sans: ["URI:spiffe://example.org/ns/edge/sa/envoy"] });
      const cache = createSnapshotCache();
      await cache.setSnapshot("edge-1", snapshot(1));
      const peers: Array<XdsPeerCertificate | undefined> = [];
      const { port, client } = await serveForTest(t, {
        cache,
        transport,
        tls: { ...serverCert, clientCaFile: pki.caFile, watchIntervalMs: 0 },
        authorize: (_node, peer) => {
          peers.push(peer);
          return { allowed: true };
        },
      });
      const creds = grpc.credentials.createSsl(await readFile(pki.caFile), await readFile(cert.keyFile), await readFile(cert.certFile));
      const c = client(new RawXdsClient({ port, nodeId: "edge-1", credentials: creds }));
      c.send({ typeUrl: TypeUrl.Cluster });
      await c.next(5000);
      assert.equal(peers[0]?.identity, "spiffe://example.org/ns/edge/sa/envoy");
      assert.equal(peers[0]?.commonName, "edge");
    });
  });
}
