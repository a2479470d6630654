#!/usr/bin/env bash
# Install headless Chromium (PDF export, browser tests), poppler-utils (pdftoppm)
# and a basic font on Debian/Ubuntu. Idempotent: does nothing when all are present.
#
#   scripts/install-chromium.sh          # as root (CI) or with sudo available
#
# Exit codes: 0 installed or already present; 3 apt-get not available; other: apt failure.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if ! dpkg-query -W -f='${Status}' fonts-dejavu-core 2>/dev/null | grep -q "install ok installed"; then
    need+=(fonts-dejavu-core)
fi

if [ ${#need[@]} -eq 0 ]; then
    echo "install-chromium: chromium, poppler-utils and fonts-dejavu-core already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get not found; install ${need[*]} with your package manager" >&2
    exit 3
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-chromium: not root and no sudo; run as root: apt-get install -y ${need[*]}" >&2
        exit 3
    fi
fi

echo "install-chromium: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}"
echo "install-chromium: done"
