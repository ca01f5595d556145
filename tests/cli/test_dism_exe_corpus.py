"""Issue 14: DISM.exe command lines as real scripts write them, each run end
to end through dism.cli.main() against images and trees built here, with
its effect checked.

The corpus is one table, CORPUS: the line (batch, PowerShell and Ansible
scripts' and Microsoft's documentation's spelling, variables expanded to
{tree}, {wim}...; see support.dism_exe_corpus), the exit status, and the
check of what it did.  The statuses are the POSIX table of
dism/cli/exit_codes.py: 0 done, 2 a line DISM.exe itself rejects (the
message names the option as DISM.exe spells it; nothing changed), 3 a line
DISM.exe runs and fails too (no such feature, file, index or mount; the
message names it; nothing changed), 6 an operation that cannot run on Linux
(one error line naming the verb and saying so; nothing changed).
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import dism
from dism.testing import WindowsImageSpec, build_wim, build_windows_tree
from support import wimfs_mounts
from support.dism_exe_corpus import (Effect, Line, Ran, World, all_of, copy_one_driver,
                                     files_below, names_in_order, nothing_changed, refused,
                                     run_line, shows, unsupported)
from support.imaging import PORTABLE_ENGINE_ONLY, tree_digest, wimlib, wimlib_dir, wimlib_names

pytestmark = PORTABLE_ENGINE_ONLY

OK, USAGE, INVALID, UNSUPPORTED = 0, 2, 3, 6

# The sample servicing image's contents (dism.testing.images.sample_servicing_spec);
# its one feature that cannot be selected (MSRDC-Infrastructure) is not listed.
FEATURES = ("Microsoft-Hyper-V-All", "Microsoft-Hyper-V", "Microsoft-Hyper-V-Hypervisor",
            "TelnetClient", "SMB1Protocol", "TFTP", "Printing-XPSServices-Features")
KB5005565 = "Package_for_KB5005565~31bf3856ad364e35~amd64~~19041.1237.1.6"
KB5004237 = "Package_for_KB5004237~31bf3856ad364e35~amd64~~19041.1083.1.7"
DOTNET = "Package_for_DotNetRollup~31bf3856ad364e35~amd64~~10.0.4420.2"
FOUNDATION = "Microsoft-Windows-Foundation-Package~31bf3856ad364e35~amd64~~10.0.19041.1"
PACKAGES = (KB5005565, KB5004237, DOTNET, FOUNDATION) + tuple(
    f"{name}~31bf3856ad364e35~amd64~{language}~10.0.19041.1" for name, language in (
        ("Microsoft-Windows-Client-LanguagePack-Package", "de-DE"),
        ("OpenSSH-Client-Package", ""),
        ("Microsoft-Windows-LanguageFeatures-Basic-de-de-Package", "")))
OPENSSH = "OpenSSH.Client~~~~0.0.1.0"
LANGUAGE_BASIC = "Language.Basic~~~de-DE~0.0.1.0"
CALCULATOR = "Microsoft.WindowsCalculator_10.1906.55.0_x64__8wekyb3d8bbwe"
LXP = "Microsoft.LanguageExperiencePackde-DE_19041.7.23.0_neutral__8wekyb3d8bbwe"
IN_BOX_INFS = ("1394.inf", "netrtl.inf", "usbport.inf")
THIRD_PARTY = {"oem0.inf": "contosoraid.inf", "oem1.inf": "contosonet.inf",
               "oem2.inf": "contosoport.inf"}
SAMPLE_NAMES = ["Windows 10 Pro", "Windows 10 Enterprise", "1"]
ANSWER_FILE = """<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="offlineServicing">
    <component name="Microsoft-Windows-PnpCustomizationsNonWinPE" processorArchitecture="amd64"
        publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <DriverPaths>
        <PathAndCredentials xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State"
            wcm:action="add" wcm:keyValue="1"><Path>C:\\Drivers</Path></PathAndCredentials>
      </DriverPaths>
    </component>
  </settings>
