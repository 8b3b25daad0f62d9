#!/usr/bin/env bash
# test-device-info.sh — plug-in-dfx-device-info, run by a real GIMP batch,
# returns the device dfx computes on.
#
# 1. With DFX_DEVICE as given (automatic when unset) the three strings equal
#    the device `dfx info --json` reports as used: both front ends pick the
#    same device through the same library call.
# 2. When the machine has Mesa's lavapipe, the plug-in, asked for it with
#    DFX_DEVICE=llvmpipe, returns exactly the name and driver vulkaninfo
#    reports for it (an outside reference), a name containing "llvmpipe" and
#    the type "CPU".
# 3. Run interactively, it shows the device as a GIMP message (on the
#    console in batch mode).
# Skips (77) only when there is no Vulkan device at all.
. "$(dirname "$0")/lib.sh"
t_require_device

query='(let ((r (plug-in-dfx-device-info #:run-mode RUN-NONINTERACTIVE)))
  (display (string-append "name=" (car r) "\n"))
  (display (string-append "type=" (cadr r) "\n"))
  (display (string-append "driver=" (caddr r) "\n")))'

# check NAME TYPE DRIVER WHAT — the last batch returned exactly these.
check() {
  [ "$t_rc" -eq 0 ] || t_fail "$4: gimp-console exited $t_rc, expected 0"
  [ "$(t_field name)" = "$1" ] || t_fail "$4: device-name '$(t_field name)', expected '$1'"
  [ "$(t_field type)" = "$2" ] || t_fail "$4: device-type '$(t_field type)', expected '$2'"
  [ "$(t_field driver)" = "$3" ] || t_fail "$4: driver-name '$(t_field driver)', expected '$3'"
  t_note "ok: $4: $1 ($2, driver $3)"
}

# 1. Same device as the CLI; 3. the interactive message, in the same batch.
IFS=$'\t' read -r cli_name cli_type cli_driver < <(t_cli_used_device)
t_batch "$query (plug-in-dfx-device-info #:run-mode RUN-INTERACTIVE)"
check "$cli_name" "$cli_type" "$cli_driver" "device chosen with DFX_DEVICE='${DFX_DEVICE:-}'"
used_name=$(t_field name)
grep -F -q "dfx computes on: $used_name" "$t_tmp/err" "$t_tmp/out" \
  || t_fail "no 'dfx computes on: $used_name' message from the interactive run"
t_note "ok: interactive run shows the device"

# 2. Lavapipe against vulkaninfo.
lvp=$(t_vulkan_devices | awk -F'\t' 'index($1, "llvmpipe") { print; exit }')
if [ -z "$lvp" ]; then
  t_note "no lavapipe device in vulkaninfo: lavapipe check not applicable"
  exit 0
fi
IFS=$'\t' read -r vk_name vk_type vk_driver <<<"$lvp"
[ "$vk_type" = PHYSICAL_DEVICE_TYPE_CPU ] || t_fail "vulkaninfo: lavapipe has type $vk_type"
if [ "$used_name" != "$vk_name" ]; then
  DFX_DEVICE=llvmpipe t_batch "$query"
fi
check "$vk_name" CPU "$vk_driver" "lavapipe against vulkaninfo"
case $(t_field name) in *llvmpipe*) ;; *) t_fail "lavapipe name lacks 'llvmpipe'" ;; esac
