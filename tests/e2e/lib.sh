# lib.sh: helpers for the end-to-end tests, sourced by run.sh before the
# t_*.sh files. Needs E2E_BUILD (an absolute build directory).
#
# Processes: every origin and proxy is started through spawn(), which records
# its PID in $SCRATCH/pids and its exit status in NAME.rc once it ends, so the
# helpers work the same when called inside $(...). The EXIT trap kills every
# recorded PID (SIGTERM, then SIGKILL after a bounded wait) and removes
# $SCRATCH.
#
# Checks: check, check_eq, check_match print "ok N - ..." or "not ok N - ..."
# followed by up to a dozen "#" lines of detail; summary prints the last line
# "N passed, N failed".
#
# Every wait is bounded: curl always gets --max-time, reads get -t or run
# under timeout(1), and polling loops count their iterations.

# shellcheck shell=bash
# shellcheck disable=SC2034 # settings read by the t_*.sh files
export LC_ALL=C

RPX=$E2E_BUILD/bin/rpx
ORIGIN=$E2E_BUILD/tests/origin

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/rpx-e2e.XXXXXX")
: >"$SCRATCH/pids"
AREA=none
AREA_DIR=$SCRATCH/none
mkdir -p "$AREA_DIR"

# A sanitized build runs everything 2-3x slower and uses far more memory:
# timeouts are multiplied by SCALE and the memory bound is raised.
if grep -q 'fsanitize=[a-z,]*address' "$E2E_BUILD/lib/rpx/link.flags" 2>/dev/null; then
    E2E_ASAN=1
    SCALE=3
    HWM_LIMIT_KB=$((256 * 1024))
else
    E2E_ASAN=0
    SCALE=1
    HWM_LIMIT_KB=$((64 * 1024))
fi
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

T_SHORT=$((5 * SCALE)) # one small request
T_LONG=$((60 * SCALE)) # a 1 GB transfer

TESTS_RUN=0
TESTS_PASSED=0
TESTS_FAILED=0
echo "0 0 0" >"$SCRATCH/counts"

# ---- cleanup ------------------------------------------------------------------------

