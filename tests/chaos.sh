#!/usr/bin/env bash
# chaos.sh BUILD_DIR: the e2e areas that send every shape of request and
# response through the proxy (proxying, large bodies, connections,
# smuggling corpus, timeouts, HTTP semantics, tunnels, TLS, HTTP/2), with every proxy
# connection on the chaos transport (runtime/transport.h): short reads and
# writes and spurious EAGAIN at points drawn from RPX_CHAOS_SEED. The
# checks are the same byte-exact ones, so passing them proves the state
# machines do not depend on how the bytes are cut.
#
#   RPX_CHAOS_SEED=N   the seed (default 1); a failure names it to replay
#   E2E_ONLY=GLOB      other areas (tests/e2e/run.sh), e.g. 't_*' for all
set -u
cd "$(dirname "$0")/.."
export RPX_CHAOS_SEED=${RPX_CHAOS_SEED:-1}
export E2E_ONLY=${E2E_ONLY:-'t_@(20|40|45|50|75|76|77|80|85|90|95)*'}
echo "# chaos transport: RPX_CHAOS_SEED=$RPX_CHAOS_SEED E2E_ONLY='$E2E_ONLY' (set both to replay)"
exec tests/e2e/run.sh "${1:?usage: tests/chaos.sh BUILD_DIR}"
