// The server process of delta-fanout.ts, one per protocol: each protocol's
// run starts from a fresh process, so its RSS figures are not those left over
// by the other run (a SotW run at scale leaves gigabytes of freed memory the
// allocator keeps). argv: --protocol delta|sotw --clients N --endpoints R
// --timeout-ms T [--cpu-profile FILE] [--mtls JSON (MtlsFiles)] [--metrics] [--max-initial-syncs K]. IPC: child → { type: "result", result } or { type: "failed", message }.
import { parseArgs } from "node:util";
import type { FleetProtocol } from "./fleet-clients.ts";
import { runFanoutProtocol, type MtlsFiles, type ProtocolResult } from "./run-fanout-protocol.ts";

export type ProtocolChildMessage = { readonly type: "result"; readonly result: ProtocolResult } | { readonly type: "failed"; readonly message: string };
export type ProtocolParentMessage = { readonly type: "exit" };

const { values } = parseArgs({ options: { protocol: { type: "string" }, clients: { type: "string" }, endpoints: { type: "string" }, "timeout-ms": { type: "string" }, "cpu-profile": { type: "string" }, mtls: { type: "string" }, metrics: { type: "boolean", default: false }, "max-initial-syncs": { type: "string" } } });
const protocol = values.protocol as FleetProtocol;
const send = (message: ProtocolChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (!process.send) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });

// The parent going away ends this run; the client process notices its own IPC channel closing.
process.on("disconnect", () => process.exit(1));
process.on("message", (m: ProtocolParentMessage) => {
  if (m.type === "exit") process.exit(0);
});

try {
  const result = await runFanoutProtocol({
    protocol,
    clients: Number(values.clients),
    endpoints: Number(values.endpoints),
    timeoutMs: Number(values["timeout-ms"]),
    ...(values["cpu-profile"] === undefined ? {} : { cpuProfilePath: values["cpu-profile"] }),
    ...(values.mtls === undefined ? {} : { mtls: JSON.parse(values.mtls) as MtlsFiles }),
    metrics: values.metrics === true,
    ...(values["max-initial-syncs"] === undefined ? {} : { maxInitialSyncs: Number(values["max-initial-syncs"]) }),
  });
  await send({ type: "result", result });
  process.exit(0);
} catch (error) {
  await send({ type: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}
