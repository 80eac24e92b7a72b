import { parseDocument } from "yaml";
import { findTooDeep } from "../model/nesting-depth.ts";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/**
 * A small JSON request body (`{"to": 3}`, `{"keys": [...]}`) read as strictly as
 * object bodies: nesting is bounded before parsing, and a duplicate key is refused
 * rather than the last one silently winning (issue 14). `example` shows the
 * expected shape in the error.
 */
export function parseJsonBody(text: string, example: string): unknown {
  const deep = findTooDeep(text);
  if (deep !== undefined) throw new ApiError(ApiErrorCode.BadRequest, `the body is nested too deep (limit ${deep.limit}); it must be JSON like ${example}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(ApiErrorCode.BadRequest, `the body must be JSON like ${example}`);
  }
  const duplicate = parseDocument(text, { uniqueKeys: true, prettyErrors: false }).errors.find((e) => e.code === "DUPLICATE_KEY");
  if (duplicate !== undefined) {
    throw new ApiError(ApiErrorCode.BadRequest, `the body has a duplicate key at character ${duplicate.pos[0] + 1}; keys must be unique (like ${example})`);
  }
  return value;
}
