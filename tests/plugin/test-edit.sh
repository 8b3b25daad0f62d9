#!/usr/bin/env bash
# test-edit.sh — plug-in-dfx-edit through a real GIMP batch (Python) on the
# shipped grey model models/fashion-mnist-32 (the guided edit needs a
# trained model to mean anything; the tiny random models of the other tests
# would follow any guide).  The model is grey, so the "red blob" of the
# issue is a grey value: a black disc painted over the brightest part of a
# generated garment, the mask a larger disc selected around it.
#
# A 40x36 grey canvas holds the garment as a 32x32 layer at (5, 3) and the
# guide as a hidden 32x32 layer at the same place:
#   1. the edit (strength 0.5, 12 iterations, 10 steps; guide and mask given
#      by item id, run mode INTERACTIVE so GIMP keeps the values; a console
#      batch shows no dialog): one new layer, 32x32 at (5, 3), right above
#      the source; the objective fell; inside the disc the new layer is
#      closer to the guide than the source is (mean distance down by 20 % or
#      more); farther than the feather (3 px) from the selection it equals
#      the source bit for bit; the source's pixels are unchanged; GIMP logs
#      no "couldn't serialize property";
#   1b. the same procedure with RUN-WITH-LAST-VALS and no arguments: the
#      guide and the mask are remembered, the new layer equals the first;
#   1c. result = layer-mask: the new layer carries a layer mask that is the
#      softened selection (0 outside the band, 1 inside the disc);
#   1d. (last) the guide layer removed, then RUN-WITH-LAST-VALS again:
#      execution error naming the guide that is gone, no new layer;
#   2. replace = TRUE writes into the source: no new layer;
#   3. bad input, each leaving the layers as they were: a guide of another
#      size (execution error naming both sizes), no selection and no mask
#      (execution error "Nothing to edit"), an all-black mask channel
#      (success, no layer, the warning "the mask is empty");
#   4. a second batch with DFX_TEST_CANCEL_AFTER=3 (the path of the dialog's
#      Cancel button): status CANCEL, no new layer.
. "$(dirname "$0")/lib.sh"
t_require_device

model="$DFX_SOURCE_ROOT/models/fashion-mnist-32"
[ -f "$model/unet/config.json" ] || t_skip "the shipped model $model is missing"
"$DFX_CLI" generate --model "$model" --seed 3 -o "$t_tmp/img.png" >/dev/null 2>"$t_tmp/cli.err" \
  || t_fail "dfx generate failed: $(cat "$t_tmp/cli.err")"
python3 - "$t_tmp" <<'PY' || t_fail "could not write the inputs"
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
img = np.asarray(Image.open(d + "/img.png").convert("L"), dtype=np.float64)
yy, xx = np.mgrid[0:32, 0:32]
cy = int(round((img * yy).sum() / img.sum()))
cx = int(round((img * xx).sum() / img.sum()))
g = img.copy()
g[(yy - cy) ** 2 + (xx - cx) ** 2 < 36] = 0
Image.fromarray(g.astype(np.uint8)).save(d + "/guide.png")
Image.fromarray(np.zeros((32, 33), np.uint8)).save(d + "/wrong.png")
Image.new("L", (40, 36), 128).save(d + "/canvas.png")
open(d + "/centre", "w").write("%d %d\n" % (cx, cy))
PY
read -r cx cy <"$t_tmp/centre"

t0=$SECONDS
t_batch --python "
from gi.repository import Gimp, Gio
NI = Gimp.RunMode.NONINTERACTIVE
pdb = Gimp.get_pdb()
def load_layer(img, name, hidden=False):
    l = Gimp.file_load_layer(NI, img, Gio.File.new_for_path('$t_tmp/' + name))
    img.insert_layer(l, None, 0)
    l.set_offsets(5, 3)
    l.set_visible(not hidden)
    return l
def save_layer(layer, name):
    out = Gimp.Image.new(layer.get_width(), layer.get_height(), Gimp.ImageBaseType.GRAY)
    copy = Gimp.Layer.new_from_drawable(layer, out)
    out.insert_layer(copy, None, 0)
    copy.set_offsets(0, 0)
    Gimp.file_save(NI, out, Gio.File.new_for_path('$t_tmp/' + name), None)
    out.delete()
