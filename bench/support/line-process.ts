// A child process driven by stdin lines (one answer line per command), and
// its CPU time and RSS from /proc: shared by bench/peer.ts and
// bench/snapshot-cost.ts, which drive bench/peer/ours-server.ts the same way.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** Server CPU seconds (utime + stime) from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Resident set size from /proc/<pid>/status (VmRSS, kB). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** A child process driven by stdin lines, answering one stdout line per command. */
export class LineProcess {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #exit: string | undefined;

  readonly #waitMs: number;
  readonly label: string;

  constructor(label: string, command: string, args: readonly string[], options: { readonly waitMs: number; readonly env?: NodeJS.ProcessEnv }) {
    this.label = label;
    this.#waitMs = options.waitMs;
    this.#child = spawn(command, [...args], { stdio: ["pipe", "pipe", "inherit"], ...(options.env === undefined ? {} : { env: options.env }) });
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
    this.#child.on("exit", (code, signal) => {
      this.#exit = `${label} exited (code ${code}, signal ${signal})`;
      this.#wake?.();
    });
    this.#child.on("error", (error) => {
      this.#exit = `${label}: ${error.message}`;
      this.#wake?.();
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** The next line, which must start with `word`; an "error"/"failed" line or an exit rejects. */
  async next(word: string): Promise<string[]> {
    const deadline = Date.now() + this.#waitMs;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        const words = line.split(" ");
        if (words[0] === word) return words.slice(1);
        throw new Error(`${this.label}: expected "${word}", got ${JSON.stringify(line)}`);
      }
      if (this.#exit !== undefined) throw new Error(this.#exit);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no "${word}" within ${this.#waitMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async command(line: string, word: string): Promise<string[]> {
    this.send(line);
    return this.next(word);
  }

  /** Closes stdin (both servers and the client exit on it), killing after 5 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }
}

