import { test } from "node:test";
import assert from "node:assert/strict";
import type { EncodedResource } from "../resource/encoded-resource.ts";
import { selectSotw, shouldRespondSotw, type TypeResources } from "./sotw-selection.ts";
import { applySotwRequest } from "./sotw-subscription.ts";

const res = (name: string, version = "1"): EncodedResource =>
  ({ name, typeUrl: "t", version, message: {} as never, bytes: new Uint8Array(), any: new Uint8Array() }) as EncodedResource;
const typeResources = (...items: EncodedResource[]): TypeResources => ({ version: "v", items: new Map(items.map((r) => [r.name, r])) });

test("legacy wildcard is per type: an empty first request on a full-state type means everything", () => {
  assert.equal(applySotwRequest(undefined, [], { fullState: true }).wildcard, true);
  assert.equal(applySotwRequest(undefined, [], { fullState: false }).wildcard, false);
});

test("after naming resources, an empty list unsubscribes instead of meaning wildcard", () => {
  const named = applySotwRequest(undefined, ["a"], { fullState: true });
  assert.equal(named.wildcard, false);
  const emptied = applySotwRequest(named, [], { fullState: true });
  assert.equal(emptied.wildcard, false);
  assert.equal(emptied.names.size, 0);
});

test("'*' is the explicit wildcard and may come with names", () => {
  const s = applySotwRequest(undefined, ["*", "a"], { fullState: true });
  assert.equal(s.wildcard, true);
  assert.deepEqual([...s.names], ["a"]);
});

test("a request replaces the whole subscription set", () => {
  const s1 = applySotwRequest(undefined, ["a", "b"], { fullState: false });
  const s2 = applySotwRequest(s1, ["b", "c"], { fullState: false });
  assert.deepEqual([...s2.names].sort(), ["b", "c"]);
});

test("selection is sorted and limited to subscribed names that exist", () => {
  const sub = applySotwRequest(undefined, ["c", "a", "missing"], { fullState: false });
  const sel = selectSotw(typeResources(res("a"), res("b"), res("c")), sub);
  assert.deepEqual(sel.resources.map((r) => r.name), ["a", "c"]);
});

test("full-state types answer even with an empty set; others wait for something to say", () => {
  const empty = typeResources();
  const wildcard = applySotwRequest(undefined, [], { fullState: true });
  assert.equal(shouldRespondSotw({ fullState: true, selection: selectSotw(empty, wildcard), lastSent: undefined, initial: true }), true);
  const named = applySotwRequest(undefined, ["x"], { fullState: false });
  assert.equal(shouldRespondSotw({ fullState: false, selection: selectSotw(empty, named), lastSent: undefined, initial: true }), false);
});

test("an unchanged set is never resent; a changed resource or a newly asked name is (#431)", () => {
  const sub = applySotwRequest(undefined, ["a"], { fullState: false });
  const sent = selectSotw(typeResources(res("a"), res("b")), sub).resources;
  assert.equal(shouldRespondSotw({ fullState: false, selection: selectSotw(typeResources(res("a"), res("b")), sub), lastSent: sent, initial: false }), false);
  assert.equal(shouldRespondSotw({ fullState: false, selection: selectSotw(typeResources(res("a", "2")), sub), lastSent: sent, initial: false }), true);
  const sub2 = applySotwRequest(sub, ["a", "b"], { fullState: false });
  assert.equal(shouldRespondSotw({ fullState: false, selection: selectSotw(typeResources(res("a"), res("b")), sub2), lastSent: sent, initial: false }), true);
});

test("a deletion in a full-state type is a change to send; in others it cannot be expressed", () => {
  const all = applySotwRequest(undefined, [], { fullState: true });
  const sent = selectSotw(typeResources(res("a"), res("b")), all).resources;
  assert.equal(shouldRespondSotw({ fullState: true, selection: selectSotw(typeResources(res("a")), all), lastSent: sent, initial: false }), true);
  const named = applySotwRequest(undefined, ["a", "b"], { fullState: false });
  assert.equal(shouldRespondSotw({ fullState: false, selection: selectSotw(typeResources(res("a")), named), lastSent: sent, initial: false }), false);
});

test("one subscription object for every stream asking for the same names; a repeated request returns it unchanged", () => {
  const first = applySotwRequest(undefined, ["x", "y", "z"], { fullState: false });
  const other = applySotwRequest(undefined, ["z", "x", "y"], { fullState: false });
  assert.equal(other, first, "same names in another order: the same object");
  assert.equal(applySotwRequest(first, ["x", "y", "z"], { fullState: false }), first);
  assert.equal(applySotwRequest(other, ["z", "x", "y"], { fullState: false }), first);
  const legacy = applySotwRequest(undefined, [], { fullState: true });
  assert.equal(legacy.wildcard, true);
  assert.equal(applySotwRequest(legacy, [], { fullState: true }), legacy);
  assert.equal(applySotwRequest(undefined, [], { fullState: false }).wildcard, false, "not the full-state object");
  const named = applySotwRequest(undefined, ["x"], { fullState: true });
  const emptied = applySotwRequest(named, [], { fullState: true });
  assert.equal(emptied.wildcard, false, "after naming, an empty list is no wildcard");
  assert.equal(applySotwRequest(emptied, [], { fullState: true }), emptied);
  assert.notEqual(emptied, legacy);
});

test("whether to respond is decided once per (sent, selected) pair, and apart for full-state and other types", () => {
  const sent = [res("a"), res("b")];
  const shrunk = [res("a")];
  const selection = { version: "v2", resources: shrunk, subsetKey: "a" };
  for (let i = 0; i < 2; i++) {
    assert.equal(shouldRespondSotw({ fullState: false, selection, lastSent: sent, initial: false }), false);
    assert.equal(shouldRespondSotw({ fullState: true, selection, lastSent: sent, initial: false }), true);
  }
  assert.equal(shouldRespondSotw({ fullState: false, selection, lastSent: sent, initial: true }), true, "a fresh request is answered");
  assert.equal(shouldRespondSotw({ fullState: true, selection, lastSent: shrunk, initial: false }), false);
});
