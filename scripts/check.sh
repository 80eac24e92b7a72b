#!/usr/bin/env bash
# Static checks: strict type check, lint, and the one-way layer rule.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== typecheck"; tsc -p tsconfig.json
echo "== lint"; biome lint --error-on-warnings .
echo "== layers"; node scripts/check-layers.ts
