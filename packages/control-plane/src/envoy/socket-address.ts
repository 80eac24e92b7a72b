import { create } from "@bufbuild/protobuf";
import { AddressSchema, SocketAddress_Protocol, type Address } from "@ts-control-plane/envoy-api/envoy/config/core/v3/address_pb";

export function socketAddress(address: string, port: number, protocol: SocketAddress_Protocol = SocketAddress_Protocol.TCP): Address {
  return create(AddressSchema, {
    address: { case: "socketAddress", value: { address, portSpecifier: { case: "portValue", value: port }, protocol } },
  });
}
