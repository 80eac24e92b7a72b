import { isFieldSet, type DescMessage, type Message } from "@bufbuild/protobuf";

/**
 * Whether a rule is present in a validate.* rules message. The rule messages are
 * proto2, so an unset rule and a rule set to its zero value differ (e.g.
 * `uint32: {gte: 0}` vs no bound), and only presence tells them apart.
 */
export function hasRule(schema: DescMessage, rules: Message, localName: string): boolean {
  const field = schema.field[localName];
  return field !== undefined && isFieldSet(rules, field);
}
