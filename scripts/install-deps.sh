#!/usr/bin/env bash
# Installs what building and testing the QBR Dashboard needs on a Debian machine,
# skipping whatever is already there. Usage: scripts/install-deps.sh [--frontend] [--browser]
#   (always)     apt: build tools, PostgreSQL server binaries, Node.js/npm; the wasm32 target
#   --frontend   trunk, wasm-bindgen-cli (= Cargo.lock's version), the npm packages
#                (wasm-opt from binaryen, ECharts)
#   --browser    Chromium + chromedriver (the browser tests; the demo doesn't need them)
# Everything comes from Debian's, crates.io's and npm's registries: no other downloads.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
want_frontend=false
want_browser=false
for arg in "$@"; do
  case "$arg" in
    --frontend) want_frontend=true ;;
    --browser) want_browser=true ;;
    *) echo "usage: $0 [--frontend] [--browser]" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages -------------------------------------------------------------
# poppler-utils: the tests read the PDF report back with pdfinfo, pdftotext and pdftoppm.
packages=(build-essential pkg-config libssl-dev ca-certificates curl git postgresql poppler-utils)
$want_browser && packages+=(chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js may come from elsewhere (e.g. NodeSource, which bundles npm): test the commands.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  # qbr runs its own private PostgreSQL cluster: don't let the package create and
  # start the system-wide one.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    as_root mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- Rust ------------------------------------------------------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "Rust is not installed: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

# The SPA compiles to WebAssembly (clippy checks it too).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

$want_frontend || exit 0

# --- Front-end toolchain -----------------------------------------------------------------
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "Installing trunk $TRUNK_VERSION (takes a few minutes once)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi
# wasm-bindgen-cli must be exactly the wasm-bindgen version the SPA links.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  say "Installing wasm-bindgen-cli $wbg_version"
  cargo install wasm-bindgen-cli --version "$wbg_version"
fi
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -f node_modules/echarts/dist/echarts.min.js ]; then
  say "Installing npm packages (binaryen's wasm-opt, ECharts)"
  npm ci --no-audit --no-fund --loglevel=error
fi
