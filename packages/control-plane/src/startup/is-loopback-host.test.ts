import assert from "node:assert/strict";
import { test } from "node:test";
import { isLoopbackHost } from "./is-loopback-host.ts";

test("loopback hosts are only those this machine alone reaches", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ["0.0.0.0", "::", "10.0.0.5", "example.org", "::ffff:10.0.0.1"]) assert.equal(isLoopbackHost(h), false, h);
});
