const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration written the way operators write them ("250ms", "5s", "1.5s", "2m", "1h")
 * into whole milliseconds. Returns undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (m === null) return undefined;
  const value = Number(m[1]) * (units[m[2] ?? ""] ?? 0);
  return Number.isFinite(value) ? Math.round(value) : undefined;
}
