#!/usr/bin/env bash
# Fuzzes the REST API with schemathesis against its own OpenAPI document: builds `qbr`,
# starts `qbr serve --demo` on a free loopback port with a data directory of its own,
# signs in (development sign-in), creates a write API key, and runs schemathesis with
# every check (its default) twice with a fixed seed: once signed in (session cookie,
# same-origin Origin) and once with the key (X-API-Key). Prints per run the requests,
# the failures by check, and the share of requests to data endpoints (/api/qbr/*) that
# got past validation (anything but 400/422); exits non-zero on any failure. Stops the
# server.
#
#   scripts/fuzz.sh                      # FUZZ_SEED, FUZZ_MAX_EXAMPLES, FUZZ_PHASES override
#
# Rules the schema can't state (a metric or SmartNumber named once per request, the
# green band inside the yellow one, from/to spans, the prior year's average only where
# that year is not stored, a key name's bytes) are kept by hooks that adjust only the
# *positive* cases (what the schema says is valid); negative cases are left alone. Two
# operations skip `positive_data_acceptance`: see the settings below.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

SCHEMATHESIS_VERSION=4.32.5
SEED=${FUZZ_SEED:-20261201}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-60}
PHASES=${FUZZ_PHASES:-examples,coverage,fuzzing,stateful}
work="$PWD/target/fuzz"
venv="$PWD/target/fuzz-venv"

# --- schemathesis, pinned, in a venv of its own -------------------------------------
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "==> Installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- the server ----------------------------------------------------------------------
# A debug build: it shares target/debug with `cargo build`/`cargo test`, so after the
# tests it is seconds away, where a release build starts from scratch (many minutes on
# two cores); the fuzz judges answers, not speed.
echo "==> cargo build -p backend --bin qbr"
cargo build --quiet -p backend --bin qbr
rm -rf "$work"
mkdir -p "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# Microsoft sign-in is configured against an address nothing answers: its login builds
# the redirect, and a callback never gets as far as calling it (no state it could know).
# Rate limits are lifted: a fuzzer at full speed would otherwise mostly read 429s (the
# limits are the conformance test's business).
QBR_DATA_DIR="$work/data" QBR_LISTEN="127.0.0.1:$port" QBR_DIST_DIR=/nonexistent \
  QBR_AUTHORIZED_USERS=demo@example.com RUST_LOG=warn \
  AZURE_TENANT_ID=fuzz AZURE_CLIENT_ID=fuzz AZURE_CLIENT_SECRET=fuzz \
  AZURE_AUTHORITY_URL=http://127.0.0.1:9 GRAPH_URL=http://127.0.0.1:9 \
  QBR_API_KEY_READS_PER_MINUTE=1000000 QBR_API_KEY_WRITES_PER_MINUTE=1000000 \
  QBR_SIGN_IN_PER_MINUTE=1000000 \
  target/debug/qbr serve --demo >"$work/server.log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop EXIT
echo "==> Waiting for $base/api/health"
curl --silent --fail --retry 180 --retry-delay 1 --retry-all-errors --max-time 5 \
  "$base/api/health" >/dev/null

# --- credentials ---------------------------------------------------------------------
session=$(curl --silent --output /dev/null --dump-header - \
  "$base/api/auth/dev/login?email=demo@example.com" |
  sed -n 's/^[Ss]et-[Cc]ookie: qbr_session=\([^;]*\).*/\1/p')
[ -n "$session" ] || { echo "development sign-in gave no session cookie" >&2; exit 1; }
# The key run's key is made after the session run: that run revokes keys by guessed ids.
new_key() {
  curl --silent --fail -X POST "$base/api/admin/api-keys" \
    -H "Cookie: qbr_session=$session" -H "Origin: $base" -H 'Content-Type: application/json' \
    -d "{\"name\": \"fuzz $1\", \"scope\": \"write\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["key"])'
}

# --- hooks and settings --------------------------------------------------------------
cat >"$work/qbr_fuzz_hooks.py" <<'PY'
"""Schemathesis hooks of scripts/fuzz.sh: log every call, and keep positive cases within
the rules the OpenAPI document can't state (so "valid by the schema" means "valid")."""
import json
import os

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

