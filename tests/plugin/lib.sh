# lib.sh — shared by the plug-in tests (sourced, not run).
#
# For: a throw-away GIMP profile per test holding only the freshly built dfx
# plug-in (installed by build-aux/install-user), running one
# gimp-console-3.0 batch in it with a time limit, reading what the batch
# printed, and the independent Vulkan reference (vulkaninfo) the tests
# compare against.  Everything lives in one temporary folder that is removed
# on exit (kept when DFX_TEST_KEEP=1).
# Not for: assertions about dfx itself (each test-*.sh holds its own).
#
# Environment (set by tests/plugin/meson.build): DFX_SOURCE_ROOT,
# DFX_BUILD_ROOT, GIMP_CONSOLE, DFX_CLI; optional DFX_GIMP_TIMEOUT (seconds
# per batch, default 150).
set -euo pipefail

: "${DFX_SOURCE_ROOT:?run me through meson test}"
: "${DFX_BUILD_ROOT:?run me through meson test}"
GIMP_CONSOLE=${GIMP_CONSOLE:-gimp-console-3.0}
DFX_CLI=${DFX_CLI:-$DFX_BUILD_ROOT/compute/dfx}

t_tmp=$(mktemp -d "${TMPDIR:-/tmp}/dfx-plugin-test.XXXXXX")
t_cleanup() {
  if [ "${DFX_TEST_KEEP:-0}" = 1 ]; then echo "kept $t_tmp"; else rm -rf "$t_tmp"; fi
}
trap t_cleanup EXIT

t_fail() {
  printf 'FAIL: %s\n' "$*" >&2
  if [ -f "$t_tmp/out" ]; then
    printf -- '--- gimp-console stdout\n' >&2; cat "$t_tmp/out" >&2
    printf -- '--- gimp-console stderr\n' >&2; cat "$t_tmp/err" >&2
  fi
  exit 1
}
t_skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
t_note() { printf '%s\n' "$*"; }

# libdfx's pipeline cache stays inside the test too.
export DFX_PIPELINE_CACHE="$t_tmp/pipeline-cache"

# A clean profile: GIMP3_DIRECTORY makes GIMP use it instead of the user's.
export GIMP3_DIRECTORY="$t_tmp/profile"
mkdir -p "$GIMP3_DIRECTORY"
"$DFX_SOURCE_ROOT/build-aux/install-user" "$DFX_BUILD_ROOT" >"$t_tmp/install.log" 2>&1 \
  || { cat "$t_tmp/install.log" >&2; t_fail "build-aux/install-user failed"; }
[ -x "$GIMP3_DIRECTORY/plug-ins/dfx/dfx" ] || t_fail "install-user did not install plug-ins/dfx/dfx"

# t_batch [--fonts] SCHEME — runs SCHEME (Script-Fu v3) in one batch of
# gimp-console-3.0 with the test profile; stdout goes to $t_tmp/out, stderr
# to $t_tmp/err and the exit status to $t_rc.  Fonts are skipped (-f) unless
# --fonts is given, which saves a little time.  Fails the test on a timeout.
t_batch() {
  local nofonts=-f
  if [ "${1:-}" = --fonts ]; then nofonts=; shift; fi
  t_rc=0
  timeout -k 10 "${DFX_GIMP_TIMEOUT:-150}" "$GIMP_CONSOLE" -i -d $nofonts --quit \
    --batch-interpreter plug-in-script-fu-eval -b "(script-fu-use-v3) $1" \
    </dev/null >"$t_tmp/out" 2>"$t_tmp/err" || t_rc=$?
  if [ $t_rc -eq 124 ] || [ $t_rc -eq 137 ]; then
    t_fail "gimp-console-3.0 did not finish within ${DFX_GIMP_TIMEOUT:-150} s"
  fi
  # A dying plug-in makes the batch exit 70 like an ordinary failure, and
  # a GLib critical changes nothing: catch both here for every test.  (The
  # occasional "gimp_flush(): error: Broken pipe" warning at GIMP's exit is
  # a shutdown race of every plug-in and is not caught.)
  if grep -E 'Plug-in crashed: "dfx"|plug-ins/dfx/dfx: fatal error|\(dfx:[0-9]+\): [A-Za-z-]+-CRITICAL' \
       "$t_tmp/err" >/dev/null; then
    t_fail "the dfx plug-in crashed or logged a critical error"
  fi
}

# t_field NAME — the value of the first "NAME=..." line the batch printed.
t_field() { sed -n "s/^$1=//p" "$t_tmp/out" | head -1; }

# t_vulkan_devices — one line per Vulkan device, "name<TAB>type<TAB>driver",
# as vulkaninfo (Vulkan's own tool, independent of libdfx) reports them;
# type is vulkaninfo's PHYSICAL_DEVICE_TYPE_* name.  Prints nothing when
# vulkaninfo is missing or sees no device.
t_vulkan_devices() {
  command -v vulkaninfo >/dev/null || return 0
  { vulkaninfo --summary 2>/dev/null || true; } | awk '
    function flush() { if (name != "") printf "%s\t%s\t%s\n", name, type, driver; name = type = driver = "" }
    /^GPU[0-9]+:/ { flush() }
    /^[ \t]+deviceName[ \t]*=/ { sub(/^[^=]*=[ \t]*/, ""); name = $0 }
    /^[ \t]+deviceType[ \t]*=/ { sub(/^[^=]*=[ \t]*/, ""); type = $0 }
    /^[ \t]+driverName[ \t]*=/ { sub(/^[^=]*=[ \t]*/, ""); driver = $0 }
    END { flush() }'
}

# t_require_device — skips the test (77) when there is no Vulkan device at
# all: neither vulkaninfo nor `dfx info --json` sees one.
t_require_device() {
  local n
  n=$(t_vulkan_devices | wc -l)
  [ "$n" -gt 0 ] && return 0
  if [ -x "$DFX_CLI" ]; then
    n=$({ "$DFX_CLI" info --json 2>/dev/null || true; } |
        python3 -c 'import json,sys
try: print(len(json.load(sys.stdin)["devices"]))
except Exception: print(0)')
    [ "$n" -gt 0 ] && return 0
  fi
  t_skip "no Vulkan device on this machine"
}

# t_cli_used_device — "name<TAB>type<TAB>driver" of the device `dfx info
# --json` says it uses (honours DFX_DEVICE like the plug-in).
t_cli_used_device() {
  [ -x "$DFX_CLI" ] || t_fail "no dfx CLI at $DFX_CLI"
  "$DFX_CLI" info --json >"$t_tmp/info.json" 2>"$t_tmp/info.err" \
    || t_fail "dfx info --json failed: $(cat "$t_tmp/info.err")"
  python3 - "$t_tmp/info.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
used = info["used"]
d = [d for d in info["devices"] if d["index"] == used][0]
print("%s\t%s\t%s" % (d["name"], d["type"], d["driver"]))
PY
}
