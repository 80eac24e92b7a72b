import type { PeerCertificate } from "node:tls";
import type { BudgetedCall } from "./write-budget.ts";

/** What a call reports to its handler. */
export interface ServerCallEvents {
  /** One request message, whole. */
  message(bytes: Buffer): void;
  /** The client half-closed: it sends no more requests. */
  halfClose(): void;
  /** The call is over: ended by either side, cancelled, or its connection lost. */
  gone(): void;
}

/**
 * One gRPC call as the xDS and CSDS handlers see it, whichever transport
 * carries it: the server's own node:http2 one (http2-grpc-call.ts) or a
 * @grpc/grpc-js call on an embedder's server (grpc-js-call.ts). Keeping the
 * handlers on this interface is what lets one of them replace the other.
 */
export interface ServerCall extends BudgetedCall {
  /** The client certificate the TLS handshake verified; undefined without mTLS. */
  peerCertificate(): PeerCertificate | undefined;
  /** Request headers that are metadata: no pseudo-headers, no reserved gRPC ones; `-bin` values decoded. */
  metadata(): ReadonlyMap<string, readonly (string | Buffer)[]>;
  /** Starts delivering events; called once. */
  listen(events: ServerCallEvents): void;
}
