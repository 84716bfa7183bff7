# bench/lib.sh: helpers shared by run.sh, cpu.sh, idle.sh and soak.sh.
# Sourced from the repository root with O (the build folder) and RUN (a
# scratch folder) set. Starts the origin (build/tests/origin), rpx built from
# a one-route policy, HAProxy and nginx configured for the same work
# (keep-alive on both sides, no logging per request), all on 127.0.0.1 and
# ephemeral ports; every process started is recorded and stopped by PID at
# exit (bench_cleanup). With CACHE=1 (cpu.sh -C) HAProxy and nginx also keep
# responses in their caches, Varnish is a fourth target, and the origin logs
# each request it gets to $RUN/origin.req, to prove the hits.
# shellcheck shell=bash

PIDS=()
declare -A PORT PID

bench_cleanup()
{
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
}

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }

# free_port: a port no socket uses, from 12000-31999: below the kernel's
# ephemeral range, which idle.sh's 10,000 client connections fill.
free_port()
{
    local p
    while :; do
        p=$((12000 + RANDOM % 20000))
        ss -tanH "( sport = :$p or dport = :$p )" | grep -q . || { echo "$p"; return; }
    done
}

wait_up() # wait_up PORT [PATH]: until something answers 200 there (10 s at most),
{         # to a request with $FIELD when it is set (cpu.sh -H)
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 ${FIELD:+-H "$FIELD"} \
            "http://127.0.0.1:$1${2:-/bytes/6}")" = 200 ] &&
            return 0
        sleep 0.1
    done
    return 1
}

# start_origin: the test origin on an ephemeral port; PORT[origin].
start_origin()
{
    PORT[origin]=$(free_port)
    local reqlog=()
    [ "${CACHE:-0}" = 1 ] && reqlog=(--log "$RUN/origin.req")
    "$O/tests/origin" serve --port "${PORT[origin]}" --name origin "${reqlog[@]}" 2>"$RUN/origin.log" &
    PID[origin]=$!
    PIDS+=($!)
    wait_up "${PORT[origin]}" || die "the origin did not start"
}

# build_rpx: compiles the one-route policy to $RUN/rpx-proxy, again only
# when the policy changed (another route body or origin port: run.sh's cache
# scenario). The route's body is $RPX_ROUTE (default "proxy origin"), to
# measure what a statement costs (cpu.sh -R), or to cache (run.sh -S cache,
# soak.sh -C).
build_rpx()
{
    cat >"$RUN/bench.rp.new" <<EOF
listen 127.0.0.1:8080
${RPX_TOP:-}
backend origin { server o 127.0.0.1:${PORT[origin]} }
route default { ${RPX_ROUTE:-proxy origin} }
EOF
    if [ -x "$RUN/rpx-proxy" ] && cmp -s "$RUN/bench.rp.new" "$RUN/bench.rp"; then
        rm -f "$RUN/bench.rp.new"
        return 0
    fi
    mv "$RUN/bench.rp.new" "$RUN/bench.rp"
    rm -f "$RUN/rpx-proxy"
    # shellcheck disable=SC2086 # RPX_BUILD_FLAGS is a list of words
    "$O/bin/rpx" build "$RUN/bench.rp" -o "$RUN/rpx-proxy" ${RPX_BUILD_FLAGS:-} \
        >"$RUN/rpx-build.log" 2>&1 ||
        die "rpx build failed: $(tail -n 3 "$RUN/rpx-build.log")"
}

# conf_haproxy WORKERS PORT FILE / conf_nginx WORKERS PORT FILE [MASTER]:
# the same work as rpx: keep-alive both sides, upstream connections reused,
# nothing logged per request. CACHE=1: responses kept in memory (HAProxy's
# cache) or in files under $RUN/nginx/cache (nginx's proxy_cache, which
# stores only with proxy_buffering on), 64 MB, an hour at most.
conf_haproxy()
{
    local use='' store=''
    if [ "${CACHE:-0}" = 1 ]; then
        use="
    http-request cache-use rpxbench
    http-response cache-store rpxbench"
        store="
cache rpxbench
    total-max-size 64
    max-object-size 65536
    max-age 3600"
    fi
    cat >"$3" <<EOF
global
    nbthread $1
    # Room for idle.sh's 10,000 clients; HAProxy counts a server socket per
    # client and would refuse to start under a 20,000 descriptor limit.
    maxconn 10100
    no strict-limits
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend fe
    bind 127.0.0.1:$2
    default_backend be
backend be$use
    server origin 127.0.0.1:${PORT[origin]}$store
EOF
}

