import { StartupError, StartupErrorCode } from "./startup-error.ts";

/**
 * Binds a port, turning the errors an operator can fix into a StartupError that names the flag and
 * environment variable to change. grpc-js reports a failed bind only in its message ("No address
 * added ... errors: [listen EADDRINUSE ...]"), node:http in error.code: both are matched.
 */
export async function bindPort(bind: () => Promise<number>, o: { what: string; host: string; port: number; flags: string; hostFlags: string }): Promise<number> {
  try {
    return await bind();
  } catch (error) {
    const text = `${(error as NodeJS.ErrnoException).code ?? ""} ${error instanceof Error ? error.message : String(error)}`;
    const at = `${o.host}:${o.port}`;
    if (text.includes("EADDRINUSE")) {
      throw new StartupError(StartupErrorCode.PortInUse, `the ${o.what} port ${at} is already in use by another process: stop it, or choose another port with ${o.flags}`);
    }
    if (text.includes("EACCES")) {
      throw new StartupError(StartupErrorCode.CannotListen, `no permission to listen on ${at} for the ${o.what} (ports below 1024 need privileges): choose another port with ${o.flags}`);
    }
    if (text.includes("EADDRNOTAVAIL") || text.includes("ENOTFOUND")) {
      throw new StartupError(StartupErrorCode.CannotListen, `cannot listen on ${at} for the ${o.what}: ${o.host} is not an address of this machine; change it with ${o.hostFlags}`);
    }
    throw error;
  }
}
