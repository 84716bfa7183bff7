# t_53_upgrade.sh: upgrades under load. wrk runs across three upgrades,
# each to a binary built from a changed policy: one started with
# --upgrade-from CONTROL, two by SIGUSR2 to the running proxy after the new
# build was moved into its path. No request fails and no connection is
# reset; the cache (a hit at once) and the servers' health (an ejected
# server stays ejected: no retry after the upgrade) come along; each old
# process exits after its drain; systemd hears READY=1 with each new pid. A
# successor that fails to start leaves the old one serving, and a second
# proxy on a live control socket refuses to start.

start_origin a >/dev/null
upgrade_policy()
{
    printf '%s\n' "listen :8080
backend app { server a 127.0.0.1:@a@; server dead 127.0.0.1:1; eject after 1 for 120s }
route path \"/version\" { respond 200 \"v$1\" }
route path \"/metrics\" { metrics }
route path \"/cache/\" { cache { status_header X-Cache }; proxy app }
route default { proxy app }"
}
for v in 1 2 3 4; do
    check "upgrade policy v$v compiles" build_proxy "up$v" "$(upgrade_policy $v)"
done

ctl=$AREA_DIR/ctl
bin=$AREA_DIR/current
notify=$AREA_DIR/notify.sock
# systemd's side of sd_notify: every datagram, one per line
timeout $((60 * SCALE)) python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        out.flush()
' "$notify" "$AREA_DIR/notify.log" &
echo $! >>"$SCRATCH/pids"
wait_file "$notify" "$T_SHORT" || true

# deploy N: puts build N in the running binary's path, as a deploy would
# (a rename: the running file stays whole)
deploy() { cp "$AREA_DIR/up$1" "$bin.new" && mv "$bin.new" "$bin"; }
# new_pid ERRFILE: the pid the last handover in ERRFILE went to
new_pid() { sed -n 's/.*upgrade: handed .* to process \([0-9]*\) in .*/\1/p' "$1" | tail -n 1; }
version() { hcurl "http://127.0.0.1:$p/version"; }
xcache() { hcurl -o /dev/null -D - "http://127.0.0.1:$p/cache/obj?h=Cache-Control:max-age%3D600" |
    tr -d '\r' | sed -n 's/^X-Cache: //p'; }
metric() { hcurl "http://127.0.0.1:$p/metrics" | grep -v '^#' | grep -F -- "$1" | awk '{ print $NF }'; }

deploy 1
NOTIFY_SOCKET=$notify spawn "$AREA_DIR/p1" "$bin" -w 2 --listen 127.0.0.1:0 \
    --port-file "$AREA_DIR/p1.port" --control "$ctl"
wait_file "$AREA_DIR/p1.port" "$T_SHORT"
p=$(cat "$AREA_DIR/p1.port")
pid1=$(cat "$AREA_DIR/p1.pid")
check_eq "v1 serves" "$(version)" v1
check_eq "v1: the first cache request is a miss" "$(xcache)" MISS
check_eq "v1: the second a hit" "$(xcache)" HIT
for i in 1 2 3 4; do hcurl -o /dev/null "http://127.0.0.1:$p/warm/$i"; done
check_eq "v1: the dead server is ejected after one failure" \
    "$(metric 'rpx_server_up{backend="app",server="dead"}')" 0
check "v1: its control socket is there, for the owner only" \
    bash -c "[ -S '$ctl' ] && [ \"\$(stat -c %a '$ctl')\" = 600 ]"

wrk -t2 -c16 -d$((9 * SCALE))s "http://127.0.0.1:$p/load" >"$SCRATCH/upgrade.wrk" 2>&1 &
wrk_pid=$!
sleep 1

# 1: a new process asks the old one's control socket
deploy 2
NOTIFY_SOCKET=$notify spawn "$AREA_DIR/p2" "$bin" -w 2 --listen "127.0.0.1:$p" --port-file "$AREA_DIR/p2.port" \
    --upgrade-from "$ctl"
wait_file "$AREA_DIR/p2.port" "$T_SHORT"
pid2=$(cat "$AREA_DIR/p2.pid")
check "upgrade 1: the old process exits after its drain" wait_gone "$pid1"
check_eq "upgrade 1: ... with status 0" "$(cat "$AREA_DIR/p1.rc" 2>/dev/null)" 0
check_eq "upgrade 1: the new policy answers" "$(version)" v2
check_eq "upgrade 1: the cached object is a hit at once" "$(xcache)" HIT
check_eq "upgrade 1: the dead server is still ejected" \
    "$(metric 'rpx_server_up{backend="app",server="dead"}')" 0
check_eq "upgrade 1: ... so no request went to it and needed a retry" \
    "$(metric 'rpx_retries_total ')" 0
check_match "upgrade 1: the old process says what it handed over" "$(cat "$AREA_DIR/p1.err")" \
    "handed 2 listening sockets, 2 servers' health and 1 cached objects"

# 2 and 3: SIGUSR2 makes the running proxy start what its path now holds
deploy 3
kill -USR2 "$pid2"
for ((i = 0; i < 100 * SCALE; i++)); do [ -n "$(new_pid "$AREA_DIR/p2.err")" ] && break; sleep 0.05; done
pid3=$(new_pid "$AREA_DIR/p2.err")
check "upgrade 2 (SIGUSR2): the old process exits after its drain" wait_gone "$pid2"
check_eq "upgrade 2: the new policy answers" "$(version)" v3
check_eq "upgrade 2: the cached object is a hit at once" "$(xcache)" HIT
deploy 4
kill -USR2 "$pid3"
for ((i = 0; i < 100 * SCALE; i++)); do
    [ "$(new_pid "$AREA_DIR/p2.err")" != "$pid3" ] && break
    sleep 0.05
