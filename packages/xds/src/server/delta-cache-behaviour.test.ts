// The shared behavioural suite (packages/xds/testing/cache-behaviour.ts) against every cache
// kind, over SotW and Delta, through the real server. It lives in the server
// layer because it starts the server: the cache layer never imports it.
import type { Message } from "@bufbuild/protobuf";
import { cacheBehaviour as suite, type CacheBehaviourOptions } from "../../testing/cache-behaviour.ts";
import { createLinearCache } from "../cache/linear-cache.ts";
import { createMuxCache } from "../cache/mux-cache.ts";
import { createSnapshot } from "../cache/snapshot.ts";
import { createSnapshotCache } from "../cache/snapshot-cache.ts";
import { TypeUrl } from "../resource/type-urls.ts";
import { edsCluster, endpoints } from "../../testing/fixtures.ts";
import { createXdsServer } from "./xds-server.ts";

const cacheBehaviour = (options: Omit<CacheBehaviourOptions, "serve">): void => suite({ ...options, serve: createXdsServer });

const cla = (name: string, revision: number) => endpoints(name, [8000 + revision]);
const cluster = (name: string, revision: number) => edsCluster(name, { serviceName: `${name}-r${revision}` });

function snapshotCache() {
  const cache = createSnapshotCache();
  return {
    watcher: cache,
    // Partial snapshots (clusters without their endpoints): the suite tests one type at a time.
    set: (key: string, resources: readonly Message[]) =>
      cache.setSnapshot(key, createSnapshot({ resources, skipConsistencyCheck: true })),
  };
}

function linearCache() {
  const cache = createLinearCache({ typeUrl: TypeUrl.Endpoint });
  return { watcher: cache, set: (_key: string, resources: readonly Message[]) => cache.setResources(resources) };
}

function muxCache() {
  const snapshots = createSnapshotCache();
  const eds = createLinearCache({ typeUrl: TypeUrl.Endpoint });
  const watcher = createMuxCache({ byType: { [TypeUrl.Endpoint]: eds }, fallback: snapshots });
  return { snapshots, eds, watcher };
}

cacheBehaviour({ name: "snapshot cache (CDS)", typeUrl: TypeUrl.Cluster, make: cluster, create: snapshotCache });
cacheBehaviour({ name: "snapshot cache (EDS)", typeUrl: TypeUrl.Endpoint, make: cla, create: snapshotCache });
cacheBehaviour({ name: "linear cache (EDS)", typeUrl: TypeUrl.Endpoint, make: cla, create: linearCache });
cacheBehaviour({
  name: "mux cache (CDS from its snapshot cache)",
  typeUrl: TypeUrl.Cluster,
  make: cluster,
  create: () => {
    const m = muxCache();
    return { watcher: m.watcher, set: (key, resources) => m.snapshots.setSnapshot(key, createSnapshot({ resources, skipConsistencyCheck: true })) };
  },
});
cacheBehaviour({
  name: "mux cache (EDS from its linear cache)",
  typeUrl: TypeUrl.Endpoint,
  make: cla,
  create: () => {
    const m = muxCache();
    return { watcher: m.watcher, set: (_key, resources) => m.eds.setResources(resources) };
  },
});