img = Gimp.file_load(NI, Gio.File.new_for_path('$t_tmp/canvas.png'))
src = load_layer(img, 'img.png')
guide = load_layer(img, 'guide.png', True)
wrong = load_layer(img, 'wrong.png', True)
proc = pdb.lookup_procedure('plug-in-dfx-edit')
def edit(tag, g, mask=None, replace=False, mode=NI, result=None, iterations=12, steps=10):
    cfg = proc.create_config()
    cfg.set_property('run-mode', mode)
    cfg.set_property('image', img)
    cfg.set_core_object_array('drawables', [src])
    if mode != Gimp.RunMode.WITH_LAST_VALS:
        cfg.set_property('model', '$model')
        cfg.set_property('guide-id', g.get_id())
        if mask is not None:
            cfg.set_property('mask-id', mask.get_id())
        cfg.set_property('strength', 0.5)
        cfg.set_property('iterations', iterations)
        cfg.set_property('steps', steps)
        cfg.set_property('replace', replace)
        if result is not None:
            cfg.set_property('result', result)
    n = len(img.get_layers())
    res = proc.run(cfg)
    print('%s-status=%s' % (tag, res.index(0).value_nick))
    print('%s-error=%s' % (tag, (pdb.get_last_error() or '').replace('\n', ' ')))
    print('%s-new=%d' % (tag, len(img.get_layers()) - n))
    if res.index(0) == Gimp.PDBStatusType.SUCCESS:
        print('%s-warning=%s' % (tag, res.index(4)))
        print('%s-loss=%g,%g' % (tag, res.index(2), res.index(3)))
        return res.index(1)
    return None
save_layer(src, 'src-before.png')
img.select_ellipse(Gimp.ChannelOps.REPLACE, 5 + $cx - 9, 3 + $cy - 9, 18, 18)
layer = edit('edit', guide, mode=Gimp.RunMode.INTERACTIVE)
if layer is not None:
    print('edit-geometry=%dx%d@%d,%d' % ((layer.get_width(), layer.get_height()) + tuple(layer.get_offsets()[1:])))
    print('edit-position=%d,%d' % (img.get_item_position(layer), img.get_item_position(src)))
    save_layer(layer, 'edited.png')
    img.remove_layer(layer)
layer = edit('lastvals', None, mode=Gimp.RunMode.WITH_LAST_VALS)
if layer is not None:
    save_layer(layer, 'edited-again.png')
    img.remove_layer(layer)
layer = edit('lmask', guide, result='layer-mask', iterations=1, steps=2)
if layer is not None:
    m = layer.get_mask()
    print('lmask-has-mask=%d' % (m is not None))
    if m is not None:
        out = Gimp.Image.new(m.get_width(), m.get_height(), Gimp.ImageBaseType.GRAY)
        copy = Gimp.Layer.new_from_drawable(m, out)
        out.insert_layer(copy, None, 0)
        copy.set_offsets(0, 0)
        Gimp.file_save(NI, out, Gio.File.new_for_path('$t_tmp/lmask.png'), None)
        out.delete()
    img.remove_layer(layer)
save_layer(src, 'src-after.png')
edit('wrong', wrong)
Gimp.Selection.none(img)
edit('nosel', guide)
empty = Gimp.Selection.save(img)  # the empty selection as a channel: all black
edit('emptymask', guide, empty)
img.select_ellipse(Gimp.ChannelOps.REPLACE, 5 + $cx - 9, 3 + $cy - 9, 18, 18)
edit('replace', guide, None, True, iterations=1, steps=2)
# the remembered guide (of the INTERACTIVE run: GIMP keeps the values of interactive runs) removed
img.remove_layer(guide)
edit('gone', None, mode=Gimp.RunMode.WITH_LAST_VALS)
img.delete()
"
t_note "GIMP batch (2 edits + 3 refusals): $((SECONDS - t0)) s"
[ "$t_rc" -eq 0 ] || t_fail "gimp-console exited $t_rc, expected 0"
expect() { [ "$(t_field "$1")" = "$2" ] || t_fail "$1 is '$(t_field "$1")', expected '$2'"; }
expect edit-status success
expect edit-new 1
expect edit-geometry 32x32@5,3
expect edit-position 2,3  # the guide layers lie above the source (3): the new layer right above it
t_note "ok: one new layer of 32x32 at (5, 3) above the source; loss $(t_field edit-loss)"
python3 - "$(t_field edit-loss)" <<'PY' || t_fail "the objective did not fall: $(t_field edit-loss)"
import sys
a, b = map(float, sys.argv[1].split(","))
assert b < 0.9 * a, (a, b)
PY
expect lastvals-status success
expect lastvals-new 1
expect lmask-status success
expect lmask-has-mask 1
expect gone-status execution-error
expect gone-new 0
case $(t_field gone-error) in *"no longer in this image"*) ;; *) t_fail "guide removed: '$(t_field gone-error)'" ;; esac
if grep -q "couldn't serialize" "$t_tmp/err"; then t_fail "GIMP could not keep a value: $(grep "couldn't serialize" "$t_tmp/err" | head -1)"; fi
t_note "ok: remembered values (RUN-WITH-LAST-VALS), a layer-mask result, the removed guide: $(t_field gone-error)"
expect wrong-status execution-error
case $(t_field wrong-error) in *"33×32"*"32×32"*) ;; *) t_fail "wrong size: '$(t_field wrong-error)'" ;; esac
expect wrong-new 0
expect nosel-status execution-error
case $(t_field nosel-error) in *"Nothing to edit"*) ;; *) t_fail "no selection: '$(t_field nosel-error)'" ;; esac
expect nosel-new 0
expect emptymask-status success
expect emptymask-new 0
case $(t_field emptymask-warning) in *"mask is empty"*) ;; *) t_fail "empty mask: '$(t_field emptymask-warning)'" ;; esac
expect replace-status success
expect replace-new 0
t_note "ok: refusals: $(t_field wrong-error) / $(t_field nosel-error) / $(t_field emptymask-warning)"

