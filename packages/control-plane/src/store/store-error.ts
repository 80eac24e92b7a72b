/** Stable codes for store misuse and refusals the admin API maps to HTTP statuses. */
export const StoreErrorCode = {
  /** An update carried an expectedRevision that is not the object's last-modified revision (HTTP 409). */
  Conflict: "conflict",
  /** A revision or object does not exist (HTTP 404). */
  NotFound: "not_found",
  /** An argument is out of its domain (HTTP 400). */
  InvalidArgument: "invalid_argument",
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  override readonly name = "StoreError";
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
