import { constants, createSecureServer, createServer, type Http2SecureServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { createServer as createNetServer, type Socket } from "node:net";
import { processSendSlicer } from "./send-slicer.ts";
import type { TlsCredentials } from "./tls-credentials.ts";
import { Http2GrpcCall } from "./http2-grpc-call.ts";
import type { ServerCall } from "./server-call.ts";
import { StatusCode } from "./stream-transport.ts";

/** Options of {@link createHttp2GrpcServer}. */
export interface Http2GrpcServerOptions {
  /** Handlers by method path (`/package.Service/Method`); others answer UNIMPLEMENTED. */
  readonly methods: ReadonlyMap<string, (call: ServerCall) => void>;
  /** Largest request message accepted. */
  readonly maxReceiveMessageBytes: number;
  /** TLS (mTLS with a client CA); plaintext HTTP/2 when absent. */
  readonly tls?: TlsCredentials;
}

/** A listening gRPC server on node:http2, as returned by {@link createHttp2GrpcServer}. */
export interface Http2GrpcServer {
  /** Resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting, closes every session gracefully, and destroys those still open after graceMs. */
  close(graceMs: number): Promise<void>;
}

/**
 * The xDS server's own gRPC transport: HTTP/2 from node:http2, gRPC framing
 * and status here, nothing else. The xDS services need only bidirectional
 * streams of pre-encoded bytes (and CSDS one unary method), so the general
 * machinery of @grpc/grpc-js (interceptors, per-message framing copies,
 * per-call objects) is cost without use on the hot path (issue 15:
 * initial syncs and idle memory per stream). `XdsServer.register` still
 * adds the same handlers to a @grpc/grpc-js server.
 */
export function createHttp2GrpcServer(options: Http2GrpcServerOptions): Http2GrpcServer {
  const common = {
    // As grpc-js does: Node's default 10 MB per session makes it answer
    // ENHANCE_YOUR_CALM once a fast writer queues a few large responses.
    maxSessionMemory: Number.MAX_SAFE_INTEGER,
    maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
  };
  const tls = options.tls;
  let server: Http2Server | Http2SecureServer;
  let stopWatching: (() => void) | undefined;
  if (tls === undefined) server = createServer(common);
  else {
    const mtls = tls.material.clientCa !== undefined;
    const context = () => ({ cert: tls.material.cert, key: tls.material.key, ...(tls.material.clientCa === undefined ? {} : { ca: tls.material.clientCa }) });
    const secure = createSecureServer({ ...common, ...context(), requestCert: mtls, rejectUnauthorized: mtls, allowHTTP1: false });
    // Rotated files: new handshakes get them, connected streams keep theirs (TLS is per connection).
    stopWatching = tls.onUpdate(() => secure.setSecureContext(context()));
    // A failed handshake is the client's problem; without a listener it would be thrown.
    secure.on("secureConnection", (socket) => socket.on("error", () => {}));
    secure.on("tlsClientError", () => {});
    server = secure;
  }
  const sessions = new Set<Http2Session>();
  server.on("session", (session: Http2Session) => {
    sessions.add(session);
    session.on("error", () => {});
    session.once("close", () => sessions.delete(session));
  });
  server.on("sessionError", () => {});
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => route(stream, headers));
  // Connections are accepted here and handed to the HTTP/2 server in slices
  // (send-slicer.ts): libuv accepts every pending connection in one turn of
  // the loop, and setting up an HTTP/2 session (and a TLS one) for each of
  // 10,000 reconnecting proxies in that turn blocked the loop for 0.3-0.7 s
  // (issue 15 item 4). Bytes a client sends meanwhile wait in its socket,
  // and the session reads them when it starts.
  const accept = createNetServer((socket: Socket) => {
    socket.on("error", () => {});
    processSendSlicer.run(socket, () => {
      if (!socket.destroyed) server.emit("connection", socket);
    }, { gated: false });
  });

  function route(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", () => {});
    const contentType = String(headers[constants.HTTP2_HEADER_CONTENT_TYPE] ?? "");
    if (headers[constants.HTTP2_HEADER_METHOD] !== "POST" || !(contentType === "application/grpc" || contentType.startsWith("application/grpc+") || contentType.startsWith("application/grpc;"))) {
      // gRPC over HTTP/2: a request that is not gRPC gets an HTTP error (415), not a gRPC status.
      stream.respond({ [constants.HTTP2_HEADER_STATUS]: 415, "content-type": "text/plain" }, { endStream: false });
      stream.end(`this is a gRPC server (xDS): POST with content-type application/grpc, not ${String(headers[constants.HTTP2_HEADER_METHOD])} ${contentType || "(no content-type)"}\n`);
      return;
    }
    const path = String(headers[constants.HTTP2_HEADER_PATH] ?? "");
    const call = new Http2GrpcCall({ stream, headers, maxReceiveMessageBytes: options.maxReceiveMessageBytes });
    const handler = options.methods.get(path);
    if (handler === undefined) {
      call.end({ code: StatusCode.Unimplemented, details: `unknown method ${path}: this server serves the xDS and CSDS services` });
      return;
    }
    handler(call);
  }

  return {
    listen(host, port) {
      return new Promise<number>((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        accept.once("error", onError);
        accept.listen(port, host, () => {
          accept.off("error", onError);
          const address = accept.address();
          resolve(typeof address === "object" && address !== null ? address.port : port);
        });
      });
    },
    close(graceMs) {
      stopWatching?.();
      return new Promise<void>((resolve) => {
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          for (const s of sessions) s.destroy();
          finish();
        }, graceMs);
        accept.close(() => finish());
        // GOAWAY to every client; each session closes once its streams have.
        for (const s of sessions) s.close();
      });
    },
  };
}
