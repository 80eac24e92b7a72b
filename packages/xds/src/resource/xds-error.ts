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
} as const;
export type XdsErrorCode = (typeof XdsErrorCode)[keyof typeof XdsErrorCode];

export class XdsError extends Error {
  override readonly name = "XdsError";
  readonly code: XdsErrorCode;
  readonly details: readonly string[];

  constructor(code: XdsErrorCode, message: string, options: { details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? [];
  }
}
