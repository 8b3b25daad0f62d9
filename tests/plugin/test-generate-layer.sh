#!/usr/bin/env bash
# test-generate-layer.sh — plug-in-dfx-generate-layer, run by real GIMP
# batches (Script-Fu) on random-weight tiny models, adds generated layers to
# an existing image and changes nothing else.
#
# Batch 1, a 20x14 RGB image with one gradient layer (colour model, Euler,
# 3 steps, seed 5):
#   1. count 1: exactly one new layer, 20x14 at (0, 0), above the original;
#      the image saved then equals `dfx generate` for the same settings
#      (within 1 of 255); with the new layer removed it equals the input
#      exactly (the original layer's pixels are unchanged);
#   2. count 3: exactly three new layers of 20x14, image 0 on top (the
#      count-1 image again); with them removed the input again;
#   3. with a rectangle selected (4, 2, 8x6): one layer of 8x6 at (4, 2).
# Batch 2, model kinds and the default model:
#   4. a grey image and no model argument, with DFX_MODELS naming a folder
#      that holds the colour tiny model as fashion-mnist-32: the default is
#      found there, the new layer is grey, and its pixels are the luminance
#      of the CLI's RGB image within 2 (linear light, the D50-adapted sRGB
#      weights 0.2225, 0.7169, 0.0606 that babl and ICC use);
#   5. the grey model into an RGB image: R = G = B = the CLI's grey image
#      within 1;
#   6. plug-in-dfx-generate with the grey model makes a GRAY image.
. "$(dirname "$0")/lib.sh"
t_require_device

colour=$(t_tiny_model sample)
grey=$(t_tiny_model --grey sample)
python3 - "$t_tmp" <<'PY' || t_fail "could not write the input images"
import sys
from PIL import Image
d = sys.argv[1]
rgb = Image.new("RGB", (20, 14))
rgb.putdata([(12 * x, 17 * y, 255 - 9 * x - 5 * y) for y in range(14) for x in range(20)])
rgb.save(d + "/in-rgb.png")
Image.new("L", (20, 14), 90).save(d + "/in-grey.png")
PY

common='#:sampler "euler" #:steps 3 #:seed 5'
show='(define (dfx-show tag l)
  (let ((o (gimp-drawable-get-offsets l)))
    (display (string-append tag "=" (number->string (gimp-drawable-get-width l)) "x"
                            (number->string (gimp-drawable-get-height l)) "@"
                            (number->string (car o)) "," (number->string (cadr o)) "\n"))))
(define (dfx-count tag img)
  (display (string-append tag "=" (number->string (vector-length (gimp-image-get-layers img))) "\n")))'

