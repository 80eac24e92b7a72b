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
  const events: RecordedXdsEvents = { opens: [], closes: [], requests: [], responses: [], acks: [], nacks: [], hookErrors: [] };
  const server = createXdsServer({
    cache,
    ...(options.controlPlaneId === undefined ? {} : { controlPlaneId: options.controlPlaneId }),
    hooks: {
      onStreamOpen: (e) => events.opens.push(e),
      onStreamClose: (e) => events.closes.push(e),
      onRequest: (e) => events.requests.push(e),
      onResponse: (e) => events.responses.push(e),
      onAck: (e) => events.acks.push(e),
      onNack: (e) => events.nacks.push(e),
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
