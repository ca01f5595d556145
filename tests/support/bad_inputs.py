"""The bad-input table: >= 100 named cases across the Python API, the CLI
(`python -m dism`) and damaged files, and a runner that executes them all in
one process (the plain or the sanitized extension) and prints one JSON
result per case.

Every case must fail with the error its contract names (a typed DismError
subclass, or TypeError/ValueError where that is the Python contract; for
the CLI: a non-zero status, a message and no traceback), change no file of
the work directory, and leave nothing mounted.  `python bad_inputs.py WORK
WIM` runs the table; WORK is created and filled with the damaged files."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import dism
from dism.testing import WindowsImageSpec, build_wim, build_windows_tree

CASE_SECONDS = 30  # a case that blocks longer (a FIFO opened blocking) fails


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[["Work"], object] | None = None  # API cases
    expect: tuple = (dism.DismError,)
    argv: tuple[str, ...] = ()                      # CLI cases: arguments after `-m dism`
    statuses: tuple[int, ...] = ()                  # CLI: accepted exit statuses (any non-zero if empty)


class Work:
    """The files the cases use, under one directory."""

    def __init__(self, root: Path, good: Path) -> None:
        self.root = root
        self.good = root / "good.wim"
        shutil.copyfile(good, self.good)
        self.data = self.good.read_bytes()
        self.mnt = self._dir("mnt")
        self.full = self._dir("full")
        (self.full / "file.txt").write_text("not empty")
        self.fifo = root / "fifo.wim"
        os.mkfifo(self.fifo)
        self.text = self._file("text.wim", b"this is not a WIM file\n")
        self.empty = self._file("empty.wim", b"")
        self.noise = self._file("noise.wim", bytes((i * 7919 + 13) % 251 for i in range(8192)))
        self.loop = root / "loop.wim"
        self.loop.symlink_to(self.loop)
        self.dangling = root / "dangling.wim"
        self.dangling.symlink_to(root / "missing-target.wim")
        self.vhd = self._file("disk.vhd", b"conectix" + bytes(504))
        self.split = self._split_part()
        self.tree = build_windows_tree(root / "offline", WindowsImageSpec(name="Offline"))
        self.empty_dir = self._dir("empty-dir")
        self.bind = self._bind_mount()

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir()
        return path

    def _file(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    def truncated(self, size: int) -> Path:
        return self._file(f"truncated-{size}.wim", self.data[:size])

    def garbled(self, name: str, offset: int, data: bytes) -> Path:
        blob = bytearray(self.data)
        blob[offset:offset + len(data)] = data
        return self._file(f"garbled-{name}.wim", bytes(blob))

    def xml_offset(self) -> int:
        # The XML data's resource header sits at offset 0x48 of the WIM
        # header: 7 bytes of size, 1 of flags, then the 8-byte offset.
        return struct.unpack_from("<Q", self.data, 0x48 + 8)[0]

    def _split_part(self) -> Path:
        parts = self.root / "split"
        parts.mkdir()
        # Two payload files larger than a part, so that there are several
        # parts (wimlib never splits a file, and a small WIM stays one part).
        whole = build_wim(parts / "whole.wim", [WindowsImageSpec(name="Split",
                                                                 payload_bytes=64 * 1024)])
        subprocess.run(["wimlib-imagex", "split", str(whole), str(parts / "part.swm"), "0.01"],
                       check=True, capture_output=True)
        assert (parts / "part2.swm").exists(), "the split made a single part"
        first = self.root / "split-part1.wim"
        shutil.copyfile(parts / "part.swm", first)
        shutil.rmtree(parts)
        return first

    def _bind_mount(self) -> Path | None:
        """A live mount that is not a WIM: unmount must refuse it."""
        source, target = self._dir("bind-src"), self._dir("bind")
        (source / "kept").write_text("kept")
        done = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True)
        return target if done.returncode == 0 else None

    def close(self) -> None:
        if self.bind is not None:
            subprocess.run(["umount", str(self.bind)], check=False)


def session_call(method: str, *args, **kwargs):
    def call(w: Work):
        with dism.Session(w.tree) as s:
            return getattr(s, method)(*args, **kwargs)
    return call


def closed_session_call(w: Work):
    s = dism.Session(w.tree)
    s.close()
    return s.get_features()


def mount_twice(w: Work):
    first = dism.mount(w.good, w.mnt, index=1, read_only=True)
    try:
        return dism.mount(w.good, w.mnt, index=2, read_only=True)
    finally:
        first.unmount(commit=False)


E = dism
TRUNCATIONS = (1, 100, 207, 208, 1024, 4096, -1)


def api_cases() -> list[Case]:
    cases = [
        # get_image_info: paths that are not WIM files
        Case("info-missing-file", lambda w: dism.get_image_info(w.root / "none.wim"),
             (E.PathNotFoundError,)),
        Case("info-missing-parent", lambda w: dism.get_image_info(w.root / "no" / "x.wim"),
             (E.PathNotFoundError,)),
        Case("info-directory", lambda w: dism.get_image_info(w.root), (E.InvalidArgumentError,)),
        Case("info-fifo", lambda w: dism.get_image_info(w.fifo), (E.InvalidArgumentError,)),
        Case("info-dev-null", lambda w: dism.get_image_info("/dev/null"),
             (E.InvalidArgumentError,)),
        Case("info-empty-file", lambda w: dism.get_image_info(w.empty)),
        Case("info-text-file", lambda w: dism.get_image_info(w.text)),
        Case("info-noise-file", lambda w: dism.get_image_info(w.noise)),
        Case("info-symlink-loop", lambda w: dism.get_image_info(w.loop)),
        Case("info-dangling-symlink", lambda w: dism.get_image_info(w.dangling),
             (E.PathNotFoundError,)),
        Case("info-name-too-long", lambda w: dism.get_image_info(w.root / ("x" * 300 + ".wim"))),
        Case("info-path-too-long", lambda w: dism.get_image_info("/" + "a/" * 3000 + "x.wim")),
        Case("info-empty-string", lambda w: dism.get_image_info("")),
        Case("info-embedded-nul", lambda w: dism.get_image_info(f"{w.good}\0x"),
             (ValueError,)),
        Case("info-none", lambda w: dism.get_image_info(None), (TypeError,)),
        Case("info-int", lambda w: dism.get_image_info(5), (TypeError,)),
        Case("info-list", lambda w: dism.get_image_info([str(w.good)]), (TypeError,)),
        Case("info-vhd", lambda w: dism.get_image_info(w.vhd), (E.NotSupportedError,)),
        Case("info-xml-garbled",
             lambda w: dism.get_image_info(w.garbled("xml", w.xml_offset() + 2, b"<\x00" * 40))),
        Case("info-magic-garbled", lambda w: dism.get_image_info(w.garbled("magic", 0, b"NOTAWIM!"))),
        Case("info-header-size-garbled",
             lambda w: dism.get_image_info(w.garbled("hdrsize", 8, b"\xff\xff\xff\x7f"))),
        Case("info-version-garbled",
             lambda w: dism.get_image_info(w.garbled("version", 12, b"\x00\x00\x00\x7f"))),
        Case("info-image-count-garbled",
             lambda w: dism.get_image_info(w.garbled("count", 0x2C, b"\x09\x00\x00\x00"))),
        Case("info-xml-offset-garbled",
             lambda w: dism.get_image_info(w.garbled("xmloff", 0x50, b"\xff" * 8))),
        Case("info-chunk-size-garbled",
             lambda w: dism.get_image_info(w.garbled("chunk", 0x14, b"\x03\x00\x00\x00"))),
    ]
    for size in TRUNCATIONS:
        cases.append(Case(f"info-truncated-{'minus1' if size < 0 else size}",
                          lambda w, size=size: dism.get_image_info(w.truncated(size))))
    cases += [
        # mount: images that do not exist or cannot be mounted
        Case("mount-index-0", lambda w: dism.mount(w.good, w.mnt, index=0),
             (E.InvalidImageIndexError,)),
        Case("mount-index-negative", lambda w: dism.mount(w.good, w.mnt, index=-1),
             (E.InvalidImageIndexError,)),
        Case("mount-index-past-end", lambda w: dism.mount(w.good, w.mnt, index=4),
             (E.InvalidImageIndexError,)),
        Case("mount-index-wraps-32-bits", lambda w: dism.mount(w.good, w.mnt, index=2**32 + 2),
             (E.InvalidImageIndexError,)),
        Case("mount-index-2-64", lambda w: dism.mount(w.good, w.mnt, index=2**64),
             (E.InvalidImageIndexError,)),
        Case("mount-index-str", lambda w: dism.mount(w.good, w.mnt, index="1"), (TypeError,)),
        Case("mount-index-float", lambda w: dism.mount(w.good, w.mnt, index=1.0), (TypeError,)),
        Case("mount-index-bool", lambda w: dism.mount(w.good, w.mnt, index=True), (TypeError,)),
        Case("mount-name-unknown", lambda w: dism.mount(w.good, w.mnt, name="No Such Image"),
             (E.InvalidImageNameError,)),
        Case("mount-name-empty", lambda w: dism.mount(w.good, w.mnt, name=""),
             (E.InvalidImageNameError, ValueError)),
        Case("mount-name-int", lambda w: dism.mount(w.good, w.mnt, name=1), (TypeError,)),
        Case("mount-index-and-name", lambda w: dism.mount(w.good, w.mnt, index=1, name="x"),
             (ValueError,)),
        Case("mount-no-image-chosen", lambda w: dism.mount(w.good, w.mnt), (ValueError,)),
        Case("mount-missing-wim", lambda w: dism.mount(w.root / "none.wim", w.mnt, index=1),
             (E.PathNotFoundError,)),
        Case("mount-wim-is-directory", lambda w: dism.mount(w.full, w.mnt, index=1)),
        Case("mount-wim-is-fifo", lambda w: dism.mount(w.fifo, w.mnt, index=1)),
        Case("mount-wim-is-dev-null", lambda w: dism.mount("/dev/null", w.mnt, index=1)),
        Case("mount-wim-is-text", lambda w: dism.mount(w.text, w.mnt, index=1)),
        Case("mount-wim-empty", lambda w: dism.mount(w.empty, w.mnt, index=1)),
        Case("mount-wim-truncated", lambda w: dism.mount(w.truncated(4096), w.mnt, index=1)),
        Case("mount-wim-truncated-ro",
             lambda w: dism.mount(w.truncated(len(w.data) // 2), w.mnt, index=1, read_only=True)),
        Case("mount-wim-magic-garbled",
             lambda w: dism.mount(w.garbled("mmagic", 0, b"NOTAWIM!"), w.mnt, index=1)),
        Case("mount-wim-xml-garbled",
             lambda w: dism.mount(w.garbled("mxml", w.xml_offset() + 2, b"<\x00" * 40), w.mnt,
                                  index=1)),
        Case("mount-split-part", lambda w: dism.mount(w.split, w.mnt, index=1, read_only=True),
             (E.NotSupportedError,)),
        Case("mount-vhd", lambda w: dism.mount(w.vhd, w.mnt, index=1)),
        Case("mount-dir-missing", lambda w: dism.mount(w.good, w.root / "nodir", index=1),
             (E.PathNotFoundError,)),
        Case("mount-dir-is-file", lambda w: dism.mount(w.good, w.text, index=1)),
        Case("mount-dir-not-empty", lambda w: dism.mount(w.good, w.full, index=1)),
        Case("mount-dir-is-fifo", lambda w: dism.mount(w.good, w.fifo, index=1)),
        Case("mount-dir-is-dev-null", lambda w: dism.mount(w.good, "/dev/null", index=1)),
        Case("mount-dir-empty-string", lambda w: dism.mount(w.good, "", index=1)),
        Case("mount-dir-none", lambda w: dism.mount(w.good, None, index=1), (TypeError,)),
        Case("mount-wim-none", lambda w: dism.mount(None, w.mnt, index=1), (TypeError,)),
        Case("mount-dir-already-mounted", mount_twice),
        Case("mount-progress-not-callable",
             lambda w: dism.mount(w.good, w.mnt, index=1, progress="no"), (TypeError,)),
        Case("mount-cancel-wrong-type",
             lambda w: dism.mount(w.good, w.mnt, index=1, cancel=5), (TypeError,)),
        # unmount / remount / cleanup on things that are not mounts
        Case("unmount-not-mounted", lambda w: dism.unmount(w.mnt, commit=False),
             (E.MountPathError,)),
        Case("unmount-commit-not-mounted", lambda w: dism.unmount(w.mnt, commit=True),
             (E.MountPathError,)),
        Case("unmount-missing-dir", lambda w: dism.unmount(w.root / "nodir", commit=False)),
        Case("unmount-a-file", lambda w: dism.unmount(w.text, commit=False)),
        Case("unmount-empty-string", lambda w: dism.unmount("", commit=False)),
        Case("unmount-none", lambda w: dism.unmount(None, commit=False), (TypeError,)),
        Case("unmount-commit-missing", lambda w: dism.unmount(w.mnt), (TypeError,)),
        Case("unmount-discard-with-append",
             lambda w: dism.unmount(w.mnt, commit=False, append=True), (ValueError,)),
        Case("unmount-discard-with-integrity",
             lambda w: dism.unmount(w.mnt, commit=False, integrity=True), (ValueError,)),
        Case("remount-not-mounted", lambda w: dism.remount(w.mnt)),
        Case("remount-missing-dir", lambda w: dism.remount(w.root / "nodir")),
        Case("remount-none", lambda w: dism.remount(None), (TypeError,)),
        # sessions
        Case("session-missing-dir", lambda w: dism.Session(w.root / "nodir"),
             (E.PathNotFoundError,)),
        Case("session-on-a-file", lambda w: dism.Session(w.text)),
        Case("session-on-fifo", lambda w: dism.Session(w.fifo)),
        Case("session-not-windows", lambda w: dism.Session(w.empty_dir)),
        Case("session-none", lambda w: dism.Session(None), (TypeError,)),
        Case("session-bad-windows-dir", lambda w: dism.Session(w.tree, windows_dir="NoSuchDir")),
        Case("session-closed-use", closed_session_call, (E.InvalidSessionError,)),
        Case("feature-info-unknown", session_call("get_feature_info", "NoSuchFeature"),
             (E.UnknownFeatureError,)),
        Case("feature-enable-unknown", session_call("enable_features", "NoSuchFeature"),
             (E.UnknownFeatureError,)),
        Case("feature-disable-unknown", session_call("disable_features", "NoSuchFeature"),
             (E.UnknownFeatureError,)),
        Case("package-info-unknown", session_call("get_package_info", "No~Such~Package"),
             (E.NotFoundError,)),
        Case("package-add-missing", session_call("add_package", "/nonexistent/x.cab")),
        Case("package-remove-unknown", session_call("remove_package", "No~Such~Package")),
        Case("driver-info-missing", session_call("get_driver_info", "/nonexistent/x.inf")),
        Case("driver-add-missing", session_call("add_driver", "/nonexistent/x.inf")),
        Case("driver-remove-unknown", session_call("remove_driver", "oem999.inf")),
        Case("capability-info-unknown", session_call("get_capability_info", "No.Such~~~~0.0.1.0")),
        Case("capability-add-unknown", session_call("add_capability", "No.Such~~~~0.0.1.0")),
        Case("language-add-bad-name", session_call("add_language", "not a language")),
        Case("unattend-missing", session_call("apply_unattend", "/nonexistent/unattend.xml")),
        Case("appx-remove-unknown", session_call("remove_provisioned_appx_package", "No.Such")),
        Case("registry-hive-bad", session_call("get_registry_mount_point", 99),
             (E.DismError, ValueError)),
        Case("edition-set-unknown", session_call("set_edition", "NoSuchEdition")),
        Case("initialize-bad-log-level", lambda w: dism.initialize(log_level=99),
             (E.DismError, ValueError)),
    ]
    return cases


def cli_cases() -> list[Case]:
    g = "{good}"
    return [
        Case("cli-no-arguments", argv=(), statuses=(2,)),
        Case("cli-unknown-verb", argv=("frobnicate",), statuses=(2,)),
        Case("cli-unsupported-dism-verb", argv=("/Image:{tree}", "/Set-Edition:Pro")),
        Case("cli-export-image", argv=("/Export-Image", "/SourceImageFile:{good}")),
        Case("cli-info-no-file", argv=("get-imageinfo",), statuses=(2,)),
        Case("cli-info-missing-file", argv=("get-imageinfo", "--image-file", "{root}/none.wim")),
        Case("cli-info-directory", argv=("get-imageinfo", "--image-file", "{root}")),
        Case("cli-info-fifo", argv=("get-imageinfo", "--image-file", "{fifo}")),
        Case("cli-info-text", argv=("get-imageinfo", "--image-file", "{text}")),
        Case("cli-info-truncated", argv=("get-imageinfo", "--image-file", "{truncated}")),
        Case("cli-info-index-0", argv=("get-imageinfo", "--image-file", g, "--index", "0")),
        Case("cli-info-index-negative", argv=("get-imageinfo", "--image-file", g, "--index", "-1")),
        Case("cli-info-index-word", argv=("get-imageinfo", "--image-file", g, "--index", "one")),
        Case("cli-info-index-past-end", argv=("get-imageinfo", "--image-file", g, "--index", "9")),
        Case("cli-info-name-unknown", argv=("get-imageinfo", "--image-file", g, "--name", "Nope")),
        Case("cli-dism-syntax-missing-file", argv=("/Get-ImageInfo", "/ImageFile:{root}/none.wim")),
        Case("cli-mount-no-dir", argv=("mount-image", "--image-file", g, "--index", "1"),
             statuses=(2,)),
        Case("cli-mount-index-0",
             argv=("mount-image", "--image-file", g, "--index", "0", "--mount-dir", "{mnt}")),
        Case("cli-mount-index-wraps",
             argv=("mount-image", "--image-file", g, "--index", "4294967298", "--mount-dir",
                   "{mnt}")),
        Case("cli-mount-missing-dir",
             argv=("mount-image", "--image-file", g, "--index", "1", "--mount-dir", "{root}/nodir")),
        Case("cli-mount-dir-not-empty",
             argv=("mount-image", "--image-file", g, "--index", "1", "--mount-dir", "{full}")),
        Case("cli-mount-split-part",
             argv=("mount-image", "--image-file", "{split}", "--index", "1", "--mount-dir",
                   "{mnt}", "--read-only")),
        Case("cli-mount-missing-wim",
             argv=("mount-image", "--image-file", "{root}/none.wim", "--index", "1",
                   "--mount-dir", "{mnt}")),
        Case("cli-unmount-no-choice", argv=("unmount-image", "--mount-dir", "{mnt}"),
             statuses=(2,)),
        Case("cli-unmount-both-choices",
             argv=("unmount-image", "--mount-dir", "{mnt}", "--commit", "--discard"),
             statuses=(2,)),
        Case("cli-unmount-not-mounted", argv=("unmount-image", "--mount-dir", "{mnt}", "--discard")),
        Case("cli-commit-not-mounted", argv=("commit-image", "--mount-dir", "{mnt}")),
        Case("cli-remount-not-mounted", argv=("remount-image", "--mount-dir", "{mnt}")),
        Case("cli-features-missing-image", argv=("get-features", "--image", "{root}/nodir")),
        Case("cli-features-not-windows", argv=("get-features", "--image", "{empty_dir}")),
        Case("cli-featureinfo-unknown",
             argv=("get-featureinfo", "--image", "{tree}", "--feature-name", "NoSuchFeature")),
        Case("cli-enable-feature-no-name", argv=("enable-feature", "--image", "{tree}"),
             statuses=(2,)),
        Case("cli-packages-bad-format",
             argv=("get-packages", "--image", "{tree}", "--format", "xml"), statuses=(2,)),
        Case("cli-add-driver-missing",
             argv=("add-driver", "--image", "{tree}", "--driver", "/nonexistent/x.inf")),
        Case("cli-bad-log-level", argv=("--log-level", "9", "get-mountedimageinfo"),
             statuses=(2,)),
        Case("cli-scratch-dir-missing",
             argv=("--scratch-dir", "{root}/nodir", "get-mountedimageinfo")),
    ]


CASES = api_cases() + cli_cases()


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every regular file under root (what "nothing changed" means)."""
    digest = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.is_fifo():
            continue
        try:
            digest[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            continue
    return digest


def mounts_under(root: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f
                if " - fuse.wimfs " in line and line.split()[4].startswith(str(root))]


class CaseTimeout(Exception):
    pass


def on_alarm(signum, frame):
    raise CaseTimeout(f"blocked for more than {CASE_SECONDS} s")


def run_api(case: Case, work: Work) -> str | None:
    """None when the case failed as its contract says; else what happened."""
    signal.alarm(CASE_SECONDS)
    try:
        result = case.call(work)
    except CaseTimeout as e:
        return f"hung: {e}"
    except case.expect as e:
        if isinstance(e, dism.DismError):
            if getattr(e, "hresult", None) is None or not getattr(e, "message", None):
                return f"{type(e).__name__} without hresult/message: {e!r}"
        return None
    except BaseException as e:  # noqa: BLE001 - every other outcome is reported
        return f"raised {type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
    if isinstance(result, dism.MountedImage):
        result.unmount(commit=False)
    elif isinstance(result, dism.Session):
        result.close()
    return f"succeeded (returned {type(result).__name__}) instead of raising " + \
        "/".join(c.__name__ for c in case.expect)


def cli_placeholders(work: Work) -> dict[str, str]:
    return {"good": str(work.good), "root": str(work.root), "fifo": str(work.fifo),
            "text": str(work.text), "truncated": str(work.truncated(3000)),
            "mnt": str(work.mnt), "full": str(work.full), "split": str(work.split),
            "tree": str(work.tree), "empty_dir": str(work.empty_dir)}


def run_cli(case: Case, work: Work) -> str | None:
    argv = [a.format(**cli_placeholders(work)) for a in case.argv]
    try:
        run = subprocess.run([sys.executable, "-m", "dism", *argv], capture_output=True,
                             text=True, timeout=CASE_SECONDS * 2, cwd=work.root / "cwd",
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hung"
    said = run.stdout + run.stderr
    if run.returncode == 0:
        return f"exit status 0: {said[-300:]}"
    if run.returncode < 0:
        return f"killed by signal {-run.returncode}: {said[-600:]}"
    if "Traceback" in said or "runtime error:" in said or "Sanitizer" in said:
        return f"status {run.returncode} with a traceback or sanitizer report: {said[-1500:]}"
    if not run.stderr.strip():
        return f"status {run.returncode} without a message on stderr"
    if case.statuses and run.returncode not in case.statuses:
        return f"status {run.returncode}, expected {case.statuses}: {said[-300:]}"
    return None


def run_case(case: Case, work: Work) -> str | None:
    before = tree_digest(work.root)
    problem = run_api(case, work) if case.call else run_cli(case, work)
    problems = [problem] if problem else []
    left = mounts_under(work.root)
    if left:
        problems.append(f"left mounted: {left}")
        for point in left:
            subprocess.run(["umount", "-l", point], check=False)
    listed = [m.mount_path for m in dism.get_mounted_images()
              if m.mount_path.startswith(str(work.root))]
    if listed:
        problems.append(f"still listed by get_mounted_images: {listed}")
        dism.cleanup_mountpoints()
    after = tree_digest(work.root)
    changed = sorted(k for k in before.keys() | after.keys()
                     if before.get(k) != after.get(k) and not k.startswith(("truncated-", "garbled-")))
    if changed:
        problems.append(f"files changed: {changed[:10]}")
    return "; ".join(problems) or None


def main(argv: list[str]) -> int:
    root, good = Path(argv[0]), Path(argv[1])
    wanted = set(argv[2:])
    root.mkdir(parents=True)
    work = Work(root, good)
    (root / "cwd").mkdir()
    signal.signal(signal.SIGALRM, on_alarm)
    try:
        for case in CASES:
            if wanted and case.name not in wanted:
                continue
            try:
                problem = run_case(case, work)
            except BaseException:  # noqa: BLE001
                problem = "the runner failed: " + traceback.format_exc()
            print(json.dumps({"name": case.name, "problem": problem}), flush=True)
    finally:
        work.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