CALLS = os.environ["QBR_FUZZ_CALLS"]
PRIOR_YEAR_AVERAGE = "avg_monthly_expenses_prior_year"


def positive(case, location):
    """Whether the case is meant valid, and so is its component at `location`."""
    meta = case.meta
    return (
        meta is not None
        and meta.generation.mode == GenerationMode.POSITIVE
        and not meta.is_negative_at(location)
    )


def month_index(text):
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


def period_months(text, last):
    """The first (or last) month index of a period YYYY, YYYY-MM or YYYY-Qn."""
    if len(text) == 4:
        return int(text) * 12 + (11 if last else 0)
    if text[5] == "Q":
        quarter = int(text[6]) - 1
        return int(text[:4]) * 12 + quarter * 3 + (2 if last else 0)
    return month_index(text)


def keep_span(query, first, last, most):
    """`to` = `from` when the span is backwards or longer than `most` months."""
    if not query.get("from") or not query.get("to"):
        return query
    span = last(query["to"]) - first(query["from"]) + 1
    return {**query, "to": query["from"]} if span < 1 or span > most else query


def once_each(items, key):
    seen, kept = set(), []
    for item in items:
        if isinstance(item, dict) and item.get(key) not in seen:
            seen.add(item.get(key))
            kept.append(item)
    return kept


def bands_valid(t):
    gmin, gmax, ymin, ymax = (t.get(k) for k in ("green_min", "green_max", "yellow_min", "yellow_max"))
    if gmin is not None and gmax is not None and gmin > gmax:
        return False
    if ymin is not None and ymax is not None and ymin > ymax:
        return False
    if ymin is not None and (gmin is None or gmin < ymin):
        return False
    if ymax is not None and (gmax is None or gmax > ymax):
        return False
    return True


def valid_bands(t):
    if not isinstance(t, dict) or bands_valid(t):
        return t
    return {**t, "green_min": None, "green_max": None, "yellow_min": None, "yellow_max": None}


