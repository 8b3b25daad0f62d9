#!/usr/bin/env bash
# test-gimp-api.sh — the plug-in uses only GIMP API that both GIMP 3.0 and
# GIMP 3.2 offer, none of it deprecated in 3.2.
#
# The GIMP functions the built plug-in imports (nm -D --undefined-only:
# every undefined symbol that a GIMP 3 library of this machine defines, and
# every gimp_* one) must be exported by the GIMP 3.0 libraries it was
# built against (DFX_GIMP_LIBDIR) and be in build-aux/gimp-3.2-symbols.txt,
# the export list of GIMP 3.2.6's libraries, and none may be in
# build-aux/gimp-3.2-deprecated.txt (build-aux/gimp-api-list made both from
# Debian's 3.2.6 packages; docs/gimp-versions.md has the result).  A
# symbol dropped from one of the lists, or a new call of a 3.2-only or
# deprecated function, fails it.  Needs no GIMP run and no device.
set -euo pipefail
: "${DFX_SOURCE_ROOT:?run me through meson test}" "${DFX_BUILD_ROOT:?}" "${DFX_GIMP_LIBDIR:?}"
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
plugin="$DFX_BUILD_ROOT/plugin/dfx"
list32="$DFX_SOURCE_ROOT/build-aux/gimp-3.2-symbols.txt"
dep32="$DFX_SOURCE_ROOT/build-aux/gimp-3.2-deprecated.txt"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dfx-gimp-api.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
command -v nm >/dev/null || fail "nm (binutils) is missing"
[ -x "$plugin" ] || fail "no plug-in at $plugin"

nm -D --undefined-only "$plugin" | awk '{sub(/@.*/, "", $2); print $2}' | LC_ALL=C sort -u >"$tmp/imports"
# Everything the GIMP 3.0 libraries here define (private _gimp_* names too).
for so in "$DFX_GIMP_LIBDIR"/libgimp*-3.0.so.0; do
  nm -D --defined-only "$so" | awk '{sub(/@.*/, "", $3); print $3}'
done | LC_ALL=C sort -u >"$tmp/all30"
[ -s "$tmp/all30" ] || fail "no GIMP 3 library in $DFX_GIMP_LIBDIR"
"$DFX_SOURCE_ROOT/build-aux/gimp-api-list" symbols "$DFX_GIMP_LIBDIR" | grep -v '^#' | LC_ALL=C sort -u >"$tmp/api30"
grep -v '^#' "$list32" | LC_ALL=C sort -u >"$tmp/api32"
grep -v '^#' "$dep32" | LC_ALL=C sort -u >"$tmp/dep32"
[ "$(wc -l <"$tmp/api32")" -gt 2000 ] || fail "$list32 holds only $(wc -l <"$tmp/api32") names"

{ LC_ALL=C comm -12 "$tmp/imports" "$tmp/all30"; grep -E '^_*gimp' "$tmp/imports" || true; } \
  | LC_ALL=C sort -u >"$tmp/used"
n=$(wc -l <"$tmp/used")
[ "$n" -gt 20 ] || fail "the plug-in imports only $n GIMP symbols: is $plugin the GIMP plug-in?"

LC_ALL=C comm -23 "$tmp/used" "$tmp/api30" >"$tmp/not30"
LC_ALL=C comm -23 "$tmp/used" "$tmp/api32" >"$tmp/not32"
LC_ALL=C comm -12 "$tmp/used" "$tmp/dep32" >"$tmp/deprecated"
[ -s "$tmp/not30" ] && fail "the plug-in uses GIMP symbols that GIMP 3.0 does not export (or private ones): $(tr '\n' ' ' <"$tmp/not30")"
[ -s "$tmp/not32" ] && fail "the plug-in uses GIMP symbols that GIMP 3.2 does not export: $(tr '\n' ' ' <"$tmp/not32")"
[ -s "$tmp/deprecated" ] && fail "the plug-in uses functions GIMP 3.2 deprecates: $(tr '\n' ' ' <"$tmp/deprecated")"
echo "ok: the plug-in's $n GIMP symbols are all exported by GIMP 3.0 ($DFX_GIMP_LIBDIR) and by GIMP 3.2.6, none deprecated in 3.2"
