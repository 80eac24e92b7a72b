import type { Registry } from "@bufbuild/protobuf";

/** One broken protoc-gen-validate rule. */
export interface Violation {
  /** Proto field path, snake_case, e.g. "filter_chains[0].filters[0].typed_config.stat_prefix". */
  readonly path: string;
  /** The rule, named like protovalidate's rule ids, e.g. "string.min_len", "message.required". */
  readonly rule: string;
  /** What is wrong, worded like Envoy's PGV messages, e.g. "value length must be at least 1 characters". */
  readonly message: string;
}

/** Options of {@link validateMessage}. */
export interface ValidateOptions {
  /**
   * Resolves the contents of `google.protobuf.Any` fields. Defaults to a registry of
   * every generated Envoy type, built once from envoy-api.binpb on first use.
   */
  readonly registry?: Registry;
  /**
   * What to do with an Any whose type the registry does not know: "violation"
   * (the default; Envoy rejects types it has no extension for) or "ignore" (for
   * extension types newer than the generated API, which Envoy may know).
   */
  readonly unknownAnyTypes?: "violation" | "ignore";
  /** Stop after this many violations (default: no limit). */
  readonly maxViolations?: number;
  /**
   * The current time in milliseconds since the epoch, for timestamp `lt_now`,
   * `gt_now` and `within`; defaults to Date.now(). Pass a fixed value to keep
   * results deterministic.
   */
  readonly nowMs?: number;
}
