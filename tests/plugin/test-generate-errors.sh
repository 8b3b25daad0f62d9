#!/usr/bin/env bash
# test-generate-errors.sh — the generate procedures fail cleanly and leave
# the image exactly as it was.
#
# 1. Script-Fu: plug-in-dfx-generate with a model folder that does not
#    exist: gimp-console exits 70 (execution error), the message names the
#    folder, the batch stops at the failing call.
# 2. Python (the PDB status comes back instead of ending the batch), on a
#    loaded 12x10 RGB image, plug-in-dfx-generate-layer:
#    a. an empty folder as model: execution error "... is not a dfx model
#       folder ...";
#    b. a folder whose unet/config.json is not JSON: execution error with
#       libdfx's message naming the file;
#    c. a good model, cancelled by the plug-in's cancel path at the third
#       progress report (DFX_TEST_CANCEL_AFTER=3, the same flag dfx's Cancel
#       button sets): status CANCEL;
#    d. a good model but 2 x 4097 pixels (over libdfx's size limit): an
#       execution error with the library's message stating the limit;
#    e. the OCM-DDPM sampler on a model without fisher/: an execution error
#       naming the folder and the command that trains the head;
#    after each the image has its one layer, and saved at the end its pixels
#    equal the input.
. "$(dirname "$0")/lib.sh"
t_require_device

# 1.
missing="$t_tmp/no-such-model"
t_batch "(plug-in-dfx-generate #:run-mode RUN-NONINTERACTIVE #:model \"$missing\" #:steps 2)
  (display \"dfx-test: went on after the failure\n\")"
[ "$t_rc" -eq 70 ] || t_fail "missing model: gimp-console exited $t_rc, expected 70"
grep -F -q "The model folder $missing does not exist" "$t_tmp/out" "$t_tmp/err" \
  || t_fail "no 'The model folder $missing does not exist' message"
grep -q 'went on after the failure' "$t_tmp/out" && t_fail "the batch went on after the failed call"
t_note "ok: missing model folder: exit 70 with the folder named"

# 2.
model=$(t_tiny_model)
mkdir -p "$t_tmp/empty" "$t_tmp/corrupt/unet"
cp -r "$model/scheduler" "$t_tmp/corrupt/"
# the weights are there, so the truncated config.json is the one fault the message must name
cp "$model/unet/"*.safetensors "$t_tmp/corrupt/unet/"
printf '{ "_class_name": "UNet2DModel", ' >"$t_tmp/corrupt/unet/config.json"
python3 -c '
import sys
from PIL import Image
im = Image.new("RGB", (12, 10))
im.putdata([(20 * x, 25 * y, 200) for y in range(10) for x in range(12)])
im.save(sys.argv[1])' "$t_tmp/in.png"

DFX_TEST_CANCEL_AFTER=3 t_batch --python "
from gi.repository import Gimp, Gio
pdb = Gimp.get_pdb()
img = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path('$t_tmp/in.png'))
bg = img.get_layers()[0]
proc = pdb.lookup_procedure('plug-in-dfx-generate-layer')
def attempt(tag, model, size=None, sampler='euler'):
    if size:
        img.resize(size[0], size[1], 0, 0)
    cfg = proc.create_config()
    cfg.set_property('run-mode', Gimp.RunMode.NONINTERACTIVE)
    cfg.set_property('image', img)
    cfg.set_core_object_array('drawables', [bg])
    cfg.set_property('model', model)
    cfg.set_property('sampler', sampler)
    cfg.set_property('steps', 4)
    res = proc.run(cfg)
    print('%s-status=%s' % (tag, res.index(0).value_nick))
    print('%s-error=%s' % (tag, (pdb.get_last_error() or '').replace('\n', ' ')))
    print('%s-layers=%d' % (tag, len(img.get_layers())))
    if size:
        img.resize(12, 10, 0, 0)
attempt('empty', '$t_tmp/empty')
attempt('corrupt', '$t_tmp/corrupt')
attempt('cancel', '$model')
attempt('huge', '$model', (2, 4097))
attempt('nofisher', '$model', sampler='ocm-ddpm')
Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, img, Gio.File.new_for_path('$t_tmp/out.png'), None)
img.delete()
"
[ "$t_rc" -eq 0 ] || t_fail "python batch: gimp-console exited $t_rc, expected 0"
check() { # TAG STATUS TEXT
  [ "$(t_field "$1-status")" = "$2" ] || t_fail "$1: status '$(t_field "$1-status")', expected '$2'"
  case $(t_field "$1-error") in *"$3"*) ;; *) t_fail "$1: message '$(t_field "$1-error")' lacks '$3'" ;; esac
  [ "$(t_field "$1-layers")" = 1 ] || t_fail "$1: the image has $(t_field "$1-layers") layers, expected 1"
  t_note "ok: $1: $2: $(t_field "$1-error")"
}
check empty execution-error "The folder $t_tmp/empty is not a dfx model folder"
check corrupt execution-error "dfx could not load the model $t_tmp/corrupt: "
case $(t_field corrupt-error) in *config.json*) ;; *) t_fail "corrupt: the message does not name config.json" ;; esac
check cancel cancel ""
check huge execution-error "dfx could not generate an image: "
case $(t_field huge-error) in *4096*) ;; *) t_fail "huge: the message does not state the limit 4096" ;; esac
check nofisher execution-error "$model/fisher"
case $(t_field nofisher-error) in *"models/train_fisher.py $model"*) ;;
  *) t_fail "nofisher: the message does not name models/train_fisher.py" ;; esac

python3 - "$t_tmp/in.png" "$t_tmp/out.png" <<PY || t_fail "the image changed"
$t_png_py
_, _, _, a = load(sys.argv[1], "RGB")
_, w, h, b = load(sys.argv[2], "RGB")
assert (w, h) == (12, 10) and a == b, "the image's pixels changed"
print("ok: image unchanged after the five failures")
PY
