#!/usr/bin/env bash
# deploy/rolling-restart.sh: restart every replica behind haproxy, one at a time, losing no request.
#
#   deploy/rolling-restart.sh --cluster DIR
#       the replicas of deploy/local-cluster.sh whose files are in DIR (its HVKG_CLUSTER_DIR)
#   deploy/rolling-restart.sh --socket PATH --restart COMMAND [--backend hvkg] [--timeout 120] [--drain-timeout 40]
#       any haproxy running deploy/haproxy.cfg: PATH is its runtime API (HVKG_LB_SOCKET), COMMAND restarts one
#       replica, run by bash with HVKG_SERVER (the server's name in haproxy) and HVKG_SERVER_ADDRESS (host:port)
#       set; it must return once the old process has stopped (as `systemctl restart` and `docker restart` do),
#       e.g. --restart 'systemctl restart "hvkg@${HVKG_SERVER}"'
#
# For each server of the backend, in order:
#   1. drain: haproxy sends it no new request; wait until it has none in flight (at most --drain-timeout s);
#   2. maintenance (haproxy stops checking it), then restart it;
#   3. wait until the new process answers /healthz with 200 (at most --timeout s; it loads its snapshot first);
#   4. ready: haproxy sends it requests again; wait until haproxy counts it UP.
# A replica that does not come back stops the script (exit 1) and stays in maintenance, so that the next one
# is not taken down as well. Interrupted while a replica is drained, the script puts it back (ready).
#
# haproxy の配下のレプリカを一つずつ再起動します(切り離し→処理中のリクエストの完了待ち→再起動→/healthz が
# 200 になるまで待機→復帰)。戻らないレプリカがあれば、そのレプリカをメンテナンス状態のまま終了コード 1 で止まります。
set -euo pipefail

say() { printf 'rolling-restart: %s\n' "$*" >&2; }
fail() {
  say "error: $1"
  printf 'rolling-restart: エラー: %s\n' "$2" >&2
  exit "${3:-2}"
}
usage() {
  fail "usage: $0 --cluster DIR | --socket PATH --restart COMMAND [--backend NAME] [--timeout S] [--drain-timeout S]" \
    "使い方: $0 --cluster DIR | --socket PATH --restart COMMAND [--backend NAME] [--timeout 秒] [--drain-timeout 秒]"
}

cluster='' socket='' restart='' backend=hvkg timeout=120 drain_timeout=40
while [ "$#" -gt 0 ]; do
  [ "$#" -ge 2 ] || usage
  case $1 in
    --cluster) cluster=$2 ;;
    --socket) socket=$2 ;;
    --restart) restart=$2 ;;
    --backend) backend=$2 ;;
    --timeout) timeout=$2 ;;
    --drain-timeout) drain_timeout=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $timeout =~ ^[0-9]+$ && $drain_timeout =~ ^[0-9]+$ ]] || usage
if [ -n "$cluster" ]; then
  [ -z "$restart" ] || usage
  socket=${socket:-$cluster/haproxy.sock}
elif [ -z "$socket" ] || [ -z "$restart" ]; then
  usage
fi
command -v curl >/dev/null || fail "curl is needed (Debian: apt-get install curl)" "curl が必要です(Debian: apt-get install curl)"
[ -S "$socket" ] || fail "no haproxy runtime API socket at $socket" "$socket に haproxy のソケットがありません"

# One command to haproxy's runtime API, its answer on standard output. socat when installed, else Python's
# standard library ($PYTHON, default python3: the service's own interpreter is on every machine that runs it).
admin() {
  if command -v socat >/dev/null; then
    printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$socket"
  else
    "${PYTHON:-python3}" -c '
import socket, sys
with socket.socket(socket.AF_UNIX) as s:
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(sys.argv[2].encode() + b"\n")
    while chunk := s.recv(65536):
        sys.stdout.write(chunk.decode())
' "$socket" "$1"
  fi
}

