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
# per batch, default 300).
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

# t_batch [--fonts] [--python] CODE — runs CODE in one batch of
# gimp-console-3.0 with the test profile: Script-Fu (v3) by default, Python
# (python-fu-eval: Gimp and Gio imported) with --python; stdout goes to
# $t_tmp/out, stderr to $t_tmp/err and the exit status to $t_rc.  Fonts are
# skipped (-f) unless --fonts is given, which saves a little time.  Fails
# the test on a timeout.
t_batch() {
  local nofonts=-f interp=plug-in-script-fu-eval code
  if [ "${1:-}" = --fonts ]; then nofonts=; shift; fi
  if [ "${1:-}" = --python ]; then interp=python-fu-eval; shift; code=$1; else code="(script-fu-use-v3) $1"; fi
  t_rc=0
  timeout -k 10 "${DFX_GIMP_TIMEOUT:-300}" "$GIMP_CONSOLE" -i -d $nofonts --quit \
    --batch-interpreter "$interp" -b "$code" \
    </dev/null >"$t_tmp/out" 2>"$t_tmp/err" || t_rc=$?
  if [ $t_rc -eq 124 ] || [ $t_rc -eq 137 ]; then
    t_fail "gimp-console-3.0 did not finish within ${DFX_GIMP_TIMEOUT:-300} s"
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

# t_tiny_model [--grey] [PREDICTION] — prints the folder of a random-weight
# tiny model (models/make_golden.py --config tiny-scaleshift-mh: 3
# channels, or 1 with --grey; 16x16, U-Net multiple 2; no gaussian/), made
# once per build folder under a lock and shared by the tests; its images
# look like noise, but they exercise the whole path.  With PREDICTION
# (epsilon, v_prediction, sample) it prints a copy under $t_tmp whose
# scheduler says that prediction type instead: the comparisons use
# "sample", whose images are mostly not clipped to 0 or 255 (the random
# ε-model's are), so pixel tolerances mean something.  Tests never use the
# trained default models.
t_tiny_model() {
  local name=tiny-model cfg=tiny-scaleshift-mh
  if [ "${1:-}" = --grey ]; then
    shift
    name=tiny-model-grey
    cfg="$DFX_BUILD_ROOT/tests/plugin/tiny-grey.json"
    mkdir -p "$(dirname "$cfg")"
    sed -E 's/"(in|out)_channels": *3/"\1_channels": 1/' "$DFX_SOURCE_ROOT/models/configs/tiny-scaleshift-mh.json" \
      >"$cfg.$$" && mv -f "$cfg.$$" "$cfg"
  fi
  local dir="$DFX_BUILD_ROOT/tests/plugin/$name"
  mkdir -p "$(dirname "$dir")"
  (
    flock 9
    python3 "$DFX_SOURCE_ROOT/models/make_golden.py" --config "$cfg" --out "$dir" \
      >"$t_tmp/make-golden.log" 2>&1
  ) 9>"$dir.lock" || { cat "$t_tmp/make-golden.log" >&2; t_fail "models/make_golden.py failed (needs python3-torch)"; }
  if [ -z "${1:-}" ]; then
    printf '%s\n' "$dir/model"
    return 0
  fi
  local copy="$t_tmp/$name-$1"
  if [ ! -d "$copy" ]; then
    mkdir -p "$copy/scheduler"
    cp -r "$dir/model/unet" "$copy/unet"
    sed -E "s/(\"prediction_type\": *)\"[a-z_]+\"/\1\"$1\"/" "$dir/model/scheduler/scheduler_config.json" \
      >"$copy/scheduler/scheduler_config.json"
    grep -q "\"prediction_type\": *\"$1\"" "$copy/scheduler/scheduler_config.json" \
      || t_fail "could not set prediction_type $1 in the tiny model's scheduler"
  fi
  printf '%s\n' "$copy"
}

# t_png_check — the Python helpers the tests pipe their checks into:
# defines load(path) → (mode, w, h, flat list of ints), variance(values)
# and maxdiff(a, b).  Needs python3-pil (part of the environment).
t_png_py='
import sys
from PIL import Image
def load(path, mode=None):
    im = Image.open(path)
    if mode:
        im = im.convert(mode)
    flat = [v for p in im.getdata() for v in (p if isinstance(p, tuple) else (p,))]
    return im.mode, im.size[0], im.size[1], flat
def variance(v):
    m = sum(v) / len(v)
    return sum((x - m) ** 2 for x in v) / len(v)
def maxdiff(a, b):
    assert len(a) == len(b), "%d values against %d" % (len(a), len(b))
    return max(abs(x - y) for x, y in zip(a, b))
'
