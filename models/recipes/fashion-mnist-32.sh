#!/bin/bash
# The fashion-mnist-32 retraining run (issue 18: the shipped network was trained on a wrong
# gradient), one core; the same architecture as before (attention at 8×8 and in the mid block),
# v-prediction with min-SNR-5 weighting and a cosine lr.  Exports to models/state/fashion-mnist-32
# while training (promoted to models/fashion-mnist-32, with a new Fisher head and gaussian/, when
# the run ends); resumes bit-for-bit from models/state/fashion-mnist-32.pt.  Extra arguments go to
# train_unet.py (e.g. --max-minutes 170 for one session; later ones override earlier).
# DFX_TRAIN_PREFIX replaces the runner "build-aux/dfx-env taskset -c 0 python3" (build-aux/gpu-train
# sets it to python3).
cd "$(dirname "$0")/../.."
exec ${DFX_TRAIN_PREFIX:-build-aux/dfx-env taskset -c 0 python3} models/train_unet.py --data fashion-mnist --size 32 --hflip \
  --channels-per-level 24,48,96 --layers-per-block 1 --attn-levels 2 --head-dim 32 --groups 8 \
  --batch 64 --steps 23000 --lr 5e-4 --lr-schedule cosine --warmup 500 --ema-decay 0.9995 \
  --prediction v_prediction --loss-weight min-snr --snr-gamma 5 \
  --out models/state/fashion-mnist-32 --state models/state/fashion-mnist-32.pt \
  --work build-train/fashion-mnist-32 --ckpt-minutes 10 --log-every 20 "$@"