</unattend>
"""


# ---------------------------------------------------------------------------
# Effects of particular lines
# ---------------------------------------------------------------------------

def shows_all(*texts: str) -> Effect:
    """stdout holds every one of `texts`, in any order."""
    def check(ran: Ran) -> None:
        missing = [text for text in texts if text not in ran.out]
        assert not missing, f"not shown: {missing}\n{ran.shown()}"
    return check


def table_rows(*keys: str) -> Effect:
    """/Format:Table: each key on a row of a '|' table, not in 'Key : value' blocks."""
    def check(ran: Ran) -> None:
        rows = [line for line in ran.out.splitlines() if "|" in line]
        for key in keys:
            assert any(key in row for row in rows), f"{key} not in a table row\n{ran.shown()}"
        assert not any(line.startswith(("Feature Name : ", "Package Identity : ",
                                        "Published Name : ")) for line in ran.out.splitlines()), \
            ran.shown()
    return check


def table_pairs(*pairs) -> Effect:
    """An info verb with /Format:Table: each (field, value) on one '|' row,
    never as 'Field : value'."""
    def check(ran: Ran) -> None:
        lines = ran.out.splitlines()
        for name, value in pairs:
            assert any("|" in line and name in line and value in line for line in lines), \
                f"{name} | {value} not a table row\n{ran.shown()}"
            assert f"{name} : " not in ran.out, ran.shown()
    return check


def not_shown(*texts: str) -> Effect:
    def check(ran: Ran) -> None:
        assert not any(text in ran.out for text in texts), ran.shown()
    return check


def silent(ran: Ran) -> None:
    assert ran.out == "" and ran.err == "", ran.shown()


def wim_names(relative: str, names) -> Effect:
    def check(ran: Ran) -> None:
        path = ran.world.tmp / relative
        assert path.is_file(), f"{path} not written\n{ran.shown()}"
        assert wimlib_names(path) == list(names), ran.shown()
    return check


def holds_capture_source(relative: str, index: int = 1) -> Effect:
    """The image at `index` of tmp/relative holds exactly the captured folder."""
    def check(ran: Ran) -> None:
        source = sorted(p.relative_to(ran.world.src).as_posix().replace("/", "\\")
                        for p in ran.world.src.rglob("*"))
        assert wimlib_dir(ran.world.tmp / relative, index) == source, ran.shown()
    return check


def solid_lzms(relative: str) -> Effect:
    """An ESD: LZMS-compressed solid resources (WIM version 0xE00)."""
    def check(ran: Ran) -> None:
        header = wimlib("info", ran.world.tmp / relative, "--header").stdout
        assert "WIM_HDR_FLAG_COMPRESS_LZMS is set" in header, header
        assert "Version                     = 0xe00" in header, header
    return check


def applied_as(source_var: str, index: int, folder: str) -> Effect:
    """tmp/folder holds what wimlib-imagex applies from that image, byte for byte."""
    def check(ran: Ran) -> None:
        source = Path(ran.world.argv("{" + source_var + "}")[0])
        reference = ran.world.tmp / "reference"
        wimlib("apply", source, index, reference)
        applied = tree_digest(ran.world.tmp / folder)
        assert applied and applied == tree_digest(reference), ran.shown()
    return check


def the_payload_in(folder: str) -> Effect:
    """tmp/folder holds the payload WIM's image, file for file (as wimlib-imagex applies it)."""
    def check(ran: Ran) -> None:
        reference = ran.world.tmp / "reference"
        wimlib("apply", ran.world.big, 1, reference)
        assert tree_digest(ran.world.tmp / folder) == tree_digest(reference), ran.shown()
    return check


def joined_parts(ran: Ran) -> None:
    """The parts exported back into one WIM: the payload image, file for file."""
    wimlib("apply", ran.world.tmp / "joined.wim", 1, ran.world.tmp / "joined-tree")
    the_payload_in("joined-tree")(ran)


def split_into_parts(ran: Ran) -> None:
    parts = sorted(ran.world.tmp.glob("install*.swm"))
    assert len(parts) >= 2, f"parts: {parts}\n{ran.shown()}"
    header = wimlib("info", ran.world.tmp / "install.swm", "--header").stdout
    assert f"Total Parts                 = {len(parts)}" in header, header
    assert all(p.stat().st_size <= 1024 * 1024 + 65536 for p in parts[:-1]), parts


def same_content_as_index_1(ran: Ran) -> None:
    """The WIM exported back from the ESD holds what index 1 of the original held."""
    assert wimlib_dir(ran.world.tmp / "install.wim", 1) == wimlib_dir(ran.world.wim, 1)


def lists_every_path(ran: Ran) -> None:
    for path in wimlib_dir(ran.world.wim, 1):
        assert "\\" + path in ran.out, f"{path} not listed\n{ran.shown()}"


def exported_drivers(ran: Ran) -> None:
    """Every file of each third-party driver package, byte for byte; no in-box driver."""
    exported = files_below(ran.world.tmp / "exported")
    store = ran.world.tree / "Windows" / "System32" / "DriverStore" / "FileRepository"
    for inf in THIRD_PARTY.values():
        (folder,) = store.glob(inf + "_*")
        for name, data in files_below(folder).items():
            assert exported.get(name) == data, f"{name} not exported\n{ran.shown()}"
    assert not set(IN_BOX_INFS) & set(exported), ran.shown()


def log_written(relative: str) -> Effect:
    def check(ran: Ran) -> None:
        log = ran.world.tmp / relative
        assert log.is_file() and log.stat().st_size > 0, ran.shown()
    return check


