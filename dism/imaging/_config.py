"""DISM's capture configuration (WimScript.ini, /ConfigFile): which files a
capture leaves out.  WIMCaptureImage takes no configuration; DISM.exe
answers WIM_MSG_PROCESS for each file instead, and so does capture_image,
on both platforms, so the same file gives the same image everywhere.

Sections: [ExclusionList] (left out), [ExclusionException] (kept although
an exclusion matches).  [CompressionExclusionList] is read and ignored
(WIMGAPI's WIM_MSG_COMPRESS is not offered by the portable engine; the
files are compressed).  Patterns: a leading backslash anchors at the
captured directory (`\\pagefile.sys`), a pattern without one matches the
end of any path (`*.tmp`, `temp\\*.log`); `*` and `?` stay within one path
component; case is ignored.  Without a file, DISM's default exclusion list
applies.
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Pattern

DEFAULT_EXCLUSIONS = ("\\$ntfs.log", "\\hiberfil.sys", "\\pagefile.sys", "\\swapfile.sys",
                      "\\System Volume Information", "\\RECYCLER", "\\Windows\\CSC")

_SECTIONS = ("exclusionlist", "exclusionexception", "compressionexclusionlist")


def _decode(data: bytes) -> str:
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le")
    if len(data) >= 2 and data[1:2] == b"\0":
        return data.decode("utf-16-le")
    return data.decode("utf-8-sig")


def _compile(pattern: str) -> Pattern[str]:
    pattern = pattern.replace("/", "\\")
    anchored = pattern.startswith("\\")
    body = "".join("[^\\\\]*" if ch == "*" else "[^\\\\]" if ch == "?" else re.escape(ch)
                   for ch in pattern.strip("\\"))
    return re.compile(("\\A" if anchored else "(?:\\A|.*\\\\)") + body + "\\Z",
                      re.IGNORECASE | re.DOTALL)


class CaptureConfig:
    """Answers "capture this path?" for paths relative to the captured
    directory, with backslashes and no leading one."""

    def __init__(self, sections: Dict[str, List[str]]) -> None:
        self.exclusions = [_compile(p) for p in sections.get("exclusionlist", [])]
        self.exceptions = [_compile(p) for p in sections.get("exclusionexception", [])]

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
        if not any(p.match(relative) for p in self.exclusions):
            return True
        return any(p.match(relative) for p in self.exceptions)
