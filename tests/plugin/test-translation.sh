#!/usr/bin/env bash
# test-translation.sh — the plug-in speaks German in a German locale: its
# installed catalog (locale/de/LC_MESSAGES/dfx.mo beside the executable) is
# found and bound to the "dfx" domain.  Uses the failure of
# DFX_DEVICE=nonexistent, which needs no Vulkan device, and checks the
# German sentence is there and the English one is not.
#
# The build environment has no German locale installed; glibc picks the
# catalog language from the locale's name, so a copy of the C.UTF-8 locale
# named de_DE.UTF-8 (through LOCPATH) is enough.  An installed German locale
# is used when there is one.
. "$(dirname "$0")/lib.sh"

if locale -a 2>/dev/null | grep -qix 'de_DE.utf-\?8'; then
  lang=de_DE.UTF-8
else
  c=""
  for d in /usr/lib/locale/C.utf8 /usr/lib/locale/C.UTF-8; do [ -d "$d" ] && c=$d && break; done
  [ -n "$c" ] || t_fail "neither a de_DE.UTF-8 nor a C.UTF-8 locale to build one from"
  mkdir -p "$t_tmp/locale"
  cp -r "$c" "$t_tmp/locale/de_DE.UTF-8"
  export LOCPATH="$t_tmp/locale"
  lang=de_DE.UTF-8
fi

LC_ALL=$lang LANGUAGE=de DFX_DEVICE=nonexistent t_batch '(plug-in-dfx-device-info #:run-mode RUN-NONINTERACTIVE)'
[ "$t_rc" -eq 70 ] || t_fail "gimp-console exited $t_rc, expected 70"
grep -F -q 'dfx konnte kein Vulkan-Rechengerät öffnen: ' "$t_tmp/out" "$t_tmp/err" \
  || t_fail "no German message: catalog not found or not bound"
grep -F -q 'dfx could not open a Vulkan compute device' "$t_tmp/out" "$t_tmp/err" \
  && t_fail "the English message is still there"
t_note "ok: German message"
