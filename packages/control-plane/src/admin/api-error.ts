import type { Diagnostic } from "../model/model-object.ts";

/** Stable error codes of the admin API, each with its HTTP status. */
export const ApiErrorCode = {
  BadRequest: "bad_request",
  /** No credentials, or credentials that match no token. */
  Unauthorized: "unauthorized",
  /** A refused Host or Origin (DNS rebinding, cross-site requests), or a role too low. */
  Forbidden: "forbidden",
  NotFound: "not_found",
  MethodNotAllowed: "method_not_allowed",
  Conflict: "conflict",
  /** What was asked for existed and was deleted on purpose (a purged revision). */
  Gone: "gone",
  /** The request body did not arrive in time. */
  RequestTimeout: "request_timeout",
  PayloadTooLarge: "payload_too_large",
  /** A state-changing request without a JSON or YAML content type (what a cross-site form sends). */
  UnsupportedMediaType: "unsupported_media_type",
  /** The change was validated and refused: see the diagnostics. */
  Refused: "refused",
  /** The store's disk is full (SQLITE_FULL); nothing was changed, retry once space is freed (HTTP 507). */
  DiskFull: "disk_full",
  /** The shared store (PostgreSQL) is unreachable: nothing was changed; retry once it is back (HTTP 503). */
  StoreUnavailable: "store_unavailable",
  Internal: "internal",
  /** Too many request bodies are being received at once: retry after the Retry-After header's seconds. */
  Unavailable: "unavailable",
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

const statusOf: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  refused: 422,
  disk_full: 507,
  store_unavailable: 503,
  internal: 500,
  unavailable: 503,
};

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly code: ApiErrorCode;
  readonly diagnostics: readonly Diagnostic[];
  readonly extra: Readonly<Record<string, unknown>>;
  /** HTTP headers the answer carries (Retry-After, Connection: close). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    message: string,
    options: { diagnostics?: readonly Diagnostic[]; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.code = code;
    this.diagnostics = options.diagnostics ?? [];
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return statusOf[this.code];
  }

  toJson(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, diagnostics: this.diagnostics, ...this.extra } };
  }
}
