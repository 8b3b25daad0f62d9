#!/usr/bin/env bash
# test-batch-png.sh — the Script-Fu of build-aux/main-job (main-job.scm),
# run in a clean profile: it calls the plug-in, renders the device name as
# text and saves a PNG.  Asserts exit 0, the printed device equals `dfx
# info --json`'s, and the file is a 640x160 PNG (signature and IHDR read
# here) with both white background and dark text pixels in it.
. "$(dirname "$0")/lib.sh"
t_require_device

png="$t_tmp/device-info.png"
t_batch --fonts "$(cat "$DFX_SOURCE_ROOT/build-aux/main-job.scm") (dfx-main-job \"$png\")"
[ "$t_rc" -eq 0 ] || t_fail "gimp-console exited $t_rc, expected 0"
[ -s "$png" ] || t_fail "no PNG written at $png"

IFS=$'\t' read -r cli_name _ _ < <(t_cli_used_device)
[ "$(t_field dfx-device-name)" = "$cli_name" ] \
  || t_fail "printed device '$(t_field dfx-device-name)', dfx info says '$cli_name'"

python3 - "$png" <<'PY' || t_fail "the PNG is not what main-job.scm draws"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
length, kind = struct.unpack(">I4s", data[8:16])
assert kind == b"IHDR", "first chunk is %r" % kind
w, h, depth, color = struct.unpack(">IIBB", data[16:26])
assert (w, h) == (640, 160), "size %dx%d, expected 640x160" % (w, h)
try:
    from PIL import Image
except ImportError:
    print("PIL missing: pixel check skipped")
    sys.exit(0)
img = Image.open(sys.argv[1]).convert("L")
lo, hi = img.getextrema()
assert hi >= 250, "no white background (max grey %d)" % hi
dark = sum(1 for v in img.getdata() if v < 100)
assert dark > 200, "only %d dark pixels: no text drawn" % dark
print("ok: %dx%d PNG, %d dark text pixels" % (w, h, dark))
PY