done
pid4=$(new_pid "$AREA_DIR/p2.err")
check "upgrade 3 (SIGUSR2): a new process took over ($pid3 -> $pid4)" test "$pid4" != "$pid3"
check "upgrade 3: the old process exits after its drain" wait_gone "$pid3"
check_eq "upgrade 3: the new policy answers" "$(version)" v4
check_eq "upgrade 3: the cached object is a hit at once" "$(xcache)" HIT
check_eq "upgrade 3: the dead server is still ejected" \
    "$(metric 'rpx_server_up{backend="app",server="dead"}')" 0

wait "$wrk_pid"
n=$(awk '/requests in/ { print $1 }' "$SCRATCH/upgrade.wrk")
check "under load across three upgrades: $n requests, none failed, no connection reset" \
    bash -c "[ '${n:-0}' -gt 1000 ] && ! grep -qE 'Non-2xx|Socket errors' '$SCRATCH/upgrade.wrk'"
grep -E 'Non-2xx|Socket errors' "$SCRATCH/upgrade.wrk" | sed 's/^/# /'
check_match "systemd heard each process say READY=1 with its pid" \
    "$(tr '\n' ' ' <"$AREA_DIR/notify.log")" \
    "READY=1 MAINPID=$pid1 .*MAINPID=$pid2 .*MAINPID=$pid3 .*MAINPID=$pid4 "

# a successor that fails to start (it cannot bind a second address)
spawn "$AREA_DIR/bad" "$bin" --listen "127.0.0.1:$p" --listen 192.0.2.1:9 --upgrade-from "$ctl"
wait_file "$AREA_DIR/bad.rc" "$T_SHORT"
check "failed upgrade: the new process exits with an error" \
    test "$(cat "$AREA_DIR/bad.rc" 2>/dev/null)" -ne 0
check_eq "failed upgrade: the old one goes on serving" "$(version)" v4
check "failed upgrade: ... as the same process" kill -0 "$pid4"
check_match "failed upgrade: and says so" "$(cat "$AREA_DIR/p2.err")" \
    "the new process went away before it was ready"
check "failed upgrade: the control socket stays" test -S "$ctl"

out=$(timeout $((5 * SCALE)) "$bin" --listen 127.0.0.1:0 --control "$ctl" 2>&1)
check_match "a second proxy on a live control socket refuses to start" "$out" \
    "another proxy answers there; to replace it, start this one with --upgrade-from"

kill -TERM "$pid4"
check "the last process stops on SIGTERM" wait_gone "$pid4"
check "... and removes its control socket" test ! -e "$ctl"
check "no process of the chain logged a sanitizer report" \
    bash -c "! grep -qE 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' '$AREA_DIR'/*.err"

# TLS: the session ticket keys come along, so a ticket issued before an
# upgrade resumes after it (without them every client would do a full
# handshake again, all at once)
TLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tls" && pwd)
check "upgrade tls policy compiles" build_proxy uptls "
listen :8443 tls { cert \"$TLS/a.pem\" key \"$TLS/a.key\" }
log access \"$AREA_DIR/tls.log\" format json
route path \"/metrics\" { metrics }
route default { respond 200 \"tls\" }"
spawn "$AREA_DIR/t1" "$AREA_DIR/uptls" -w 2 --listen 127.0.0.1:0 --port-file "$AREA_DIR/t1.port" \
    --control "$AREA_DIR/tctl"
wait_file "$AREA_DIR/t1.port" "$T_SHORT"
tp=$(cat "$AREA_DIR/t1.port")
sess=$AREA_DIR/tls.sess
# (TLS 1.3's tickets come after the handshake: s_client stays to read them)
sleep 0.5 | timeout "$T_SHORT" openssl s_client -connect "127.0.0.1:$tp" -servername a.test \
    -sess_out "$sess" >/dev/null 2>&1
spawn "$AREA_DIR/t2" "$AREA_DIR/uptls" -w 2 --listen "127.0.0.1:$tp" \
    --port-file "$AREA_DIR/t2.port" --upgrade-from "$AREA_DIR/tctl"
wait_file "$AREA_DIR/t2.port" "$T_SHORT"
check "tls upgrade: the old process exits" wait_gone "$(cat "$AREA_DIR/t1.pid")"
got=$(timeout "$T_SHORT" openssl s_client -connect "127.0.0.1:$tp" -servername a.test \
    -sess_in "$sess" </dev/null 2>&1 | grep -o '^\(New\|Reused\)')
check_eq "tls upgrade: a ticket from before resumes with the new process" "$got" Reused
# rpx_tls_handshakes_total: this one, the resumption, and one that fails
printf 'not a TLS hello\r\n\r\n' | timeout "$T_SHORT" bash -c "cat >/dev/tcp/127.0.0.1/$tp" 2>/dev/null
sleep 0.2
got=$(curl -sS --max-time "$T_SHORT" -k --resolve "a.test:$tp:127.0.0.1" "https://a.test:$tp/metrics" |
    sed -n 's/^rpx_tls_handshakes_total{result="\(ok\|failed\)"} \([0-9]*\)$/\1=\2/p' | tr '\n' ' ')
check_eq "tls: handshakes by result in the metrics (a resumed one, this one; a failed one)" \
    "$got" "ok=2 failed=1 "
kill -TERM "$(cat "$AREA_DIR/t2.pid")"
check "tls upgrade: the new process stops on SIGTERM" wait_gone "$(cat "$AREA_DIR/t2.pid")"
check_match "tls: the access log says the TLS version, cipher and SNI" \
    "$(grep -F '"uri":"/metrics"' "$AREA_DIR/tls.log" | tail -n 1)" \
    '"tls":true,"tls_version":"TLSv1\.3","tls_cipher":"TLS_[A-Z0-9_]+","sni":"a\.test"'
