#!/usr/bin/env bash
# The whole test suite: static checks, unit tests next to the code, then the
# real-Envoy end-to-end tests. Runs under scripts/toolchain.sh (Node 24, Envoy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mode="${1:-all}"
# Setup and tests must leave the tree as it was cloned (no rewritten lockfile,
# no chmod by npm, no generated file in a tracked path): checked at the end.
tracked_changes() { git status --porcelain --untracked-files=no; }
if [[ -n "$(tracked_changes)" ]]; then
  echo "note: tracked files differ from HEAD before the tests; the suite fails at its end while they do (commit or stash them):" >&2
  tracked_changes | sed 's/^/  /' >&2
fi
# Debian packages a part of the suite needs, installed when missing (as root, like any
# setup here); a machine that cannot install one fails the suite rather than skipping tests.
# apt_install PACKAGE WHAT-NEEDS-IT CHECK...: CHECK is a command that succeeds once it is there.
apt_install() {
  local package="$1" why="$2"; shift 2
  if "$@"; then return; fi
  echo "[setup] installing Debian's $package for $why" >&2
  local out; out="$(mktemp)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >"$out" 2>&1; then
    tail -20 "$out" >&2; rm -f "$out"
    echo "FAIL: could not install $package (apt-get install -y $package, as root); $why needs it" >&2
    exit 1
  fi
  rm -f "$out"
  "$@" || { echo "FAIL: $package installed but still not found ($*)" >&2; exit 1; }
}
# The PostgreSQL store's tests (issue 10) start throwaway clusters with Debian's
# initdb/postgres. Only the binaries are used: the Debian cluster the package creates is not
# started by tests.
has_initdb() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }
apt_install postgresql "the PostgreSQL store's tests" has_initdb
if [[ "$mode" == all || "$mode" == --unit ]]; then
  bash scripts/check.sh
  # Git pathspec wildcards cross '/', so 'packages/*.test.ts' finds every test under packages/.
  mapfile -t unit < <(git ls-files -co --exclude-standard -- 'packages/*.test.ts' 'examples/*.test.ts' 'bench/*.test.ts' 'scripts/*.test.ts' | sort)
  echo "== unit tests (${#unit[@]} files)"
  node --test --test-reporter=spec --test-concurrency=2 "${unit[@]}"
fi
# The dashboard's end-to-end test drives Debian's chromium (no browser download: the
# network is closed).
has_chromium() { [[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]]; }
if [[ "$mode" == all || "$mode" == --e2e ]]; then
  apt_install chromium "e2e/control-plane/dashboard.test.ts" has_chromium
  mapfile -t e2e < <(git ls-files -co --exclude-standard -- 'e2e/*.test.ts' | sort)
  echo "== end-to-end tests with a real Envoy $("$ENVOY_BIN" --version | grep -o '[0-9]*\.[0-9]*\.[0-9]*/' | tr -d /) (${#e2e[@]} files)"
  # One file at a time: each starts Envoy processes, upstreams and control planes
  # (on ephemeral ports), and real-Envoy timing is more reliable without contention.
  node --test --test-reporter=spec --test-concurrency=1 "${e2e[@]}"
fi
changed="$(tracked_changes)"
if [[ -n "$changed" ]]; then
  echo "FAIL: tracked files differ from HEAD after setup and tests (a clean clone must stay clean):" >&2
  printf '%s\n' "$changed" | sed 's/^/  /' >&2
  exit 1
fi
echo "== tree clean: no tracked file changed"
