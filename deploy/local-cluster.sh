#!/usr/bin/env bash
# deploy/local-cluster.sh REPLICAS PORT
#
# haproxy on 127.0.0.1:PORT in front of REPLICAS single-worker `hvkg serve` replicas on 127.0.0.1:PORT+1 …
# PORT+REPLICAS, in the foreground, until SIGTERM or Ctrl-C, which stop them all (the replicas finish their
# requests in flight). A replica that ends otherwise (a crash, `kill -9`, rolling-restart.sh's SIGTERM) is
# started again, as a process manager (systemd's Restart=always) would. SIGHUP reloads every replica's data
# (`hvkg reload` of each). What the tests and bench/scaleout.py run.
#
#   deploy/local-cluster.sh --config REPLICAS PORT   prints the haproxy configuration it would run, and exits
#
# Environment: HVKG (the hvkg command: `hvkg` on PATH, else the checkout's .venv/bin/hvkg), HAPROXY (haproxy),
# PYTHON (python3, which talks to haproxy's runtime API when socat is not installed),
# HVKG_CLUSTER_DIR (where the generated configuration, the runtime API's socket haproxy.sock, the pid files
# haproxy.pid and replicaN.pid and the logs haproxy.log, replicaN.log go; default: a new temporary folder,
# removed at exit),
# and every HVKG_* variable of the service (docs/operations.md), which each replica inherits.
#
# haproxy を 127.0.0.1:PORT で、単一ワーカーの `hvkg serve` レプリカ REPLICAS 個を 127.0.0.1:PORT+1 … に
# フォアグラウンドで起動します。SIGTERM または Ctrl-C ですべて停止します(処理中のリクエストは完了させます)。
# それ以外で終了したレプリカ(クラッシュ、kill -9、rolling-restart.sh の SIGTERM)は再起動します。
# SIGHUP で全レプリカのデータを再読み込みします。
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")

say() { printf 'local-cluster: %s\n' "$*" >&2; }
fail() {
  say "error: $1"
  printf 'local-cluster: エラー: %s\n' "$2" >&2
  exit 2
}
usage() {
  fail "usage: $0 [--config] REPLICAS PORT (REPLICAS 1-64; PORT and the next REPLICAS ports free on 127.0.0.1)" \
    "使い方: $0 [--config] レプリカ数 ポート (レプリカ数は 1〜64、ポートとそれに続くレプリカ数分のポートが空いていること)"
}

print_only=0
if [ "${1:-}" = --config ]; then
  print_only=1
  shift
fi
[ "$#" -eq 2 ] || usage
replicas=$1
port=$2
[[ $replicas =~ ^[1-9][0-9]*$ && $port =~ ^[1-9][0-9]*$ ]] || usage
if ((replicas < 1 || replicas > 64 || port < 1 || port + replicas > 65535)); then usage; fi

# The configuration: deploy/haproxy.cfg, whose last section is the backend, and one server line per replica.
config() {
  cat "$here/haproxy.cfg"
  local i
  for ((i = 1; i <= replicas; i++)); do
    printf '    server replica%d 127.0.0.1:%d\n' "$i" $((port + i))
  done
}
if [ "$print_only" = 1 ]; then
  config
  exit 0
fi

haproxy_bin=${HAPROXY:-haproxy}
command -v "$haproxy_bin" >/dev/null ||
  fail "haproxy is not installed (Debian: apt-get install haproxy; make haproxy)" \
    "haproxy がありません(Debian: apt-get install haproxy、または make haproxy)"
hvkg=${HVKG:-}
if [ -z "$hvkg" ]; then
  hvkg=$(command -v hvkg || true)
  [ -n "$hvkg" ] || hvkg=$root/.venv/bin/hvkg
fi
[ -x "$hvkg" ] || fail "no hvkg command at $hvkg (set HVKG, or run make venv)" \
  "$hvkg に hvkg コマンドがありません(HVKG を設定するか make venv を実行してください)"

