// Stable semantic names of generated Envoy resources, derived only from object names:
// reordering routes, or adding an unrelated object, never renames a cluster, so Envoy
// never drains and re-warms a cluster just because the file was edited elsewhere.
// One rule per resource kind, used by the builders and by the conflict checks.

/** The Cluster of a Service, and its ClusterLoadAssignment (EDS) for Static services. */
export const clusterName = (service: string): string => service;

/** The RouteConfiguration an HTTP(S) listener fetches over RDS. */
export const routeConfigName = (listener: string): string => listener;

/** The Envoy Listener of a Listener object. */
export const listenerName = (listener: string): string => listener;

/** The SDS Secret of a Secret object (one per object, whichever listeners and clusters use it). */
export const secretName = (secret: string): string => secret;
