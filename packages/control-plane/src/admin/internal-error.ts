import { randomUUID } from "node:crypto";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/**
 * The answer to an error the request handler did not expect. Everything the
 * caller can get wrong is checked and answered as a 4xx ApiError before it
 * reaches here, so what is left is our own bug: 500, with an error id in the
 * answer and in the log line that has the stack, so the two can be matched
 * without showing the caller our internals (issue 14).
 */
export function internalError(error: unknown, context: { method: string; url: string; log: (line: string) => void }): ApiError {
  const id = randomUUID().slice(0, 8);
  context.log(`admin API internal error ${id} on ${context.method} ${context.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new ApiError(ApiErrorCode.Internal, `internal error ${id}: the control plane's log has the details under this id`, { extra: { errorId: id } });
}
