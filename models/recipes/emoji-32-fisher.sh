#!/bin/bash
# The Fisher head of the retrained emoji-32 (issue 18), one core, after the score network's run
# has ended (models/recipes/fisher-head.sh: the recipe, the files it writes, the refusal before
# the run's end and DFX_FISHER_ANY_STEP).  3000 steps of batch 32; resumable from
# models/state/emoji-32-fisher.pt.  The emoji data are made by recipes/emoji-32.sh (prep_emoji.py)
# before the network's first step.  Extra arguments go to train_fisher.py (e.g. --max-minutes 160).
exec "$(dirname "$0")/fisher-head.sh" emoji-32 build-train/emoji-data "$@"
