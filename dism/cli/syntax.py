"""DISM.exe's spelling of a command line -> argparse's.

`/Get-ImageInfo /ImageFile:x.wim /Index:1` becomes
`get-imageinfo --image-file=x.wim --index=1`; DISM.exe's verbs this command
line lacks are refused by name.
"""
from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

from .exit_codes import UsageError
from .verbs import VERBS, VERBS_BY_NAME

_DISM_OPTIONS = {
    "imagefile": "--image-file", "wimfile": "--image-file", "index": "--index",
    "name": "--name", "mountdir": "--mount-dir", "readonly": "--read-only",
    "optimize": "--optimize", "checkintegrity": "--check-integrity", "commit": "--commit",
    "discard": "--discard", "append": "--append", "loglevel": "--log-level",
    "logpath": "--log-path", "scratchdir": "--scratch-dir", "quiet": "--quiet", "?": "--help",
    # servicing
    "image": "--image", "online": "--online", "windowsdir": "--windows-dir",
    "featurename": "--feature-name", "packagename": "--package-name",
    "packagepath": "--package-path", "all": "--all", "source": "--source",
    "limitaccess": "--limit-access", "remove": "--remove", "ignorecheck": "--ignore-check",
    "preventpending": "--prevent-pending", "driver": "--driver", "recurse": "--recurse",
    "forceunsigned": "--force-unsigned", "capabilityname": "--capability-name",
    "format": "--format",
    # image management
    "capturedir": "--capture-dir", "applydir": "--apply-dir", "description": "--description",
    "compress": "--compress", "configfile": "--config-file", "bootable": "--bootable",
    "verify": "--verify", "sourceimagefile": "--source-image-file",
    "sourceindex": "--source-index", "sourcename": "--source-name",
    "destinationimagefile": "--destination-image-file",
    "destinationname": "--destination-name", "swmfile": "--swm-file",
    "filesize": "--file-size", "header": "--header", "newname": "--new-name",
    "displayname": "--display-name", "displaydescription": "--display-description",
    "flags": "--flags", "path": "--path", "destdir": "--dest-dir",
}

# DISM.exe still takes the names its WIM verbs had before Windows 8.
_DISM_EXE_OLD_NAMES = {
    "get-wiminfo": "get-imageinfo", "get-mountedwiminfo": "get-mountedimageinfo",
    "mount-wim": "mount-image", "unmount-wim": "unmount-image", "commit-wim": "commit-image",
    "remount-wim": "remount-image", "cleanup-wim": "cleanup-mountpoints",
}

# DISM.exe spells some verbs as a verb plus an option: /Cleanup-Image /CheckHealth.
_DISM_COMPOUND_VERBS = {
    "cleanup-image": {"checkhealth": "check-health", "scanhealth": "scan-health",
                      "restorehealth": "restore-health"},
}

_DISM_TOKEN = re.compile(r"/(\?|[A-Za-z][A-Za-z-]*)(?::(.*))?\Z", re.DOTALL)


def _dism_verb(token: str) -> Optional[Tuple[str, Optional[str]]]:
    """(verb, value) when token is a DISM.exe verb: `/Verb`, or `/Verb:VALUE`
    for a verb that takes a value (`/Apply-Unattend:answer.xml`)."""
    match = _DISM_TOKEN.match(token)
    if not match:
        return None
    name, value = match.group(1).lower(), match.group(2)
    if name in _DISM_COMPOUND_VERBS:
        return (name, None) if value is None else None
    name = _DISM_EXE_OLD_NAMES.get(name, name)
    verb = VERBS_BY_NAME.get(name)
    if verb is None or (value is not None and verb.value_option is None):
        return None
    return name, value


def _compound_verb(verb: Optional[str], match: Optional["re.Match[str]"]) -> Optional[str]:
    """The verb that `/Cleanup-Image` becomes with the option in `match`, if any."""
    if verb not in _DISM_COMPOUND_VERBS or match is None or match.group(2) is not None:
        return None
    return _DISM_COMPOUND_VERBS[verb].get(match.group(1).lower())


