#!/usr/bin/env bash
# bench/tls.sh: what TLS termination costs in rpx (BoringSSL) beside nginx
# and HAProxy (OpenSSL), in one run. Each target runs twice (nginx-buf once),
# one worker and one process each (rpx -w 1, nginx worker_processes 1 without master,
# HAProxy nbthread 1), in front of the same origin, keep-alive to it, no
# access log, TLSv1.2 and TLSv1.3 allowed (nginx as lib.sh configures it:
# proxy_buffering off, so it streams as rpx does):
#
#   NAME-full     no session resumption: rpx `tickets off; session_cache off`,
#                 nginx `ssl_session_tickets off; ssl_session_cache off;
#                 ssl_conf_command NumTickets 0`, HAProxy `no-tls-tickets`,
#                 `tune.ssl.cachesize 0` and NumTickets = 0 in an OPENSSL_CONF
#                 file of its own (2.6 has no directive for it): without
#                 NumTickets 0, OpenSSL still sends TLSv1.3 clients two
#                 stateful tickets that cannot be redeemed
#   NAME-resume   tickets and a session cache: rpx's defaults, nginx
#                 `ssl_session_tickets on; ssl_session_cache shared:SSL:10m`,
#                 HAProxy's defaults
#   nginx-buf-full  (1m only) nginx-full with proxy_buffering on (nginx's
#                 default; proxy_max_temp_file_size 0): unbuffered, nginx
#                 sends each read from the server (8 KB) as its own records
#                 and write, which triples its CPU per 1 MB response
#
# and each listens twice, with a self-signed certificate for bench.test made
# in the run's scratch folder: ECDSA P-256 and RSA 2048 (HAProxy: one file,
# certificate then key). Before any load each listener is checked: curl
# gets the origin's bytes (200, the CRC of `origin gen N`), and openssl
# s_client records the protocol, suite, key exchange, certificate and
# signature, the session tickets the server sends, whether a second
# connection with the first one's session resumes, and whether the server
# ends with a close_notify alert. A -full listener that sends tickets or
# resumes, or a -resume one that does not resume, stops the run. Then, in
# interleaved rounds (round 1: each test, each key, each target; round 2 ...):
#
#   full     h2load --h1 -n N -c A -H 'Connection: close' GET /bytes/100 on
#            NAME-full: a new connection and a full handshake per request
#            (h2load connects again after each close), for each key; with
#            -F ab: ab -n N -c A -f TLS1.3 (HTTP/1.0, a connection each). Not
#            the default: on this machine every ab connection stalls ~40 ms
#            between its handshake and the response, whichever the server
#            ("Waiting" 41-45 ms at -c 1; ab sets no TCP_NODELAY, h2load does:
#            Nagle against delayed ACKs, likely), so at -c 10 it makes ~200
#            handshakes/s and the proxy stays mostly idle
#   new      A parallel `openssl s_time -new` for S seconds on NAME-resume:
#            a full handshake per request, tickets issued (the baseline of
#            the next line, same client)
#   resume   A parallel `openssl s_time -reuse` on NAME-resume: each client
#            makes one full handshake, then resumes its session on every
#            connection (s_time prints the share that did; column resumed)
#   small    wrk -t1 -cC -dS GET /bytes/100 on NAME-full (ECDSA): keep-alive,
#            what the records cost once the handshake is done
#   1m       wrk -t1 -cM -dS GET /bytes/1048576 on NAME-full (ECDSA)
#   h2       h2load -n H -c 10 -m 10 GET /bytes/100 on NAME-full (ECDSA):
#            HTTP/2 by ALPN (nginx `listen ... ssl http2`, HAProxy `alpn
#            h2,http/1.1`, rpx's default), 10 connections of 10 streams each
#
# and reports, medians over rounds:
#
#   cpu us/req  the proxy's own CPU time during the run (utime + stime of all
#               its threads, from /proc, in clock ticks of 10 ms) over the
#               requests: clients and origin share the machine's CPUs, so this
#               is the steadier figure
#   req/s       completed requests over the run's wall time (min-max)
#   busy %      the proxy's CPU time over the wall time (100: one core full);
#               client % the same for the load tool(s)
#   errors      h2load: failed, errored, timed out and non-2xx; ab: failed
#               requests and non-2xx; wrk: socket errors and non-2xx; s_time:
#               none counted (it does not look at statuses)
#   rpx/this    on the other targets' rows: medians of the per-round ratios
#               rpx / that row, for cpu us/req and req/s
#
# The table goes to stdout and, with the command, versions, the checks and
# the configurations, to bench/results/tls-DATE.txt.
#
# usage: bench/tls.sh [-O BUILD] [-S TESTS] [-K KEYS] [-t TARGETS] [-r ROUNDS] [-d SECONDS]
#                     [-n REQUESTS] [-a CLIENTS] [-F CLIENT] [-c CONNS] [-m CONNS] [-p VERSION]
#                     [-I] [-E VAR=VALUE] [-o FILE] [-N NOTE]
#   -O BUILD   build folder with bin/rpx and tests/origin  (default build-bench)
#   -S LIST    tests, comma-separated, among full, new, resume, small, 1m, h2
#                                                          (default all six)
#   -K LIST    certificates for full, new and resume: ecdsa, rsa (default ecdsa,rsa)
#   -t LIST    targets among rpx, nginx, haproxy, nginx-buf (default all four)
#   -r N       rounds                                      (default 2)
#   -d S       seconds per wrk and s_time run              (default 5)
#   -n N       requests (handshakes) per full run          (default 3000)
#   -a N       connections at once for full, and s_time clients in parallel
#                                                          (default 10)
#   -F TOOL    the client for full: h2load or ab           (default h2load)
#   -c N       wrk connections for small                   (default 10)
#   -m N       wrk connections for 1m                      (default 4)
#   -H N       requests per h2 run                         (default 200000)
#   -p V       TLS version ab, s_time and s_client ask for: 1.2 or 1.3 (default
#              1.3; h2load and wrk get the highest, 1.3)
#   -I         s_time clients that take a close without close_notify as an end
#              (SSL_OP_IGNORE_UNEXPECTED_EOF, set by a preloaded shim built in
#              the scratch folder; needs gcc). Without it OpenSSL 3 answers such
#              a close with a fatal alert, which marks the session not resumable,
#              and s_time -reuse never resumes against a server that closes so
#              (the checks say which do: "close_notify from server: no")
#   -E VAR=VAL an environment variable for the rpx processes (repeatable)
#   -o FILE    results file  (default bench/results/tls-YYYYMMDD-HHMMSS.txt)
#   -N NOTE    a line of note for the results file (e.g. how BUILD was built)
# Defaults: about 5 minutes in all (full: 12 runs of a few seconds; new,
# resume, small, 1m: 38 runs of 5 s). Everything runs on 127.0.0.1 on free
# ports below the ephemeral range, and every process started is stopped by
# its PID at exit, also on Ctrl-C or failure.
set -u
cd "$(dirname "$0")/.." || exit 2
O=build-bench TESTS=full,new,resume,small,1m,h2 NH2=200000 KEYS=ecdsa,rsa TARGETS=rpx,nginx,haproxy,nginx-buf
ROUNDS=2 DUR=5 NREQ=3000 ACONC=10 FULL=h2load CONNS=10 MCONNS=4 TLSV=1.3 OUT="" NOTE="" RPXENV=() TOLERANT=""
ARGS=""
[ $# = 0 ] || ARGS=$(printf ' %q' "$@")
while getopts "O:S:K:t:r:d:n:a:F:c:m:H:p:IE:o:N:h" o; do
    case $o in
    O) O=$OPTARG ;; S) TESTS=$OPTARG ;; K) KEYS=$OPTARG ;; t) TARGETS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;; n) NREQ=$OPTARG ;; a) ACONC=$OPTARG ;; F) FULL=$OPTARG ;;
    c) CONNS=$OPTARG ;; m) MCONNS=$OPTARG ;; H) NH2=$OPTARG ;; p) TLSV=$OPTARG ;; I) TOLERANT=1 ;;
    E) [[ $OPTARG == [A-Za-z_]*=* ]] || { echo "-E takes VAR=VALUE" >&2; exit 2; }; RPXENV+=("$OPTARG") ;;
    o) OUT=$OPTARG ;; N) NOTE=$OPTARG ;;
    *) sed -n '2,106p' "$0"; exit 2 ;;
    esac
