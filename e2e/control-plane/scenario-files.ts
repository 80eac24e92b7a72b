/** Scenario 2 as declarative objects: listener_0 -> example_proxy_cluster -> one upstream (ports are the test's). */
export function scenario2Yaml(options: { listenerPort: number; upstreamPort: number; extraEndpointPort?: number }): string {
  const extra = options.extraEndpointPort === undefined ? "" : `\n    - address: 127.0.0.1\n      port: ${options.extraEndpointPort}`;
  return `apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata:
  name: listener_0
spec:
  protocol: HTTP
  address: 127.0.0.1
  port: ${options.listenerPort}
---
apiVersion: tcp.dev/v1alpha1
kind: Route
metadata:
  name: route_0
spec:
  listeners: [listener_0]
  routes:
    - match:
        prefix: /
      backends:
        - service: example_proxy_cluster
---
${serviceYaml(options.upstreamPort)}${extra}
`;
}

export function serviceYaml(port: number): string {
  return `apiVersion: tcp.dev/v1alpha1
kind: Service
metadata:
  name: example_proxy_cluster
spec:
  endpoints:
    - address: 127.0.0.1
      port: ${port}`;
}
