import { mkdtempSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { openObjectStore } from "./object-store.ts";
import { describeStoreBehaviours } from "./store-behaviours.ts";

const dir = mkdtempSync(join(tmpdir(), "cp-store-sqlite-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeStoreBehaviours("SQLite (node:sqlite)", {
  async fresh(options = {}) {
    const file = join(dir, `s${n++}`, "control-plane.db");
    const open = () => openObjectStore({ file, ...(options.cipher === undefined ? {} : { cipher: options.cipher }) });
    return {
      store: open(),
      reopen: async () => open(),
      async rawBodies() {
        const db = new DatabaseSync(file, { readOnly: true });
        try {
          return db.prepare("SELECT body FROM object_versions WHERE body IS NOT NULL UNION ALL SELECT body FROM objects").all().map((r) => String(r["body"]));
        } finally {
          db.close();
        }
      },
    };
  },
});
