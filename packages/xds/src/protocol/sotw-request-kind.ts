/** How one SotW request relates to the responses already sent on its stream. */
export type SotwRequestKind =
  /** First request for the type on this stream (no nonce yet). */
  | "initial"
  /** Answers the latest response and accepts it (it may also change subscriptions). */
  | "ack"
  /** Answers the latest response and rejects it: `error_detail` is set. */
  | "nack"
  /** Answers an older response: must not trigger a response (docs/xds-protocol.md § nonces). */
  | "stale";

export function classifySotwRequest(request: { responseNonce: string; hasErrorDetail: boolean }, latestNonce: string | undefined): SotwRequestKind {
  if (request.responseNonce === "") {
    // An empty nonce after we already answered happens when a client restarts a
    // subscription; treat it like a first request, which may warrant a response.
    return "initial";
  }
  if (request.responseNonce !== latestNonce) return "stale";
  // A NACK is recognised by error_detail, not by comparing versions: the request
  // echoes the last *accepted* version (go-control-plane #962, #46, #582, #564).
  return request.hasErrorDetail ? "nack" : "ack";
}