done
. bench/lib.sh
case $FULL in h2load | ab) ;; *) die "-F takes h2load or ab" ;; esac
for t in wrk curl openssl $FULL; do
    command -v $t >/dev/null || die "$t is missing (tools/deps.sh --bench; ab: apt-get install apache2-utils)"
done
[ -x "$O/bin/rpx" ] && [ -x "$O/tests/origin" ] || die "$O/bin/rpx or $O/tests/origin is missing (make O=$O)"
for n in ROUNDS DUR NREQ ACONC CONNS MCONNS NH2; do [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number"; done
case $TLSV in 1.2 | 1.3) ;; *) die "-p takes 1.2 or 1.3" ;; esac
for x in ${TESTS//,/ }; do case $x in full | new | resume | small | 1m | h2) ;; *) die "unknown test $x (full, new, resume, small, 1m, h2)" ;; esac; done
for x in ${KEYS//,/ }; do case $x in ecdsa | rsa) ;; *) die "unknown key $x (ecdsa, rsa)" ;; esac; done
for t in ${TARGETS//,/ }; do
    case $t in
    rpx) ;;
    nginx | nginx-buf | haproxy) command -v "${t%-buf}" >/dev/null || die "${t%-buf} is missing (tools/deps.sh --bench)" ;;
    *) die "unknown target $t (rpx, nginx, haproxy, nginx-buf)" ;;
    esac
