import { ApiError, ApiErrorCode } from "./api-error.ts";

/** The decoded segments of a request path; a bad %-escape (`%ZZ`, a lone `%E2`) is the caller's mistake: 400, not 500 (issue 14). */
export function pathSegments(pathname: string): string[] {
  return pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new ApiError(ApiErrorCode.BadRequest, `bad URL escape in path segment ${JSON.stringify(s)}: write % as %25, and escape other characters as %XX with two hex digits of UTF-8`);
      }
    });
}

/** The request's URL; a request target that is not a URL at all (`GET http://[bad`) is the caller's mistake: 400. */
export function requestUrl(target: string): URL {
  try {
    return new URL(target, "http://admin");
  } catch {
    throw new ApiError(ApiErrorCode.BadRequest, `the request target ${JSON.stringify(target.slice(0, 200))} is not a valid URL path`);
  }
}
