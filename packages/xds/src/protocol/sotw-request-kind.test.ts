import { test } from "node:test";
import assert from "node:assert/strict";
import { classifySotwRequest } from "./sotw-request-kind.ts";

test("no nonce is an initial request", () => {
  assert.equal(classifySotwRequest({ responseNonce: "", hasErrorDetail: false }, undefined), "initial");
});
test("a nonce that is not the latest sent is stale, even with an error", () => {
  assert.equal(classifySotwRequest({ responseNonce: "1", hasErrorDetail: false }, "2"), "stale");
  assert.equal(classifySotwRequest({ responseNonce: "1", hasErrorDetail: true }, "2"), "stale");
});
test("the latest nonce with error_detail is a NACK, without it an ACK", () => {
  assert.equal(classifySotwRequest({ responseNonce: "2", hasErrorDetail: true }, "2"), "nack");
  assert.equal(classifySotwRequest({ responseNonce: "2", hasErrorDetail: false }, "2"), "ack");
});
