// Scenario 1, the go-control-plane way: build resources in code, put them in a
// snapshot for one node, serve xDS. Run: npm run example   (then start Envoy
// with envoy-bootstrap.yaml beside this file; see README.md).
//
// Environment (all optional):
//   XDS_PORT          xDS port on 127.0.0.1 (18000; 0 picks a free one). Other than 18000, or
//                     with another NODE_ID, the example writes and prints the bootstrap Envoy needs
//   LISTENER_ADDRESS  address of Envoy's demo listener (127.0.0.1)
//   LISTENER_PORT     port of Envoy's demo listener (12000)
//   UPSTREAM_HOST     upstream DNS name; when unset a local HTTPS server for "localhost" is started
//   UPSTREAM_PORT     upstream port (443 for UPSTREAM_HOST; a free one for the local server)
//   NODE_ID           Envoy node id to configure (xds-node-id)
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSnapshot, createSnapshotCache, createXdsServer } from "@ts-control-plane/xds";
import { demoResources } from "./demo-resources.ts";
import { bootstrapDefaults, bootstrapFor, type ExampleEnv, readExampleEnv } from "./example-env.ts";
import { startLocalHttpsUpstream, type LocalHttpsUpstream } from "./local-https-upstream.ts";

let config: ExampleEnv;
try {
  config = readExampleEnv(process.env);
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exit(2);
}
const { nodeId, xdsPort, listenerAddress, listenerPort } = config;

let upstream: LocalHttpsUpstream | undefined;
let upstreamHost = config.upstreamHost;
let upstreamPort = config.upstreamPort ?? 443;
if (upstreamHost === undefined) {
  upstream = await startLocalHttpsUpstream({ hostname: "localhost", port: config.upstreamPort ?? 0 });
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
let port: number;
try {
  port = await server.listen({ host: "127.0.0.1", port: xdsPort });
} catch (error) {
  // grpc-js names the cause only in its message ("... errors: [listen EADDRINUSE ...]").
  const inUse = String((error as Error).message).includes("EADDRINUSE");
  console.error(
    inUse
      ? `error: the xDS port 127.0.0.1:${xdsPort} is already in use by another process: stop it, or set XDS_PORT to a free port (0 picks one) and start Envoy with the bootstrap this example then prints`
      : `error: cannot serve xDS on 127.0.0.1:${xdsPort}: ${(error as Error).message}`,
  );
  await upstream?.close();
  process.exit(1);
}
console.log(`xDS (ADS and per-type SotW) serving on 127.0.0.1:${port} for node "${nodeId}", snapshot version ${snapshot.version}`);
if (port === bootstrapDefaults.xdsPort && nodeId === bootstrapDefaults.nodeId) {
  console.log("envoy: envoy -c examples/embedded/envoy-bootstrap.yaml --disable-hot-restart");
} else {
  // The checked-in bootstrap names port 18000 and node xds-node-id: write the one this run needs.
  const file = join(mkdtempSync(join(tmpdir(), "xds-example-")), "envoy-bootstrap.yaml");
  writeFileSync(file, bootstrapFor({ nodeId, xdsPort: port }));
  console.log(`envoy: examples/embedded/envoy-bootstrap.yaml expects xDS on port ${bootstrapDefaults.xdsPort} and node "${bootstrapDefaults.nodeId}"; for this run use`);
  console.log(`envoy: envoy -c ${file} --disable-hot-restart`);
}
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