done
RUN=$(mktemp -d /tmp/rpx-tls.XXXXXX)
trap 'bench_cleanup; rm -rf "$RUN"' EXIT
trap 'exit 130' INT TERM
ORIGIN=$O/tests/origin
HZ=$(getconf CLK_TCK)
SMALL=100 BIG=1048576
AB_TLS=TLS$TLSV OSSL_TLS=-tls1_${TLSV#1.}

# Certificates for bench.test, a year long; HAProxy's files: certificate, then key.
for k in ecdsa rsa; do
    case $k in
    ecdsa) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    rsa) newkey=(-newkey rsa:2048) ;;
    esac
    openssl req -x509 "${newkey[@]}" -nodes -keyout "$RUN/$k.key" -out "$RUN/$k.pem" -days 365 \
        -subj /CN=bench.test -addext subjectAltName=DNS:bench.test >"$RUN/openssl-$k.log" 2>&1 ||
        die "openssl req ($k) failed: $(tail -n 2 "$RUN/openssl-$k.log")"
    cat "$RUN/$k.pem" "$RUN/$k.key" >"$RUN/$k.combined.pem"
done

cat >"$RUN/openssl-no-tickets.cnf" <<'EOF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
NumTickets = 0
EOF

STIME_ENV=()
if [ -n "$TOLERANT" ]; then
    command -v gcc >/dev/null || die "-I needs gcc"
    cat >"$RUN/ignoreeof.c" <<'EOF'
