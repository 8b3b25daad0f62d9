#!/usr/bin/env bash
# test-heal.sh — plug-in-dfx-heal through a real GIMP batch (Python) on the
# shipped colour model models/photo-32: a photo (matplotlib's sample
# grace_hopper.jpg at 64x75) with a magenta disc of radius 7 painted over
# the chin, a disc of radius 8.5 around it selected (an antialiased
# ellipse that holds every painted pixel whole).
#   1. heal (10 levels, 2 passes each, run mode INTERACTIVE, which a console
#      batch runs without a dialog): one new layer above the source, 64x75;
#      no magenta pixel left in the disc; farther than the soft edge (3 px)
#      from the selection the new layer equals the source bit for bit; the
#      source is unchanged;
#   2. RUN-WITH-LAST-VALS with no arguments: the same layer again;
#   3. bad input, each leaving the layers as they were: no selection
#      (execution error "Nothing to heal"), an all-black mask channel by id
#      (success, no layer, the warning "the mask is empty"), the whole layer
#      selected (execution error "nothing around it"), the id of a channel
#      that was removed (execution error "no longer").
. "$(dirname "$0")/lib.sh"
t_require_device

model="$DFX_SOURCE_ROOT/models/photo-32"
[ -f "$model/unet/config.json" ] || t_skip "the shipped model $model is missing"
python3 - "$t_tmp" <<'PY' || t_fail "could not write the inputs"
import sys
import numpy as np
from PIL import Image
from matplotlib import cbook
d = sys.argv[1]
ph = Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB").resize((64, 75), Image.LANCZOS)
a = np.asarray(ph).copy()
yy, xx = np.mgrid[0:75, 0:64]
a[(yy - 40) ** 2 + (xx - 32) ** 2 < 49] = (255, 0, 255)
Image.fromarray(a).save(d + "/painted.png")
PY

t0=$SECONDS
t_batch --python "
from gi.repository import Gimp, Gio
NI = Gimp.RunMode.NONINTERACTIVE
pdb = Gimp.get_pdb()
img = Gimp.file_load(NI, Gio.File.new_for_path('$t_tmp/painted.png'))
src = img.get_layers()[0]
proc = pdb.lookup_procedure('plug-in-dfx-heal')
def save_layer(layer, name):
    out = Gimp.Image.new(layer.get_width(), layer.get_height(), Gimp.ImageBaseType.RGB)
    copy = Gimp.Layer.new_from_drawable(layer, out)
    out.insert_layer(copy, None, 0)
    Gimp.file_save(NI, out, Gio.File.new_for_path('$t_tmp/' + name), None)
    out.delete()
def heal(tag, mode=NI, mask=None):
    cfg = proc.create_config()
    cfg.set_property('run-mode', mode)
    cfg.set_property('image', img)
    cfg.set_core_object_array('drawables', [src])
    if mode != Gimp.RunMode.WITH_LAST_VALS:
        cfg.set_property('model', '$model')
        cfg.set_property('steps', 10)
        cfg.set_property('resample', 2)
        cfg.set_property('mask-id', mask.get_id() if mask is not None else 0)
    n = len(img.get_layers())
    res = proc.run(cfg)
    print('%s-status=%s' % (tag, res.index(0).value_nick))
    print('%s-error=%s' % (tag, (pdb.get_last_error() or '').replace('\n', ' ')))
    print('%s-new=%d' % (tag, len(img.get_layers()) - n))
    if res.index(0) == Gimp.PDBStatusType.SUCCESS:
        print('%s-warning=%s' % (tag, res.index(2)))
        layer = res.index(1)
        if layer is not None:
            print('%s-geometry=%dx%d,%d' % (tag, layer.get_width(), layer.get_height(), img.get_item_position(layer)))
        return layer
    return None
img.select_ellipse(Gimp.ChannelOps.REPLACE, 32 - 8, 40 - 8, 17, 17)  # centred on pixel (32, 40), radius 8.5
layer = heal('heal', Gimp.RunMode.INTERACTIVE)
if layer is not None:
    save_layer(layer, 'healed.png')
    img.remove_layer(layer)
layer = heal('again', Gimp.RunMode.WITH_LAST_VALS)
if layer is not None:
    save_layer(layer, 'healed-again.png')
    img.remove_layer(layer)
save_layer(src, 'src-after.png')
Gimp.Selection.none(img)
heal('nosel')
empty = Gimp.Selection.save(img)
heal('emptymask', NI, empty)
Gimp.Selection.all(img)
heal('full')
gone = Gimp.Selection.save(img)
img.remove_channel(gone)
heal('gone', NI, gone)
print('layers=%d' % len(img.get_layers()))
img.delete()
"
t_note "GIMP batch (2 heals + 4 refusals): $((SECONDS - t0)) s"
[ "$t_rc" -eq 0 ] || t_fail "gimp-console exited $t_rc, expected 0"
expect() { [ "$(t_field "$1")" = "$2" ] || t_fail "$1 is '$(t_field "$1")', expected '$2'"; }
expect heal-status success
expect heal-new 1
expect heal-geometry 64x75,0
expect again-status success
expect again-new 1
expect nosel-status execution-error
case $(t_field nosel-error) in *"Nothing to heal"*) ;; *) t_fail "no selection: '$(t_field nosel-error)'" ;; esac
expect emptymask-status success
expect emptymask-new 0
case $(t_field emptymask-warning) in *"mask is empty"*) ;; *) t_fail "empty mask: '$(t_field emptymask-warning)'" ;; esac
expect full-status execution-error
case $(t_field full-error) in *"nothing around it"*) ;; *) t_fail "full selection: '$(t_field full-error)'" ;; esac
expect full-new 0
expect gone-status execution-error
case $(t_field gone-error) in *"no longer"*) ;; *) t_fail "removed mask: '$(t_field gone-error)'" ;; esac
expect layers 1
t_note "ok: refusals: $(t_field nosel-error) / $(t_field emptymask-warning) / $(t_field full-error) / $(t_field gone-error)"

python3 - "$t_tmp" <<'PY' || t_fail "the heal's pixels"
import sys
import numpy as np
from PIL import Image
d = sys.argv[1]
L = lambda n: np.asarray(Image.open(d + "/" + n).convert("RGB"), dtype=np.int32)
src, after, out, again = L("painted.png"), L("src-after.png"), L("healed.png"), L("healed-again.png")
assert (src == after).all(), "the source layer changed"
yy, xx = np.mgrid[0:75, 0:64]
disc = (yy - 40) ** 2 + (xx - 32) ** 2 < 49
band = (yy - 40) ** 2 + (xx - 32) ** 2 <= (8.5 + 0.75 + 3) ** 2  # selected in part, plus the soft edge
magenta = ((out[..., 0] > 170) & (out[..., 2] > 170) & (out[..., 1] < 100) & disc).sum()
differ = (out[~band] != src[~band]).any(-1).sum()
print("healed: %d magenta pixels left in the disc; outside the soft edge %d of %d pixels differ; mean colour in the "
      "disc %s" % (magenta, differ, (~band).sum(), np.round(out[disc].mean(0))))
assert magenta == 0, "magenta left"
assert differ == 0, "pixels outside the soft edge changed"
assert (again == out).all(), "RUN-WITH-LAST-VALS gave another result"
PY
t_note "ok: the disc healed, outside bit for bit, RUN-WITH-LAST-VALS the same"
