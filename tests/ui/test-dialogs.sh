#!/usr/bin/env bash
# test-dialogs.sh — dfx in the real GIMP with its windows, on a virtual
# display, as a user meets it.
#
# One GIMP session (gimp-3.0 under xvfb-run, Openbox placing and focusing
# the dialogs) in a throw-away profile holding the freshly built plug-in;
# a Python batch (ui-session.py) opens each procedure the way a menu click
# does (interactive run mode) while this script, like a user, waits for each
# window, saves its screenshot to $DFX_SHOTS and answers it with keys:
#   1. Device Info: an information dialog (Escape closes it);
#   2. Generate (new image): the dialog, then its Advanced section opened
#      with its mnemonic (Alt+A); Escape cancels: status cancel, no image;
#   3. Generate Layer on a 48x40 selection of a 128x128 photo: the dialog
#      (saying the layer will be 48x40), Return runs it to completion with
#      the shipped colour model (few steps, preset as last-used values): one
#      new 48x40 layer at the selection;
#      A screenshot of GIMP's window shows the new layer.
#   4. Likelihood Heatmap on the photo: dialog and Advanced, Return runs it:
#      a "Likelihood" group at the top of the stack with the legend and the
#      heatmap; a screenshot of GIMP's window shows the result;
#   4b. Guided Edit and Heal Selection on a 64x64 photo with a guide layer
#      and an elliptic selection: each dialog and its Advanced section,
#      Escape cancels: status cancel, no new layer, the image not dirty;
#   5. Cancel: a long Generate Layer (whole 128x128 canvas, 400 steps) on a
#      second image; once dfx's progress dialog (titled by the procedure,
#      with the time left) is up, Escape cancels it: status cancel, the image
#      keeps its one layer, and the next call (Device Info) still works;
#   6. GIMP's console holds no critical or warning of the dfx process and
#      no mnemonic clash of a dfx dialog.
# Skips (77) only when Xvfb (xvfb-run) is missing; the other tools are part
# of the environment (build-aux/packages.txt) and their absence fails.
. "$DFX_SOURCE_ROOT/tests/plugin/lib.sh"

command -v xvfb-run >/dev/null && command -v Xvfb >/dev/null || t_skip "Xvfb (xvfb-run) is not installed"
for tool in xdotool import openbox; do
  command -v "$tool" >/dev/null || t_fail "$tool is missing (build-aux/packages.txt installs it)"
