import assert from "node:assert/strict";
import { test } from "node:test";
import { nackedResourceNames } from "./nack-resources.ts";

test("nackedResourceNames: the listener Envoy could not bind, not the others", () => {
  const message = "Error adding/updating listener(s) tcp_busy: cannot bind '127.0.0.1:4321': Address already in use\n";
  assert.deepEqual(nackedResourceNames(message, ["listener_0", "tcp_busy"]), ["tcp_busy"]);
});

test("nackedResourceNames: several listeners, reasons that contain ', ' and ': '", () => {
  const message = "Error adding/updating listener(s) a: cannot bind '127.0.0.1:1': Address already in use, b_c: error adding listener: x, y\n";
  assert.deepEqual(nackedResourceNames(message, ["a", "b", "b_c", "x", "y"]), ["a", "b_c"]);
});

test("nackedResourceNames: clusters, and a name only mentioned inside a reason does not count", () => {
  const message = "Error adding/updating cluster(s) svc_a: cluster svc_b: bad, svc_c: bad";
  assert.deepEqual(nackedResourceNames(message, ["svc_a", "svc_b", "svc_c"]), ["svc_a", "svc_c"]);
});

test("nackedResourceNames: names nothing for messages of another shape (the caller falls back)", () => {
  assert.deepEqual(nackedResourceNames("Proto constraint validation failed (RouteConfigurationValidationError.Name: value length must be at least 1 characters): route_0", ["route_0"]), []);
  assert.deepEqual(nackedResourceNames("Error adding/updating listener(s) unknown_one: boom", ["listener_0"]), []);
  assert.deepEqual(nackedResourceNames("", ["listener_0"]), []);
});
