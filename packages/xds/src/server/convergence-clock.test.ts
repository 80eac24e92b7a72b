// The convergence clock's rules (server/convergence-clock.ts), on a fake
// clock: from the change set on the cache to the ACK, never to the send.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConvergenceClock } from "./convergence-clock.ts";

const CDS = "cds";
const EDS = "eds";

function fakeClock(): { clock: ConvergenceClock; at: (ms: number) => void } {
  let now = 0;
  return { clock: new ConvergenceClock({ now: () => now }), at: (ms) => void (now = ms) };
}

/** One response for the type: responding, sent, responded. */
function send(clock: ConvergenceClock, stream: number, typeUrl: string): void {
  clock.responding(stream, typeUrl);
  clock.sent(stream, typeUrl);
  clock.responded(stream, typeUrl);
}

test("the time runs from the change to the ACK, not to the send", () => {
  const { clock, at } = fakeClock();
  at(100);
  clock.changed(1, [CDS], {}, new Set([CDS]));
  at(130);
  send(clock, 1, CDS);
  at(175);
  assert.equal(clock.acked(1, CDS), 75);
  // The ACK confirmed it: a second ACK (a re-subscription) confirms nothing.
  assert.equal(clock.acked(1, CDS), undefined);
});

test("every stream told of one change measures from the first notification (fan-out batches are not the node's delay)", () => {
  const { clock, at } = fakeClock();
  const change = {};
  at(10);
  clock.changed(1, [CDS], change, new Set([CDS]));
  at(60); // the cache yielded to the event loop between batches
  clock.changed(2, [CDS], change, new Set([CDS]));
  send(clock, 1, CDS);
  send(clock, 2, CDS);
  at(70);
  assert.equal(clock.acked(1, CDS), 60);
  assert.equal(clock.acked(2, CDS), 60);
});

test("a NACK ends the clock without a figure; the next change starts a new one", () => {
  const { clock, at } = fakeClock();
  clock.changed(1, [CDS], {}, new Set([CDS]));
  send(clock, 1, CDS);
  clock.nacked(1, CDS);
  assert.equal(clock.acked(1, CDS), undefined);
  at(500);
  clock.changed(1, [CDS], {}, new Set([CDS]));
  send(clock, 1, CDS);
  at(520);
  assert.equal(clock.acked(1, CDS), 20);
});

test("a change with nothing to send for the node starts no clock that a later change would inherit", () => {
  const { clock, at } = fakeClock();
  clock.changed(1, [EDS], {}, new Set([EDS]));
  // The stream looked and found nothing new for its names.
  clock.responding(1, EDS);
  clock.responded(1, EDS);
  at(1000);
  clock.changed(1, [EDS], {}, new Set([EDS]));
  send(clock, 1, EDS);
  at(1004);
  assert.equal(clock.acked(1, EDS), 4);
});

test("a type the stream never subscribed to starts no clock; a first response confirms no change", () => {
  const { clock } = fakeClock();
  clock.changed(1, [EDS], {}, new Set([CDS]));
  send(clock, 1, EDS);
  assert.equal(clock.acked(1, EDS), undefined);
  send(clock, 1, CDS);
  assert.equal(clock.acked(1, CDS), undefined);
});

test("an ACK of a newer response confirms every change sent before it, from the earliest", () => {
  const { clock, at } = fakeClock();
  at(0);
  clock.changed(1, [CDS], {}, new Set([CDS]));
  send(clock, 1, CDS);
  at(40);
  clock.changed(1, [CDS], {}, new Set([CDS]));
  send(clock, 1, CDS); // the first response's ACK is now stale and never reported
  at(90);
  assert.equal(clock.acked(1, CDS), 90);
});

test("a closed stream is forgotten", () => {
  const { clock } = fakeClock();
  clock.changed(7, [CDS], {}, new Set([CDS]));
  send(clock, 7, CDS);
  clock.closed(7);
  assert.equal(clock.acked(7, CDS), undefined);
});
