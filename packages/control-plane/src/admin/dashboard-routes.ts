import { readFileSync } from "node:fs";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/**
 * The web dashboard's files (admin/dashboard/), served by the admin server itself: no CDN,
 * no build step. The page script is plain JavaScript (type-checked through JSDoc, see
 * admin/dashboard/tsconfig.json), so what is served is what is in the repository.
 */
const assets: ReadonlyMap<string, { readonly file: string; readonly contentType: string }> = new Map([
  ["", { file: "index.html", contentType: "text/html; charset=utf-8" }],
  ["dashboard/dashboard.js", { file: "dashboard.js", contentType: "text/javascript; charset=utf-8" }],
  ["dashboard/dashboard.css", { file: "dashboard.css", contentType: "text/css; charset=utf-8" }],
  ["dashboard/favicon.svg", { file: "favicon.svg", contentType: "image/svg+xml" }],
]);

/**
 * The page runs only our own script and style, loads nothing from elsewhere, and cannot be
 * framed: node ids and NACK messages on it are attacker-controlled text (the script builds
 * the DOM with textContent only; the policy is the second line of defence).
 */
export const dashboardHeaders: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** True for the dashboard's paths (`/`, `/dashboard/...`): static files that hold no data, served without a token (docs/dashboard.md). */
export function isDashboardPath(segments: readonly string[]): boolean {
  return segments.length === 0 || segments[0] === "dashboard";
}

const cache = new Map<string, string>();

/** The reply for a dashboard path: the file with its content type and the page's security headers. */
export function dashboardReply(options: { readonly method: string; readonly segments: readonly string[] }): {
  text: string;
  contentType: string;
  headers: Readonly<Record<string, string>>;
} {
  if (options.method !== "GET" && options.method !== "HEAD") {
    throw new ApiError(ApiErrorCode.MethodNotAllowed, `${options.method} is not allowed on the dashboard's files; use GET`);
  }
  const path = options.segments.join("/");
  const asset = assets.get(path);
  if (asset === undefined) throw new ApiError(ApiErrorCode.NotFound, `no such dashboard file /${path}; the dashboard is at /`);
  let text = cache.get(asset.file);
  if (text === undefined) {
    text = readFileSync(new URL(`./dashboard/${asset.file}`, import.meta.url), "utf8");
    cache.set(asset.file, text);
  }
  return { text, contentType: asset.contentType, headers: dashboardHeaders };
}
