"""DISM API names -> the CLI's words, for the messages the engine writes.

The engine's messages name the DISM API's functions, flags and parameters
(DismMountImage, DISM_MOUNT_READONLY, ImageIndex); a CLI user knows the
verbs and options they typed (mount-image, --read-only, --index).
"""
from __future__ import annotations

import itertools
import re
from typing import Callable, List, Mapping, Optional, Sequence, Set

from . import grammar
from .verbs import VERBS, Verb

def _api_function(verb: Verb) -> str:
    """The DISM API function a verb calls, by DISM.exe's naming (/Get-Features
    calls DismGetFeatures)."""
    return "Dism" + verb.dism_name.replace("-", "")


#: What a CLI user types for each DISM API name the engine's messages use.
API_TO_CLI: Mapping[str, str] = {
    **{_api_function(verb): verb.name for verb in VERBS},
    **{"_" + _api_function(verb): verb.name for verb in VERBS},  # the private exports
    "DismRestoreImageHealth": "restore-health",
    "DISM_DISCARD_IMAGE": "--discard", "DISM_COMMIT_IMAGE": "--commit",
    "DISM_COMMIT_APPEND": "--append", "DISM_COMMIT_GENERATE_INTEGRITY": "--check-integrity",
    "DISM_MOUNT_CHECK_INTEGRITY": "--check-integrity", "DISM_MOUNT_READONLY": "--read-only",
    "DISM_MOUNT_OPTIMIZE": "--optimize", "DISM_ONLINE_IMAGE": "--online",
    "ImageFilePath": "--image-file", "MountPath": "--mount-dir", "ImageIndex": "--index",
    "ImageName": "--name", "ImagePath": "--image", "WindowsDirectory": "--windows-dir",
    "SystemDrive": "--sysdrive-dir",
    "SourcePaths": "--source", "LimitAccess": "--limit-access", "EnableAll": "--all",
    "FeatureName": "--feature-name", "PackagePath": "--package-path",
    "RemovePayload": "--remove", "ForceUnsigned": "--force-unsigned",
    "ScratchDirectory": "--scratch-dir", "LogFilePath": "--log-path",
    "PackageName": "--package-name", "SkipLicense": "--skip-license",
    "EditionID": "--edition", "ProductKey": "--product-key",
    # dism.imaging's messages name its functions and keywords
    "capture_image": "capture-image", "append_image": "append-image",
    "apply_image": "apply-image", "export_image": "export-image", "split_image": "split-image",
    "delete_image": "delete-image", "set_image_info": "set-imageinfo",
    "list_image": "list-image", "extract_files": "extract-files",
    "export_drivers": "export-driver",
    "source_dir": "--capture-dir", "target_dir": "--apply-dir", "image_path": "--image-file",
    "destination_image": "--destination-image-file",
    "config_file": "--config-file", "swm_files": "--swm-file", "swm_path": "--swm-file",
    "file_size_mb": "--file-size", "new_name": "--new-name",
}

#: API names that stand for the verb being run (every servicing verb opens a
#: session; check-health and scan-health both call DismCheckImageHealth).
_API_OF_THE_RUNNING_VERB = ("DismInitialize", "DismOpenSession", "DismCloseSession",
                            "DismCheckImageHealth")

#: The CLI's words -> DISM.exe's, for a line written in DISM.exe's spelling
#: (enable-feature -> /Enable-Feature, --online -> /Online).
CLI_TO_DISM_EXE: Mapping[str, str] = {
    **{row.cli: row.spelling for row in grammar.every_verb() if row.cli},
    **grammar.DISM_SPELLING_OF,
}

_QUOTED = re.compile(r"('[^']*')")   # the engine quotes paths and names given to it
# A word standing alone: not the tail of a path or of DISM.exe's /Name,
# which a message may hold as typed (/PackageName is no API word there).
_WORD = re.compile(r"(?<![\w/\\])\w+")
# A CLI verb (hyphenated) or option (--name), standing alone.
_CLI_WORD = re.compile(r"(?<![\w/-])(?:--[a-z][a-z-]*|[a-z]+(?:-[a-z]+)+)(?![\w-])")


def _outside(pattern: "re.Pattern[str]", text: str, translate: Callable[[str], str]) -> str:
    """`text` with `translate` applied to what lies between the matches of
    `pattern` (one capturing group); the matches stay as they are."""
    pieces = pattern.split(text)
    return "".join(piece if kept else translate(piece)
                   for piece, kept in zip(pieces, itertools.cycle((False, True))))


def _given_values(argv: Sequence[str]) -> List[str]:
    """What the user typed, argument by argument and option value by option
    value (--opt=VALUE, /Opt:VALUE), longest first."""
    values: Set[str] = set()
    for arg in argv:
        values.add(arg)
        for separator in "=:":
            if separator in arg:
                values.add(arg.split(separator, 1)[1])
    return sorted((v for v in values if len(v) > 1), key=len, reverse=True)


def _translate_unquoted(text: str, words: Mapping[str, str],
                        spellings: Optional[Mapping[str, str]]) -> str:
    def translate(piece: str) -> str:
        piece = _WORD.sub(lambda m: words.get(m[0], m[0]), piece)
        if spellings:
            piece = _CLI_WORD.sub(lambda m: spellings.get(m[0], m[0]), piece)
        return piece
    return _outside(_QUOTED, text, translate)


def dism_exe_spelling(message: str) -> str:
    """The CLI's own message (naming its verbs and options: mount-image,
    --image-file) with DISM.exe's names (/Mount-Image, /ImageFile); quoted
    text stays, and so do DISM.exe's names already there (/FeatureName is
    not an API name here)."""
    return _translate_unquoted(message, {}, CLI_TO_DISM_EXE)


def cli_words(message: str, verb: Optional[str] = None, given: Sequence[str] = (), *,
              dism_exe: bool = False) -> str:
    """`message` with DISM API names replaced by the CLI's verbs and options,
    or with `dism_exe`, by DISM.exe's (/Enable-Feature, /Online), for a line
    written in DISM.exe's spelling.  What the user gave (`given`: the
    command line) and quoted text are left as they are, even a path whose
    own apostrophe upsets the quoting."""
    words = dict(API_TO_CLI)
    if verb is not None:
        words.update(dict.fromkeys(_API_OF_THE_RUNNING_VERB, verb))
    spellings = CLI_TO_DISM_EXE if dism_exe else None
    values = _given_values(given)
    if not values:
        return _translate_unquoted(message, words, spellings)
    typed = re.compile("(" + "|".join(map(re.escape, values)) + ")")
    return _outside(typed, message, lambda piece: _translate_unquoted(piece, words, spellings))
