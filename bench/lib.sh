# bench/lib.sh: shared by bench/*.sh (sourced, not run).
#
# What it gives a benchmark script:
#   bench_init NAME         temp dir, results dir, traps; reads ROUNDS / DURATION / ...
#   ensure_peers [what...]  installs missing load generators (Debian, npm) and builds tide
#   nginx_start             a private nginx (worker_processes 1) pinned to SERVER_CPU,
#                           listening on 127.0.0.1 only; sets HOST and PORT, and HTTPS_HOST
#                           (the same routes over TLS, self-signed certificate)
#   bench_run CASE TOOL KIND -- CMD...
#                           one timed run of CMD pinned to GEN_CPU (PIN=0 leaves it unpinned),
#                           appended as one JSON line to $RESULTS/results.jsonl
#   have TOOL               whether a peer is usable (wrk, ab, autocannon, locust)
#
# Environment (all optional):
#   ROUNDS=3           rounds; in each round every (case, tool) runs once, in the same order
#   DURATION=10s       length of each run (seconds, "Ns")
#   SERVER_CPU=0       core for nginx;  GEN_CPU=1  core for the load generator
#   QUIET_WAIT=10      before a run, wait up to this many seconds for other processes on the
#                      machine to go quiet (0: do not wait)
#   NOISE_MAX=10       "quiet" means other processes use less than this % of one core
#   RESULTS=DIR        where raw outputs and results.jsonl go (default bench/results/NAME-DATE)
#   TIDE=PATH          the tide binary (default build/tide, built if missing)
#   NO_INSTALL=1       never install anything; missing peers are skipped

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
TIDE="${TIDE:-$ROOT/build/tide}"
ROUNDS="${ROUNDS:-3}"
SERVER_CPU="${SERVER_CPU:-0}"
GEN_CPU="${GEN_CPU:-1}"
QUIET_WAIT="${QUIET_WAIT:-10}"
NOISE_MAX="${NOISE_MAX:-10}"
AUTOCANNON="$BENCH/node_modules/autocannon/autocannon.js"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# "10s" -> 10 (the harness accepts whole seconds only, as ab and autocannon do)
dur_s() {
  local d="${1%s}"
  [[ "$d" =~ ^[0-9]+$ ]] || die "DURATION must be whole seconds like 10s (got '$1')"
  echo "$d"
}

bench_init() {
  local name="$1"
  DURATION="${DURATION:-10s}"
  DUR_S="$(dur_s "$DURATION")"
  RESULTS="${RESULTS:-$BENCH/results/$name-$(date +%Y%m%d-%H%M%S)}"
  mkdir -p "$RESULTS/raw"
  WORK="$(mktemp -d /tmp/tide-bench.XXXXXX)"
  chmod 755 "$WORK" # nginx's worker runs as nobody and serves /10k from below it
  NGINX_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  [ "$(nproc)" -ge 2 ] || log "warning: fewer than 2 cores; server and generator share a core"
  log "$name: ROUNDS=$ROUNDS DURATION=$DURATION server on cpu $SERVER_CPU, generators on cpu $GEN_CPU"
  log "raw outputs: $RESULTS"
}

bench_cleanup() {
  if [ -n "${NGINX_PID:-}" ] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
  fi
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
}

# --- peers ---------------------------------------------------------------------------

deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
deb_available() {
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -qv '(none)'
}

install_debs() {
  local missing=() p
  for p in "$@"; do deb_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "${NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages (not installing): ${missing[*]}"
    return 0
  fi
  local avail=()
  for p in "${missing[@]}"; do
    if deb_available "$p"; then avail+=("$p"); else
      apt-get update -qq >/dev/null 2>&1 || true
      if deb_available "$p"; then avail+=("$p"); else log "Debian has no package $p: skipped"; fi
    fi
  done
  [ "${#avail[@]}" -eq 0 ] && return 0
  log "installing from Debian: ${avail[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${avail[@]}" \
    >"$WORK/apt.log" 2>&1 || { log "apt-get install failed (see below)"; tail -5 "$WORK/apt.log" >&2; }
  # the Debian nginx package starts a system nginx on :80; we run our own, so stop that one
  if [[ " ${avail[*]} " == *" nginx"* ]] && [ -f /run/nginx.pid ]; then
    nginx -s quit >/dev/null 2>&1 || true
  fi
}

ensure_autocannon() {
  [ -f "$AUTOCANNON" ] && return 0
  [ "${NO_INSTALL:-0}" = 1 ] && { log "autocannon missing (NO_INSTALL=1): skipped"; return 0; }
  command -v npm >/dev/null || install_debs npm
  command -v npm >/dev/null || { log "no npm: autocannon skipped"; return 0; }
  log "installing autocannon from npm into bench/node_modules"
  (cd "$BENCH" && npm install --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1) ||
    { log "npm install failed:"; tail -5 "$WORK/npm.log" >&2; }
}

