import { getOption, hasOption, type DescField, type DescMessage, type DescOneof } from "@bufbuild/protobuf";
import { disabled, type FieldRules, ignored, required, rules } from "@ts-control-plane/envoy-api/validate/validate_pb";

// Readers for the validate.* options. They decode extension bytes each call, so
// only plan compilation (once per descriptor) calls them.

/** The `(validate.rules)` option of a field, decoded; undefined when the field has none. */
export function fieldRules(field: DescField): FieldRules | undefined {
  return hasOption(field, rules) ? getOption(field, rules) : undefined;
}

/** `option (validate.disabled) = true` or `(validate.ignored)`: PGV generates no checks for the message. */
export function messageSkipped(desc: DescMessage): boolean {
  return (hasOption(desc, disabled) && getOption(desc, disabled)) || (hasOption(desc, ignored) && getOption(desc, ignored));
}

/** Whether a oneof carries `option (validate.required) = true`: one of its fields must be set. */
export function oneofRequired(oneof: DescOneof): boolean {
  return hasOption(oneof, required) && getOption(oneof, required);
}

/**
 * Messages whose content PGV never looks into: google.protobuf types carry no
 * rules (Any is unpacked separately), and Struct, Value and ListValue are held
 * as plain JSON values by protobuf-es, not as messages.
 */
export function isOpaqueWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith("google.protobuf.") && desc.typeName !== "google.protobuf.Any";
}

const ANY = "google.protobuf.Any";
const direct = new WeakMap<DescMessage, boolean>();
const reachable = new WeakMap<DescMessage, boolean>();

function hasDirectRules(desc: DescMessage): boolean {
  let d = direct.get(desc);
  if (d === undefined) {
    d = !messageSkipped(desc) && (desc.fields.some((f) => hasOption(f, rules)) || desc.oneofs.some(oneofRequired));
    direct.set(desc, d);
  }
  return d;
}

function messageTypeOf(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  if (field.fieldKind === "map" && field.mapKind === "message") return field.message;
  return undefined;
}

/**
 * Whether validating a message of this type can ever report anything: it or a
 * message type reachable from it has rules, or holds an Any (whose contents may).
 * Lets the walk skip whole subtrees (core.v3 metadata, matchers without rules)
 * without visiting them. A breadth-first search over the type graph, memoised.
 */
export function mayHaveRules(desc: DescMessage): boolean {
  const known = reachable.get(desc);
  if (known !== undefined) return known;
  const seen = new Set<DescMessage>([desc]);
  const queue: DescMessage[] = [desc];
  let found = false;
  for (let i = 0; i < queue.length && !found; i++) {
    const d = queue[i]!;
    if (d.typeName === ANY || reachable.get(d) === true || hasDirectRules(d)) {
      found = true;
      break;
    }
    if (messageSkipped(d) || isOpaqueWellKnown(d)) continue;
    for (const f of d.fields) {
      const m = messageTypeOf(f);
      if (m !== undefined && !seen.has(m)) {
        seen.add(m);
        queue.push(m);
      }
    }
  }
  reachable.set(desc, found);
  return found;
}
