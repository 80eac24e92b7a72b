import * as grpc from "@grpc/grpc-js";
import type { ConfigWatcher } from "../cache/config-watcher.ts";
import { StatusRegistry, type StreamErrorInfo } from "../cache/node-status.ts";
import { CsdsResourceVersions } from "./csds-resource-versions.ts";
import type { CsdsLimits, CsdsRedact } from "./csds-response.ts";
import { type CsdsAuthorize, checkCsdsLimits, registerCsds } from "./csds-service.ts";
import { XdsError, XdsErrorCode } from "../resource/xds-error.ts";
import { DeltaResponseEncoder, type DeltaEncoderMetrics } from "./delta-response-encoder.ts";
import { DeltaStream } from "./delta-stream.ts";
import { discoveryMethods, type DiscoveryMethod } from "./discovery-services.ts";
import { SotwResponseEncoder, type SotwEncoderMetrics } from "./response-encoder.ts";
import { SotwStream } from "./sotw-stream.ts";
import { StreamReporter } from "./stream-reporter.ts";
import { StatusCode } from "./stream-transport.ts";
import type { XdsHooks } from "./xds-hooks.ts";
import type { XdsMetricsRecorder } from "./xds-metrics-recorder.ts";
import { peerCertificateOf, streamAuthorizer, type XdsAuthorize } from "./authorize-stream.ts";
import { createTlsCredentials, type TlsCredentials, type XdsTlsOptions } from "./tls-credentials.ts";
import { checkMaxNodeBytesOption } from "./node-size-limit.ts";
import { AdmissionQueue, type AdmissionTicket } from "./admission-queue.ts";
import { BufferTotals, defaultMaxBufferedBytes, defaultStuckStreamTimeoutMs, WriteBudget } from "./write-budget.ts";
import { StreamCap } from "./stream-cap.ts";
import { checkLoadOptions, defaultInitialSyncTimeoutMs, defaultMaxInitialSyncs } from "./load-options.ts";
import type { XdsServerLoad } from "./xds-metrics-recorder.ts";
import type { ServerCall } from "./server-call.ts";
import { grpcJsCall } from "./grpc-js-call.ts";
import { createHttp2GrpcServer, type Http2GrpcServer } from "./http2-grpc-server.ts";
import { csdsCallHandlers } from "./csds-service.ts";

/** CSDS served beside xDS: bounds on one answer, and a rewrite of what it shows (XdsServerOptions.csds). */
export interface XdsCsdsOptions extends CsdsLimits {
  /** Rewrites each resource CSDS shows (see CsdsSources.redact); xDS responses are unchanged. */
  readonly redact?: CsdsRedact;
  /** Who may read status (see CsdsAuthorize); everyone when absent. */
  readonly authorize?: CsdsAuthorize;
}

