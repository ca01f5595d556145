#!/usr/bin/env bash
# cibuildwheel's before-all on manylinux: builds the two C libraries the
# portable engine links, from pinned release tarballs, and installs them to
# /usr/local, where setup.py links them and auditwheel bundles them.
#
# * wimlib without ntfs-3g: a libwim linked with libntfs-3g (GPLv2+) loses the
#   LGPL option of its licence, and the wheel would become GPL-bound (see
#   shared/reference/engine-facts.md, section E).  1.14.5 is the first release
#   whose library is LGPLv2.1+.  With FUSE 3, so the wheel can mount images.
# * hivex, the core library only: the language bindings and tools are not
#   used, and hivexml would pull in libxml2.
#
# The image's distribution packages are not used for either: they are too old
# (or absent) and Fedora-family libwim links ntfs-3g.
#
# The SHA-256 sums are the ones Debian's signed Sources index lists for its
# orig tarballs (sid: wimlib_1.14.5.orig.tar.gz; trixie and sid:
# hivex_1.3.24.orig.tar.gz), which are the upstream release tarballs: Homebrew
# pins the same sums for the upstream URLs.  The upstream site is tried
# first, Debian's copy second; either must match the sum.
#
# Environment (all optional):
#   DISMAPI_DEPS_PREFIX   install prefix (default /usr/local)
#   DISMAPI_DEPS_SOURCES  where tarballs are cached; one already there with
#                         the right checksum is not downloaded again
#   WIMLIB_VERSION + WIMLIB_SHA256, HIVEX_VERSION + HIVEX_SHA256
#                         another release; its sum is checked all the same
set -euo pipefail

WIMLIB_VERSION="${WIMLIB_VERSION:-1.14.5}"
WIMLIB_SHA256="${WIMLIB_SHA256:-84221a3abd5b91228f15f8e6065c335a336237b5738197b75bf419eea561a194}"
HIVEX_VERSION="${HIVEX_VERSION:-1.3.24}"
HIVEX_SHA256="${HIVEX_SHA256:-a52fa45cecc9a78adb2d28605d68261e4f1fd4514a778a5473013d2ccc8a193c}"

PREFIX="${DISMAPI_DEPS_PREFIX:-/usr/local}"
SOURCES="${DISMAPI_DEPS_SOURCES:-/tmp/dismapi-deps/sources}"
JOBS="$(nproc)"

step() {
    printf '\n=== before-all: %s\n' "$*"
}

install_build_packages() {
    # fuse3-devel: wimlib's mount support, found through pkg-config;
    # perl-podlators: pod2man and pod2text, which hivex's configure insists
    # on although no man page is built here.
    if command -v dnf >/dev/null; then
        dnf install -y -q fuse3-devel pkgconf-pkg-config perl-podlators
    fi
    require_build_tools
}

# Outside a manylinux image (a local check of this script) nothing is
# installed: say what is missing instead of failing halfway through a build.
require_build_tools() {
    local missing=() tool
    for tool in curl sha256sum make gcc pkg-config pod2man pod2text; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    pkg-config --exists fuse3 2>/dev/null || missing+=("FUSE 3 headers (pkg-config fuse3)")
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "before-all: missing: ${missing[*]}" >&2
        exit 1
    fi
}

sha256_matches() {
    local file="$1" expected="$2"
    [ -f "$file" ] && [ "$(sha256sum "$file" | cut -d' ' -f1)" = "$expected" ]
}

# fetch_verified NAME SHA256 URL... : leaves $SOURCES/NAME, checked against
# SHA256; tries each URL in turn, and fails when none gives a matching file.
fetch_verified() {
    local name="$1" expected="$2"
    shift 2
    local target="$SOURCES/$name" partial="$SOURCES/$name.part"
    mkdir -p "$SOURCES"
    if sha256_matches "$target" "$expected"; then
        echo "using cached $target"
        return 0
    fi
    local url
    for url in "$@"; do
        echo "downloading $url"
        if curl -fsSL --retry 3 --connect-timeout 20 -o "$partial" "$url" \
                && sha256_matches "$partial" "$expected"; then
            mv "$partial" "$target"
            return 0
        fi
        echo "  not usable (download failed or SHA-256 differs)" >&2
    done
    rm -f "$partial"
    echo "before-all: no source of $name matched SHA-256 $expected" >&2
    exit 1
}

