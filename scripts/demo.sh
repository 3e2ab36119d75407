#!/usr/bin/env bash
# One command from a fresh Debian machine to a running QBR Dashboard with demo data:
# installs what is missing, builds the server and the SPA (release), and runs
# `qbr serve --demo` with its own private PostgreSQL under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scripts/install-deps.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# The server builds while the SPA's tools install and the SPA builds: each job has long
# single-threaded stretches (linking, LTO, installs) that leave the other core idle. The
# SPA gets a target dir of its own so neither waits for the other's lock.
log=$(mktemp)
echo "==> Building the server in the background (log: $log)"
cargo build --release -p backend --bin qbr >"$log" 2>&1 &
server=$!
scripts/install-deps.sh --frontend
echo "==> Building the SPA (trunk build --release)"
CARGO_TARGET_DIR=target/spa trunk build --release
echo "==> Waiting for the server build"
if ! wait "$server"; then
  cat "$log" >&2
  echo "building the server failed" >&2
  exit 1
fi
rm -f "$log"
echo "==> Built in $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
echo "==> Starting: open http://${QBR_LISTEN:-127.0.0.1:5400}/ (Ctrl-C stops the server and its database)"
exec target/release/qbr serve --demo
