# t_67_forwarded.sh: client identity. What a client claims about its
# address (X-Forwarded-For, X-Real-IP, Forwarded, X-Forwarded-Proto/-Host)
# is replaced unless its peer is a trusted proxy; from a trusted one the
# chain is kept and extended, and client.ip is the last untrusted hop it
# names, for routes and acls as for the server's fields.

start_origin a >/dev/null
spoof=(-H 'Host: site.test' -H 'X-Forwarded-For: 1.2.3.4' -H 'X-Real-IP: 6.6.6.6'
    -H 'Forwarded: for=6.6.6.6' -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: evil.test')
# seen PORT [curl args]: the request head the server received.
seen() { local port=$1; shift; hcurl "$@" "http://127.0.0.1:$port/headers" | tr -d '\r'; }

# ---- defaults: X-Forwarded-For, -Proto; nobody trusted ---------------------------------
check "forwarded defaults policy compiles" build_proxy fwd_default '
listen :8080
backend app { server a 127.0.0.1:@a@ }
route default { proxy app }'
p=$(start_proxy fwd_default -w 1)
head=$(seen "$p" "${spoof[@]}")
check_eq "defaults: one X-Forwarded-For, the peer's address" \
    "$(grep -i '^x-forwarded-for:' <<<"$head")" "X-Forwarded-For: 127.0.0.1"
check_eq "defaults: X-Forwarded-Proto is the proxy's" \
    "$(grep -i '^x-forwarded-proto:' <<<"$head")" "X-Forwarded-Proto: http"
check_eq "defaults: the client's X-Forwarded-Host, X-Real-IP and Forwarded do not reach the server" \
    "$(grep -ciE '^(x-forwarded-host|x-real-ip|forwarded):' <<<"$head")" 0
check_match "defaults: the request's Host goes on unchanged" "$head" $'\nHost: site.test'
check_match "defaults: other fields pass" "$(seen "$p" -H 'X-Other: kept')" $'\nX-Other: kept'
check "proxy 'fwd_default' stops on SIGTERM with exit 0" stop_proxy fwd_default

# ---- a trusted balancer in front: the chain is kept ------------------------------------
check "trusted policy compiles" build_proxy fwd_trusted '
listen :8080
backend app { server a 127.0.0.1:@a@ }
forwarded {
    trusted [127.0.0.0/8]
    send [x-forwarded-for, x-forwarded-proto, x-forwarded-host, x-real-ip, forwarded]
}
route path "/headers" { proxy app }
route if client.ip in [203.0.113.0/24] { respond 200 "office" }
route default { respond 200 "elsewhere" }'
p=$(start_proxy fwd_trusted -w 1)
head=$(seen "$p" "${spoof[@]}")
check_eq "trusted: X-Forwarded-For extended with the peer" \
    "$(grep -i '^x-forwarded-for:' <<<"$head")" "X-Forwarded-For: 1.2.3.4, 127.0.0.1"
check_eq "trusted: X-Real-IP is the client the chain names" \
    "$(grep -i '^x-real-ip:' <<<"$head")" "X-Real-IP: 1.2.3.4"
check_eq "trusted: Forwarded extended with this hop" \
    "$(grep -i '^forwarded:' <<<"$head")" 'Forwarded: for=6.6.6.6, for=127.0.0.1;host="site.test";proto=http'
check_eq "trusted: the first hop's X-Forwarded-Proto is kept" \
    "$(grep -i '^x-forwarded-proto:' <<<"$head")" "X-Forwarded-Proto: https"
check_eq "trusted: ... and its X-Forwarded-Host" \
    "$(grep -i '^x-forwarded-host:' <<<"$head")" "X-Forwarded-Host: evil.test"
route() { hcurl -H "X-Forwarded-For: $1" "http://127.0.0.1:$p/x"; }
check_eq "client.ip: the address the trusted peer names" "$(route 203.0.113.7)" office
check_eq "client.ip: another client" "$(route 198.51.100.1)" elsewhere
check_eq "client.ip: trusted hops in the chain are skipped" "$(route '203.0.113.7, 127.0.0.9')" office
check_eq "client.ip: the last untrusted hop, not the first" \
    "$(route '203.0.113.7, 198.51.100.1')" elsewhere
check_eq "client.ip: a malformed entry stops the walk" "$(route '203.0.113.7, bogus, 127.0.0.9')" elsewhere
check_eq "client.ip: several fields are one list" \
    "$(hcurl -H 'X-Forwarded-For: 198.51.100.1' -H 'X-Forwarded-For: 203.0.113.7' "http://127.0.0.1:$p/x")" office
check_eq "client.ip: no chain, the peer" "$(hcurl "http://127.0.0.1:$p/x")" elsewhere
check "proxy 'fwd_trusted' stops on SIGTERM with exit 0" stop_proxy fwd_trusted

# ---- an untrusted peer, nothing sent: claims are dropped, none added -------------------
check "untrusted policy compiles" build_proxy fwd_none '
listen :8080
backend app { server a 127.0.0.1:@a@ }
forwarded { trusted [10.0.0.0/8]; send [] }
route path "/headers" { proxy app }
route if client.ip in [1.2.3.0/24] { respond 200 "spoofed" }
route default { respond 200 "honest" }'
p=$(start_proxy fwd_none -w 1)
head=$(seen "$p" "${spoof[@]}")
check_eq "untrusted: no forwarding field reaches the server" \
    "$(grep -ciE '^(x-forwarded-[a-z]+|x-real-ip|forwarded):' <<<"$head")" 0
check_eq "untrusted: client.ip is the peer, whatever the client claims" \
    "$(hcurl -H 'X-Forwarded-For: 1.2.3.4' "http://127.0.0.1:$p/x")" honest
check "proxy 'fwd_none' stops on SIGTERM with exit 0" stop_proxy fwd_none
