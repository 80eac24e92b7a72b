import assert from "node:assert/strict";
import { test } from "node:test";
import type { ModelObject } from "../model/model-object.ts";
import { validateObject, type ValidObject } from "../model/validate-object.ts";
import { buildGraph } from "./build-graph.ts";

// Issue 13: whoever may write objects must not make Envoy read files on its host through a
// RawResource's DataSource `filename`, unless the operator allows it (serve --allow-raw-filename).

const raw = (name: string, resource: Record<string, unknown>): ModelObject => ({ apiVersion: "tcp.dev/v1alpha1", kind: "RawResource", metadata: { name }, spec: { resource } });

function graphOf(objects: ModelObject[], allowRawFilename?: boolean) {
  const valid: ValidObject[] = [];
  for (const x of objects) {
    const v = validateObject(x);
    assert.deepEqual(v.diagnostics, [], `${x.kind}/${x.metadata.name} is valid on its own`);
    if (v.valid) valid.push(v.valid);
  }
  return buildGraph(valid, { refused: new Set(), ...(allowRawFilename !== undefined ? { allowRawFilename } : {}) });
}

const secret = raw("cert", {
  "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
  name: "cert",
  tls_certificate: { certificate_chain: { filename: "/etc/shadow" }, private_key: { inline_string: "key" } },
});

// A direct_response body inside the HTTP connection manager, packed in an Any.
const listener = raw("lis", {
  "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
  name: "lis",
  address: { socket_address: { address: "0.0.0.0", port_value: 10000 } },
  filter_chains: [
    {
      filters: [
        {
          name: "envoy.filters.network.http_connection_manager",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            stat_prefix: "in",
            route_config: {
              name: "local",
              virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { filename: "/root/.ssh/id_rsa" } } }] }],
            },
            http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
          },
        },
      ],
    },
  ],
});

const inline = raw("inline", {
  "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
  name: "inline",
  tls_certificate: { certificate_chain: { inline_string: "chain" }, private_key: { inline_bytes: "a2V5" } },
});

test("a DataSource filename anywhere in a raw resource refuses it, naming the path, the file and the fix", () => {
  const g = graphOf([secret, listener, inline]);
  assert.deepEqual(
    g.diagnostics.map((d) => [d.object, d.code, d.path, d.message]),
    [
      ["RawResource/cert", "raw.filename", "spec.resource.tls_certificate.certificate_chain.filename", 'the Secret makes Envoy read the file "/etc/shadow" on its host, which is refused'],
      [
        "RawResource/lis",
        "raw.filename",
        "spec.resource.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].direct_response.body.filename",
        'the Listener makes Envoy read the file "/root/.ssh/id_rsa" on its host, which is refused',
      ],
    ],
  );
  assert.match(g.diagnostics[0]?.hint ?? "", /inline_string or inline_bytes\), or start the control plane with --allow-raw-filename/);
  assert.deepEqual([...g.rejected].sort(), ["RawResource/cert", "RawResource/lis"]);
  // The others keep flowing.
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["inline"]);
});

test("the operator setting allows files", () => {
  const g = graphOf([secret, listener, inline], true);
  assert.deepEqual(g.diagnostics, []);
  assert.deepEqual(g.graph.groups[0]?.raw.map((r) => r.name), ["cert", "inline", "lis"]);
});
