#!/usr/bin/env bash
# test-preload.sh — the preload (plugin/preload.c: the model loaded and the
# kernels prepared while the dialog is open) changes no result, and a
# cancel while it loads leaves nothing behind.
#
# Batches have no dialog, so the testing hook DFX_TEST_PRELOAD starts the
# preload where a dialog would (=1: started, then taken by the run; =cancel:
# started and cancelled at once, then the run loads on its own).  Three
# gimp-console batches on the same tiny random-weight colour model (its
# U-Net doubling as the Fisher head), each running Generate Layer (Euler,
# 3 steps, seed 5, skip off) on a 20x14 RGB image and Likelihood Heatmap
# (fixed 2 steps) on it:
#   1. no hook: the layer equals `dfx generate` within 1 of 255 and the
#      bits/dim `dfx likelihood` within 1e-4 (as in test-generate-layer.sh
#      and test-likelihood.sh);
#   2. DFX_TEST_PRELOAD=1: the plug-in's trace says the run took the
#      preloaded model (preload-taken) after its first evaluation
#      (preload-first-eval) for both procedures, and the layer and the
#      bits/dim are bit for bit those of batch 1;
#   3. DFX_TEST_PRELOAD=cancel: the trace says the preload ended cancelled
#      and was not taken; same pixels and bits/dim; no crash or critical.
. "$(dirname "$0")/lib.sh"
t_require_device

tiny=$(t_tiny_model sample)
model="$t_tmp/tiny-fisher"
mkdir -p "$model"
ln -s "$tiny/unet" "$model/unet"
ln -s "$tiny/unet" "$model/fisher"
ln -s "$tiny/scheduler" "$model/scheduler"
python3 - "$t_tmp" <<'PY' || t_fail "could not write the input image"
import sys
from PIL import Image
rgb = Image.new("RGB", (20, 14))
rgb.putdata([(12 * x, 17 * y, 255 - 9 * x - 5 * y) for y in range(14) for x in range(20)])
rgb.save(sys.argv[1] + "/in.png")
PY

batch() { # TAG: one batch; the layer saved as TAG.png, bits/dim printed as bpd=
  t_batch "
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/in.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (r (plug-in-dfx-generate-layer #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                      #:model \"$model\" #:sampler \"euler\" #:steps 3 #:seed 5 #:skip \"off\"))
       (new (vector-ref (car r) 0))
       (out (gimp-image-new 20 14 RGB))
       (copy (gimp-layer-new-from-drawable new out)))
  (gimp-image-insert-layer out copy 0 0)
  (gimp-file-save RUN-NONINTERACTIVE out \"$t_tmp/$1.png\" -1)
  (let ((l (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                   #:model \"$model\" #:solver \"fixed\" #:steps 2)))
    (display (string-append \"bpd=\" (number->string (vector-ref (car l) 0)) \"\n\")))
  (gimp-image-delete out)
  (gimp-image-delete img))"
  [ "$t_rc" -eq 0 ] || t_fail "batch $1: gimp-console exited $t_rc, expected 0"
  t_field bpd >"$t_tmp/$1.bpd"
  grep '^dfx-trace:' "$t_tmp/err" >"$t_tmp/$1.trace" || true
}

t0=$SECONDS
batch plain
DFX_TEST_PRELOAD=1 DFX_TRACE_TIMES=1 batch taken
DFX_TEST_PRELOAD=cancel DFX_TRACE_TIMES=1 batch cancelled
t_note "3 GIMP batches: $((SECONDS - t0)) s"

# Batch 1 against the CLI (independent of the plug-in).
"$DFX_CLI" generate --model "$model" --sampler euler --steps 3 --skip off --seed 5 --size 20x14 \
  -o "$t_tmp/cli.png" 2>"$t_tmp/cli.err" || t_fail "dfx generate failed: $(cat "$t_tmp/cli.err")"
"$DFX_CLI" likelihood --model "$model" "$t_tmp/in.png" --solver exp3m --steps 2 --json >"$t_tmp/cli.json" \
  2>"$t_tmp/cli.err" || t_fail "dfx likelihood failed: $(cat "$t_tmp/cli.err")"
want=$(python3 -c 'import json,sys; print("%.9f" % json.load(open(sys.argv[1]))["bits_per_dim"])' "$t_tmp/cli.json")
python3 -c "import sys; sys.exit(abs($(cat "$t_tmp/plain.bpd") - $want) > 1e-4)" \
  || t_fail "no preload: plug-in $(cat "$t_tmp/plain.bpd") bits/dim, CLI $want"

# The trace: which path each batch took (two procedures each).
n() { grep -c " $2 " "$t_tmp/$1.trace" || true; }
[ "$(n taken preload-taken)" = 2 ] || t_fail "DFX_TEST_PRELOAD=1: the runs did not take the preload: $(cat "$t_tmp/taken.trace")"
[ "$(n taken preload-first-eval)" = 2 ] \
  || t_fail "DFX_TEST_PRELOAD=1: the preload did not reach an evaluation: $(cat "$t_tmp/taken.trace")"
[ "$(n cancelled preload-cancelled)" = 2 ] && [ "$(n cancelled preload-taken)" = 0 ] \
  || t_fail "DFX_TEST_PRELOAD=cancel: not cancelled, or taken: $(cat "$t_tmp/cancelled.trace")"

python3 - "$t_tmp" <<PY || t_fail "the preload changed a result"
$t_png_py
d = sys.argv[1]
_, _, _, cli = load(d + "/cli.png", "RGB")
_, w, h, plain = load(d + "/plain.png", "RGB")
assert (w, h) == (20, 14) and variance(plain) > 0, "no preload: blank or wrong size"
m = maxdiff(plain, cli)
assert m <= 1, "no preload: the layer differs from the CLI's image by up to %d of 255" % m
bpd = {t: open(d + "/%s.bpd" % t).read().strip() for t in ("plain", "taken", "cancelled")}
for tag in ("taken", "cancelled"):
    _, _, _, px = load(d + "/%s.png" % tag, "RGB")
    assert px == plain, "%s: the layer differs from the run without preload by up to %d" % (tag, maxdiff(px, plain))
    assert bpd[tag] == bpd["plain"], "%s: %s bits/dim, without preload %s" % (tag, bpd[tag], bpd["plain"])
print("ok: same layer and bits/dim (%s) with the preload taken, cancelled and off; CLI within %d of 255" % (bpd["plain"], m))
PY
