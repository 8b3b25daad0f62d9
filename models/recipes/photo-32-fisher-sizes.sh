#!/bin/bash
# photo-32's Fisher head trained further on crops of 32, 64 and 128 px (issues 18 and 20), one core.
# The head of the first schedule (models/photo-32/fisher, 3000 steps on 32-px patches) is 0.02-0.24
# bits/dim from the network's own divergence on 32-px held-out crops but 0.36-0.96 below it on
# 128-256 px ones, growing with the size (tests/bench/bench-head-size.py, BENCHMARKS.md): a fully
# convolutional head that only ever saw 32-px patches, all border, has not learnt the network away
# from a border.  This run starts from
# that head (fresh optimizer) and regresses on crops of the three sizes, one size per step, the same
# pixels per step (32 crops of 32 px, 8 of 64, 2 of 128), from 4000 training patches of 128 px;
# learning rate 1e-4, from step 2000 a cosine to 0 at 4000 (added at step 1803 of the first session:
# at constant rate the head's gap on 32-px crops still moved by 0.2-0.4 bits/dim between checkpoints).
# Model folder models/state/photo-32-sizes (unet/, scheduler/ and train_info.json link photo-32's;
# fisher/ is this run's EMA), resumable state models/state/photo-32-fisher-sizes.pt.  Extra
# arguments go to train_fisher.py (e.g. --max-minutes 160); DFX_TRAIN_PREFIX replaces the runner.
cd "$(dirname "$0")/../.."
m=models/state/photo-32-sizes
mkdir -p "$m" || exit 1
for f in unet scheduler train_info.json; do
  [ -e "$m/$f" ] || ln -s "../../photo-32/$f" "$m/$f" || exit 1
done
DFX_FISHER_MODEL=$m exec models/recipes/fisher-head.sh photo-32 photos:4000 \
  --sizes 32,64,128 --init-head models/photo-32/fisher --lr 1e-4 --lr-decay-from 2000 --steps 4000 \
  --state models/state/photo-32-fisher-sizes.pt --work build-train/photo-32-fisher-sizes "$@"
