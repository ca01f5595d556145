"""The verbs: one table drives the parser, DISM.exe's spelling, the API
names in messages and dispatch.  The verbs themselves, their options,
checks and actions are in .images (WIM images and mounts) and .servicing
(a session on an image)."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

from ..console import Console
from ..results import Result
from . import images as im
from . import servicing as sv
from .options import AddOptions

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


def _servicing(dism_name: str, help: str, options: Tuple[AddOptions, ...],
               action: Action,
               check: Check = sv.check_target, *, value_option: Optional[str] = None,
               dism_usage: Optional[str] = None) -> Verb:
    """A servicing verb: it works on --image DIR or --online, named before its
    own options."""
    return Verb(dism_name, help, (sv.image_or_online, sv.windows_dir) + options, action, check,
                value_option, dism_usage)


VERBS = (
    Verb("Get-ImageInfo", "show the images of a WIM file, or one image in detail",
         (im.image_file_either_way, im.any_index_or_name), im.get_imageinfo,
         im.check_get_imageinfo),
    Verb("Mount-Image", "mount an image of a WIM file into an empty directory",
         (im.image_file, im.mount_dir, im.one_index_or_name, im.mount_options),
         im.mount_image),
    Verb("Commit-Image", "save the changes of a mounted image and stay mounted",
         (im.mount_dir, im.commit_options), im.commit_image),
    Verb("Unmount-Image", "unmount an image, saving (--commit) or dropping (--discard) changes",
         (im.mount_dir, im.commit_or_discard, im.commit_options), im.unmount_image,
         im.check_unmount_image),
    Verb("Remount-Image", "bring a mount that needs a remount back to OK",
         (im.mount_dir,), im.remount_image),
    Verb("Get-MountedImageInfo", "list the mounted images and their status",
         (), im.get_mountedimageinfo),
    Verb("Cleanup-Mountpoints", "release stale mounts and their leftover files",
         (), im.cleanup_mountpoints),
    _servicing("Get-Features", "list the optional features of an image or of one package",
               (sv.any_package, sv.list_format), sv.get_features),
    _servicing("Get-FeatureInfo", "show one optional feature in detail",
               (sv.feature_name, sv.any_package), sv.get_featureinfo),
    _servicing("Enable-Feature", "enable optional features",
               (sv.feature_name_list, sv.any_package, sv.enable_all, sv.sources),
               sv.enable_feature, sv.check_feature_names),
    _servicing("Disable-Feature", "disable optional features",
               (sv.feature_name_list, sv.disable_options), sv.disable_feature,
               sv.check_feature_names),
    _servicing("Get-Packages", "list the packages of an image",
               (sv.list_format,), sv.get_packages),
    _servicing("Get-PackageInfo", "show one package in detail",
               (sv.one_package,), sv.get_packageinfo),
    _servicing("Add-Package", "install .cab or .msu packages",
               (sv.package_paths,), sv.add_package),
    _servicing("Remove-Package", "uninstall a package",
               (sv.one_package,), sv.remove_package),
    _servicing("Get-Drivers", "list the driver packages of an image",
               (sv.all_drivers, sv.list_format), sv.get_drivers),
    _servicing("Get-DriverInfo", "show a driver package and the devices it supports",
               (sv.driver_to_show,), sv.get_driverinfo),
    _servicing("Add-Driver", "add driver packages (.inf), one file or a folder of them",
               (sv.drivers_to_add,), sv.add_driver),
    _servicing("Remove-Driver", "remove out-of-box driver packages",
               (sv.drivers_to_remove,), sv.remove_driver),
    _servicing("Get-Capabilities", "list the capabilities (Features on Demand) of an image",
               (sv.list_format,), sv.get_capabilities),
    _servicing("Get-CapabilityInfo", "show one capability in detail",
               (sv.capability_name,), sv.get_capabilityinfo),
    _servicing("Add-Capability", "install a capability",
               (sv.capability_name, sv.sources), sv.add_capability),
    _servicing("Remove-Capability", "uninstall a capability",
               (sv.capability_name,), sv.remove_capability),
    _servicing("Get-CurrentEdition", "show the edition of an image",
               (), sv.get_currentedition),
    _servicing("Get-TargetEditions", "list the editions an image can be changed to",
               (), sv.get_targeteditions),
    _servicing("Get-ProvisionedAppxPackages", "list the app packages provisioned for new users",
               (), sv.get_provisionedappxpackages),
    _servicing("Check-Health", "report the corruption an earlier scan recorded, without scanning",
               (), sv.check_health, dism_usage="/Cleanup-Image /CheckHealth"),
    _servicing("Scan-Health", "scan the component store for corruption",
               (), sv.scan_health, dism_usage="/Cleanup-Image /ScanHealth"),
    _servicing("Restore-Health", "repair the component store",
               (sv.sources,), sv.restore_health, dism_usage="/Cleanup-Image /RestoreHealth"),
    _servicing("Apply-Unattend", "apply the offlineServicing settings of an answer file",
               (sv.unattend_file,), sv.apply_unattend,
               value_option="--unattend", dism_usage="/Apply-Unattend:PATH"),
)

VERBS_BY_NAME: Dict[str, Verb] = {verb.name: verb for verb in VERBS}
