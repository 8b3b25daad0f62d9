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

# The generation part of main-job.scm.
model=$(t_tiny_model sample)
grid="$t_tmp/generated.png"
t_batch "$(cat "$DFX_SOURCE_ROOT/build-aux/main-job.scm") (dfx-main-generate \"$model\" 3 2 \"$grid\")"
[ "$t_rc" -eq 0 ] || t_fail "dfx-main-generate: gimp-console exited $t_rc, expected 0"
[ "$(t_field dfx-generate-output)" = "$grid" ] || t_fail "dfx-main-generate did not print its output"
[ "$(t_field dfx-generate-size)" = 16x16 ] || t_fail "image size '$(t_field dfx-generate-size)', expected 16x16"
"$DFX_CLI" generate --model "$model" --seed 0 --steps 2 --count 3 -o "$t_tmp/cli.png" 2>"$t_tmp/cli.err" \
  || t_fail "dfx generate failed: $(cat "$t_tmp/cli.err")"
python3 - "$grid" "$t_tmp" <<PY || t_fail "the generated grid is not the CLI's images"
$t_png_py
mode, w, h, g = load(sys.argv[1], "RGB")
assert (w, h) == (34, 34), "grid is %dx%d, expected 34x34" % (w, h)
def tile(x0, y0):
    return [g[3 * ((y0 + y) * w + x0 + x) + c] for y in range(16) for x in range(16) for c in range(3)]
for k, (x0, y0) in enumerate([(0, 0), (18, 0), (0, 18)]):
    _, _, _, c = load("%s/cli-%d.png" % (sys.argv[2], k), "RGB")
    d = maxdiff(tile(x0, y0), c)
    assert d <= 1, "tile %d differs from the CLI's image %d by up to %d" % (k, k, d)
assert set(tile(18, 18)) == {0}, "the empty fourth cell is not black"
assert all(g[3 * (y * w + x) + c] == 0 for y in range(h) for x in (16, 17) for c in range(3)), "gap not black"
print("ok: 34x34 grid of the CLI's three images")
PY
