#!/bin/bash
# The emoji-32 retraining run (issue 18; after photo-32 and fashion-mnist-32), one core: the same
# architecture as before (attention at 8×8 and in the mid block) on the glyphs of
# models/prep_emoji.py (made here first when missing), v-prediction with min-SNR-5 weighting and
# a cosine lr.  Exports to models/state/emoji-32 while training; resumes bit-for-bit from
# models/state/emoji-32.pt.  Extra arguments go to train_unet.py (later ones override earlier).
# DFX_TRAIN_PREFIX replaces the runner "build-aux/dfx-env taskset -c 0 python3".
cd "$(dirname "$0")/../.."
run=${DFX_TRAIN_PREFIX:-build-aux/dfx-env taskset -c 0 python3}
[ -d build-train/emoji-data ] || $run models/prep_emoji.py --out build-train/emoji-data || exit 1
exec $run models/train_unet.py --data build-train/emoji-data --channels 3 --size 32 --hflip \
  --channels-per-level 24,48,96 --layers-per-block 1 --attn-levels 2 --head-dim 32 --groups 8 \
  --batch 64 --steps 23000 --lr 5e-4 --lr-schedule cosine --warmup 500 --ema-decay 0.9995 \
  --prediction v_prediction --loss-weight min-snr --snr-gamma 5 \
  --out models/state/emoji-32 --state models/state/emoji-32.pt \
  --work build-train/emoji-32 --ckpt-minutes 10 --log-every 20 "$@"
