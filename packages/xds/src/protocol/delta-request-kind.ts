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

/**
 * `latest` is the nonce of the latest response for the type, or the nonces of
 * the latest logical response when it went out in several parts (see
 * delta-split.ts): answering any part of it is current.
 */
export function classifyDeltaRequest(
  request: { responseNonce: string; hasErrorDetail: boolean },
  latest: string | ReadonlySet<string> | undefined,
): DeltaRequestKind {
  if (request.responseNonce === "") return "update";
  // A stale nonce must never count as ACK or NACK: a newer response is on its
  // way and the client has not judged it yet (docs/xds-protocol.md § nonces).
  const current = typeof latest === "string" ? request.responseNonce === latest : latest?.has(request.responseNonce) === true;
  if (!current) return "stale";
  // A NACK is recognised by error_detail (go-control-plane #962, #46, #582, #564).
  return request.hasErrorDetail ? "nack" : "ack";
}