def first_package_first(ran: Ran) -> None:
    """/PackageName given twice: the first named is the first acted on."""
    assert KB5004237 in ran.out + ran.err, ran.shown()
    assert names_in_order(ran.out + ran.err, [KB5004237, DOTNET]) or DOTNET not in ran.out, \
        ran.shown()


def failed_naming(name: str) -> Effect:
    """A failure whose message names `name` (variables expanded); nothing changed."""
    def check(ran: Ran) -> None:
        assert ran.world.expand(name) in ran.err, ran.shown()
        nothing_changed(ran)
    return check


def no_verb(ran: Ran) -> None:
    assert "verb" in ran.err.lower(), ran.shown()
    nothing_changed(ran)


# --- mounts ----------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mounted(read_only: bool, index: int) -> Effect:
    """The mount folder holds the image (its hive and kernel32.dll, every
    path wimlib lists) and DISM lists it with that index and mode."""
    def check(ran: Ran) -> None:
        world = ran.world
        assert str(world.mnt) in wimfs_mounts(), ran.shown()
        for path in wimlib_dir(world.wim, index):
            assert (world.mnt / path.replace("\\", "/")).exists(), path
        (info,) = [m for m in dism.get_mounted_images() if m.mount_path == str(world.mnt)]
        assert (info.index, info.read_only) == (index, read_only), info
    return check


def lists_the_mount(ran: Ran) -> None:
    assert f"Mount Dir : {ran.world.mnt}" in ran.out, ran.shown()
    assert f"Image File : {ran.world.wim}" in ran.out, ran.shown()


def still_mounted(ran: Ran) -> None:
    assert str(ran.world.mnt) in wimfs_mounts(), ran.shown()
    assert (ran.world.mnt / "Windows" / "System32" / "config" / "SOFTWARE").is_file()


def gone(ran: Ran) -> None:
    assert str(ran.world.mnt) not in wimfs_mounts(), ran.shown()
    assert not any(m.mount_path == str(ran.world.mnt) for m in dism.get_mounted_images())
    assert list(ran.world.mnt.iterdir()) == [], "the mount folder is not empty"


NOTE = "Windows\\Setup\\Scripts\\SetupComplete.cmd"


