import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, ApiErrorCode } from "./api-error.ts";

/** What one event says: the store's revision, and a fingerprint of the status report it was computed from. */
export interface ChangeEvent {
  readonly revision: number;
  readonly status: string;
}

export interface ChangeEventsOptions {
  /** The current revision and status, as the API answers them. */
  readonly snapshot: () => { readonly revision: number; readonly status: unknown };
  /** How often the state is compared while someone listens; 250 ms (at most 4 events a second). */
  readonly intervalMs?: number;
  /**
   * The share of one core the comparisons may take: a comparison that took d ms waits at
   * least d / share ms for the next, so a large fleet gets slower events, not a busy
   * control plane; 0.1.
   */
  readonly cpuShare?: number;
  /** A comment line this often keeps proxies from closing an idle stream; 15 s. */
  readonly heartbeatMs?: number;
  /** Streams open at once; 64 (503 beyond). */
  readonly maxStreams?: number;
  /** Told when the state could not be read for an event (each distinct failure once). */
  readonly onError?: (message: string) => void;
}

export interface ChangeEvents {
  /** Turns the response into a Server-Sent Events stream (GET /api/v1/events). */
  attach(req: IncomingMessage, res: ServerResponse): void;
  /** Ends every stream and stops the timers (admin close()). */
  close(): void;
}

/**
 * GET /api/v1/events for the dashboard: an `event: change` whenever the revision or the
 * status report changes, and one right away. The events carry no data beyond a revision
 * and a hash, so nothing in them needs redacting: the page reads what changed through
 * the API. The state is compared on a timer only while a stream is open, which also
 * debounces a burst of ACKs into one event per interval. Measured: building and hashing
 * the status report of 1000 proxies takes about 25 ms, of 5000 about 130 ms (cpuShare).
 */
export function createChangeEvents(options: ChangeEventsOptions): ChangeEvents {
  const intervalMs = options.intervalMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const maxStreams = options.maxStreams ?? 64;
  const cpuShare = options.cpuShare ?? 0.1;
  const streams = new Set<ServerResponse>();
  let last: ChangeEvent | undefined;
  let lastError: string | undefined;
  let poll: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const current = (): ChangeEvent => {
    const s = options.snapshot();
    return { revision: s.revision, status: createHash("sha256").update(JSON.stringify(s.status)).digest("hex").slice(0, 16) };
  };
  const frame = (e: ChangeEvent) => `event: change\ndata: ${JSON.stringify(e)}\n\n`;

  function tick(): void {
    const started = performance.now();
    try {
      const next = current();
      if (last === undefined || last.revision !== next.revision || last.status !== next.status) {
        last = next;
        for (const res of streams) res.write(frame(next));
      }
    } catch (error) {
      // A timer must not throw (it would end the process); the streams keep being served, and
      // the same failure is reported once, not four times a second.
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastError) options.onError?.(message);
      lastError = message;
    }
    schedule(Math.max(intervalMs, (performance.now() - started) / cpuShare));
  }

  function schedule(ms: number): void {
    poll = setTimeout(tick, ms).unref();
  }

  function stopTimers(): void {
    clearTimeout(poll);
    clearInterval(heartbeat);
    poll = heartbeat = undefined;
    last = undefined;
  }

  return {
    attach(req, res) {
      if (streams.size >= maxStreams) {
        throw new ApiError(ApiErrorCode.Unavailable, `${maxStreams} event streams are open already; close a dashboard tab and retry`, {
          headers: { "retry-after": "5" },
        });
      }
      const first = current();
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" });
      res.write(`retry: 2000\n\n${frame(first)}`);
      streams.add(res);
      if (poll === undefined) {
        last = first;
        schedule(intervalMs);
        heartbeat = setInterval(() => {
          for (const r of streams) r.write(": keep-alive\n\n");
        }, heartbeatMs).unref();
      }
      req.on("close", () => {
        streams.delete(res);
        if (streams.size === 0) stopTimers();
      });
    },
    close() {
      for (const res of streams) res.end();
      streams.clear();
      stopTimers();
    },
  };
}
