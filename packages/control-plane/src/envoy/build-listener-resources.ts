import { TypeUrl } from "@ts-control-plane/xds";
import type { GraphListener } from "../graph/graph.ts";
import { listenerName, routeConfigName } from "../graph/resource-names.ts";
import { buildListener } from "./build-listener.ts";
import { buildRouteConfiguration } from "./build-route-configuration.ts";
import type { BuiltResource } from "./built-resource.ts";

/** The Listener of a Listener object and, for HTTP(S), the RouteConfiguration it fetches over RDS. */
export function buildListenerResources(l: GraphListener): BuiltResource[] {
  const self = `Listener/${l.name}`;
  const out: BuiltResource[] = [{ typeUrl: TypeUrl.Listener, name: listenerName(l.name), message: buildListener(l), owner: () => self, objects: [self] }];
  if (l.protocol === "HTTP" || l.protocol === "HTTPS") {
    // A problem inside virtual_hosts[i] belongs to the Route object that produced that virtual host.
    const owner = (path: string): string => {
      const m = /^virtual_hosts\[(\d+)\]/.exec(path);
      const vh = m === null ? undefined : l.virtualHosts[Number(m[1])];
      return vh === undefined ? self : `Route/${vh.name}`;
    };
    // The route table is the listener's and its Route objects' (one virtual host each).
    const objects = [self, ...l.virtualHosts.map((vh) => `Route/${vh.name}`)].sort();
    out.push({ typeUrl: TypeUrl.Route, name: routeConfigName(l.name), message: buildRouteConfiguration(l), owner, objects });
  }
  return out;
}
