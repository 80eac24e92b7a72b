import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { TestContext } from "node:test";

export interface LocalListener {
  readonly port: number;
  /** Closes the server and every connection it holds; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Listens on a free port of 127.0.0.1 and gives the idempotent close every test
 * server needs; with `t`, the server is closed in `t.after` even when the test fails.
 */
export async function listenLocal(server: HttpServer | HttpsServer, options: { what: string; t?: TestContext }): Promise<LocalListener> {
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const a = server.address();
      if (a === null || typeof a === "string") reject(new Error(`${options.what} has no TCP address`));
      else resolve(a.port);
    });
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  options.t?.after(close);
  return { port, close };
}
