import type { IncomingMessage } from "node:http";
import type { Caller } from "./admin-auth.ts";
import { ApiError, ApiErrorCode } from "./api-error.ts";

const notePattern = /^[A-Za-z0-9:_./@-]{1,200}$/;

/**
 * The source a change is recorded with (history, `get -o wide`). With authentication on it
 * is the caller's token (`token:ci`), and X-Change-Source only adds a note after it
 * (`token:ci (deploy-42)`): a header anyone can send must not name who changed what.
 * With authentication off there is no identity, and the note is the source.
 */
export function changeSource(req: IncomingMessage, caller: Caller, fallback: string): string {
  const s = req.headers["x-change-source"];
  const note = Array.isArray(s) ? s[0] : s;
  if (note !== undefined && !notePattern.test(note)) throw new ApiError(ApiErrorCode.BadRequest, "X-Change-Source must be 1-200 characters of [A-Za-z0-9:_./@-]");
  if (caller.identity === undefined) return note ?? fallback;
  return note === undefined ? caller.identity : `${caller.identity} (${note})`;
}