unpack() {
    local tarball="$1" dir="$2"
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -xzf "$tarball" -C "$dir" --strip-components=1
}

build_wimlib() {
    local tarball="wimlib-$WIMLIB_VERSION.tar.gz" dir="$WORK/wimlib"
    fetch_verified "$tarball" "$WIMLIB_SHA256" \
        "https://wimlib.net/downloads/$tarball" \
        "https://deb.debian.org/debian/pool/main/w/wimlib/wimlib_$WIMLIB_VERSION.orig.tar.gz"
    unpack "$SOURCES/$tarball" "$dir"
    (
        cd "$dir"
        # wimlib-imagex is installed too: the test suite builds its WIM
        # fixtures with it inside the container.  It is not in the wheel.
        ./configure --quiet --prefix="$PREFIX" --libdir="$PREFIX/lib" \
            --without-ntfs-3g --with-fuse --disable-static
        make -s -j"$JOBS"
        make -s install
        install -d "$PREFIX/share/licenses/wimlib"
        install -m 644 COPYING* "$PREFIX/share/licenses/wimlib/"
    )
}

build_hivex() {
    local tarball="hivex-$HIVEX_VERSION.tar.gz" dir="$WORK/hivex"
    fetch_verified "$tarball" "$HIVEX_SHA256" \
        "https://download.libguestfs.org/hivex/$tarball" \
        "https://deb.debian.org/debian/pool/main/h/hivex/hivex_$HIVEX_VERSION.orig.tar.gz"
    unpack "$SOURCES/$tarball" "$dir"
    (
        cd "$dir"
        ./configure --quiet --prefix="$PREFIX" --libdir="$PREFIX/lib" --disable-static \
            --disable-ocaml --disable-perl --disable-python --disable-ruby \
            --without-readline
        # Only the library, its header and its pkg-config file: the whole
        # tree would also build hivexsh, hivexml and the man pages (pod2man).
        make -s -j"$JOBS" -C gnulib/lib
        make -s -j"$JOBS" -C lib libhivex.la
        make -s -C lib install-libLTLIBRARIES install-pkgconfigDATA
        make -s -C include install-includeHEADERS
        install -d "$PREFIX/share/licenses/hivex"
        install -m 644 LICENSE "$PREFIX/share/licenses/hivex/"
    )
}

register_library_dir() {
    # So the dynamic loader (test programs, the installed wheel before
    # repair) and auditwheel's library lookup both find the new libraries.
    if [ "$PREFIX" = /usr/local ] && [ -d /etc/ld.so.conf.d ]; then
        echo "$PREFIX/lib" > /etc/ld.so.conf.d/dismapi-deps.conf
        ldconfig
    fi
}

# The LGPL asks that the licence texts travel with the libraries: auditwheel
# bundles libwim, libhivex and libfuse3, so their texts go into the package
# (dism/_vendor_licenses/, package data) and so into every Linux wheel.
copy_licence_texts() {
    local project dest fuse_texts
    project="$(cd "$(dirname "$0")/../.." && pwd)"
    dest="$project/dism/_vendor_licenses"
    install -d "$dest/wimlib" "$dest/hivex" "$dest/libfuse3"
    install -m 644 "$PREFIX"/share/licenses/wimlib/* "$dest/wimlib/"
    install -m 644 "$PREFIX"/share/licenses/hivex/* "$dest/hivex/"
    fuse_texts=$(rpm -qL fuse3-libs 2>/dev/null || true)
    if [ -z "$fuse_texts" ]; then
        echo "before-all: fuse3-libs lists no licence files" >&2
        return 1
    fi
    # shellcheck disable=SC2086  # one path per line, no spaces in them
    install -m 644 $fuse_texts "$dest/libfuse3/"
}

main() {
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
    step "build packages"
    install_build_packages
    step "wimlib $WIMLIB_VERSION"
    build_wimlib
    step "hivex $HIVEX_VERSION"
    build_hivex
    register_library_dir
    copy_licence_texts
    step "installed in $PREFIX/lib"
    ls -l "$PREFIX"/lib/libwim.so* "$PREFIX"/lib/libhivex.so*
}

main "$@"
