import type * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import {
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { RawStreamClient } from "./raw-stream-client.ts";

/** The gRPC method path of SotW ADS (StreamAggregatedResources). */
export const adsPath = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

/** A SotW DiscoveryRequest, field by field; what is left out is sent empty. */
export interface RawRequest {
  /** type_url (empty is a protocol error on ADS). */
  readonly typeUrl?: string;
  /** resource_names; empty is a wildcard subscription. */
  readonly resourceNames?: readonly string[];
  /** version_info: the version last accepted. */
  readonly versionInfo?: string;
  /** response_nonce: the nonce of the response this request answers. */
  readonly responseNonce?: string;
  /** Sets node; by default only the first request carries it, as Envoy does. */
  readonly nodeId?: string;
  /** The node's cluster, when the request carries the node (default "test"). */
  readonly nodeCluster?: string;
  /** Makes the request a NACK: error_detail with code 3 and this message. */
  readonly errorMessage?: string;
}

/** A SotW xDS client on the wire for tests (ADS unless another path is given). */
export class RawXdsClient extends RawStreamClient<typeof DiscoveryResponseSchema> {
  constructor(options: { port: number; path?: string; nodeId?: string; credentials?: grpc.ChannelCredentials }) {
    super({
      ...options,
      path: options.path ?? adsPath,
      responseSchema: DiscoveryResponseSchema,
      describe: (r) => `DiscoveryResponse for ${r.typeUrl} version ${r.versionInfo}`,
    });
  }

  /** Sends a DiscoveryRequest. */
  send(request: RawRequest): void {
    this.write(
      DiscoveryRequestSchema,
      create(DiscoveryRequestSchema, {
        typeUrl: request.typeUrl ?? "",
        resourceNames: [...(request.resourceNames ?? [])],
        versionInfo: request.versionInfo ?? "",
        responseNonce: request.responseNonce ?? "",
        ...this.nodeFor(request),
        ...(request.errorMessage === undefined ? {} : { errorDetail: { code: 3, message: request.errorMessage } }),
      }),
    );
  }

  /** Sends an ACK for a response. */
  ack(response: DiscoveryResponse, resourceNames: readonly string[] = []): void {
    this.send({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce, resourceNames });
  }
}
