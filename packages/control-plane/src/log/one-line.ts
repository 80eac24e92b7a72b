/**
 * Escapes control characters so that one log event is one log line (issue 14,
 * "no log injection"): NACK messages, node ids and object names come from
 * outside, and a newline in one of them must not forge a second, trusted-looking
 * line. C0 and C1 controls, DEL and the Unicode line and paragraph separators
 * become visible escapes; everything else, backslashes included, is kept as is.
 */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, escapeChar);
}

const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0", "\u001b": "\\e" };

function escapeChar(c: string): string {
  return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Wraps a log function so every line it writes is escaped with {@link oneLine}; structured fields pass on (the logger escapes them). */
export function oneLineLog<F>(log: (line: string, fields?: F) => void): (line: string, fields?: F) => void {
  return (line, fields) => (fields === undefined ? log(oneLine(line)) : log(oneLine(line), fields));
}
