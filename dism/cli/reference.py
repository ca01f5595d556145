"""The DISM.exe verb list, derived from the grammar table: the text `--help`
prints and the README's table of every verb and where it runs.

A test checks that the README holds exactly readme_table() between its
markers (and prints the table when it does not).
"""
from __future__ import annotations

from typing import List

from . import grammar
from .grammar import DismVerb

README_BEGIN = "<!-- DISM.exe verbs: dism.cli.reference.readme_table(), from dism/cli/grammar.py -->"
README_END = "<!-- end of DISM.exe verbs -->"


def _windows(row: DismVerb) -> str:
    if not row.cli:
        return f"no: {row.not_here}"
    return "online only" if row.windows == grammar.ONLINE_ONLY else "yes"


def _linux(row: DismVerb) -> str:
    if not row.cli:
        return "no"
    if row.linux == grammar.ONLINE_ONLY:
        return "no: /Online needs Windows"
    if row.linux:
        return f"refused: {row.linux}"
    return "yes, from the image's registry" if row.windows else "yes"


def _usage(row: DismVerb) -> str:
    spelling = row.spelling + (f":{row.value}" if row.value else "")
    return spelling + (" (ours)" if row.extension else "")


def readme_table() -> str:
    lines = [README_BEGIN,
             "| DISM.exe verb | older name | `dismapi` verb | on Windows | on Linux |",
             "|---|---|---|---|---|"]
    for row in grammar.every_verb():
        aliases = ", ".join("/" + alias for alias in row.aliases)
        cli = f"`{row.cli}`" if row.cli else ""
        lines.append(f"| `{_usage(row)}` | {aliases} | {cli} | {_windows(row)} | "
                     f"{_linux(row)} |")
    lines.append(README_END)
    return "\n".join(lines) + "\n"


def help_lines() -> List[str]:
    """DISM.exe's verbs for --help: those this program runs, then the others."""
    here = [row for row in grammar.every_verb() if row.cli]
    elsewhere = [row for row in grammar.every_verb() if not row.cli]
    lines = ["DISM.exe verbs (any case; options as /Name:value, in any order):"]
    for row in here:
        aliases = f" (also /{', /'.join(row.aliases)})" if row.aliases else ""
        lines.append(f"  {_usage(row):<42} {row.cli}{aliases}")
    lines.append("recognised, but refused as not supported here (exit status 6; 50 on "
                 "Windows):")
    return lines + _filled([row.spelling for row in elsewhere], width=78, indent="  ")


def _filled(words: List[str], *, width: int, indent: str) -> List[str]:
    """`words` in lines of at most `width`, never splitting one (each may hold
    a space: "/Cleanup-Image /SPSuperseded")."""
    lines = [indent]
    for word in words:
        if len(lines[-1]) > len(indent) and len(lines[-1]) + 1 + len(word) > width:
            lines.append(indent)
        lines[-1] += ("" if lines[-1] == indent else " ") + word
    return lines

