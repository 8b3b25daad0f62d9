#!/bin/bash
# Everything emoji-32 still needs this session, as one job on core 0 (models/recipes/finish.sh):
#   models/recipes/emoji-32-all.sh --max-minutes 170
# the score network's run (recipes/emoji-32.sh, which makes build-train/emoji-data first), then its
# Fisher head, then gaussian/, the grid, the figures, the card.  Started after fashion-mnist-32 has
# ended (models/state/README.md, "Schedule").
exec "$(dirname "$0")/finish.sh" emoji-32 "$@"
