/**
 * Splits the resources of one logical Delta response into chunks whose encoded
 * size stays within a budget, so no single gRPC message exceeds the client's
 * limit: a message over a client's 4 MiB default kills its stream silently on
 * some clients (kuma#16355). Delta allows this: every response is an
 * increment, so several responses carry the same change as one would.
 *
 * Order is kept. An item larger than the budget on its own gets a chunk of
 * its own (it cannot be split; the caller decides what to do with it).
 * Returns at least one chunk, possibly empty (a response with removals only).
 */
export function splitBySize<T>(items: readonly T[], sizeOf: (item: T) => number, budget: number): T[][] {
  const chunks: T[][] = [[]];
  let used = 0;
  for (const item of items) {
    const size = sizeOf(item);
    const current = chunks[chunks.length - 1] as T[];
    if (current.length > 0 && used + size > budget) {
      chunks.push([item]);
      used = size;
    } else {
      current.push(item);
      used += size;
    }
  }
  return chunks;
}
