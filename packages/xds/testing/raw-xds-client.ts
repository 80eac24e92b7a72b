import { create } from "@bufbuild/protobuf";
import {
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DiscoveryResponse,
} from "@ts-control-plane/envoy-api/envoy/service/discovery/v3/discovery_pb";
import { RawStreamClient } from "./raw-stream-client.ts";

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

/** A SotW xDS client on the wire for tests (ADS unless another path is given). */
export class RawXdsClient extends RawStreamClient<typeof DiscoveryResponseSchema> {
  constructor(options: { port: number; path?: string; nodeId?: string }) {
    super({
      ...options,
      path: options.path ?? adsPath,
      responseSchema: DiscoveryResponseSchema,
      describe: (r) => `DiscoveryResponse for ${r.typeUrl} version ${r.versionInfo}`,
    });
  }

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
