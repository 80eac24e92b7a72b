import { readFileSync } from "node:fs";

/** The control-plane package's version (package.json), for `tcp version` and GET /api/v1/version. */
export const packageVersion: string = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
