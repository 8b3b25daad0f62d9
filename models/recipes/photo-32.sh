#!/bin/bash
# The photo-32 training run (issue 18), one core; resumes bit-for-bit from models/state/photo-32.pt
# with models/state/photo-32/unet (the EMA, exported there while training; promoted to models/photo-32
# when the run ends) when both are present.  Extra arguments go to train_unet.py
# (e.g. --max-minutes 170 for one session; later ones override earlier).  DFX_TRAIN_PREFIX replaces
# the runner "build-aux/dfx-env taskset -c 0 python3" (build-aux/gpu-train sets it to python3).
cd "$(dirname "$0")/../.."
exec ${DFX_TRAIN_PREFIX:-build-aux/dfx-env taskset -c 0 python3} models/train_unet.py --data photos --size 32 --hflip \
  --channels-per-level 32,64,96 --layers-per-block 1 --attn-levels '' --no-mid-attention --groups 8 \
  --batch 64 --steps 23000 --lr 5e-4 --lr-schedule cosine --warmup 500 --ema-decay 0.9995 \
  --prediction v_prediction --loss-weight min-snr --snr-gamma 5 \
  --out models/state/photo-32 --state models/state/photo-32.pt --work build-train/photo-32 \
  --ckpt-minutes 10 --log-every 20 "$@"