# Closes every descriptor above 2 of the current shell, so that a spawned
# process never holds (and keeps alive) a test's client socket.
close_fds()
{
    local f n
    for f in "/proc/$BASHPID/fd/"*; do
        n=${f##*/}
        [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" 2>/dev/null
    done
    return 0
}

# kill_pids SECONDS PID...: SIGTERM, wait up to SECONDS for them to go,
# SIGKILL what is left.
kill_pids()
{
    local secs=$1 p i alive
    shift
    [ $# -eq 0 ] && return 0
    kill -TERM "$@" 2>/dev/null
    for ((i = 0; i < secs * 20; i++)); do
        alive=0
        for p in "$@"; do
            kill -0 "$p" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && return 0
        sleep 0.05
    done
    kill -KILL "$@" 2>/dev/null
    return 0
}

e2e_cleanup()
{
    local pids area
    # An area interrupted by a signal: its subshell and that one's children
    # (curl, origin gen) go first.
    if [ -f "$SCRATCH/area.pid" ]; then
        area=$(cat "$SCRATCH/area.pid")
        pkill -TERM -P "$area" 2>/dev/null
        kill -TERM "$area" 2>/dev/null
    fi
    pids=$(sort -u "$SCRATCH/pids" 2>/dev/null)
    # shellcheck disable=SC2086
    kill_pids 5 $pids
    wait 2>/dev/null
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "# E2E_KEEP=1: logs and policies kept in $SCRATCH" >&2
    else
        rm -rf "$SCRATCH"
    fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# ---- processes ----------------------------------------------------------------------

# wait_file FILE SECONDS: waits until FILE exists and is not empty.
wait_file()
{
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.05
    done
    [ -s "$1" ]
}

# spawn BASE CMD...: starts CMD in the background with stdin and stdout on
# /dev/null and stderr appended to BASE.err. BASE.pid gets the command's own
# PID (not a wrapper's, so signals reach it), BASE.rc its exit status once it
# ends.
spawn()
{
    local base=$1
    shift
    rm -f "$base.pid" "$base.rc"
    (
        close_fds
        bash -c 'echo $$ >"$0.pid.tmp" && mv "$0.pid.tmp" "$0.pid" && exec "$@"' \
            "$base" "$@" </dev/null >/dev/null 2>>"$base.err"
        echo $? >"$base.rc"
    ) </dev/null >/dev/null 2>&1 &
    if ! wait_file "$base.pid" "$T_SHORT"; then
        echo "spawn: $1 did not start" >&2
        return 1
    fi
    cat "$base.pid" >>"$SCRATCH/pids"
}

# start_origin NAME [--raw]: starts an origin named NAME logging to
# $AREA_DIR/NAME.log and prints its port. With --raw it also records every
# byte it reads in NAME.raw (origin --raw-log: one line per read), which
# proves that not even part of a request reached it; not for big bodies.
# tcp_server NAME MODE: tests/e2e/tcp_server.py (echo, proxy-header) on an
# ephemeral port, written to $AREA_DIR/NAME.port; it ends by itself.
tcp_server()
{
    python3 "$here/tcp_server.py" "$2" "$AREA_DIR/$1.port" 2>"$AREA_DIR/$1.err" &
    echo $! >>"$SCRATCH/pids"
    wait_file "$AREA_DIR/$1.port" 10
}

start_origin()
{
    local base=$AREA_DIR/$1 raw=()
    [ "${2:-}" = --raw ] && raw=(--raw-log "$base.raw") && : >"$base.raw"
    rm -f "$base.port"
    : >"$base.log"
    spawn "$base" "$ORIGIN" serve --port 0 --port-file "$base.port" --name "$1" \
        --log "$base.log" "${raw[@]}" || return 1
    if ! wait_file "$base.port" "$T_SHORT"; then
        echo "start_origin $1: no port file after ${T_SHORT}s" >&2
        tail -n 5 "$base.err" >&2
        return 1
    fi
    cat "$base.port"
}

# stop_origin NAME: stops it (its port stays in NAME.port: a port nothing
# listens on any more).
stop_origin()
{
    local base=$AREA_DIR/$1
    [ -f "$base.pid" ] || return 0
    kill_pids 5 "$(cat "$base.pid")"
}

# restart_origin NAME: starts NAME again on the port it had.
restart_origin()
{
    local base=$AREA_DIR/$1 port
    port=$(cat "$base.port")
    spawn "$base" "$ORIGIN" serve --port "$port" --name "$1" --log "$base.log"
    for _ in $(seq $((50 * SCALE))); do
        hcurl -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

origin_port() { cat "$AREA_DIR/$1.port"; }
origin_log() { echo "$AREA_DIR/$1.log"; }
origin_raw() { echo "$AREA_DIR/$1.raw"; }

# build_proxy NAME POLICY_TEXT: writes $AREA_DIR/NAME.rp, with each @ORIGIN@
# replaced by the port of the origin of that name started in this area, and
# compiles it to $AREA_DIR/NAME with rpx build. Prints rpx's output.
build_proxy()
{
    local name=$1 text=$2 f o
    for f in "$AREA_DIR"/*.port; do
        [ -e "$f" ] || continue
        o=${f##*/}
        o=${o%.port}
        text=${text//@$o@/$(cat "$f")}
    done
    if [[ $text =~ @[A-Za-z0-9_-]+@ ]]; then
        echo "build_proxy $name: no origin for ${BASH_REMATCH[0]}"
        return 1
    fi
    printf '%s\n' "$text" >"$AREA_DIR/$name.rp"
    # shellcheck disable=SC2086 # E2E_BUILD_FLAGS: extra words for rpx build
    (cd "$AREA_DIR" && "$RPX" build "$name.rp" -o "$name" ${E2E_BUILD_FLAGS:-}) 2>&1
}

# start_proxy NAME|BINARY [ARGS...]: runs the proxy built by build_proxy NAME
# (or the BINARY at that path, known by its base name afterwards) on an
# ephemeral port of 127.0.0.1 (quiet, plus ARGS) and prints the port.
start_proxy()
{
    local bin=$1 name=${1##*/}
    local base=$AREA_DIR/$name.run
    shift
    [[ $bin == */* ]] || bin=$AREA_DIR/$bin
    rm -f "$base.port"
    spawn "$base" "$bin" --listen 127.0.0.1:0 --port-file "$base.port" -q "$@" ||
        return 1
    if ! wait_file "$base.port" "$T_SHORT"; then
        echo "start_proxy $name: no port file after ${T_SHORT}s" >&2
        tail -n 5 "$base.err" >&2
        return 1
    fi
    cat "$base.port"
}

proxy_pid() { cat "$AREA_DIR/${1##*/}.run.pid"; }

# wait_gone PID: waits (up to 15 s, scaled) for PID to exit; false if it
# did not (for a process not started with spawn, or not by this shell).
wait_gone()
{
    local i
    for ((i = 0; i < 300 * SCALE; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.05
    done
    return 1
}

# sanitizer_report FILE: true (and prints the report's first lines) if FILE
# holds an AddressSanitizer, LeakSanitizer or UBSan report.
sanitizer_report()
{
    [ -f "$1" ] || return 1
    if grep -qE 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:' "$1"; then
        grep -m 8 -E 'ERROR: AddressSanitizer|LeakSanitizer|runtime error:|^    #[0-9] ' "$1"
        return 0
    fi
    return 1
}

# stop_proxy NAME|BINARY [SECONDS]: SIGTERM, then waits up to SECONDS (default
# 10, times SCALE) for the exit. Fails unless the exit status is 0 and the
# stderr has no sanitizer report.
stop_proxy()
{
    local base=$AREA_DIR/${1##*/}.run secs=${2:-$((10 * SCALE))} rc status=0 t0=$EPOCHREALTIME
    if [ ! -f "$base.pid" ]; then
        echo "proxy $1 was never started"
        return 1
    fi
    if [ ! -f "$base.rc" ]; then
        kill -TERM "$(cat "$base.pid")" 2>/dev/null
        if ! wait_file "$base.rc" "$secs"; then
            echo "proxy $1 still running ${secs}s after SIGTERM: killed"
            ss -tanp 2>/dev/null | grep "pid=$(cat "$base.pid")," | head -n 5
            kill_pids 2 "$(cat "$base.pid")"
            wait_file "$base.rc" 5
            status=1
        fi
    else
        echo "proxy $1 had exited already"
        status=1
    fi
    rc=$(cat "$base.rc" 2>/dev/null)
    [ "$status" = 0 ] && echo "stopped in $(elapsed "$t0")s"
    if [ "$rc" != 0 ]; then
        echo "exit status ${rc:-unknown} (want 0)"
        status=1
    fi
    sanitizer_report "$base.err" && status=1
    [ "$status" = 0 ] || tail -n 4 "$base.err"
    return $status
}

# ---- areas --------------------------------------------------------------------------

# area_begin NAME: the files of a t_*.sh go to their own directory.
area_begin()
{
    AREA=$1
    AREA_DIR=$SCRATCH/$1
    mkdir -p "$AREA_DIR"
    AREA_START=$EPOCHREALTIME
    echo "# $AREA"
}

# area_end: stops whatever the area left running (its proxies and origins).
area_end()
{
    local f pids=()
    for f in "$AREA_DIR"/*.pid; do
        [ -f "$f" ] || continue
        [ -f "${f%.pid}.rc" ] && continue
        pids+=("$(cat "$f")")
    done
    [ ${#pids[@]} -gt 0 ] && kill_pids 10 "${pids[@]}"
    echo "# $AREA: $(elapsed "$AREA_START")s"
    return 0
}

# ---- checks -------------------------------------------------------------------------

# show STRING: STRING on one line, escaped, cut at 300 characters.
show()
{
    local s
    printf -v s '%q' "$1"
    [ ${#s} -gt 300 ] && s="${s:0:300}..."
    printf '%s' "$s"
}

# save_counts: the counters go to a file after every check, so that run.sh
# keeps them when an area (run in a subshell) ends early.
save_counts() { echo "$TESTS_RUN $TESTS_PASSED $TESTS_FAILED" >"$SCRATCH/counts"; }

# load_counts: takes the counters back from the file.
load_counts() { read -r TESTS_RUN TESTS_PASSED TESTS_FAILED <"$SCRATCH/counts"; }

pass()
{
    TESTS_RUN=$((TESTS_RUN + 1))
    TESTS_PASSED=$((TESTS_PASSED + 1))
    save_counts
    echo "ok $TESTS_RUN - $1"
}

# fail DESCRIPTION [DETAIL_LINE...]
fail()
{
    local l
    TESTS_RUN=$((TESTS_RUN + 1))
    TESTS_FAILED=$((TESTS_FAILED + 1))
    save_counts
    echo "not ok $TESTS_RUN - $1"
    shift
    for l in "$@"; do
        printf '#   %s\n' "$l"
    done
}

skip()
{
    TESTS_RUN=$((TESTS_RUN + 1))
    TESTS_PASSED=$((TESTS_PASSED + 1))
    save_counts
    echo "ok $TESTS_RUN - $1 # SKIP $2"
}

# check DESCRIPTION COMMAND...: passes if COMMAND succeeds; on failure shows
# the last lines of what it printed.
check()
{
    local desc=$1 out=$SCRATCH/check.out
    shift
    if "$@" >"$out" 2>&1; then
        pass "$desc"
    else
        local lines=()
        mapfile -t lines < <(tail -n 12 "$out" | cut -c1-300)
        fail "$desc" "${lines[@]}"
    fi
}

# check_eq DESCRIPTION GOT WANT
check_eq()
{
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1" "want: $(show "$3")" "got:  $(show "$2")"
    fi
}

# check_match DESCRIPTION GOT ERE
check_match()
{
    if [[ $2 =~ $3 ]]; then
        pass "$1"
    else
        fail "$1" "want a match for: $(show "$3")" "got:  $(show "$2")"
    fi
}

# xfail NOTE CHECK ARGS...: runs CHECK ARGS... (check, check_eq, check_match
# or any function that ends in one pass or fail) for a requirement the proxy
# does not meet yet. A failure is counted as a pass and printed as
# "ok N - ... # XFAIL (not implemented yet): NOTE" with its details, so the
# suite stays green while the gap stays visible; a pass prints "# XPASS:
# NOTE" so the xfail gets noticed and removed. Both go to $SCRATCH/xfail.
xfail()
{
    local note=$1 out=$SCRATCH/xfail.out failed_before=$TESTS_FAILED line first=1
    shift
    "$@" >"$out" 2>&1
    if [ "$TESTS_FAILED" -gt "$failed_before" ]; then
        TESTS_FAILED=$failed_before
        TESTS_PASSED=$((TESTS_PASSED + 1))
        save_counts
        while IFS= read -r line; do
            if [ $first = 1 ] && [[ $line == "not ok "* ]]; then
                line="ok ${line#not ok } # XFAIL (not implemented yet): $note"
                echo "$line" >>"$SCRATCH/xfail"
                first=0
            elif [[ $line == "#"* ]]; then
                echo "$line" >>"$SCRATCH/xfail"
            fi
            echo "$line"
        done <"$out"
    else
        while IFS= read -r line; do
            if [ $first = 1 ] && [[ $line == "ok "* ]]; then
                line="$line # XPASS: $note"
                echo "$line" >>"$SCRATCH/xfail"
                first=0
            fi
            echo "$line"
        done <"$out"
    fi
}

# summary: the last line, and the exit status of the suite.
summary()
{
    if [ -s "$SCRATCH/xfail" ]; then
        echo "# $(grep -c '# XFAIL' "$SCRATCH/xfail") XFAIL, $(grep -c '# XPASS' "$SCRATCH/xfail") XPASS:"
        grep -E '^ok [0-9]+ ' "$SCRATCH/xfail" | sed 's/^/#   /'
    fi
    echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
    [ "$TESTS_FAILED" -eq 0 ]
}

# ---- HTTP ---------------------------------------------------------------------------

# The curl every test uses: silent but for errors, never unbounded.
hcurl() { curl -sS --max-time "$T_SHORT" "$@"; }

# elapsed START: seconds since START (an $EPOCHREALTIME), 3 decimals.
elapsed()
{
    local a=${1/./} b=${EPOCHREALTIME/./}
    local d=$(((10#$b - 10#$a) / 1000))
    printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

# ms_since START: whole milliseconds since START (an $EPOCHREALTIME).
ms_since()
{
    local a=${1/./} b=${EPOCHREALTIME/./}
    echo $(((10#$b - 10#$a) / 1000))
}

# send_bytes FD BYTES: writes BYTES (printf %b: write \r\n) to FD in a single
# write(2). (bash's printf writes line by line; cat copies a small file in
# one read and one write.) A peer that closed early is no reason to die of
# SIGPIPE.
send_bytes()
{
    local f=$SCRATCH/send.$BASHPID
    printf '%b' "$2" >"$f"
    (
        trap '' PIPE
        cat "$f" >&"$1"
    ) 2>/dev/null
    rm -f "$f"
}

# raw_request PORT BYTES [SECONDS]: sends BYTES (printf %b: write \r\n) in one
# write on a new connection to 127.0.0.1:PORT and prints everything that comes
# back. Returns 0 if the server closed the connection, 124 if it was still
# open after SECONDS (default T_SHORT), 2 if the connection failed, 1 if
# reading failed (a reset).
raw_request()
{
    local port=$1 data=$2 secs=${3:-$T_SHORT} fd rc
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || return 2
    send_bytes "$fd" "$data"
    timeout "$secs" cat <&$fd
    rc=$?
    exec {fd}>&-
    return $rc
}

# corpus_bytes FILE: the request a corpus file (tests/e2e/corpus/*.req)
# describes, as printf %b text for send_bytes: the "# " lines at its top are
# metadata, line breaks in the file are not part of the request (each line
# writes its own \r\n), and {TEXT*N} stands for N copies of TEXT.
corpus_bytes()
{
    local s pre rep n out=""
    s=$(grep -v '^# ' "$1" | tr -d '\n')
    while [[ $s =~ \{([^*}]*)\*([0-9]+)\} ]]; do
        pre=${s%%"${BASH_REMATCH[0]}"*}
        rep=${BASH_REMATCH[1]}
        n=${BASH_REMATCH[2]}
        out+=$pre$(printf "%${n}s" '' | sed "s/ /$(printf '%s' "$rep" | sed 's/[\\&/]/\\&/g')/g")
        s=${s#*"${BASH_REMATCH[0]}"}
    done
    printf '%s' "$out$s"
}

# corpus_meta KEY FILE: the value of the "# KEY: VALUE" line of a corpus file.
corpus_meta() { sed -n "s/^# $1: //p" "$2" | head -n 1; }

# statuses FILE: the status codes of the HTTP/1.x responses stored one after
# the other in FILE (interim ones included), space-separated. A status line
# may follow a body that has no final newline on the same line.
statuses()
{
    grep -aoE $'HTTP/1\\.[01] [0-9]{3}( [^\r]*)?\r$' "$1" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//'
}

# conn_open VAR PORT: opens a connection; VAR gets its descriptor.
conn_open()
{
    local _cfd
    exec {_cfd}<>"/dev/tcp/127.0.0.1/$2" || return 1
    printf -v "$1" '%s' "$_cfd"
}

conn_send() { send_bytes "$1" "$2"; }

conn_close() { eval "exec $1>&-"; }

# conn_read_response FD [SECONDS]: reads one response with a Content-Length
# (or none) body from FD and prints it, CRLFs kept. Fails on timeout.
conn_read_response()
{
    local fd=$1 secs=${2:-$T_SHORT} line len=0 body
    while :; do
        IFS= read -r -t "$secs" line <&"$fd" || return 1
        printf '%s\n' "$line"
        [ "$line" = $'\r' ] && break
        if [[ ${line,,} =~ ^content-length:\ *([0-9]+) ]]; then
            len=${BASH_REMATCH[1]}
        fi
    done
    if [ "$len" -gt 0 ]; then
        IFS= read -r -t "$secs" -N "$len" body <&"$fd" || return 1
        printf '%s' "$body"
    fi
}

# conn_wait_eof FD SECONDS: true if the peer closes FD within SECONDS (any
# bytes before the close are discarded).
conn_wait_eof() { timeout "$2" cat <&"$1" >/dev/null; }

# split_response FILE: FILE.head gets the response head (up to and including
# the empty line), FILE.body the bytes after it.
split_response()
{
    local line n=0
    while IFS= read -r line; do
        n=$((n + ${#line} + 1))
        [ "$line" = $'\r' ] && break
    done <"$1"
    head -c "$n" "$1" >"$1.head"
    tail -c +"$((n + 1))" "$1" >"$1.body"
}

# header NAME FILE: the value of the first NAME field of the head in FILE.
header()
{
    local want=${1,,} line name
    while IFS= read -r line; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        [[ $line == *:* ]] || continue
        name=${line%%:*}
        if [ "${name,,}" = "$want" ]; then
            line=${line#*:}
            line=${line#"${line%%[! ]*}"}
            printf '%s' "$line"
            return 0
        fi
    done <"$2"
    return 1
}

# gen_crc N: "LEN CRC" of the origin's first N pattern bytes (cached).
gen_crc()
{
    local f=$SCRATCH/gen.$1.crc
    [ -s "$f" ] || "$ORIGIN" gen "$1" | "$ORIGIN" crc32 >"$f"
    cat "$f"
}

# lacks ERE FILE: true if no line of FILE matches ERE; else prints those lines.
lacks()
{
    if grep -E -- "$1" "$2" >"$SCRATCH/lacks.out" 2>/dev/null; then
        head -n 5 "$SCRATCH/lacks.out" | cut -c1-200
        return 1
    fi
    return 0
}

# count_lines ERE FILE: the number of lines of FILE matching ERE.
count_lines() { grep -cE -- "$1" "$2" 2>/dev/null || true; }

# backend_conns PORT: how many TCP connections (in any state, TIME-WAIT
# included) there are or were recently with 127.0.0.1:PORT, listeners aside.
backend_conns()
{
    ss -tanH "( sport = :$1 or dport = :$1 )" 2>/dev/null |
        awk -v p="$1" '$1 != "LISTEN" {
            l = $4; r = $5; sub(/.*:/, "", l); sub(/.*:/, "", r)
            seen[l == p ? r : l] = 1
        } END { n = 0; for (k in seen) n++; print n }'
}

# vm_hwm_kb PID: the peak resident set size of PID, in kB.
vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# answers FILE: the Content-Length framed responses stored one after the
# other in FILE, as "STATUS:BODY STATUS:BODY ..." (bodies without their
# final newline).
answers()
{
    local fd r out=() code
    exec {fd}<"$1" || return 1
    while r=$(conn_read_response "$fd" 1) && [ -n "$r" ]; do
        code=${r#HTTP/1.? }
        out+=("${code:0:3}:${r#*$'\r\n\r\n'}")
    done
    exec {fd}<&-
    echo "${out[*]}"
}
