import type { Message } from "@bufbuild/protobuf";
import { SocketAddress_Protocol, type Address } from "@ts-control-plane/envoy-api/envoy/config/core/v3/address_pb";
import type { Listener } from "@ts-control-plane/envoy-api/envoy/config/listener/v3/listener_pb";
import { TypeUrl } from "@ts-control-plane/xds";
import type { RawResourceSpec } from "../model/raw-resource-spec.ts";

/** An address and port a listener binds: what two listeners of one group must not share. */
export interface ListenerSocket {
  readonly address: string;
  readonly port: number;
  /** TCP and UDP sockets on the same port do not clash. */
  readonly udp: boolean;
  /** Where the port is written, from the object (a diagnostic path). */
  readonly path: string;
}

/**
 * The sockets a raw Listener binds: its address and every additional address that is an
 * IP socket with a port number (pipes, internal listeners and named ports bind nothing we
 * can compare). Paths point into the raw YAML, e.g. `spec.resource.address.socket_address.port_value`.
 */
export function rawListenerSockets(spec: RawResourceSpec): ListenerSocket[] {
  if (spec.typeUrl !== TypeUrl.Listener) return [];
  const listener = spec.message as Message as Listener;
  const out: ListenerSocket[] = [];
  const add = (address: Address | undefined, path: string): void => {
    if (address?.address.case !== "socketAddress") return;
    const s = address.address.value;
    if (s.portSpecifier.case !== "portValue") return;
    out.push({ address: s.address, port: s.portSpecifier.value, udp: s.protocol === SocketAddress_Protocol.UDP, path: `${path}.socket_address.port_value` });
  };
  add(listener.address, "spec.resource.address");
  for (const [i, a] of listener.additionalAddresses.entries()) add(a.address, `spec.resource.additional_addresses[${i}].address`);
  return out;
}

/**
 * Whether two sockets clash: same port and transport, and the same address or a wildcard
 * of the family on either side (0.0.0.0 or :: binds every address, so a specific one
 * on that port fails to bind, and Envoy NACKs the duplicate address).
 */
export function socketsOverlap(a: Omit<ListenerSocket, "path">, b: Omit<ListenerSocket, "path">): boolean {
  if (a.port !== b.port || a.udp !== b.udp) return false;
  if (a.address === b.address) return true;
  const v6 = (s: string): boolean => s.includes(":");
  if (v6(a.address) !== v6(b.address)) return a.address === "::" || b.address === "::";
  return a.address === "0.0.0.0" || b.address === "0.0.0.0" || a.address === "::" || b.address === "::";
}
