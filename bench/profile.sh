#!/usr/bin/env bash
# Profiles the release gridlite daemon under one workload with perf (cpu-clock sampling; this
# machine's perf has no hardware counters) and prints the hottest symbols.
#
#   bench/profile.sh {upload|download|small|bigbucket} [repeat]      (after `make bench` built it)
set -euo pipefail
what=${1:?workload}; repeat=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/gridlite-profile-XXXX)
port=$("$root/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$root/.build/release/gridlite" serve --port "$port" --data-dir "$work/data" --log-level warning >"$work/log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
sleep 1
coproc DRIVER { "$root/.venv/bin/python" "$root/bench/profile_workload.py" "mongodb://127.0.0.1:$port/" "$what" "$repeat"; }
read -r line <&"${DRIVER[0]}"   # "ready": setup done
perf record -F 999 --call-graph dwarf,32768 -o "$work/perf.data" -p "$daemon" 2>"$work/perf.log" &
perf_pid=$!
sleep 0.5
echo go >&"${DRIVER[1]}"
while read -r line <&"${DRIVER[0]}"; do echo "$line"; done
kill -INT $perf_pid; wait $perf_pid || true
echo "VmHWM: $(grep VmHWM /proc/$daemon/status)"
perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40
echo "perf data: $work/perf.data (perf report -i $work/perf.data --children)"
