#!/usr/bin/env bash
# Fetches CPython's own headers, including the Windows pyconfig.h (PC/) and
# the stable ABI manifest (Misc/stable_abi.toml), for the Windows build check
# (tests/test_windows_build.py), which compiles and links the extension for
# Windows with mingw-w64.  Source: the Debian-hosted CPython 3.11.2 release
# tarball, checked against its SHA-256.  Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=3.11.2
URL="http://deb.debian.org/debian/pool/main/p/python3.11/python3.11_${VERSION}.orig.tar.gz"
SHA256=2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849
DEST=build/cross/cpython-${VERSION}

if [ -f "$DEST/PC/pyconfig.h" ] && [ -f "$DEST/Misc/stable_abi.toml" ]; then
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL --retry 3 -o "$work/cpython.tar.gz" "$URL"
echo "$SHA256  $work/cpython.tar.gz" | sha256sum -c --quiet -
mkdir -p "$work/out"
tar -xzf "$work/cpython.tar.gz" -C "$work/out" --strip-components=1 \
    "Python-${VERSION}/Include" "Python-${VERSION}/PC/pyconfig.h" \
    "Python-${VERSION}/Misc/stable_abi.toml"
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$work/out" "$DEST"
