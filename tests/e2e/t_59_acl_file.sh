# t_59_acl_file.sh: `acl blocked = client.ip in file "deny.txt"` with
# 100,000 networks (single addresses and /24s, IPv4 and IPv6, comments),
# compiled in; the client is taken from X-Forwarded-For (a trusted peer),
# so many addresses can be tried over loopback. Listed ones get 403 and
# never reach the server; others pass; the lookup does not slow a request.

python3 - "$AREA_DIR/deny.txt" <<'PY'
import random, sys
random.seed(11)
seen = set()
with open(sys.argv[1], "w") as f:
    f.write("# generated: 100,000 networks\n\n")
    f.write("203.0.113.0/24   # a documentation network\n198.51.100.7\n2001:db8:dead::/48\n")
    while len(seen) < 99997:
        a, b, c = random.randrange(1, 200), random.randrange(256), random.randrange(256)
        n = "%d.%d.%d.0/24" % (a, b, c) if random.random() < 0.5 else "%d.%d.%d.%d" % (a, b, c, random.randrange(256))
        if n not in seen and not n.startswith("127."):
            seen.add(n)
            f.write(n + "\n")
PY
start_origin a >/dev/null
t0=$EPOCHREALTIME
check "a policy with 100,000 networks from a file compiles" build_proxy aclfile '
listen :8080
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [127.0.0.1] }
acl blocked = client.ip in file "deny.txt"
route default { deny 403 "blocked" if blocked; proxy app }'
echo "# built in $(elapsed "$t0") s"
p=$(start_proxy aclfile -w 2)
u="http://127.0.0.1:$p"
from() { hcurl -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: $1" "$u/from/$1"; }
check_eq "listed: a /24 (any address in it), a single address, an IPv6 /48" \
    "$(from 203.0.113.1) $(from 203.0.113.254) $(from 198.51.100.7) $(from 2001:db8:dead:1::5)" \
    "403 403 403 403"
check_eq "not listed: the neighbours of the single address, other networks, loopback" \
    "$(from 198.51.100.6) $(from 198.51.100.8) $(from 203.0.114.1) $(from 2001:db8:beef::1) $(from 127.0.0.1)" \
    "200 200 200 200 200"
# the file's random entries: each line's first address is refused
mapfile -t listed < <(grep -E '^[0-9]' "$AREA_DIR/deny.txt" | sed -n '10p;5000p;50000p;99990p' | cut -d/ -f1)
codes=""
for ip in "${listed[@]}"; do codes="$codes$(from "$ip") "; done
check_eq "entries from all over the file are refused" "$codes" "403 403 403 403 "
check_eq "refused requests never reached the server" \
    "$(grep -cE 'GET /from/(203\.0\.113\.|198\.51\.100\.7 )' "$(origin_log a)")" 0
stop_proxy aclfile
