#!/usr/bin/env bash
# Generates TypeScript (JS + .d.ts) for Envoy's v3 API with protobuf-es, at build time.
#
# Sources, all pinned, none committed:
#  - Envoy, xds/udpa and googleapis .proto trees from the npm package
#    @grpc/grpc-js-xds (version pinned in package-lock.json);
#  - validate/validate.proto from the PyPI package protoc-gen-validate (pinned in
#    scripts/toolchain.sh). The copy bundled with grpc-js-xds predates
#    StringRules.ignore_empty, which envoy/config/core/v3/protocol.proto and a few
#    others use, so a strict compiler rejects them. The newer file replaces it in
#    the staging tree.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$here"

deps="$root/node_modules/@grpc/grpc-js-xds/deps"
pgv="${PGV_PROTO:-$root/.tools/py/data/validate.proto}"
[[ -d "$deps" ]] || { echo "missing $deps: run npm ci" >&2; exit 1; }
[[ -f "$pgv" ]] || { echo "missing $pgv: run scripts/toolchain.sh" >&2; exit 1; }

stage="$here/proto-staging"
rm -rf "$stage" gen
mkdir -p "$stage/validate"
cp -R "$deps/envoy-api/envoy" "$stage/"
cp -R "$deps/xds/xds" "$deps/xds/udpa" "$stage/"
cp -R "$deps/googleapis/google" "$stage/"
rm -rf "$stage/google/protobuf"   # buf provides the well-known types itself
cp "$pgv" "$stage/validate/validate.proto"

node scripts/select-protos.ts "$stage" > "$stage/.files" 2> "$stage/.skipped"
echo "compiling $(wc -l < "$stage/.files") Envoy v3 files ($(wc -l < "$stage/.skipped") skipped, see proto-staging/.skipped)"

paths=()
while IFS= read -r f; do paths+=(--path "$f"); done < "$stage/.files"

cat > "$stage/buf.yaml" <<YAML
version: v2
lint:
  use: [MINIMAL]
YAML
cat > "$stage/buf.gen.yaml" <<YAML
version: v2
plugins:
  - local: ["node", "$root/node_modules/@bufbuild/protoc-gen-es/bin/protoc-gen-es"]
    out: $here/gen
    opt: [target=js+dts, import_extension=js, json_types=true]
    include_imports: true
YAML
# A binary image of every descriptor too, for runtime reflection (PGV validation).
(cd "$stage" && buf build "${paths[@]}" -o "$here/gen-image.binpb" && \
  buf generate "${paths[@]}" --template buf.gen.yaml)
mv "$here/gen-image.binpb" "$here/gen/envoy-api.binpb"
touch gen/.stamp
echo "generated $(find gen -name '*.js' | wc -l) modules into packages/envoy-api/gen"
