import assert from "node:assert/strict";
import { test } from "node:test";
import { cli } from "./cli-test-kit.ts";

// Issue 8, part 5: a raw resource's refusal points at the line the operator wrote, in
// Envoy's snake_case or in camelCase, like a model object's.

const offline = { CONTROL_PLANE_SERVER: "http://127.0.0.1:1" };

const text = `apiVersion: tcp.dev/v1alpha1
kind: RawResource
metadata:
  name: api-routes
spec:
  resource:
    "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
    name: api-routes
    virtualHosts:
      - name: all
        domains: ["*"]
        routes:
          - match:
              safeRegex: { regex: "/v(?=1)" }
            route: { cluster: api }
`;

test("tcp validate: a raw route's bad regex is refused at its file:line:col, with its path and the fix", async () => {
  const r = await cli(["validate", "-f", "-"], offline, text);
  assert.equal(r.code, 1, r.out);
  assert.match(r.err, /<stdin>:14:35: error: RawResource\/api-routes spec\.resource\.virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex: regex '\/v\(\?=1\)' is not valid RE2: .*\(hint: fix the expression; Envoy uses RE2 syntax.*\) \[raw\.invalid_regex\]/);
});
