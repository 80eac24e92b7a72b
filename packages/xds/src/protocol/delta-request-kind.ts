/** How one Delta request relates to the responses already sent for its type on the stream. */
export type DeltaRequestKind =
  /** No nonce: a first request, or a subscription change without an ACK (Envoy's "ackless" requests). */
  | "update"
  /** Answers the latest response for the type and accepts it. */
  | "ack"
  /** Answers the latest response for the type and rejects it: `error_detail` is set. */
  | "nack"
  /** Answers an older response: never an ACK or NACK, but its subscription changes still apply. */
  | "stale";

export function classifyDeltaRequest(request: { responseNonce: string; hasErrorDetail: boolean }, latestNonce: string | undefined): DeltaRequestKind {
  if (request.responseNonce === "") return "update";
  // A stale nonce must never count as ACK or NACK: a newer response is on its
  // way and the client has not judged it yet (xds-protocol.md § nonces).
  if (request.responseNonce !== latestNonce) return "stale";
  // A NACK is recognised by error_detail (go-control-plane #962, #46, #582, #564).
  return request.hasErrorDetail ? "nack" : "ack";
}
