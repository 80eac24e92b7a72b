import type { IncomingMessage } from "node:http";
import { ApiError, ApiErrorCode } from "./api-error.ts";
import type { BodyBudget } from "./body-budget.ts";

export interface ReadBodyOptions {
  /** Largest accepted body: 413 beyond it. */
  readonly maxBytes: number;
  /** Shared by all requests: 503 with Retry-After when full. */
  readonly budget: BodyBudget;
  /** The whole body must arrive within this time: 408 otherwise, so a slow sender cannot hold memory and a budget share forever. */
  readonly timeoutMs: number;
  /** Seconds in Retry-After when the budget is full. */
  readonly retryAfterSeconds?: number;
}

/** Reads a request body as UTF-8 within the per-body limit, the shared budget and the receive timeout. */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: ApiError | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      options.budget.give(size);
      if (error !== undefined) reject(error);
      else resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > options.maxBytes) {
        finish(new ApiError(ApiErrorCode.PayloadTooLarge, `request body is larger than ${options.maxBytes} bytes`));
        return;
      }
      if (!options.budget.take(chunk.length)) {
        finish(
          new ApiError(
            ApiErrorCode.Unavailable,
            `too many request bodies are being received at once (more than ${options.budget.totalBytes} bytes in all); retry in a moment`,
            { headers: { "retry-after": String(options.retryAfterSeconds ?? 1) } },
          ),
        );
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined);
    const onError = (): void => finish(new ApiError(ApiErrorCode.BadRequest, "the request body was cut off before its end"));
    const onAborted = onError;
    // The connection is closed after this answer: draining a slow body would wait on the sender again.
    const timer = setTimeout(
      () =>
        finish(
          new ApiError(ApiErrorCode.RequestTimeout, `the request body did not arrive within ${options.timeoutMs} ms; send it at once`, {
            headers: { connection: "close" },
          }),
        ),
      options.timeoutMs,
    );
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}
