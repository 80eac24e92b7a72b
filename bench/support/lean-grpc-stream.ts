// One bidirectional gRPC stream on its own HTTP/2 connection, over node:http2,
// for the benchmark's load clients (fleet-clients.ts): like an Envoy, each
// client has its own connection. It replaces @grpc/grpc-js there because the
// clients share the 2-core machine with the server they measure, and grpc-js's
// per-chunk Buffer.concat and channel machinery cost the client process more
// CPU during a 1,000-client initial sync than the server itself spent. This is
// only as much gRPC as those clients need: no retries, no compression, no
// deadlines, raw message bytes in and out.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { frameMessage, GrpcFrameDecoder } from "./grpc-frame-decoder.ts";

/**
 * HTTP/2 flow-control windows of the client, per stream and per connection
 * (one stream per connection here, so the same). 4 MiB is more than one
 * initial Delta or SotW response at R=10,000 (~1.5 MB), so the server can
 * write a whole response without waiting for a WINDOW_UPDATE: flow control
 * must not be what the benchmark measures. (Envoy's defaults are larger still,
 * 256 MiB; the client reads as fast as the data comes, so a larger window
 * would not change what is buffered, only what the server may send unasked.)
 */
export const clientWindowBytes = 4 << 20;

export interface LeanGrpcStreamOptions {
  /** e.g. `http://127.0.0.1:18000`, or `https://…` for TLS. */
  readonly authority: string;
  /** The method's path, e.g. `/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources`. */
  readonly path: string;
  /** TLS (with `https:`): the CA to trust, and the client's pair for mTLS. */
  readonly tls?: { readonly ca: Buffer; readonly cert?: Buffer; readonly key?: Buffer; readonly servername?: string };
  /** Each response message; a view valid only during the call. A throw fails the stream. */
  readonly onMessage: (message: Buffer) => void;
  /**
   * Once, when the stream is over: `undefined` for grpc-status 0 (the server
   * ended it), else what went wrong (a status and its message, a reset, a
   * connection error). Not called after `close()`.
   */
  readonly onEnd: (error: string | undefined) => void;
}

export interface LeanGrpcStream {
  /** Sends one request message (framed here). */
  write(message: Uint8Array): void;
  /** Half-closes the stream and closes the connection; onEnd is not called any more. */
  close(): void;
}

export function openLeanGrpcStream(options: LeanGrpcStreamOptions): LeanGrpcStream {
  let ended = false;
  const end = (error: string | undefined): void => {
    if (ended) return;
    ended = true;
    options.onEnd(error);
    session.destroy();
  };
  const tls = options.tls;
  const session: ClientHttp2Session = connect(
    options.authority,
    {
      settings: { initialWindowSize: clientWindowBytes },
      ...(tls === undefined ? {} : { ca: tls.ca, ...(tls.cert === undefined ? {} : { cert: tls.cert }), ...(tls.key === undefined ? {} : { key: tls.key }), ...(tls.servername === undefined ? {} : { servername: tls.servername }) }),
    },
    () => session.setLocalWindowSize(clientWindowBytes),
  );
  session.on("error", (error: Error) => end(`connection error: ${error.message}`));
  const stream: ClientHttp2Stream = session.request({
    [constants.HTTP2_HEADER_METHOD]: "POST",
    [constants.HTTP2_HEADER_PATH]: options.path,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
    [constants.HTTP2_HEADER_TE]: "trailers",
  });
  const decoder = new GrpcFrameDecoder(options.onMessage);
  // The status comes in the trailers, or in the headers of a trailers-only response.
  let status: IncomingHttpHeaders | undefined;
  let httpStatus: number | undefined;
  stream.on("response", (headers) => {
    httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
    if (headers["grpc-status"] !== undefined) status = headers;
  });
  stream.on("trailers", (trailers) => {
    status = trailers;
  });
  stream.on("data", (chunk: Buffer) => {
    if (ended) return;
    try {
      decoder.push(chunk);
    } catch (error) {
      end(`bad response: ${(error as Error).message}`);
    }
  });
  stream.on("error", (error: Error) => end(`stream error: ${error.message}`));
  // The response is over at the end of the data (trailers arrived, or a
  // trailers-only response): the stream is half-closed then, and never
  // "close"s while our side stays open, as it does for the life of an ADS
  // stream. A reset without a status is seen at "close".
  const finish = (): void => {
    if (status !== undefined) {
      const code = String(status["grpc-status"]);
      const message = status["grpc-message"];
      end(code === "0" ? undefined : `grpc-status ${code}${message === undefined ? "" : `: ${decodeURIComponent(String(message))}`}`);
    } else if (httpStatus !== undefined && httpStatus !== 200) {
      end(`HTTP status ${httpStatus}`);
    } else {
      end(`stream closed without a grpc-status (HTTP/2 code ${stream.rstCode ?? "none"}${decoder.pending ? ", inside a message" : ""})`);
    }
  };
  stream.on("end", finish);
  stream.on("close", finish);
  return {
    write(message: Uint8Array): void {
      if (!ended) stream.write(frameMessage(message));
    },
    close(): void {
      ended = true;
      stream.end();
      session.close();
    },
  };
}
