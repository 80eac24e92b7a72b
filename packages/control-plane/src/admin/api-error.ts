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
  PayloadTooLarge: "payload_too_large",
  /** A state-changing request without a JSON or YAML content type (what a cross-site form sends). */
  UnsupportedMediaType: "unsupported_media_type",
  /** The change was validated and refused: see the diagnostics. */
  Refused: "refused",
  Internal: "internal",
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

const statusOf: Record<ApiErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  refused: 422,
  internal: 500,
};

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly code: ApiErrorCode;
  readonly diagnostics: readonly Diagnostic[];
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: ApiErrorCode, message: string, options: { diagnostics?: readonly Diagnostic[]; extra?: Record<string, unknown> } = {}) {
    super(message);
    this.code = code;
    this.diagnostics = options.diagnostics ?? [];
    this.extra = options.extra ?? {};
  }

  get status(): number {
    return statusOf[this.code];
  }

  toJson(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, diagnostics: this.diagnostics, ...this.extra } };
  }
}
