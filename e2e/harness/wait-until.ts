/** Thrown when {@link waitUntil} runs out of time; says what was awaited and what was last seen. */
export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
}

export interface WaitUntilOptions {
  /** Upper bound for the whole wait. */
  readonly timeoutMs: number;
  /** Pause between attempts; 100 ms by default. */
  readonly intervalMs?: number;
  /** What is being awaited, for the timeout message ("Envoy has cluster c1"). */
  readonly description?: string;
  /** Extra context appended to the timeout message, computed only on timeout (e.g. a log tail). */
  readonly onTimeout?: () => string | Promise<string>;
}

/**
 * Polls `fn` until it returns a value other than `undefined`, `null` or `false`,
 * and returns that value. An attempt that throws counts as "not yet" and its
 * error is kept for the timeout message. Each attempt is itself bounded by the
 * remaining time, so a hung attempt cannot stretch the wait.
 */
export async function waitUntil<T>(
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitUntilOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    attempts++;
    const remaining = deadline - Date.now();
    try {
      const value = await withTimeout(Promise.resolve().then(fn), Math.max(remaining, 1));
      if (value !== undefined && value !== null && value !== false) return value;
      lastValue = value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const what = options.description ?? "condition";
  const last =
    lastError !== undefined
      ? `last attempt threw: ${lastError instanceof Error ? lastError.message : String(lastError)}`
      : `last value: ${String(lastValue)}`;
  const extra = options.onTimeout ? `\n${await options.onTimeout()}` : "";
  throw new WaitTimeoutError(`timed out after ${timeoutMs} ms (${attempts} attempts) waiting for ${what}; ${last}${extra}`);
}

const timedOut = Symbol("timedOut");

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  try {
    const result = await Promise.race([promise, timeout]);
    if (result === timedOut) throw new Error(`attempt still running after ${ms} ms`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}
