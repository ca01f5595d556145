"""Declaring a verb's options: an adder puts a few argparse options on a
verb's parser; the verb table lists a verb's adders in the order --help
shows them."""
from __future__ import annotations

import argparse
import copy
from typing import Any, Callable, Dict, Optional, Tuple

#: Adds some of a verb's options to its parser.
AddOptions = Callable[[argparse.ArgumentParser], None]
#: One option: its name and argparse's keywords for it.
Option = Tuple[str, Dict[str, Any]]


def flag(name: str, help: str) -> Option:
    """An option that is on when given."""
    return name, {"action": "store_true", "help": help}


def value(name: str, metavar: Optional[str], help: str, **keywords: Any) -> Option:
    """An option (or a positional argument) that takes a value."""
    return name, {"metavar": metavar, "help": help, **keywords}


def _add_each(container: Any, declared: Tuple[Option, ...]) -> None:
    # Each parser gets its own copy of the keywords, so that a mutable default
    # (--source's list) is never shared between parsers or runs.
    for name, keywords in declared:
        container.add_argument(name, **copy.deepcopy(keywords))


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
