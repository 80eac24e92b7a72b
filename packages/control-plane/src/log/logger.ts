import { pino } from "pino";
import { oneLine } from "./one-line.ts";
import { redactText } from "./redact-secrets.ts";

export const logLevels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ["json", "text"] as const;
export type LogFormat = (typeof logFormats)[number];

/**
 * Structured context of one event: `changeId`, `node`, `type`, ... `level`
 * is not a field: it picks the event's level where a module logs through a
 * plain function ({@link logTo}); info when absent.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>> & { readonly level?: LogLevel };

/** One event: a message for people, fields for machines. */
export type LogFn = (message: string, fields?: LogFields) => void;

/** The control plane's logger: one event, one line, at a level. */
export interface Logger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
}

export interface LoggerOptions {
  /** Events below it are dropped; info by default. */
  readonly level?: LogLevel;
  /** json: one JSON object per line (pino); text: `TIME LEVEL message key=value`. */
  readonly format: LogFormat;
  /** Where lines go; standard output by default. */
  readonly destination?: { write(text: string): unknown };
  readonly now?: () => Date;
}

const rank: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * json on a pipe or file (log collectors), text on a terminal (people), as
 * `--log-format` defaults (docs/logging.md).
 */
export function defaultLogFormat(stream: { isTTY?: boolean }): LogFormat {
  return stream.isTTY === true ? "text" : "json";
}

/**
 * Every message and field is redacted (private keys, issue 13) and, in text,
 * escaped to one line (issue 14) before it is written: NACK messages, node ids
 * and object names come from outside. JSON escapes control characters itself.
 */
function clean(message: string, fields: LogFields | undefined): { message: string; fields: Record<string, string | number | boolean> } {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(fields ?? {})) if (v !== undefined) out[k] = typeof v === "string" ? redactText(v) : v;
  return { message: redactText(message), fields: out };
}

/** `key=value`, quoted when the value has spaces or quotes, so a line splits back into its fields. */
function textField(key: string, value: string | number | boolean): string {
  const s = String(value);
  return `${key}=${/^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)}`;
}

export function createLogger(options: LoggerOptions): Logger {
  const min = rank[options.level ?? "info"];
  const destination = options.destination ?? process.stdout;
  const now = options.now ?? (() => new Date());
  let write: (level: LogLevel, message: string, fields: Record<string, string | number | boolean>) => void;
  if (options.format === "json") {
    const json = pino(
      {
        level: options.level ?? "info",
        // Neither pid nor hostname: a collector adds where a line came from.
        base: null,
        messageKey: "msg",
        timestamp: () => `,"time":"${now().toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
      },
      { write: (text: string) => destination.write(text) },
    );
    write = (level, message, fields) => json[level](fields, message);
  } else {
    write = (level, message, fields) => {
      const extra = Object.entries(fields).map(([k, v]) => ` ${textField(k, v)}`).join("");
      destination.write(`${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${oneLine(message)}${oneLine(extra)}\n`);
    };
  }
  const at =
    (level: LogLevel): LogFn =>
    (message, fields) => {
      if (rank[level] < min) return;
      const c = clean(message, fields);
      write(level, c.message, c.fields);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** One log function for modules that take `log(message, fields)`: `fields.level` picks the logger's method. */
export function logTo(logger: Logger): LogFn {
  return (message, fields) => {
    if (fields === undefined) return logger.info(message);
    const { level, ...rest } = fields;
    logger[level ?? "info"](message, rest);
  };
}

/**
 * A logger that hands each event's message, as one redacted line, to `sink`:
 * what embedders and tests that pass `serve({ log })` receive.
 */
export function lineLogger(sink: (line: string) => void, options: { level?: LogLevel } = {}): Logger {
  const min = rank[options.level ?? "debug"];
  const at =
    (level: LogLevel): LogFn =>
    (message) => {
      if (rank[level] >= min) sink(oneLine(redactText(message)));
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
