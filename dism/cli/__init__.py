"""The dismapi command line, modelled on DISM.exe.

    python -m dism get-imageinfo (IMAGE_FILE | --image-file IMAGE_FILE) [--index N | --name NAME]
    python -m dism mount-image --image-file install.wim --mount-dir DIR (--index N | --name NAME)
                               [--read-only] [--optimize] [--check-integrity]
    python -m dism commit-image --mount-dir DIR [--append] [--check-integrity]
    python -m dism unmount-image --mount-dir DIR (--commit | --discard) [--append]
                                 [--check-integrity]
    python -m dism remount-image --mount-dir DIR
    python -m dism get-mountedimageinfo
    python -m dism cleanup-mountpoints

Image management, through WIMGAPI (dism.imaging):

    capture-image --image-file X.wim --capture-dir DIR --name N [--description D]
                  [--compress none|fast|max|recovery] [--config-file INI] [--bootable]
                  [--check-integrity] [--verify]
    append-image  (the same, without --compress: the WIM's own is used)
    apply-image --image-file X.wim (--index N | --name N) --apply-dir DIR [--swm-file PATTERN]
    export-image --source-image-file X (--source-index N | --source-name N)
                 --destination-image-file Y [--destination-name N] [--compress TYPE]
    split-image --image-file X.wim --swm-file X.swm --file-size MB
    delete-image --image-file X.wim (--index N | --name N)
    set-imageinfo --image-file X.wim (--index N | --name N) [--new-name N] [--description D]
    list-image --image-file X.wim (--index N | --name N) [--path IMAGE_PATH]
    extract-files --image-file X.wim (--index N | --name N) --path P [--path P...] --dest-dir DIR
    get-imageinfo X.wim --header      (the WIM header: GUID, parts, compression, solid)

Servicing verbs work on a session: each takes ``--image DIR`` (a mounted
image or an offline Windows root; ``--windows-dir`` names its Windows
directory) or ``--online`` (Windows only), as DISM.exe's /Image: and /Online:

    get-features [--package-name N | --package-path P] [--format table]
    get-featureinfo --feature-name X [--package-name N | --package-path P]
    enable-feature --feature-name X [--all] [--source S]... [--limit-access]
    disable-feature --feature-name X [--package-name N] [--remove]
    get-packages [--format table]
    get-packageinfo (--package-name N | --package-path P)
    add-package --package-path P [--ignore-check] [--prevent-pending]
    remove-package (--package-name N | --package-path P)
    get-drivers [--all] [--format table]
    get-driverinfo --driver INF
    add-driver --driver PATH [--recurse] [--force-unsigned]
    remove-driver --driver oemN.inf
    get-capabilities [--format table]
    get-capabilityinfo --capability-name X
    add-capability --capability-name X [--source S]... [--limit-access]
    remove-capability --capability-name X
    get-currentedition | get-targeteditions | get-provisionedappxpackages
    check-health | scan-health | restore-health [--source S]... [--limit-access]
    apply-unattend --unattend answer.xml [--single-session]
    add-provisionedappxpackage (--package-path P | --folder-path DIR) (--license-path L... |
                               --skip-license) [--dependency-package-path D]...
                               [--custom-data-path F] [--region R] [--stub-package-option O]
    remove-provisionedappxpackage --package-name N
    set-edition --edition E [--product-key KEY] [--accept-eula]   (--online needs --accept-eula)
    set-productkey --product-key KEY
    get-reservedstoragestate
    set-reservedstoragestate --state enabled|disabled    (--online only, as in DISM.exe)

The get-...info verbs take ``--format table`` too: their `Label : value`
lines become a table of property and value, as DISM.exe's /Format:Table.

The console script ``dismapi`` is the same program.  DISM.exe's own spelling
is accepted too and translated before parsing (names are case-insensitive):

    python -m dism /Get-ImageInfo /ImageFile:install.wim /Index:1
    python -m dism /Mount-Image /ImageFile:install.wim /Name:1 /MountDir:/mnt/img /ReadOnly
    python -m dism /Unmount-Image /MountDir:/mnt/img /Commit
    python -m dism /Image:/mnt/img /Get-Features /Format:Table
    python -m dism /Image:/mnt/img /Cleanup-Image /CheckHealth
    python -m dism /Image:/mnt/img /Apply-Unattend:answer.xml
    python -m dism /Export-Image /SourceImageFile:install.esd /SourceIndex:1
                   /DestinationImageFile:install.wim /Compress:max

Global options, accepted before or after the verb: ``--json`` prints one JSON
document on stdout (enums by name, datetimes in ISO 8601, versions as strings;
a failure is ``{"error": {"hresult": "0x...", "type": ..., "message": ...}}``);
``--quiet`` prints nothing but errors (and the JSON document, if asked for);
``--log-level``, ``--log-path`` and ``--scratch-dir`` go to dism.initialize().
Mount, unmount, commit and the long servicing operations draw a DISM-style
progress bar on stderr, redrawn in place on a terminal and printed once, in
its final state, otherwise.

Exit status: from the class of DISM's HRESULT (see exit_status()); on
Windows, for a command line in DISM.exe's spelling, DISM.exe's codes
(dism_exe_exit_status(): 0, 3010 for a restart, the Win32 error or the
HRESULT).  The tables, EXIT_STATUS_TABLE, are appended to this docstring and
printed by --help.

The package, one concern a module, each importing only those after it:
main() here; parser (argparse from the verb table); reference (the
DISM.exe verb lists of --help and the README, from the grammar); report
(writing results and failures); syntax (a DISM.exe line checked against
the grammar and translated); render (results as text and JSON); words (API
names in messages as the CLI's or DISM.exe's words); grammar (DISM.exe's
verbs and options, one table); verbs/ (the verb table; images.py,
imaging.py, servicing.py, appx.py, settings.py: each verb's options,
check, action and table row; verb.py: what a verb is, declaring options);
results; console (status lines, progress bar); exit_codes.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Iterator, List, Optional, Sequence

import dism
from dism.errors import with_code

from .console import Console, as_closed_pipe, render_bar, stop_writing_to_closed_pipe
from .exit_codes import (EXIT_OK, EXIT_STATUS_TABLE, HRESULT_INVALID_STATE, UsageError,
                         dism_exe_exit_status, dism_exe_success_status, exit_status)
from .parser import build_parser, parse
from .report import HEADER, emit_error, emit_result
from .syntax import translate_dism_syntax, uses_dism_exe_syntax

__all__ = ["EXIT_STATUS_TABLE", "dism_exe_exit_status", "exit_status", "main", "render_bar",
           "translate_dism_syntax", "uses_dism_exe_syntax"]

__doc__ += "\n" + EXIT_STATUS_TABLE


@contextlib.contextmanager
def _initialized(args: argparse.Namespace) -> Iterator[None]:
    """dism.initialize() with the global options, if any was given."""
    if args.log_level is None and args.log_path is None and args.scratch_dir is None:
        yield
        return
    level = args.log_level if args.log_level is not None else dism.LogLevel.ERRORS_WARNINGS_INFO
    try:
        dism.initialize(log_level=level, log_path=args.log_path, scratch_dir=args.scratch_dir)
    except RuntimeError as exc:  # main() embedded in a process with sessions open
        raise with_code(dism.DismError, HRESULT_INVALID_STATE, str(exc)) from exc
    try:
        yield
    except BaseException:
        with contextlib.suppress(dism.DismError):
            dism.shutdown()
        raise
    dism.shutdown()


class _ExitCodes:
    """The exit codes of one run: the POSIX table, or DISM.exe's."""

    def __init__(self, dism_exe: bool) -> None:
        self.dism_exe = dism_exe

    def success(self, restart_required: bool) -> int:
        return dism_exe_success_status(restart_required) if self.dism_exe else EXIT_OK

    def failure(self, exc: BaseException) -> int:
        return dism_exe_exit_status(exc) if self.dism_exe else exit_status(exc)


