import type { TestContext } from "node:test";
import {
  createSnapshotCache,
  createXdsServer,
  type AckEvent,
  type NackEvent,
  type RequestEvent,
  type ResponseEvent,
  type SnapshotCache,
  type StreamCloseEvent,
  type StreamOpenEvent,
  type XdsServer,
} from "@ts-control-plane/xds";

/** Every hook event the server raised, in order, per hook. */
export interface RecordedXdsEvents {
  readonly opens: StreamOpenEvent[];
  readonly closes: StreamCloseEvent[];
  readonly requests: RequestEvent[];
  readonly responses: ResponseEvent[];
  readonly acks: AckEvent[];
  readonly nacks: NackEvent[];
  readonly hookErrors: unknown[];
  /** Every event above in the order the server raised them, for "what came before what" assertions. */
  readonly timeline: TimelineEntry[];
}

export type TimelineEntry =
  | { readonly hook: "onStreamOpen"; readonly event: StreamOpenEvent }
  | { readonly hook: "onStreamClose"; readonly event: StreamCloseEvent }
  | { readonly hook: "onRequest"; readonly event: RequestEvent }
  | { readonly hook: "onResponse"; readonly event: ResponseEvent }
  | { readonly hook: "onAck"; readonly event: AckEvent }
  | { readonly hook: "onNack"; readonly event: NackEvent };

/** One line per timeline entry ("→ CDS [c1,c2] nonce 3", "← ACK CDS nonce 3"), for diagnostics. */
export function describeTimeline(entries: readonly TimelineEntry[]): string[] {
  const short = (typeUrl: string) => typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
  return entries.map((e) => {
    switch (e.hook) {
      case "onStreamOpen":
        return `stream ${e.event.streamId} open`;
      case "onStreamClose":
        return `stream ${e.event.streamId} closed`;
      case "onRequest":
        return `← request ${short(e.event.typeUrl)} [${e.event.resourceNames.join(",")}] nonce ${e.event.responseNonce || "-"}${e.event.stale ? " (stale)" : ""}`;
      case "onResponse":
        return `→ response ${short(e.event.typeUrl)} [${e.event.resourceNames.join(",")}] nonce ${e.event.nonce}`;
      case "onAck":
        return `← ACK ${short(e.event.typeUrl)} nonce ${e.event.nonce}`;
      default:
        return `← NACK ${short(e.event.typeUrl)} nonce ${e.event.nonce}: ${e.event.message}`;
    }
  });
}

export interface XdsServerFixture {
  readonly cache: SnapshotCache;
  readonly server: XdsServer;
  /** Bound port on 127.0.0.1. */
  readonly port: number;
  readonly events: RecordedXdsEvents;
  close(): Promise<void>;
}

/**
 * The library's snapshot cache and xDS server (ADS and per-type SotW services)
 * on an ephemeral 127.0.0.1 port, with every hook event recorded so tests can
 * assert what the server saw and sent. Closed in `t.after` when `t` is given.
 */
export async function startXdsServer(
  options: { t?: TestContext; ads?: boolean; controlPlaneId?: string; /** 0 (ephemeral) by default; a known port to stand in for a restarted control plane. */ port?: number } = {},
): Promise<XdsServerFixture> {
  const cache = createSnapshotCache(options.ads === undefined ? {} : { ads: options.ads });
  const events: RecordedXdsEvents = { opens: [], closes: [], requests: [], responses: [], acks: [], nacks: [], hookErrors: [], timeline: [] };
  const { timeline } = events;
  const server = createXdsServer({
    cache,
    ...(options.controlPlaneId === undefined ? {} : { controlPlaneId: options.controlPlaneId }),
    hooks: {
      onStreamOpen: (event) => events.opens.push(event) && timeline.push({ hook: "onStreamOpen", event }),
      onStreamClose: (event) => events.closes.push(event) && timeline.push({ hook: "onStreamClose", event }),
      onRequest: (event) => events.requests.push(event) && timeline.push({ hook: "onRequest", event }),
      onResponse: (event) => events.responses.push(event) && timeline.push({ hook: "onResponse", event }),
      onAck: (event) => events.acks.push(event) && timeline.push({ hook: "onAck", event }),
      onNack: (event) => events.nacks.push(event) && timeline.push({ hook: "onNack", event }),
      onHookError: (e) => events.hookErrors.push(e),
    },
  });
  const port = await server.listen({ host: "127.0.0.1", port: options.port ?? 0 });
  let closed: Promise<void> | undefined;
  const fixture: XdsServerFixture = {
    cache,
    server,
    port,
    events,
    close() {
      closed ??= server.close({ graceMs: 500 });
      return closed;
    },
  };
  options.t?.after(() => fixture.close());
  return fixture;
}