def write_setup_script(world: World) -> None:
    """What a servicing script does between mount and commit: drop a file in."""
    path = world.mnt / NOTE.replace("\\", "/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("@echo off\r\nexit /b 0\r\n")


def saved(index: int = 1) -> Effect:
    def check(ran: Ran) -> None:
        assert NOTE in wimlib_dir(ran.world.wim, index), ran.shown()
    return check


def wim_as_built(ran: Ran) -> None:
    assert sha256(ran.world.wim) == ran.world.wim_sha, ran.shown()


def appended(ran: Ran) -> None:
    names = wimlib_names(ran.world.wim)
    assert len(names) == 4 and names[:3] == SAMPLE_NAMES, names
    assert NOTE in wimlib_dir(ran.world.wim, 4) and NOTE not in wimlib_dir(ran.world.wim, 1)


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------

def mkdir(*names: str):
    def prepare(world: World) -> None:
        for name in names:
            (world.tmp / name).mkdir()
    return prepare


def not_here(text: str, verb: str, *more: Effect, **setup) -> Line:
    """A line whose operation cannot run on Linux (exit status 6)."""
    return Line(text, UNSUPPORTED, all_of(unsupported(verb), *more), **setup)


def rejected(text: str, *options: str) -> Line:
    """A line DISM.exe itself rejects (exit status 2), naming `options`."""
    return Line(text, USAGE, all_of(*(refused(option) for option in options)))


MOUNT_RW = "/Mount-Image /ImageFile:{wim} /Index:1 /MountDir:{mnt}"
MOUNT_RO = "/Mount-Image /ImageFile:{wim} /Index:1 /MountDir:{mnt} /ReadOnly"
EXPORT_ESD = ("/Export-Image /SourceImageFile:{wim} /SourceIndex:1 "
              "/DestinationImageFile:{tmp}/install.esd /Compress:recovery")
SPLIT = "/Split-Image /ImageFile:{big} /SWMFile:{tmp}/install.swm /FileSize:1"

CORPUS = (
    # --- image information: WIM-era and current names, casing, order ------
    Line("/Get-WimInfo /WimFile:{wim}", OK,
         shows("Index : 1", "Name : Windows 10 Pro", "Index : 2", "Name : Windows 10 Enterprise",
               "Index : 3", "Name : 1")),
    Line("/Get-ImageInfo /ImageFile:{wim}", OK,
         shows("Index : 1", "Windows 10 Pro", "Index : 2", "Windows 10 Enterprise", "Index : 3")),
    Line("/get-imageinfo /imagefile:{wim} /index:2", OK,
         shows("Index : 2", "Name : Windows 10 Enterprise", "Edition : Enterprise",
               "de-DE (Default)")),
    Line("/Get-ImageInfo /ImageFile:{wim} /Name:1", OK,
         all_of(shows("Index : 3", "Edition : Education"), not_shown("Index : 1"))),
    Line('/Get-ImageInfo /ImageFile:{wim} /Name:"Windows 10 Enterprise"', OK,
         all_of(shows("Index : 2", "Edition : Enterprise"), not_shown("Index : 1"))),
    Line("/Get-ImageInfo /ImageFile:{wim} /Header", OK, shows("Image Count : 3")),
    Line("/ImageFile:{wim} /Index:1 /Get-ImageInfo", OK,
         shows("Index : 1", "Edition : Professional")),
    Line("/English /Get-WimInfo /WimFile:{wim} /Index:3", OK,
         shows("Index : 3", "Name : 1", "Edition : Education")),

    # --- image management -------------------------------------------------
    Line('/Capture-Image /ImageFile:{tmp}/contoso.wim /CaptureDir:{src} /Name:"Contoso Base" '
         '/Description:"Contoso base image, captured by script" /Compress:max /CheckIntegrity', OK,
         all_of(wim_names("contoso.wim", ["Contoso Base"]), holds_capture_source("contoso.wim"))),
    Line('/Capture-Image /ImageFile:"{tmp}/My Images/contoso.wim" /CaptureDir:{src} '
         '/Name:Contoso /LogPath:"{tmp}/My Logs/dism.log"', OK,
         all_of(wim_names("My Images/contoso.wim", ["Contoso"]),
                holds_capture_source("My Images/contoso.wim"), log_written("My Logs/dism.log")),
         prepare=mkdir("My Images", "My Logs")),
    Line('/capture-image /imagefile:{tmp}/boot.wim /capturedir:{src} '
         '/name:"Microsoft Windows Setup (x64)" /compress:fast /bootable', OK,
         all_of(wim_names("boot.wim", ["Microsoft Windows Setup (x64)"]),
                holds_capture_source("boot.wim"))),
    Line('/Append-Image /ImageFile:{wim} /CaptureDir:{src} /Name:"Contoso Apps" /CheckIntegrity',
         OK, all_of(wim_names("sample.wim", SAMPLE_NAMES + ["Contoso Apps"]),
                    holds_capture_source("sample.wim", 4))),
    Line("/Apply-Image /ImageFile:{wim} /Index:2 /ApplyDir:{tmp}/applied", OK,
         applied_as("wim", 2, "applied"), prepare=mkdir("applied")),
    Line('/Apply-Image /ImageFile:{wim} /Name:"Windows 10 Pro" /ApplyDir:{tmp}/applied '
         '/CheckIntegrity /Verify', OK,
         applied_as("wim", 1, "applied"), prepare=mkdir("applied")),
    Line(EXPORT_ESD, OK,
         all_of(wim_names("install.esd", ["Windows 10 Pro"]), solid_lzms("install.esd"))),
    Line("/Export-Image /SourceImageFile:{tmp}/install.esd /SourceIndex:1 "
         "/DestinationImageFile:{tmp}/install.wim /Compress:max /CheckIntegrity", OK,
         all_of(wim_names("install.wim", ["Windows 10 Pro"]), same_content_as_index_1),
         before=(EXPORT_ESD,)),
    Line('/Export-Image /SourceImageFile:{wim} /SourceName:"Windows 10 Enterprise" '
         '/DestinationImageFile:{tmp}/ent.wim /DestinationName:"Contoso Enterprise"', OK,
         wim_names("ent.wim", ["Contoso Enterprise"])),
    Line("/Export-Image /SourceImageFile:{wim} /SourceIndex:2 "
         "/DestinationImageFile:{tmp}/out.wim /Compress:fast /Quiet", OK,
         all_of(silent, wim_names("out.wim", ["Windows 10 Enterprise"]))),
    Line(SPLIT, OK, split_into_parts),
    Line("/Apply-Image /ImageFile:{tmp}/install.swm /SWMFile:{tmp}/install*.swm /Index:1 "
         "/ApplyDir:{tmp}/applied", OK, the_payload_in("applied"),
         before=(SPLIT,), prepare=mkdir("applied")),
    Line("/Export-Image /SourceImageFile:{tmp}/install.swm /SWMFile:{tmp}/install*.swm "
         "/SourceIndex:1 /DestinationImageFile:{tmp}/joined.wim /Compress:max", OK,
         all_of(wim_names("joined.wim", ["Payload"]), joined_parts), before=(SPLIT,)),
    Line("/Delete-Image /ImageFile:{wim} /Index:3", OK,
         wim_names("sample.wim", SAMPLE_NAMES[:2])),
    Line('/Delete-Image /ImageFile:{wim} /Name:"Windows 10 Enterprise" /CheckIntegrity', OK,
         wim_names("sample.wim", ["Windows 10 Pro", "1"])),
    Line("/List-Image /ImageFile:{wim} /Index:1", OK, lists_every_path),

    # --- mounts -----------------------------------------------------------
    Line(MOUNT_RO, OK, mounted(read_only=True, index=1), mounts=True),
    Line('/Mount-Wim /WimFile:{wim} /Name:"Windows 10 Enterprise" /MountDir:{mnt}', OK,
         mounted(read_only=False, index=2), mounts=True),
    Line("/mount-image /imagefile:{wim} /index:3 /MOUNTDIR:{mnt} /readonly", OK,
         mounted(read_only=True, index=3), mounts=True),
    Line("/Mount-Image /ImageFile:{wim} /Index:1 /MountDir:{mnt} /Optimize /CheckIntegrity", OK,
         mounted(read_only=False, index=1), mounts=True),
    Line("/Get-MountedImageInfo", OK, lists_the_mount, before=(MOUNT_RO,), mounts=True),
    Line("/Get-MountedWimInfo", OK, lists_the_mount, before=(MOUNT_RO,), mounts=True),
    Line("/Commit-Image /MountDir:{mnt}", OK, all_of(saved(), still_mounted),
         before=(MOUNT_RW,), prepare=write_setup_script, mounts=True),
    Line("/Commit-Wim /MountDir:{mnt}", OK, all_of(saved(), still_mounted),
         before=(MOUNT_RW,), prepare=write_setup_script, mounts=True),
    Line("/Unmount-Image /MountDir:{mnt} /Commit", OK, all_of(gone, saved()),
         before=(MOUNT_RW,), prepare=write_setup_script, mounts=True),
    Line("/Unmount-Wim /MountDir:{mnt} /Commit /CheckIntegrity", OK, all_of(gone, saved()),
         before=(MOUNT_RW,), prepare=write_setup_script, mounts=True),
    Line("/Unmount-Image /MountDir:{mnt} /Commit /Append", OK, all_of(gone, appended),
         before=(MOUNT_RW,), prepare=write_setup_script, mounts=True),
    Line("/Unmount-Image /MountDir:{mnt} /Discard", OK, all_of(gone, wim_as_built),
         before=(MOUNT_RW,), prepare=write_setup_script, mounts=True),
    Line("/MountDir:{mnt} /Unmount-Wim /Discard", OK, all_of(gone, wim_as_built),
         before=(MOUNT_RO,), mounts=True),
    Line("/Remount-Image /MountDir:{mnt}", OK, still_mounted, before=(MOUNT_RO,), mounts=True),
    Line("/Remount-Wim /MountDir:{mnt}", OK, still_mounted, before=(MOUNT_RO,), mounts=True),
    Line("/Cleanup-Mountpoints", OK, still_mounted, before=(MOUNT_RO,), mounts=True),
    Line("/Cleanup-Wim", OK, still_mounted, before=(MOUNT_RO,), mounts=True),
    Line("/Image:{mnt} /Get-CurrentEdition", OK, shows("Current Edition : Enterprise"),
         before=("/Mount-Image /ImageFile:{wim} /Index:2 /MountDir:{mnt} /ReadOnly",),
         mounts=True),

    # --- servicing reads on an offline tree -------------------------------
    Line("/Image:{tree} /Get-Features", OK,
         shows_all(*(f"Feature Name : {name}" for name in FEATURES))),
    Line("/Image:{tree} /Get-Features /Format:Table", OK, table_rows(*FEATURES)),
    Line(f"/Image:{{tree}} /Get-Features /PackageName:{FOUNDATION} /Format:Table", OK,
         all_of(shows(f"Features listing for package : {FOUNDATION}"),
                table_rows(*FEATURES, "MSRDC-Infrastructure"))),
    Line("/Image:{tree} /Get-FeatureInfo /FeatureName:TelnetClient /Format:Table", OK,
         table_pairs(("Feature Name", "TelnetClient"), ("State", "Disabled"))),
    Line("/Image:{tree} /Get-FeatureInfo /FeatureName:Microsoft-Hyper-V-All", OK,
         shows("Feature Name : Microsoft-Hyper-V-All", "State : Enabled")),
    Line("/Image:{tree} /Get-FeatureInfo /FeatureName:TelnetClient", OK,
         shows("Feature Name : TelnetClient", "Display Name : Telnet Client")),
    Line("/Image:{tree} /Get-Packages", OK,
         shows_all(*(f"Package Identity : {name}" for name in PACKAGES))),
    Line("/Image:{tree} /Get-Packages /Format:List", OK,
         shows_all(*(f"Package Identity : {name}" for name in PACKAGES))),
    Line("/Image:{tree} /Get-Packages /Format:Table", OK, table_rows(*PACKAGES)),
    Line(f"/Image:{{tree}} /Get-PackageInfo /PackageName:{KB5005565}", OK,
         shows(f"Package Identity : {KB5005565}", "Release Type : Security Update",
               "KBArticle : 5005565")),
    Line("/Image:{tree} /Get-Drivers /All", OK,
         shows_all(*IN_BOX_INFS, *THIRD_PARTY)),
    Line("/Image:{tree} /Get-Drivers /Format:Table", OK,
         all_of(table_rows(*THIRD_PARTY), not_shown(*IN_BOX_INFS))),
    Line("/Image:{tree} /Get-DriverInfo /Driver:oem1.inf", OK,
         shows("Published Name : oem1.inf", "Contoso Gigabit Adapter")),
    Line("/Image:{tree} /Get-DriverInfo /Driver:oem1.inf /Format:Table", OK,
         all_of(table_pairs(("Published Name", "oem1.inf"),
                            ("Contoso Gigabit Adapter", "PCI\\VEN_1234&DEV_1000&SUBSYS_00011234")),
                not_shown("Hardware ID : "))),
    Line("/Image:{tree} /Get-DriverInfo /Driver:oem1.inf /Driver:oem0.inf", OK,
         shows("Published Name : oem1.inf", "Contoso Gigabit Adapter",
               "Published Name : oem0.inf", "Contoso RAID Controller")),
    Line("/Image:{tree} /Get-Capabilities", OK,
         shows_all(f"Capability Identity : {OPENSSH}", f"Capability Identity : {LANGUAGE_BASIC}")),
    Line(f"/Image:{{tree}} /Get-CapabilityInfo /CapabilityName:{OPENSSH}", OK,
         shows(f"Capability Identity : {OPENSSH}", "State : Installed")),
    Line(f"/Image:{{tree}} /Get-CapabilityInfo /CapabilityName:{LANGUAGE_BASIC}", OK,
         shows(f"Capability Identity : {LANGUAGE_BASIC}", "State : Staged")),
    Line("/Image:{tree} /Get-CurrentEdition", OK, shows("Current Edition : Enterprise")),
    Line("/Image:{tree} /Get-ProvisionedAppxPackages", OK,
         shows_all(f"PackageName : {CALCULATOR}", f"PackageName : {LXP}")),
    Line("/Image:{tree} /Cleanup-Image /CheckHealth", OK,
         shows("No component store corruption detected.")),
    Line("/Image:{tree} /Get-ReservedStorageState", OK, shows("Reserved storage is enabled.")),
    Line("/Image:{tree} /Export-Driver /Destination:{tmp}/exported", OK, exported_drivers,
         prepare=mkdir("exported")),

    # --- global options, in the places scripts put them -------------------
    Line("/Get-Packages /Image:{tree}", OK, shows_all(*PACKAGES)),
    Line("/Image:{tree} /WindowsDir:Windows /Get-Features", OK, shows_all(*FEATURES)),
    Line("/Image:{tree} /WinDir:Windows /Get-Packages", OK, shows_all(*PACKAGES)),
    Line("/Image:{tree} /SysDriveDir:{tree} /Get-CurrentEdition", OK,
         shows("Current Edition : Enterprise")),
    Line("/LogPath:{tmp}/dism.log /LogLevel:4 /Image:{tree} /Get-Packages", OK,
         all_of(log_written("dism.log"), shows_all(*PACKAGES))),
    Line("/Image:{tree} /ScratchDir:{tmp}/scratch /Get-Capabilities", OK,
         shows_all(OPENSSH, LANGUAGE_BASIC), prepare=mkdir("scratch")),
    Line("/English /Image:{tree} /Get-Drivers", OK,
         all_of(shows_all(*THIRD_PARTY), not_shown(*IN_BOX_INFS))),
    Line("/Image:{tree} /Get-Features /NoRestart", OK, shows_all(*FEATURES)),
    Line("/Quiet /Image:{tree} /Get-Packages", OK, silent),

    # --- operations that cannot run on Linux ------------------------------
    not_here("/Online /Enable-Feature /FeatureName:NetFx3 /All /NoRestart", "Enable-Feature"),
    not_here("/Online /Cleanup-Image /RestoreHealth", "RestoreHealth"),
    not_here("/online /enable-feature /featurename:IIS-WebServerRole /all /norestart",
             "Enable-Feature"),
    not_here("/Online /Get-Features /Format:Table", "Get-Features"),
    not_here("/Online /Set-ReservedStorageState /State:Disabled", "Set-ReservedStorageState"),
    not_here("/Online /Get-ReservedStorageState", "Get-ReservedStorageState"),
    not_here("/Image:{mnt} /Add-Package /PackagePath:{tmp}/in/update.cab", "Add-Package",
             before=(MOUNT_RW,), mounts=True),
    not_here("/Image:{tree} /Enable-Feature /FeatureName:TelnetClient /FeatureName:TFTP /All",
             "Enable-Feature"),
    not_here("/Image:{tree} /Enable-Feature /FeatureName:TFTP /All /Source:{tmp}/in/sxs1 "
             "/Source:{tmp}/in/sxs2 /LimitAccess", "Enable-Feature"),
    not_here("/Image:{tree} /Disable-Feature /FeatureName:SMB1Protocol /FeatureName:TelnetClient "
             "/NoRestart", "Disable-Feature"),
    not_here("/Image:{tree} /Add-Package /PackagePath:{tmp}/in/update.cab", "Add-Package"),
    not_here(f"/Image:{{tree}} /Remove-Package /PackageName:{KB5004237} /PackageName:{DOTNET}",
             "Remove-Package", first_package_first),
    not_here("/Image:{tree} /Add-Driver /Driver:{tmp}/in/drivers /Recurse /ForceUnsigned",
             "Add-Driver"),
    not_here("/Image:{tree} /Remove-Driver /Driver:oem1.inf /Driver:oem0.inf", "Remove-Driver"),
    not_here(f"/Image:{{tree}} /Add-Capability /CapabilityName:{LANGUAGE_BASIC} "
             "/Source:{tmp}/in/sxs1 /Source:{tmp}/in/sxs2 /LimitAccess", "Add-Capability"),
    not_here(f"/Image:{{tree}} /Remove-Capability /CapabilityName:{OPENSSH}", "Remove-Capability"),
    not_here("/Image:{tree} /Set-Edition:Professional /ProductKey:VK7JG-NPHTM-C97JM-9MPGT-3V66T "
             "/AcceptEula", "Set-Edition"),
    not_here("/Image:{tree} /Set-ProductKey:VK7JG-NPHTM-C97JM-9MPGT-3V66T", "Set-ProductKey"),
    not_here(f"/Image:{{tree}} /Remove-ProvisionedAppxPackage /PackageName:{CALCULATOR}",
             "Remove-ProvisionedAppxPackage"),
    not_here("/Image:{tree} /Add-ProvisionedAppxPackage /PackagePath:{tmp}/in/app.appxbundle "
             "/SkipLicense", "Add-ProvisionedAppxPackage"),
    not_here("/Image:{tree} /Get-TargetEditions", "Get-TargetEditions"),
    not_here("/Image:{tree} /Cleanup-Image /StartComponentCleanup /ResetBase",
             "StartComponentCleanup"),
    not_here("/Image:{tree} /Cleanup-Image /AnalyzeComponentStore", "AnalyzeComponentStore"),
    not_here("/Image:{tree} /Cleanup-Image /ScanHealth", "ScanHealth"),
    not_here("/Image:{tree} /Cleanup-Image /RestoreHealth /Source:{tmp}/in/sxs1 "
             "/Source:{tmp}/in/sxs2 /LimitAccess", "RestoreHealth"),
    not_here("/Image:{tree} /Apply-Unattend:{tmp}/in/unattend.xml", "Apply-Unattend"),
    not_here('/Image:{tree} /Set-TimeZone:"Pacific Standard Time"', "Set-TimeZone"),
    not_here("/Image:{tree} /Get-Intl", "Get-Intl"),
    not_here("/Image:{tree} /Set-AllIntl:en-US", "Set-AllIntl"),
    not_here("/Image:{tree} /Optimize-ProvisionedAppxPackages",
             "Optimize-ProvisionedAppxPackages"),
    not_here(r"/Capture-FFU /ImageFile:{tmp}/disk.ffu /CaptureDrive:'\\.\PhysicalDrive0' "
             "/Name:Disk0", "Capture-FFU"),

    # --- lines DISM.exe runs and fails: nothing there by that name ---------
    Line("/Image:{tree} /Enable-Feature /FeatureName:NetFx3 /All /Source:{tmp}/in/sxs1 "
         "/LimitAccess", INVALID, failed_naming("NetFx3")),
    Line("/Unmount-Wim /MountDir:{mnt} /Discard", INVALID, failed_naming("{mnt}")),
    Line("/Get-ImageInfo /ImageFile:{tmp}/missing.wim", INVALID,
         failed_naming("{tmp}/missing.wim")),
    Line("/Get-ImageInfo /ImageFile:{wim} /Index:9", INVALID, failed_naming("index 9")),
    # The engine's message names DismOpenSession's SystemDrive; the line said /SysDriveDir.
    Line("/Image:{tree} /SysDriveDir:{tmp}/no-such-drive /Get-CurrentEdition", INVALID,
         all_of(failed_naming("/SysDriveDir '{tmp}/no-such-drive'"),
                lambda ran: "SystemDrive" not in ran.err)),
    Line("/Mount-Image /ImageFile:{wim} /Index:1 /MountDir:{tmp}/in", INVALID,
         failed_naming("{tmp}/in"), mounts=True),

    # --- lines DISM.exe rejects -------------------------------------------
    rejected("/Image:{tree} /Get-Packages /Foo", "/Foo"),
    rejected("/Image:{tree} /Get-Packages /FeatureName:TelnetClient", "/FeatureName"),
    rejected("/Image:{tree} /Get-Drivers /All:Yes", "/All"),
    rejected("/Image:{tree} /Get-FeatureInfo /FeatureName", "/FeatureName"),
    rejected("/Get-ImageInfo /ImageFile:{wim} /Index", "/Index"),
    rejected("/Get-ImageInfo /ImageFile:{wim} /Index:1 /Index:2", "/Index"),
    rejected("/Image:{tree} /Image:{tree} /Get-Packages", "/Image"),
    Line("/Image:{tree}", USAGE, no_verb),
    rejected("/Capture-Image /ImageFile:{tmp}/contoso.wim /CaptureDir:{src} /Name:Contoso Base",
             "Base"),
    rejected("/Image:{tree} /Get-Features /Format:Csv", "/Format"),
    rejected("/LogLevel:7 /Image:{tree} /Get-Packages", "/LogLevel"),
    rejected("/Export-Image /SourceImageFile:{wim} /SourceIndex:1 "
             "/DestinationImageFile:{tmp}/x.wim /Compress:ultra", "/Compress"),
    rejected("/Image:{tree} /Online /Get-Packages", "/Image", "/Online"),
    rejected("/Unmount-Image /MountDir:{mnt}", "/Commit", "/Discard"),
    rejected("/Mount-Image /ImageFile:{wim} /MountDir:{mnt}", "/Index", "/Name"),
    rejected("/Apply-Image /ImageFile:{wim} /ApplyDir:{tmp}/in", "/Index", "/Name"),
    rejected("/Image:{tree} /Enable-Feature /All", "/FeatureName"),
    rejected("/Cleanup-Image /CheckHealth", "/Image", "/Online"),
)


# ---------------------------------------------------------------------------
# Fixtures: the images are built once per module, copied where a line writes
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def capture_source(tmp_path_factory) -> Path:
    return build_windows_tree(tmp_path_factory.mktemp("corpus") / "source",
                              WindowsImageSpec(name="Contoso"))


@pytest.fixture(scope="module")
def _payload_wim(tmp_path_factory) -> Path:
    """A WIM of four incompressible 700 KB files, which splits into parts of 1 MB."""
    files = {f"Program Files/Contoso/blob{n}.bin": os.urandom(700 * 1024) for n in range(4)}
    spec = WindowsImageSpec(name="Payload", extra_files=files)
    return build_wim(tmp_path_factory.mktemp("corpus") / "payload.wim", [spec])


def _inputs(world: World, image: Path) -> None:
    """The files scripts point DISM.exe at: a package, an answer file, an app
    bundle, a driver folder and two source folders."""
    inputs = world.tmp / "in"
    inputs.mkdir()
    (inputs / "update.cab").write_bytes(b"MSCF" + bytes(60))
    (inputs / "app.appxbundle").write_bytes(b"PK\x03\x04" + bytes(60))
    (inputs / "unattend.xml").write_text(ANSWER_FILE, encoding="utf-8")
    (inputs / "sxs1").mkdir()
    (inputs / "sxs2").mkdir()
    (folder,) = (image / "Windows/System32/DriverStore/FileRepository").glob("contosonet.inf_*")
    copy_one_driver(image, folder.name, inputs / "drivers" / "contosonet")


@pytest.fixture
def world(image, sample_wim, _payload_wim, capture_source, tmp_path) -> World:
    work = tmp_path / "w"
    work.mkdir()
    wim = work / "sample.wim"
    shutil.move(sample_wim, wim)
    big = work / "payload.wim"
    shutil.copyfile(_payload_wim, big)
    mnt = work / "mnt"
    mnt.mkdir()
    made = World(tree=image, wim=wim, big=big, src=capture_source, mnt=mnt, tmp=work,
                 wim_sha=sha256(wim))
    _inputs(made, image)
    return made


def _line_id(line: Line) -> str:
    return line.text


@pytest.mark.parametrize("line", CORPUS, ids=_line_id)
def test_dism_exe_line(line: Line, world: World, capsys, request):
    if line.mounts:
        request.getfixturevalue("fuse")
    try:
        ran = run_line(capsys, world, line)
        assert ran.code == line.status, f"expected exit {line.status}\n{ran.shown()}"
        line.effect(ran)
    finally:
        world.release_mounts()


def test_the_corpus_is_big_enough_and_has_no_duplicate_lines():
    texts = [line.text for line in CORPUS]
    assert len(texts) >= 70 and len(set(texts)) == len(texts)
