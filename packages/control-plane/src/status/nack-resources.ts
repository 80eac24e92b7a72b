/**
 * The resource names an Envoy NACK message (error_detail.message) names.
 *
 * Envoy applies the resources of a SotW LDS or CDS update it can and reports
 * the others in one message: "Error adding/updating listener(s) NAME: reason"
 * (several joined by ", " or a newline), likewise "cluster(s)". A reason may
 * itself contain ", " or ": ", so the message is not split blindly: only names
 * the node was actually sent (`known`) count, where such a list item starts.
 * Messages of another shape (RDS, EDS, proto validation) name nothing here,
 * and the caller falls back to every resource of the type: being unsure, it
 * blames more, never the wrong object alone.
 */
export function nackedResourceNames(message: string, known: Iterable<string>): string[] {
  const names = [...new Set(known)].filter((n) => n !== "").sort((a, b) => b.length - a.length);
  const found = new Set<string>();
  const prefix = /Error adding\/updating (?:listener|cluster)\(s\) /g;
  for (let m = prefix.exec(message); m !== null; m = prefix.exec(message)) {
    const from = m.index + m[0].length;
    const end = nextPrefix(message, from);
    // Positions where a list item may start: right after the prefix, after ", " or a newline.
    const starts = [from];
    for (let i = from; i < end; i++) {
      if (message[i] === "\n") starts.push(i + 1);
      else if (message[i] === "," && message[i + 1] === " ") starts.push(i + 2);
    }
    for (const at of starts) {
      // The longest known name wins: "a_b: x" names a_b, not a.
      const name = names.find((n) => message.startsWith(`${n}: `, at));
      if (name !== undefined) found.add(name);
    }
  }
  return [...found].sort();
}

function nextPrefix(message: string, from: number): number {
  const i = message.slice(from).search(/Error adding\/updating (?:listener|cluster)\(s\) /);
  return i < 0 ? message.length : from + i;
}
