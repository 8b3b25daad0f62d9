#!/bin/sh
# test-cli-prepare.sh DFX SOURCE_ROOT BUILD_DIR — `dfx prepare` (issue 23) on
# a random-weight tiny model (models/make_golden.py --config
# tiny-scaleshift-mh: 3 channels, 16x16; tests never use the trained models),
# with the method's knobs turned down so it takes seconds:
#   1. from the network (the default method, the Gaussian premise): exit 0; the gaussian/ it writes passes the format's
#      independent checker (models/dfx_gaussian.py: shapes, descending
#      eigenvalues, orthonormal components, Hermitian PSD spectrum); the JSON
#      report and config.json agree on σ̃_skip; `dfx generate --skip auto`
#      then uses the folder (skips steps at that σ̃_skip) and `--skip spectral`
#      runs on it at another size; --method total with --refine (a
#      fixed-point pass on draws of the Gaussian), --method jacobian (the Gaussian premise) and --samples
#      (given images as the model's samples) write folders that say so;
#   2. from images (--data): 24 PNGs of the model's size made here; the
#      folder says it came from 23 images (one held out) and passes the checker;
# and bad input, each refused with a message naming the cause: an existing
# gaussian/ without --force (and replaced with it), gaussian/ that is a file,
# a folder without unet/, a --data image of the wrong size, a --data folder
# without images, bad arguments (an unknown --method, --data with --samples).
dfx=$1 src=$2 tmp=$3/cli-prepare
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

python3 "$src/models/make_golden.py" --config tiny-scaleshift-mh --out "$tmp/golden" >"$tmp/golden.log" 2>&1 \
  || { cat "$tmp/golden.log"; echo "FAIL models/make_golden.py (needs python3-torch)"; exit 1; }
m=$tmp/model
mkdir -p "$m" && cp -r "$tmp/golden/model/unet" "$tmp/golden/model/scheduler" "$m/" || exit 1
quick="--rank 4 --oversample 4 --iters 1 --mean-pairs 4 --check-levels 1 --calib-images 4 --calib-steps 3 --n-sigma 6"

# 1. from the network
# shellcheck disable=SC2086
if "$dfx" prepare --model "$m" $quick --json >"$tmp/prep.json" 2>"$tmp/prep.err"; then ok
else bad "prepare from the network: $(cat "$tmp/prep.err")"; fi
if python3 - "$src/models" "$m" "$tmp/prep.json" <<'PY'; then ok; else bad "the written gaussian/ (see above)"; fi
import json, sys
sys.path.insert(0, sys.argv[1])
import dfx_gaussian
cfg, t = dfx_gaussian.load(sys.argv[2])          # raises on any format error
rep = json.load(open(sys.argv[3]))
assert rep["from"] == "network" and rep["rank"] == 4, rep
assert rep["method"] == "jacobian" and rep["sigma"] == 10, rep    # the default method
assert cfg["made_by"] == "dfx prepare" and cfg["num_images"] == 0, cfg
assert tuple(t["mean"].shape) == (3, 16, 16) and tuple(t["pca_components"].shape) == (4, 768)
assert tuple(t["spectral_covariance"].shape) == (16, 16, 3, 3, 2)
assert abs(cfg["sigma_skip"] - rep["sigma_skip"]) < 1e-9 * max(1.0, rep["sigma_skip"]), (cfg, rep)
assert cfg["sigma_skip"] in cfg["curve"]["sigma"], cfg["curve"]
assert len(cfg["premise_check"]["sigma"]) == 1 and rep["nfe_statistics"] > 0
assert rep["premise_spread"] >= 1.0 and cfg["premise_check"]["spread"] == rep["premise_spread"], rep
PY
"$dfx" generate --model "$m" --steps 6 --json -o "$tmp/auto.png" >"$tmp/auto.json" 2>"$tmp/auto.err" \
  || bad "generate --skip auto: $(cat "$tmp/auto.err")"
if python3 - "$m" "$tmp/auto.json" <<'PY'; then ok; else bad "generate --skip auto did not use the folder"; fi
import json, sys
cfg = json.load(open(sys.argv[1] + "/gaussian/config.json"))
r = json.load(open(sys.argv[2]))
if cfg["sigma_skip"] < r["sigma_max"]:
    assert r["skip"] == cfg["mode"] and abs(r["sigma_skip"] - cfg["sigma_skip"]) < 1e-9 and r["nfe_saved"] > 0, r
else:  # the calibration found no level within tolerance: auto skips nothing and says so
    assert r["skip"] == "off" or r["nfe_saved"] == 0, r
PY
check "generate --skip spectral at another size" 0 '"skip":.*"spectral"' \
  "$dfx" generate --model "$m" --steps 6 --skip spectral --sigma-skip 5 --size 24x20 --json -o "$tmp/spec.png"

# bad input
check "existing gaussian/" 1 "already exists; --force replaces it" "$dfx" prepare --model "$m" $quick
check "existing gaussian/ with --force" 0 "written from the network" "$dfx" prepare --model "$m" $quick --force
mkdir -p "$tmp/file" && cp -r "$m/unet" "$m/scheduler" "$tmp/file/" && : >"$tmp/file/gaussian"
check "gaussian/ a file" 1 "gaussian: cannot write into it (not a folder)" \
  "$dfx" prepare --model "$tmp/file" $quick --force
