"""DISM.exe's command grammar, as one table.

Each row of VERB_TABLE is one DISM.exe verb: its name, the names it had
before Windows 8 (`/Get-WimInfo`), the options it takes (a `...` suffix
marks an option DISM.exe lets a line repeat), which global options apply
(its scope), the value a `/Verb:VALUE` form carries, the CLI verb that does
the work, and where it runs.  OPTION_TABLE says, for each option, the
argparse option it becomes and the kind of value it takes.

Parsing DISM.exe's spelling (.syntax), `--help`'s list of DISM.exe verbs
and the README's verb table are all derived from these two tables; a verb
or option is added here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterator, Mapping, Optional, Tuple

# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

FLAG = "flag"        # /ReadOnly: no value
PATH = "path"        # /MountDir:C:\mount
TEXT = "text"        # /Name:"Windows 10 Pro"
NUMBER = "number"    # /Index:1


@dataclass(frozen=True)
class DismOption:
    name: str                        # DISM.exe's spelling, without the slash
    argparse: Optional[str]          # the CLI's option; None: recognised, not supported here
    kind: str                        # FLAG, PATH, TEXT, NUMBER, or "choice"
    choices: Tuple[str, ...] = ()    # for kind "choice", as DISM.exe spells them
    not_here: str = ""               # why an option without argparse cannot be honoured

    @property
    def spelling(self) -> str:
        return "/" + self.name

    @property
    def takes_value(self) -> bool:
        return self.kind != FLAG


def _choice(name: str, argparse: str, *choices: str) -> DismOption:
    return DismOption(name, argparse, "choice", choices)


def _unsupported(name: str, kind: str, reason: str) -> DismOption:
    return DismOption(name, None, kind, not_here=reason)


_WIMBOOT = "WIMBoot and CompactOS images are made by Windows' own file system filter"
_EXTENDED_ATTRIBUTES = "extended attributes and reparse-point fixes are not in WIMGAPI's interface"

#: Every option, once; where two DISM.exe names mean one thing (/WinDir,
#: /WindowsDir), the first is the one messages use.
OPTION_TABLE: Tuple[DismOption, ...] = (
    # global options
    DismOption("Image", "--image", PATH),
    DismOption("Online", "--online", FLAG),
    DismOption("WinDir", "--windows-dir", PATH),
    DismOption("WindowsDir", "--windows-dir", PATH),
    DismOption("SysDriveDir", "--sysdrive-dir", PATH),
    DismOption("LogPath", "--log-path", PATH),
    DismOption("LogLevel", "--log-level", NUMBER),
    DismOption("ScratchDir", "--scratch-dir", PATH),
    DismOption("English", "--english", FLAG),
    _choice("Format", "--format", "Table", "List"),
    DismOption("Quiet", "--quiet", FLAG),
    DismOption("NoRestart", "--no-restart", FLAG),
    # images and mounts
    DismOption("ImageFile", "--image-file", PATH),
    DismOption("WimFile", "--image-file", PATH),
    DismOption("Index", "--index", NUMBER),
    DismOption("Name", "--name", TEXT),
    DismOption("MountDir", "--mount-dir", PATH),
    DismOption("ReadOnly", "--read-only", FLAG),
    DismOption("Optimize", "--optimize", FLAG),
    DismOption("CheckIntegrity", "--check-integrity", FLAG),
    DismOption("Commit", "--commit", FLAG),
    DismOption("Discard", "--discard", FLAG),
    DismOption("Append", "--append", FLAG),
    DismOption("Header", "--header", FLAG),
    # image management
    DismOption("CaptureDir", "--capture-dir", PATH),
    DismOption("ApplyDir", "--apply-dir", PATH),
    DismOption("Description", "--description", TEXT),
    _choice("Compress", "--compress", "max", "fast", "none", "recovery"),
    DismOption("ConfigFile", "--config-file", PATH),
    DismOption("Bootable", "--bootable", FLAG),
    DismOption("Verify", "--verify", FLAG),
    DismOption("SourceImageFile", "--source-image-file", PATH),
    DismOption("SourceIndex", "--source-index", NUMBER),
    DismOption("SourceName", "--source-name", TEXT),
    DismOption("DestinationImageFile", "--destination-image-file", PATH),
    DismOption("DestinationName", "--destination-name", TEXT),
    DismOption("SWMFile", "--swm-file", PATH),
    DismOption("FileSize", "--file-size", NUMBER),
    DismOption("AllowDuplicates", "--allow-duplicates", FLAG),
    DismOption("NewName", "--new-name", TEXT),
    DismOption("DisplayName", "--display-name", TEXT),
    DismOption("DisplayDescription", "--display-description", TEXT),
    DismOption("Flags", "--flags", TEXT),
    DismOption("Path", "--path", TEXT),
    DismOption("DestDir", "--dest-dir", PATH),
    _unsupported("NoRpFix", FLAG, _EXTENDED_ATTRIBUTES),
    _unsupported("EA", FLAG, _EXTENDED_ATTRIBUTES),
    _unsupported("WIMBoot", FLAG, _WIMBOOT),
    _unsupported("Compact", FLAG, _WIMBOOT),
    _unsupported("ConfirmTrustedFile", FLAG,
                 "marking files trusted for Device Guard needs Windows' code integrity"),
    # servicing
    DismOption("FeatureName", "--feature-name", TEXT),
    DismOption("PackageName", "--package-name", TEXT),
    DismOption("PackagePath", "--package-path", PATH),
    DismOption("All", "--all", FLAG),
    DismOption("Source", "--source", PATH),
    DismOption("LimitAccess", "--limit-access", FLAG),
    DismOption("Remove", "--remove", FLAG),
    DismOption("IgnoreCheck", "--ignore-check", FLAG),
    DismOption("PreventPending", "--prevent-pending", FLAG),
    DismOption("Driver", "--driver", PATH),
    DismOption("Recurse", "--recurse", FLAG),
    DismOption("ForceUnsigned", "--force-unsigned", FLAG),
    DismOption("Destination", "--destination", PATH),
    DismOption("CapabilityName", "--capability-name", TEXT),
    DismOption("ProductKey", "--product-key", TEXT),
    DismOption("AcceptEula", "--accept-eula", FLAG),
    _unsupported("GetEula", PATH, "the DISM API has no call that saves an edition's licence"),
    DismOption("FolderPath", "--folder-path", PATH),
    DismOption("DependencyPackagePath", "--dependency-package-path", PATH),
    DismOption("LicensePath", "--license-path", PATH),
    DismOption("SkipLicense", "--skip-license", FLAG),
    DismOption("CustomDataPath", "--custom-data-path", PATH),
    DismOption("Region", "--region", TEXT),
    _choice("StubPackageOption", "--stub-package-option", "InstallFull", "InstallStub"),
    _choice("State", "--state", "Enabled", "Disabled"),
)

OPTIONS: Mapping[str, DismOption] = {option.name.lower(): option for option in OPTION_TABLE}

#: argparse option -> DISM.exe's spelling, for messages (the first name wins).
DISM_SPELLING_OF: Mapping[str, str] = {}
for _option in reversed(OPTION_TABLE):
    if _option.argparse:
        DISM_SPELLING_OF[_option.argparse] = _option.spelling  # type: ignore[index]

# ---------------------------------------------------------------------------
# Scopes: which global options a verb takes besides its own
# ---------------------------------------------------------------------------

_EVERY_VERB = ("LogPath", "LogLevel", "ScratchDir", "English", "Quiet", "NoRestart")

#: Verbs on WIM files and mounts: no /Image or /Online.
IMAGES = "images"
#: Verbs on a servicing session: /Image (or /Online; /ImageFile for reads, ours).
SERVICING = "servicing"

SCOPE_OPTIONS: Mapping[str, Tuple[str, ...]] = {
    IMAGES: _EVERY_VERB,
    SERVICING: _EVERY_VERB + ("Image", "Online", "WinDir", "WindowsDir", "SysDriveDir",
                              "ImageFile", "Index", "Name"),
}

# ---------------------------------------------------------------------------
# Where a verb runs
# ---------------------------------------------------------------------------

EVERYWHERE = ""
#: The portable engine refuses it; DISM on Windows does it.
NEEDS_SERVICING_STACK = "needs Windows' servicing stack (the portable engine refuses it)"
ONLINE_ONLY = "services the running Windows only (/Online)"

_NO_DISM_API = "the DISM API has no call for it"
_FFU = "FFU images are not in the DISM API or WIMGAPI"
_INTL = "international settings are not in the DISM API"
_APPS = "Windows Installer (.msp) patches are not in the DISM API"
_ASSOCIATIONS = "default app associations are not in the DISM API"
_WINPE = "Windows PE settings are not in the DISM API"
_UNINSTALL = "the OS uninstall window is not in the DISM API"


@dataclass(frozen=True)
class DismVerb:
    name: str                          # DISM.exe's spelling, without the slash
    scope: str                         # IMAGES or SERVICING
    options: Tuple[Tuple[str, bool], ...] = ()   # (option, repeatable), the verb's own
    aliases: Tuple[str, ...] = ()      # DISM.exe's older names
    cli: Optional[str] = None          # the CLI verb; None: recognised, not supported
    value: str = ""                    # /Verb:VALUE's meaning, when the verb takes one
    not_here: str = ""                 # why there is no CLI verb
    linux: str = EVERYWHERE            # what the portable engine does not do
    windows: str = EVERYWHERE          # what DISM on Windows does not do
    extension: bool = False            # ours, not DISM.exe's
    actions: Tuple["DismVerb", ...] = ()   # /Cleanup-Image /CheckHealth ...

    @property
    def spelling(self) -> str:
        return "/" + self.name

    def option_names(self) -> Tuple[str, ...]:
        return tuple(name for name, _ in self.options) + SCOPE_OPTIONS[self.scope]

    def repeatable(self, option: str) -> bool:
        return any(name.lower() == option and repeat for name, repeat in self.options)

    def takes(self, option: str) -> bool:
        return option in (name.lower() for name in self.option_names())

    def with_action(self, action: "DismVerb") -> "DismVerb":
        """/Cleanup-Image with one of its actions, as one verb: /Cleanup-Image /CheckHealth."""
        return DismVerb(f"{self.name} /{action.name}", action.scope, action.options,
                        cli=action.cli, not_here=action.not_here, linux=action.linux,
                        windows=action.windows)


def _options(spec: str) -> Tuple[Tuple[str, bool], ...]:
    """`"Driver... Recurse"` -> (("Driver", True), ("Recurse", False))."""
    return tuple((word.rstrip("."), word.endswith("...")) for word in spec.split())


def verb(name: str, scope: str, options: str = "", *, cli: Optional[str] = None,
         aliases: Tuple[str, ...] = (), value: str = "", linux: str = EVERYWHERE,
         windows: str = EVERYWHERE, extension: bool = False) -> DismVerb:
    """A verb this CLI has (its CLI verb is its name, lower-cased)."""
    return DismVerb(name, scope, _options(options), aliases, cli or name.lower(), value,
                    linux=linux, windows=windows, extension=extension)


def not_here(reason: str, scope: str, *names: str) -> Tuple[DismVerb, ...]:
    """DISM.exe verbs this CLI recognises but cannot run, anywhere."""
    return tuple(DismVerb(name, scope, not_here=reason) for name in names)


_SERVICE = NEEDS_SERVICING_STACK

_CLEANUP_ACTIONS = (
    verb("CheckHealth", SERVICING, cli="check-health"),
    verb("ScanHealth", SERVICING, cli="scan-health", linux=_SERVICE),
    verb("RestoreHealth", SERVICING, "Source... LimitAccess", cli="restore-health",
         linux=_SERVICE),
    DismVerb("StartComponentCleanup", SERVICING, _options("ResetBase Defer"),
             not_here=_NO_DISM_API),
    DismVerb("AnalyzeComponentStore", SERVICING, not_here=_NO_DISM_API),
    DismVerb("SPSuperseded", SERVICING, _options("HideSP"), not_here=_NO_DISM_API),
    DismVerb("RevertPendingActions", SERVICING, not_here=_NO_DISM_API),
)

VERB_TABLE: Tuple[DismVerb, ...] = (
    # --- images and mounts ---------------------------------------------------
    verb("Get-ImageInfo", IMAGES, "ImageFile WimFile Index Name Header",
         aliases=("Get-WimInfo",)),
    verb("Mount-Image", IMAGES, "ImageFile WimFile Index Name MountDir ReadOnly Optimize "
                                "CheckIntegrity", aliases=("Mount-Wim",)),
    verb("Commit-Image", IMAGES, "MountDir CheckIntegrity Append", aliases=("Commit-Wim",)),
    verb("Unmount-Image", IMAGES, "MountDir Commit Discard CheckIntegrity Append",
         aliases=("Unmount-Wim",)),
    verb("Remount-Image", IMAGES, "MountDir", aliases=("Remount-Wim",)),
    verb("Get-MountedImageInfo", IMAGES, aliases=("Get-MountedWimInfo",)),
    verb("Cleanup-Mountpoints", IMAGES, aliases=("Cleanup-Wim",)),
    # --- image management (WIMGAPI) -------------------------------------------
    verb("Capture-Image", IMAGES, "ImageFile CaptureDir Name Description ConfigFile Compress "
                                  "Bootable CheckIntegrity Verify NoRpFix WIMBoot EA"),
    verb("Append-Image", IMAGES, "ImageFile CaptureDir Name Description ConfigFile Bootable "
                                 "CheckIntegrity Verify NoRpFix WIMBoot EA"),
    verb("Apply-Image", IMAGES, "ImageFile SWMFile ApplyDir Index Name CheckIntegrity Verify "
                                "NoRpFix ConfirmTrustedFile WIMBoot Compact EA"),
    verb("Export-Image", IMAGES, "SourceImageFile SourceIndex SourceName SWMFile "
                                 "DestinationImageFile DestinationName Compress Bootable "
                                 "WIMBoot CheckIntegrity AllowDuplicates"),
    verb("Split-Image", IMAGES, "ImageFile SWMFile FileSize CheckIntegrity"),
    verb("Delete-Image", IMAGES, "ImageFile Index Name CheckIntegrity"),
    verb("List-Image", IMAGES, "ImageFile Index Name SWMFile Path"),
    verb("Set-ImageInfo", IMAGES, "ImageFile Index Name NewName Description DisplayName "
                                  "DisplayDescription Flags", extension=True),
    verb("Extract-Files", IMAGES, "ImageFile Index Name Path... DestDir SWMFile",
         extension=True),
    *not_here(_FFU, IMAGES, "Apply-FFU", "Capture-FFU", "Split-FFU", "Optimize-FFU"),
    *not_here(_WIMBOOT, IMAGES, "Get-WIMBootEntry", "Update-WIMBootEntry", "Optimize-Image"),
    *not_here(_NO_DISM_API, IMAGES, "Capture-CustomImage", "Apply-SiloedPackage"),
    # --- packages and features --------------------------------------------------
    verb("Get-Packages", SERVICING, "Format"),
    verb("Get-PackageInfo", SERVICING, "PackageName PackagePath Format"),
    verb("Add-Package", SERVICING, "PackagePath... IgnoreCheck PreventPending", linux=_SERVICE),
    verb("Remove-Package", SERVICING, "PackageName... PackagePath...", linux=_SERVICE),
    verb("Get-Features", SERVICING, "PackageName PackagePath Format"),
    verb("Get-FeatureInfo", SERVICING, "FeatureName PackageName PackagePath Format"),
    verb("Enable-Feature", SERVICING, "FeatureName... PackageName PackagePath All Source... "
                                      "LimitAccess", linux=_SERVICE),
    verb("Disable-Feature", SERVICING, "FeatureName... PackageName Remove", linux=_SERVICE),
    DismVerb("Cleanup-Image", SERVICING, actions=_CLEANUP_ACTIONS),
    *not_here(_NO_DISM_API, SERVICING, "Export-Source"),
    # --- capabilities ------------------------------------------------------------
    verb("Get-Capabilities", SERVICING, "Format"),
    verb("Get-CapabilityInfo", SERVICING, "CapabilityName Format"),
    verb("Add-Capability", SERVICING, "CapabilityName... Source... LimitAccess",
         linux=_SERVICE),
    verb("Remove-Capability", SERVICING, "CapabilityName...", linux=_SERVICE),
    # --- drivers -------------------------------------------------------------------
    verb("Get-Drivers", SERVICING, "All Format"),
    verb("Get-DriverInfo", SERVICING, "Driver... Format"),
    verb("Add-Driver", SERVICING, "Driver... Recurse ForceUnsigned", linux=_SERVICE),
    verb("Remove-Driver", SERVICING, "Driver...", linux=_SERVICE),
    verb("Export-Driver", SERVICING, "Destination"),
    # --- editions, apps, unattend, reserved storage ----------------------------------
    verb("Get-CurrentEdition", SERVICING),
    verb("Get-TargetEditions", SERVICING),
    verb("Set-Edition", SERVICING, "ProductKey AcceptEula GetEula", value="EDITION",
         linux=_SERVICE),
    verb("Set-ProductKey", SERVICING, value="KEY", linux=_SERVICE),
    verb("Get-ProvisionedAppxPackages", SERVICING),
    verb("Add-ProvisionedAppxPackage", SERVICING,
         "PackagePath FolderPath DependencyPackagePath... LicensePath... SkipLicense "
         "CustomDataPath Region StubPackageOption", linux=_SERVICE),
    verb("Remove-ProvisionedAppxPackage", SERVICING, "PackageName", linux=_SERVICE),
    verb("Apply-Unattend", SERVICING, value="PATH", linux=_SERVICE),
    # DISM reads and sets it on the running Windows only; the portable
    # engine reads it from an image's registry.
    verb("Get-ReservedStorageState", SERVICING, windows=ONLINE_ONLY),
    verb("Set-ReservedStorageState", SERVICING, "State", windows=ONLINE_ONLY,
         linux=ONLINE_ONLY),
    *not_here(_NO_DISM_API, SERVICING, "Optimize-ProvisionedAppxPackages",
              "Set-ProvisionedAppxDataFile", "Add-ProvisioningPackage",
              "Get-ProvisioningPackageInfo", "Apply-CustomDataImage", "Add-Edge",
              "Remove-Edge", "Enable-Edge", "Disable-Edge"),
    *not_here(_INTL, SERVICING, "Get-Intl", "Set-UILang", "Set-UILangFallback",
              "Set-SysUILang", "Set-SysLocale", "Set-UserLocale", "Set-InputLocale",
              "Set-AllIntl", "Set-TimeZone", "Set-SKUIntlDefaults", "Set-LayeredDriver",
              "Gen-LangINI", "Set-SetupUILang"),
    *not_here(_APPS, SERVICING, "Check-AppPatch", "Get-AppPatchInfo", "Get-AppPatches",
              "Get-AppInfo", "Get-Apps"),
    *not_here(_ASSOCIATIONS, SERVICING, "Export-DefaultAppAssociations",
              "Get-DefaultAppAssociations", "Import-DefaultAppAssociations",
              "Remove-DefaultAppAssociations"),
    *not_here(_WINPE, SERVICING, "Get-PESettings", "Get-ScratchSpace", "Set-ScratchSpace",
              "Get-TargetPath", "Set-TargetPath"),
    *not_here(_UNINSTALL, SERVICING, "Get-OSUninstallWindow", "Set-OSUninstallWindow",
              "Initiate-OSUninstall", "Remove-OSUninstall"),
)


def _verbs_by_name() -> Dict[str, DismVerb]:
    found: Dict[str, DismVerb] = {}
    for row in VERB_TABLE:
        for name in (row.name,) + row.aliases:
            found[name.lower()] = row
    return found


VERBS: Mapping[str, DismVerb] = _verbs_by_name()


def every_verb() -> Iterator[DismVerb]:
    """Each row, then each /Cleanup-Image action, as the README lists them."""
    for row in VERB_TABLE:
        if row.actions:
            for action in row.actions:
                yield row.with_action(action)
        else:
            yield row

