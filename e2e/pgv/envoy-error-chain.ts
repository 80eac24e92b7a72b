/**
 * Envoy's PGV error names the failing field as a chain of
 * "XValidationError.Field[i]" steps, starting where validation started (the
 * bootstrap, or an Any's contents), with a oneof's name in a final
 * 'field: "name"'. Returns the chain as "Field[i]" steps, bootstrap levels dropped.
 */
export function envoyChain(text: string): string[] {
  const steps = [...text.matchAll(/\w+ValidationError\.(\w+)(\[[^\]]*\])?/g)].map((m) => m[1]! + (m[2] ?? ""));
  const oneof = /field: "(\w+)", reason: is required/.exec(text);
  if (oneof) steps.push(upperCamel(oneof[1]!));
  // Our paths start at the resource, not at the bootstrap.
  if (steps[0] === "StaticResources") steps.splice(0, 2);
  return steps;
}

export const upperCamel = (snake: string): string => snake.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());

/** Our path in the same form: "load_assignment.endpoints[0]" -> ["LoadAssignment", "Endpoints[0]"]; map keys unquoted. */
export function pathChain(path: string): string[] {
  const steps: string[] = [];
  for (const m of path.matchAll(/([a-z0-9_]+)((?:\[[^\]]*\])*)/g)) {
    steps.push(upperCamel(m[1]!) + (m[2] ?? "").replace(/\["(.*)"\]/, "[$1]"));
  }
  return steps;
}

/** Whether Envoy's chain is the tail of our path (Envoy starts inside Anys, we start at the resource). */
export function chainMatches(ourPath: string, envoyText: string): boolean {
  const ours = pathChain(ourPath);
  const tail = envoyChain(envoyText);
  return tail.length > 0 && tail.every((s, i) => ours[ours.length - tail.length + i] === s);
}
