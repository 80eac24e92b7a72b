/** Stable codes for store misuse and refusals the admin API maps to HTTP statuses. */
export const StoreErrorCode = {
  /** An update carried an expectedRevision that is not the object's last-modified revision (HTTP 409). */
  Conflict: "conflict",
  /** A revision or object does not exist (HTTP 404). */
  NotFound: "not_found",
  /** An argument is out of its domain (HTTP 400). */
  InvalidArgument: "invalid_argument",
  /** The database file fails its integrity check or holds a row that does not parse (issue 14). */
  Corrupt: "store_corrupt",
  /** The database was written by a newer control plane (its schema version is higher than ours). */
  UnsupportedSchema: "store_schema_unsupported",
  /** SQLITE_FULL: the disk (or the store's size limit) is full; nothing was written (HTTP 507, issue 14). */
  DiskFull: "disk_full",
  /** The revision was purged from history (`tcp history purge`); it cannot be shown or rolled back to (HTTP 410). */
  Purged: "purged",
  /** Bodies are encrypted and no store key, or another one, was given (`serve --store-key-file`). */
  Key: "store_key",
  /** The shared store (PostgreSQL) cannot be reached: nothing was written; reads serve the last caught-up state (HTTP 503, issue 10). */
  Unavailable: "store_unavailable",
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
