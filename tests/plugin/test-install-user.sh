#!/usr/bin/env bash
# test-install-user.sh — build-aux/install-user finds the plug-in folders of
# the GIMPs a user has, in a throw-away HOME:
#   1. with GIMP3_DIRECTORY unset, the real GIMP of this machine (its
#      `--version`, 3.0 here) gives ~/.config/GIMP/3.0, and the existing
#      profile folders ~/.config/GIMP/3.2 and the Flatpak GIMP's
#      ~/.var/app/org.gimp.GIMP/config/GIMP/3.2 are found too; each gets
#      plug-ins/dfx/dfx (byte-identical to the build's) and its catalogs,
#      and the output names each folder and which GIMP it is for;
#   2. --dest DIR puts it in DIR/dfx only; GIMP3_DIRECTORY wins over the
#      search (how the other tests install);
#   3. an unknown option and a missing build are refused with a message.
set -euo pipefail
: "${DFX_SOURCE_ROOT:?run me through meson test}" "${DFX_BUILD_ROOT:?}"
fail() { printf 'FAIL: %s\n' "$*" >&2; [ -f "$tmp/out" ] && cat "$tmp/out" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
inst="$DFX_SOURCE_ROOT/build-aux/install-user"
exe="$DFX_BUILD_ROOT/plugin/dfx"
export HOME="$tmp/home"
unset GIMP3_DIRECTORY XDG_CONFIG_HOME
mkdir -p "$HOME/.config/GIMP/3.2" "$HOME/.var/app/org.gimp.GIMP/config/GIMP/3.2"

version=$({ gimp-console-3.0 --version 2>/dev/null || true; } | sed -n 's/.*version \(3\.[0-9]*\)\..*/\1/p')
[ -n "$version" ] || fail "gimp-console-3.0 --version printed no 3.x version"

"$inst" "$DFX_BUILD_ROOT" >"$tmp/out" 2>&1 || fail "install-user exited $?"
for d in "$HOME/.config/GIMP/$version" "$HOME/.config/GIMP/3.2" "$HOME/.var/app/org.gimp.GIMP/config/GIMP/3.2"; do
  cmp -s "$exe" "$d/plug-ins/dfx/dfx" || fail "no copy of the plug-in in $d/plug-ins/dfx"
  [ -x "$d/plug-ins/dfx/dfx" ] || fail "$d/plug-ins/dfx/dfx is not executable"
  [ -f "$d/plug-ins/dfx/locale/de/LC_MESSAGES/dfx.mo" ] || fail "no German catalogue in $d/plug-ins/dfx"
  grep -q "installed $d/plug-ins/dfx/dfx for " "$tmp/out" || fail "the output does not name $d"
done
grep -q "for GIMP $version (gimp" "$tmp/out" || fail "the output does not say GIMP $version was found on PATH"
grep -q "for Flatpak GIMP 3.2" "$tmp/out" || fail "the output does not name the Flatpak GIMP"
grep -q "Flatpak extension" "$tmp/out" || fail "no note on the Flatpak extension"
echo "ok: found GIMP $version, GIMP 3.2 and Flatpak GIMP 3.2:"; grep '^install-user: installed' "$tmp/out"

"$inst" --dest "$tmp/elsewhere" "$DFX_BUILD_ROOT" >"$tmp/out" 2>&1 || fail "--dest: exited $?"
cmp -s "$exe" "$tmp/elsewhere/dfx/dfx" || fail "--dest: no copy in $tmp/elsewhere/dfx"
[ "$(grep -c '^install-user: installed' "$tmp/out")" = 1 ] || fail "--dest installed more than once"
GIMP3_DIRECTORY="$tmp/profile" "$inst" "$DFX_BUILD_ROOT" >"$tmp/out" 2>&1 || fail "GIMP3_DIRECTORY: exited $?"
cmp -s "$exe" "$tmp/profile/plug-ins/dfx/dfx" || fail "GIMP3_DIRECTORY: no copy in its plug-ins folder"
[ "$(grep -c '^install-user: installed' "$tmp/out")" = 1 ] || fail "GIMP3_DIRECTORY: installed more than once"
echo "ok: --dest and GIMP3_DIRECTORY install into that folder only"

if "$inst" --bogus >"$tmp/out" 2>&1; then fail "--bogus was accepted"; fi
grep -q "unknown option --bogus" "$tmp/out" || fail "--bogus: no message"
if "$inst" --dest "$tmp/x" "$tmp/no-build" >"$tmp/out" 2>&1; then fail "a missing build was accepted"; fi
grep -q "no built plug-in at $tmp/no-build/plugin/dfx" "$tmp/out" || fail "missing build: no message"
echo "ok: bad arguments refused with a message"
