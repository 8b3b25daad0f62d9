#!/bin/sh
# test-cli-likelihood.sh DFX SOURCE_ROOT BUILD_DIR — `dfx likelihood` with the
# shipped grey model (models/fashion-mnist-32, fixed Heun steps so it is
# quick) on small PNG files made here:
#   1. a 45x37 grey image: JSON with bits/dim equal to the mean of the map
#      written with --map (the per-pixel map averages to the layer's figure),
#      with --tiles, tiles covering the image, a heatmap PNG of the image's
#      size; by default (the whole layer at once) one tile of 48x40 (the
#      image padded to the U-Net's multiple), map mean equal to the figure;
#   2. the same pixels as an indexed (palette) PNG: converted, same bits/dim;
#      as RGB: the same (a grey model scores the luminance, R = G = B);
#   3. RGBA with a transparent block: those pixels excluded and reported,
#      transparent in the heatmap;
#   4. the benchmark baselines (--trace hutchinson|exact) on a 32x32 crop at
#      one Heun step: reported in the JSON, Hutchinson's figure depends on the
#      probe seed and DF-TM's does not, and the exact trace is the mean of
#      Hutchinson's over probes (16 one-probe seeds, within 4 standard errors);
# and bad input, each refused with a message naming the cause:
#   a model without fisher/ (names the folder and train_fisher.py), a fully
#   transparent image ("no pixel was scored"), a file that is not a PNG, a
#   truncated PNG, bad arguments.
dfx=$1 src=$2 tmp=$3/cli-likelihood
model=$src/models/fashion-mnist-32
rm -rf "$tmp" && mkdir -p "$tmp" || exit 1
pass=0 fail=0
ok() { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
check() { # description, expected exit, expected text, command...
  desc=$1 want=$2 text=$3; shift 3
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -q -- "$text"; then ok
  else bad "$desc: exit $rc, output: $out"; fi
}

python3 - "$tmp" <<'PY' || exit 1
import sys, random
from PIL import Image
d = sys.argv[1]
random.seed(3)
w, h = 45, 37
g = Image.new("L", (w, h))
g.putdata([min(255, max(0, int(40 + 3 * x + 2 * y + random.gauss(0, 6)))) for y in range(h) for x in range(w)])
g.save(d + "/grey.png")
g.convert("RGB").save(d + "/rgb.png")
g.convert("P").save(d + "/indexed.png")  # an L image as P: a grey palette, exact
a = g.convert("RGBA")
a.putdata([(v, v, v, 0 if (5 <= x < 15 and 4 <= y < 12) else 255)
           for (v, x, y) in [(g.getpixel((x, y)), x, y) for y in range(h) for x in range(w)]])
a.save(d + "/alpha.png")
g.crop((0, 0, 32, 32)).save(d + "/crop.png")
Image.new("LA", (9, 7), (100, 0)).save(d + "/clear.png")
open(d + "/text.png", "w").write("not an image\n")
raw = open(d + "/grey.png", "rb").read()
open(d + "/cut.png", "wb").write(raw[:len(raw) // 2])
PY
mkdir -p "$tmp/nofisher" && ln -s "$model/unet" "$tmp/nofisher/unet" && ln -s "$model/scheduler" "$tmp/nofisher/scheduler"

fast="--solver heun --steps 4"
# 1. grey
if "$dfx" likelihood --model "$model" "$tmp/grey.png" $fast --tiles --json --heatmap "$tmp/heat.png" \
     --map "$tmp/map.safetensors" >"$tmp/grey.json" 2>"$tmp/err"; then
  if python3 - "$tmp" <<'PY'
import json, math, sys
import numpy as np
from PIL import Image
from safetensors.numpy import load_file
d = sys.argv[1]
j = json.load(open(d + "/grey.json"))
m = load_file(d + "/map.safetensors")["bits_per_dim"]
assert m.shape == (37, 45), m.shape
assert abs(float(np.mean(m.astype(np.float64))) - j["bits_per_dim"]) < 1e-4, (np.mean(m), j["bits_per_dim"])
assert j["pixels_scored"] == 45 * 37 and j["pixels_excluded"] == 0 and j["dims"] == 45 * 37
t = j["tiles"]
assert j["tiles_x"] == 2 and j["tiles_y"] == 2 and len(t) == 4, (j["tiles_x"], j["tiles_y"])
assert t[0]["x"] == 0 and t[-1]["x"] + 32 == 45 and t[-1]["y"] + 32 == 37
assert all(math.isfinite(e["bits_per_dim"]) for e in t)
im = Image.open(d + "/heat.png")
assert im.size == (45, 37) and im.mode == "RGBA", (im.size, im.mode)
print("grey 45x37: %.4f bits/dim, 4 tiles, map mean equal" % j["bits_per_dim"])
PY
  then ok; else bad "grey: JSON, map or heatmap wrong"; fi
else bad "grey: $(cat "$tmp/err")"; fi
if "$dfx" likelihood --model "$model" "$tmp/grey.png" $fast --json --map "$tmp/mapw.safetensors" \
     >"$tmp/whole.json" 2>"$tmp/err"; then
  if python3 - "$tmp" <<'PY'
import json, sys
import numpy as np
from safetensors.numpy import load_file
d = sys.argv[1]
j = json.load(open(d + "/whole.json"))
m = load_file(d + "/mapw.safetensors")["bits_per_dim"]
assert m.shape == (37, 45) and np.isfinite(m).all(), m.shape
assert abs(float(np.mean(m.astype(np.float64))) - j["bits_per_dim"]) < 1e-4, (np.mean(m), j["bits_per_dim"])
assert j["layout"] == "whole" and len(j["tiles"]) == 1 and (j["tile_width"], j["tile_height"]) == (48, 40), j
print("grey 45x37 whole: %.4f bits/dim, one 48x40 canvas, map mean equal" % j["bits_per_dim"])
PY
  then ok; else bad "grey whole: JSON or map wrong"; fi
else bad "grey whole: $(cat "$tmp/err")"; fi
bpd() { python3 -c 'import json,sys; print("%.6f" % json.load(open(sys.argv[1]))["bits_per_dim"])' "$1"; }
# 2. indexed and RGB give the grey image's figure
for f in indexed rgb; do
  if "$dfx" likelihood --model "$model" "$tmp/$f.png" $fast --json >"$tmp/$f.json" 2>"$tmp/err"; then
    a=$(bpd "$tmp/whole.json") b=$(bpd "$tmp/$f.json")
    if python3 -c "import sys; sys.exit(abs($a - $b) > 2e-4)"; then ok; else bad "$f: $b bits/dim, grey $a"; fi
  else bad "$f: $(cat "$tmp/err")"; fi
done
grep -q '"converted_from_indexed":	true' "$tmp/indexed.json" && ok || bad "indexed: not reported as converted"
check "indexed text" 0 "indexed colours converted" "$dfx" likelihood --model "$model" "$tmp/indexed.png" $fast
# 3. alpha
if "$dfx" likelihood --model "$model" "$tmp/alpha.png" $fast --json --heatmap "$tmp/heat-a.png" \
     >"$tmp/alpha.json" 2>"$tmp/err"; then
  if python3 - "$tmp" <<'PY'
import json, sys
from PIL import Image
d = sys.argv[1]
j = json.load(open(d + "/alpha.json"))
assert j["pixels_excluded"] == 80 and j["pixels_scored"] == 45 * 37 - 80, j["pixels_excluded"]
im = Image.open(d + "/heat-a.png")
assert im.getpixel((7, 6))[3] == 0 and im.getpixel((20, 20))[3] == 255
PY
  then ok; else bad "alpha: excluded pixels wrong"; fi
else bad "alpha: $(cat "$tmp/err")"; fi
check "alpha text" 0 "80 transparent not scored" "$dfx" likelihood --model "$model" "$tmp/alpha.png" $fast
# 4. baselines
one="--solver heun --steps 1 --json"
if "$dfx" likelihood --model "$model" "$tmp/crop.png" $one --trace exact >"$tmp/exact.json" 2>"$tmp/err"; then
  n=0; ok_h=1
  while [ $n -lt 16 ] && [ $ok_h = 1 ]; do
    "$dfx" likelihood --model "$model" "$tmp/crop.png" $one --trace hutchinson --seed $n >"$tmp/h$n.json"       2>"$tmp/err" || ok_h=0
    n=$((n+1))
  done
  for s in 0 1; do "$dfx" likelihood --model "$model" "$tmp/crop.png" $one --seed $s >"$tmp/d$s.json"; done
  if [ $ok_h = 1 ] && python3 - "$tmp" <<'PY'
import json, statistics, sys
d = sys.argv[1]
ld = lambda f: json.load(open(f"{d}/{f}.json"))
ex = ld("exact")
h = [ld(f"h{k}") for k in range(16)]
assert ex["trace"] == "exact" and h[0]["trace"] == "hutchinson" and h[0]["probes"] == 1, (ex["trace"], h[0])
hb = [j["bits_per_dim"] for j in h]
m, sd = statistics.mean(hb), statistics.stdev(hb)
assert sd > 1e-3, f"Hutchinson does not depend on the probe seed: spread {sd}"
assert abs(m - ex["bits_per_dim"]) < 4 * sd / 4, f"Hutchinson mean {m} (sd {sd}) vs exact {ex['bits_per_dim']}"
d0, d1 = ld("d0"), ld("d1")
assert d0["trace"] == "dftm" and d0["bits_per_dim"] == d1["bits_per_dim"]
print(f"exact {ex['bits_per_dim']:.4f}, Hutchinson 16 seeds {m:.4f} ± {sd:.4f}, DF-TM {d0['bits_per_dim']:.4f}")
PY
  then ok; else bad "baselines: $(cat "$tmp/err")"; fi
else bad "exact trace: $(cat "$tmp/err")"; fi

# Bad input.
check "no fisher" 1 "nofisher/fisher.*train_fisher.py" "$dfx" likelihood --model "$tmp/nofisher" "$tmp/grey.png" $fast
check "transparent" 1 "no pixel was scored" "$dfx" likelihood --model "$model" "$tmp/clear.png" $fast
check "not a png" 1 "text.png is not a PNG file" "$dfx" likelihood --model "$model" "$tmp/text.png"
check "truncated" 1 "cut.png is a damaged or truncated PNG" "$dfx" likelihood --model "$model" "$tmp/cut.png"
check "missing" 1 "cannot open $tmp/none.png" "$dfx" likelihood --model "$model" "$tmp/none.png"
check "no image" 2 "an IMAGE are required" "$dfx" likelihood --model "$model"
check "solver" 2 "--solver 'rk4' is not rk45, heun or exp3m" "$dfx" likelihood --model "$model" x.png --solver rk4
# exp3m (the default): 16 steps unless --steps, one evaluation per node (the last node the Fisher head's alone:
# a variance-ratio head gives the divergence without the score network)
if "$dfx" likelihood --model "$model" "$tmp/crop.png" --solver exp3m --json >"$tmp/e16.json" 2>"$tmp/err" &&
   "$dfx" likelihood --model "$model" "$tmp/crop.png" --solver exp3m --steps 3 --json >"$tmp/e3.json" 2>"$tmp/err" &&
   python3 - "$tmp" <<'PY'
import json, math, sys
d = sys.argv[1]
a, b = (json.load(open(f"{d}/{f}.json")) for f in ("e16", "e3"))
assert a["solver"] == "exp3m" and a["steps"] == 16 and (a["nfe"], a["nfe_fisher"]) == (16, 17), \
    (a["solver"], a["steps"], a["nfe"], a["nfe_fisher"])
assert b["steps"] == 3 and (b["nfe"], b["nfe_fisher"]) == (3, 4) and math.isfinite(b["bits_per_dim"]), \
    (b["steps"], b["nfe"], b["nfe_fisher"])
print("exp3m: %.4f bits/dim in 16 + 17 evaluations, %.4f in 3 + 4" % (a["bits_per_dim"], b["bits_per_dim"]))
PY
then ok; else bad "exp3m: $(cat "$tmp/err")"; fi
check "rtol" 2 "--rtol 'abc' is not a number" "$dfx" likelihood --model "$model" x.png --rtol abc
check "range" 2 "--range '3:1' is not LO:HI" "$dfx" likelihood --model "$model" x.png --range 3:1
check "colormap" 2 "--colormap 'jet' is not viridis" "$dfx" likelihood --model "$model" x.png --colormap jet
check "trace" 2 "--trace 'vjp' is not dftm, hutchinson or exact" "$dfx" likelihood --model "$model" x.png --trace vjp
check "probes" 2 "--probes" "$dfx" likelihood --model "$model" x.png --trace hutchinson --probes 0
check "overlap" 1 "overlap 32 must be in \[0, 32)" "$dfx" likelihood --model "$model" "$tmp/grey.png" --overlap 32
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
