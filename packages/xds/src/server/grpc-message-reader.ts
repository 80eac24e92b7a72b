import { gunzipSync, inflateSync } from "node:zlib";
import { StatusCode, type StreamError } from "./stream-transport.ts";

/** Options of {@link GrpcMessageReader}. */
export interface GrpcMessageReaderOptions {
  /** Largest message accepted (after decompression); a larger one is RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** The request's `grpc-encoding` header (absent: identity). */
  readonly encoding: string | undefined;
  /** Each whole message, in order. */
  readonly onMessage: (message: Buffer) => void;
  /** The first framing error; no message is delivered after it. */
  readonly onError: (error: StreamError) => void;
}

/** Encodings a compressed request may use (gRPC's `grpc-accept-encoding`). */
export const acceptedEncodings = "identity,deflate,gzip";

/**
 * Cuts an HTTP/2 request body into gRPC length-prefixed messages (a 5-byte
 * header: compressed flag, then a 32-bit big-endian length). A message that
 * lies whole inside one DATA chunk is handed on as a view of that chunk;
 * one split across chunks is gathered into a single buffer of its exact
 * length, so a large request costs one copy, not one per chunk
 * (grpc-js's concatenation is what made Delta initial syncs slow, issue 15).
 */
export class GrpcMessageReader {
  readonly #o: GrpcMessageReaderOptions;
  #header = Buffer.alloc(5);
  #headerHave = 0;
  #body: Buffer | undefined = undefined;
  #bodyHave = 0;
  #compressed = false;
  #failed = false;

  constructor(options: GrpcMessageReaderOptions) {
    this.#o = options;
  }

  /** True once a framing error was reported. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Feeds one DATA chunk. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#failed) {
      if (this.#body === undefined) {
        // A whole header and body in this chunk: no copy at all.
        if (this.#headerHave === 0 && chunk.length - at >= 5) {
          const length = chunk.readUInt32BE(at + 1);
          const compressed = chunk[at] === 1;
          if (!this.#checkHeader(chunk[at] ?? 0, length)) return;
          if (chunk.length - at - 5 >= length) {
            this.#deliver(chunk.subarray(at + 5, at + 5 + length), compressed);
            at += 5 + length;
            continue;
          }
          this.#startBody(length, compressed);
          at += 5;
          continue;
        }
        const take = Math.min(5 - this.#headerHave, chunk.length - at);
        chunk.copy(this.#header, this.#headerHave, at, at + take);
        this.#headerHave += take;
        at += take;
        if (this.#headerHave < 5) return;
        this.#headerHave = 0;
        const flag = this.#header[0] ?? 0;
        const length = this.#header.readUInt32BE(1);
        if (!this.#checkHeader(flag, length)) return;
        if (length === 0) {
          this.#deliver(Buffer.alloc(0), flag === 1);
          continue;
        }
        this.#startBody(length, flag === 1);
        continue;
      }
      const take = Math.min(this.#body.length - this.#bodyHave, chunk.length - at);
      chunk.copy(this.#body, this.#bodyHave, at, at + take);
      this.#bodyHave += take;
      at += take;
      if (this.#bodyHave === this.#body.length) {
        const body = this.#body;
        this.#body = undefined;
        this.#deliver(body, this.#compressed);
      }
    }
  }

  /** True when the body ended between messages (a truncated message is an error the caller reports). */
  get atBoundary(): boolean {
    return this.#body === undefined && this.#headerHave === 0;
  }

  #startBody(length: number, compressed: boolean): void {
    this.#body = Buffer.allocUnsafe(length);
    this.#bodyHave = 0;
    this.#compressed = compressed;
  }

  #checkHeader(flag: number, length: number): boolean {
    if (flag > 1) return this.#fail(StatusCode.Internal, `invalid gRPC message flag ${flag} (0 or 1 expected)`);
    if (length > this.#o.maxMessageBytes) {
      return this.#fail(StatusCode.ResourceExhausted, `received a message of ${length} bytes, larger than the server's maxReceiveMessageBytes ${this.#o.maxMessageBytes}`);
    }
    return true;
  }

  #deliver(body: Buffer, compressed: boolean): void {
    if (!compressed) {
      this.#o.onMessage(body);
      return;
    }
    const encoding = this.#o.encoding ?? "identity";
    if (encoding !== "gzip" && encoding !== "deflate") {
      this.#fail(StatusCode.Internal, `a compressed message with grpc-encoding "${encoding}"; this server decompresses ${acceptedEncodings}`);
      return;
    }
    let plain: Buffer;
    try {
      // maxOutputLength bounds a decompression bomb to the message limit.
      const limit = { maxOutputLength: this.#o.maxMessageBytes + 1 };
      plain = encoding === "gzip" ? gunzipSync(body, limit) : inflateSync(body, limit);
    } catch (error) {
      const tooBig = (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE";
      if (tooBig) this.#fail(StatusCode.ResourceExhausted, `a compressed message inflates past the server's maxReceiveMessageBytes ${this.#o.maxMessageBytes}`);
      else this.#fail(StatusCode.Internal, `could not decompress a ${encoding} message: ${(error as Error).message}`);
      return;
    }
    if (plain.length > this.#o.maxMessageBytes) {
      this.#fail(StatusCode.ResourceExhausted, `a compressed message inflates to ${plain.length} bytes, larger than the server's maxReceiveMessageBytes ${this.#o.maxMessageBytes}`);
      return;
    }
    this.#o.onMessage(plain);
  }

  #fail(code: number, details: string): false {
    this.#failed = true;
    this.#body = undefined;
    this.#o.onError({ code, details });
    return false;
  }
}
