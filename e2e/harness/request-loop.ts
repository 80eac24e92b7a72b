import { Agent } from "node:http";
import { httpGet } from "./http-get.ts";

/** One request of a loop: when it started, and its status and body, or the error. */
export interface LoopRecord {
  readonly at: number;
  readonly status: number;
  readonly body: string;
  readonly error?: string;
}

export interface RequestLoopOptions {
  readonly url: string;
  /** Pause between the end of one request and the start of the next; 20 ms by default. */
  readonly intervalMs?: number;
  /** Hard bounds: the loop stops by itself after this many requests or this long. */
  readonly maxRequests: number;
  readonly maxDurationMs: number;
  /** Bound for each request; 2 s by default. */
  readonly requestTimeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RequestLoop {
  /** Records so far (a live view). */
  readonly records: readonly LoopRecord[];
  /** Resolves with the first record from now on whose body satisfies `match`; rejects if the loop ends first. */
  next(match: (record: LoopRecord) => boolean): Promise<LoopRecord>;
  /** Resolves with every record once the loop has reached one of its bounds by itself. */
  finished(): Promise<readonly LoopRecord[]>;
  /** Stops after the request in flight and resolves with every record. */
  stop(): Promise<readonly LoopRecord[]>;
}

/** Records whose request failed: a transport error or a status other than 200. */
export function failedRecords(records: readonly LoopRecord[]): LoopRecord[] {
  return records.filter((r) => r.error !== undefined || r.status !== 200);
}

/**
 * A steady, sequential stream of GETs over one keep-alive connection (as a real
 * client would hold one to Envoy), recording every answer. It is how a test
 * proves "zero failed requests" while configuration changes underneath.
 */
export function startRequestLoop(options: RequestLoopOptions): RequestLoop {
  const records: LoopRecord[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const waiters: { match: (r: LoopRecord) => boolean; resolve: (r: LoopRecord) => void; reject: (e: Error) => void }[] = [];
  let stopping = false;
  const started = Date.now();

  const settle = (record: LoopRecord) => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.match(record)) {
        waiters.splice(i, 1);
        w.resolve(record);
      }
    }
  };

  const done = (async () => {
    while (!stopping && records.length < options.maxRequests && Date.now() - started < options.maxDurationMs) {
      const at = Date.now();
      let record: LoopRecord;
      try {
        const res = await httpGet(options.url, { agent, timeoutMs: options.requestTimeoutMs ?? 2000, headers: options.headers ?? {} });
        record = { at, status: res.status, body: res.body };
      } catch (error) {
        record = { at, status: 0, body: "", error: error instanceof Error ? error.message : String(error) };
      }
      records.push(record);
      settle(record);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
    }
    agent.destroy();
    for (const w of waiters.splice(0)) {
      w.reject(new Error(`request loop ended after ${records.length} requests without a matching answer; last: ${JSON.stringify(records.at(-1))}`));
    }
    return records;
  })();

  return {
    records,
    next(match) {
      return new Promise((resolve, reject) => {
        if (stopping) reject(new Error("request loop already stopped"));
        else waiters.push({ match, resolve, reject });
      });
    },
    finished() {
      return done;
    },
    stop() {
      stopping = true;
      return done;
    },
  };
}