/* Preloaded into openssl s_time: every SSL_CTX takes a close without
 * close_notify as an end (SSL_OP_IGNORE_UNEXPECTED_EOF, OpenSSL 3). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_method_st SSL_METHOD;
SSL_CTX *SSL_CTX_new(const SSL_METHOD *m)
{
    SSL_CTX *(*real)(const SSL_METHOD *) = (SSL_CTX *(*)(const SSL_METHOD *))dlsym(RTLD_NEXT, "SSL_CTX_new");
    uint64_t (*set)(SSL_CTX *, uint64_t) = (uint64_t (*)(SSL_CTX *, uint64_t))dlsym(RTLD_NEXT, "SSL_CTX_set_options");
    SSL_CTX *c = real(m);
    if (c && set)
        set(c, (uint64_t)1 << 7);
    return c;
}
EOF
    gcc -shared -fPIC -O2 -o "$RUN/ignoreeof.so" "$RUN/ignoreeof.c" -ldl >"$RUN/ignoreeof.log" 2>&1 ||
        die "building the -I shim failed: $(tail -n 3 "$RUN/ignoreeof.log")"
    STIME_ENV=(LD_PRELOAD="$RUN/ignoreeof.so")
fi

start_origin

# One process per target and mode (full, resume), one listener per key:
# PORT[NAME-MODE-KEY]. PID[NAME-MODE] is the process.
# modes NAME: the modes a target runs in (nginx-buf only serves 1m).
modes() { if [ "$1" = nginx-buf ]; then echo full; else echo full resume; fi; }
# free_port knows nothing of ports chosen but not yet listened on: no twice.
declare -A TAKEN=([${PORT[origin]}]=1)
for t in ${TARGETS//,/ }; do
    for m in $(modes "$t"); do
        for k in ecdsa rsa; do
            p=$(free_port)
            while [ -n "${TAKEN[$p]:-}" ]; do p=$(free_port); done
            TAKEN[$p]=1 PORT[$t-$m-$k]=$p
        done
    done
done

conf_rpx() # MODE FILE
{
    local k
    {
        for k in ecdsa rsa; do
            echo "listen 127.0.0.1:${PORT[rpx-$1-$k]} tls {"
            echo "    cert \"$RUN/$k.pem\" key \"$RUN/$k.key\""
            echo "    protocols tls1.2 tls1.3"
            [ "$1" = full ] && printf '    tickets off\n    session_cache off\n'
            echo "}"
        done
        echo "backend origin { server o 127.0.0.1:${PORT[origin]} }"
        echo "route default { proxy origin }"
    } >"$2"
}

conf_nginx_tls() # MODE FILE on|off (proxy_buffering)
{
    local k n=nginx-$1
    [ "$3" = on ] && n=nginx-buf-$1
    {
        # Several of these run at once: a pid file each.
        nginx_preamble 1 off 4096 | sed "s|^pid .*|pid ${2%.conf}.pid;|"
        echo "    upstream origin { server 127.0.0.1:${PORT[origin]}; keepalive 64; }"
        for k in ecdsa rsa; do
            cat <<EOF
    server {
        listen 127.0.0.1:${PORT[$n-$k]} ssl http2;
        ssl_certificate $RUN/$k.pem;
        ssl_certificate_key $RUN/$k.key;
        ssl_protocols TLSv1.2 TLSv1.3;
EOF
            if [ "$1" = full ]; then
                printf '        ssl_session_cache off;\n        ssl_session_tickets off;\n'
                # Else OpenSSL still sends TLSv1.3 clients two (stateful) tickets, useless here.
                printf '        ssl_conf_command NumTickets 0;\n'
            else
                printf '        ssl_session_cache shared:SSL:10m;\n        ssl_session_tickets on;\n'
            fi
            cat <<EOF
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering $3;
            proxy_max_temp_file_size 0;
            proxy_request_buffering off;
            client_max_body_size 0;
        }
    }
EOF
        done
        echo "}"
    } >"$2"
}

conf_haproxy_tls() # MODE FILE
{
    local k opts=""
    [ "$1" = full ] && opts=" no-tls-tickets"
    {
        cat <<EOF
global
    nbthread 1
    maxconn 4096
EOF
        [ "$1" = full ] && echo "    tune.ssl.cachesize 0"
        cat <<EOF
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend fe
EOF
        for k in ecdsa rsa; do
            echo "    bind 127.0.0.1:${PORT[haproxy-$1-$k]} ssl crt $RUN/$k.combined.pem ssl-min-ver TLSv1.2 alpn h2,http/1.1$opts"
        done
        cat <<EOF
    default_backend be
backend be
    server origin 127.0.0.1:${PORT[origin]}
EOF
    } >"$2"
}

wait_tls() # PORT: until it answers 200 over TLS (10 s at most)
{
    for _ in $(seq 100); do
        [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "https://127.0.0.1:$1/bytes/6")" = 200 ] &&
            return 0
        sleep 0.1
    done
    return 1
}

start() # NAME MODE
{
    local t=$1 m=$2 n=$1-$2
    case $t in
    rpx)
        conf_rpx "$m" "$RUN/$n.rp"
        "$O/bin/rpx" build "$RUN/$n.rp" -o "$RUN/$n-proxy" >"$RUN/$n-build.log" 2>&1 ||
            die "rpx build failed: $(tail -n 3 "$RUN/$n-build.log")"
        env "${RPXENV[@]}" "$RUN/$n-proxy" -q -w 1 2>"$RUN/$n.log" &
        ;;
    nginx | nginx-buf)
        conf_nginx_tls "$m" "$RUN/$n.conf" "$([ "$t" = nginx ] && echo off || echo on)"
        nginx -p "$RUN/nginx" -e "$RUN/nginx.err" -c "$RUN/$n.conf" >"$RUN/$n.log" 2>&1 &
        ;;
    haproxy)
        conf_haproxy_tls "$m" "$RUN/$n.cfg"
        # No directive sets OpenSSL's TLSv1.3 ticket count in HAProxy 2.6: without
        # this it sends two (stateful, never resumed) with no-tls-tickets.
        local conf=()
        [ "$m" = full ] && conf=(OPENSSL_CONF="$RUN/openssl-no-tickets.cnf")
        env "${conf[@]}" haproxy -db -f "$RUN/$n.cfg" >"$RUN/$n.log" 2>&1 &
        ;;
    esac
    PID[$n]=$!
    PIDS+=($!)
    for k in ecdsa rsa; do
        wait_tls "${PORT[$n-$k]}" || die "$n ($k) did not start: $(tail -n 3 "$RUN/$n.log" 2>/dev/null)"
    done
}

# cpu_ticks NAME: utime + stime of the target's processes, in clock ticks.
cpu_ticks()
{
    local p s=0 v
    for p in $(target_pids "$1"); do
        # Fields after the ")" that ends the command name: utime is the 12th, stime the 13th.
        v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# check NAME MODE KEY: the origin's bytes through the listener, then what
# its handshakes look like (one line to $RUN/checks.txt); stops the run when
# the listener does not resume as its mode says.
check()
{
    local n=$1-$2 p=${PORT[$1-$2-$3]} b=$RUN/check.body code want got s1 s2 tickets resumed cn size req
    for size in $SMALL $BIG; do
        code=$(curl -sk --max-time 10 --resolve "bench.test:$p:127.0.0.1" -o "$b" -w '%{http_code}' \
            "https://bench.test:$p/bytes/$size") || die "$n $3: curl /bytes/$size failed"
        [ "$code" = 200 ] || die "$n $3: /bytes/$size: status $code"
        want=$("$ORIGIN" gen "$size" | "$ORIGIN" crc32)
        got=$("$ORIGIN" crc32 <"$b")
        [ "$got" = "$want" ] || die "$n $3: /bytes/$size: body $got, origin's $want"
    done
    req="GET /bytes/$SMALL HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n"
    rm -f "$RUN/sess.pem"
    # shellcheck disable=SC2059
    s1=$(printf "$req" | timeout 10 openssl s_client -connect "127.0.0.1:$p" -servername bench.test \
        "$OSSL_TLS" -msg -ign_eof -sess_out "$RUN/sess.pem" 2>&1 | tr -d '\0')
    s2="(no session to offer)"
    # shellcheck disable=SC2059
    [ -s "$RUN/sess.pem" ] && s2=$(printf "$req" | timeout 10 openssl s_client -connect "127.0.0.1:$p" \
        -servername bench.test "$OSSL_TLS" -msg -ign_eof -sess_in "$RUN/sess.pem" 2>&1 | tr -d '\0')
    grep -aq '^HTTP/1.1 200' <<<"$s1" || die "$n $3: s_client got no 200: $(grep -a -m 3 -i 'error\|alert' <<<"$s1")"
    tickets=$(grep -ac '<<< .*NewSessionTicket' <<<"$s1")
    resumed=$(grep -aq '^Reused,' <<<"$s2" && echo yes || echo no)
    cn=$(grep -aq '<<< .*Alert.*close_notify' <<<"$s1" && echo yes || echo no)
    printf '%-16s %-5s %s; %s; %s; %s; tickets %s; 2nd connection resumed: %s (%s tickets); close_notify from server: %s\n' \
        "$n" "$3" "$(grep -a -m 1 -E '^(New|Reused),' <<<"$s1" | sed 's/^New, //')" \
        "$(grep -a -m 1 'Server Temp Key' <<<"$s1" | sed 's/^Server Temp Key: //')" \
        "cert $(grep -a -m 1 'Server public key is' <<<"$s1" | sed 's/Server public key is //')" \
        "sig $(grep -a -m 1 'Peer signature type' <<<"$s1" | sed 's/Peer signature type: //')" \
        "$tickets" "$resumed" "$(grep -ac '<<< .*NewSessionTicket' <<<"$s2")" "$cn" >>"$RUN/checks.txt"
    [ "$cn" = yes ] || NO_CLOSE_NOTIFY+=" $n/$3"
    case $2 in
    full) [ "$resumed" = no ] && [ "$tickets" = 0 ] ||
        die "$n $3: sends $tickets tickets, resumed: $resumed (must be 0 and no without resumption)" ;;
    resume) [ "$resumed" = yes ] || die "$n $3: a second connection with the first one's session did not resume" ;;
    esac
}

cat >"$RUN/sum.lua" <<'EOF'
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("SUM %d %d %d %d\n", summary.requests, summary.bytes,
        e.connect + e.read + e.write + e.timeout, e.status))
end
EOF

now() { date +%s.%N; }
# client_ticks: the CPU time of this shell's finished children, in clock ticks.
client_ticks() { sed 's/.*) //' /proc/$$/stat | awk '{ print $12 + $13 + $14 + $15 }'; }

# measure TEST KEY TARGET ROUND: one run; one line to results.tsv.
measure()
{
    local x=$1 k=$2 t=$3 r=$4 m=resume n p out reqs=0 errs=0 resumed="" c0 c1 w0 w1 k0 k1 i what
    case $x in full | small | 1m | h2) m=full ;; esac
    n=$t-$m p=${PORT[$t-$m-$k]}
    rm -f "$RUN"/stime.*
    c0=$(cpu_ticks "$n") k0=$(client_ticks) w0=$(now)
    case $x in
    full)
        if [ "$FULL" = ab ]; then
            out=$(ab -n "$NREQ" -c "$ACONC" -f "$AB_TLS" "https://127.0.0.1:$p/bytes/$SMALL" 2>"$RUN/ab.err")
        else
            out=$(h2load --h1 -n "$NREQ" -c "$ACONC" -H 'Connection: close' "https://127.0.0.1:$p/bytes/$SMALL" 2>&1)
        fi
        ;;
    new | resume)
        local cl=()
        for i in $(seq "$ACONC"); do
            env "${STIME_ENV[@]}" openssl s_time -connect "127.0.0.1:$p" -www "/bytes/$SMALL" -time "$DUR" \
                "-${x/resume/reuse}" "$OSSL_TLS" >"$RUN/stime.$i" 2>&1 &
            cl+=($!)
        done
        wait "${cl[@]}"
        ;;
    h2)
        out=$(h2load -n "$NH2" -c 10 -m 10 "https://127.0.0.1:$p/bytes/$SMALL" 2>&1)
        ;;
    small | 1m)
        local size=$SMALL c=$CONNS
        [ "$x" = 1m ] && size=$BIG c=$MCONNS
        out=$(wrk -t1 -c"$c" -d"${DUR}s" --timeout 10s -s "$RUN/sum.lua" "https://127.0.0.1:$p/bytes/$size" 2>&1)
        ;;
    esac
    w1=$(now) k1=$(client_ticks) c1=$(cpu_ticks "$n")
    case $x in
    full | h2)
        if [ "$FULL" = ab ] && [ "$x" = full ]; then
            reqs=$(awk '/^Complete requests:/ { print $3 }' <<<"$out")
            errs=$(awk '/^Failed requests:/ { f = $3 } /^Non-2xx responses:/ { x = $3 } END { print f + x }' <<<"$out")
            what="ab: $(grep -E '^(Failed requests|   \(Connect|Non-2xx|HTML transferred)' <<<"$out" | tr -s ' \n' ' ')"
            what+="; first errors: $(sort "$RUN/ab.err" | uniq -c | sort -rn | head -n 2 | tr -s ' \n' ' ')"
        else
            # requests: N total, N started, N done, N succeeded, N failed, N errored, N timeout
            # status codes: N 2xx, N 3xx, N 4xx, N 5xx
            reqs=$(awk '/^requests:/ { print $6 }' <<<"$out")
            errs=$(awk '/^requests:/ { e = $10 + $12 + $14; d = $6 } /^status codes:/ { ok = $3 }
                END { print e + d - ok }' <<<"$out")
            what="h2load: $(grep -E '^(requests|status codes):' <<<"$out" | tr '\n' ' ')"
        fi
        [ "$errs" = 0 ] || { log "WARNING: $t $x $k round $r: $what"; echo "$t $x $k round $r: $what" >>"$RUN/warnings.txt"; }
        ;;
    new | resume)
        # "N connections in T real seconds"; one character per connection, r when resumed.
        reqs=$(cat "$RUN"/stime.* | awk '/connections in .* real seconds/ { s += $1 } END { print s + 0 }')
        resumed=$(cat "$RUN"/stime.* | awk '/connections in/ { next }
            /^[*r123]+$/ { a += gsub(/r/, ""); b += length($0) } END { if (a + b) printf "%.1f%%", 100 * a / (a + b) }')
        if [ "$x" = resume ] && [ "${resumed%.*}" -lt 90 ] 2>/dev/null; then
            log "WARNING: $t $x $k round $r: only $resumed of s_time's connections resumed"
            echo "$t $x $k round $r: only $resumed of s_time's connections resumed" >>"$RUN/warnings.txt"
        fi
        ;;
    small | 1m)
        local serr nerr
        read -r reqs _ serr nerr < <(awk '$1 == "SUM" { print $2, $3, $4, $5 }' <<<"$out")
        errs=$((${serr:-0} + ${nerr:-0}))
        [ "$errs" = 0 ] || log "WARNING: $t $x round $r: $serr socket errors, $nerr non-2xx"
        [ "$errs" = 0 ] || echo "$t $x round $r: wrk: $serr socket errors, $nerr non-2xx" >>"$RUN/warnings.txt"
        ;;
    esac
    [ -n "${reqs:-}" ] && [ "$reqs" -gt 0 ] || die "$t $x $k: no requests: $(tail -n 3 <<<"${out:-$(cat "$RUN"/stime.* 2>/dev/null)}")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$x" "$k" "$r" "$t" \
        "$(awk -v c=$((c1 - c0)) -v n="$reqs" -v hz="$HZ" 'BEGIN { printf "%.1f", c * 1000000 / hz / n }')" \
        "$(awk -v n="$reqs" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.0f", n / (b - a) }')" \
        "$(awk -v c=$((c1 - c0)) -v hz="$HZ" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.0f", 100 * c / hz / (b - a) }')" \
        "$(awk -v c=$((k1 - k0)) -v hz="$HZ" -v a="$w0" -v b="$w1" 'BEGIN { printf "%.0f", 100 * c / hz / (b - a) }')" \
        "$errs" "${resumed:--}" >>"$RUN/results.tsv"
    log "$(date -u +%TZ) round $r, $x $k, $t: $reqs requests, $(tail -n 1 "$RUN/results.tsv" | cut -f5) us/req, $(tail -n 1 "$RUN/results.tsv" | cut -f6) req/s"
}

STARTED=$(date -u +%FT%TZ) LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
for t in ${TARGETS//,/ }; do for m in $(modes "$t"); do start "$t" "$m"; done; done
: >"$RUN/checks.txt"
: >"$RUN/warnings.txt"
NO_CLOSE_NOTIFY=""
for t in ${TARGETS//,/ }; do for m in $(modes "$t"); do for k in ecdsa rsa; do check "$t" "$m" "$k"; done; done; done
log "checked: every listener answers /bytes/$SMALL and /bytes/$BIG with the origin's bytes; -full ones send no ticket and do not resume, -resume ones resume"
if [ -n "$NO_CLOSE_NOTIFY" ]; then
    log "WARNING: no close_notify before the server closed (Connection: close):$NO_CLOSE_NOTIFY"
    echo "no close_notify before the server closed (Connection: close):$NO_CLOSE_NOTIFY" >>"$RUN/warnings.txt"
fi
sed 's/^/# /' "$RUN/checks.txt" >&2

printf 'test\tkey\tround\ttarget\tcpu_us_req\trps\tbusy\tclient\terrors\tresumed\n' >"$RUN/results.tsv"
for r in $(seq "$ROUNDS"); do
    for x in ${TESTS//,/ }; do
        keys=$KEYS
        case $x in small | 1m | h2) keys=ecdsa ;; esac
        for k in ${keys//,/ }; do
            for t in ${TARGETS//,/ }; do
                [ "$t" != nginx-buf ] || [ "$x" = 1m ] || continue
                measure "$x" "$k" "$t" "$r"
            done
        done
    done
done
for t in ${TARGETS//,/ }; do
    for m in $(modes "$t"); do
        kill -0 "${PID[$t-$m]}" 2>/dev/null || {
            log "WARNING: $t-$m died during the run"
            echo "$t-$m died during the run: $(tail -n 3 "$RUN/$t-$m.log")" >>"$RUN/warnings.txt"
        }
    done
done

# The table: medians per test, key and target; on the nginx and haproxy rows,
# rpx / that row as medians of per-round ratios.
table()
{
    awk -F'\t' '
    NR == 1 { next }
    { k = $1 SUBSEP $2 SUBSEP $4; cpu[$1, $2, $4, $3] = $5; rps[$1, $2, $4, $3] = $6; rounds[$3] = 1
      c[k] = c[k] " " $5; q[k] = q[k] " " $6; busy[k] = busy[k] " " $7; cl[k] = cl[k] " " $8
      err[k] += $9; res[k] = res[k] ($10 == "-" ? "" : " " $10)
      if (!(k in seen)) { seen[k] = 1; order[++n] = k } }
    function median(s,   a, m, i, j, t) {
        m = split(s, a, " "); for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
            if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
    function range(s,   a, m, i, lo, hi) {
        m = split(s, a, " "); lo = hi = a[1]
        for (i = 2; i <= m; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
        return sprintf("%.0f-%.0f", lo, hi) }
    function ratio(v, x, key, t,   s, r) {
        if (!((x SUBSEP key SUBSEP "rpx") in seen)) return "-"
        s = ""; for (r in rounds) if (v[x, key, t, r] > 0 && v[x, key, "rpx", r] != "") s = s " " v[x, key, "rpx", r] / v[x, key, t, r]
        return s == "" ? "-" : sprintf("%.2f", median(s)) }
    BEGIN {
        print "| test | key | target | cpu us/req | req/s | req/s range | busy % | client % | errors | resumed | cpu rpx/this | req/s rpx/this |"
        print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    }
    END {
        for (i = 1; i <= n; i++) { split(order[i], kk, SUBSEP); x = kk[1]; key = kk[2]; t = kk[3]; o = order[i]
            other = t != "rpx"
            printf "| %s | %s | %s | %.1f | %.0f | %s | %.0f | %.0f | %d | %s | %s | %s |\n", x, key, t,
                median(c[o]), median(q[o]), range(q[o]), median(busy[o]), median(cl[o]), err[o],
                res[o] == "" ? "" : substr(res[o], 2),
                other ? ratio(cpu, x, key, t) : "", other ? ratio(rps, x, key, t) : "" }
    }' "$RUN/results.tsv"
}

[ -n "$OUT" ] || { mkdir -p bench/results && OUT=bench/results/tls-$(date -u +%Y%m%d-%H%M%S).txt; }
{
    echo "# bench/tls.sh$ARGS"
    echo "# started $STARTED, ended $(date -u +%FT%TZ); $(git rev-parse --short HEAD 2>/dev/null); build $O; $(nproc) CPUs, load average at the start $LOAD, at the end $(cut -d' ' -f1-3 /proc/loadavg)"
    [ -z "$NOTE" ] || echo "# $NOTE"
    if [ "$FULL" = ab ]; then
        echo "# $ROUNDS rounds interleaved; full: ab -n $NREQ -c $ACONC -f $AB_TLS GET /bytes/$SMALL (HTTP/1.0, a connection each);"
    else
        echo "# $ROUNDS rounds interleaved; full: h2load --h1 -n $NREQ -c $ACONC -H 'Connection: close' GET /bytes/$SMALL (a connection each);"
    fi
    echo "# new/resume: $ACONC x openssl s_time -new/-reuse -time $DUR $OSSL_TLS -www /bytes/$SMALL (HTTP/1.0, a connection each)$([ -n "$TOLERANT" ] && echo ', with SSL_OP_IGNORE_UNEXPECTED_EOF (-I)');"
    echo "# small: wrk -t1 -c$CONNS -d${DUR}s GET /bytes/$SMALL; 1m: wrk -t1 -c$MCONNS -d${DUR}s GET /bytes/$BIG (keep-alive, ECDSA listener)"
    echo "# h2: h2load -n $NH2 -c 10 -m 10 GET /bytes/$SMALL (HTTP/2 by ALPN, ECDSA listener)"
    echo "# one worker each; cpu us/req: the proxy's utime+stime from /proc over the requests"
    [ "${#RPXENV[@]}" = 0 ] || echo "# rpx environment: ${RPXENV[*]}"
    # rpx build links BoringSSL as $O/lib/rpx/link.flags says, when it builds the policy.
    bssl=$(grep -o '[^ ]*/libcrypto\.a' "$O/lib/rpx/link.flags" 2>/dev/null)
    echo "# rpx $("$O/bin/rpx" --version 2>&1 | cut -d' ' -f2) with BoringSSL $(dpkg-query -W -f='${Version}' android-libboringssl-dev 2>/dev/null)$([ -n "$bssl" ] &&
        echo " (static, tools/boringssl-static.sh: $(cat "${bssl%/*}/stamp" 2>/dev/null), $(date -u -r "$bssl" +%FT%TZ))");" \
        "$(nginx -v 2>&1 | cut -d' ' -f3); HAProxy $(haproxy -v 2>&1 | head -n 1 | cut -d' ' -f3) ($(haproxy -vv 2>&1 | grep -m 1 'Running on OpenSSL' | cut -d: -f2 | cut -d' ' -f2-3));"
    echo "# $(openssl version | cut -d' ' -f1-2) (clients, nginx); $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); $(h2load --version 2>&1 | head -n 1);" \
        "$(command -v ab >/dev/null && echo "ab $(ab -V 2>&1 | head -n 1 | sed 's/.*Version //; s/ .*//');") curl $(curl -V | head -n 1 | cut -d' ' -f2)"
    echo "# handshakes as openssl s_client $OSSL_TLS saw them (a second connection offered the first one's session):"
    sed 's/^/#   /' "$RUN/checks.txt"
    if [ -s "$RUN/warnings.txt" ]; then
        echo "# warnings:"
        sed 's/^/#   /' "$RUN/warnings.txt"
    fi
    echo
    table
    echo
    echo "## Raw rows"
    echo
    sed 's/^/    /' "$RUN/results.tsv"
    echo
    echo "## Configurations"
    for t in ${TARGETS//,/ }; do
        for m in $(modes "$t"); do
            for f in "$RUN/$t-$m.rp" "$RUN/$t-$m.conf" "$RUN/$t-$m.cfg"; do
                [ -f "$f" ] || continue
                echo
                echo "### ${f##*/}"
                sed "s|$RUN|\$RUN|g; s/^/    /" "$f"
            done
        done
    done
    if [[ ,$TARGETS, == *,haproxy,* ]]; then
        echo
        echo "### openssl-no-tickets.cnf (OPENSSL_CONF of haproxy-full)"
        sed 's/^/    /' "$RUN/openssl-no-tickets.cnf"
    fi
} >"$OUT"
table
[ ! -s "$RUN/warnings.txt" ] || { log "warnings:"; sed 's/^/#   /' "$RUN/warnings.txt" >&2; }
log "results: $OUT"