# A port already taken would leave a replica failing to start, again and again: refuse at once instead.
for ((p = port; p <= port + replicas; p++)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    fail "port $p on 127.0.0.1 is in use" "127.0.0.1 のポート $p は使用中です"
  fi
done

if [ -n "${HVKG_CLUSTER_DIR:-}" ]; then
  dir=$HVKG_CLUSTER_DIR
  mkdir -p "$dir"
  rm -f "$dir/ready" "$dir"/replica*.pid
  keep_dir=1
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/hvkg-cluster-XXXXXX")
  keep_dir=0
fi
config >"$dir/haproxy.cfg"

# Each replica under a small supervisor: started again whenever it ends, until the cluster stops.
supervise() {
  local i=$1 child='' started rc
  local stopping=0
  trap 'stopping=1; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || true' TERM
  while [ "$stopping" = 0 ]; do
    started=$SECONDS
    HVKG_PID_FILE="$dir/replica$i.pid" "$hvkg" serve --host 127.0.0.1 --port $((port + i)) \
      >>"$dir/replica$i.log" 2>&1 &
    child=$!
    rc=0
    wait "$child" || rc=$?
    # the trap interrupts `wait`: wait again until the replica has finished its requests and exited
    while [ "$stopping" = 1 ] && kill -0 "$child" 2>/dev/null; do wait "$child" 2>/dev/null || true; done
    [ "$stopping" = 0 ] || break
    say "replica$i (pid $child) ended with status $rc; starting it again / replica$i が終了したため再起動します"
    # one that cannot start (a broken configuration) is retried once a second, not in a busy loop
    if [ $((SECONDS - started)) -lt 2 ]; then sleep 1; fi
  done
}

# haproxy's runtime API (its answer on standard output): socat when installed, else Python's standard library
# ($PYTHON, default python3).
admin() {
  if command -v socat >/dev/null; then
    printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$dir/haproxy.sock"
    return
  fi
  "${PYTHON:-python3}" -c '
import socket, sys
with socket.socket(socket.AF_UNIX) as s:
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    while chunk := s.recv(65536):
        sys.stdout.write(chunk.decode())
' "$dir/haproxy.sock" "$1"
}
# Ready once haproxy counts every replica UP: each answered /healthz with 200 twice (haproxy.cfg's checks).
announce() {
  until [ "$(admin "show stat" 2>/dev/null | awk -F, '
      NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
      $1 == "hvkg" && $2 ~ /^replica/ && $(col["status"]) == "UP" { up++ }
      END { print up + 0 }')" = "$replicas" ]; do
    sleep 0.2
  done
  : >"$dir/ready"
  say "$replicas replica(s) serving behind http://127.0.0.1:$port (files in $dir)"
  say "$replicas 個のレプリカが http://127.0.0.1:$port で応答しています"
}

pids=()
haproxy_pid=''
status=0
stopping=0
stop() {
  trap '' TERM INT HUP
  stopping=1
  say "stopping haproxy and $replicas replica(s) / 停止します"
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  # SIGUSR1: haproxy's soft stop (its master passes it on): no new connection, requests in flight finish
  [ -z "$haproxy_pid" ] || kill -USR1 "$haproxy_pid" 2>/dev/null || true
  for p in "${pids[@]}" $haproxy_pid; do wait "$p" 2>/dev/null || true; done
  rm -f "$dir/ready" "$dir/haproxy.sock" "$dir/haproxy.pid"
  if [ "$keep_dir" = 0 ]; then rm -rf "$dir"; fi
  exit "$status"
}
reload() {
  local i pid
  for ((i = 1; i <= replicas; i++)); do
    pid=$(cat "$dir/replica$i.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then kill -HUP "$pid" 2>/dev/null || true; fi
  done
  say "reload asked of every replica / 全レプリカに再読み込みを要求しました"
}
trap stop TERM INT
trap reload HUP

# -W: master-worker mode, so that `kill -USR2` of the master reloads haproxy's configuration without a gap;
# -db: in the foreground.
HVKG_LB_BIND=127.0.0.1:$port HVKG_LB_SOCKET=$dir/haproxy.sock \
  "$haproxy_bin" -W -db -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1 &
haproxy_pid=$!
echo "$haproxy_pid" >"$dir/haproxy.pid" # kill -USR2 reloads haproxy (its configuration, without a gap)
for ((i = 1; i <= replicas; i++)); do
  supervise "$i" &
  pids+=("$!")
done
announce &
pids+=("$!")
say "starting haproxy on 127.0.0.1:$port and $replicas replica(s) on ports $((port + 1))-$((port + replicas))"

while [ "$stopping" = 0 ]; do
  wait "$haproxy_pid" || true
  # `wait` also returns for SIGHUP; haproxy itself gone means the cluster cannot serve
  if [ "$stopping" = 0 ] && ! kill -0 "$haproxy_pid" 2>/dev/null; then
    say "haproxy ended (see $dir/haproxy.log); stopping / haproxy が終了したため停止します"
    tail -n 20 "$dir/haproxy.log" >&2 || true
    status=1
    haproxy_pid=''
    stop
  fi
done
