#!/usr/bin/env bash
# The system libraries WeasyPrint needs to draw PDFs (letters, MDT lists), and a font:
# installs the missing ones with apt-get where it can (Debian/Ubuntu, as root), else says what to install.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 libglib2.0-0
          fonts-liberation fonts-dejavu-core)
missing=()
if command -v dpkg-query > /dev/null; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "Not a Debian system: install Pango, HarfBuzz, fontconfig and a font (e.g. Liberation) for PDFs." >&2
  exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "== installing for PDFs: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" > /dev/null
else
  echo "PDFs need: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
