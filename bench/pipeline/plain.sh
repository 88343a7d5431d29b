#!/bin/sh
# The peer of bench/pipeline: the steps of one pipeline run as a plain shell
# script (export the commit, build, test, start the app for staging and wait
# for /healthz, the same open-loop load, start it for production and wait),
# each step timed. Prints one JSON line of milliseconds per step.
# Usage: plain.sh <repo> <sha> <workdir> <staging port> <production port> <load main.js> <load json>
# Env: BUILD and TEST (the stack file's build: and test stage's run:).
set -eu
REPO=$1 SHA=$2 WORK=$3 STAGE_PORT=$4 PROD_PORT=$5 LOAD_MAIN=$6 LOAD_JSON=$7
ms() { date +%s%3N; }
healthy() { until curl -sf -o /dev/null "http://127.0.0.1:$1/healthz"; do sleep 0.1; done; }
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done' EXIT

t0=$(ms)
rm -rf "$WORK" && mkdir -p "$WORK"
git -C "$REPO" archive "$SHA" | tar -x -C "$WORK"
t1=$(ms)
(cd "$WORK/app" && sh -c "$BUILD")
t2=$(ms)
(cd "$WORK" && sh -c "$TEST") >/dev/null
t3=$(ms)
(cd "$WORK/app" && PORT=$STAGE_PORT exec node server.mjs) & pids="$pids $!"
healthy "$STAGE_PORT"
t4=$(ms)
LOAD_JSON=$(printf '%s' "$LOAD_JSON" | sed "s/@PORT@/$STAGE_PORT/")
node "$LOAD_MAIN" "$LOAD_JSON" >"$WORK/load.json"
t5=$(ms)
(cd "$WORK/app" && PORT=$PROD_PORT exec node server.mjs) & pids="$pids $!"
healthy "$PROD_PORT"
t6=$(ms)
printf '{"export":%d,"build":%d,"test":%d,"stagingStart":%d,"load":%d,"productionStart":%d,"total":%d}\n' \
  $((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t4 - t3)) $((t5 - t4)) $((t6 - t5)) $((t6 - t0))
