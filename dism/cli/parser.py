"""The argparse parser, built from the verb table, and parsing a command
line in either spelling (argparse's or DISM.exe's)."""
from __future__ import annotations

import argparse
from typing import Any, List, NoReturn, Optional

import dism

from .exit_codes import EXIT_STATUS_TABLE, UsageError
from .reference import help_lines
from .syntax import in_dism_exe_words, translate_dism_syntax, uses_dism_exe_syntax
from .verbs import VERBS

_LOG_LEVELS = {
    "1": dism.LogLevel.ERRORS, "errors": dism.LogLevel.ERRORS,
    "2": dism.LogLevel.ERRORS_WARNINGS, "warnings": dism.LogLevel.ERRORS_WARNINGS,
    "3": dism.LogLevel.ERRORS_WARNINGS_INFO, "info": dism.LogLevel.ERRORS_WARNINGS_INFO,
    "4": dism.LogLevel.ERRORS_WARNINGS_INFO_DEBUG,
    "debug": dism.LogLevel.ERRORS_WARNINGS_INFO_DEBUG,
}


def _log_level(text: str) -> dism.LogLevel:
    try:
        return _LOG_LEVELS[text.strip().lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(
            f"invalid log level {text!r}: use 1-4 (as DISM.exe's /LogLevel) or "
            "errors, warnings, info, debug") from None



class _Parser(argparse.ArgumentParser):
    """Reports usage errors by raising UsageError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self)


def _add_global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # On the verbs the defaults are SUPPRESS, so an option given before the
    # verb is not reset by the verb's parser.
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument("--json", action="store_true", default=default(False),
                       help="print one JSON document on stdout")
    group.add_argument("--quiet", action="store_true", default=default(False),
                       help="print only errors (and the JSON document with --json)")
    group.add_argument("--log-level", type=_log_level, default=default(None), metavar="LEVEL",
                       help="1 errors, 2 +warnings, 3 +information (default), 4 +debug")
    group.add_argument("--log-path", default=default(None), metavar="PATH",
                       help="the DISM log file")
    group.add_argument("--scratch-dir", default=default(None), metavar="DIR",
                       help="the directory for temporary files")
    # DISM.exe's /English and /NoRestart, accepted so that scripts run: the
    # messages are English already, and nothing here restarts the machine.
    group.add_argument("--english", action="store_true", default=default(False),
                       help="accepted for DISM.exe's /English: messages are in English")
    group.add_argument("--no-restart", action="store_true", default=default(False),
                       help="accepted for DISM.exe's /NoRestart: dismapi never restarts "
                            "Windows; a change that needs a restart says so")


def _epilog() -> str:
    return ("DISM.exe's spelling works too, e.g.\n"
            "  /Get-ImageInfo /ImageFile:install.wim /Index:1\n"
            "  /Mount-Image /ImageFile:install.wim /Index:1 /MountDir:/mnt/img /ReadOnly\n"
            "  /Unmount-Image /MountDir:/mnt/img /Commit\n"
            "  /Image:/mnt/img /Enable-Feature /FeatureName:NetFx3 /All\n"
            "  /Image:/mnt/img /Cleanup-Image /CheckHealth\n\n"
            + "\n".join(help_lines()) + "\n\n"
            "exit status:\n" + EXIT_STATUS_TABLE)


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog or "dismapi",
                     description="Deployment Image Servicing and Management, on the DISM API "
                                 f"({dism.BACKEND} backend).",
                     epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dismapi {dism.__version__}")
    _add_global_options(parser, top=True)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        sub = verbs.add_parser(verb.name, help=verb.help,
                               description=f"{verb.help} (DISM.exe: {verb.dism_spelling})",
                               epilog="exit status:\n" + EXIT_STATUS_TABLE,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        verb.configure(sub)
        _add_global_options(sub, top=False)
        sub.set_defaults(spec=verb, parser=sub)
    return parser



def parse(parser: argparse.ArgumentParser, argv: List[str]) -> argparse.Namespace:
    """The command line in either spelling, checked by its verb beyond what
    argparse can say; a problem raises UsageError."""
    if not uses_dism_exe_syntax(argv):
        return _checked(parser.parse_args(argv))
    try:
        return _checked(parser.parse_args(translate_dism_syntax(argv)))
    except UsageError as error:
        # A DISM.exe line gets its problem in DISM.exe's words, without
        # argparse's usage line, which would name the other spelling.
        raise UsageError(in_dism_exe_words(error.message)) from None


def _checked(args: argparse.Namespace) -> argparse.Namespace:
    problem = args.spec.check(args) if args.spec.check else None
    if problem:
        raise UsageError(problem, args.parser)
    return args