python3 - "$t_tmp" "$cx" "$cy" <<'PY' || t_fail "the edit's pixels"
import sys
import numpy as np
from PIL import Image
d, cx, cy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
L = lambda n: np.asarray(Image.open(d + "/" + n).convert("L"), dtype=np.float64)
src, after, out, guide = L("src-before.png"), L("src-after.png"), L("edited.png"), L("guide.png")
assert (src == after).all(), "the source layer changed"
assert (src == L("img.png")).all(), "the source layer is not the input image"
yy, xx = np.mgrid[0:32, 0:32]
disc = (yy - cy) ** 2 + (xx - cx) ** 2 < 36
# the selection: an ellipse in an 18x18 box (antialiased edge), well inside radius 9.5
outside = (yy - cy + 0.5) ** 2 + (xx - cx + 0.5) ** 2 > 10.5 ** 2
d_in, d_out = np.abs(src[disc] - guide[disc]).mean(), np.abs(out[disc] - guide[disc]).mean()
band = (yy - cy + 0.5) ** 2 + (xx - cx + 0.5) ** 2 <= (9.5 + 3 + 1) ** 2  # the selection's box, the feather, a margin
same = (out[~band] == src[~band]).all()
print("disc: mean distance to the guide %.1f (source) -> %.1f (edited) of 255; outside the band: %d of %d pixels "
      "differ" % (d_in, d_out, (out[~band] != src[~band]).sum(), (~band).sum()))
assert d_out <= 0.8 * d_in, "the masked region did not move toward the guide"
assert same, "pixels outside the selection's soft edge changed"
again = L("edited-again.png")
assert (again == out).all(), "RUN-WITH-LAST-VALS gave another result (%d pixels differ)" % (again != out).sum()
lm = L("lmask.png")
assert (lm[~band] == 0).all() and (lm[disc] == 255).all(), \
    "the layer mask is not the softened selection: max %d outside the band, min %d in the disc" % (
        lm[~band].max(), lm[disc].min())
print("RUN-WITH-LAST-VALS: the same layer; layer mask: 0 outside the band, 255 in the disc")
PY

# 4. cancel
DFX_TEST_CANCEL_AFTER=3 t_batch --python "
from gi.repository import Gimp, Gio
NI = Gimp.RunMode.NONINTERACTIVE
pdb = Gimp.get_pdb()
img = Gimp.file_load(NI, Gio.File.new_for_path('$t_tmp/img.png'))
src = img.get_layers()[0]
g = Gimp.file_load_layer(NI, img, Gio.File.new_for_path('$t_tmp/guide.png'))
img.insert_layer(g, None, 0)
img.select_ellipse(Gimp.ChannelOps.REPLACE, $cx - 9, $cy - 9, 18, 18)
proc = pdb.lookup_procedure('plug-in-dfx-edit')
cfg = proc.create_config()
cfg.set_property('run-mode', NI)
cfg.set_property('image', img)
cfg.set_core_object_array('drawables', [src])
cfg.set_property('model', '$model')
cfg.set_property('guide-id', g.get_id())
res = proc.run(cfg)
print('cancel-status=%s' % res.index(0).value_nick)
print('cancel-layers=%d' % len(img.get_layers()))
img.delete()
"
[ "$t_rc" -eq 0 ] || t_fail "cancel batch: gimp-console exited $t_rc, expected 0"
expect cancel-status cancel
expect cancel-layers 2
t_note "ok: cancelled at the third progress report, no new layer"
