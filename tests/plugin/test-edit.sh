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
#   1. the edit (strength 0.5, 12 iterations, 10 steps): one new layer, 32x32
#      at (5, 3), right above the source; the objective fell; inside the
#      disc the new layer is closer to the guide than the source is (mean
#      distance down by 20 % or more), outside the mask it differs from the
#      source by at most 16 of 255 on average; the source's pixels are
#      unchanged;
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
def edit(tag, g, mask=None, replace=False):
    cfg = proc.create_config()
    cfg.set_property('run-mode', NI)
    cfg.set_property('image', img)
    cfg.set_core_object_array('drawables', [src])
    cfg.set_property('model', '$model')
    cfg.set_property('guide', g)
    if mask is not None:
        cfg.set_property('mask', mask)
    cfg.set_property('strength', 0.5)
    cfg.set_property('iterations', 12)
    cfg.set_property('steps', 10)
    cfg.set_property('replace', replace)
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
layer = edit('edit', guide)
if layer is not None:
    print('edit-geometry=%dx%d@%d,%d' % ((layer.get_width(), layer.get_height()) + tuple(layer.get_offsets()[1:])))
    print('edit-position=%d,%d' % (img.get_item_position(layer), img.get_item_position(src)))
    save_layer(layer, 'edited.png')
    img.remove_layer(layer)
save_layer(src, 'src-after.png')
edit('wrong', wrong)
Gimp.Selection.none(img)
edit('nosel', guide)
empty = Gimp.Selection.save(img)  # the empty selection as a channel: all black
edit('emptymask', guide, empty)
img.select_ellipse(Gimp.ChannelOps.REPLACE, 5 + $cx - 9, 3 + $cy - 9, 18, 18)
edit('replace', guide, None, True)
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
change = np.abs(out[outside] - src[outside]).mean()
print("disc: mean distance to the guide %.1f (source) -> %.1f (edited) of 255; outside: mean change %.1f" %
      (d_in, d_out, change))
assert d_out <= 0.8 * d_in, "the masked region did not move toward the guide"
assert change <= 16, "the unmasked region changed by %.1f on average" % change
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
cfg.set_property('guide', g)
res = proc.run(cfg)
print('cancel-status=%s' % res.index(0).value_nick)
print('cancel-layers=%d' % len(img.get_layers()))
img.delete()
"
[ "$t_rc" -eq 0 ] || t_fail "cancel batch: gimp-console exited $t_rc, expected 0"
expect cancel-status cancel
expect cancel-layers 2
t_note "ok: cancelled at the third progress report, no new layer"
