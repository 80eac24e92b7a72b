import type { EncodedResource } from "../resource/encoded-resource.ts";
import type { TypeResources } from "./sotw-selection.ts";

/**
 * What a SotW TTL heartbeat for one type resends, or undefined when no
 * heartbeat is due (nothing with a TTL was sent).
 *
 * The xDS protocol describes a heartbeat as a `Resource` wrapper without its
 * `resource` field. Envoy's SotW client does not make that work:
 * - GrpcMuxImpl (Envoy's default SotW mux, grpc_mux_impl.cc onDiscoveryResponse)
 *   drops body-less wrappers that match the accepted version_info
 *   (isHeartbeatResource) before processDiscoveryResources records TTLs, so
 *   such a heartbeat refreshes nothing and the resource expires anyway;
 * - both that mux and the unified one (sotw_subscription_state.cc) leave them
 *   out of onConfigUpdate, and for LDS and CDS a SotW update without a
 *   resource deletes it: a body-less heartbeat would delete the very listener
 *   or cluster it means to keep.
 * So a SotW heartbeat resends the resources themselves, wrapped with their
 * TTL, at the version the client holds: Envoy re-arms each TTL, and LDS and
 * CDS find the content unchanged and leave the listener or cluster alone.
 * For LDS and CDS (full state) the heartbeat is the whole set last sent,
 * since anything missing would be deleted; for other types it is only the
 * TTL'd resources the client holds that the cache still has (one deleted
 * from the cache is no longer refreshed, so it expires: SotW EDS/RDS cannot
 * say "removed"). A resource the cache changed is refreshed at the content
 * the client holds: the update normally goes out at once instead; a heartbeat
 * meets a changed resource only when the update is held back (too large),
 * and then the client keeps its last configuration alive.
 * The bytes are those of the last response, encoded once and shared.
 */
export function selectSotwHeartbeat(options: {
  fullState: boolean;
  lastSent: readonly EncodedResource[] | undefined;
  available: TypeResources;
}): readonly EncodedResource[] | undefined {
  const { fullState, lastSent, available } = options;
  if (!lastSent) return undefined;
  const withTtl = lastSent.filter((r) => r.ttlMs !== undefined && available.items.has(r.name));
  if (withTtl.length === 0) return undefined;
  return fullState ? lastSent : withTtl;
}
