/** Where the web model's listener listens and its service's one endpoint. */
export interface WebModelPorts {
  readonly listenerPort: number;
  readonly upstreamPort: number;
}

/** The model's `web` Service: one endpoint on 127.0.0.1 at `upstreamPort`. */
export const webServiceYaml = (upstreamPort: number): string => `apiVersion: tcp.dev/v1alpha1
kind: Service
metadata: { name: web }
spec:
  endpoints: [{ address: 127.0.0.1, port: ${upstreamPort} }]
`;

/**
 * The smallest model that routes a request: an HTTP Listener `web` on
 * 127.0.0.1, a Route `web` sending `/` to the Service `web`, and that Service.
 * The failover and replica tests serve it; one copy, so they serve the same.
 */
export const webModelYaml = (ports: WebModelPorts): string => `apiVersion: tcp.dev/v1alpha1
kind: Listener
metadata: { name: web }
spec: { protocol: HTTP, address: 127.0.0.1, port: ${ports.listenerPort} }
---
apiVersion: tcp.dev/v1alpha1
kind: Route
metadata: { name: web }
spec:
  listeners: [web]
  routes:
    - match: { prefix: / }
      backends: [{ service: web }]
---
${webServiceYaml(ports.upstreamPort)}`;
