#!/usr/bin/env bash
# cibuildwheel's before-all on manylinux: builds the two C libraries the
# portable engine links, from the upstream tarballs in the image's source
# packages, and installs them to /usr/local, where setup.py links them and
# auditwheel bundles them.
#
# * wimlib without ntfs-3g: a libwim linked with libntfs-3g (GPLv2+) loses the
#   LGPL option of its licence, and the wheel would become GPL-bound (see
#   shared/reference/engine-facts.md, section E).  Releases before 1.14.5
#   offer LGPLv3+, 1.14.5 and later LGPLv2.1+.  With FUSE 3, so the wheel can
#   mount images.
# * hivex, the core library only: the language bindings and tools are not
#   used, and hivexml would pull in libxml2.
#
# The image's binary packages are not used: Fedora-family libwim links
# ntfs-3g.  Their sources come through the image's package manager instead:
# the source RPMs of EPEL's wimlib and of the distribution's hivex
# (`dnf download --source`), checked against the repositories' signing keys
# (`rpm -K`), whose upstream tarballs are then built as below.  No download
# host is named here; the image's own repository configuration says where.
#
# Environment (all optional):
#   DISMAPI_DEPS_PREFIX   install prefix (default /usr/local)
#   DISMAPI_DEPS_SOURCES  where source RPMs are kept; one already there is
#                         used again, after the same signature check
set -euo pipefail

# wimlib moved mounting to FUSE 3 in 1.14.0; older sources cannot be built
# the way the wheel needs.
WIMLIB_MINIMUM=1.14.0

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
    # epel-release: the EPEL repository (and its source repository), where
    # wimlib is packaged; dnf-plugins-core: `dnf download`.
    if command -v dnf >/dev/null; then
        dnf install -y -q fuse3-devel pkgconf-pkg-config perl-podlators epel-release \
            dnf-plugins-core cpio
    fi
    require_build_tools
}

# Outside a manylinux image (a local check of this script) nothing is
# installed: say what is missing instead of failing halfway through a build.
require_build_tools() {
    local missing=() tool
    for tool in dnf rpm rpm2cpio cpio make gcc pkg-config pod2man pod2text; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    pkg-config --exists fuse3 2>/dev/null || missing+=("FUSE 3 headers (pkg-config fuse3)")
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "before-all: missing: ${missing[*]}" >&2
        exit 1
    fi
}

# fetch_source NAME: prints the path of NAME's source RPM in $SOURCES,
# downloaded by the package manager unless one is there already, after
# checking its signature against the keys the repositories are configured with.
fetch_source() {
    local name="$1" srpm
    mkdir -p "$SOURCES"
    srpm=$(find "$SOURCES" -maxdepth 1 -name "$name-[0-9]*.src.rpm" | sort -V | tail -n 1)
    if [ -z "$srpm" ]; then
        dnf download -q --source --destdir "$SOURCES" "$name" >&2
        srpm=$(find "$SOURCES" -maxdepth 1 -name "$name-[0-9]*.src.rpm" | sort -V | tail -n 1)
    fi
    if [ -z "$srpm" ]; then
        echo "before-all: the package manager has no source package of $name" >&2
        exit 1
    fi
    # The keys the distribution and epel-release install; rpm -K needs them
    # imported (one already imported is not an error worth stopping for).
    rpm --import /etc/pki/rpm-gpg/RPM-GPG-KEY-* 2>/dev/null || true
    if ! rpm -K "$srpm" | grep -q "signatures OK"; then
        echo "before-all: $srpm has no valid signature" >&2
        exit 1
    fi
    echo "$srpm"
}

# upstream_tarball SRPM NAME: extracts the upstream NAME-*.tar.* the source
# RPM carries into $WORK and prints its path.
upstream_tarball() {
    local srpm="$1" name="$2" tarball
    (cd "$WORK" && rpm2cpio "$srpm" | cpio -idm --quiet "$name-*.tar.*")
    # (a detached signature of the tarball may travel with it)
    tarball=$(find "$WORK" -maxdepth 1 -name "$name-[0-9]*.tar.*" ! -name "*.sig" \
              ! -name "*.asc" | head -n 1)
    if [ -z "$tarball" ]; then
        echo "before-all: $srpm holds no $name-*.tar.* upstream tarball" >&2
        exit 1
    fi
    echo "$tarball"
}

# version_of TARBALL NAME: the release in NAME-VERSION.tar.*.
version_of() {
    local base="${1##*/}"
    base="${base#"$2"-}"
    echo "${base%%.tar.*}"
}

at_least() {
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

unpack() {
    local tarball="$1" dir="$2"
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -xf "$tarball" -C "$dir" --strip-components=1
}

build_wimlib() {
    local srpm tarball dir="$WORK/wimlib"
    srpm=$(fetch_source wimlib)
    tarball=$(upstream_tarball "$srpm" wimlib)
    WIMLIB_VERSION=$(version_of "$tarball" wimlib)
    if ! at_least "$WIMLIB_VERSION" "$WIMLIB_MINIMUM"; then
        echo "before-all: the repositories carry wimlib $WIMLIB_VERSION; $WIMLIB_MINIMUM or" \
             "later is needed (FUSE 3 mounting)" >&2
        exit 1
    fi
    step "wimlib $WIMLIB_VERSION"
    unpack "$tarball" "$dir"
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
    local srpm tarball dir="$WORK/hivex"
    srpm=$(fetch_source hivex)
    tarball=$(upstream_tarball "$srpm" hivex)
    step "hivex $(version_of "$tarball" hivex)"
    unpack "$tarball" "$dir"
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
    build_wimlib
    build_hivex
    register_library_dir
    copy_licence_texts
    step "installed in $PREFIX/lib"
    ls -l "$PREFIX"/lib/libwim.so* "$PREFIX"/lib/libhivex.so*
}

main "$@"
