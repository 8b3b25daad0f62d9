#!/usr/bin/env bash
# test-likelihood.sh — plug-in-dfx-likelihood, run by real GIMP batches
# (Script-Fu), against `dfx likelihood` on the same files.
#
# The shipped grey model (models/fashion-mnist-32, the only trained model
# with a Fisher head; few fixed steps keep it quick):
#   1. a 97x61 RGBA image with a transparent 10x10 block and a layer above
#      it: a layer group "Likelihood" at the top of the stack holding the
#      legend on top (named with the range; the ends of its colour bar are
#      viridis' published end colours, independent of dfx's table) and one
#      97x61 layer at the layer's offsets, named with its bits/dim; the
#      returned bits/dim equals the CLI's on the PNG (1e-4); the image keeps
#      its layers;
#   2. a grey 40x30 image with two layers (the second a copy moved to
#      (5, 3)), no legend: two values, equal to each other and to the CLI's,
#      two heatmaps of 40x30, the copy's at (5, 3), and the image converted
#      to RGB so the viridis colours are kept;
#   3. a 512x384 RGB photo-like image (tiles without overlap, one step: 192
#      tiles of 32x32): a 512x384 heatmap, bits/dim equal to the CLI's;
#   4. a smooth 64x48 grey image with a 16x16 block of noise pasted in, as a
#      grey map (16 steps): the block is brighter (hotter) than the rest, and
#      the image stays grey;
#   5. bad input, each refused leaving the image with its one layer: a model without fisher/
#      (names the folder and the command that makes it), a fully transparent
#      layer ("no pixel was scored"), an indexed image (convert it first).
. "$(dirname "$0")/lib.sh"
t_require_device

shipped="$DFX_SOURCE_ROOT/models/fashion-mnist-32"
[ -d "$shipped/fisher" ] || t_fail "$shipped/fisher is missing"
mkdir -p "$t_tmp/nofisher"
ln -s "$shipped/unet" "$t_tmp/nofisher/unet" && ln -s "$shipped/scheduler" "$t_tmp/nofisher/scheduler"

python3 - "$t_tmp" <<'PY' || t_fail "could not write the input images"
import random, sys
from PIL import Image
d = sys.argv[1]
random.seed(5)
a = Image.new("RGBA", (97, 61))
a.putdata([(min(255, 30 + 2 * x), min(255, 20 + 3 * y), 120, 0 if (10 <= x < 20 and 5 <= y < 15) else 255)
           for y in range(61) for x in range(97)])
