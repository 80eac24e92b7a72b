// What the admin API's tests share: a real store, reconciler and admin server on an
// ephemeral loopback port, and raw HTTP requests whose every header the test chooses.
import { mkdtempSync, rmSync } from "node:fs";
import { type IncomingHttpHeaders, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSnapshotCache } from "@ts-control-plane/xds";
import { createReconciler } from "../reconciler/reconciler.ts";
import { buildStatusReport } from "../status/status-report.ts";
import { openObjectStore } from "../store/object-store.ts";
import type { AdminAuth } from "./admin-auth.ts";
import { createAdminServer } from "./admin-server.ts";
import { createOpenApiRecorder } from "./openapi-check.ts";
import { openTokenStore, type TokenStore } from "./token-store.ts";

export interface TestAdmin {
  readonly port: number;
  readonly tokens: TokenStore;
  readonly lines: string[];
  /** One request with exactly these headers (node:http sets no Host of its own when one is given). */
  send(options: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; json: Record<string, unknown>; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

export async function startTestAdmin(options: { auth: "none" | "token"; allowedHosts?: readonly string[] }): Promise<TestAdmin> {
  const dir = mkdtempSync(join(tmpdir(), "cp-admin-auth-"));
  const store = openObjectStore({ file: join(dir, "control-plane.db") });
  const reconciler = createReconciler({ store, cache: createSnapshotCache({ ads: true }), debounceMs: 5 });
  const tokens = openTokenStore({ file: join(dir, "admin-tokens.json") });
  const auth: AdminAuth = options.auth === "token" ? { mode: "token", tokens } : { mode: "none" };
  const lines: string[] = [];
  // Every answer is checked against the OpenAPI document; close() fails the test on a mismatch.
  const openApi = createOpenApiRecorder();
  const admin = createAdminServer({
    onReply: openApi.onReply,
    store,
    reconciler,
    auth,
    ...(options.allowedHosts !== undefined ? { allowedHosts: options.allowedHosts } : {}),
    xds: { host: "127.0.0.1", port: 18000 },
    log: (l) => lines.push(l),
    proxyConfig: () => undefined,
    status: () => buildStatusReport({ revision: store.currentRevision(), proxies: [], groupOf: () => undefined, snapshotOf: () => undefined, groups: [] }),
  });
  await reconciler.start();
  const port = await admin.listen({ host: "127.0.0.1", port: 0 });
  return {
    port,
    tokens,
    lines,
    send: ({ method = "GET", path, headers = {}, body }) =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => {
            let json: Record<string, unknown> = {};
            try {
              json = JSON.parse(text) as Record<string, unknown>;
            } catch {
              json = { text };
            }
            resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
          });
        });
        req.on("error", reject);
        req.end(body);
      }),
    async close() {
      await admin.close();
      await reconciler.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
      openApi.assertClean();
    },
  };
}
