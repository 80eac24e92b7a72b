import type { TestContext } from "node:test";
import { createXdsServer, type XdsServer, type XdsServerOptions } from "../src/server/xds-server.ts";

/** Anything a test opens against the server and must close before it. */
export interface Closable {
  close(): void;
}

/** A server listening on a free port for one test, with the clients the test opened. */
export interface ServedForTest {
  readonly server: XdsServer;
  readonly port: number;
  /** Registers `client` to be closed when the test ends (before the server); returns it. */
  client<C extends Closable>(client: C): C;
}

/**
 * Creates a server with `options`, listens on a free port and, when the test
 * ends, closes every registered client and then the server (100 ms grace).
 * The server tests' one set-up, so each test says only what differs.
 */
export async function serveForTest(t: TestContext, options: XdsServerOptions): Promise<ServedForTest> {
  const server = createXdsServer(options);
  const port = await server.listen({ port: 0 });
  const clients: Closable[] = [];
  t.after(async () => {
    for (const c of clients) c.close();
    await server.close({ graceMs: 100 });
  });
  return {
    server,
    port,
    client<C extends Closable>(client: C): C {
      clients.push(client);
      return client;
    },
  };
}

/** Polls `condition` every 5 ms until it holds; throws naming `what` after `timeoutMs` (generous: ≥5x what the tests expect). */
export async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
