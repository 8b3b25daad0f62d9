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
exec python3 models/finish_model.py "$@"