/** Options of {@link createXdsServer}. */
export interface XdsServerOptions {
  /** Where resources come from: a snapshot, linear or mux cache. */
  readonly cache: ConfigWatcher;
  /** Callbacks on stream and protocol events; a hook that throws never affects the stream. */
  readonly hooks?: XdsHooks;
  /**
   * Counts streams, responses, ACKs and NACKs and times convergence (from a
   * change set on the cache to the node's ACK of it): `createXdsMetrics` from
   * `@ts-control-plane/xds/metrics` (prom-client), or your own recorder.
   * Without one, nothing is counted or timed.
   */
  readonly metrics?: XdsMetricsRecorder;
  /** Sent as control_plane.identifier on every response (which replica configured this Envoy). */
  readonly controlPlaneId?: string;
  /** Largest request accepted; larger ones end their stream with RESOURCE_EXHAUSTED. Default 4 MiB. */
  readonly maxReceiveMessageBytes?: number;
  /**
   * Largest `node` (encoded: id, cluster, metadata, locality, extensions...)
   * a request may carry; default 256 KiB, an integer >= 1024 (Envoy's own node
   * is about 60 KB, mostly its list of extensions). A stream whose
   * request carries a bigger one ends with RESOURCE_EXHAUSTED and a message
   * naming both sizes, before the node is decoded: status, hooks and CSDS
   * never see it, so clients cannot make the server hold megabytes of metadata
   * each (docs/xds-protocol.md § Bounded memory). Checked on every request
   * the server decodes (the first one always).
   */
  readonly maxNodeBytes?: number;
  /**
   * Resources that carry a TTL (encodeResource's ttlMs) are refreshed at this
   * interval on every stream that holds them, so Envoy keeps them while this
   * server lives and drops them at TTL expiry when it is gone. Keep it well
   * under the TTL. Off by default.
   * - Delta re-announces them without their body (name, version, ttl).
   * - SotW sends them wrapped in envoy.service.discovery.v3.Resource with
   *   their ttl, and a heartbeat resends the type unchanged at the version the
   *   client holds (for LDS and CDS the whole set): Envoy's SotW client
   *   neither refreshes a TTL from a body-less wrapper nor keeps a listener or
   *   cluster a SotW update leaves out (protocol/sotw-ttl.ts). Encoded once,
   *   shared by every stream. A NACKed response is never resent as a heartbeat.
   * Envoy turns an expiry into a removal, which CDS and LDS apply but EDS and
   * RDS ignore (for endpoints use ClusterLoadAssignment.policy.endpoint_stale_after).
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * Largest response message written; default 4 MiB, gRPC's default limit
   * that many xDS clients keep (kuma#16355: a bigger message kills the
   * stream silently).
   * - Delta: a logical response that would exceed it goes out in several
   *   parts (Delta responses are increments). A single resource bigger than
   *   the limit still goes out alone, and `status` reports it as below.
   * - SotW: a response is the whole state and cannot be split, so one over the
   *   limit is not sent; `status` records `error: { code: "response_too_large" }`
   *   for that node and type (cleared by the next response that delivers)
   *   and the client keeps its last configuration, heartbeats included.
   */
  readonly maxResponseBytes?: number;
  /**
   * ADS make before break for new clusters, in milliseconds; default 5000.
   * Envoy warms a new EDS cluster until its endpoints arrive but does not warm
   * routes: a route that reaches it before the endpoints of its cluster
   * answers 503 (go-control-plane #526, #705, #800). So after a CDS response,
   * an ADS stream (SotW or Delta) holds listeners, routes and later types until
   * the endpoints those clusters reference, that the client does not hold at
   * the current version, were sent, or the clusters are NACKed
   * (protocol/ads-schedule.ts). This is how long it holds them at most, for a
   * client that never asks for those endpoints: long enough for an Envoy
   * under load to ask (it does so before it ACKs the clusters), short enough
   * that such a client gets its listeners anyway. 0 opens the gate at the
   * next turn of the stream. Per-type streams are never held.
   */
  readonly warmingTimeoutMs?: number;
  /**
   * The per-node status record (keyed by node id), e.g. to choose how long
   * disconnected nodes are kept (`maxDisconnected`, `forgetAfterMs`); one
   * with the defaults is created when absent.
   */
  readonly status?: StatusRegistry;
  /**
   * Serve CSDS (envoy.service.status.v3.ClientStatusDiscoveryService) beside
   * xDS, so standard tools can ask what each node has. Default true; an
   * object serves it with options: limits on one answer (default 1000 nodes
   * and 4 MiB; a request over them is refused with RESOURCE_EXHAUSTED and told
   * to ask in parts, docs/xds-protocol.md § Bounded memory), and `redact` to
   * replace private keys in what CSDS shows (see CsdsSources.redact). xDS
   * responses are unchanged.
   */
  readonly csds?: boolean | XdsCsdsOptions;
  /**
   * Serve over TLS (`listen` only): certificate and key, and with
   * `clientCaFile` mTLS, where a client without a certificate from that CA
   * fails the handshake. The files are re-read when they change. Plaintext
   * when absent.
   */
  readonly tls?: XdsTlsOptions;
  /**
   * Which node each stream may be served as, given the verified client
   * certificate (authorize-stream.ts). Absent: every node is allowed.
   */
  readonly authorize?: XdsAuthorize;
  /**
   * Admission control for reconnect storms (docs/xds-protocol.md § Load limits):
   * at most this many streams do their initial sync at once; later
   * ones wait in a FIFO queue (status: `initialSync: "queued"`) and are
   * served in arrival order. A stream's initial sync ends when every response
   * it was sent is ACKed or NACKed, or after `initialSyncTimeoutMs`. Default
   * 256; 0 turns admission control off.
   */
  readonly maxInitialSyncs?: number;
  /** How long a stream may hold its initial-sync slot without answering; default 10,000 ms, an integer >= 1. */
  readonly initialSyncTimeoutMs?: number;
  /**
   * Write budget per stream, in bytes, default 256 KiB: once more than this is
   * written to a stream and not yet taken by HTTP/2 (a client that stops
   * reading, or one large response still in flight), nothing more is written
   * to it until it drains; when it drains it is sent the
   * latest state, never the versions superseded meanwhile. An integer >= 1024.
   */
  readonly maxBufferedBytes?: number;
  /**
   * A stream over its write budget for this long is ended with
   * RESOURCE_EXHAUSTED (recorded in status as `lastStreamError`). Default
   * 60,000 ms; 0 never ends it.
   */
  readonly stuckStreamTimeoutMs?: number;
  /**
   * The most streams served at once (change it at runtime with
   * `setMaxStreams`). New streams over it are refused with UNAVAILABLE; when
   * the cap is lowered under the streams open, the oldest are ended with
   * UNAVAILABLE, `shedStreamsPerSecond` at most each second, and reconnect,
   * to another replica when there is one. No cap by default.
   */
  readonly maxStreams?: number;
  /** How many streams a second are ended while over `maxStreams`; default 10, an integer >= 1. */
  readonly shedStreamsPerSecond?: number;
  /**
   * What `listen` serves on: "http2" (default), the server's own gRPC
   * transport on node:http2, which writes each shared response without
   * copying it per stream and holds less per stream; or "grpc-js", a
   * @grpc/grpc-js server, as `register` uses. Both serve the same services
   * with the same behaviour.
   */
  readonly transport?: "http2" | "grpc-js";
}