mkdir -p "$tmp/nounet" && cp -r "$m/scheduler" "$tmp/nounet/"
check "no unet/" 1 "unet/config.json" "$dfx" prepare --model "$tmp/nounet"
check "rank 0" 2 "rank" "$dfx" prepare --model "$m" --rank 0
check "unknown argument" 2 "unknown or incomplete argument '--frobnicate'" "$dfx" prepare --model "$m" --frobnicate
check "no --model" 2 "model is required" "$dfx" prepare
check "unknown method" 2 "expected jacobian or total" "$dfx" prepare --model "$m" --method gaussian
check "--data with --samples" 2 "exclude each other" "$dfx" prepare --model "$m" --data "$tmp" --samples "$tmp"
# shellcheck disable=SC2086
check "--method total --refine" 0 '"method":"total",.*"refine":1,"refine_sigma":5' \
  "$dfx" prepare --model "$m" $quick --force --method total --refine 1 --refine-sigma 5 --json
if python3 - "$src/models" "$m" <<'PY'; then ok; else bad "the gaussian/ of --method total"; fi
import sys
sys.path.insert(0, sys.argv[1])
import dfx_gaussian
cfg, t = dfx_gaussian.load(sys.argv[2])
assert cfg["samples"] == 4 and cfg["draws"] == 2 and cfg["trace_cov"] > 0 and cfg["refine"] == 1, cfg
assert "Cov(D)" in cfg["method"] and cfg["jacobian_sigma"] == 2 and cfg["refine_sigma"] == 5, cfg
PY
# shellcheck disable=SC2086
check "--method jacobian" 0 "Jacobian at sigma 10" "$dfx" prepare --model "$m" $quick --force --method jacobian
if python3 - "$src/models" "$m" <<'PY'; then ok; else bad "the gaussian/ of --method jacobian"; fi
import sys
sys.path.insert(0, sys.argv[1])
import dfx_gaussian
cfg, t = dfx_gaussian.load(sys.argv[2])
assert cfg["jacobian_sigma"] == 10 and "A (I - A)^-1" in cfg["method"] and "samples" not in cfg, cfg
PY

# 2. from images
python3 - "$tmp" <<'PY' || exit 1
import os, random, sys
from PIL import Image
d = sys.argv[1]
random.seed(5)
for sub, n, size in (("data", 24, (16, 16)), ("wrong", 3, (20, 16))):
    os.makedirs(os.path.join(d, sub), exist_ok=True)
    for i in range(n):
        base = [random.randrange(256) for _ in range(3)]
        im = Image.new("RGB", size)
        im.putdata([tuple(min(255, max(0, b + random.randrange(-40, 41))) for b in base)
                    for _ in range(size[0] * size[1])])
        im.save(os.path.join(d, sub, f"img{i:03d}.png"))
os.makedirs(os.path.join(d, "empty"), exist_ok=True)
PY
mkdir -p "$tmp/dm" && cp -r "$m/unet" "$m/scheduler" "$tmp/dm/"
# shellcheck disable=SC2086
check "prepare --data" 0 "written from images" "$dfx" prepare --model "$tmp/dm" --data "$tmp/data" $quick
if python3 - "$src/models" "$tmp/dm" <<'PY'; then ok; else bad "the gaussian/ made from images"; fi
import sys
sys.path.insert(0, sys.argv[1])
import dfx_gaussian
cfg, t = dfx_gaussian.load(sys.argv[2])
assert cfg["num_images"] == 23 and cfg["calibration"]["images"] == 1, cfg
PY
check "--data of the wrong size" 1 "img000.png is 20x16; the model's size is 16x16" \
  "$dfx" prepare --model "$tmp/dm" --data "$tmp/wrong" --force
check "--data without images" 1 "0 PNG image(s); at least 2 are needed" \
  "$dfx" prepare --model "$tmp/dm" --data "$tmp/empty" --force
check "--data missing" 1 "cannot open the folder" "$dfx" prepare --model "$tmp/dm" --data "$tmp/nothere" --force
# the same images as the model's samples: statistics from the network, calibration on all 24
# shellcheck disable=SC2086
check "prepare --samples" 0 "on 24 of its images noised to sigma 2" \
  "$dfx" prepare --model "$tmp/dm" --samples "$tmp/data" $quick --force --method total
if python3 - "$src/models" "$tmp/dm" <<'PY'; then ok; else bad "the gaussian/ made with --samples"; fi
import sys
sys.path.insert(0, sys.argv[1])
import dfx_gaussian
cfg, t = dfx_gaussian.load(sys.argv[2])
assert cfg["num_images"] == 0 and cfg["samples"] == 24 and cfg["calibration"]["images"] == 24, cfg
assert cfg["calibration"]["images_from"] == "the model's samples (given)", cfg
PY
check "--samples without images" 1 "samples .*0 PNG image(s)" \
  "$dfx" prepare --model "$tmp/dm" --samples "$tmp/empty" --force

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
