#!/usr/bin/env bash
# test-flatpak.sh — the offline checks of dfx's Flatpak extension
# (build-aux/flatpak): nothing here can build it (no Flathub), so it checks
# what a build would trip on first.  The manifest: JSON; the keys and values
# of GIMP's template for plug-in extensions (id org.gimp.GIMP.Plugin.Dfx,
# branch 3, runtime org.gimp.GIMP, build-extension, prefix
# /app/extensions/Dfx and the paths made from it); dfx's module passes a
# plugin_dir that meson_options.txt defines, under the prefix's
# lib/gimp/3.0/plug-ins/dfx; its source folder is this checkout.  The
# metainfo: same id, extends org.gimp.GIMP, and appstreamcli validate
# --no-net accepts it.  Needs no GIMP run and no device.
set -euo pipefail
: "${DFX_SOURCE_ROOT:?run me through meson test}"
dir="$DFX_SOURCE_ROOT/build-aux/flatpak"
command -v appstreamcli >/dev/null || { echo "FAIL: appstreamcli missing (package appstream)" >&2; exit 1; }

python3 - "$dir" "$DFX_SOURCE_ROOT" <<'PY'
import json, os, re, sys
import xml.etree.ElementTree as ET
d, root = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(d, "org.gimp.GIMP.Plugin.Dfx.json")))
want = {"id": "org.gimp.GIMP.Plugin.Dfx", "branch": "3", "runtime": "org.gimp.GIMP",
        "runtime-version": "stable", "build-extension": True}
for k, v in want.items():
    assert m.get(k) == v, "manifest %s is %r, expected %r" % (k, m.get(k), v)
assert re.fullmatch(r"org\.gnome\.Sdk//\d+", m["sdk"]), "sdk %r" % m["sdk"]
prefix = "/app/extensions/Dfx"
bo = m["build-options"]
assert bo["prefix"] == prefix, bo["prefix"]
for k, tail in (("prepend-path", "/bin"), ("prepend-ld-library-path", "/lib")):
    assert bo[k] == prefix + tail, "%s is %r" % (k, bo[k])
assert bo["prepend-pkg-config-path"].split(":")[0] == prefix + "/lib/pkgconfig"
mods = {x["name"]: x for x in m["modules"]}
assert list(mods)[-1] == "dfx", "dfx must be the last module"
dfx = mods["dfx"]
assert dfx["buildsystem"] == "meson"
opts = dict(o[2:].split("=", 1) for o in dfx["config-opts"])
assert opts["plugin_dir"] == prefix + "/lib/gimp/3.0/plug-ins/dfx", opts["plugin_dir"]
assert opts["gimp"] == "enabled" and opts["tests"] == "false"
options = open(os.path.join(root, "meson_options.txt")).read()
for o in opts:
    if o not in ("buildtype",):
        assert "option('%s'" % o in options, "meson option %s is not in meson_options.txt" % o
src = dfx["sources"][0]
assert src["type"] == "dir" and os.path.isfile(os.path.join(d, src["path"], "meson.build")), src
for name, mod in mods.items():
    for s in mod.get("sources", []):
        if s["type"] == "git":
            assert s["url"].startswith("https://") and ("tag" in s or "commit" in s), (name, s)
meta = os.path.join(d, "org.gimp.GIMP.Plugin.Dfx.metainfo.xml")
assert any(meta.endswith(c.split()[-1].split("/")[-1]) or "metainfo.xml" in c for c in dfx["post-install"])
c = ET.parse(meta).getroot()
assert c.tag == "component" and c.get("type") == "addon", c.attrib
assert c.findtext("id") == m["id"], c.findtext("id")
assert c.findtext("extends") == "org.gimp.GIMP", c.findtext("extends")
print("ok: manifest %s (branch %s, %s, sdk %s), %d modules, plug-in in %s" %
      (m["id"], m["branch"], m["runtime"], m["sdk"], len(mods), opts["plugin_dir"]))
PY
appstreamcli validate --no-net --pedantic "$dir/org.gimp.GIMP.Plugin.Dfx.metainfo.xml" \
  || { echo "FAIL: appstreamcli rejects the metainfo" >&2; exit 1; }
echo "ok: appstreamcli validate --no-net accepts the metainfo"
