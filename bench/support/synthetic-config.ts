// A synthetic but realistic control-plane configuration for the translation
// benchmark: one HTTP listener, R routes spread over ceil(R/10) Route objects
// (ten routes per virtual host, each Route object on its own domain, since two
// Route objects on one listener may not share a domain), and one Service per
// route with two static (EDS) endpoints. Every route matches a path prefix and
// a header, the shape of a multi-tenant API gateway. Deterministic: the same R
// always gives the same objects, so runs are comparable.
import type { ModelObject } from "@ts-control-plane/control-plane/model/model-object";

const apiVersion = "tcp.dev/v1alpha1";
export const routesPerRouteObject = 10;
export const listenerName = "edge";

export const serviceName = (i: number): string => `svc-${i}`;

/** Two endpoints in 10.0.0.0/8, distinct per service; `shift` moves the second one (an endpoint-only change). */
export function endpointsOf(i: number, shift = 0): { address: string; port: number }[] {
  const a = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  return [
    { address: a(2 * i + 1), port: 8080 },
    { address: a(2 * i + 2), port: 8080 + shift },
  ];
}

export function serviceObject(i: number, shift = 0): ModelObject {
  return {
    apiVersion,
    kind: "Service",
    metadata: { name: serviceName(i) },
    spec: { discovery: "Static", lbPolicy: "RoundRobin", connectTimeout: "1s", endpoints: endpointsOf(i, shift) },
  };
}

/** Route object k: routes k*10 .. k*10+9 (fewer for the last one when R is not a multiple of 10). */
export function routeObject(k: number, routes: number, options: { timeout?: string; listener?: string } = {}): ModelObject {
  const rules: Record<string, unknown>[] = [];
  for (let i = k * routesPerRouteObject; i < Math.min(routes, (k + 1) * routesPerRouteObject); i++) {
    rules.push({
      match: { prefix: `/api/${i}/`, headers: [{ name: "x-tenant", exact: `tenant-${i % 97}` }] },
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      backends: [{ service: serviceName(i) }],
    });
  }
  return {
    apiVersion,
    kind: "Route",
    metadata: { name: `routes-${k}` },
    spec: { listeners: [options.listener ?? listenerName], domains: [`group-${k}.example.com`], routes: rules },
  };
}

/** The whole configuration for R routes: 1 Listener + ceil(R/10) Routes + R Services. */
export function syntheticConfig(routes: number): ModelObject[] {
  return [
    { apiVersion, kind: "Listener", metadata: { name: listenerName }, spec: { protocol: "HTTP", address: "0.0.0.0", port: 10000 } },
    ...syntheticRoutes(routes, listenerName),
  ];
}

/**
 * The Route objects and Services of R routes, attached to an existing listener: load for
 * a benchmark that brings its own listener. Their domains (group-K.example.com) never
 * clash with a catch-all "*" Route on the same listener.
 */
export function syntheticRoutes(routes: number, listener: string): ModelObject[] {
  const objects: ModelObject[] = [];
  for (let k = 0; k * routesPerRouteObject < routes; k++) objects.push(routeObject(k, routes, { listener }));
  for (let i = 0; i < routes; i++) objects.push(serviceObject(i));
  return objects;
}
