#!/usr/bin/env bash
# ctest install.layout: `cmake --install` of the build into a temporary
# DESTDIR, then what a user gets there: the layout, the installed `mote
# gateway` (with no environment variable pointing anywhere) serving the
# installed dashboard, MOTE_DASHBOARD_DIR overriding it, and the systemd unit checked by systemd-analyze
# (skipped, saying so, where systemd-analyze is not installed).
#
#   install_test.sh <build dir> <prefix> <full sysconfdir> <unit dir>
set -euo pipefail

build=$1 prefix=$2 sysconfdir=$3 unitdir=$4
[[ $unitdir = /* ]] || unitdir=$prefix/$unitdir

dest=$(mktemp -d "${TMPDIR:-/tmp}/mote-install-test.XXXXXX")
gateway_pid=
cleanup() {
  if [[ -n $gateway_pid ]]; then kill -KILL "$gateway_pid" 2>/dev/null || true; fi
  rm -rf "$dest"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -f $dest/gateway.out ]]; then
    echo "--- the installed mote gateway's output:" >&2
    cat "$dest/gateway.out" >&2
  fi
  exit 1
}

echo "installing $build into DESTDIR=$dest (prefix $prefix)"
DESTDIR=$dest cmake --install "$build" >"$dest/install.log" 2>&1 || {
  cat "$dest/install.log" >&2
  fail "cmake --install failed"
}

# --- the layout ------------------------------------------------------------
root=$dest$prefix
mote=$root/bin/mote
config=$dest$sysconfdir/mote/gateway.toml
unit=$dest$unitdir/mote-gateway.service
dashboard=$root/share/mote/dashboard
[[ -x $mote ]] || fail "no executable $prefix/bin/mote"
for file in index.html app.js app.css; do
  [[ -s $dashboard/$file ]] || fail "no $prefix/share/mote/dashboard/$file"
done
[[ -s $config ]] || fail "no sample config $sysconfdir/mote/gateway.toml"
[[ -s $unit ]] || fail "no systemd unit $unitdir/mote-gateway.service"
grep -q '^# ' "$config" || fail "the sample config has no comments"
grep -qx "ExecStart=$prefix/bin/mote gateway -c $sysconfdir/mote/gateway.toml --data-dir %S/mote" "$unit" ||
  fail "the unit's ExecStart does not run the installed mote with the installed config"
for line in DynamicUser=yes StateDirectory=mote ConfigurationDirectory=mote Restart=on-failure \
  ProtectSystem=strict NoNewPrivileges=yes; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
echo "layout: ok"

# --- the installed program -------------------------------------------------
ports=$(/usr/bin/python3 -c '
import socket
ports = []
for kind in (socket.SOCK_STREAM, socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    ports.append(str(s.getsockname()[1]))
    s.close()
print(" ".join(ports))')
read -r mqtt_port http_port coap_port <<<"$ports"

env -u MOTE_DASHBOARD_DIR "$mote" --version | grep -q '^mote ' || fail "mote --version"
# The installed sample config as is (every key at its default), with the
# state and ports of this test.
env -u MOTE_DASHBOARD_DIR "$mote" gateway -c "$config" --data-dir "$dest/state" \
  --mqtt-port "$mqtt_port" --http-port "$http_port" --coap-port "$coap_port" \
  >"$dest/gateway.out" 2>&1 &
gateway_pid=$!
for _ in $(seq 100); do
  grep -q '^  dashboard files: ' "$dest/gateway.out" && break
  kill -0 "$gateway_pid" 2>/dev/null || fail "the installed mote gateway exited"
  sleep 0.1
done
grep -qx "  dashboard files: $dashboard" "$dest/gateway.out" ||
  fail "the installed mote gateway does not serve the installed dashboard"
page=$(curl -s -S --max-time 5 "http://127.0.0.1:$http_port/") || fail "GET / failed"
grep -q '<title>mote dashboard</title>' <<<"$page" || fail "GET / is not the dashboard: $page"
[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$http_port/app.js") = 200 ]] ||
  fail "GET /app.js is not 200"
curl -s --max-time 5 "http://127.0.0.1:$http_port/api/devices" | grep -q '"devices"' ||
  fail "GET /api/devices does not answer"
kill -TERM "$gateway_pid"
status=0
wait "$gateway_pid" || status=$?
gateway_pid=
[[ $status = 0 ]] || fail "the installed mote gateway exited $status after SIGTERM"
[[ -s $dest/state/telemetry.db ]] || fail "no telemetry.db in the data directory"
echo "installed mote gateway: ok (served $dashboard)"

# MOTE_DASHBOARD_DIR still overrides where the files come from.
mkdir -p "$dest/other-dashboard"
echo '<title>another dashboard</title>' >"$dest/other-dashboard/index.html"
MOTE_DASHBOARD_DIR=$dest/other-dashboard "$mote" gateway --data-dir "$dest/state" \
  --mqtt-port "$mqtt_port" --http-port "$http_port" --coap-port "$coap_port" \
  >"$dest/gateway.out" 2>&1 &
gateway_pid=$!
for _ in $(seq 100); do
  grep -q '^  dashboard files: ' "$dest/gateway.out" && break
  kill -0 "$gateway_pid" 2>/dev/null || fail "mote gateway with MOTE_DASHBOARD_DIR exited"
  sleep 0.1
done
grep -qx "  dashboard files: $dest/other-dashboard" "$dest/gateway.out" ||
  fail "MOTE_DASHBOARD_DIR does not override the installed dashboard"
curl -s --max-time 5 "http://127.0.0.1:$http_port/" | grep -q 'another dashboard' ||
  fail "GET / is not the MOTE_DASHBOARD_DIR page"
kill -TERM "$gateway_pid"
status=0
wait "$gateway_pid" || status=$?
gateway_pid=
[[ $status = 0 ]] || fail "mote gateway with MOTE_DASHBOARD_DIR exited $status after SIGTERM"
echo "MOTE_DASHBOARD_DIR override: ok"

# --- the systemd unit ------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's program exists: point it into DESTDIR.
  checked=$dest/check/mote-gateway.service
  mkdir -p "$dest/check"
  sed -e "s|^ExecStart=$prefix/bin/mote |ExecStart=$mote |" "$unit" >"$checked"
  systemd-analyze verify "$checked" || fail "systemd-analyze verify found problems in the unit"
  systemd-analyze security --offline=yes --threshold=25 "$checked" >"$dest/security.txt" ||
    { cat "$dest/security.txt" >&2; fail "systemd-analyze security: exposure above 2.5"; }
  echo "systemd unit: ok ($(grep -o 'Overall exposure level.*' "$dest/security.txt"))"
else
  echo "SKIPPED: systemd-analyze is not installed: the unit's syntax was not verified"
fi
echo "install.layout: PASS"
