import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { NodeSchema } from "@ts-control-plane/envoy-api/envoy/config/core/v3/base_pb";
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";

export const deltaAdsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

export interface RawDeltaRequest {
  readonly typeUrl?: string;
  readonly subscribe?: readonly string[];
  readonly unsubscribe?: readonly string[];
  readonly initialResourceVersions?: Readonly<Record<string, string>>;
  readonly responseNonce?: string;
  /** Sets node; by default only the first request carries it, as Envoy does. */
  readonly nodeId?: string;
  readonly nodeCluster?: string;
  readonly errorMessage?: string;
}

/**
 * A Delta xDS client on the wire for tests: sends DeltaDiscoveryRequests,
 * queues DeltaDiscoveryResponses, and records how the stream ended. No mock: it
 * talks to the real server over real gRPC.
 */
export class RawDeltaClient {
  readonly responses: DeltaDiscoveryResponse[] = [];
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
    this.#call = this.#client.makeBidiStreamRequest(options.path ?? deltaAdsPath, identity, identity);
    this.#call.on("data", (b: Buffer) => {
      this.responses.push(fromBinary(DeltaDiscoveryResponseSchema, b));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => this.#call.on("status", resolve));
    this.#call.on("error", () => {});
  }

  send(request: RawDeltaRequest): void {
    const withNode = !this.#sentFirst || request.nodeId !== undefined;
    this.#sentFirst = true;
    const message = create(DeltaDiscoveryRequestSchema, {
      typeUrl: request.typeUrl ?? "",
      resourceNamesSubscribe: [...(request.subscribe ?? [])],
      resourceNamesUnsubscribe: [...(request.unsubscribe ?? [])],
      initialResourceVersions: { ...(request.initialResourceVersions ?? {}) },
      responseNonce: request.responseNonce ?? "",
      ...(withNode ? { node: create(NodeSchema, { id: request.nodeId ?? this.#defaultNode, cluster: request.nodeCluster ?? "test" }) } : {}),
      ...(request.errorMessage === undefined ? {} : { errorDetail: { code: 3, message: request.errorMessage } }),
    });
    this.#call.write(Buffer.from(toBinary(DeltaDiscoveryRequestSchema, message)));
  }

  sendRaw(bytes: Buffer): void {
    this.#call.write(bytes);
  }

  /** The next response not read yet; fails after timeoutMs. */
  async next(timeoutMs = 2000): Promise<DeltaDiscoveryResponse> {
    const deadline = Date.now() + timeoutMs;
    while (this.#read >= this.responses.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no DeltaDiscoveryResponse within ${timeoutMs} ms (read ${this.#read})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.responses[this.#read++] as DeltaDiscoveryResponse;
  }

  /** Asserts that no new response arrives within ms. */
  async expectNone(ms = 300): Promise<void> {
    const before = this.responses.length;
    await new Promise((r) => setTimeout(r, ms));
    if (this.responses.length > before) {
      const r = this.responses[before] as DeltaDiscoveryResponse;
      throw new Error(
        `unexpected DeltaDiscoveryResponse for ${r.typeUrl}: resources [${r.resources.map((x) => x.name).join(", ")}], removed [${r.removedResources.join(", ")}]`,
      );
    }
  }

  /** Sends an ACK for a response (Delta ACKs carry only the nonce), optionally with subscription changes. */
  ack(response: DeltaDiscoveryResponse, change: { subscribe?: readonly string[]; unsubscribe?: readonly string[] } = {}): void {
    this.send({ typeUrl: response.typeUrl, responseNonce: response.nonce, ...change });
  }

  /** Sends a NACK for a response. */
  nack(response: DeltaDiscoveryResponse, message: string): void {
    this.send({ typeUrl: response.typeUrl, responseNonce: response.nonce, errorMessage: message });
  }

  close(): void {
    this.#call.end();
    this.#client.close();
  }
}

/** Names of the resources in a Delta response, in order. */
export function deltaNames(response: DeltaDiscoveryResponse): string[] {
  return response.resources.map((r) => r.name);
}
