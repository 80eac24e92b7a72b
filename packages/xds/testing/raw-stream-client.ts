import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { NodeSchema, type Node } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";

/** How a {@link RawStreamClient} connects and decodes what it reads. */
export interface RawStreamClientOptions<Res extends DescMessage> {
  /** The server's port on 127.0.0.1 (plaintext gRPC). */
  readonly port: number;
  /** The gRPC method path, e.g. `/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources`. */
  readonly path: string;
  /** The node id the first request carries (default `test-node`). */
  readonly nodeId?: string;
  /** The schema each response is decoded with. */
  readonly responseSchema: Res;
  /** A one-line description of a response, for assertion messages. */
  readonly describe: (response: MessageShape<Res>) => string;
  /** Channel credentials, e.g. `grpc.credentials.createSsl(ca, key, cert)` for mTLS; plaintext by default. */
  readonly credentials?: grpc.ChannelCredentials;
}

/**
 * A bidirectional xDS stream on the wire for tests, whatever its messages:
 * writes requests, queues decoded responses, and records how the stream ended.
 * No mock: it talks to the real server over real gRPC. RawXdsClient (SotW) and
 * RawDeltaClient build their requests on top of it.
 */
export class RawStreamClient<Res extends DescMessage> {
  /** Every response received so far, in order, read or not. */
  readonly responses: MessageShape<Res>[] = [];
  /** Resolves with the stream's final gRPC status when it ends. */
  readonly ended: Promise<grpc.StatusObject>;
  readonly #client: grpc.Client;
  readonly #call: grpc.ClientDuplexStream<Buffer, Buffer>;
  readonly #describe: (response: MessageShape<Res>) => string;
  readonly #defaultNode: string;
  #waiters: Array<() => void> = [];
  #read = 0;
  #sentFirst = false;

  constructor(options: RawStreamClientOptions<Res>) {
    this.#defaultNode = options.nodeId ?? "test-node";
    this.#describe = options.describe;
    this.#client = new grpc.Client(`127.0.0.1:${options.port}`, options.credentials ?? grpc.credentials.createInsecure());
    const identity = (b: Buffer): Buffer => b;
    this.#call = this.#client.makeBidiStreamRequest(options.path, identity, identity);
    this.#call.on("data", (b: Buffer) => {
      this.responses.push(fromBinary(options.responseSchema, b));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => this.#call.on("status", resolve));
    this.#call.on("error", () => {});
  }

  /** Writes a request message as is. */
  write<Req extends DescMessage>(schema: Req, message: MessageShape<Req>): void {
    this.#call.write(Buffer.from(toBinary(schema, message)));
  }

  /** Writes bytes as one gRPC message, unchecked (for malformed-input tests). */
  sendRaw(bytes: Buffer): void {
    this.#call.write(bytes);
  }

  /**
   * The node for the next request: only the first carries it by default, as
   * Envoy does; a request that names a node id carries it anyway.
   */
  protected nodeFor(request: { nodeId?: string; nodeCluster?: string }): {
    /** The node, when this request carries it. */
    node?: Node;
  } {
    const withNode = !this.#sentFirst || request.nodeId !== undefined;
    this.#sentFirst = true;
    return withNode ? { node: create(NodeSchema, { id: request.nodeId ?? this.#defaultNode, cluster: request.nodeCluster ?? "test" }) } : {};
  }

  /** The next response not read yet; fails after timeoutMs. */
  async next(timeoutMs = 2000): Promise<MessageShape<Res>> {
    const deadline = Date.now() + timeoutMs;
    while (this.#read >= this.responses.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms (read ${this.#read})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.responses[this.#read++] as MessageShape<Res>;
  }

  /** Waits ms, then takes every response that arrived and was not read yet. */
  async drain(ms: number): Promise<MessageShape<Res>[]> {
    await new Promise((r) => setTimeout(r, ms));
    const out = this.responses.slice(this.#read);
    this.#read = this.responses.length;
    return out;
  }

  /** Asserts that no new response arrives within ms. */
  async expectNone(ms = 300): Promise<void> {
    const before = this.responses.length;
    await new Promise((r) => setTimeout(r, ms));
    const r = this.responses[before];
    if (r !== undefined) throw new Error(`unexpected response: ${this.#describe(r)}`);
  }

  /** Half-closes the stream and closes the channel. */
  close(): void {
    this.#call.end();
    this.#client.close();
  }
}