# nginx_preamble WORKERS MASTER CONNECTIONS: the top of an nginx
# configuration, up to and including the first lines of its http block: no
# access log, temporary files under $RUN/nginx, unlimited keep-alive.
nginx_preamble()
{
    mkdir -p "$RUN/nginx"
    cat <<EOF
worker_processes $1;
worker_rlimit_nofile $(($3 + 1000));
master_process $2;
daemon off;
pid $RUN/nginx.pid;
error_log $RUN/nginx.err warn;
events { worker_connections $3; }
http {
    access_log off;
    client_body_temp_path $RUN/nginx/body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;
    keepalive_requests 100000000;
EOF
}

conf_nginx()
{
    local buffering=off zone='' cache=''
    if [ "${CACHE:-0}" = 1 ]; then
        buffering=on
        zone="
    proxy_cache_path $RUN/nginx/cache levels=1:2 keys_zone=rpxbench:1m max_size=64m inactive=1h use_temp_path=off;"
        cache="
            proxy_cache rpxbench;
            proxy_cache_valid 200 1h;"
    fi
    {
        # With its master, nginx's workers would run as nobody, and could not
        # write the cache under $RUN (mode 0700, root's).
        [ "${CACHE:-0}" = 1 ] && [ "${4:-on}" = on ] && [ "$(id -u)" = 0 ] && echo "user root;"
        nginx_preamble "$1" "${4:-on}" 19000
        cat <<EOF
    upstream origin { server 127.0.0.1:${PORT[origin]}; keepalive 64; }$zone
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering $buffering;$cache
            proxy_request_buffering off;
            client_max_body_size 0;
        }
    }
}
EOF
    } >"$3"
}

# start_target NAME WORKERS [WRAPPER...]: starts rpx, haproxy, nginx (one
# process: nginx without its master when WORKERS is 1) or varnish under
# WRAPPER (e.g. valgrind), sets PORT[NAME] and PID[NAME]. Fails if it does
# not answer. Varnish (a cache, so CACHE=1 only) is its manager in the
# foreground and the child it forks (cache-main: a thread per connection,
# here one pool), with the built-in VCL in front of the origin (-b) and
# 64 MB of memory storage; -j none keeps it root, so that the child can
# write into $RUN (callgrind dumps) as the others do.
start_target()
{
    local t=$1 w=$2
    shift 2
    PORT[$t]=$(free_port)
    case $t in
    rpx)
        build_rpx
        "$@" "$RUN/rpx-proxy" -q -w "$w" --listen "127.0.0.1:${PORT[$t]}" 2>"$RUN/rpx.log" &
        ;;
    haproxy)
        conf_haproxy "$w" "${PORT[$t]}" "$RUN/haproxy.cfg"
        "$@" haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
        ;;
    nginx)
        local master=on
        [ "$w" = 1 ] && master=off
        conf_nginx "$w" "${PORT[$t]}" "$RUN/nginx.conf" "$master"
        rm -rf "$RUN/nginx/cache" # CACHE=1: each start with an empty cache
        "$@" nginx -p "$RUN/nginx" -e "$RUN/nginx.err" -c "$RUN/nginx.conf" >"$RUN/nginx.log" 2>&1 &
        ;;
    varnish)
        rm -rf "$RUN/varnish"
        "$@" varnishd -F -j none -n "$RUN/varnish" -a "127.0.0.1:${PORT[$t]}" -b "127.0.0.1:${PORT[origin]}" \
            -s malloc,64m -p thread_pools=1 >"$RUN/varnish.log" 2>&1 &
        ;;
    *) die "unknown target $t" ;;
    esac
    PID[$t]=$!
    PIDS+=($!)
    wait_up "${PORT[$t]}" || { log "$t did not start: $(tail -n 2 "$RUN/$t.log" 2>/dev/null)"; return 1; }
}

# stop_target NAME: SIGTERM (SIGQUIT for nginx, its graceful stop), wait.
stop_target()
{
    local p=${PID[$1]:-}
    [ -n "$p" ] || return 0
    if [ "$1" = nginx ]; then kill -QUIT "$p" 2>/dev/null; else kill "$p" 2>/dev/null; fi
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    unset "PID[$1]"
}

# target_pids NAME: the PIDs of the target's processes (nginx: master and
# workers).
target_pids()
{
    local p=${PID[$1]}
    echo "$p"
    pgrep -P "$p" 2>/dev/null
}

# rss_kb NAME: the summed VmRSS of the target's processes, in kB.
rss_kb()
{
    local p s=0 v
    for p in $(target_pids "$1"); do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo "$s"
}

# median N...: the median of the numbers.
median()
{
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