/** A running xDS server, as returned by {@link createXdsServer}. */
export interface XdsServer {
  /** Per-node status: what was sent, ACKed and NACKed, per type. */
  readonly status: StatusRegistry;
  /**
   * Counters for encode-once (bodies encoded versus bytes written), SotW TTL
   * wrappers and heartbeats, and the server's load: open, syncing and queued
   * streams, buffered bytes, streams over budget, stuck, shed and refused.
   */
  readonly metrics: Readonly<SotwEncoderMetrics> & XdsServerLoad;
  /** Counters of the Delta encoder: Resource wrappers encoded once, responses, resources and removals written. */
  readonly deltaMetrics: Readonly<DeltaEncoderMetrics>;
  /** Serves ADS and the per-type services on host:port; resolves with the bound port. */
  listen(options: { host?: string; port: number }): Promise<number>;
  /** Per node and resource, the version of the response that last changed it (what CSDS and REST report). */
  readonly resourceVersions: CsdsResourceVersions;
  /** Adds the xDS (and CSDS) services to an existing @grpc/grpc-js server. */
  register(server: grpc.Server): void;
  /**
   * Asks the cache again which key serves each connected node and moves streams
   * whose key changed; call it after changing what `nodeKey` returns (e.g. node
   * group selectors), or connected nodes keep their old key until they reconnect.
   * With `authorize`, every open stream is authorized again first, and one
   * now refused ends with PERMISSION_DENIED.
   */
  rekey(): void;
  /**
   * Changes the stream cap (XdsServerOptions.maxStreams; undefined removes
   * it). Lowered under the streams open, the oldest are ended with
   * UNAVAILABLE, a few a second, until the server is back under it.
   *
   * @throws XdsError `invalid_argument` for a cap that is not an integer >= 0.
   */
  setMaxStreams(maxStreams: number | undefined): void;
  /**
   * Stops serving. Open streams end with UNAVAILABLE at once (clients keep their
   * configuration and reconnect), then the transport shuts down, forced after graceMs.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

const identity = (b: Buffer): Buffer => b;

/**
 * An xDS server over a cache (go-control-plane's `server.NewServer`): ADS and
 * the per-type discovery services, State of the World and Delta, plus CSDS;
 * `listen` serves them on their own gRPC server, `register` adds them to yours.
 *
 * @throws XdsError `invalid_argument` for an option out of its domain (e.g. `maxResponseBytes` below 1024).
 */
export function createXdsServer(options: XdsServerOptions): XdsServer {
  const every = options.heartbeatIntervalMs;
  if (every !== undefined && !(Number.isFinite(every) && every >= 0)) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `heartbeatIntervalMs must be a finite number >= 0, not ${every}`);
  }
  const maxResponse = options.maxResponseBytes;
  if (maxResponse !== undefined && !(Number.isInteger(maxResponse) && maxResponse >= 1024)) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `maxResponseBytes must be an integer >= 1024, not ${maxResponse}`);
  }
  const warming = options.warmingTimeoutMs;
  if (warming !== undefined && !(Number.isFinite(warming) && warming >= 0)) {
    throw new XdsError(XdsErrorCode.InvalidArgument, `warmingTimeoutMs must be a finite number >= 0, not ${warming}`);
  }
  const maxNode = options.maxNodeBytes;
  checkMaxNodeBytesOption(maxNode);
  checkLoadOptions(options);
  if (typeof options.csds === "object") checkCsdsLimits(options.csds);
  const status = options.status ?? new StatusRegistry();
  // CSDS must report the version that last changed each resource, not the
  // type's latest: Envoy keeps an unchanged resource at its older version.
  const resourceVersions = new CsdsResourceVersions({ cache: options.cache });
  // A node the registry forgets (maxDisconnected, forgetAfterMs) takes its versions with it.
  const stopForgetting = status.onForget((nodeId) => resourceVersions.forget(nodeId));
  // Admission control of initial syncs; the tickets of streams syncing now, by stream id.
  const admission = new AdmissionQueue({ maxInitialSyncs: options.maxInitialSyncs ?? defaultMaxInitialSyncs, initialSyncTimeoutMs: options.initialSyncTimeoutMs ?? defaultInitialSyncTimeoutMs });
  const syncing = new Map<number, AdmissionTicket>();
  const buffers = new BufferTotals();
  const maxBuffered = options.maxBufferedBytes ?? defaultMaxBufferedBytes;
  const stuckAfter = options.stuckStreamTimeoutMs ?? defaultStuckStreamTimeoutMs;
  // Streams report here: the server's own records first, then the application's hooks.
  const reporter = new StreamReporter({
    status,
    resourceVersions,
    sync: {
      sent: (streamId, typeUrl) => syncing.get(streamId)?.sent(typeUrl),
      answered: (streamId, typeUrl) => syncing.get(streamId)?.answered(typeUrl),
    },
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
  });
  const encoder = new SotwResponseEncoder(options.controlPlaneId === undefined ? {} : { controlPlaneId: options.controlPlaneId });
  const deltaEncoder = new DeltaResponseEncoder(options.controlPlaneId === undefined ? {} : { controlPlaneId: options.controlPlaneId });
  // Insertion order is age: the stream cap sheds the first ones.
  const streams = new Set<SotwStream | DeltaStream>();
  const cap = new StreamCap({
    maxStreams: options.maxStreams,
    ...(options.shedStreamsPerSecond === undefined ? {} : { shedStreamsPerSecond: options.shedStreamsPerSecond }),
    open: function* () {
      for (const s of streams) yield { shed: (details: string) => endOnPurpose(s, "shed", StatusCode.Unavailable, details) };
    },
    count: () => streams.size,
  });
  const load = (): XdsServerLoad => ({ openStreams: streams.size, ...admission.figures, ...buffers, ...cap.figures });
  options.metrics?.observeLoad?.(load);
  let nextStreamId = 0;
  let listening: Http2GrpcServer | grpc.Server | undefined;
  let tls: TlsCredentials | undefined;

  /** Ends a stream on purpose (shed over the cap, stuck over its budget), recorded in the node's status first. */
  function endOnPurpose(stream: SotwStream | DeltaStream, reason: StreamErrorInfo["reason"], code: number, details: string): void {
    if (stream.nodeId !== "") status.streamError(stream.nodeId, { reason, code, message: details });
    stream.session.fail(code, details);
  }

  function handle(method: DiscoveryMethod, call: ServerCall): void {
    // Over the stream cap: refused before anything is read, with a status Envoy retries (issue 10 item 6).
    const refusal = cap.refusal();
    if (refusal !== undefined) {
      call.end({ code: StatusCode.Unavailable, details: refusal });
      return;
    }
    const id = ++nextStreamId;
    const transport = new WriteBudget({
      call,
      maxBufferedBytes: maxBuffered,
      stuckStreamTimeoutMs: stuckAfter,
      totals: buffers,
      onStuck: (details) => endOnPurpose(stream, "stuck", StatusCode.ResourceExhausted, details),
    });
    const ticket = admission.ticket({
      onState: (state) => {
        if (state === "syncing") syncing.set(id, ticket);
        else if (state === undefined) syncing.delete(id);
        if (stream.nodeId !== "") status.initialSync(stream.nodeId, state);
      },
    });
    const authorize = options.authorize === undefined ? {} : { authorize: streamAuthorizer(options.authorize, () => peerCertificateOf(call.peerCertificate())) };
    const common = { id, transport, watcher: options.cache, reporter, admission: ticket, ...authorize, ...(method.typeUrl === undefined ? {} : { typeUrl: method.typeUrl }) };
    // Delta and SotW share the cache, the reporter, heartbeat, size and warming options; each has its own encoder.
    const heartbeat = {
      ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs }),
      ...(maxResponse === undefined ? {} : { maxResponseBytes: maxResponse }),
      ...(warming === undefined ? {} : { warmingTimeoutMs: warming }),
      ...(maxNode === undefined ? {} : { maxNodeBytes: maxNode }),
    };
    const stream: SotwStream | DeltaStream = method.variant === "delta" ? new DeltaStream({ ...common, encoder: deltaEncoder, ...heartbeat }) : new SotwStream({ ...common, encoder, ...heartbeat });
    streams.add(stream);
    const done = (): void => {
      if (!streams.delete(stream)) return;
      // Its ticket leaves `syncing` through onState as it is released.
      ticket.release();
      transport.released();
      stream.session.close();
    };
    // Requests are handled in slices too (send-slicer.ts): 1,000 streams' first requests of 10,000 names each arrive in one poll of the loop.
    call.listen({
      message: (bytes) => stream.receive(bytes),
      halfClose: () => {
        done();
        call.end();
      },
      gone: done,
    });
  }

  /** Every method's handler by path, for the server's own HTTP/2 transport. */
  function callHandlers(): Map<string, (call: ServerCall) => void> {
    const methods = new Map<string, (call: ServerCall) => void>();
    for (const method of discoveryMethods) methods.set(method.path, (call) => handle(method, call));
    const csds = options.csds ?? true;
    if (csds !== false) {
      const { redact, authorize, ...limits } = csds === true ? {} : csds;
      const sources = { status, cache: options.cache, resourceVersions, ...(redact ? { redact } : {}) };
      for (const [path, handler] of csdsCallHandlers(sources, { limits, ...(authorize ? { authorize } : {}) })) methods.set(path, handler);
    }
    return methods;
  }

  function register(server: grpc.Server): void {
    const byService = new Map<string, Record<string, grpc.MethodDefinition<Buffer, Buffer>>>();
    for (const method of discoveryMethods) {
      const [, service = "", name = ""] = method.path.split("/");
      let def = byService.get(service);
      if (!def) byService.set(service, (def = {}));
      def[name] = {
        path: method.path,
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      };
    }
    for (const [service, def] of byService) {
      const impl: grpc.UntypedServiceImplementation = {};
      for (const name of Object.keys(def)) {
        const method = discoveryMethods.find((m) => m.path === `/${service}/${name}`) as DiscoveryMethod;
        impl[name] = (call: grpc.ServerDuplexStream<Buffer, Buffer>) => handle(method, grpcJsCall(call));
      }
      server.addService(def, impl);
    }
    const csds = options.csds ?? true;
    if (csds !== false) {
      const { redact, authorize, ...limits } = csds === true ? {} : csds;
      registerCsds(server, { status, cache: options.cache, resourceVersions, ...(redact ? { redact } : {}) }, { limits, ...(authorize ? { authorize } : {}) });
    }
  }

  return {
    status,
    get metrics() {
      return { ...encoder.metrics, ...load() };
    },
    get deltaMetrics() {
      return { ...deltaEncoder.metrics };
    },
    resourceVersions,
    register,
    rekey() {
      for (const s of streams) s.session.rekey();
    },
    setMaxStreams(maxStreams) {
      cap.setMaxStreams(maxStreams);
    },
    async listen({ host = "127.0.0.1", port }) {
      if (listening) throw new XdsError(XdsErrorCode.InvalidState, "the xDS server is already listening");
      // Checked before binding: bad certificate files are refused at start, naming the file.
      const secure = options.tls === undefined ? undefined : createTlsCredentials(options.tls);
      const maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? 4 * 1024 * 1024;
      let server: Http2GrpcServer | grpc.Server;
      let bound: number;
      try {
        if ((options.transport ?? "http2") === "http2") {
          const h2 = createHttp2GrpcServer({ methods: callHandlers(), maxReceiveMessageBytes, ...(secure === undefined ? {} : { tls: secure }) });
          bound = await h2.listen(host, port);
          server = h2;
        } else {
          const g = new grpc.Server({ "grpc.max_receive_message_length": maxReceiveMessageBytes, "grpc.max_send_message_length": -1 });
          register(g);
          bound = await new Promise<number>((resolve, reject) => {
            g.bindAsync(`${host}:${port}`, secure?.credentials ?? grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p)));
          });
          server = g;
        }
      } catch (error) {
        secure?.close();
        throw error;
      }
      tls = secure;
      listening = server;
      return bound;
    },
    async close({ graceMs = 500 } = {}) {
      const server = listening;
      listening = undefined;
      tls?.close();
      tls = undefined;
      stopForgetting();
      cap.stop();
      if (!server) return;
      // xDS streams never end by themselves: without this, shutdown would wait
      // out the whole grace period and then reset them (Envoy logs INTERNAL).
      for (const s of [...streams]) s.session.fail(StatusCode.Unavailable, "the control plane is shutting down");
      if (server instanceof grpc.Server) {
        const g = server;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            g.forceShutdown();
            resolve();
          }, graceMs);
          g.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      } else await server.close(graceMs);
      for (const s of streams) s.session.close();
      streams.clear();
    },
  };
}
