#!/usr/bin/env bash
# Static checks: strict type check, lint, the one-way layer rule, docs and
# comments that cite only files of the repository, and TSDoc on
# every export of the library (TypeDoc validation; warnings are errors).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== typecheck"; tsc -p tsconfig.json; tsc -p packages/control-plane/src/admin/dashboard/tsconfig.json
echo "== lint"; biome lint --error-on-warnings .
echo "== layers"; node scripts/check-layers.ts
echo "== repo paths"; node scripts/check-repo-paths.ts
echo "== api docs"; typedoc --emit none --logLevel Warn
