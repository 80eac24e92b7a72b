// Just enough of DeltaDiscoveryRequest on the wire for the benchmark's Delta
// clients, which must cost as little CPU as possible (they share the machine
// with the server being measured). Responses are read with lean-discovery.ts's
// scanResponse: DeltaDiscoveryResponse keeps system_version_info (1),
// resources (2), type_url (4) and nonce (5) at the same field numbers.
import { concat, lengthDelimited, stringField } from "@ts-control-plane/xds";

/** DeltaDiscoveryRequest.node (1) = Node { id (1), cluster (2) } (field 2 in the SotW request). */
export function encodeDeltaNode(options: { id: string; cluster: string }): Uint8Array {
  return lengthDelimited(1, concat([stringField(1, options.id), stringField(2, options.cluster)]));
}

/** resource_names_subscribe (3), encoded once and shared by every client's first EDS request. */
export function encodeDeltaSubscribe(names: readonly string[]): Uint8Array {
  return concat(names.map((n) => stringField(3, n)));
}

/** A DeltaDiscoveryRequest: node and subscriptions come pre-encoded; an ACK is type_url (2) and response_nonce (6) only. */
export function encodeDeltaRequest(options: { typeUrl: string; node?: Uint8Array; subscribe?: Uint8Array; responseNonce?: string }): Buffer {
  return concat([options.node ?? new Uint8Array(0), stringField(2, options.typeUrl), options.subscribe ?? new Uint8Array(0), stringField(6, options.responseNonce ?? "")]);
}
