#!/bin/bash
# Everything photo-32 still needs this session, as one job on core 0 (models/recipes/finish.sh):
#   models/recipes/photo-32-all.sh --max-minutes 170
# the score network's run, then its Fisher head, then gaussian/, the grid, the figures, the card.
exec "$(dirname "$0")/finish.sh" photo-32 "$@"
