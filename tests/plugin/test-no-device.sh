#!/usr/bin/env bash
# test-no-device.sh — with DFX_DEVICE=nonexistent, plug-in-dfx-device-info
# fails as an execution error: gimp-console exits 70, its output carries the
# plug-in's message with libdfx's own explanation (the same text `dfx info`
# prints for the same DFX_DEVICE), the batch stops at the failing call, and
# the plug-in does not crash.  Skips (77) only without any Vulkan device.
. "$(dirname "$0")/lib.sh"
t_require_device

DFX_DEVICE=nonexistent t_batch '(plug-in-dfx-device-info #:run-mode RUN-NONINTERACTIVE)
  (display "dfx-test: went on after the failure\n")'

[ "$t_rc" -eq 70 ] || t_fail "gimp-console exited $t_rc, expected 70 (execution error)"
prefix='dfx could not open a Vulkan compute device: '
line=$(grep -F -h "$prefix" "$t_tmp/out" "$t_tmp/err" | head -1) \
  || t_fail "no '$prefix...' message in GIMP's output"
case $line in *nonexistent*) ;; *) t_fail "the message does not name DFX_DEVICE's value: $line" ;; esac
grep -q 'went on after the failure' "$t_tmp/out" && t_fail "the batch went on after the failed call"

# The library's message, as the CLI prints it ("dfx: MESSAGE").
cli_rc=0
cli_msg=$(DFX_DEVICE=nonexistent "$DFX_CLI" info 2>&1 >/dev/null) || cli_rc=$?
[ $cli_rc -ne 0 ] || t_fail "dfx info succeeded with DFX_DEVICE=nonexistent"
cli_msg=${cli_msg#dfx: }
grep -F -q "$prefix$cli_msg" "$t_tmp/out" "$t_tmp/err" \
  || t_fail "GIMP's output lacks '$prefix$cli_msg'"
t_note "ok: exit 70 with: $prefix$cli_msg"
