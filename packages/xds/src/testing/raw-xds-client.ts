import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import {
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";

export const adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

export interface RawRequest {
  readonly typeUrl?: string;
  readonly resourceNames?: readonly string[];
  readonly versionInfo?: string;
  readonly responseNonce?: string;
  /** Sets node; by default only the first request carries it, as Envoy does. */
  readonly nodeId?: string;
  readonly nodeCluster?: string;
  readonly errorMessage?: string;
}

/**
 * A SotW xDS client on the wire for tests: sends DiscoveryRequests, queues
 * DiscoveryResponses, and records how the stream ended. No mock: it talks to the
 * real server over real gRPC.
 */
export class RawXdsClient {
  readonly responses: DiscoveryResponse[] = [];
  readonly ended: Promise<grpc.StatusObject>;
  readonly #client: grpc.Client;
  readonly #call: grpc.ClientDuplexStream<Buffer, Buffer>;
  #waiters: Array<() => void> = [];
  #read = 0;
  #sentFirst = false;
  readonly #defaultNode: string;

  constructor(options: { port: number; path?: string; nodeId?: string }) {
    this.#defaultNode = options.nodeId ?? "test-node";
    this.#client = new grpc.Client(`127.0.0.1:${options.port}`, grpc.credentials.createInsecure());
    const identity = (b: Buffer): Buffer => b;
    this.#call = this.#client.makeBidiStreamRequest(options.path ?? adsPath, identity, identity);
    this.#call.on("data", (b: Buffer) => {
      this.responses.push(fromBinary(DiscoveryResponseSchema, b));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => this.#call.on("status", resolve));
    this.#call.on("error", () => {});
  }

  send(request: RawRequest): void {
    const withNode = !this.#sentFirst || request.nodeId !== undefined;
    this.#sentFirst = true;
    const message = create(DiscoveryRequestSchema, {
      typeUrl: request.typeUrl ?? "",
      resourceNames: [...(request.resourceNames ?? [])],
      versionInfo: request.versionInfo ?? "",
      responseNonce: request.responseNonce ?? "",
      ...(withNode ? { node: create(NodeSchema, { id: request.nodeId ?? this.#defaultNode, cluster: request.nodeCluster ?? "test" }) } : {}),
      ...(request.errorMessage === undefined ? {} : { errorDetail: { code: 3, message: request.errorMessage } }),
    });
    this.#call.write(Buffer.from(toBinary(DiscoveryRequestSchema, message)));
  }

  sendRaw(bytes: Buffer): void {
    this.#call.write(bytes);
  }

  /** The next response not read yet; fails after timeoutMs. */
  async next(timeoutMs = 2000): Promise<DiscoveryResponse> {
    const deadline = Date.now() + timeoutMs;
    while (this.#read >= this.responses.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no DiscoveryResponse within ${timeoutMs} ms (read ${this.#read})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.responses[this.#read++] as DiscoveryResponse;
  }

  /** Asserts that no new response arrives within ms. */
  async expectNone(ms = 300): Promise<void> {
    const before = this.responses.length;
    await new Promise((r) => setTimeout(r, ms));
    if (this.responses.length > before) {
      const r = this.responses[before] as DiscoveryResponse;
      throw new Error(`unexpected DiscoveryResponse for ${r.typeUrl} version ${r.versionInfo}`);
    }
  }

  /** Sends an ACK for a response. */
  ack(response: DiscoveryResponse, resourceNames: readonly string[] = []): void {
    this.send({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce, resourceNames });
  }

  close(): void {
    this.#call.end();
    this.#client.close();
  }
}