def _exit_codes(argv: Sequence[str]) -> _ExitCodes:
    """DISM.exe's codes on Windows for a line in DISM.exe's spelling, so that
    batch files written for DISM.exe read %errorlevel% as they always have;
    the POSIX table everywhere else."""
    return _ExitCodes(sys.platform == "win32" and uses_dism_exe_syntax(argv))


def main(argv: Optional[Sequence[str]] = None, *, prog: Optional[str] = None) -> int:
    """Run the command line; returns the exit status (see EXIT_STATUS_TABLE).
    On Windows it may be negative (an HRESULT) or above 255: sys.exit()
    passes every 32-bit value on to the process exit code there."""
    argv = list(sys.argv[1:] if argv is None else argv)
    codes = _exit_codes(argv)
    try:
        return _run(argv, prog, codes)
    except OSError as exc:
        closed_pipe = as_closed_pipe(exc)
        if closed_pipe is None:
            raise
        stop_writing_to_closed_pipe()
        return codes.failure(closed_pipe)


def _run(argv: List[str], prog: Optional[str], codes: _ExitCodes) -> int:
    parser = build_parser(prog)
    early = Console(sys.stdout, sys.stderr, json_mode="--json" in argv, quiet=True)
    try:
        args = parse(parser, argv)
    except (UsageError, dism.DismError, KeyboardInterrupt) as exc:  # DismError: a
        # DISM.exe verb or option recognised but not supported here
        emit_error(exc, early, None)
        return codes.failure(exc)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK

    console = Console(sys.stdout, sys.stderr, json_mode=args.json, quiet=args.quiet)
    try:
        console.say(HEADER.format(version=dism.__version__))
        console.say()
        with _initialized(args):
            result = args.spec.action(args, console)
    except (dism.DismError, UsageError, KeyboardInterrupt) as exc:
        emit_error(exc, console, args.log_path, args.verb, argv)
        return codes.failure(exc)
    emit_result(result, console)
    return codes.success(getattr(result, "restart_required", False))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
