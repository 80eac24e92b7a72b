// Enforces the one-way layer rule on the repository (scripts/layer-rule.ts says
// what it is); scripts/check.sh runs it.
import { fileURLToPath } from "node:url";
import { checkLayerRule } from "./layer-rule.ts";

const report = checkLayerRule(fileURLToPath(new URL("..", import.meta.url)));
if (report.problems.length > 0) {
  for (const p of report.problems) console.error(p);
  console.error(`layer rule: ${report.problems.length} problem(s) in ${report.checked} files`);
  process.exit(1);
}
console.log(`layers ok (${report.checked} files checked)`);
