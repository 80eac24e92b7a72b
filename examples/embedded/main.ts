// Scenario 1, the go-control-plane way: build resources in code, put them in a
// snapshot for one node, serve xDS. Run: npm run example   (then start Envoy
// with envoy-bootstrap.yaml beside this file; see README.md).
//
// Environment (all optional):
//   XDS_PORT          xDS port on 127.0.0.1 (18000; 0 picks a free one)
//   LISTENER_ADDRESS  address of Envoy's demo listener (127.0.0.1)
//   LISTENER_PORT     port of Envoy's demo listener (12000)
//   UPSTREAM_HOST     upstream DNS name; when unset a local HTTPS server for "localhost" is started
//   UPSTREAM_PORT     upstream port (443 for UPSTREAM_HOST; a free one for the local server)
//   NODE_ID           Envoy node id to configure (xds-node-id)
import { createSnapshot, createSnapshotCache, createXdsServer } from "@ts-control-plane/xds";
import { demoResources } from "./demo-resources.ts";
import { startLocalHttpsUpstream, type LocalHttpsUpstream } from "./local-https-upstream.ts";

const env = process.env;
const nodeId = env["NODE_ID"] ?? "xds-node-id";
const xdsPort = Number(env["XDS_PORT"] ?? 18000);
const listenerAddress = env["LISTENER_ADDRESS"] ?? "127.0.0.1";
const listenerPort = Number(env["LISTENER_PORT"] ?? 12000);

let upstream: LocalHttpsUpstream | undefined;
let upstreamHost = env["UPSTREAM_HOST"];
let upstreamPort = Number(env["UPSTREAM_PORT"] ?? 443);
if (upstreamHost === undefined || upstreamHost === "") {
  upstream = await startLocalHttpsUpstream({ hostname: "localhost", port: Number(env["UPSTREAM_PORT"] ?? 0) });
  upstreamHost = upstream.hostname;
  upstreamPort = upstream.port;
  console.log(`upstream: local HTTPS server for "localhost" on 127.0.0.1:${upstreamPort} (self-signed certificate)`);
}

const cache = createSnapshotCache({ ads: true });
const snapshot = createSnapshot({
  version: "1",
  resources: demoResources({ upstreamHost, upstreamPort, listenerAddress, listenerPort }),
});
await cache.setSnapshot(nodeId, snapshot);

const server = createXdsServer({
  cache,
  controlPlaneId: "ts-control-plane-example",
  hooks: {
    onStreamOpen: (e) => console.log(`stream ${e.streamId} opened`),
    onAck: (e) => console.log(`node ${e.nodeId} ACKed ${shortType(e.typeUrl)}`),
    onNack: (e) => console.log(`node ${e.nodeId} NACKed ${shortType(e.typeUrl)} version ${e.version}: ${e.message}`),
  },
});
const port = await server.listen({ host: "127.0.0.1", port: xdsPort });
console.log(`xDS (ADS and per-type SotW) serving on 127.0.0.1:${port} for node "${nodeId}", snapshot version ${snapshot.version}`);
console.log(`then: curl http://localhost:${listenerPort}/`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close();
  await upstream?.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}
