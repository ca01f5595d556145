"""DISM.exe's spelling of a command line -> argparse's, by the grammar table.

`/Image:C:\\mnt /Remove-Package /PackageName:A /PackageName:B` becomes
`remove-package --image=C:\\mnt --package-name=A --package-name=B`.  The
line is checked against .grammar first, as DISM.exe checks it: names are
case-insensitive and come in any order; an option the verb does not take,
a flag given a value, a value option given none, an option given twice that
does not repeat, or no verb at all is a usage error naming the option; a
DISM.exe verb or option this program cannot honour is refused as not
supported, before anything runs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import dism
from dism.errors import with_code

from . import grammar
from .exit_codes import UsageError
from .grammar import DismOption, DismVerb
from .verbs import VERBS_BY_NAME

_DISM_TOKEN = re.compile(r"/(\?|[A-Za-z][A-Za-z0-9-]*)(?::(.*))?\Z", re.DOTALL)

#: The program's own options (argparse's spelling) that take their value as
#: the next argument; they may stand anywhere in a DISM.exe line.
_OWN_VALUE_OPTIONS = frozenset(("--log-level", "--log-path", "--scratch-dir"))

_HELP = "dismapi /? lists the verbs; dismapi /VERB /? a verb's options"

#: DISM.exe's help: /? and its other spelling, /Get-Help.
_HELP_WORDS = ("?", "get-help")


def _first_word(argv: Sequence[str]) -> Optional[str]:
    """The first argument that is not one of the program's own --options."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token.startswith("--"):
            skip = token in _OWN_VALUE_OPTIONS
        else:
            return token
    return None


def uses_dism_exe_syntax(argv: Sequence[str]) -> bool:
    """Whether the line is in DISM.exe's spelling: its first word is a
    /Name or /Name:value (a POSIX path such as /mnt/x is not)."""
    first = _first_word(argv)
    return first is not None and _DISM_TOKEN.match(first) is not None


def not_supported(sentence: str) -> dism.DismError:
    """The refusal of something DISM.exe does that this program cannot do
    here: NotSupportedError, HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)."""
    return with_code(dism.NotSupportedError, dism._dism.HR_NOT_SUPPORTED, sentence)


@dataclass
class _Given:
    """One /Name[:value] token of the line."""
    name: str              # as typed, without the slash
    value: Optional[str]

    @property
    def key(self) -> str:
        return self.name.lower()

    @property
    def spelling(self) -> str:
        return "/" + self.name


@dataclass
class _Line:
    verbs: List[Tuple[DismVerb, _Given]] = field(default_factory=list)
    options: List[_Given] = field(default_factory=list)
    own: List[str] = field(default_factory=list)     # --json and the like, passed on
    help: bool = False


def _bare_word(token: str) -> UsageError:
    return UsageError(
        f"'{token}' is not a DISM.exe option: options start with / (/Name:value). A value "
        "holding spaces must be quoted as one argument, as in /Name:\"Windows 10 Pro\".")


def _read(argv: Sequence[str]) -> _Line:
    line = _Line()
    tokens = iter(argv)
    for token in tokens:
        if token.startswith("--"):
            line.own.append(token)
            following = next(tokens, None) if token in _OWN_VALUE_OPTIONS else None
            if following is not None:
                line.own.append(following)
            continue
        match = _DISM_TOKEN.match(token)
        if match is None:
            raise _bare_word(token)
        given = _Given(match.group(1), match.group(2))
        if given.key in _HELP_WORDS:
            line.help = True
        elif given.key in grammar.VERBS:
            line.verbs.append((grammar.VERBS[given.key], given))
        else:
            line.options.append(given)
    return line


def _refuse_unknown(options: Sequence[_Given]) -> None:
    for given in options:
        if given.key not in grammar.OPTIONS:
            raise UsageError(f"The {given.spelling} option is unknown. {_HELP}.")


def _the_verb(line: _Line) -> Tuple[DismVerb, _Given]:
    if len(line.verbs) > 1:
        names = " and ".join(given.spelling for _, given in line.verbs)
        raise UsageError(f"The line names two verbs, {names}: DISM.exe runs one verb per line.")
    if not line.verbs:
        _refuse_unknown(line.options)
        named = ", ".join(given.spelling for given in line.options)
        only = f", only {named}" if named else ""
        raise UsageError(f"No DISM.exe verb was given{only}: add one, such as /Get-ImageInfo "
                         f"or /Get-Features. {_HELP}.")
    return line.verbs[0]


