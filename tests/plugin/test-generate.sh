#!/usr/bin/env bash
# test-generate.sh — plug-in-dfx-generate makes a new image, run by a real
# GIMP batch (Script-Fu) on the random-weight tiny model, and saves it as
# PNG.  Asserts, for one image of 15x11 (not a multiple of the U-Net's 2,
# so the padded canvas is cropped) with Euler, 4 steps, seed 7:
#   - exit 0; the PNG exists, is 15x11 RGB (a 3-channel model makes an RGB
#     image) and is not blank (pixel variance > 0);
#   - its pixels equal those of `dfx generate` (the CLI, the independent
#     front end) for the same model, seed, sampler, steps and size within 1
#     of 255 (both map [-1, 1] to 8 bits, rounding in different places);
#   - the returned NFE equals the CLI's (4: Euler, no skip), and the
#     returned warning is the CLI's (the model has no gaussian/: skip off);
# and for count 3 in the same batch: one image of 3 layers of 15x11 whose
# top layer is the count-1 image (image k does not depend on the count);
# and with the stochastic OCM-DDPM sampler (3 steps, seed 7) on a copy of
# the model with a fisher/ head (the U-Net's weights standing in for one):
# NFE 3 and the CLI's pixels within 1 of 255 (the step noise comes from the
# seed, so the two front ends agree).
. "$(dirname "$0")/lib.sh"
t_require_device

model=$(t_tiny_model sample)
png="$t_tmp/gimp.png"
png3="$t_tmp/gimp-count3.png"
args="#:model \"$model\" #:sampler \"euler\" #:steps 4 #:skip \"auto\" #:seed 7 #:width 15 #:height 11"
ocm="$t_tmp/ocm-model"
mkdir -p "$ocm"
cp -r "$model/unet" "$model/scheduler" "$ocm/"
cp -r "$model/unet" "$ocm/fisher"
png_ocm="$t_tmp/gimp-ocm.png"

t0=$SECONDS
t_batch "(let* ((r (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE $args))
       (img (car r)))
  (display (string-append \"nfe=\" (number->string (cadr r)) \"\n\"))
  (display (string-append \"warning=\" (caddr r) \"\n\"))
  (display (string-append \"layers=\" (number->string (vector-length (gimp-image-get-layers img))) \"\n\"))
  (gimp-file-save RUN-NONINTERACTIVE img \"$png\" -1)
  (gimp-image-delete img))
(let* ((r (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE $args #:count 3))
       (img (car r))
       (layers (gimp-image-get-layers img)))
  (display (string-append \"nfe3=\" (number->string (cadr r)) \"\n\"))
  (display \"sizes3=\")
  (for-each (lambda (l) (display (string-append (number->string (gimp-drawable-get-width l)) \"x\"
                                                (number->string (gimp-drawable-get-height l)) \" \")))
            (vector->list layers))
  (newline)
  (gimp-file-save RUN-NONINTERACTIVE img \"$png3\" -1)
  (gimp-image-delete img))
(let* ((r (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model \"$ocm\" #:sampler \"ocm-ddpm\" #:steps 3
                                #:skip \"off\" #:seed 7 #:width 15 #:height 11))
       (img (car r)))
  (display (string-append \"nfe-ocm=\" (number->string (cadr r)) \"\n\"))
  (gimp-file-save RUN-NONINTERACTIVE img \"$png_ocm\" -1)
  (gimp-image-delete img))"
t_note "GIMP batch (3 generations): $((SECONDS - t0)) s"
[ "$t_rc" -eq 0 ] || t_fail "gimp-console exited $t_rc, expected 0"
[ -s "$png" ] || t_fail "no PNG written at $png"
[ "$(t_field layers)" = 1 ] || t_fail "the count-1 image has $(t_field layers) layers, expected 1"
[ "$(t_field sizes3)" = "15x11 15x11 15x11 " ] || t_fail "count 3: layer sizes '$(t_field sizes3)'"

t0=$SECONDS
"$DFX_CLI" generate --model "$model" --sampler euler --steps 4 --skip auto --seed 7 --size 15x11 \
  -o "$t_tmp/cli.png" --json >"$t_tmp/cli.json" 2>"$t_tmp/cli.err" \
  || t_fail "dfx generate failed: $(cat "$t_tmp/cli.err")"
t_note "dfx generate: $((SECONDS - t0)) s"
read -r cli_nfe cli_warning < <(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["nfe"], j["warning"])' "$t_tmp/cli.json")
[ "$(t_field nfe)" = "$cli_nfe" ] || t_fail "plug-in NFE $(t_field nfe), CLI NFE $cli_nfe"
[ "$(t_field nfe)" = 4 ] || t_fail "NFE $(t_field nfe), expected 4 (Euler, 4 steps, no skip)"
[ "$(t_field nfe3)" = 4 ] || t_fail "count 3: NFE $(t_field nfe3), expected 4 (one batch: an evaluation runs all 3 images)"
[ "$(t_field warning)" = "$cli_warning" ] || t_fail "warning '$(t_field warning)', CLI: '$cli_warning'"

python3 - "$png" "$t_tmp/cli.png" "$png3" <<PY || t_fail "the generated PNG is not the CLI's image"
$t_png_py
mode, w, h, g = load(sys.argv[1])
assert (mode, w, h) == ("RGB", 15, 11), "PNG is %s %dx%d, expected RGB 15x11" % (mode, w, h)
assert variance(g) > 0, "blank image"
_, _, _, c = load(sys.argv[2], "RGB")
d = maxdiff(g, c)
assert d <= 1, "pixels differ from the CLI's by up to %d of 255" % d
clipped = sum(1 for v in g if v in (0, 255)) / len(g)
assert clipped < 0.5, "%.0f %% of the values are clipped: the comparison says little" % (100 * clipped)
_, _, _, g3 = load(sys.argv[3], "RGB")
assert g3 == g, "the top layer of the count-3 image is not the count-1 image"
print("ok: 15x11 RGB, variance %.1f, max difference to the CLI %d of 255, %.0f %% clipped" % (variance(g), d, 100 * clipped))
PY
"$DFX_CLI" generate --model "$ocm" --sampler ocm-ddpm --steps 3 --skip off --seed 7 --size 15x11 \
  -o "$t_tmp/cli-ocm.png" >"$t_tmp/cli-ocm.out" 2>&1 || t_fail "dfx generate ocm-ddpm failed: $(cat "$t_tmp/cli-ocm.out")"
[ "$(t_field nfe-ocm)" = 3 ] || t_fail "ocm-ddpm: NFE $(t_field nfe-ocm), expected 3"
python3 - "$png_ocm" "$t_tmp/cli-ocm.png" "$png" <<PY || t_fail "the OCM-DDPM image is not the CLI's"
$t_png_py
mode, w, h, g = load(sys.argv[1])
assert (mode, w, h) == ("RGB", 15, 11), "OCM PNG is %s %dx%d" % (mode, w, h)
_, _, _, c = load(sys.argv[2], "RGB")
d = maxdiff(g, c)
assert d <= 1, "OCM-DDPM pixels differ from the CLI's by up to %d of 255" % d
_, _, _, e = load(sys.argv[3], "RGB")
assert g != e, "OCM-DDPM gave the Euler image"
print("ok: OCM-DDPM 15x11, max difference to the CLI %d of 255" % d)
PY
t_note "ok: NFE $cli_nfe as the CLI; count 3 gives 3 layers of 15x11; OCM-DDPM as the CLI"
