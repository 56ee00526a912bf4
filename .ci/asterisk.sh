#!/usr/bin/env bash
# Builds the Asterisk releases in ../shared/vendor into /opt/ctigw-test/asterisk-<version> for the
# live test target (tests/asterisk_live.rs). Reuses a prefix whose completion marker exists (the
# marker is written last, so an interrupted build is redone). Without the archives it says why
# and returns 0: the live tests then skip themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

VENDOR=${CTIGW_VENDOR_DIR:-../shared/vendor}
ROOT=${CTIGW_ASTERISK_ROOT:-/opt/ctigw-test}
VERSIONS=${CTIGW_ASTERISK_VERSIONS:-"16.30.1 22.10.1"}
MARKER=.ctigw-build-complete
JOBS=${CTIGW_ASTERISK_JOBS:-$(nproc)}

MODULES=(app_dial app_queue pbx_config app_senddtmf bridge_simple bridge_softmix bridge_holding
  bridge_builtin_features bridge_builtin_interval_features res_musiconhold func_callerid
  func_channel func_strings func_logic func_db res_timing_timerfd app_verbose app_echo
  app_transfer res_parking app_mixmonitor app_confbridge func_global res_clioriginate
  app_playback app_db codec_ulaw codec_alaw format_wav format_pcm)
# app_queue on 16 depends on these two.
MODULES_16=(res_monitor func_periodic_hook)

missing=()
for v in $VERSIONS; do
  [ -f "$VENDOR/asterisk-$v.tar.gz" ] || missing+=("$VENDOR/asterisk-$v.tar.gz")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "asterisk: skipped, source archive(s) absent: ${missing[*]} (live Asterisk tests will skip)"
  exit 0
fi

need_deps=0
for v in $VERSIONS; do
  [ -f "$ROOT/asterisk-$v/$MARKER" ] || need_deps=1
done
if [ $need_deps = 1 ] && [ "${CTIGW_ASTERISK_SKIP_APT:-0}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Other jobs on the machine may hold the apt/dpkg locks: wait for them.
  apt_lock_wait=(-o DPkg::Lock::Timeout=900)
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    apt-get "${apt_lock_wait[@]}" update -qq && break
    [ "$attempt" = 10 ] && exit 1
    sleep 15
  done
  apt-get "${apt_lock_wait[@]}" install -y -qq --no-install-recommends build-essential libncurses-dev libxml2-dev \
    libsqlite3-dev uuid-dev libjansson-dev libedit-dev libssl-dev pkg-config libxslt1-dev >/dev/null
fi

mkdir -p "$ROOT"
build_one() {
  local v=$1 prefix="$ROOT/asterisk-$1" src="$ROOT/src/asterisk-$1" log="$ROOT/build-asterisk-$1.log"
  if [ -f "$prefix/$MARKER" ]; then
    echo "asterisk $v: reusing $prefix"
    return 0
  fi
  echo "asterisk $v: building into $prefix (log: $log)"
  local start=$SECONDS
  rm -rf "$src" "$prefix"
  mkdir -p "$ROOT/src"
  if ! (
    set -e
    tar -xzf "$VENDOR/asterisk-$v.tar.gz" -C "$ROOT/src"
    cd "$src"
    ./configure --prefix="$prefix" --without-pjproject-bundled --with-jansson-bundled=no
    make menuselect.makeopts
    menuselect/menuselect --disable-all menuselect.makeopts
    local args=()
    for m in "${MODULES[@]}"; do args+=(--enable "$m"); done
    if [ "${v%%.*}" = 16 ]; then
      for m in "${MODULES_16[@]}"; do args+=(--enable "$m"); done
    fi
    menuselect/menuselect "${args[@]}" menuselect.makeopts
    make -j"$JOBS"
    make install
  ) >"$log" 2>&1; then
    echo "asterisk $v: build failed, last lines of $log:" >&2
    tail -n 40 "$log" >&2
    return 1
  fi
  rm -rf "$src"
  date -u +%FT%TZ >"$prefix/$MARKER"
  echo "asterisk $v: built in $((SECONDS - start)) s"
}

for v in $VERSIONS; do
  build_one "$v"
done