def _cleanup_action(row: DismVerb, line: _Line) -> DismVerb:
    """/Cleanup-Image's action (/CheckHealth...), taken out of the options."""
    actions = {action.name.lower(): action for action in row.actions}
    chosen = [given for given in line.options if given.key in actions]
    names = ", ".join("/" + action.name for action in row.actions)
    if not chosen:
        raise UsageError(f"/Cleanup-Image needs an action: one of {names}.")
    if len(chosen) > 1:
        raise UsageError(f"/Cleanup-Image takes one action, not {len(chosen)} ("
                         + ", ".join(given.spelling for given in chosen) + ").")
    line.options.remove(chosen[0])
    action = actions[chosen[0].key]
    if chosen[0].value is not None:
        raise UsageError(f"/{action.name} takes no value: give /{action.name} alone.")
    return row.with_action(action)


def _refuse_if_not_here(row: DismVerb) -> None:
    # A row with a CLI verb always has it (tests/cli/test_grammar.py checks
    # the table against the verbs); a row without one says why.
    if row.cli is None:
        raise not_supported(f"DISM.exe's {row.spelling} is recognised but not supported here: "
                            f"{row.not_here}. Nothing was changed.")


def _verb_value(row: DismVerb, given: _Given) -> List[str]:
    """/Set-Edition:Professional's value, as the CLI verb's option."""
    if not row.value:
        if given.value is not None:
            raise UsageError(f"{row.spelling} takes no value: give {row.spelling} alone, "
                             "and its options after it.")
        return []
    if not given.value:
        raise UsageError(f"{row.spelling} needs a value: {row.spelling}:{row.value}.")
    return [f"{VERBS_BY_NAME[row.cli or ''].value_option}={given.value}"]


def _checked_value(option: DismOption, given: _Given) -> Optional[str]:
    if not option.takes_value:
        if given.value is not None:
            raise UsageError(f"The {option.spelling} option takes no value: give "
                             f"{option.spelling} alone.")
        return None
    if not given.value:
        raise UsageError(f"The {option.spelling} option needs a value: "
                         f"{option.spelling}:<{option.kind}>.")
    if option.choices:
        if given.value.lower() not in (choice.lower() for choice in option.choices):
            raise UsageError(f"The {option.spelling} option takes "
                             + " or ".join(option.choices) + f", not '{given.value}'.")
        return given.value.lower()
    return given.value


def _argparse_options(row: DismVerb, options: Sequence[_Given]) -> List[str]:
    out: List[str] = []
    seen: Dict[str, str] = {}
    for given in options:
        _refuse_unknown([given])
        option = grammar.OPTIONS[given.key]
        if not row.takes(given.key):
            raise UsageError(f"The {option.spelling} option is not recognized in this context: "
                             f"{row.spelling} does not take it.")
        if option.argparse is None:
            raise not_supported(f"DISM.exe's {option.spelling} option is recognised but not "
                                f"supported here: {option.not_here}. Nothing was changed.")
        value = _checked_value(option, given)
        earlier = seen.get(option.argparse)
        if earlier is not None and not row.repeatable(given.key):
            raise UsageError(f"The {option.spelling} option was given twice ({earlier} and "
                             f"{given.spelling}); {row.spelling} takes one.")
        seen[option.argparse] = given.spelling
        out.append(option.argparse if value is None else f"{option.argparse}={value}")
    return out


def translate_dism_syntax(argv: Sequence[str]) -> List[str]:
    """DISM.exe's spelling (`/Get-ImageInfo /ImageFile:x.wim /Index:1`) as argparse's
    (`get-imageinfo --image-file=x.wim --index=1`), checked against the grammar.
    A line not in DISM.exe's spelling is returned unchanged, so POSIX paths are safe."""
    if not uses_dism_exe_syntax(argv):
        return list(argv)
    line = _read(argv)
    if line.help and not line.verbs:
        return ["--help"] + line.own
    row, given = _the_verb(line)
    if row.actions:
        row = _cleanup_action(row, line)
    _refuse_if_not_here(row)
    cli = row.cli or ""
    if line.help:
        return [cli, "--help"]
    return ([cli] + _verb_value(row, given) + _argparse_options(row, line.options)
            + line.own)

