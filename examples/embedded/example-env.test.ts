import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";
import { parse } from "yaml";
import { bootstrapDefaults, bootstrapFor, readExampleEnv } from "./example-env.ts";

test("the environment's defaults match envoy-bootstrap.yaml, and a bad port names its variable", () => {
  const e = readExampleEnv({});
  assert.equal(e.xdsPort, bootstrapDefaults.xdsPort);
  assert.equal(e.nodeId, bootstrapDefaults.nodeId);
  const file = readFileSync(new URL("./envoy-bootstrap.yaml", import.meta.url), "utf8");
  assert.equal(bootstrapFor(bootstrapDefaults), file);
  assert.equal(readExampleEnv({ XDS_PORT: "0" }).xdsPort, 0);
  assert.throws(() => readExampleEnv({ XDS_PORT: "abc" }), /XDS_PORT must be a port number \(0-65535\), got "abc"/);
  assert.throws(() => readExampleEnv({ LISTENER_PORT: "70000" }), /LISTENER_PORT must be a port number/);
});

test("the bootstrap for another XDS_PORT and NODE_ID points Envoy at them", () => {
  const b = parse(bootstrapFor({ nodeId: "edge-7", xdsPort: 19123 })) as {
    node: { id: string };
    static_resources: { clusters: { load_assignment: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { port_value: number } } } }[] }[] } }[] };
  };
  assert.equal(b.node.id, "edge-7");
  assert.equal(b.static_resources.clusters[0]?.load_assignment.endpoints[0]?.lb_endpoints[0]?.endpoint.address.socket_address.port_value, 19123);
});

test("main.ts exits 1 naming XDS_PORT when the xDS port is taken, without a stack trace", async (t) => {
  const held = createServer();
  await new Promise<void>((r) => held.listen(0, "127.0.0.1", () => r()));
  t.after(() => held.close());
  const port = (held.address() as { port: number }).port;
  const child = spawn(process.execPath, [new URL("./main.ts", import.meta.url).pathname], { env: { ...process.env, XDS_PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.equal(code, 1, err);
  assert.match(err, new RegExp(`the xDS port 127\\.0\\.0\\.1:${port} is already in use by another process: .*set XDS_PORT`));
  assert.doesNotMatch(err, /^\s+at /m);
});