# DISM.exe's verbs this command line does not have (from DISM.exe's own
# /? listings), so that they are named as unsupported rather than left to
# argparse, which would complain about whatever token came first.
_DISM_EXE_VERBS_NOT_HERE = frozenset(name.lower() for name in (
    "Add-Edge", "Add-ProvisionedAppxPackage", "Add-ProvisioningPackage",
    "Apply-CustomDataImage", "Apply-FFU", "Apply-SiloedPackage",
    "Capture-CustomImage", "Capture-FFU", "Check-AppPatch",
    "Disable-Edge", "Enable-Edge", "Export-DefaultAppAssociations", "Export-Driver",
    "Export-Source", "Get-AppInfo", "Get-AppPatchInfo", "Get-AppPatches",
    "Get-Apps", "Get-DefaultAppAssociations", "Get-Intl", "Get-OSUninstallWindow",
    "Get-ProvisioningPackageInfo", "Get-ReservedStorageState", "Get-WimBootEntry",
    "Import-DefaultAppAssociations", "Initiate-OSUninstall", "Optimize-FFU",
    "Optimize-Image", "Optimize-ProvisionedAppxPackages", "Remove-DefaultAppAssociations",
    "Remove-Edge", "Remove-OSUninstall", "Remove-ProvisionedAppxPackage", "Set-AllIntl",
    "Set-Edition", "Set-InputLocale", "Set-LayeredDriver", "Set-OSUninstallWindow",
    "Set-ProductKey", "Set-ProvisionedAppxDataFile", "Set-ReservedStorageState",
    "Set-ScratchSpace", "Set-SKUIntlDefaults", "Set-SysLocale", "Set-TargetPath",
    "Set-TimeZone", "Set-UILang", "Set-UILangFallback", "Set-UserLocale", "Split-FFU",
    "Update-WimBootEntry",
)) - {verb.name for verb in VERBS}

# /Cleanup-Image's actions this command line lacks.
_DISM_EXE_CLEANUP_ACTIONS_NOT_HERE = frozenset((
    "analyzecomponentstore", "startcomponentcleanup", "resetbase", "spsuperseded",
    "hidesp", "revertpendingactions", "defer"))


def _unsupported_dism_verb(argv: Sequence[str]) -> Optional[str]:
    """The DISM.exe spelling of the first verb in argv this CLI does not have."""
    after_cleanup = False
    for token in argv:
        match = _DISM_TOKEN.match(token)
        if not match:
            continue
        name = match.group(1).lower()
        if name in _DISM_EXE_VERBS_NOT_HERE:
            return "/" + match.group(1)
        if after_cleanup and name in _DISM_EXE_CLEANUP_ACTIONS_NOT_HERE:
            return "/Cleanup-Image /" + match.group(1)
        after_cleanup = after_cleanup or name == "cleanup-image"
    return None


def _refuse_unsupported_verbs(argv: Sequence[str]) -> None:
    verb = _unsupported_dism_verb(argv)
    if verb is not None:
        raise UsageError(f"DISM.exe's {verb} is not supported by this CLI; --help lists the "
                         "verbs it has")


def _argparse_option(token: str, match: Optional["re.Match[str]"]) -> str:
    """DISM.exe's /Option or /Option:VALUE as argparse's --option[=VALUE]; a
    token that is no DISM.exe option stays as it is (argparse reports it if
    it makes no sense)."""
    option = _DISM_OPTIONS.get(match.group(1).lower()) if match else None
    if match is None or option is None:
        return token
    value = match.group(2)
    return option if value is None else f"{option}={value}"


def translate_dism_syntax(argv: Sequence[str]) -> List[str]:
    """DISM.exe's spelling (`/Get-ImageInfo /ImageFile:x.wim /Index:1`) as argparse's
    (`get-imageinfo --image-file=x.wim --index=1`).  A command line holding no
    DISM.exe verb (nor `/?`) is returned unchanged, so POSIX paths are safe."""
    argv = list(argv)
    _refuse_unsupported_verbs(argv)
    if not any(_dism_verb(token) or token == "/?" for token in argv):
        return argv
    verb: Optional[str] = None
    verb_value: List[str] = []
    rest: List[str] = []
    for token in argv:
        found = _dism_verb(token) if verb is None else None
        if found:
            verb, value = found
            if value is not None:
                verb_value.append(f"{VERBS_BY_NAME[verb].value_option}={value}")
            continue
        match = _DISM_TOKEN.match(token)
        compound = _compound_verb(verb, match)
        if compound:
            verb = compound
            continue
        rest.append(_argparse_option(token, match))
    if verb in _DISM_COMPOUND_VERBS:
        spellings = [VERBS_BY_NAME[name].dism_spelling
                     for name in _DISM_COMPOUND_VERBS[verb].values()]
        raise UsageError("an action is missing: use " + ", ".join(spellings))
    return ([verb] if verb else []) + verb_value + rest



def uses_dism_exe_syntax(argv: Sequence[str]) -> bool:
    """Whether the command line is in DISM.exe's spelling (it names a
    DISM.exe verb, or `/?`), which on Windows chooses DISM.exe's exit codes.
    A DISM.exe verb this CLI refuses is DISM.exe's spelling too."""
    try:
        return translate_dism_syntax(argv) != list(argv)
    except UsageError:
        return True
