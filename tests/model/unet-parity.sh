#!/usr/bin/env bash
# unet-parity.sh — one meson test of suite `model`: dfx's Vulkan U-Net against
# the float64 PyTorch reference on golden files.
#
#   unet-parity.sh DFX PYTHON MODELS_DIR CONFIG GOLDEN_DIR
#
# 1. `PYTHON MODELS_DIR/make_golden.py --config CONFIG --out GOLDEN_DIR` writes
#    (or, when its inputs are unchanged, keeps) GOLDEN_DIR/model and the cases
#    listed in GOLDEN_DIR/cases.txt ("NAME TIMESTEP", "-" = per-item timesteps).
# 2. For each case: `DFX unet --model GOLDEN_DIR/model --input CASE --output OUT
#    --json [--timestep T]` (no --timestep when the case's timesteps differ per
#    batch item: the CLI then takes the input file's `timestep` vector).
# 3. `models/compare.py OUT CASE`: relative L2 error of tensor `sample` against
#    `expected` must be <= 1e-5.
# Fails on the first unusable result of step 1, otherwise runs every case and
# fails when any case failed.  Outputs stay in GOLDEN_DIR/out for inspection.
set -uo pipefail
[ $# -eq 5 ] || { echo "usage: unet-parity.sh DFX PYTHON MODELS_DIR CONFIG GOLDEN_DIR" >&2; exit 2; }
dfx=$1 py=$2 models=$3 cfg=$4 dir=$5

"$py" "$models/make_golden.py" --config "$cfg" --out "$dir" || { echo "$cfg: make_golden.py failed"; exit 1; }
mkdir -p "$dir/out"
fail=0 ncase=0
while read -r name t; do
  [ -n "$name" ] || continue
  ncase=$((ncase + 1))
  case_file=$dir/cases/$name.safetensors out=$dir/out/$name.safetensors
  rm -f "$out"
  args=(unet --model "$dir/model" --input "$case_file" --output "$out" --json)
  [ "$t" = - ] || args+=(--timestep "$t")
  echo "+ $dfx ${args[*]}"
  t0=${EPOCHREALTIME/./}
  rc=0
  "$dfx" "${args[@]}" >"$dir/out/$name.json" || rc=$?
  if [ $rc -ne 0 ]; then
    echo "$cfg/$name: FAIL: dfx unet exited with status $rc (stdout in $dir/out/$name.json)"
    cat "$dir/out/$name.json"
    fail=1
    continue
  fi
  ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
  res=$("$py" "$models/compare.py" "$out" "$case_file" 2>&1) || fail=1
  printf '%s/%s: %s (dfx unet %d ms)\n' "$cfg" "$name" "$res" "$ms"
done <"$dir/cases.txt"
[ $ncase -gt 0 ] || { echo "$cfg: no cases in $dir/cases.txt"; exit 1; }
exit $fail
