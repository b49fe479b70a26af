#!/usr/bin/env bash
# Smoke test of the built program (make smoke): serve the sample host from a temp dir, call every
# method through `bin/epa-orchestrator call` (one success and one error each, checked on exact
# values), the command-line views, the older one-shot protocol, SIGHUP, a second daemon on the
# same socket, then SIGTERM: exit 0, socket removed, state file holding the last change.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=./bin/epa-orchestrator
work=$(mktemp -d "${TMPDIR:-/tmp}/epa-smoke.XXXXXX")
socket=$work/epa.sock
log=$work/daemon.log
pid=

cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "smoke: FAILED: $*" >&2
  if [[ -s $log ]]; then
    echo "--- last lines of the daemon log:" >&2
    tail -n 20 "$log" >&2
  fi
  exit 1
}

# check LABEL JS-EXPRESSION: evaluates the expression with `r` = the JSON document on stdin.
check() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (!(eval(process.argv[1]))) { console.error(JSON.stringify(r)); process.exit(1); }
  ' "$2" || fail "$1: expected $2"
}

# ok METHOD JSON-PARAMS: a call that must succeed; prints its result.
ok() {
  local out
  out=$("$bin" call "$1" "$2" --socket "$socket") || fail "call $1 $2 exited $?"
  printf '%s\n' "$out"
}

# refused METHOD JSON-PARAMS CODE MESSAGE: a call that must exit 1 with that error code and message.
refused() {
  local rc=0
  "$bin" call "$1" "$2" --socket "$socket" >"$work/out" 2>"$work/err" || rc=$?
  [[ $rc -eq 1 ]] || fail "call $1 $2: exit $rc, expected 1"
  [[ ! -s $work/out ]] || fail "call $1 $2: printed a result on an error"
  grep -qF -- "error $3: $4" "$work/err" || fail "call $1 $2: expected \"error $3: $4\" on stderr, got: $(cat "$work/err")"
}

# The sample host, written by the same code the demo uses.
"$bin" demo --write-sample "$work/sysfs"
[[ -f $work/sysfs/devices/system/cpu/isolated ]] || fail "demo --write-sample wrote no sysfs tree"

"$bin" serve --socket "$socket" --state-dir "$work/state" --sysfs "$work/sysfs" --log-level debug 2>"$log" &
pid=$!
for _ in $(seq 100); do
  [[ -S $socket ]] && break
  kill -0 "$pid" 2>/dev/null || fail "the daemon exited before listening"
  sleep 0.1
done
[[ -S $socket ]] || fail "no socket at $socket after 10 s"

# get_topology
ok get_topology '{}' | check get_topology \
  'r.pool === "2-15,18-31" && r.online === "0-31" && r.numa_nodes.length === 2 && r.numa_nodes[1].cpus === "8-15,24-31"'
refused get_topology '{"verbose":true}' -32602 'Invalid params'

# allocate_cores: the placement example of docs/architecture.md
ok allocate_cores '{"service_name":"nova","num_of_cores":4}' | check allocate_cores \
  'r.allocated_cores === "2-3,18-19" && r.cores_allocated === 4 && r.shared_cpus === "4-15,20-31" && r.remaining_available_cpus === 24'
refused allocate_cores '{"service_name":"glance","num_of_cores":25}' -32002 \
  'Insufficient CPUs available. Requested: 25, Available: 24'

# allocate_cores_percent: ceil(28 * 10 / 100) = 3 CPUs, best fit on node 0, whole core first
ok allocate_cores_percent '{"service_name":"cinder","percent":10}' | check allocate_cores_percent \
  'r.cores_allocated_count === 3 && r.allocated_cores === "4-5,20" && r.remaining_available_cpus === 21'
refused allocate_cores_percent '{"service_name":"cinder","percent":101}' -32602 'Invalid params'

# allocate_numa_cores
ok allocate_numa_cores '{"service_name":"ovs","numa_node":1,"num_of_cores":2}' | check allocate_numa_cores \
  'r.cores_allocated === "8,24" && r.preempted.length === 0 && r.remaining_available_cpus === 19'
refused allocate_numa_cores '{"service_name":"ovs","numa_node":7,"num_of_cores":2}' -32003 'NUMA node 7 does not exist'

# explicitly_allocate_cores: 8 is ovs's explicit CPU, 9 and 25 are free
ok explicitly_allocate_cores '{"service_name":"pmd","cores_requested":"8-9,25"}' | check explicitly_allocate_cores \
  'r.cores_allocated === "9,25" && r.cores_rejected === "8" && r.remaining_available_cpus === 17'
refused explicitly_allocate_cores '{"service_name":"pmd2","cores_requested":"0-1"}' -32002 \
  'Failed to allocate requested explicit cores; conflicts with existing explicit allocations: 0-1'
ok release_service '{"service_name":"pmd"}' | check release_service 'r.released_cores === "9,25"'

# get_nova_config
ok get_nova_config '{"service_name":"nova"}' | check get_nova_config 'r.cpu_dedicated_set === "2-3,18-19"'
refused get_nova_config '{"service_name":"nova","pool":"general"}' -32009 'CPU pool general does not exist'

# allocate_hugepages
ok allocate_hugepages '{"service_name":"ovs","node_id":0,"size_kb":2048,"hugepages_requested":16}' | check allocate_hugepages \
  'r.allocation_successful === true && r.hugepages_requested === 16 && r.node_id === 0 && r.size_kb === 2048'
