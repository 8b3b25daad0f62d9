#!/bin/bash
# One background job per session for a training run (issue 18):
#
#   models/recipes/finish.sh NAME --max-minutes N [models/finish_model.py options...]
#
# continues the score network (models/recipes/NAME.sh) while its run has not ended, then its
# Fisher head (NAME-fisher.sh), then, once the head has ended, gaussian/, the sample grid, the
# quality figures and the model card, each step skipping itself when up to date and the job
# stopping cleanly before N minutes (models/finish_model.py says how).  Everything runs on
# core 0; the figures go to models/state/NAME/finish.json, the card to models/state/NAME/README.md.
# NAME-all.sh is this for one run.
cd "$(dirname "$0")/../.."
# DFX_FINISH_NICE=N: the whole job at autogroup niceness N.  A job started by setsid gets an
# autogroup of its own, and Linux weighs autogroups equally whatever their tasks' `nice`, so
# `nice -n 19` in DFX_FINISH_RUN alone gave this job half of core 0 beside another run
# (measured 2026-12-07: 50/50 CPU with photo-32's finishing steps); the autogroup's own
# niceness is what yields the core.
if [ -n "${DFX_FINISH_NICE:-}" ] && [ -w /proc/self/autogroup ]; then
  echo "$DFX_FINISH_NICE" >/proc/self/autogroup 2>/dev/null || echo "finish.sh: could not set the autogroup niceness" >&2
fi
exec python3 models/finish_model.py "$@"
