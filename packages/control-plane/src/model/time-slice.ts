import { setImmediate as nextTurn } from "node:timers/promises";

/**
 * A long piece of work written as a generator that `yield`s wherever it may pause
 * (between documents, objects, resources). The same steps run to the end at once
 * (runToEnd, for callers that must stay synchronous) or in slices that give the
 * event loop back in between (runSliced): issue 14, a 20,000-object apply must
 * not block xDS streams and /healthz for seconds.
 */
export type Steps<T> = Generator<void, T, void>;

/** Runs the steps without pausing. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/** How long a slice may run before the event loop gets a turn: 5 ms, far under the 100 ms the issue allows, since one answer (read a request, write the reply) may wait for a slice at each of its turns. */
export const defaultSliceMs = 5;

/** Runs the steps, giving the event loop a turn (setImmediate) whenever a slice has run `sliceMs`. */
export async function runSliced<T>(steps: Steps<T>, options: { sliceMs?: number } = {}): Promise<T> {
  const sliceMs = options.sliceMs ?? defaultSliceMs;
  let start = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    if (performance.now() - start >= sliceMs) {
      await nextTurn();
      start = performance.now();
    }
  }
}
