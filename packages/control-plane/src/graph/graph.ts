import type { AccessLogSpec } from "../model/access-log-spec.ts";
import type { HeaderModifiers } from "../model/header-modifier-spec.ts";
import type { HttpFilterSpec } from "../model/http-filter-spec.ts";
import type { ListenerProtocol, ListenerTls } from "../model/listener-spec.ts";
import type { NodeSelectorSpec } from "../model/node-group-spec.ts";
import type { RawResourceSpec } from "../model/raw-resource-spec.ts";
import type { RouteRule } from "../model/route-spec.ts";
import type { SecretSpec } from "../model/secret-spec.ts";
import type { ServiceSpec } from "../model/service-spec.ts";
import type { TracingSpec } from "../model/tracing-spec.ts";

// The Envoy-free intermediate form (in the spirit of Contour's internal/dag): every
// reference resolved, every default applied, every invalid object already dropped.
// Builders in src/envoy/ read only this, so they never produce a diagnostic about
// the operator's input, and a second translator (another proxy) could read it too.

export interface GraphService {
  readonly name: string;
  readonly spec: ServiceSpec;
}

export interface GraphAccessLog {
  readonly name: string;
  readonly spec: AccessLogSpec;
}

export interface GraphTracing {
  readonly name: string;
  readonly spec: TracingSpec;
}

/** One Route object attached to one listener: a virtual host. */
export interface GraphVirtualHost {
  /** The Route object's name, also the virtual host name. */
  readonly name: string;
  readonly domains: readonly string[];
  /** In the order written: the first match wins. */
  readonly rules: readonly RouteRule[];
  /** Header changes for every rule of the virtual host. */
  readonly headers: HeaderModifiers;
}

export interface GraphListener {
  readonly name: string;
  readonly protocol: ListenerProtocol;
  readonly address: string;
  readonly port: number;
  readonly tls?: ListenerTls;
  /** TCP/UDP: the upstream service. */
  readonly service?: string;
  readonly tracing?: GraphTracing;
  /** Sorted by name. */
  readonly accessLogs: readonly GraphAccessLog[];
  readonly requestId: { readonly generate: boolean; readonly preserveExternal: boolean };
  /** HTTP(S): in the order written; the router is not among them (it is always last). */
  readonly httpFilters: readonly HttpFilterSpec[];
  /** HTTP(S): sorted by name. */
  readonly virtualHosts: readonly GraphVirtualHost[];
  /** HTTP(S): upgrade types let through (websocket, ...), sorted. */
  readonly upgrades: readonly string[];
  /** HTTP(S): header changes for every request and response of the listener (its whole route table). */
  readonly headers: HeaderModifiers;
}

/** A Secret some listener or service of the group uses: sent over SDS. */
export interface GraphSecret {
  readonly name: string;
  readonly spec: SecretSpec;
}

export interface GraphRaw {
  readonly name: string;
  readonly spec: RawResourceSpec;
}

/** What one group of Envoys receives. */
export interface GraphGroup {
  readonly name: string;
  readonly selector: NodeSelectorSpec;
  /** Client certificate identities allowed to connect as this group; any when absent. */
  readonly identities?: readonly string[];
  /** Sorted by name. */
  readonly listeners: readonly GraphListener[];
  /** Sorted by name; every service a listener, route or tracing of the group references, plus unreferenced ones for whole-config groups. */
  readonly services: readonly GraphService[];
  /** Sorted by name; only the Secrets the group's listeners and services use (private keys go only where needed). */
  readonly secrets: readonly GraphSecret[];
  /** Sorted by name. */
  readonly raw: readonly GraphRaw[];
  /** objectKeys that contributed, sorted. */
  readonly objects: readonly string[];
}

export interface Graph {
  /** Sorted by name: the order matchNodeGroup tries them. */
  readonly groups: readonly GraphGroup[];
}