ensure_tide() {
  if [ ! -x "$TIDE" ]; then
    log "building tide (RelWithDebInfo)"
    (cd "$ROOT" && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
      cmake --build build -j2 --target tide >/dev/null) || die "tide build failed"
  fi
  # run a private copy, so a rebuild of build/tide during the benchmark changes nothing
  cp "$TIDE" "$WORK/tide" && TIDE="$WORK/tide"
  "$TIDE" version >/dev/null 2>&1 || die "$TIDE does not run"
}

# ensure_peers [wrk] [ab] [autocannon] [locust]: nginx, GNU time and tide always
ensure_peers() {
  local debs=(nginx-light time) w
  for w in "$@"; do
    case "$w" in
      wrk) debs+=(wrk) ;;
      ab) debs+=(apache2-utils) ;;
      locust) debs+=(python3-locust) ;;
      wrk2) debs+=(wrk2) ;;
    esac
  done
  install_debs "${debs[@]}"
  for w in "$@"; do [ "$w" = autocannon ] && ensure_autocannon; done
  ensure_tide
  command -v nginx >/dev/null || die "nginx is required (Debian package nginx-light)"
  [ -x /usr/bin/time ] || die "GNU time is required (Debian package time)"
}

have() {
  case "$1" in
    wrk) command -v wrk >/dev/null ;;
    wrk2) command -v wrk2 >/dev/null ;;
    ab) command -v ab >/dev/null ;;
    autocannon) [ -f "$AUTOCANNON" ] && command -v node >/dev/null ;;
    locust) command -v locust >/dev/null ;;
    tide) [ -x "$TIDE" ] ;;
    *) return 1 ;;
  esac
}

versions() {
  echo "tide:       $("$TIDE" version 2>&1 | head -1)"
  have wrk && echo "wrk:        $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
  have ab && echo "ab:         $(ab -V 2>&1 | head -1 | sed 's/.*Version //')"
  have autocannon && echo "autocannon: $(node -p "require('$BENCH/node_modules/autocannon/package.json').version") (node $(node --version))"
  have locust && echo "locust:     $(dpkg-query -W -f='${Version}' python3-locust 2>/dev/null || locust --version 2>&1 | head -1) (Debian python3-locust)"
  echo "nginx:      $(nginx -v 2>&1 | sed 's/.*nginx\///')"
  echo "libcurl:    $(curl --version | head -1 | cut -d' ' -f2) (libev $(dpkg-query -W -f='${Version}' libev4 2>/dev/null), Lua $(dpkg-query -W -f='${Version}' liblua5.4-0 2>/dev/null))"
  echo "kernel:     $(uname -r); cpus: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}

# --- the server ----------------------------------------------------------------------

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# nginx_start: one worker, keep-alive without a request cap, no access log; routes:
#   GET  /             tiny JSON ({"ok":true}, 11 bytes)
#   GET  /10k          a 10240-byte file
#   POST /api/login    JSON with a token (the request body is read and discarded)
#   GET  /api/items/1  JSON
nginx_start() {
  local d="$WORK/nginx"
  mkdir -p "$d/html" "$d/logs" "$d/tmp"
  head -c 10240 /dev/zero | tr '\0' 'x' >"$d/html/10k"
  PORT="$(free_port)"
  # HTTPS: the same routes on TLS_PORT with a self-signed certificate (generators run with
  # --insecure or their equivalent); sets HTTPS_HOST
  TLS_PORT="$(free_port)"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1 || die "openssl could not make a certificate"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $d/tmp;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  sendfile on;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    listen 127.0.0.1:$TLS_PORT ssl backlog=4096;
    ssl_certificate $d/cert.pem;
    ssl_certificate_key $d/key.pem;
    root $d/html;
    location = /           { default_type application/json; return 200 '{"ok":true}'; }
    location = /10k        { default_type application/octet-stream; }
    location = /api/login  { default_type application/json; return 200 '{"token":"t0k3n-42","user":{"id":42}}'; }
    location = /api/items/1 { default_type application/json; return 200 '{"id":1,"name":"widget","price":9.5}'; }
  }
}
EOF
  taskset -c "$SERVER_CPU" nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" &
  NGINX_PID=$!
  HOST="http://127.0.0.1:$PORT"
  HTTPS_HOST="https://127.0.0.1:$TLS_PORT"
  local i
  for i in $(seq 50); do
    curl -sf -o /dev/null "$HOST/" && break
    sleep 0.1
  done
  curl -sf -o /dev/null "$HOST/" || { cat "$d/logs/error.log" >&2; die "nginx did not start"; }
  NGINX_WORKER="$(pgrep -P "$NGINX_PID" | head -1)"
  log "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $HOST (master $NGINX_PID, worker $NGINX_WORKER, cpu $SERVER_CPU)"
}

# --- measuring -----------------------------------------------------------------------

CLK_TCK="$(getconf CLK_TCK)"

