#!/usr/bin/env bash
# Puts CPython's own headers, including the Windows pyconfig.h (PC/) and the
# stable ABI manifest (Misc/stable_abi.toml), in build/cross/cpython/ for the
# Windows build check (tests/build_checks/test_windows_build.py), which
# compiles and links the extension for Windows with mingw-w64.
#
# Source: the distribution's source package of the python3 that builds the
# venv (python3.11 on Debian 12), fetched by apt-get from source entries
# derived from the machine's own configured binary entries: the same mirrors,
# suites, components and keys, with deb-src in place of deb.  apt checks each
# file against the signed Sources index.  Nothing here names a host, and the
# machine's apt configuration is not changed (a private list directory is
# used).  Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=build/cross/cpython
PYTHON="${PYTHON:-python3}"

if [ -f "$DEST/PC/pyconfig.h" ] && [ -f "$DEST/Misc/stable_abi.toml" ] && [ -d "$DEST/Include" ]
then
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# deb822 files: every stanza becomes a deb-src stanza; one-line files: every
# `deb` line becomes a `deb-src` line (options such as [signed-by=] kept).
write_source_entries() {
    local file
    mkdir -p "$work/etc/sources.list.d"
    : >"$work/etc/sources.list"
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -f "$file" ] || continue
        sed -E 's/^Types:.*/Types: deb-src/' "$file" >"$work/etc/sources.list.d/${file##*/}"
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$file" ] || continue
        sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$file" >>"$work/etc/sources.list"
    done
}

# apt-get on the derived entries only, with its lists and cache in $work.
private_apt() {
    apt-get -qq \
        -o Dir::Etc::SourceList="$work/etc/sources.list" \
        -o Dir::Etc::SourceParts="$work/etc/sources.list.d" \
        -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" \
        -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)" "$@"
}

# The release the machine runs (bookworm): its main suite always carries the
# source, where an update suite's mirror may lag behind its index.
release() {
    (. /etc/os-release && echo "${VERSION_CODENAME:?/etc/os-release names no codename}")
}

fetch_source_package() {
    local package="$1"
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
    # A third-party repository that publishes no sources fails its part of
    # the update; the others still give the distribution's package.
    if ! private_apt update 2>"$work/update.log"; then
        echo "fetch-windows-python-headers: some source entries could not be read" \
             "(repositories without sources); trying the others" >&2
    fi
    (cd "$work/src" && private_apt source --download-only "$package/$(release)")
}

unpack_headers() {
    local orig
    orig=$(find "$work/src" -maxdepth 1 -name '*.orig.tar.*' | head -n 1)
    if [ -z "$orig" ]; then
        echo "fetch-windows-python-headers: no upstream tarball in the source package" >&2
        exit 1
    fi
    mkdir -p "$work/out"
    tar -xf "$orig" -C "$work/out" --strip-components=1 --wildcards \
        '*/Include' '*/PC/pyconfig.h' '*/Misc/stable_abi.toml'
    basename "$orig" >"$work/out/SOURCE"
}

package="python3.$("$PYTHON" -c 'import sys; print(sys.version_info.minor)')"
write_source_entries
fetch_source_package "$package"
unpack_headers
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$work/out" "$DEST"