t0=$SECONDS
t_batch "$show
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/in-rgb.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (r1 (plug-in-dfx-generate-layer #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                       #:model \"$colour\" #:skip \"off\" $common))
       (new1 (vector-ref (car r1) 0)))
  (dfx-count \"layers1\" img)
  (dfx-show \"new1\" new1)
  (display (string-append \"pos1=\" (number->string (gimp-image-get-item-position img new1)) \",\"
                          (number->string (gimp-image-get-item-position img bg)) \"\n\"))
  (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/gen1.png\" -1)
  (gimp-image-remove-layer img new1)
  (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/orig1.png\" -1)
  (let* ((r3 (plug-in-dfx-generate-layer #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                         #:model \"$colour\" #:skip \"off\" $common #:count 3))
         (new3 (car r3)))
    (dfx-count \"layers3\" img)
    (display (string-append \"returned3=\" (number->string (vector-length new3)) \"\n\"))
    (dfx-show \"new3a\" (vector-ref new3 0))
    (dfx-show \"new3b\" (vector-ref new3 1))
    (dfx-show \"new3c\" (vector-ref new3 2))
    (display (string-append \"top3=\" (number->string (gimp-image-get-item-position img (vector-ref new3 0))) \"\n\"))
    (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/gen3.png\" -1)
    (gimp-image-remove-layer img (vector-ref new3 0))
    (gimp-image-remove-layer img (vector-ref new3 1))
    (gimp-image-remove-layer img (vector-ref new3 2))
    (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/orig3.png\" -1))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 4 2 8 6)
  (let ((rs (plug-in-dfx-generate-layer #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                        #:model \"$colour\" #:skip \"off\" $common)))
    (dfx-count \"layerss\" img)
    (dfx-show \"news\" (vector-ref (car rs) 0)))
  (gimp-image-delete img))"
t_note "GIMP batch 1 (3 generations): $((SECONDS - t0)) s"
[ "$t_rc" -eq 0 ] || t_fail "batch 1: gimp-console exited $t_rc, expected 0"
expect() { [ "$(t_field "$1")" = "$2" ] || t_fail "$3: $1 is '$(t_field "$1")', expected '$2'"; }
expect layers1 2 "count 1"
expect new1 20x14@0,0 "count 1"
expect pos1 0,1 "count 1 (new layer above the original)"
expect layers3 4 "count 3"
expect returned3 3 "count 3"
for l in new3a new3b new3c; do expect $l 20x14@0,0 "count 3"; done
expect top3 0 "count 3 (image 0 on top)"
expect layerss 2 "selection"
expect news 8x6@4,2 "selection"

"$DFX_CLI" generate --model "$colour" --sampler euler --steps 3 --skip off --seed 5 --size 20x14 \
  -o "$t_tmp/cli-rgb.png" 2>"$t_tmp/cli.err" || t_fail "dfx generate failed: $(cat "$t_tmp/cli.err")"
"$DFX_CLI" generate --model "$grey" --sampler euler --steps 3 --skip off --seed 5 --size 20x14 \
  -o "$t_tmp/cli-grey.png" 2>"$t_tmp/cli.err" || t_fail "dfx generate failed: $(cat "$t_tmp/cli.err")"

python3 - "$t_tmp" <<PY || t_fail "batch 1: wrong pixels"
$t_png_py
d = sys.argv[1]
_, _, _, inp = load(d + "/in-rgb.png", "RGB")
for name in ("orig1", "orig3"):
    _, w, h, o = load(d + "/%s.png" % name, "RGB")
    assert (w, h) == (20, 14) and o == inp, "%s: the original layer changed" % name
_, _, _, c = load(d + "/cli-rgb.png", "RGB")
_, _, _, g1 = load(d + "/gen1.png", "RGB")
assert variance(g1) > 0, "blank layer"
m = maxdiff(g1, c)
assert m <= 1, "count 1: the layer differs from the CLI's image by up to %d of 255" % m
_, _, _, g3 = load(d + "/gen3.png", "RGB")
assert g3 == g1, "count 3: the top layer is not the count-1 image"
print("ok: layers as the CLI's image (max difference %d), original unchanged" % m)
PY

# Batch 2: the default model comes from DFX_MODELS.
mkdir -p "$t_tmp/models"
ln -s "$colour" "$t_tmp/models/fashion-mnist-32"
t0=$SECONDS
DFX_MODELS="$t_tmp/models" t_batch "
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/in-grey.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (r (plug-in-dfx-generate-layer #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg) #:skip \"auto\" $common)))
  (display (string-append \"greywarning=\" (caddr r) \"\n\"))
  (display (string-append \"greylayer=\" (if (gimp-drawable-is-gray (vector-ref (car r) 0)) \"1\" \"0\") \"\n\"))
  (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/gen-grey.png\" -1)
  (gimp-image-delete img))
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/in-rgb.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0)))
  (plug-in-dfx-generate-layer #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                              #:model \"$grey\" #:skip \"off\" $common)
  (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/gen-rgb-from-grey.png\" -1)
  (gimp-image-delete img))
(let ((img (car (plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model \"$grey\" #:skip \"off\" $common))))
  (display (string-append \"newbase=\" (number->string (gimp-image-get-base-type img)) \"\n\"))
  (gimp-image-delete img))"
t_note "GIMP batch 2 (3 generations): $((SECONDS - t0)) s"
[ "$t_rc" -eq 0 ] || t_fail "batch 2: gimp-console exited $t_rc, expected 0"
case $(t_field greywarning) in
  *"$t_tmp/models/fashion-mnist-32"*) ;;
  *) t_fail "the default model was not the one in DFX_MODELS (warning: '$(t_field greywarning)')" ;;
esac
expect greylayer 1 "grey image"
expect newbase 1 "new image from the grey model (GRAY is 1)"

python3 - "$t_tmp" <<PY || t_fail "batch 2: wrong pixels"
$t_png_py
d = sys.argv[1]
def lin(v):
    v /= 255.0
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
def enc(y):
    v = 12.92 * y if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055
    return 255.0 * v
_, _, _, c = load(d + "/cli-rgb.png", "RGB")
lum = [enc(0.2225045 * lin(c[i]) + 0.7168786 * lin(c[i + 1]) + 0.0606169 * lin(c[i + 2]))
       for i in range(0, len(c), 3)]
_, w, h, g = load(d + "/gen-grey.png", "L")
assert (w, h) == (20, 14), "grey image is %dx%d" % (w, h)
m = max(abs(a - b) for a, b in zip(g, lum))
assert m <= 2, "grey layer differs from the luminance of the CLI's image by up to %.1f" % m
_, _, _, cg = load(d + "/cli-grey.png", "L")
_, _, _, rgb = load(d + "/gen-rgb-from-grey.png", "RGB")
assert variance(cg) > 0, "blank grey image"
rep = [v for v in cg for _ in range(3)]
m2 = maxdiff(rgb, rep)
assert m2 <= 1, "grey model in an RGB image: differs from R = G = B = the CLI's grey by up to %d" % m2
print("ok: colour model into grey = luminance (max difference %.1f), grey into RGB replicated (%d)" % (m, m2))
PY
