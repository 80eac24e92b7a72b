/** The one API version of the declarative model; bumped when a kind changes incompatibly. */
export const API_VERSION = "tcp.dev/v1alpha1";

/** Every kind of object the model knows. */
export const Kind = {
  Listener: "Listener",
  Route: "Route",
  Service: "Service",
  Tracing: "Tracing",
  AccessLog: "AccessLog",
  NodeGroup: "NodeGroup",
  RawResource: "RawResource",
  Secret: "Secret",
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const kinds: readonly Kind[] = Object.values(Kind);

export function isKind(s: string): s is Kind {
  return (kinds as readonly string[]).includes(s);
}
