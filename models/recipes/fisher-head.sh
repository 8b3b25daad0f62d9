#!/bin/bash
# The Fisher head of a score network trained by models/recipes/NAME.sh (issue 18), one core, after
# that run has ended: a variance-ratio head (models/FISHER.md) regressed on the frozen network's own
# Jacobian diagonal, warm-started from unet/'s weights, three quarters of each batch PF-ODE states
# of 8 to 64 Heun steps (the inputs a likelihood gives it), timesteps uniform in ln σ̃ — the
# settings the shipped heads ended on, in one stage.
#
#   models/recipes/fisher-head.sh NAME DATA [train_fisher.py arguments...]
#
# Writes models/state/NAME/fisher (float32 EMA, with fisher/train_info.json: step and schedule)
# and the resumable state models/state/NAME-fisher.pt (bit-for-bit: 2 + 2 steps equal 4 straight,
# checked 2026-12-07).  Refuses while unet/ is not the end of its schedule (the head must match
# the final network; DFX_FISHER_ANY_STEP=1 overrides, for trying the recipe).  DFX_FISHER_MODEL
# replaces the model folder.  Extra arguments go to train_fisher.py, later ones overriding
# earlier (e.g. --max-minutes 160, or --state/--work for a scratch copy); DFX_TRAIN_PREFIX
# replaces the runner "build-aux/dfx-env taskset -c 0 python3".
cd "$(dirname "$0")/../.."
name=${1:?usage: fisher-head.sh NAME DATA [train_fisher.py arguments...]}
data=${2:?usage: fisher-head.sh NAME DATA [train_fisher.py arguments...]}
shift 2
model=${DFX_FISHER_MODEL:-models/state/$name}
if [ -z "${DFX_FISHER_ANY_STEP:-}" ]; then
  python3 - "$model/train_info.json" "$name" <<'PY' || exit 2
import json, sys
d = json.load(open(sys.argv[1]))
done, total = d["steps"], d["recipe"].get("total_steps")
if done != total:
    sys.exit(f"{sys.argv[2]}-fisher: {sys.argv[1]}: the score network is at step {done} of {total}; "
             "train its Fisher head when the run has ended")
PY
fi
exec ${DFX_TRAIN_PREFIX:-build-aux/dfx-env taskset -c 0 python3} models/train_fisher.py "$model" --data "$data" \
  --target network --t-sampling log-sigma --ode-fraction 0.75 --ode-steps 8:64 \
  --batch 32 --steps 3000 --lr 2e-4 --ema-decay 0.995 \
  --state "models/state/$name-fisher.pt" --work "build-train/$name-fisher" --ckpt-minutes 10 "$@"
