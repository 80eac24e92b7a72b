import { test } from "node:test";
import assert from "node:assert/strict";
import { isHeaderLoose, isHeaderNameStrict, isHeaderValueStrict, isHostname, isIp, isUri, isUriRef, isUuid } from "./well-known-strings.ts";

test("host names follow RFC 1034 labels", () => {
  for (const ok of ["localhost", "a.b.c", "xn--bcher-kva.example", "a-b.example.com.", "1.example"]) assert.equal(isHostname(ok), true, ok);
  for (const bad of ["", ".", "a..b", "-a.com", "a-.com", "a_b.com", "a b", `${"a".repeat(64)}.com`, `${"a.".repeat(127)}a`]) {
    assert.equal(isHostname(bad), false, bad);
  }
});

test("IP addresses: v4, v6, no zone ids", () => {
  for (const ok of ["0.0.0.0", "255.255.255.255", "::", "2001:db8::1", "::ffff:10.0.0.1"]) assert.equal(isIp(ok), true, ok);
  for (const bad of ["256.0.0.1", "1.2.3", "01.2.3.4x", "fe80::1%eth0", "::g"]) assert.equal(isIp(bad), false, bad);
});

test("UUIDs and URIs", () => {
  assert.equal(isUuid("00000000-0000-0000-0000-000000000000"), true);
  assert.equal(isUuid("0000000-00000-0000-0000-000000000000"), false);
  assert.equal(isUri("spiffe://cluster.local/ns/default/sa/web"), true);
  assert.equal(isUri("//host/path"), false);
  assert.equal(isUriRef("//host/path?q=%20"), true);
  assert.equal(isUriRef("bad%zz"), false);
});

test("HTTP header name and value checks", () => {
  assert.equal(isHeaderNameStrict("content-type"), true);
  assert.equal(isHeaderNameStrict(":path"), true);
  assert.equal(isHeaderNameStrict(":"), false);
  assert.equal(isHeaderNameStrict("a:b"), false);
  assert.equal(isHeaderNameStrict("é"), false);
  assert.equal(isHeaderValueStrict("a\tb"), true);
  assert.equal(isHeaderValueStrict("a\u007fb"), false);
  assert.equal(isHeaderValueStrict("é"), true);
  assert.equal(isHeaderLoose("a b\u0001"), true);
  assert.equal(isHeaderLoose("a\u0000"), false);
});
