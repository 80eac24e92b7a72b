import { createServer, type Server } from "node:net";

/**
 * Free TCP ports on 127.0.0.1, chosen by the kernel.
 *
 * Tests never use fixed ports: other engineers run suites on the same machine
 * at the same time. Every port of one call is held open until all are chosen,
 * so the ports returned together are distinct. A port is free when returned;
 * the caller should bind it promptly (the kernel hands out ephemeral ports in
 * a spread-out order, so reuse within that window is very unlikely).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(await listenEphemeral(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** One free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

function listenEphemeral(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error("free-port: the server has no TCP address"));
        return;
      }
      resolve(address.port);
    });
  });
}
