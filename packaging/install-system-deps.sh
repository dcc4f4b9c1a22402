#!/usr/bin/env bash
# System packages AstroExplorer's tests and window need on Debian/Ubuntu:
# fitsverify and stilts (export checks: FITS validity, STILTS/TOPCAT round trip),
# Xvfb (screenshots) and the libraries Qt's xcb and offscreen platform plugins
# load. Skips work already done; needs root or sudo.
set -euo pipefail
pkgs=(fitsverify stilts xvfb xauth libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0
      libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
      libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
      libxcb-xkb1)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
# Silent when all goes well (apt and debconf chatter included); everything on failure.
quiet() { local log; log=$("$@" 2>&1) || { printf '%s\n' "$log" >&2; return 1; }; }
quiet $SUDO apt-get update -qq
quiet $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
