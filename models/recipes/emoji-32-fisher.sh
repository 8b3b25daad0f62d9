#!/bin/bash
# The Fisher head of the retrained emoji-32 (issue 18), one core, after the score network's run
# has ended (models/recipes/fisher-head.sh: the recipe, the files it writes, the refusal before
# the run's end and DFX_FISHER_ANY_STEP).  Resumable from models/state/emoji-32-fisher.pt.  The
# emoji data are made by recipes/emoji-32.sh (prep_emoji.py) before the network's first step.
# Unlike the 32-px heads before it, it learns the network on layers larger than one glyph from
# the start: 32-px steps on the glyphs themselves, 64 and 128-px steps on crops of 2000 mosaics
# of whole glyphs (train_fisher.py --sizes, --mosaic; photo-32's head, trained on 32-px patches
# only, was 0.5-0.8 bits/dim off the network at 64-256 px and 0.1 after crops of those sizes,
# BENCHMARKS.md "The Fisher head off its training size"); 4000 steps of the same pixels each,
# the learning rate falling as a cosine from step 2000.  Extra arguments go to train_fisher.py
# (e.g. --max-minutes 160).
exec "$(dirname "$0")/fisher-head.sh" emoji-32 build-train/emoji-data \
  --sizes 32,64,128 --mosaic 2000 --steps 4000 --lr-decay-from 2000 "$@"