done
t_require_device
: "${GIMP_GUI:=gimp-3.0}" "${DFX_SHOTS:=$DFX_BUILD_ROOT/tests/ui/screenshots}"
mkdir -p "$DFX_SHOTS"
rm -f "$DFX_SHOTS"/*.png

# The profile: no welcome dialog; last-used values that keep the runs short
# (GIMP loads them for interactive runs, as a user's earlier choices).
printf '(show-welcome-dialog no)\n' >"$GIMP3_DIRECTORY/gimprc"
settings="$GIMP3_DIRECTORY/plug-in-settings"
mkdir -p "$settings"
# (With the shipped models, for the README, dfx's defaults: a picture.)
layer_settings='(sampler "euler")\n(steps 3)\n(skip "off")'
[ "${DFX_UI_SHIPPED_MODELS:-0}" = 1 ] && layer_settings='(sampler "heun")\n(steps 18)\n(skip "auto")'
printf "$layer_settings"'\n(seed 11)\n(count 1)\n' \
  >"$settings/GimpProcedureConfigRun-plug-in-dfx-generate-layer.last"
printf '(colormap "viridis")\n(output "heatmap")\n(legend yes)\n(solver "fixed")\n(steps 2)\n(layout "whole")\n' \
  >"$settings/GimpProcedureConfigRun-plug-in-dfx-likelihood.last"
export DFX_UI_SETTINGS="$settings" DFX_UI_GO="$t_tmp/go"

# The default colour model is a stand-in: the tiny random-weight model of
# the plug-in tests (16x16, its U-Net doubling as the Fisher head), found
# first through DFX_MODELS, so the runs and the pipeline compilation take
# seconds; its card says what it is.  DFX_UI_SHIPPED_MODELS=1 leaves the
# shipped models in charge instead (for the README's screenshots; slower).
# The pipeline cache lives in the build folder: a rerun compiles nothing.
if [ "${DFX_UI_SHIPPED_MODELS:-0}" != 1 ]; then
  tiny=$(t_tiny_model)
  mkdir -p "$t_tmp/models/photo-32"
  ln -s "$tiny/unet" "$t_tmp/models/photo-32/unet"
  ln -s "$tiny/unet" "$t_tmp/models/photo-32/fisher"
  ln -s "$tiny/scheduler" "$t_tmp/models/photo-32/scheduler"
  printf '# photo-32 \u2014 ui test stand-in (tiny random weights)\n' >"$t_tmp/models/photo-32/README.md"
  export DFX_MODELS="$t_tmp/models"
fi
export DFX_PIPELINE_CACHE="$DFX_BUILD_ROOT/tests/ui/pipeline-cache"
# A fresh HOME for GIMP, but the caches of the machine's own (Mesa's shader
# cache: an empty one costs minutes of compilation on lavapipe; fontconfig's).
export XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
export NO_AT_BRIDGE=1 HOME="$t_tmp/home" LP_NUM_THREADS=${LP_NUM_THREADS:-1} G_MESSAGES_DEBUG=dfx
mkdir -p "$HOME"
cp "$DFX_SOURCE_ROOT/tests/ui/ui-session.py" "$t_tmp/session.py"

cat >"$t_tmp/driver.sh" <<'DRIVER'
#!/usr/bin/env bash
# Runs inside xvfb-run: the window manager, GIMP, and the "user".
set -uo pipefail
log() { printf '%s driver: %s\n' "$(date +%T)" "$*" >>"$T/driver.log"; }
openbox >"$T/openbox.log" 2>&1 &
"$GIMP_GUI" -n -s -d --no-shm --batch-interpreter python-fu-eval \
  -b "exec(open('$T/session.py').read())" </dev/null >"$T/out" 2>"$T/err" &
gimp=$!

# step MARK [TIMEOUT]: waits until the session printed MARK.
step() {
  local i
  for ((i = 0; i < ${2:-120} * 2; i++)); do
    grep -qx "$1" "$T/out" && return 0
    kill -0 $gimp 2>/dev/null || { log "GIMP exited before $1"; return 1; }
    grep -q "Stopping at failing batch command" "$T/err" && { log "the session failed before $1"; return 1; }
    sleep 0.5
  done
  log "timeout waiting for $1"; return 1
}
# window TITLE [TIMEOUT] [NOT_ID]: prints the id of a visible window titled TITLE.
window() {
  local i id
  for ((i = 0; i < ${2:-60} * 2; i++)); do
    id=$(xdotool search --onlyvisible --name "^$1\$" 2>/dev/null | grep -vx "${3:-none}" | head -1)
    [ -n "$id" ] && { printf '%s\n' "$id"; return 0; }
    sleep 0.5
  done
  log "no window '$1'"; return 1
}
gone() { # ID [TIMEOUT]
  local i
  for ((i = 0; i < ${2:-60} * 2; i++)); do
    xdotool getwindowname "$1" >/dev/null 2>&1 || return 0
    sleep 0.5
  done
  log "window $1 did not close"; return 1
}
shot() { # ID NAME
  # The pointer goes to the screen's far corner first: a tooltip under it would
  # cover part of the dialog (import takes the screen's pixels), as a black box.
  xdotool mousemove 9999 9999 2>/dev/null
  sleep 1
  import -window "$1" "$SHOTS/$2.png" 2>>"$T/driver.log" && log "screenshot $2.png"
}
keys() { # ID KEY...
  local id=$1; shift
  xdotool windowactivate --sync "$id" >/dev/null 2>&1 || xdotool windowfocus --sync "$id" 2>/dev/null
  sleep 0.3
  # Through XTEST to the focused window, as a keyboard does (GTK ignores
  # keys sent to a window with XSendEvent).
  xdotool key --clearmodifiers "$@"
}
# progressed N: waits until dfx's progress dialog has shown a fraction
# above 0 in a debug line after the first N (GLib writes them to stdout):
# the model is loaded, the run is under way.  With the shipped models (the
# README's screenshots) it waits for 2 %, when the dialog shows the time
# left (a minute more on a loaded machine, so not in every run).
progress_lines() { cat "$T/out" "$T/err" | grep -c 'dfx-DEBUG.*progress'; }
progressed() {
  local i
  for ((i = 0; i < 600; i++)); do
    cat "$T/out" "$T/err" | grep 'dfx-DEBUG.*progress' | tail -n +$(($1 + 1)) \
      | grep -qE "$PROGRESSED" && return 0
    sleep 0.5
  done
  log "no progress reported"; return 1
}
# window_shot NAME: the image fills GIMP's window (View > Zoom > Fit Image
# in Window, Shift+Ctrl+J), as a user looks at a result, and GIMP's window
# is saved (the whole screen when it cannot be found).
window_shot() {
  local m
  sleep 1
  m=$(xdotool search --onlyvisible --name "GIMP\$" 2>/dev/null | head -1)
  [ -n "$m" ] && keys "$m" shift+ctrl+j
  sleep 2
  import -window "${m:-root}" "$SHOTS/$1.png" 2>>"$T/driver.log" && log "screenshot $1.png"
}
run() {
  step ready 300 || return 1
  # GIMP's welcome dialog (shown on a new version's first start whatever
  # gimprc says) goes; the main window fills the screen.
  # (When it ignores Escape, Alt+F4, Openbox's close key, closes it as the
  # window's close button does.)
  if w=$(window "Welcome to GIMP.*" 30); then
    keys "$w" Escape
    gone "$w" 3 || keys "$w" alt+F4
    gone "$w" 10
  fi
  for m in $(xdotool search --onlyvisible --name "GIMP\$" 2>/dev/null); do
    xdotool windowmove "$m" 0 0 windowsize "$m" 1280 900 2>/dev/null
  done
  # Only now may the session open dfx's dialogs (it waits for this file).
  touch "$T/go"
  w=$(window "Device Info") && shot "$w" device-info && keys "$w" Escape && gone "$w"
  w=$(window "Generate an Image") && shot "$w" generate && keys "$w" alt+a && shot "$w" generate-advanced \
    && keys "$w" Escape && gone "$w"
  w=$(window "Generate Layer") && shot "$w" generate-layer && keys "$w" Return && gone "$w"
  step layer-result 400 || return 1
  window_shot generate-layer-result
  touch "$T/go-likelihood"
  step likelihood 60 || return 1
  w=$(window "Likelihood Heatmap") && shot "$w" likelihood && keys "$w" alt+a && shot "$w" likelihood-advanced \
    && keys "$w" Return && gone "$w"
  step result 400 || return 1
  window_shot likelihood-result
  touch "$T/go-edit"
  step edit 120 || return 1
  w=$(window "Guided Edit") && shot "$w" edit && keys "$w" alt+a && shot "$w" edit-advanced \
    && keys "$w" Escape && gone "$w"
  w=$(window "Heal Selection") && shot "$w" heal && keys "$w" alt+a && shot "$w" heal-advanced \
    && keys "$w" Escape && gone "$w"
  w=$(window "Generate Layer" 60) || return 1
  before=$(progress_lines)
  keys "$w" Return && gone "$w" || return 1
  p=$(window "Generate Layer" 120 "$w") || return 1
  # Once the bar moves (the time left shows), cancel as a user does.
  progressed "$before" || return 1
  sleep 1; shot "$p" progress; keys "$p" Escape; log "cancel sent"
  step done 400
}
run
sleep 1
log "session finished; waiting for GIMP to quit"
for ((i = 0; i < 120; i++)); do kill -0 $gimp 2>/dev/null || break; sleep 0.5; done
kill $gimp 2>/dev/null
wait $gimp 2>/dev/null
kill %1 2>/dev/null
exit 0
DRIVER
chmod +x "$t_tmp/driver.sh"

PROGRESSED='progress 0\.[0-9]*[1-9]'
[ "${DFX_UI_SHIPPED_MODELS:-0}" = 1 ] && PROGRESSED='progress (0\.0[2-9][0-9]|0\.[1-9][0-9][0-9]|1\.000)'
t0=$SECONDS
T="$t_tmp" SHOTS="$DFX_SHOTS" GIMP_GUI="$GIMP_GUI" PROGRESSED="$PROGRESSED" \
  timeout -k 10 840 xvfb-run -a -s "-screen 0 1280x900x24 -nolisten tcp" "$t_tmp/driver.sh" \
  >"$t_tmp/xvfb.log" 2>&1 || t_note "xvfb-run exited $?"
t_note "GIMP session: $((SECONDS - t0)) s"

# The session's logs stay beside the screenshots for whoever looks at them.
for f in driver.log out err; do cp "$t_tmp/$f" "$DFX_SHOTS/../session-$f.txt" 2>/dev/null || true; done
{ ls -l "$settings"; for f in "$settings"/*; do echo "== $f"; cat "$f"; done; } >"$DFX_SHOTS/../session-settings.txt" 2>&1
show_logs() {
  for f in driver.log out err; do printf -- '--- %s\n' "$f" >&2; cat "$t_tmp/$f" >&2 2>/dev/null || true; done
}
fail() { show_logs; t_fail "$@"; }
field() { sed -n "s/^$1=//p" "$t_tmp/out" | head -1; }

for s in device-info generate generate-advanced generate-layer generate-layer-result likelihood \
         likelihood-advanced likelihood-result edit edit-advanced heal heal-advanced progress; do
  [ -s "$DFX_SHOTS/$s.png" ] || fail "no screenshot $s.png: the dialog did not open (see driver.log)"
done
t_note "ok: every dialog opened; screenshots in $DFX_SHOTS"

[ "$(field device-status)" = success ] || fail "Device Info: status '$(field device-status)'"
[ "$(field generate-status)" = cancel ] || fail "Generate, cancelled in its dialog: status '$(field generate-status)'"
[ "$(field generate-images)" = "$(field images-before)" ] || fail "Generate cancelled but an image was made"
[ "$(field layer-status)" = success ] || fail "Generate Layer: status '$(field layer-status)'"
[ "$(field layer-count)" = 2 ] || fail "Generate Layer: the image has $(field layer-count) layers, expected 2"
[ "$(field layer-new)" = "48x40@30,20" ] || fail "Generate Layer: new layer $(field layer-new), expected 48x40@30,20"
t_note "ok: Generate Layer ran to completion: a 48x40 layer at (30, 20)"
[ "$(field lik-status)" = success ] || fail "Likelihood Heatmap: status '$(field lik-status)'"
[ "$(field lik-group)" = "Likelihood@0" ] || fail "Likelihood: group $(field lik-group), expected Likelihood@0 (top)"
case $(field lik-kids) in "Legend: viridis "*"bits/dim|Photo: "*"bits/dim"*) ;;
  *) fail "Likelihood: the group holds '$(field lik-kids)', expected the legend and the heatmap" ;; esac
t_note "ok: Likelihood Heatmap ran to completion: $(field lik-kids)"
for key in edit heal; do
  [ "$(field $key-status)" = cancel ] || fail "$key, cancelled in its dialog: status '$(field $key-status)'"
  [ "$(field $key-layers)" = 0 ] || fail "$key cancelled, but the image has $(field $key-layers) more layers"
  [ "$(field $key-dirty)" = 0 ] || fail "$key cancelled, but the image was changed"
done
t_note "ok: Guided Edit and Heal Selection: dialogs opened, Escape left the image unchanged"
[ "$(field cancel-status)" = cancel ] || fail "Cancel: status '$(field cancel-status)', expected cancel"
[ "$(field cancel-layers)" = 1 ] || fail "Cancel: the image has $(field cancel-layers) layers, expected its 1"
[ "$(field cancel-dirty)" = 0 ] || fail "Cancel: the image was changed (dirty count $(field cancel-dirty))"
[ "$(field after-cancel)" = success ] || fail "after the cancel, Device Info failed: '$(field after-cancel)'"
t_note "ok: Cancel mid-run after $(field cancel-seconds) s: image unchanged, dfx still answers"

# The console: the dfx process's own GLib/GTK/GIMP messages and GIMP's
# mnemonic checks of dfx's dialogs.
# ("gimp_flush(): error: Broken pipe" from a plug-in still exiting while
# GIMP quits is a shutdown race of every plug-in, as in tests/plugin/lib.sh.)
if grep -E '\(dfx:[0-9]+\): [A-Za-z-]+-(CRITICAL|WARNING)|Procedure .plug-in-dfx|Plug-in crashed: "dfx"' \
     "$t_tmp/err" | grep -v 'gimp_flush(): error: Broken pipe' >"$t_tmp/bad"; then
  fail "dfx wrote criticals, warnings or mnemonic clashes to the console:$(printf '\n'; cat "$t_tmp/bad")"
fi
t_note "ok: no critical, warning or mnemonic clash from dfx on the console"
