import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultExamplePath, parseServeArgs, UsageError } from "../main.ts";

describe("serve flags", () => {
  it("defaults to the embedded setup: xDS 18000, admin 9000, ./.data, the scenario-2 example", () => {
    assert.deepEqual(parseServeArgs([], {}), {
      xdsHost: "127.0.0.1",
      xdsPort: 18000,
      adminHost: "127.0.0.1",
      adminPort: 9000,
      dataDir: "./.data",
      configPaths: [],
      examplePath: defaultExamplePath,
    });
  });

  it("takes environment defaults and lets flags win; --config repeats", () => {
    const o = parseServeArgs(["--xds-port=0", "--config", "a.yaml", "-c", "dir", "--no-example", "--debounce-ms", "10"], {
      CONTROL_PLANE_XDS_PORT: "19000",
      CONTROL_PLANE_ADMIN_PORT: "9100",
      CONTROL_PLANE_DATA_DIR: "/var/lib/cp",
    });
    assert.equal(o.xdsPort, 0);
    assert.equal(o.adminPort, 9100);
    assert.equal(o.dataDir, "/var/lib/cp");
    assert.deepEqual(o.configPaths, ["a.yaml", "dir"]);
    assert.equal(o.examplePath, undefined);
    assert.equal(o.debounceMs, 10);
  });

  it("--store-key-file (or CONTROL_PLANE_STORE_KEY_FILE) names the key that encrypts the store", () => {
    assert.equal(parseServeArgs(["--store-key-file", "/etc/cp/store.key"], {}).storeKeyFile, "/etc/cp/store.key");
    assert.equal(parseServeArgs([], { CONTROL_PLANE_STORE_KEY_FILE: "/run/k" }).storeKeyFile, "/run/k");
    assert.equal(parseServeArgs([], {}).storeKeyFile, undefined);
  });

  it("--store (or CONTROL_PLANE_STORE) selects PostgreSQL by URL; anything else is refused with the expected form", () => {
    assert.equal(parseServeArgs(["--store", "postgres://cp@db:5432/tcp"], {}).store, "postgres://cp@db:5432/tcp");
    assert.equal(parseServeArgs([], { CONTROL_PLANE_STORE: "postgresql://cp@db/tcp" }).store, "postgresql://cp@db/tcp");
    assert.equal(parseServeArgs(["--store=postgres://a@b/c"], { CONTROL_PLANE_STORE: "postgres://x@y/z" }).store, "postgres://a@b/c");
    assert.equal(parseServeArgs([], {}).store, undefined);
    assert.throws(() => parseServeArgs(["--store", "mysql://db/tcp"], {}), (e: unknown) => e instanceof UsageError && /--store takes a PostgreSQL URL such as postgres:\/\/user@host:5432\/db/.test(e.message));
    assert.throws(() => parseServeArgs([], { CONTROL_PLANE_STORE: "./x.db" }), (e: unknown) => e instanceof UsageError && e.message.startsWith("CONTROL_PLANE_STORE takes"));
  });

  it("--replica-id (or CONTROL_PLANE_REPLICA_ID) and the lease flags; a renewal not shorter than the lease, or a lease without PostgreSQL, is refused", () => {
    const pg = ["--store", "postgres://cp@db/tcp"];
    assert.equal(parseServeArgs([...pg, "--replica-id", "cp-1"], { CONTROL_PLANE_REPLICA_ID: "env" }).replicaId, "cp-1");
    assert.equal(parseServeArgs(pg, { CONTROL_PLANE_REPLICA_ID: "env" }).replicaId, "env");
    assert.equal(parseServeArgs(pg, {}).replicaId, undefined);
    assert.deepEqual(parseServeArgs([...pg, "--replica-lease-ms", "6000", "--replica-renew-ms=2000"], {}).replicaLease, { leaseMs: 6000, renewMs: 2000 });
    assert.equal(parseServeArgs(pg, {}).replicaLease, undefined);
    assert.throws(() => parseServeArgs([...pg, "--replica-lease-ms", "4000"], {}), (e: unknown) => e instanceof UsageError && /--replica-renew-ms \(5000\) must be shorter than --replica-lease-ms \(4000\)/.test(e.message));
    assert.throws(() => parseServeArgs(["--replica-lease-ms", "30000"], {}), (e: unknown) => e instanceof UsageError && /need --store postgres/.test(e.message));
  });

  it("starts empty on purpose only with --allow-empty-store (issue 14)", () => {
    assert.equal(parseServeArgs([], {}).allowEmptyStore, undefined);
    assert.equal(parseServeArgs(["--allow-empty-store"], {}).allowEmptyStore, true);
  });

  it("takes the admin API's security settings: --admin-auth, --admin-allowed-host (repeatable), --allow-raw-filename", () => {
    const o = parseServeArgs(["--admin-auth", "token", "--admin-allowed-host", "cp.example", "--admin-allowed-host=proxy:8443", "--allow-raw-filename"], {});
    assert.equal(o.adminAuth, "token");
    assert.deepEqual(o.adminAllowedHosts, ["cp.example", "proxy:8443"]);
    assert.equal(o.allowRawFilename, true);
    assert.equal(parseServeArgs([], { CONTROL_PLANE_ADMIN_AUTH: "token" }).adminAuth, "token");
    assert.equal(parseServeArgs(["--admin-auth", "none"], { CONTROL_PLANE_ADMIN_AUTH: "token" }).adminAuth, undefined);
    assert.throws(() => parseServeArgs(["--admin-auth", "basic"], {}), (e: unknown) => e instanceof UsageError && /--admin-auth takes none or token, got "basic"/.test(e.message));
  });

  it("takes the library's xDS limits (issue 14): node size, disconnected proxies kept and for how long, CSDS answer size", () => {
    assert.equal(parseServeArgs([], {}).xdsLimits, undefined, "the library's defaults when no flag is given");
    const o = parseServeArgs(
      ["--xds-max-node-bytes", "65536", "--xds-max-disconnected=50", "--xds-forget-disconnected-ms", "0", "--csds-max-nodes", "200", "--csds-max-response-bytes=1048576"],
      {},
    );
    assert.deepEqual(o.xdsLimits, { maxNodeBytes: 65536, maxDisconnected: 50, forgetDisconnectedAfterMs: 0, csds: { maxNodes: 200, maxResponseBytes: 1048576 } });
    assert.deepEqual(parseServeArgs(["--csds-max-nodes", "10"], {}).xdsLimits, { csds: { maxNodes: 10 } });
    const refused: [string[], RegExp][] = [
      [["--xds-max-node-bytes", "512"], /^--xds-max-node-bytes needs a whole number of bytes >= 1024, got "512"$/],
      [["--xds-max-node-bytes=256KiB"], /^--xds-max-node-bytes needs a whole number of bytes >= 1024, got "256KiB"$/],
      [["--xds-max-disconnected", "-1"], /^--xds-max-disconnected needs a whole number of proxies >= 0, got "-1"$/],
      [["--xds-forget-disconnected-ms", "1h"], /^--xds-forget-disconnected-ms needs a whole number of milliseconds >= 0, got "1h"$/],
      [["--csds-max-nodes", "0"], /^--csds-max-nodes needs a whole number of nodes >= 1, got "0"$/],
      [["--csds-max-response-bytes", "1e6"], /^--csds-max-response-bytes needs a whole number of bytes >= 1, got "1e6"$/],
      [["--xds-max-node-bytes"], /^--xds-max-node-bytes needs a value$/],
    ];
    for (const [argv, message] of refused) {
      assert.throws(() => parseServeArgs(argv, {}), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
    }
  });

  it("takes the xDS load limits (issue 15, issue 10 item 6): stream cap, initial syncs at once and their timeout, write budget, stuck-stream timeout", () => {
    const o = parseServeArgs(
      ["--xds-max-streams", "5000", "--xds-max-initial-syncs=16", "--xds-initial-sync-timeout-ms", "2000", "--xds-max-buffered-bytes", "1048576", "--xds-stuck-stream-timeout-ms=0"],
      {},
    );
    assert.deepEqual(o.xdsLimits, { maxStreams: 5000, maxInitialSyncs: 16, initialSyncTimeoutMs: 2000, maxBufferedBytes: 1048576, stuckStreamTimeoutMs: 0 });
    assert.deepEqual(parseServeArgs(["--xds-transport", "grpc-js"], {}).xdsLimits, { transport: "grpc-js" }, "the way back to @grpc/grpc-js");
    const refused: [string[], RegExp][] = [
      [["--xds-max-streams", "-1"], /^--xds-max-streams needs a whole number of streams >= 0, got "-1"$/],
      [["--xds-max-initial-syncs", "many"], /^--xds-max-initial-syncs needs a whole number of streams >= 0, got "many"$/],
      [["--xds-initial-sync-timeout-ms", "0"], /^--xds-initial-sync-timeout-ms needs a whole number of milliseconds >= 1, got "0"$/],
      [["--xds-max-buffered-bytes", "4MiB"], /^--xds-max-buffered-bytes needs a whole number of bytes >= 1024, got "4MiB"$/],
      [["--xds-stuck-stream-timeout-ms", "1.5"], /^--xds-stuck-stream-timeout-ms needs a whole number of milliseconds >= 0, got "1.5"$/],
      [["--xds-transport", "grpc"], /^--xds-transport takes http2, grpc-js, got "grpc"$/],
    ];
    for (const [argv, message] of refused) {
      assert.throws(() => parseServeArgs(argv, {}), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(" "));
    }
  });

  it("--log-level and --log-format (or CONTROL_PLANE_LOG_LEVEL/FORMAT) choose the logs; other values are usage errors", () => {
    assert.deepEqual([parseServeArgs([], {}).logLevel, parseServeArgs([], {}).logFormat], [undefined, undefined]);
    const o = parseServeArgs(["--log-level", "debug", "--log-format=text"], { CONTROL_PLANE_LOG_LEVEL: "warn", CONTROL_PLANE_LOG_FORMAT: "json" });
    assert.deepEqual([o.logLevel, o.logFormat], ["debug", "text"]);
    assert.deepEqual([parseServeArgs([], { CONTROL_PLANE_LOG_LEVEL: "error" }).logLevel], ["error"]);
    assert.throws(() => parseServeArgs(["--log-level", "verbose"], {}), (e) => e instanceof UsageError && /--log-level takes debug, info, warn, error, got "verbose"/.test(e.message));
    assert.throws(() => parseServeArgs(["--log-format", "pretty"], {}), (e) => e instanceof UsageError && /--log-format takes json, text/.test(e.message));
  });

  it("refuses unknown flags, missing values and bad ports with a usage error", () => {
    assert.throws(() => parseServeArgs(["--port", "1"], {}), (e: unknown) => e instanceof UsageError && /unknown flag "--port"/.test(e.message));
    assert.throws(() => parseServeArgs(["--config"], {}), (e: unknown) => e instanceof UsageError && /--config needs a value/.test(e.message));
    assert.throws(() => parseServeArgs(["--admin-port", "70000"], {}), UsageError);
    assert.throws(() => parseServeArgs([], { CONTROL_PLANE_XDS_PORT: "x" }), UsageError);
  });

  it("takes xDS TLS files from flags or the environment, and refuses a certificate without its key or a CA without TLS", () => {
    assert.deepEqual(parseServeArgs(["--xds-tls-cert", "c.pem", "--xds-tls-key=k.pem", "--xds-client-ca", "ca.pem"], {}).xdsTls, { certFile: "c.pem", keyFile: "k.pem", clientCaFile: "ca.pem" });
    assert.deepEqual(parseServeArgs([], { CONTROL_PLANE_XDS_TLS_CERT: "c.pem", CONTROL_PLANE_XDS_TLS_KEY: "k.pem" }).xdsTls, { certFile: "c.pem", keyFile: "k.pem" });
    assert.equal(parseServeArgs([], {}).xdsTls, undefined);
    assert.throws(() => parseServeArgs(["--xds-tls-cert", "c.pem"], {}), (e: unknown) => e instanceof UsageError && /needs both --xds-tls-cert and --xds-tls-key.*only the certificate/.test(e.message));
    assert.throws(() => parseServeArgs(["--xds-client-ca", "ca.pem"], {}), (e: unknown) => e instanceof UsageError && /--xds-client-ca .* needs --xds-tls-cert and --xds-tls-key/.test(e.message));
  });
});