# busy CPU ticks of the whole machine (all cores)
# (user+nice+system: irq/softirq time is left out because the kernel does not charge it to a
# process either, so loopback traffic of our own runs would look like someone else's load)
machine_busy_ticks() { awk '/^cpu / {print $2+$3+$4; exit}' /proc/stat; }
# ticks the hypervisor took from this guest (all cores): host-level contention
machine_steal_ticks() { awk '/^cpu / {print $9; exit}' /proc/stat; }
proc_ticks() { [ -r "/proc/$1/stat" ] && awk '{print $14+$15}' "/proc/$1/stat" || echo 0; }

# wait_quiet: wait (up to QUIET_WAIT s) until other processes use < NOISE_MAX % of one core
wait_quiet() {
  [ "$QUIET_WAIT" -gt 0 ] || return 0
  local start=$SECONDS b0 b1 pct
  while :; do
    b0=$(machine_busy_ticks); sleep 0.5; b1=$(machine_busy_ticks)
    pct=$(( (b1 - b0) * 100 * 2 / CLK_TCK ))
    [ "$pct" -lt "$NOISE_MAX" ] && return 0
    if [ $((SECONDS - start)) -ge "$QUIET_WAIT" ]; then
      log "machine still busy (${pct}% of a core used by others); running anyway (see 'noise')"
      return 0
    fi
  done
}

# bench_run CASE TOOL KIND -- CMD...
#   KIND: wrk | ab | autocannon | locust:CSVPREFIX | tide:OUTDIR  (how to read the output)
#   PIN=0 in the environment leaves the command unpinned (e.g. tide --threads 2).
#   ITER_REQS=N: requests per iteration (flows), for iterations/s of peers
#   SAMPLE_AT=S: run in the background and sample RSS and open fds after S seconds
#   KILL_AFTER_SAMPLE=1: with SAMPLE_AT, kill the generator right after the sample
#   EXTRA="k=v ...": extra fields for the JSON line
bench_run() {
  local case="$1" tool="$2" kind="$3"; shift 3
  [ "$1" = "--" ] && shift
  local tag="$case.$tool.r$ROUND"
  tag="${tag//[^A-Za-z0-9._-]/_}"
  local out="$RESULTS/raw/$tag.out" err="$RESULTS/raw/$tag.err" tim="$RESULTS/raw/$tag.time"
  local pin=(taskset -c "$GEN_CPU")
  [ "${PIN:-1}" = 0 ] && pin=()
  wait_quiet
  local b0 n0 b1 n1 rc=0
  local s0 s1
  b0=$(machine_busy_ticks); n0=$(proc_ticks "$NGINX_WORKER"); s0=$(machine_steal_ticks)
  local extra=()
  if [ -n "${SAMPLE_AT:-}" ]; then
    # memory.sh: sample the generator's RSS and open fds SAMPLE_AT seconds in
    /usr/bin/time -f '%e %U %S %M' -o "$tim" "${pin[@]}" "$@" >"$out" 2>"$err" &
    local tpid=$! gpid="" rss="" fds=""
    sleep "$SAMPLE_AT"
    gpid="$(pgrep -P "$tpid" | head -1)"
    if [ -n "$gpid" ] && [ -r "/proc/$gpid/status" ]; then
      rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$gpid/status")"
      fds="$(ls "/proc/$gpid/fd" 2>/dev/null | wc -l)"
      extra+=(--extra "rss_sample_kb=$rss" --extra "fds=$fds")
    else
      log "$tag: the generator had already exited at ${SAMPLE_AT}s"
    fi
    # KILL_AFTER_SAMPLE=1: end the generator (ours, by pid) once sampled; Locust takes ~20 s
    # to tear 50k users down, which would only make the run longer
    if [ "${KILL_AFTER_SAMPLE:-0}" = 1 ] && [ -n "$gpid" ]; then
      kill -KILL "$gpid" 2>/dev/null || true
      wait "$tpid" || true
    else
      wait "$tpid" || rc=$?
    fi
  else
    /usr/bin/time -f '%e %U %S %M' -o "$tim" "${pin[@]}" "$@" >"$out" 2>"$err" || rc=$?
  fi
  local kv
  for kv in ${EXTRA:-}; do extra+=(--extra "$kv"); done
  b1=$(machine_busy_ticks); n1=$(proc_ticks "$NGINX_WORKER"); s1=$(machine_steal_ticks)
  [ "$rc" -eq 0 ] || log "$tag: exit code $rc (see $err)"
  python3 "$BENCH/report.py" record --case "$case" --tool "$tool" --round "$ROUND" \
    --kind "$kind" --out "$out" --time "$tim" --rc "$rc" \
    --busy-ticks "$((b1 - b0))" --server-ticks "$((n1 - n0))" --steal-ticks "$((s1 - s0))" \
    --clk-tck "$CLK_TCK" \
    --iter-reqs "${ITER_REQS:-1}" "${extra[@]}" >>"$RESULTS/results.jsonl" ||
    log "$tag: could not read the output (see $out, $err)"
  tail -1 "$RESULTS/results.jsonl" | python3 "$BENCH/report.py" brief >&2 || true
}
