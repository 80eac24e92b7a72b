import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TestPki } from "@ts-control-plane/xds/testing";
import { type RunningControlPlane, serve } from "../main.ts";
import { cli } from "./cli-test-kit.ts";

// Issue 13: a rotated key can be purged from history, and is then gone from the store's bytes.

const listenerYaml = (cert: string, key: string) =>
  `apiVersion: tcp.dev/v1alpha1\nkind: Listener\nmetadata:\n  name: https\nspec:\n  protocol: HTTPS\n  port: 8443\n  tls:\n    certificate: |\n${indent(cert)}    key: |\n${indent(key)}`;
const indent = (pem: string) =>
  pem
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `      ${l}\n`)
    .join("");
const keyLines = (key: string) => key.split("\n").filter((l) => l !== "" && !l.startsWith("-----"));
const storeBytes = (dataDir: string) =>
  ["", "-wal", "-shm"]
    .map((s) => {
      try {
        return readFileSync(join(dataDir, `control-plane.db${s}`)).toString("latin1");
      } catch {
        return "";
      }
    })
    .join("");

describe("tcp history purge", () => {
  let dir: string;
  let pki: TestPki;
  let cp: RunningControlPlane;
  let env: Record<string, string>;
  const lines: string[] = [];
  const dataDir = () => join(dir, "data");
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "cp-purge-cli-"));
    pki = await TestPki.create();
    cp = await serve({ xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: dataDir(), configPaths: [], debounceMs: 5, log: (l) => lines.push(l) });
    env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
  });
  after(async () => {
    await cp.close();
    await pki.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("deletes the revisions holding an old key; the key's bytes are gone from the store file and the current key stays", async () => {
    const pair = async (name: string) => {
      const f = await pki.issue({ name, commonName: name });
      return { cert: readFileSync(f.certFile, "utf8"), key: readFileSync(f.keyFile, "utf8") };
    };
    const a = await pair("a");
    const b = await pair("b");
    assert.equal((await cli(["apply", "-f", "-"], env, listenerYaml(a.cert, a.key))).code, 0);
    const rotated = await cli(["apply", "-f", "-"], env, listenerYaml(b.cert, b.key));
    assert.equal(rotated.code, 0, rotated.err);
    assert.ok(keyLines(a.key).some((l) => storeBytes(dataDir()).includes(l)), "before: key A is in history");

    const usage = await cli(["history", "purge"], env);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /history purge needs exactly one of --before N .* or --keep N/);
    const purged = await cli(["history", "purge", "--keep", "1"], env);
    assert.equal(purged.code, 0, purged.err);
    assert.equal(purged.out, "purged 1 revisions (1 object versions); history now starts at revision 2\n");

    const bytes = storeBytes(dataDir());
    for (const line of keyLines(a.key)) assert.ok(!bytes.includes(line), `key A is gone: ${line}`);
    assert.ok(keyLines(b.key).every((l) => bytes.includes(l)), "the current key B is kept");
    const gone = await cli(["history", "1"], env);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /revision 1 was purged from history/);
    assert.match((await cli(["rollback", "--to", "1"], env)).err, /revision 1 was purged/);
    // What `get` shows is the placeholder, never key B.
    const got = await cli(["get", "Listener", "https", "-o", "yaml"], env);
    assert.match(got.out, /key: \|\n +<redacted sha256:[0-9a-f]{12}>\n/);
    for (const line of keyLines(b.key)) assert.ok(!got.out.includes(line));
    for (const line of [...keyLines(a.key), ...keyLines(b.key)]) assert.ok(!lines.join("\n").includes(line), "nor the log");
    assert.equal(statSync(dataDir()).mode & 0o777, 0o700);
    assert.equal(statSync(join(dataDir(), "control-plane.db")).mode & 0o777, 0o600);
  });
});

describe("serve --store-key-file", () => {
  it("keeps keys encrypted in the store file, and refuses to start without the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cp-store-key-"));
    try {
      const keyFile = join(dir, "store.key");
      writeFileSync(keyFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
      const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      const options = { xdsHost: "127.0.0.1", xdsPort: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: join(dir, "data"), configPaths: [], debounceMs: 5, log: () => {} };
      const cp = await serve({ ...options, storeKeyFile: keyFile });
      try {
        const env = { CONTROL_PLANE_SERVER: `http://127.0.0.1:${cp.adminPort}` };
        const raw = {
          apiVersion: "tcp.dev/v1alpha1",
          kind: "RawResource",
          metadata: { name: "s" },
          spec: { resource: { "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", name: "s", tls_certificate: { private_key: { inline_string: pem } } } },
        };
        const applied = await cli(["apply", "-f", "-"], env, JSON.stringify(raw));
        assert.equal(applied.code, 0, applied.err);
      } finally {
        await cp.close();
      }
      for (const line of keyLines(pem)) assert.ok(!storeBytes(join(dir, "data")).includes(line), `encrypted at rest: ${line}`);
      await assert.rejects(serve(options), /holds encrypted objects: start with the key they were written with/);
      const again = await serve({ ...options, storeKeyFile: keyFile });
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
