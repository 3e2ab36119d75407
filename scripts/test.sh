#!/usr/bin/env bash
# Runs every check and test of the QBR Dashboard: formatting, clippy (server and, for
# wasm32, the SPA), then the whole test suite against real PostgreSQL clusters that
# the tests start and stop themselves, and the SPA's browser tests in headless Chromium
# against a freshly built dist/ (and one built for the public path /qbr/, for the
# hosting tests). Installs missing tools first.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scripts/install-deps.sh --frontend --browser
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (server, shared crate, tests)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
echo "==> cargo clippy (SPA, wasm32)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
echo "==> trunk build (the SPA the browser tests load)"
trunk build
echo "==> trunk build --public-url /qbr/ (the SPA the hosting tests serve under /qbr/)"
trunk build --public-url /qbr/ --dist target/dist-qbr
export QBR_TEST_DIST_QBR="$PWD/target/dist-qbr"
echo "==> cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --exclude frontend --all-targets --no-fail-fast 2>&1 | tee "$log"
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
echo "scripts/test.sh took $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
