#!/usr/bin/env bash
# One command from a fresh Debian machine to a running QBR Dashboard with demo data:
# installs what is missing, builds the SPA and the server (release), and runs
# `qbr serve --demo` with its own private PostgreSQL under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --frontend
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "==> Building the SPA (trunk build --release)"
trunk build --release
echo "==> Building the server"
cargo build --release -p backend --bin qbr
echo "==> Starting: open http://${QBR_LISTEN:-127.0.0.1:5400}/ (Ctrl-C stops the server and its database)"
exec target/release/qbr serve --demo
