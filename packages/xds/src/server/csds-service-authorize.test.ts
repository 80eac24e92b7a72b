// CSDS authorization through a real mTLS gRPC server and real clients (issue 13).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientStatusRequestSchema, ClientStatusResponseSchema, type ClientStatusResponse } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { TestPki } from "../../testing/test-pki.ts";
import type { CsdsCaller } from "./csds-service.ts";
import { createXdsServer, type XdsServer } from "./xds-server.ts";

const fetchPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus";
const streamPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/StreamClientStatus";
const identity = (b: Buffer): Buffer => b;
const request = Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {})));

describe("CSDS authorize", () => {
  let pki: TestPki;
  let xds: XdsServer;
  let port: number;
  let operator: grpc.ChannelCredentials;
  let proxy: grpc.ChannelCredentials;
  const seen: CsdsCaller[] = [];
  const clients: grpc.Client[] = [];

  before(async () => {
    pki = await TestPki.create();
    const server = await pki.issue({ name: "server", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
    const creds = async (name: string, sans: string[]) => {
      const c = await pki.issue({ name, commonName: name, sans });
      return grpc.credentials.createSsl(await readFile(pki.caFile), await readFile(c.keyFile), await readFile(c.certFile));
    };
    operator = await creds("operator", ["URI:spiffe://example.org/ops/alice"]);
    proxy = await creds("edge", ["URI:spiffe://example.org/ns/edge/sa/envoy"]);
    xds = createXdsServer({
      cache: createSnapshotCache(),
      tls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: pki.caFile },
      csds: {
        authorize: (caller) => {
          seen.push(caller);
          const auth = caller.metadata.get("authorization")[0];
          if (auth === "Bearer good" || caller.peer?.identity === "spiffe://example.org/ops/alice") return undefined;
          if (auth !== undefined) return { code: "unauthenticated", message: "the token is not known" };
          return { code: "permission_denied", message: `${caller.peer?.identity} is not an operator` };
        },
      },
    });
    port = await xds.listen({ port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await xds.close({ graceMs: 100 });
    await pki.dispose();
  });

  const client = (credentials: grpc.ChannelCredentials): grpc.Client => {
    const c = new grpc.Client(`localhost:${port}`, credentials);
    clients.push(c);
    return c;
  };
  const fetch = (credentials: grpc.ChannelCredentials, token?: string, bytes: Buffer = request): Promise<ClientStatusResponse> =>
    new Promise((resolve, reject) => {
      const metadata = new grpc.Metadata();
      if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
      client(credentials).makeUnaryRequest(fetchPath, identity, identity, bytes, metadata, (error, value) => {
        if (error || !value) reject(error ?? new Error("no response"));
        else resolve(fromBinary(ClientStatusResponseSchema, value));
      });
    });
  const refused = (code: grpc.status, details: RegExp) => (e: unknown) => {
    const s = e as grpc.ServiceError;
    assert.equal(s.code, code, s.details);
    assert.match(s.details, details);
    return true;
  };

  test("an operator certificate or a good token is answered; the authorizer sees the verified peer and the metadata", async () => {
    assert.deepEqual((await fetch(operator)).config, []);
    assert.equal(seen.at(-1)?.peer?.identity, "spiffe://example.org/ops/alice");
    assert.deepEqual((await fetch(proxy, "good")).config, []);
    assert.deepEqual(seen.at(-1)?.metadata.get("authorization"), ["Bearer good"]);
  });

  test("a refusal is UNAUTHENTICATED or PERMISSION_DENIED with the message, decided before the request is read", async () => {
    await assert.rejects(fetch(proxy), refused(grpc.status.PERMISSION_DENIED, /^spiffe:\/\/example\.org\/ns\/edge\/sa\/envoy is not an operator$/));
    await assert.rejects(fetch(proxy, "bad"), refused(grpc.status.UNAUTHENTICATED, /^the token is not known$/));
    // A malformed request from a refused caller gets the refusal, not a parse error.
    await assert.rejects(fetch(proxy, undefined, Buffer.from([0xff, 0xff])), refused(grpc.status.PERMISSION_DENIED, /is not an operator/));
  });

  test("a StreamClientStatus stream is refused when it opens, and answered for an operator", async () => {
    const open = (credentials: grpc.ChannelCredentials) => {
      const call = client(credentials).makeBidiStreamRequest(streamPath, identity, identity);
      const data: Buffer[] = [];
      call.on("data", (b: Buffer) => data.push(b));
      const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
      call.on("error", () => {});
      return { call, data, status };
    };
    const denied = open(proxy);
    // Nothing is sent: the refusal does not wait for a request.
    const s = await denied.status;
    assert.equal(s.code, grpc.status.PERMISSION_DENIED);
    assert.deepEqual(denied.data, []);

    const ok = open(operator);
    ok.call.write(request);
    ok.call.end();
    assert.equal((await ok.status).code, grpc.status.OK);
    assert.equal(ok.data.length, 1);
  });

  test("an authorizer that throws refuses with PERMISSION_DENIED", async () => {
    const x = createXdsServer({ cache: createSnapshotCache(), csds: { authorize: () => { throw new Error("boom"); } } });
    const p = await x.listen({ port: 0 });
    const c = new grpc.Client(`127.0.0.1:${p}`, grpc.credentials.createInsecure());
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) => c.makeUnaryRequest(fetchPath, identity, identity, request, (e) => resolve(e)));
      assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
      assert.equal(error?.details, "CSDS authorization failed: boom");
    } finally {
      c.close();
      await x.close({ graceMs: 100 });
    }
  });
});
