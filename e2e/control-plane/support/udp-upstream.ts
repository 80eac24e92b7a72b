import { createSocket, type Socket } from "node:dgram";
import type { TestContext } from "node:test";

export interface UdpUpstream {
  readonly port: number;
  /** Payloads received, in arrival order. */
  readonly received: readonly string[];
  close(): Promise<void>;
}

/**
 * A UDP service on 127.0.0.1 (ephemeral port) that records every datagram and
 * answers each with `ack:<payload>`, so the way back through the proxy is
 * proven as well.
 */
export async function startUdpUpstream(options: { t: TestContext }): Promise<UdpUpstream> {
  const received: string[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const payload = msg.toString("utf8");
    received.push(payload);
    socket.send(`ack:${payload}`, rinfo.port, rinfo.address);
  });
  const port = await bind(socket, 0);
  const close = once(() => closeSocket(socket));
  options.t.after(close);
  return { port, received, close };
}

/**
 * A free UDP port on 127.0.0.1. TCP and UDP ports are separate spaces, so the
 * harness's freePort (TCP) says nothing about UDP. Held only for the moment it
 * takes to read it back, like freePort.
 */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  const port = await bind(socket, 0);
  await closeSocket(socket);
  return port;
}

export interface UdpClient {
  /** Answers received, in arrival order. */
  readonly answers: readonly string[];
  send(payload: string): Promise<void>;
  close(): Promise<void>;
}

/** A UDP client bound to 127.0.0.1 that sends to `port` and records the answers. */
export async function startUdpClient(options: { port: number; t: TestContext }): Promise<UdpClient> {
  const answers: string[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (msg) => answers.push(msg.toString("utf8")));
  await bind(socket, 0);
  const close = once(() => closeSocket(socket));
  options.t.after(close);
  return {
    answers,
    send: (payload) =>
      new Promise<void>((resolve, reject) => socket.send(payload, options.port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))),
    close,
  };
}

function bind(socket: Socket, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address: "127.0.0.1", port }, () => {
      socket.off("error", reject);
      resolve(socket.address().port);
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
