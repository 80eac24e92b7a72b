// Child process: a proxyless gRPC client that resolves `xds:///<target>`
// through @grpc/grpc-js-xds. It runs apart from the test because grpc-js-xds
// reads GRPC_XDS_BOOTSTRAP once and keeps a process-wide xDS client; a process
// of its own gives each test a fresh client and a clean exit.
//
// Usage: fork("grpc-xds-caller.ts", [target]) with GRPC_XDS_BOOTSTRAP set.
// The parent sends { op: "call", id } and gets { id, ok, reply | error } back;
// { op: "exit" } (or the parent going away) ends the process.
import * as grpc from "@grpc/grpc-js";
import * as grpcXds from "@grpc/grpc-js-xds";
import { callWhoami } from "./echo-service.ts";

export type CallerRequest = { readonly op: "call"; readonly id: number; readonly timeoutMs: number } | { readonly op: "exit" };
export type CallerReply = { readonly id: number; readonly ok: true; readonly reply: string } | { readonly id: number; readonly ok: false; readonly error: string };

const target = process.argv[2];
if (!target || !process.send) {
  console.error("usage: fork grpc-xds-caller.ts <target> with an IPC channel and GRPC_XDS_BOOTSTRAP");
  process.exit(2);
}
grpcXds.register();
const client = new grpc.Client(`xds:///${target}`, grpc.credentials.createInsecure());

function exit(code: number): void {
  client.close();
  // grpc-js-xds keeps its xDS stream open for the life of the process.
  process.exit(code);
}

process.on("message", (message: CallerRequest) => {
  if (message.op === "exit") exit(0);
  else
    callWhoami(client, { timeoutMs: message.timeoutMs }).then(
      (reply) => process.send?.({ id: message.id, ok: true, reply } satisfies CallerReply),
      (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) } satisfies CallerReply),
    );
});
process.on("disconnect", () => exit(0));
