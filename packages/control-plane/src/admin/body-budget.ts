/**
 * Bytes of request bodies being received at once, across all requests: the
 * per-body limit alone lets many concurrent bodies add up to any amount of
 * memory (issue 14). A request takes bytes as they arrive and gives them all back
 * when its body is complete or refused.
 */
export interface BodyBudget {
  /** Takes n bytes; false (taking nothing) when that would pass the total. */
  take(n: number): boolean;
  give(n: number): void;
  /** Bytes taken now. */
  readonly inUse: number;
  readonly totalBytes: number;
}

export function createBodyBudget(options: { totalBytes: number }): BodyBudget {
  let inUse = 0;
  return {
    take(n) {
      if (inUse + n > options.totalBytes) return false;
      inUse += n;
      return true;
    },
    give(n) {
      inUse = Math.max(0, inUse - n);
    },
    get inUse() {
      return inUse;
    },
    totalBytes: options.totalBytes,
  };
}