# Fields of one server's row in `show stat`, space-separated (CSV columns found by the header's names: they
# differ between versions); a field haproxy leaves empty prints as "-".
stat_fields() {
  local server=$1
  shift
  admin "show stat" | awk -F, -v be="$backend" -v sv="$server" -v want="$*" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == be && $2 == sv {
      n = split(want, names, " ")
      for (i = 1; i <= n; i++) { v = $(col[names[i]]); printf "%s%s", (v == "" ? "-" : v), (i < n ? " " : "\n") }
      exit
    }'
}

# Set a server's state; haproxy answers nothing when it is done, else the reason.
set_state() {
  local answer
  answer=$(admin "set server $backend/$1 state $2")
  [ -z "${answer//[[:space:]]/}" ] || fail "haproxy refused 'set server $backend/$1 state $2': $answer" \
    "haproxy が 'set server $backend/$1 state $2' を拒否しました: $answer" 1
}

http_status() { # URL -> the status code, 000 when nothing answers
  curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$1" 2>/dev/null || echo 000
}

# The replica restart of --cluster: SIGTERM to the pid in its pid file (it finishes its requests), then wait
# for it to end; local-cluster.sh starts it again.
restart_in_cluster() {
  local pid
  pid=$(cat "$cluster/$HVKG_SERVER.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || fail "no pid file $cluster/$HVKG_SERVER.pid" "$cluster/$HVKG_SERVER.pid がありません" 1
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + drain_timeout))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$HVKG_SERVER (pid $pid) did not stop" \
      "$HVKG_SERVER (pid $pid) が停止しません" 1
    sleep 0.1
  done
}

drained='' restarting=''
on_interrupt() {
  if [ -n "$drained" ]; then
    say "interrupted: $drained set ready again / 中断: $drained を復帰させます"
    admin "set server $backend/$drained state ready" >/dev/null || true
  elif [ -n "$restarting" ]; then
    say "interrupted while $restarting restarts: left in maintenance; once it answers /healthz with 200:" \
      "set server $backend/$restarting state ready / 中断: $restarting はメンテナンス状態のままです"
  fi
  exit 130
}
trap on_interrupt INT TERM

servers=$(admin "show stat" | awk -F, -v be="$backend" '$1 == be && $2 != "FRONTEND" && $2 != "BACKEND" { print $2 }')
[ -n "$servers" ] || fail "backend $backend has no server" "バックエンド $backend にサーバーがありません"

for server in $servers; do
  read -r address status <<<"$(stat_fields "$server" addr status)"
  if [ "$address" = - ] || [[ $status == MAINT* ]]; then
    say "$server: $status, no address or in maintenance: left as it is / そのままにします"
    continue
  fi
  say "$server ($address): draining / 切り離し中"
  drained=$server
  set_state "$server" drain
  deadline=$((SECONDS + drain_timeout))
  # requests in flight on the server, and those queued for it
  while read -r scur qcur <<<"$(stat_fields "$server" scur qcur)" && [ $((${scur//-/0} + ${qcur//-/0})) -gt 0 ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "$server: still busy after ${drain_timeout}s; restarting anyway (it finishes them as it stops)"
      break
    fi
    sleep 0.1
  done
  set_state "$server" maint
  drained='' restarting=$server
  say "$server: restarting / 再起動中"
  export HVKG_SERVER=$server HVKG_SERVER_ADDRESS=$address
  if [ -n "$cluster" ]; then
    restart_in_cluster
  else
    bash -c "$restart" || fail "the restart command failed for $server (left in maintenance)" \
      "$server の再起動コマンドが失敗しました(メンテナンス状態のままです)" 1
  fi
  deadline=$((SECONDS + timeout))
  until [ "$(http_status "http://$address/healthz")" = 200 ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$server did not answer /healthz with 200 within ${timeout}s (left in maintenance)" \
      "$server が ${timeout} 秒以内に /healthz に 200 を返しませんでした(メンテナンス状態のままです)" 1
    sleep 0.2
  done
  set_state "$server" ready
  restarting=''
  until [[ $(stat_fields "$server" status) == @(UP*|no check) ]]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "haproxy does not count $server UP" "haproxy が $server を UP としません" 1
    sleep 0.1
  done
  say "$server: serving again / 復帰しました"
done
say "every replica restarted / すべてのレプリカを再起動しました"
