# ui-session.py — the GIMP side of tests/ui/test-dialogs.sh, run by GIMP's
# python-fu-eval batch interpreter inside the GUI (Gimp and Gio imported).
#
# Opens each dfx procedure as a menu click does (interactive run mode, an
# image with a display) and prints what each run returned as NAME=VALUE
# lines (flushed, the driver reads them while GIMP runs) plus the marks the
# driver waits for ("ready", "likelihood", "result", "done").  Everything
# the user does in the dialogs comes from the driver (keys), not from here.
import math
import os
import time

import gi

gi.require_version('Gegl', '0.4')
from gi.repository import Gegl, Gimp

pdb = Gimp.get_pdb()
INTERACTIVE = Gimp.RunMode.INTERACTIVE
NONINTERACTIVE = Gimp.RunMode.NONINTERACTIVE


def say(text):
    print(text, flush=True)


def wait_for(name):
    """Waits (up to 2 min) until the driver has touched the file name beside DFX_UI_GO."""
    path = os.path.join(os.path.dirname(os.environ["DFX_UI_GO"]), name)
    for _ in range(240):
        if os.path.exists(path):
            return
        time.sleep(0.5)


def run(name, **props):
    proc = pdb.lookup_procedure(name)
    cfg = proc.create_config()
    for key, value in props.items():
        if key == "drawables":
            cfg.set_core_object_array(key, value)
        else:
            cfg.set_property(key.replace("_", "-"), value)
    return proc.run(cfg)


def status(res):
    return res.index(0).value_nick


def photo(size, name):
    """A new image with one layer of smooth colour waves, shown in a display."""
    img = Gimp.Image.new(size, size, Gimp.ImageBaseType.RGB)
    layer = Gimp.Layer.new(img, name, size, size, Gimp.ImageType.RGB_IMAGE, 100, Gimp.LayerMode.NORMAL)
    img.insert_layer(layer, None, 0)
    px = bytearray()
    for y in range(size):
        for x in range(size):
            px += bytes((int(127 + 120 * math.sin(x / 9.0)), int(127 + 120 * math.sin((x + y) / 13.0)),
                         int(127 + 120 * math.cos(y / 7.0))))
    buf = layer.get_buffer()
    buf.set(Gegl.Rectangle.new(0, 0, size, size), "R'G'B' u8", bytes(px))
    buf.flush()
    layer.update(0, 0, size, size)
    img.clean_all()
    Gimp.Display.new(img)
    Gimp.displays_flush()
    return img, layer


img, layer = photo(128, "Photo")
say("ready")
# The driver first closes GIMP's welcome dialog (a key meant for it must not
# reach a dfx dialog), then says go.
for _ in range(240):
    if os.path.exists(os.environ["DFX_UI_GO"]):
        break
    time.sleep(0.5)

# 1. Device Info: an information dialog, closed by the driver.
say("device-status=%s" % status(run("plug-in-dfx-device-info", run_mode=INTERACTIVE)))

# 2. Generate (File > Create): cancelled in its dialog.
say("images-before=%d" % len(Gimp.get_images()))
say("generate-status=%s" % status(run("plug-in-dfx-generate", run_mode=INTERACTIVE)))
say("generate-images=%d" % len(Gimp.get_images()))

# 3. Generate Layer on a selection, run to completion.
img.select_rectangle(Gimp.ChannelOps.REPLACE, 30, 20, 48, 40)
res = run("plug-in-dfx-generate-layer", run_mode=INTERACTIVE, image=img, drawables=[layer])
say("layer-status=%s" % status(res))
layers = img.get_layers()
say("layer-count=%d" % len(layers))
if status(res) == "success":
    new = layers[0]
    ok, x, y = new.get_offsets()
    say("layer-new=%dx%d@%d,%d" % (new.get_width(), new.get_height(), x, y))
# The driver takes a picture of GIMP's window with the new layer in it.
Gimp.displays_flush()
say("layer-result")
wait_for("go-likelihood")
Gimp.Selection.none(img)
img.set_selected_layers([layer])

# 4. Likelihood Heatmap of the photo, run to completion.
say("likelihood")
res = run("plug-in-dfx-likelihood", run_mode=INTERACTIVE, image=img, drawables=[layer])
say("lik-status=%s" % status(res))
if status(res) == "success":
    group = img.get_layers()[0]
    say("lik-group=%s@%d" % (group.get_name(), img.get_item_position(group)))
    say("lik-kids=%s" % "|".join(k.get_name() for k in group.get_children()))
Gimp.displays_flush()
say("result")
wait_for("go-edit")


def opened_and_cancelled(key, name, img, layer):
    """Runs name interactively on layer; the driver looks at its dialog and
    presses Escape: the status and whether the image stayed as it was."""
    layers = len(img.get_layers())
    res = run(name, run_mode=INTERACTIVE, image=img, drawables=[layer])
    say("%s-status=%s" % (key, status(res)))
    say("%s-layers=%d" % (key, len(img.get_layers()) - layers))
    say("%s-dirty=%d" % (key, 1 if img.is_dirty() else 0))


# 4b. Guided Edit and Heal Selection on a photo with a guide layer and an
# elliptic selection: their dialogs open, Escape cancels, nothing changes.
img3, layer3 = photo(64, "Photo")
guide = Gimp.Layer.new(img3, "Guide", 64, 64, Gimp.ImageType.RGB_IMAGE, 100, Gimp.LayerMode.NORMAL)
img3.insert_layer(guide, None, 0)
buf = guide.get_buffer()
buf.set(Gegl.Rectangle.new(0, 0, 64, 64), "R'G'B' u8", bytes((224, 32, 32)) * (64 * 64))
buf.flush()
guide.update(0, 0, 64, 64)
guide.set_visible(False)
img3.select_ellipse(Gimp.ChannelOps.REPLACE, 20, 18, 24, 24)
img3.set_selected_layers([layer3])
img3.clean_all()
Gimp.displays_flush()
say("edit")
opened_and_cancelled("edit", "plug-in-dfx-edit", img3, layer3)
opened_and_cancelled("heal", "plug-in-dfx-heal", img3, layer3)

# 5. A long Generate Layer on a second image, cancelled from dfx's progress
# dialog by the driver.  The last-used values are the user's choice of many
# steps (a fresh image carries none of its own).
with open(os.path.join(os.environ["DFX_UI_SETTINGS"], "GimpProcedureConfigRun-plug-in-dfx-generate-layer.last"),
          "w") as f:
    f.write('(sampler "heun")\n(steps 400)\n(skip "off")\n(seed 5)\n(count 1)\n')
img2, layer2 = photo(128, "Background")
t0 = time.time()
res = run("plug-in-dfx-generate-layer", run_mode=INTERACTIVE, image=img2, drawables=[layer2])
say("cancel-seconds=%.0f" % (time.time() - t0))
say("cancel-status=%s" % status(res))
say("cancel-layers=%d" % len(img2.get_layers()))
say("cancel-dirty=%d" % (1 if img2.is_dirty() else 0))
say("after-cancel=%s" % status(run("plug-in-dfx-device-info", run_mode=NONINTERACTIVE)))
say("done")

for image in Gimp.get_images():
    image.clean_all()
quit_proc = pdb.lookup_procedure("gimp-quit")
cfg = quit_proc.create_config()
cfg.set_property("force", True)
quit_proc.run(cfg)
