import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import type { XdsServerOptions } from "./xds-server.ts";

/**
 * Default XdsServerOptions.maxInitialSyncs. Each slot waits for its client's ACKs, so too few
 * slots leave the server idle between round trips; what a sync holds in memory is bounded by the
 * write budget and the send slicer's drain gate instead. 1,000 Delta clients × 10,000 endpoints on
 * two cores (bench/delta-fanout.ts --max-initial-syncs K): 64 slots 20.3-42 s, 256 slots 16.6-20.2 s,
 * off 26.7-33.5 s, peak RSS 0.8-1.1 GiB in every case.
 */
export const defaultMaxInitialSyncs = 256;
/** Default XdsServerOptions.initialSyncTimeoutMs: a client that does not answer its first responses gives its slot up after this. */
export const defaultInitialSyncTimeoutMs = 10_000;

/**
 * The load options of createXdsServer, as checked by {@link checkLoadOptions}:
 * picked from XdsServerOptions, where they are documented, so their docs and
 * defaults stay in one place.
 */
export type LoadOptions = Pick<
  XdsServerOptions,
  "maxInitialSyncs" | "initialSyncTimeoutMs" | "maxBufferedBytes" | "stuckStreamTimeoutMs" | "maxStreams" | "shedStreamsPerSecond"
>;

/**
 * Checks admission, write-budget and stream-cap options (XdsServerOptions).
 *
 * @throws XdsError `invalid_argument` naming the first option out of its range.
 */
export function checkLoadOptions(options: LoadOptions): void {
  integer(options.maxInitialSyncs, "maxInitialSyncs", 0);
  integer(options.initialSyncTimeoutMs, "initialSyncTimeoutMs", 1);
  integer(options.maxBufferedBytes, "maxBufferedBytes", 1024);
  integer(options.stuckStreamTimeoutMs, "stuckStreamTimeoutMs", 0);
  integer(options.maxStreams, "maxStreams", 0);
  integer(options.shedStreamsPerSecond, "shedStreamsPerSecond", 1);
}

function integer(value: number | undefined, name: string, min: number): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `${name} must be an integer >= ${min}, not ${value}`);
  }
}
