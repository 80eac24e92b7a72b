// mTLS connect benchmark: `node bench/mtls-connect.ts [--clients N] [--clusters R]
// [--quick] [--timeout-ms T]`. Defaults: N = 1000, R = 10; --quick: N = 4, R = 5.
//
// How much mTLS adds to connecting a fleet: N lean SotW ADS clients (one
// HTTP/2 connection each, support/fleet-clients.ts) connect to the xDS server
// and get R clusters and R load assignments, once over plaintext and once over
// mTLS (P-256 certificates made by openssl in a temp dir; the server verifies
// each client certificate and `authorize` checks its identity), each run in its
// own server process (support/fanout-protocol-main.ts) so RSS figures do not
// carry over. Reports connect-to-all-ACKed time, server CPU for it and server
// RSS per stream. Prints a table and, last, one JSON line.
import { parseArgs } from "node:util";
import { TestPki } from "@ts-control-plane/xds/testing";
import { positiveInt, runMain } from "./support/cli.ts";
import type { ProtocolChildMessage, ProtocolParentMessage } from "./support/fanout-protocol-main.ts";
import { forkProcess } from "./support/forked-process.ts";
import type { MtlsFiles, ProtocolResult } from "./support/run-fanout-protocol.ts";
import { textTable } from "./support/text-table.ts";

const clientIdentity = "spiffe://bench.example.org/ns/bench/sa/envoy";

interface Options {
  readonly clients: number;
  readonly clusters: number;
  readonly timeoutMs: number;
  readonly quick: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { values } = parseArgs({ args: [...argv], options: { clients: { type: "string" }, clusters: { type: "string" }, "timeout-ms": { type: "string" }, quick: { type: "boolean", default: false } } });
  const quick = values.quick === true;
  return {
    quick,
    clients: positiveInt("clients", values.clients, quick ? 4 : 1000),
    clusters: positiveInt("clusters", values.clusters, quick ? 5 : 10),
    timeoutMs: positiveInt("timeout-ms", values["timeout-ms"], quick ? 30_000 : 300_000),
  };
}

/** One transport's figures. */
export interface ConnectFigures {
  /** From the client process opening its streams until the server saw every initial CDS and EDS ACK. */
  readonly connectToAllAckedMs: number;
  /** Until every client held the initial configuration (client side). */
  readonly connectToAllReceivedMs: number;
  /** Server CPU (user + system) over the connect. */
  readonly serverCpuMs: number;
  readonly rssPerStreamBytes: number;
  readonly heapPerStreamBytes: number;
  readonly rssConnectedBytes: number;
}

export interface MtlsConnectResult {
  readonly clients: number;
  readonly clusters: number;
  readonly plaintext: ConnectFigures;
  readonly mtls: ConnectFigures;
}

async function run(options: Options, mtls: MtlsFiles | undefined): Promise<ProtocolResult> {
  const child = forkProcess<ProtocolParentMessage, ProtocolChildMessage>(
    new URL("./support/fanout-protocol-main.ts", import.meta.url),
    [
      "--protocol",
      "sotw",
      "--clients",
      String(options.clients),
      "--endpoints",
      String(options.clusters),
      "--timeout-ms",
      String(options.timeoutMs),
      ...(mtls === undefined ? [] : ["--mtls", JSON.stringify(mtls)]),
    ],
    { exitMessage: { type: "exit" } },
  );
  try {
    return (await child.next("result", { timeoutMs: 3 * options.timeoutMs })).result;
  } finally {
    await child.stop();
  }
}

const figures = (r: ProtocolResult): ConnectFigures => ({
  connectToAllAckedMs: r.initialAckedMs,
  connectToAllReceivedMs: r.initialMs,
  serverCpuMs: r.initialCpuMs,
  rssPerStreamBytes: r.rssPerStreamBytes,
  heapPerStreamBytes: r.heapPerStreamBytes,
  rssConnectedBytes: r.rssConnectedBytes,
});

export async function runMtlsConnect(options: Options): Promise<MtlsConnectResult> {
  const pki = await TestPki.create({ commonName: "bench CA" });
  try {
    const server = await pki.issue({ name: "server", commonName: "localhost", sans: ["DNS:localhost", "IP:127.0.0.1"] });
    const client = await pki.issue({ name: "client", commonName: "bench", sans: [`URI:${clientIdentity}`] });
    const mtls: MtlsFiles = {
      caFile: pki.caFile,
      serverCertFile: server.certFile,
      serverKeyFile: server.keyFile,
      clientCertFile: client.certFile,
      clientKeyFile: client.keyFile,
      clientIdentity,
    };
    const plaintext = figures(await run(options, undefined));
    const secure = figures(await run(options, mtls));
    return { clients: options.clients, clusters: options.clusters, plaintext, mtls: secure };
  } finally {
    await pki.dispose();
  }
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

export function formatResult(r: MtlsConnectResult): string {
  const row = (what: string, f: (c: ConnectFigures) => string): string[] => [what, f(r.plaintext), f(r.mtls)];
  return [
    `xDS connect, plaintext vs mTLS: ${r.clients} SotW ADS clients (one connection each), ${r.clusters} EDS clusters + ${r.clusters} load assignments`,
    "",
    textTable([
      ["measure", "plaintext", "mTLS"],
      row("connect to all ACKed (server saw every initial ACK)", (c) => `${c.connectToAllAckedMs} ms`),
      row("connect to all received (client side)", (c) => `${c.connectToAllReceivedMs} ms`),
      row("server CPU over the connect", (c) => `${c.serverCpuMs} ms`),
      row("server RSS per connected stream", (c) => kib(c.rssPerStreamBytes)),
      row("server JS heap per connected stream", (c) => kib(c.heapPerStreamBytes)),
      row("server RSS with every client connected", (c) => mib(c.rssConnectedBytes)),
    ]),
  ].join("\n");
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const result = await runMtlsConnect(options);
  console.log(formatResult(result));
  console.log(JSON.stringify({ bench: "mtls-connect", quick: options.quick, node: process.version, ...result }));
}

runMain(import.meta, main);
