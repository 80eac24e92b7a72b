import type { JsonObject } from "@bufbuild/protobuf";
import { envoyJsonFixtures as fx } from "@ts-control-plane/xds/testing";

export type Json = Record<string, unknown>;

/** Reaches into proto3 JSON to change one field. */
export const at = (o: unknown, ...keys: (string | number)[]): Json => keys.reduce<unknown>((x, k) => (x as Json)[k], o) as Json;

export function mutate<T extends Json>(base: T, change: (x: T) => void): T {
  change(base);
  return base;
}

/** The TLS cluster fixture made STATIC: nothing in it needs DNS, files or a control plane. */
export function staticCluster(): Json {
  const c = fx.tlsCluster("backend") as Json;
  c["type"] = "STATIC";
  // Envoy reads the CA file even in validate mode; keep the test independent of the machine's trust store.
  delete at(c, "transportSocket", "typedConfig", "commonTlsContext")["validationContext"];
  for (const ep of at(c, "loadAssignment", "endpoints", 0)["lbEndpoints"] as Json[]) {
    at(ep, "endpoint", "address", "socketAddress")["address"] = "127.0.0.1";
  }
  return c;
}

export function namedStaticCluster(name: string): JsonObject {
  return mutate(staticCluster(), (c) => {
    c["name"] = name;
    at(c, "loadAssignment")["clusterName"] = name;
  }) as JsonObject;
}
