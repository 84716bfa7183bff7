#!/usr/bin/env bash
# quickstart.sh: the README's first command. Installs what is missing, builds
# rpx, compiles examples/quickstart.rp into a proxy and runs it in the
# foreground with its two demo backends until Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
O=${1:-build}

sh tools/deps.sh
make -j2 O="$O"

proxy=$O/quickstart-proxy
"$O/bin/rpx" build examples/quickstart.rp -o "$proxy"

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The demo backends: the same small origin server the tests use, one per
# server line of examples/quickstart.rp.
for spec in a:9001 b:9002; do
    "$O/tests/origin" serve --name "${spec%%:*}" --port "${spec##*:}" 2>/dev/null &
    pids+=($!)
done
sleep 0.2
for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || { echo "quickstart: a demo backend could not start (is port 9001 or 9002 taken?)" >&2; exit 1; }
done

cat <<'MSG'

rpx is running examples/quickstart.rp on :8080. Try, from another terminal:

    curl -i http://127.0.0.1:8080/api/hello     # proxied: servers a and b take turns, b twice as often
    curl -i http://127.0.0.1:8080/health        # answered by the proxy itself
    curl -i http://127.0.0.1:8080/nope          # route default: 404

Edit examples/quickstart.rp and run this again to rebuild. Ctrl-C stops everything.

MSG
# Not exec: the trap must stop the backends when the proxy ends.
"$proxy" &
pids+=($!)
wait "${pids[-1]}"
