#!/bin/bash
# Everything fashion-mnist-32 still needs this session, as one job on core 0 (models/recipes/finish.sh):
#   models/recipes/fashion-mnist-32-all.sh --max-minutes 170
# the score network's run, then its Fisher head, then gaussian/, the grid, the figures, the card.
exec "$(dirname "$0")/finish.sh" fashion-mnist-32 "$@"
