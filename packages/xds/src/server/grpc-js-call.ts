import type * as grpc from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import type { ServerCall, ServerCallEvents } from "./server-call.ts";
import type { StreamError } from "./stream-transport.ts";

/** A @grpc/grpc-js bidirectional call as a {@link ServerCall} (XdsServer.register on an embedder's server). */
export function grpcJsCall(call: grpc.ServerDuplexStream<Buffer, Buffer>): ServerCall {
  // end(error) emits "error", which throws without a listener (a call refused before it is listened to).
  call.on("error", () => {});
  return {
    write: (message, done) => call.write(message, done),
    onceDrained: (callback) => call.once("drain", callback),
    end: (error?: StreamError) => {
      // grpc-js sends an emitted error as the call's status.
      if (error) call.emit("error", { code: error.code, details: error.details });
      else call.end();
    },
    peerCertificate: (): PeerCertificate | undefined => call.getAuthContext().sslPeerCertificate,
    metadata: () => new Map(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, [v]])),
    listen(events: ServerCallEvents) {
      call.on("data", (bytes: Buffer) => events.message(bytes));
      call.on("end", () => events.halfClose());
      call.on("cancelled", () => events.gone());
      call.on("close", () => events.gone());
      call.on("error", () => events.gone());
    },
  };
}
