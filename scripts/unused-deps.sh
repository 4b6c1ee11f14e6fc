#!/usr/bin/env bash
# Every dependency a crate of the workspace declares must be used by its code: for each
# [dependencies], [dev-dependencies] and [build-dependencies] entry of crates/*/Cargo.toml and
# tests/Cargo.toml, the crate's Rust files (src/, benches/, e2e/, build.rs) must name it
# (`name::` or `use name`, with `-` read as `_`). A dependency declared only to turn on a feature
# of another crate says so on its line with a comment containing `feature-only`.
# Prints each unused one and exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/.."

unused=0
for manifest in crates/*/Cargo.toml tests/Cargo.toml; do
  dir=$(dirname "$manifest")
  # Names under the dependency tables: `name = …` or `name.workspace = true`.
  names=$(awk '
    /^\[/ { deps = ($0 ~ /^\[(dev-|build-)?dependencies\]$/); next }
    deps && /^[A-Za-z0-9_-]+[ .=]/ && $0 !~ /feature-only/ { split($0, a, /[ .=]/); print a[1] }
  ' "$manifest")
  files=$(find "$dir" -name '*.rs' -not -path '*/target/*')
  for name in $names; do
    ident=${name//-/_}
    if ! grep -qE "(^|[^A-Za-z0-9_])${ident}::|use ${ident}( |;|::)|extern crate ${ident}" $files; then
      echo "unused dependency: ${name} in ${manifest}"
      unused=1
    fi
  done
done
exit "$unused"
