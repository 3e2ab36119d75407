#!/usr/bin/env bash
# SPA benchmark: builds the release SPA and server, serves the demo organization on a
# throwaway data folder, loads the dashboard 20 times in headless Chromium and prints
# the .wasm/.js sizes (raw and gzip) and the time to the first SmartNumber card.
# Set QBR_BENCH_SKIP_BUILD=1 to reuse dist/ and target/release/qbr.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
if [ "${QBR_BENCH_SKIP_BUILD:-}" != 1 ]; then
  trunk build --release
  cargo build --release -p backend --bin qbr
fi
qbr=${QBR_BENCH_BIN:-target/release/qbr}
data=$(mktemp -d /tmp/qbr-bench-XXXXXX)
chmod o+x "$data"  # the private PostgreSQL may run as `postgres`
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
QBR_DATA_DIR="$data" QBR_LISTEN="127.0.0.1:$port" QBR_DIST_DIR="$PWD/dist" RUST_LOG=warn "$qbr" serve --demo &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
node scripts/bench-spa.mjs "http://127.0.0.1:$port" dist "${RUNS:-20}"
