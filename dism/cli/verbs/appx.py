"""The verbs provisioning app packages (.appx, .msix and their bundles) for
every new user of an image: add-provisionedappxpackage and
remove-provisionedappxpackage (DISM.exe: /Add-ProvisionedAppxPackage,
/Remove-ProvisionedAppxPackage).  Listing them is
get-provisionedappxpackages, in .servicing.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional

import dism

from ..console import Console
from ..results import ActionResult
from .servicing import change, changed, check_target, servicing_verb
from .verb import flag, one_of, options, value

app_name = options(value(
    "--package-name", "NAME", "the app's full package name, as get-provisionedappxpackages "
    "lists it (DISM.exe: /PackageName)", required=True))

# DISM's API takes either as the app's path: a package file or the folder of
# an unpacked app (its AppxManifest.xml at the top).
app_source = one_of(
    value("--package-path", "PATH", "the app's package: an .appx or .msix file, or a bundle "
          "(DISM.exe: /PackagePath)"),
    value("--folder-path", "DIR", "an unpacked app: the folder holding its AppxManifest.xml "
          "(DISM.exe: /FolderPath)"),
    required=True)
app_options = options(
    value("--dependency-package-path", "PATH", "a framework package the app needs; may be "
          "repeated (DISM.exe: /DependencyPackagePath)", action="append", default=[]),
    value("--license-path", "PATH", "the app's license file; may be repeated "
          "(DISM.exe: /LicensePath)", action="append", default=[]),
    flag("--skip-license", "provision an app that needs no license (DISM.exe: /SkipLicense)"),
    value("--custom-data-path", "PATH", "a custom data file for the app "
          "(DISM.exe: /CustomDataPath)"),
    value("--region", "REGIONS", "provision it only in these regions: all, or ISO 3166 "
          "codes separated by ';' (DISM.exe: /Region)"),
    value("--stub-package-option", None, "install the full app or its stub "
          "(DISM.exe: /StubPackageOption)", type=str.lower,
          choices=("installfull", "installstub")))

_STUB_OPTIONS = {None: dism.StubPackageOption.NONE,
                 "installfull": dism.StubPackageOption.INSTALL_FULL,
                 "installstub": dism.StubPackageOption.INSTALL_STUB}


def check_app_addition(args: argparse.Namespace) -> Optional[str]:
    problem = check_target(args)
    if problem:
        return problem
    if not args.license_path and not args.skip_license:
        return ("give the app's license with --license-path, or --skip-license for an app "
                "that needs none (DISM.exe: /LicensePath or /SkipLicense)")
    # A path that is not there is the engine's to report, naming it.
    if args.folder_path is not None and os.path.isfile(args.folder_path):
        return (f"--folder-path takes the folder of an unpacked app, not a file "
                f"({args.folder_path!r}); give a package file with --package-path")
    if args.package_path is not None and os.path.isdir(args.package_path):
        return (f"--package-path takes a package file, not a folder ({args.package_path!r}); "
                "give an unpacked app's folder with --folder-path")
    return None


def add_provisionedappxpackage(args: argparse.Namespace, console: Console) -> ActionResult:
    app = args.package_path if args.package_path is not None else args.folder_path
    restart = change(args, console, None,
                     lambda session, progress: session.add_provisioned_appx_package(
                         app, dependencies=args.dependency_package_path,
                         licenses=args.license_path, skip_license=args.skip_license,
                         custom_data=args.custom_data_path, region=args.region,
                         stub=_STUB_OPTIONS[args.stub_package_option]))
    return changed(args, "add-provisionedappxpackage", restart,
                   {"app": app, "dependencies": args.dependency_package_path,
                    "licenses": args.license_path, "skip_license": args.skip_license,
                    "custom_data": args.custom_data_path, "region": args.region,
                    "stub_package_option": args.stub_package_option})


def remove_provisionedappxpackage(args: argparse.Namespace, console: Console) -> ActionResult:
    restart = change(args, console, None,
                     lambda session, progress: session.remove_provisioned_appx_package(
                         args.package_name))
    return changed(args, "remove-provisionedappxpackage", restart,
                   {"package_name": args.package_name})


VERBS = (
    servicing_verb("Add-ProvisionedAppxPackage",
                   "provision an app package for every new user of the image",
                   (app_source, app_options), add_provisionedappxpackage, check_app_addition,
                   writes=True),
    servicing_verb("Remove-ProvisionedAppxPackage",
                   "stop provisioning an app package for new users",
                   (app_name,), remove_provisionedappxpackage, writes=True),
)
