/** Stable codes for why `serve` could not start; each message names the fix. */
export const StartupErrorCode = {
  /** Another control plane holds the data directory's lock. */
  DataDirInUse: "data_dir_in_use",
  /** The xDS or admin port is taken by another process. */
  PortInUse: "port_in_use",
  /** The host is not an address of this machine, or the port needs privileges. */
  CannotListen: "cannot_listen",
  /** The store is missing, empty or emptied while the last run had objects (issue 14): restore it or pass --allow-empty-store. */
  StoreLost: "store_lost",
  /** The store fails its integrity check (quick_check, schema, a row that does not parse). */
  StoreCorrupt: "store_corrupt",
  /** The store key file (--store-key-file) is unreadable or malformed, or the store's bodies do not decrypt with it. */
  StoreKey: "store_key",
  /** The PostgreSQL store (--store) cannot be reached at start: the replica would have no configuration to serve. */
  StoreUnavailable: "store_unavailable",
  /** The PostgreSQL store's schema is newer than this build (store/postgres-schema.ts). */
  StoreSchema: "store_schema_unsupported",
  /** The admin API would listen beyond loopback with no authentication. */
  AdminUnprotected: "admin_unprotected",
} as const;
export type StartupErrorCode = (typeof StartupErrorCode)[keyof typeof StartupErrorCode];

/** An expected startup failure: printed as one line with its fix, without a stack trace. */
export class StartupError extends Error {
  override readonly name = "StartupError";
  readonly code: StartupErrorCode;

  constructor(code: StartupErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
