import { create } from "@bufbuild/protobuf";
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  type DeltaDiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { RawStreamClient } from "./raw-stream-client.ts";

/** The gRPC method path of Delta ADS (DeltaAggregatedResources). */
export const deltaAdsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

/** A DeltaDiscoveryRequest, field by field; what is left out is sent empty. */
export interface RawDeltaRequest {
  /** type_url. */
  readonly typeUrl?: string;
  /** resource_names_subscribe ("*" subscribes to everything). */
  readonly subscribe?: readonly string[];
  /** resource_names_unsubscribe. */
  readonly unsubscribe?: readonly string[];
  /** initial_resource_versions: what the client already holds, on a (re)connected stream's first request of a type. */
  readonly initialResourceVersions?: Readonly<Record<string, string>>;
  /** response_nonce: the nonce of the response this request answers. */
  readonly responseNonce?: string;
  /** Sets node; by default only the first request carries it, as Envoy does. */
  readonly nodeId?: string;
  /** The node's cluster, when the request carries the node (default "test"). */
  readonly nodeCluster?: string;
  /** Makes the request a NACK: error_detail with code 3 and this message. */
  readonly errorMessage?: string;
}

/** A Delta xDS client on the wire for tests (Delta ADS unless another path is given). */
export class RawDeltaClient extends RawStreamClient<typeof DeltaDiscoveryResponseSchema> {
  constructor(options: { port: number; path?: string; nodeId?: string }) {
    super({
      ...options,
      path: options.path ?? deltaAdsPath,
      responseSchema: DeltaDiscoveryResponseSchema,
      describe: (r) =>
        `DeltaDiscoveryResponse for ${r.typeUrl}: resources [${r.resources.map((x) => x.name).join(", ")}], removed [${r.removedResources.join(", ")}]`,
    });
  }

  /** Sends a DeltaDiscoveryRequest. */
  send(request: RawDeltaRequest): void {
    this.write(
      DeltaDiscoveryRequestSchema,
      create(DeltaDiscoveryRequestSchema, {
        typeUrl: request.typeUrl ?? "",
        resourceNamesSubscribe: [...(request.subscribe ?? [])],
        resourceNamesUnsubscribe: [...(request.unsubscribe ?? [])],
        initialResourceVersions: { ...(request.initialResourceVersions ?? {}) },
        responseNonce: request.responseNonce ?? "",
        ...this.nodeFor(request),
        ...(request.errorMessage === undefined ? {} : { errorDetail: { code: 3, message: request.errorMessage } }),
      }),
    );
  }

  /** Sends an ACK for a response (Delta ACKs carry only the nonce), optionally with subscription changes. */
  ack(response: DeltaDiscoveryResponse, change: { subscribe?: readonly string[]; unsubscribe?: readonly string[] } = {}): void {
    this.send({ typeUrl: response.typeUrl, responseNonce: response.nonce, ...change });
  }

  /** Sends a NACK for a response. */
  nack(response: DeltaDiscoveryResponse, message: string): void {
    this.send({ typeUrl: response.typeUrl, responseNonce: response.nonce, errorMessage: message });
  }

}

/** Names of the resources in a Delta response, in order. */
export function deltaNames(response: DeltaDiscoveryResponse): string[] {
  return response.resources.map((r) => r.name);
}
