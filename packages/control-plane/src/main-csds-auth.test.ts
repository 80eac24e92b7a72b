// CSDS with security on, through serve() and real gRPC clients (issue 13).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { ClientStatusRequestSchema, ClientStatusResponseSchema, type ClientStatusResponse } from "@ts-control-plane/envoy-api/envoy/service/status/v3/csds_pb";
import { TestPki } from "@ts-control-plane/xds/testing";
import { parseServeArgs, serve, UsageError } from "./main.ts";

const fetchPath = "/envoy.service.status.v3.ClientStatusDiscoveryService/FetchClientStatus";
const identity = (b: Buffer): Buffer => b;
const request = Buffer.from(toBinary(ClientStatusRequestSchema, create(ClientStatusRequestSchema, {})));

function fetchCsds(address: string, credentials: grpc.ChannelCredentials, token?: string): Promise<ClientStatusResponse> {
  const client = new grpc.Client(address, credentials);
  const metadata = new grpc.Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return new Promise<ClientStatusResponse>((resolve, reject) => {
    client.makeUnaryRequest(fetchPath, identity, identity, request, metadata, (error, value) => {
      client.close();
      if (error || !value) reject(error ?? new Error("no response"));
      else resolve(fromBinary(ClientStatusResponseSchema, value));
    });
  });
}

const refused = (code: grpc.status, details: RegExp) => (e: unknown) => {
  const s = e as grpc.ServiceError;
  assert.equal(s.code, code, s.details);
  assert.match(s.details, details);
  return true;
};

const base = { xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, configPaths: [], debounceMs: 5, log: () => {} } as const;

test("serve --admin-auth token: CSDS without a token is UNAUTHENTICATED naming how to authenticate; a read token is answered", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-csds-token-"));
  const cp = await serve({ ...base, dataDir: dir, adminAuth: "token" });
  t.after(async () => {
    await cp.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const admin = (await readFile(join(dir, "admin-token"), "utf8")).trim();
  const created = await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "viewer", role: "read" }),
  });
  assert.equal(created.status, 201);
  const { token } = (await created.json()) as { token: string };
  const address = `127.0.0.1:${cp.xdsPort}`;
  const insecure = grpc.credentials.createInsecure();

  await assert.rejects(fetchCsds(address, insecure), refused(grpc.status.UNAUTHENTICATED, /^CSDS needs credentials: send metadata authorization: Bearer TOKEN .*--csds-identity/));
  await assert.rejects(fetchCsds(address, insecure, "not-a-token"), refused(grpc.status.UNAUTHENTICATED, /the token is not known/));
  assert.deepEqual((await fetchCsds(address, insecure, token)).config, []);
  // Revoked at once: the same store the admin API checks.
  const revoked = await fetch(`http://127.0.0.1:${cp.adminPort}/api/v1/tokens/viewer`, { method: "DELETE", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" } });
  assert.ok(revoked.ok, `${revoked.status} ${await revoked.text()}`);
  await assert.rejects(fetchCsds(address, insecure, token), refused(grpc.status.UNAUTHENTICATED, /the token is not known/));
});

test("serve over mTLS: an operator identity (--csds-identity) is answered, a proxy certificate is PERMISSION_DENIED", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "cp-csds-mtls-"));
  const pki = await TestPki.create();
  const server = await pki.issue({ name: "server", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
  const cp = await serve({
    ...base,
    dataDir: dir,
    xdsTls: { certFile: server.certFile, keyFile: server.keyFile, clientCaFile: pki.caFile },
    csdsIdentities: ["spiffe://example.org/ops/alice", "cn:bob"],
  });
  t.after(async () => {
    await cp.close();
    await pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  const credentials = async (name: string, sans: string[]) => {
    const c = await pki.issue({ name, commonName: name, sans });
    return grpc.credentials.createSsl(await readFile(pki.caFile), await readFile(c.keyFile), await readFile(c.certFile));
  };
  const address = `localhost:${cp.xdsPort}`;
  assert.deepEqual((await fetchCsds(address, await credentials("alice", ["URI:spiffe://example.org/ops/alice"]))).config, []);
  assert.deepEqual((await fetchCsds(address, await credentials("bob", []))).config, [], "cn: identities match as in NodeGroups");
  await assert.rejects(
    fetchCsds(address, await credentials("edge", ["URI:spiffe://example.org/ns/edge/sa/envoy"])),
    refused(grpc.status.PERMISSION_DENIED, /^CSDS: identity "spiffe:\/\/example\.org\/ns\/edge\/sa\/envoy" is not an operator identity; connect with a client certificate whose identity serve's --csds-identity lists$/),
  );
});

test("serve --csds-identity: repeatable, env CONTROL_PLANE_CSDS_IDENTITIES comma-separated, checked like NodeGroup identities, and needs mTLS", () => {
  const tls = ["--xds-tls-cert", "c.pem", "--xds-tls-key", "k.pem", "--xds-client-ca", "ca.pem"];
  assert.deepEqual(parseServeArgs([...tls, "--csds-identity", "cn:bob", "--csds-identity=dns:ops.example.org"], {}).csdsIdentities, ["cn:bob", "dns:ops.example.org"]);
  assert.deepEqual(parseServeArgs(tls, { CONTROL_PLANE_CSDS_IDENTITIES: "spiffe://example.org/ops/alice, cn:bob" }).csdsIdentities, ["spiffe://example.org/ops/alice", "cn:bob"]);
  assert.equal(parseServeArgs(tls, {}).csdsIdentities, undefined);
  assert.throws(() => parseServeArgs([...tls, "--csds-identity", "bob"], {}), (e: unknown) => e instanceof UsageError && /--csds-identity: identity "bob" is not valid/.test(e.message));
  assert.throws(() => parseServeArgs(["--csds-identity", "cn:bob"], {}), (e: unknown) => e instanceof UsageError && /needs --xds-client-ca/.test(e.message));
});
