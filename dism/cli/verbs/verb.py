"""What a verb is (its DISM.exe name, help, options, check and action), and
declaring its options: an adder puts a few argparse options on a verb's
parser; a verb lists its adders in the order --help shows them."""
from __future__ import annotations

import argparse
import copy
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from ..console import Console
from ..results import Result

#: Adds some of a verb's options to its parser.
AddOptions = Callable[[argparse.ArgumentParser], None]
#: One option: its name and argparse's keywords for it.
Option = Tuple[str, Dict[str, Any]]
#: What argparse cannot say about a command line: the problem, or None.
Check = Callable[[argparse.Namespace], Optional[str]]
#: Does what the verb says; returns its result.
Action = Callable[[argparse.Namespace, Console], Result]


@dataclass(frozen=True)
class Verb:
    dism_name: str                   # DISM.exe's spelling
    help: str
    options: Tuple[AddOptions, ...]  # add the verb's options, in the order --help shows them
    action: Action
    check: Optional[Check] = None    # what argparse can't say
    value_option: Optional[str] = None   # where DISM.exe's /Verb:VALUE puts its value
    dism_usage: Optional[str] = None     # DISM.exe's spelling, when not just /dism_name

    @property
    def name(self) -> str:
        return self.dism_name.lower()

    @property
    def dism_spelling(self) -> str:
        return self.dism_usage or "/" + self.dism_name

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the verb's options to its parser."""
        for add in self.options:
            add(parser)


def flag(name: str, help: str) -> Option:
    """An option that is on when given."""
    return name, {"action": "store_true", "help": help}


#: The namespace attribute holding the dests of the _Once options given so far.
GIVEN_ONCE = "_given_once"


class _Once(argparse.Action):
    """Stores an option's value and refuses a second one, which argparse
    would let replace the first without a word.  Options that may repeat
    say so (action="append") and keep every value."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        given = namespace.__dict__.setdefault(GIVEN_ONCE, set())
        if self.dest in given:
            parser.error(f"{option_string or self.metavar} was given twice; it takes one value")
        given.add(self.dest)
        setattr(namespace, self.dest, values)


def value(name: str, metavar: Optional[str], help: str, **keywords: Any) -> Option:
    """An option (or a positional argument) that takes a value; given twice,
    it is refused unless `action="append"` keeps every value."""
    keywords.setdefault("action", _Once)
    return name, {"metavar": metavar, "help": help, **keywords}


def _add_each(container: Any, declared: Tuple[Option, ...]) -> None:
    # Each parser gets its own copy of the keywords, so that a mutable default
    # (--source's list) is never shared between parsers or runs.
    for name, keywords in declared:
        container.add_argument(name, **copy.deepcopy(keywords))


def image_index(text: str) -> int:
    """The type of every --index: an image index, from 1 to DISM's UINT."""
    try:
        index = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an image index: {text!r}") from None
    if index < 1:
        raise argparse.ArgumentTypeError(f"image indexes start at 1, not {index}")
    if index > 0xFFFFFFFF:   # DISM's UINT; get-imageinfo lists the indexes there are
        raise argparse.ArgumentTypeError(f"no WIM has an image {index}; get-imageinfo lists "
                                         f"the images of a WIM")
    return index


def options(*declared: Option) -> AddOptions:
    """An adder for these options."""
    def add(parser: argparse.ArgumentParser) -> None:
        _add_each(parser, declared)
    return add


def one_of(*declared: Option, required: bool) -> AddOptions:
    """An adder for options of which at most one (`required`: exactly one) is given."""
    def add(parser: argparse.ArgumentParser) -> None:
        _add_each(parser.add_mutually_exclusive_group(required=required), declared)
    return add
