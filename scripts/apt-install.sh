#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet,
# with apt-get from the machine's configured sources (sudo when not root).
# Nothing already installed is installed again, so callers may name freely.
#
#   scripts/apt-install.sh [--no-install-recommends] PACKAGE...
set -euo pipefail

options=()
if [ "${1:-}" = "--no-install-recommends" ]; then
    options+=("$1")
    shift
fi

missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -gt 0 ] || exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
# Through env, so that sudo's environment reset keeps the settings; no
# questions, and no debconf notes (such as apt-utils being absent).
apt=($SUDO env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get -qq)
"${apt[@]}" update
"${apt[@]}" install -y "${options[@]}" "${missing[@]}" >/dev/null
