"""The argparse parser, built from the verb table, and parsing a command
line in either spelling (argparse's or DISM.exe's)."""
from __future__ import annotations

import argparse
from typing import Any, List, NoReturn, Optional, Set

import dism

from .exit_codes import EXIT_STATUS_TABLE, UsageError
from .reference import help_lines
from .syntax import translate_dism_syntax, uses_dism_exe_syntax
from .words import dism_exe_spelling
from .verbs import VERBS
from .verbs.verb import GIVEN_ONCE, value

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
    # Given twice, even once before the verb and once after it, these are
    # refused (see _VerbParsers) rather than the later value silently winning.
    for name, keywords in (
            value("--log-level", "LEVEL", "1 errors, 2 +warnings, 3 +information (default), "
                  "4 +debug", type=_log_level, default=default(None)),
            value("--log-path", "PATH", "the DISM log file", default=default(None)),
            value("--scratch-dir", "DIR", "the directory for temporary files",
                  default=default(None))):
        group.add_argument(name, **keywords)
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


class _VerbParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """argparse's verbs, refusing a global option given both before the verb
    and after it: the verb's parser fills a namespace of its own, whose
    values then replace the top parser's, so neither parser alone sees the
    option twice."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        before: Set[str] = getattr(namespace, GIVEN_ONCE, set())
        setattr(namespace, GIVEN_ONCE, set())   # what the verb's parser alone was given
        super().__call__(parser, namespace, values, option_string)
        after: Set[str] = getattr(namespace, GIVEN_ONCE)
        for dest in sorted(before & after):
            parser.error(f"--{dest.replace('_', '-')} was given twice; it takes one value")
        setattr(namespace, GIVEN_ONCE, before | after)


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog or "dismapi",
                     description="Deployment Image Servicing and Management, on the DISM API "
                                 f"({dism.BACKEND} backend).",
                     epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"dismapi {dism.__version__}")
    _add_global_options(parser, top=True)
    parser.register("action", "parsers", _VerbParsers)
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
        raise UsageError(dism_exe_spelling(error.message)) from None


def _checked(args: argparse.Namespace) -> argparse.Namespace:
    problem = args.spec.check(args) if args.spec.check else None
    if problem:
        raise UsageError(problem, args.parser)
    return args