def whole_numbers(value):
    """5.0 → 5: JSON Schema counts 5.0 as an integer, serde's i32 does not."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    return value


# The hooks build new containers: schemathesis reuses generated values between cases,
# and a change made in place would leak into cases meant to be invalid.
@schemathesis.hook
def map_case(context, case):
    if positive(case, ParameterLocation.QUERY) and isinstance(case.query, dict):
        case.query = mapped_query(case.operation.path, case.query)
    if positive(case, ParameterLocation.BODY):
        case.body = mapped_body(case.operation.path, case.method, whole_numbers(case.body))
    return case


def mapped_query(path, query):
    if path == "/api/qbr/metrics/range":
        return keep_span(query, month_index, month_index, 60)
    if path == "/api/qbr/smartnumbers/trend":
        return keep_span(query, lambda t: period_months(t, False), lambda t: period_months(t, True), 120)
    if path == "/api/qbr/export":
        return keep_span(query, month_index, month_index, 240)
    return query


def mapped_body(path, method, body):
    if not isinstance(body, dict):
        return body
    if path == "/api/qbr/metrics/manual" and isinstance(body.get("metrics"), list):
        items = once_each(body["metrics"], "metric_name")
        items = [{**i, "metric_value": None} if i.get("metric_name") == PRIOR_YEAR_AVERAGE else i for i in items]
        return {**body, "metrics": items}
    if path == "/api/qbr/thresholds":
        if isinstance(body.get("thresholds"), list):
            items = once_each(body["thresholds"], "metric_name")
            return {**body, "thresholds": [valid_bands(t) for t in items]}
        return valid_bands(body)
    if path == "/api/admin/api-keys" and method == "POST":
        name = body.get("name")
        if isinstance(name, str) and len(name.strip().encode()) > 100:
            return {**body, "name": name.strip()[:25]}
    return body


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    entry = {
        "method": case.method,
        "path": case.operation.path,
        "status": response.status_code,
        "mode": meta.generation.mode.value if meta else None,
        "phase": meta.phase.name.value if meta else None,
    }
    with open(CALLS, "a") as f:
        f.write(json.dumps(entry) + "\n")
PY

summarize() { # $1: run name, $2: calls log
  "$venv/bin/python" - "$1" "$2" <<'PY'
import collections, json, sys
name, path = sys.argv[1], sys.argv[2]
calls = [json.loads(line) for line in open(path)]
data = [c for c in calls if c["path"].startswith("/api/qbr/")]
past = [c for c in data if c["status"] not in (400, 422)]
statuses = collections.Counter(c["status"] for c in calls)
print(f"--- {name}: {len(calls)} requests; statuses {dict(sorted(statuses.items()))}")
for mode in ("positive", "negative"):
    sub = [c for c in data if c["mode"] == mode]
    ok = [c for c in sub if c["status"] not in (400, 422)]
    if sub:
        print(f"    {mode} requests to /api/qbr/*: {len(ok)}/{len(sub)} past validation ({100 * len(ok) / len(sub):.0f} %)")
if data:
    print(f"    all requests to /api/qbr/*: {len(past)}/{len(data)} past validation ({100 * len(past) / len(data):.0f} %)")
fivexx = [c for c in calls if c["status"] >= 500]
print(f"    5xx answers: {len(fivexx)}")
PY
}

# run NAME SCHEME CREDENTIAL [extra schemathesis args...]
run() {
  local name=$1 scheme=$2 credential=$3
  shift 3
  local calls="$work/calls-$name.ndjson"
  : >"$calls"
  cat >"$work/schemathesis-$name.toml" <<TOML
[auth.openapi.$scheme]
api_key = "\${QBR_FUZZ_CREDENTIAL}"

# The credential comes from [auth]: no made-up X-API-Key, Authorization or cookie values
# beside it (with a session, a made-up key header is ignored, not a malformed request).
[generation]
with-security-parameters = false

# Statuses the server may answer to a valid request that depends on stored state: an
# unknown organization or key id (404), a name already taken (409).
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "429"]

# Microsoft's redirect carries a state only a sign-in started here knows: any request a
# fuzzer makes of the callback is refused (400), however well formed.
[[operations]]
include-path = "/api/auth/microsoft/callback"
checks.positive_data_acceptance.enabled = false

# An import file is a CSV or a workbook: bytes no schema describes, so a generated file
# is refused (400) however well formed the request. (schemathesis 4.32 can't validate
# bytes and so counts import cases as invalid anyway; this keeps a case it might count
# valid from failing on a random file, and a hook can't swap in a real file: a body a
# hook changed is revalidated, and bytes make it invalid.)
[[operations]]
include-path = "/api/qbr/import"
checks.positive_data_acceptance.enabled = false
TOML
  echo "==> schemathesis ($name)"
  local status=0
  # From $work: schemathesis keeps its cache in ./.schemathesis, which goes with the run.
  (cd "$work" && QBR_FUZZ_CREDENTIAL="$credential" QBR_FUZZ_CALLS="$calls" \
    SCHEMATHESIS_HOOKS=qbr_fuzz_hooks PYTHONPATH="$work" \
    "$venv/bin/schemathesis" --config-file "$work/schemathesis-$name.toml" run \
    "$base/api/openapi.json" \
    --seed "$SEED" --max-examples "$MAX_EXAMPLES" --phases "$PHASES" \
    --header "Origin: $base" \
    --report junit --report-dir "$work/report-$name" \
    --request-timeout 60 "$@") || status=$?
  summarize "$name" "$calls" | tee -a "$work/summary.txt"
  return $status
}

failed=0
# The session run leaves logout out: it would end the session the run signs in with.
run session session "$session" --exclude-path /api/auth/logout || failed=1
run key api_key "$(new_key key)" || failed=1
echo "==> scripts/fuzz.sh took $(( (SECONDS - started) / 60 )) min $(( (SECONDS - started) % 60 )) s"
if [ "$failed" -ne 0 ]; then
  echo "schemathesis found failures (reports: $work/report-*)" >&2
  exit 1
fi
