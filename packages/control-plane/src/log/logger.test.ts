import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, defaultLogFormat, lineLogger, logTo } from "./logger.ts";

const key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
const clock = () => new Date("2026-01-02T03:04:05.678Z");

function capture() {
  const chunks: string[] = [];
  return { destination: { write: (t: string) => chunks.push(t) }, lines: () => chunks.join("").split("\n").filter((l) => l !== "") };
}

test("json: one JSON object per line with level, time, message and fields; below the level is dropped", () => {
  const out = capture();
  const log = createLogger({ format: "json", level: "info", destination: out.destination, now: clock });
  log.debug("not shown");
  log.info("accepted change from cli: revision 3", { changeId: "chg-3", source: "cli" });
  log.warn("NACK from edge-1", { node: "edge-1", skipped: undefined });
  assert.deepEqual(out.lines().map((l) => JSON.parse(l)), [
    { level: "info", time: "2026-01-02T03:04:05.678Z", changeId: "chg-3", source: "cli", msg: "accepted change from cli: revision 3" },
    { level: "warn", time: "2026-01-02T03:04:05.678Z", node: "edge-1", msg: "NACK from edge-1" },
  ]);
});

test("text: time, level, message and key=value fields on one line", () => {
  const out = capture();
  const log = createLogger({ format: "text", level: "debug", destination: out.destination, now: clock });
  log.debug("xDS stream opened by edge-1", { node: "edge-1" });
  log.error("shutdown: boom", { why: "two words" });
  assert.deepEqual(out.lines(), ['2026-01-02T03:04:05.678Z DEBUG xDS stream opened by edge-1 node=edge-1', '2026-01-02T03:04:05.678Z ERROR shutdown: boom why="two words"']);
});

test("private keys are redacted in the message and in fields; outside text cannot forge a line (issues 13, 14)", () => {
  for (const format of ["json", "text"] as const) {
    const out = capture();
    const log = createLogger({ format, destination: out.destination, now: clock });
    log.warn(`NACK: ${key}\n2026-01-01 forged`, { message: `bad ${key}`, node: "edge\r\n1" });
    const lines = out.lines();
    assert.equal(lines.length, 1, `${format}: ${lines.join("\n")}`);
    assert.ok(!lines[0]?.includes("PRIVATE KEY"), `${format}: ${lines[0]}`);
    assert.equal(lines[0]?.match(/<redacted sha256:[0-9a-f]{12}>/g)?.length, 2, `${format}: ${lines[0]}`);
  }
});

test("line sink gets the message only; json on a pipe, text on a terminal", () => {
  const got: string[] = [];
  lineLogger((l) => got.push(l)).info("a\nb", { changeId: "chg-1" });
  assert.deepEqual(got, ["a\\nb"]);
  assert.equal(defaultLogFormat({ isTTY: true }), "text");
  assert.equal(defaultLogFormat({}), "json");
});

test("logTo: a module's log(message, fields) picks the level with fields.level, which is not written as a field", () => {
  const out = capture();
  const log = logTo(createLogger({ format: "json", level: "info", destination: out.destination, now: clock }));
  log("accepted", { changeId: "chg-2" });
  log("refused change from a.yaml", { level: "warn", source: "a.yaml" });
  log("details", { level: "debug" });
  log("plain");
  assert.deepEqual(
    out.lines().map((l) => JSON.parse(l) as Record<string, unknown>).map((l) => [l["level"], l["msg"], l["source"] ?? l["changeId"] ?? null]),
    [
      ["info", "accepted", "chg-2"],
      ["warn", "refused change from a.yaml", "a.yaml"],
      ["info", "plain", null],
    ],
  );
});
