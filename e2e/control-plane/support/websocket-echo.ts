import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import { connect, type Socket } from "node:net";

// Just enough of RFC 6455 to prove an upgrade went through a proxy: the
// handshake and one short (< 126 bytes) text frame each way, no new dependency.
const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

function acceptKey(key: string): string {
  return createHash("sha1").update(key + guid).digest("base64");
}

/** One text frame of at most 125 bytes; masked as a client must (RFC 6455, 5.3), unmasked as a server sends. */
function frame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text, "utf8");
  if (payload.length > 125) throw new Error("frames here carry at most 125 bytes");
  if (!masked) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, body]);
}

/** The text of the first complete frame in buf, or undefined while it is incomplete. */
function readFrame(buf: Buffer): string | undefined {
  if (buf.length < 2) return undefined;
  const masked = ((buf[1] ?? 0) & 0x80) !== 0;
  const len = (buf[1] ?? 0) & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (buf.length < start + len) return undefined;
  const mask = buf.subarray(2, 6);
  const payload = Buffer.from(buf.subarray(start, start + len).map((b, i) => (masked ? b ^ (mask[i % 4] ?? 0) : b)));
  return payload.toString("utf8");
}

/**
 * Makes `server` accept websocket upgrades and echo each connection's first
 * frame back. Returns a function that destroys the upgraded sockets, which
 * server.closeAllConnections() no longer tracks once they are upgraded.
 */
export function acceptWebSocketEcho(server: Server): () => void {
  const sockets = new Set<Socket>();
  server.on("upgrade", (req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const key = req.headers["sec-websocket-key"];
    if (req.headers.upgrade?.toLowerCase() !== "websocket" || typeof key !== "string") {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const text = readFrame(buf);
      if (text !== undefined) socket.write(frame(text, false));
    });
  });
  return () => {
    for (const s of sockets) s.destroy();
  };
}

export interface WebSocketRoundTrip {
  /** The HTTP status of the handshake answer: 101 when the upgrade went through. */
  readonly status: number;
  /** The frame that came back, when the upgrade went through. */
  readonly echoed?: string;
}

/** Opens a websocket to 127.0.0.1:port at path, sends `message` in one frame and waits for one frame back. */
export function websocketRoundTrip(options: { port: number; path: string; message: string; timeoutMs?: number }): Promise<WebSocketRoundTrip> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const key = randomBytes(16).toString("base64");
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: options.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`websocket ${options.path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (r: WebSocketRoundTrip) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    let buf = Buffer.alloc(0);
    let status: number | undefined;
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("connect", () => {
      socket.write(`GET ${options.path} HTTP/1.1\r\nhost: 127.0.0.1:${options.port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (status === undefined) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buf.subarray(0, end).toString("latin1");
        status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
        buf = buf.subarray(end + 4);
        if (status !== 101) return done({ status });
        if (!head.toLowerCase().includes(`sec-websocket-accept: ${acceptKey(key).toLowerCase()}`)) {
          clearTimeout(timer);
          socket.destroy();
          return reject(new Error(`websocket ${options.path}: wrong sec-websocket-accept in ${head}`));
        }
        socket.write(frame(options.message, true));
      }
      const text = readFrame(buf);
      if (text !== undefined) done({ status, echoed: text });
    });
  });
}
