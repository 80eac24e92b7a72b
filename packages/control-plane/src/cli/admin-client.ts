import type { Diagnostic } from "../model/model-object.ts";

/** An admin API error answer, or a transport failure (status 0). */
export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
  readonly status: number;
  readonly code: string;
  readonly diagnostics: readonly Diagnostic[];

  constructor(status: number, code: string, message: string, diagnostics: readonly Diagnostic[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.diagnostics = diagnostics;
  }
}

export interface AdminClient {
  request<T>(method: string, path: string, options?: { body?: string; contentType?: string; text?: boolean }): Promise<T>;
}

/** A small fetch-based client of the admin API; every error answer becomes an AdminApiError. */
export function createAdminClient(options: { server: string; source?: string; token?: string; timeoutMs?: number }): AdminClient {
  const base = options.server.replace(/\/+$/, "");
  return {
    async request<T>(method: string, path: string, opts: { body?: string; contentType?: string; text?: boolean } = {}): Promise<T> {
      let response: Response;
      try {
        response = await fetch(base + path, {
          method,
          headers: {
            // The admin API refuses a state-changing request without a JSON or YAML type, even bodiless ones (request-origin.ts).
            ...(opts.body !== undefined || method !== "GET" ? { "content-type": opts.contentType ?? "application/json" } : {}),
            ...(options.token !== undefined ? { authorization: `Bearer ${options.token}` } : {}),
            ...(options.source !== undefined ? { "x-change-source": options.source } : {}),
          },
          ...(opts.body !== undefined ? { body: opts.body } : {}),
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
        throw new AdminApiError(0, "unreachable", `cannot reach the control plane at ${base}${cause} (is it running? set --server or CONTROL_PLANE_SERVER)`);
      }
      const text = await response.text();
      if (!response.ok) {
        let parsed: { error?: { code?: string; message?: string; diagnostics?: Diagnostic[] } } = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          // not our JSON: keep the raw text as the message
        }
        throw new AdminApiError(
          response.status,
          parsed.error?.code ?? `http_${response.status}`,
          parsed.error?.message ?? (text.trim() || response.statusText),
          parsed.error?.diagnostics ?? [],
        );
      }
      return (opts.text ? text : JSON.parse(text)) as T;
    },
  };
}
