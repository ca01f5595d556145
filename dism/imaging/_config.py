"""DISM's capture configuration (WimScript.ini, /ConfigFile): which files a
capture leaves out.  WIMCaptureImage takes no configuration; DISM.exe
answers WIM_MSG_PROCESS for each file instead, and so does capture_image,
on both platforms, so the same file gives the same image everywhere.

Sections: [ExclusionList] (left out), [ExclusionException] (kept although
an exclusion matches the path or a folder above it; the folders on the way
to an anchored exception are kept so that it can be reached).
[CompressionExclusionList] is read and ignored (WIMGAPI's WIM_MSG_COMPRESS
is not offered by the portable engine; the files are compressed).
Patterns: a leading backslash (or a drive, `C:\\`) anchors at the captured
directory (`\\pagefile.sys`); a pattern without one matches the last
components of a path at any depth (`*.tmp`, `temp\\*.log`, which wimlib's
own reader refuses); `*` and `?` stay within one path component, `*.*`
matches every name, case is ignored.  Files are UTF-16 (DISM writes them
so) or UTF-8; `#` and `;` start comments.  Without a file, DISM's default
exclusion list applies.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Pattern, Tuple

DEFAULT_EXCLUSIONS = ("\\$ntfs.log", "\\hiberfil.sys", "\\pagefile.sys", "\\swapfile.sys",
                      "\\System Volume Information", "\\RECYCLER", "\\Windows\\CSC")

_SECTIONS = ("exclusionlist", "exclusionexception", "compressionexclusionlist")


def _decode(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if len(data) >= 2 and data[1:2] == b"\0":
        return data.decode("utf-16-le")
    return data.decode("utf-8-sig")


def _component(text: str) -> str:
    if text == "*.*":
        return "[^\\\\]*"
    return "".join("[^\\\\]*" if ch == "*" else "[^\\\\]" if ch == "?" else re.escape(ch)
                   for ch in text)


def _components(pattern: str) -> Tuple[bool, List[str]]:
    pattern = pattern.replace("/", "\\")
    if len(pattern) >= 2 and pattern[1] == ":" and pattern[0].isascii() and pattern[0].isalpha():
        pattern = pattern[2:]
    return pattern.startswith("\\"), [_component(p) for p in pattern.split("\\") if p]


def _compile(pattern: str) -> Optional[Pattern[str]]:
    """Matches a path when the pattern matches it or a folder above it."""
    anchored, parts = _components(pattern)
    if not parts:  # "\" alone names nothing
        return None
    return re.compile(("\\A" if anchored else "(?:\\A|(?<=\\\\))") + "\\\\".join(parts)
                      + "(?:\\\\|\\Z)", re.IGNORECASE | re.DOTALL)


def _compile_way(pattern: str) -> Optional[Pattern[str]]:
    """Matches the folders on the way to an anchored pattern (and the
    path itself): `\\a\\b\\c` gives a, a\\b and a\\b\\c."""
    anchored, parts = _components(pattern)
    if not anchored or not parts:
        return None
    way = parts[-1]
    for part in reversed(parts[:-1]):
        way = f"{part}(?:\\\\{way})?"
    return re.compile(f"\\A{way}\\Z", re.IGNORECASE | re.DOTALL)


def _compiled(patterns: List[str], compile_one: Callable[[str], Optional[Pattern[str]]]
              ) -> List[Pattern[str]]:
    return [c for c in map(compile_one, patterns) if c is not None]


class CaptureConfig:
    """Answers "capture this path?" for paths relative to the captured
    directory, with backslashes and no leading one."""

    def __init__(self, sections: Dict[str, List[str]]) -> None:
        exceptions = sections.get("exclusionexception", [])
        self.exclusions = _compiled(sections.get("exclusionlist", []), _compile)
        self.exceptions = _compiled(exceptions, _compile) + _compiled(exceptions, _compile_way)

    @classmethod
    def default(cls) -> "CaptureConfig":
        return cls({"exclusionlist": list(DEFAULT_EXCLUSIONS)})

    @classmethod
    def parse(cls, text: str, source: str = "the configuration") -> "CaptureConfig":
        sections: Dict[str, List[str]] = {}
        current: Optional[str] = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip().lower()
                if current not in _SECTIONS:
                    raise ValueError(f"{source}, line {number}: unknown section {line}; "
                                     "DISM knows [ExclusionList], [ExclusionException] and "
                                     "[CompressionExclusionList]")
                sections.setdefault(current, [])
                continue
            if current is None:
                raise ValueError(f"{source}, line {number}: {line!r} is outside any section")
            sections[current].append(line.strip('"'))
        return cls(sections)

    @classmethod
    def load(cls, path: str) -> "CaptureConfig":
        with open(path, "rb") as stream:
            return cls.parse(_decode(stream.read()), f"'{path}'")

    def keeps(self, relative: str) -> bool:
        if not relative:
            return True
        if not any(p.search(relative) for p in self.exclusions):
            return True
        return any(p.search(relative) for p in self.exceptions)
