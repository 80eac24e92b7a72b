import assert from "node:assert/strict";
import { test } from "node:test";
import type { PeerCertificate } from "node:tls";
import { create } from "@bufbuild/protobuf";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import { peerCertificateOf, streamAuthorizer, type XdsPeerCertificate } from "./authorize-stream.ts";

const cert = (fields: { CN?: string | string[]; subjectaltname?: string }): PeerCertificate =>
  ({ raw: Buffer.from([1]), fingerprint256: "AA", subject: fields.CN === undefined ? {} : { CN: fields.CN }, subjectaltname: fields.subjectaltname }) as unknown as PeerCertificate;

test("the peer's identity is its first URI SAN, else dns: + its first DNS SAN, else cn: + its CN", () => {
  assert.equal(peerCertificateOf(undefined), undefined);
  assert.deepEqual(peerCertificateOf(cert({ CN: "edge", subjectaltname: "DNS:a.example.org, URI:spiffe://example.org/a, IP Address:127.0.0.1, DNS:b.example.org" })), {
    commonName: "edge",
    uriSans: ["spiffe://example.org/a"],
    dnsSans: ["a.example.org", "b.example.org"],
    fingerprint256: "AA",
    identity: "spiffe://example.org/a",
  });
  assert.equal(peerCertificateOf(cert({ CN: "edge", subjectaltname: "DNS:a.example.org" }))?.identity, "dns:a.example.org");
  assert.equal(peerCertificateOf(cert({ CN: ["first", "second"] }))?.identity, "cn:first");
  assert.equal(peerCertificateOf(cert({}))?.identity, "");
  // Node quotes a SAN holding a comma as a JSON string.
  assert.deepEqual(peerCertificateOf(cert({ subjectaltname: 'URI:"spiffe://example.org/a,b", DNS:c' }))?.uriSans, ["spiffe://example.org/a,b"]);
});

test("a stream's authorizer asks once per node, again for another node or a recheck; a throw is a refusal", () => {
  const asked: string[] = [];
  let allow = true;
  const check = streamAuthorizer(
    (node, peer: XdsPeerCertificate | undefined) => {
      asked.push(`${node.id}/${node.cluster}/${peer === undefined ? "-" : peer.identity}`);
      if (node.id === "boom") throw new Error("lookup failed");
      return allow ? { allowed: true } : { allowed: false, reason: "no" };
    },
    () => undefined,
  );
  const node = (id: string, cluster = "c") => create(NodeSchema, { id, cluster });
  assert.equal(check(node("a")), undefined);
  assert.equal(check(node("a")), undefined);
  assert.deepEqual(asked, ["a/c/-"], "the same node is not asked again");
  assert.equal(check(node("a", "other")), undefined);
  allow = false;
  assert.equal(check(node("a", "other"), { recheck: true }), "no");
  assert.equal(check(node("a", "other")), "no", "after a refusal the node is asked again");
  assert.equal(check(node("boom")), "authorization failed: lookup failed");
  assert.equal(asked.length, 5);
});
