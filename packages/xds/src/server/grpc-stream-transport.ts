import type * as grpc from "@grpc/grpc-js";
import type { StreamTransport } from "./stream-transport.ts";

/** How much a stream may have written and not yet flushed before its writes say "wait". */
export const defaultMaxPendingBytes = 256 * 1024;

/**
 * A grpc-js server stream as a StreamTransport, with back-pressure by bytes.
 * grpc-js streams count messages (16 before `write` returns false), not
 * bytes, so a 1.4 MB initial response "fits" and 1,000 of them sit framed in
 * memory at once (issue 15: 1.4 MB of RSS per stream during a sync). Here a
 * write says "wait" once more than `maxPendingBytes` are written and not yet
 * flushed (grpc-js calls a write's callback when HTTP/2 took it), and
 * `onceDrained` waits for that flush: the ordered pump then holds the stream,
 * and the send slicer (send-slicer.ts) bounds how many streams hold one.
 */
export function grpcStreamTransport(call: grpc.ServerDuplexStream<Buffer, Buffer>, options: { maxPendingBytes?: number } = {}): StreamTransport {
  const limit = options.maxPendingBytes ?? defaultMaxPendingBytes;
  let pending = 0;
  let needDrain = false;
  let waiters: Array<() => void> = [];
  const ready = (): boolean => pending <= limit && !needDrain;
  const release = (): void => {
    if (!ready() || waiters.length === 0) return;
    const callbacks = waiters;
    waiters = [];
    for (const callback of callbacks) callback();
  };
  call.on("drain", () => {
    needDrain = false;
    release();
  });
  return {
    write(message) {
      pending += message.length;
      // The callback also runs, with an error, when the stream is destroyed first.
      const ok = call.write(message, () => {
        pending -= message.length;
        release();
      });
      if (!ok) needDrain = true;
      return ok && pending <= limit;
    },
    onceDrained(callback) {
      waiters.push(callback);
      // Already drained: call back on the next tick, never inside the caller's own step.
      if (ready()) queueMicrotask(release);
    },
    end(error) {
      if (error) call.emit("error", { code: error.code, details: error.details });
      else call.end();
    },
  };
}
