#!/usr/bin/env bash
# Builds the SPA for hosting mode 2 (static files under a path, the API on another host)
# and configures it: config.json with the API's URL, and the Content-Security-Policy
# <meta> in index.html (`qbr spa configure`). Run it after every build you deploy.
#   deploy/build-spa.sh [OUT]        (default OUT: dist-qbr)
# Settings (environment): PUBLIC_URL (default /qbr/), API_BASE_URL (default
# https://db-api.enersystems.com:5400), QBR (the qbr binary; default: on PATH, else
# target/release/qbr). The tools come from `scripts/install-deps.sh --frontend`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist-qbr}
public_url=${PUBLIC_URL:-/qbr/}
api_base_url=${API_BASE_URL:-https://db-api.enersystems.com:5400}
qbr=${QBR:-$(command -v qbr || echo target/release/qbr)}
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"   # trunk, wasm-opt

# A target dir of its own, as scripts/demo.sh, so a server build does not wait for it.
CARGO_TARGET_DIR=target/spa trunk build --release --public-url "$public_url" --dist "$out"
"$qbr" spa configure --dist "$out" --api-base-url "$api_base_url"

cat <<MSG
Built and configured: $out/ (public path $public_url, API $api_base_url).
Copy it to the web server, the hashed files first and index.html/config.json last, so
no browser ever gets an index.html whose files are not there yet:
  rsync -a --exclude index.html --exclude config.json $out/ HOST:/var/www/qbr/
  rsync -a --delete $out/ HOST:/var/www/qbr/
MSG
