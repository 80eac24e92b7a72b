// gRPC length-prefixed message framing (a 1-byte compressed flag and a 4-byte
// big-endian length before every message) for the benchmark's lean clients
// (lean-grpc-stream.ts). The decoder must cost next to nothing: grpc-js's
// decoder concatenated every chunk onto what it held, which, at 1,000 clients
// receiving ~1.5 MB responses in 16 KiB chunks, spent seconds of the shared
// machine's CPU in Buffer.concat and the collector. Here a message that lies
// whole in one chunk is handed on as a view of that chunk (no copy); a message
// spread over chunks gets exactly one buffer of its length, each chunk copied
// into it once.

/** The 5-byte gRPC message prefix around one message. */
export function frameMessage(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0; // not compressed: the clients never negotiate an encoding
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** Splits a byte stream of gRPC frames into messages; `onMessage` gets a view that is only valid during the call. */
export class GrpcFrameDecoder {
  readonly #onMessage: (message: Buffer) => void;
  /** A prefix split across chunks, gathered here; rare, so 5 bytes reused. */
  readonly #prefix = Buffer.alloc(5);
  #prefixFilled = 0;
  /** The message being gathered across chunks, and how much of it has arrived. */
  #message: Buffer | undefined;
  #messageFilled = 0;

  constructor(onMessage: (message: Buffer) => void) {
    this.#onMessage = onMessage;
  }

  /** Whether bytes of an unfinished frame are held (a stream that ends now was cut short). */
  get pending(): boolean {
    return this.#prefixFilled > 0 || this.#message !== undefined;
  }

  /** Feeds one chunk; throws on a compressed message (none was negotiated). */
  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const message = this.#message;
      if (message !== undefined) {
        const n = Math.min(message.length - this.#messageFilled, chunk.length - pos);
        chunk.copy(message, this.#messageFilled, pos, pos + n);
        this.#messageFilled += n;
        pos += n;
        if (this.#messageFilled === message.length) {
          this.#message = undefined;
          this.#onMessage(message);
        }
        continue;
      }
      let length: number;
      if (this.#prefixFilled === 0 && chunk.length - pos >= 5) {
        // The common case: the prefix is read where it lies.
        length = this.#length(chunk, pos);
        pos += 5;
      } else {
        const n = Math.min(5 - this.#prefixFilled, chunk.length - pos);
        chunk.copy(this.#prefix, this.#prefixFilled, pos, pos + n);
        this.#prefixFilled += n;
        pos += n;
        if (this.#prefixFilled < 5) return;
        this.#prefixFilled = 0;
        length = this.#length(this.#prefix, 0);
      }
      if (chunk.length - pos >= length) {
        this.#onMessage(chunk.subarray(pos, pos + length));
        pos += length;
      } else {
        this.#message = Buffer.allocUnsafe(length);
        this.#messageFilled = 0;
      }
    }
  }

  #length(buf: Buffer, at: number): number {
    if (buf[at] !== 0) throw new Error(`compressed gRPC message (flag ${buf[at]}), but no encoding was negotiated`);
    return buf.readUInt32BE(at + 1);
  }
}