refused allocate_hugepages '{"service_name":"ovs","node_id":0,"size_kb":4096,"hugepages_requested":1}' -32005 \
  'Hugepage size 4096 KB not found on node 0'

# get_memory_info
ok get_memory_info '{}' | check get_memory_info \
  'r.service_name === "" && r.numa_hugepages.node0.allocations.ovs["2048"] === 16 &&
   JSON.stringify(r.numa_hugepages.node0.capacity[0]) === JSON.stringify({size: 2048, total: 512, free: 496, free_kernel: 512, reserved: 16})'
refused get_memory_info '{"service_name":"not a name"}' -32602 'Invalid params'

# release_service
ok release_service '{"service_name":"cinder"}' | check release_service \
  'r.released_cores === "4-5,20" && r.released_hugepages.length === 0'
refused release_service '{}' -32602 'Invalid params'

# list_allocations accepts any params (older clients send service_name), so its error is a
# misspelt method name
ok list_allocations '{"service_name":"anyone"}' | check list_allocations \
  'r.total_allocations === 2 && r.allocations.map((a) => a.service_name).join() === "nova,ovs" &&
   r.allocations[1].explicit_cores === "8,24" && r.allocations[1].hugepages[0].count === 16'
refused list_allocation '{}' -32601 'Method not found'

# rpc.discover
ok rpc.discover '{}' | check rpc.discover \
  'typeof r.openrpc === "string" && r.methods.some((m) => m.name === "allocate_numa_cores")'
refused rpc.discover '{"verbose":true}' -32602 'Invalid params'

# params that are not a JSON object are a usage error (exit 2) and reach no daemon
rc=0
"$bin" call list_allocations '{"service_name":' --socket "$socket" 2>"$work/err" || rc=$?
[[ $rc -eq 2 ]] || fail "call with bad JSON-PARAMS: exit $rc, expected 2"
grep -q 'not valid JSON' "$work/err" || fail "call with bad JSON-PARAMS: no clear message: $(cat "$work/err")"

# The views
"$bin" status --socket "$socket" >"$work/out" || fail "status exited $?"
grep -Eq '^nova +isolated +legacy +prefer +2-3,18-19 \(4\)' "$work/out" || fail "status: no row for nova: $(cat "$work/out")"
"$bin" status --json --socket "$socket" | check "status --json" \
  'r.list_allocations.isolated.total_allocations === 2 && r.get_topology.pool === "2-15,18-31"'
"$bin" topology --socket "$socket" >"$work/out" || fail "topology exited $?"
grep -q 'node 1: 8,24  9,25' "$work/out" || fail "topology: no core list of node 1: $(cat "$work/out")"
"$bin" memory --socket "$socket" >"$work/out" || fail "memory exited $?"
grep -Eq '^0 +2 MiB +512 +16 +496 +512 +ovs 16$' "$work/out" || fail "memory: no row for node 0, 2 MiB: $(cat "$work/out")"

# The older one-shot protocol: one object without a newline, the reply on the same connection
legacy() {
  node -e '
    const socket = require("net").createConnection(process.argv[1]);
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(process.argv[2]));
    socket.on("data", (chunk) => { reply += chunk; if (reply.endsWith("\n")) { process.stdout.write(reply); socket.destroy(); } });
    socket.on("error", (error) => { console.error(error.message); process.exit(1); });
    setTimeout(() => { console.error("no reply in 5 s"); process.exit(1); }, 5000).unref();
  ' "$socket" "$1" || fail "one-shot request $1 got no reply"
}
legacy '{"version":"1.0","action":"list_allocations","service_name":"x"}' | check "one-shot list_allocations" \
  'r.version === "1.0" && r.jsonrpc === undefined && r.total_allocations === 2 && r.allocations[0].allocated_cores === "2-3,18-19"'
legacy '{"version":"1.0","action":"reboot","service_name":"x"}' | check "one-shot unknown action" \
  'r.version === "1.0" && r.error === "Unknown action: reboot"'

# SIGHUP re-reads the topology and the daemon keeps serving
kill -HUP "$pid"
for _ in $(seq 50); do grep -q 'topology reloaded' "$log" && break; sleep 0.1; done
grep -q 'topology reloaded' "$log" || fail "SIGHUP: no reload in the log"

# A second daemon on the same socket is refused and touches nothing
rc=0
"$bin" serve --socket "$socket" --state-dir "$work/state2" --sysfs "$work/sysfs" 2>"$work/err" || rc=$?
[[ $rc -eq 1 ]] || fail "second serve on the same socket: exit $rc, expected 1"
grep -qF "$socket" "$work/err" || fail "second serve: the message does not name the socket: $(cat "$work/err")"
[[ -S $socket ]] || fail "second serve removed the first daemon's socket"

# The last change: that example again, nova grows from 4 to 6 CPUs and keeps its own
ok allocate_cores '{"service_name":"nova","num_of_cores":6}' | check "allocate_cores again" 'r.allocated_cores === "2-4,18-20"'

# SIGTERM: exit 0, socket removed, the last change on disk
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[[ $rc -eq 0 ]] || fail "the daemon exited $rc on SIGTERM, expected 0"
[[ ! -e $socket ]] || fail "the socket file is still there after SIGTERM"
check "state.json" 'r.allocations_db.allocations.nova === "2-4,18-20" && r.allocations_db.explicit_allocations.ovs === "8,24" &&
  r.hugepages_db.allocations.ovs[0].count === 16 && r.allocations_db.allocations.cinder === undefined' <"$work/state/state.json"

echo "smoke: ok"
