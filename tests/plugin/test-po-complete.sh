#!/usr/bin/env bash
# test-po-complete.sh — every translatable string of the plug-in has a
# German translation, and no source with strings is missing from
# po/POTFILES.  Extracts a fresh template with xgettext (the keywords of
# meson's glib preset that dfx uses) and compares it with po/de.po by
# msgcmp, which counts untranslated and fuzzy entries as missing.  Needs no
# GIMP run and no Vulkan device.
set -euo pipefail
: "${DFX_SOURCE_ROOT:?run me through meson test}"
cd "$DFX_SOURCE_ROOT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dfx-po-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

# Sources that use _() or N_() must be listed.
for f in plugin/*.c ui/*.c; do
  [ -f "$f" ] || continue
  if grep -q -E '\<N?_ *\(' "$f" && ! grep -qx "$f" po/POTFILES; then
    fail "$f has translatable strings but is not in po/POTFILES"
  fi
done
while read -r f; do
  [ -z "$f" ] || [ -f "$f" ] || fail "po/POTFILES lists $f, which does not exist"
done <po/POTFILES

xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dngettext:2,3 --keyword=ngettext:1,2 --files-from=po/POTFILES -o "$tmp/dfx.pot"
[ -s "$tmp/dfx.pot" ] || fail "xgettext found no strings"
for lang in $(sed 's/#.*//' po/LINGUAS); do
  msgfmt --check -o /dev/null "po/$lang.po" || fail "po/$lang.po does not compile"
  msgcmp "po/$lang.po" "$tmp/dfx.pot" || fail "po/$lang.po lacks translations (see above)"
  n=$(grep -c '^msgid ' "$tmp/dfx.pot")
  echo "ok: po/$lang.po translates all $((n - 1)) strings of the template"
done