a.save(d + "/a97.png")
g = Image.new("L", (40, 30))
g.putdata([(3 * x + 2 * y + random.randint(0, 9)) % 256 for y in range(30) for x in range(40)])
g.save(d + "/g40.png")
p = Image.new("RGB", (512, 384))
p.putdata([(x // 2, (y * 2) % 256, (x + y) // 4 % 256) for y in range(384) for x in range(512)])
p.save(d + "/photo.png")
n = Image.new("L", (64, 48))
n.putdata([random.randint(0, 255) if (30 <= x < 46 and 14 <= y < 30) else 60 + 2 * x + y
           for y in range(48) for x in range(64)])
n.save(d + "/noisy.png")
Image.new("LA", (9, 7), (100, 0)).save(d + "/clear.png")
Image.new("RGB", (20, 14), (10, 200, 30)).convert("P").save(d + "/indexed.png")
PY

cli_bpd() { # MODEL FILE STEPS [CLI OPTIONS]
  "$DFX_CLI" likelihood --model "$1" "$2" --solver exp3m --steps "$3" ${4:-} --json >"$t_tmp/cli.json" 2>"$t_tmp/cli.err" \
    || t_fail "dfx likelihood $2: $(cat "$t_tmp/cli.err")"
  python3 -c 'import json,sys; print("%.9f" % json.load(open(sys.argv[1]))["bits_per_dim"])' "$t_tmp/cli.json"
}
close() { python3 -c "import sys; sys.exit(abs($1 - $2) > $3)"; }

show='(define (dfx-show tag l)
  (let ((o (gimp-drawable-get-offsets l)))
    (display (string-append tag "=" (number->string (gimp-drawable-get-width l)) "x"
                            (number->string (gimp-drawable-get-height l)) "@"
                            (number->string (car o)) "," (number->string (cadr o)) "\n"))))
(define (dfx-num tag v) (display (string-append tag "=" (number->string v) "\n")))'
opts="#:model \"$shipped\" #:solver \"fixed\" #:steps 2"

t0=$SECONDS
t_batch "$show
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/a97.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (cover (gimp-layer-copy bg))
       (ins (gimp-image-insert-layer img cover 0 0))
       (r (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg) $opts))
       (group (cadr r))
       (kids (gimp-item-get-children group))
       (key (vector-ref kids 0))
       (kimg (gimp-image-new (gimp-drawable-get-width key) (gimp-drawable-get-height key) RGB))
       (kcopy (gimp-layer-new-from-drawable key kimg)))
  (gimp-image-insert-layer kimg kcopy 0 0)
  (gimp-layer-set-offsets kcopy 0 0)
  (gimp-file-save RUN-NONINTERACTIVE kimg \"$t_tmp/legend.png\" -1)
  (display (string-append \"a-legend=\" (gimp-item-get-name key) \"\n\"))
  (dfx-num \"a-bpd\" (vector-ref (car r) 0))
  (dfx-num \"a-count\" (vector-length (car r)))
  (dfx-num \"a-top\" (vector-length (gimp-image-get-layers img)))
  (dfx-num \"a-kids\" (vector-length kids))
  (dfx-num \"a-group-pos\" (gimp-image-get-item-position img group))
  (display (string-append \"a-group-name=\" (gimp-item-get-name group) \"\n\"))
  (display (string-append \"a-name=\" (gimp-item-get-name (vector-ref kids 1)) \"\n\"))
  (dfx-show \"a-heat\" (vector-ref kids 1)))
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/g40.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (dup (gimp-layer-copy bg)))
  (gimp-image-insert-layer img dup 0 0)
  (gimp-layer-set-offsets dup 5 3)
  (let* ((r (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg dup) $opts
                                     #:legend #f))
         (kids (gimp-item-get-children (cadr r))))
    (dfx-num \"g-base\" (gimp-image-get-base-type img))
    (dfx-num \"g-count\" (vector-length (car r)))
    (dfx-num \"g-bpd0\" (vector-ref (car r) 0))
    (dfx-num \"g-bpd1\" (vector-ref (car r) 1))
    (dfx-num \"g-kids\" (vector-length kids))
    (dfx-show \"g-heat0\" (vector-ref kids 0))
    (dfx-show \"g-heat1\" (vector-ref kids 1))))"
[ "$t_rc" -eq 0 ] || t_fail "batch 1: gimp-console exited $t_rc"
want=$(cli_bpd "$shipped" "$t_tmp/a97.png" 2)
[ "$(t_field a-count)" = 1 ] && [ "$(t_field a-kids)" = 2 ] && [ "$(t_field a-top)" = 3 ] \
  || t_fail "97x61: $(t_field a-count) values, $(t_field a-kids) heatmaps, $(t_field a-top) top-level layers"
[ "$(t_field a-group-name)" = Likelihood ] && [ "$(t_field a-group-pos)" = 0 ] \
  || t_fail "97x61: group '$(t_field a-group-name)' at position $(t_field a-group-pos)"
[ "$(t_field a-heat)" = "97x61@0,0" ] || t_fail "97x61: heatmap $(t_field a-heat)"
close "$(t_field a-bpd)" "$want" 1e-4 || t_fail "97x61: plug-in $(t_field a-bpd) bits/dim, CLI $want"
case $(t_field a-name) in *"bits/dim"*) ;; *) t_fail "97x61: heatmap name '$(t_field a-name)' lacks bits/dim" ;; esac
grep -q '"pixels_excluded":	100' "$t_tmp/cli.json" || t_fail "97x61: the CLI did not exclude the 100 transparent pixels"
t_note "ok: 97x61 RGBA: $(t_field a-bpd) bits/dim (CLI $want), heatmap 97x61 '$(t_field a-name)'"
case $(t_field a-legend) in "Legend: viridis "*"bits/dim") ;; *) t_fail "97x61: legend layer '$(t_field a-legend)'" ;; esac
python3 - "$t_tmp/legend.png" <<PY || t_fail "the legend's colour bar does not run from viridis' first to its last colour"
$t_png_py
_, w, h, v = load(sys.argv[1], "RGB")
# The bar spans x = 8 .. w-9 at rows 6..21 (plugin/legend.c); viridis starts at
# #440154 and ends at #fde725 (matplotlib's published table).
px = lambda x, y: tuple(v[3 * (y * w + x): 3 * (y * w + x) + 3])
first, last = px(8, 14), px(w - 9, 14)
print("ok: legend %dx%d, bar from %s to %s" % (w, h, first, last))
assert max(abs(a - b) for a, b in zip(first, (0x44, 0x01, 0x54))) <= 3, first
assert max(abs(a - b) for a, b in zip(last, (0xfd, 0xe7, 0x25))) <= 3, last
PY
want=$(cli_bpd "$shipped" "$t_tmp/g40.png" 2)
[ "$(t_field g-count)" = 2 ] && [ "$(t_field g-kids)" = 2 ] || t_fail "grey: $(t_field g-count) values, $(t_field g-kids) heatmaps"
[ "$(t_field g-base)" = 0 ] || t_fail "grey: the image's base type is $(t_field g-base) after a viridis heatmap, expected 0 (RGB)"
close "$(t_field g-bpd0)" "$want" 1e-4 && close "$(t_field g-bpd1)" "$want" 1e-4 \
  || t_fail "grey: $(t_field g-bpd0) and $(t_field g-bpd1) bits/dim, CLI $want"
heats="$(t_field g-heat0) $(t_field g-heat1)"
case $heats in "40x30@0,0 40x30@5,3" | "40x30@5,3 40x30@0,0") ;; *) t_fail "grey: heatmaps $heats" ;; esac
t_note "ok: grey 40x30, two layers: $(t_field g-bpd0), $(t_field g-bpd1) bits/dim (CLI $want); heatmaps $heats"

t_batch "$show
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/photo.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (r (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                  #:model \"$shipped\" #:solver \"fixed\" #:steps 1 #:layout \"tiles\" #:overlap 0 #:legend #f)))
  (dfx-num \"p-bpd\" (vector-ref (car r) 0))
  (dfx-show \"p-heat\" (vector-ref (gimp-item-get-children (cadr r)) 0)))
(let* ((img (gimp-file-load RUN-NONINTERACTIVE \"$t_tmp/noisy.png\"))
       (bg (vector-ref (gimp-image-get-layers img) 0))
       (r (plug-in-dfx-likelihood #:run-mode RUN-NONINTERACTIVE #:image img #:drawables (vector bg)
                                  #:model \"$shipped\" #:solver \"fixed\" #:steps 16 #:output \"grey-map\"
                                  #:legend #f)))
  (dfx-num \"n-base\" (gimp-image-get-base-type img))
  (gimp-image-remove-layer img bg)
  (gimp-file-save RUN-NONINTERACTIVE img \"$t_tmp/noisy-map.png\" -1))"
[ "$t_rc" -eq 0 ] || t_fail "batch 2: gimp-console exited $t_rc"
[ "$(t_field p-heat)" = "512x384@0,0" ] || t_fail "512x384: heatmap $(t_field p-heat)"
want=$(cli_bpd "$shipped" "$t_tmp/photo.png" 1 "--overlap 0")
close "$(t_field p-bpd)" "$want" 1e-4 || t_fail "512x384: plug-in $(t_field p-bpd) bits/dim, CLI $want"
t_note "ok: 512x384 RGB: $(t_field p-bpd) bits/dim (CLI $want), heatmap 512x384"
[ "$(t_field n-base)" = 1 ] || t_fail "grey map: the image's base type is $(t_field n-base), expected 1 (grey kept)"
python3 - "$t_tmp/noisy-map.png" <<PY || t_fail "the noise block is not hotter than the rest"
$t_png_py
_, w, h, v = load(sys.argv[1], "L")
assert (w, h) == (64, 48), (w, h)
inside = [v[y * w + x] for y in range(14, 30) for x in range(30, 46)]
outside = [v[y * w + x] for y in range(h) for x in range(w) if not (30 <= x < 46 and 14 <= y < 30)]
mi, mo = sum(inside) / len(inside), sum(outside) / len(outside)
print("ok: noise block: mean grey %.1f inside, %.1f outside (brighter = less likely)" % (mi, mo))
assert mi > mo + 10, (mi, mo)
PY

# Bad input: each call fails with its message and the image keeps its one layer.
t_batch --python "
from gi.repository import Gimp, Gio
pdb = Gimp.get_pdb()
proc = pdb.lookup_procedure('plug-in-dfx-likelihood')
def attempt(tag, path, model):
    img = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    cfg = proc.create_config()
    cfg.set_property('run-mode', Gimp.RunMode.NONINTERACTIVE)
    cfg.set_property('image', img)
    cfg.set_core_object_array('drawables', [img.get_layers()[0]])
    cfg.set_property('model', model)
    cfg.set_property('solver', 'fixed')
    cfg.set_property('steps', 2)
    res = proc.run(cfg)
    print('%s-status=%s' % (tag, res.index(0).value_nick))
    print('%s-error=%s' % (tag, (pdb.get_last_error() or '').replace('\\n', ' ')))
    print('%s-layers=%d' % (tag, len(img.get_layers())))
    img.delete()
attempt('nofisher', '$t_tmp/g40.png', '$t_tmp/nofisher')
attempt('clear', '$t_tmp/clear.png', '$shipped')
attempt('indexed', '$t_tmp/indexed.png', '$shipped')
"
[ "$t_rc" -eq 0 ] || t_fail "python batch: gimp-console exited $t_rc, expected 0"
check() { # TAG TEXT
  [ "$(t_field "$1-status")" = execution-error ] || t_fail "$1: status '$(t_field "$1-status")'"
  t_field "$1-error" | grep -q -- "$2" || t_fail "$1: message '$(t_field "$1-error")' lacks '$2'"
  [ "$(t_field "$1-layers")" = 1 ] || t_fail "$1: the image has $(t_field "$1-layers") layers, expected 1"
  t_note "ok: $1 refused, image unchanged: $(t_field "$1-error")"
}
check nofisher "nofisher/fisher.*train_fisher.py"
check clear "no pixel was scored"
check indexed "convert this indexed image first"
t_note "done in $((SECONDS - t0)) s"
