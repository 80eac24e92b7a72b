/**
 * Stable codes for programmer misuse of the library. User configuration
 * problems are never thrown: they are diagnostics; a NACK is data in status.
 */
export const XdsErrorCode = {
  /** A snapshot references EDS or RDS names it does not contain. */
  InconsistentSnapshot: "inconsistent_snapshot",
  /** Two resources of one type share a name. */
  DuplicateResource: "duplicate_resource",
  /** A resource has no name, or a type URL is unknown. */
  InvalidResource: "invalid_resource",
  /** An argument or option is out of its domain. */
  InvalidArgument: "invalid_argument",
  /** An operation was used in a state that does not allow it. */
  InvalidState: "invalid_state",
  /** A TLS certificate, key or CA file is missing, malformed, expired, or the key does not match the certificate. */
  InvalidTls: "invalid_tls",
} as const;
/** One of the {@link XdsErrorCode} values. */
export type XdsErrorCode = (typeof XdsErrorCode)[keyof typeof XdsErrorCode];

/** What the library throws on misuse: a stable {@link XdsErrorCode} to branch on, a message for people, and the offending names in `details`. */
export class XdsError extends Error {
  /** Always "XdsError". */
  override readonly name = "XdsError";
  /** The stable code. */
  readonly code: XdsErrorCode;
  /** The names or paths at fault (e.g. every dangling reference), for callers to show or match. */
  readonly details: readonly string[];

  constructor(code: XdsErrorCode, message: string, options: { details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
  }
}
