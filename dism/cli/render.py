"""Results as DISM.exe shows them (`Label : value` lines, /Format:Table
tables) and as JSON (enums by name, datetimes in ISO 8601, versions as
strings)."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import dism

from . import render_imaging
from .results import (ActionResult, ImageFilesResult, ImageInfoResult, MountedImagesResult,
                      Result, ServicingResult, WimInfoResult)

# Keyed by enum member; a value newer than this program comes as a plain int
# and is shown as it is.
_ARCHITECTURES: Mapping[object, str] = {
    dism.Architecture.X86: "x86", dism.Architecture.ARM: "arm", dism.Architecture.IA64: "ia64",
    dism.Architecture.AMD64: "x64", dism.Architecture.NEUTRAL: "neutral",
    dism.Architecture.ARM64: "arm64", dism.Architecture.UNKNOWN: "<undefined>",
}
_BOOTABLE: Mapping[object, str] = {
    dism.ImageBootable.YES: "Yes", dism.ImageBootable.NO: "No",
    dism.ImageBootable.UNKNOWN: "<undefined>",
}
_MOUNT_STATUS: Mapping[object, str] = {
    dism.MountStatus.OK: "Ok", dism.MountStatus.NEEDS_REMOUNT: "Needs Remount",
    dism.MountStatus.INVALID: "Invalid",
}


def _text(value: Any) -> str:
    return "<undefined>" if value is None or value == "" else str(value)


def _when(moment: Optional[_dt.datetime]) -> str:
    """DISM's `12/7/2019 - 9:52:25 AM`, in local time."""
    if moment is None:
        return "<undefined>"
    local = moment.astimezone()
    hour = local.hour % 12 or 12
    meridiem = "AM" if local.hour < 12 else "PM"
    return (f"{local.month}/{local.day}/{local.year} - "
            f"{hour}:{local.minute:02d}:{local.second:02d} {meridiem}")


def _mount_status(info: dism.MountedImageInfo) -> str:
    return _MOUNT_STATUS.get(info.status, f"{info.status}")


def _image_lines(image: dism.ImageInfo, detailed: bool) -> List[str]:
    lines = [f"Index : {image.index}", f"Name : {_text(image.name)}",
             f"Description : {_text(image.description)}", f"Size : {image.size:,} bytes"]
    if not detailed:
        return lines
    version = image.version
    lines += [
        f"WIM Bootable : {_BOOTABLE.get(image.bootable, f'{image.bootable}')}",
        f"Architecture : {_ARCHITECTURES.get(image.architecture, f'{image.architecture}')}",
        f"Hal : {_text(image.hal)}",
        f"Version : {version.major}.{version.minor}.{version.build}",
        f"ServicePack Build : {version.spbuild}",
        f"ServicePack Level : {version.splevel}",
        f"Edition : {_text(image.edition)}",
        f"Installation : {_text(image.installation_type)}",
        f"ProductType : {_text(image.product_type)}",
        f"ProductSuite : {_text(image.product_suite)}",
        f"System Root : {_text(image.system_root)}",
        f"Directories : {_text(image.directory_count)}",
        f"Files : {_text(image.file_count)}",
        f"Created : {_when(image.created)}",
        f"Modified : {_when(image.modified)}",
        "Languages :",
    ]
    for language in image.languages:
        default = " (Default)" if language == image.default_language else ""
        lines.append(f"        {language}{default}")
    return lines


def _human_image_info(result: ImageInfoResult) -> List[str]:
    lines = [f"Details for image : {result.image_file}", ""]
    for image in result.images:
        lines += _image_lines(image, result.detailed) + [""]
    return lines


def _human_mounted_images(result: MountedImagesResult) -> List[str]:
    if not result.mounted_images:
        return ["No mounted images found.", ""]
    lines = ["Mounted images:", ""]
    for info in result.mounted_images:
        lines += [f"Mount Dir : {info.mount_path}", f"Image File : {info.image_path}",
                  f"Image Index : {info.index}",
                  f"Mounted Read/Write : {'No' if info.read_only else 'Yes'}",
                  f"Status : {_mount_status(info)}", ""]
    return lines


def _mount_line(info: dism.MountedImageInfo) -> str:
    mode = "read-only" if info.read_only else "read/write"
    return (f"  {info.mount_path} : {info.image_path}, index {info.index}, {mode}, "
            f"status {_mount_status(info)}")


def _human_cleanup(details: Mapping[str, Any]) -> List[str]:
    released, left = details["released"], details["left"]
    lines = [f"Released {len(released)} stale mount(s)" + (":" if released else ".")]
    lines += [_mount_line(info) for info in released]
    lines.append(f"Left {len(left)} mount(s) in place" + (":" if left else "."))
    lines += [_mount_line(info) for info in left]
    return lines + [""]


_ACTION_RENDERERS: Mapping[str, Callable[[Mapping[str, Any]], List[str]]] = {
    "cleanup-mountpoints": _human_cleanup,
    **render_imaging.ACTION_RENDERERS,
}


def _human_action(result: ActionResult) -> List[str]:
    render = _ACTION_RENDERERS.get(result.operation)
    return render(result.details) if render else []


# --- servicing results ---------------------------------------------------------------

_FEATURE_STATES = {
    dism.PackageFeatureState.NOT_PRESENT: "Not Present",
    dism.PackageFeatureState.UNINSTALL_PENDING: "Disable Pending",
    dism.PackageFeatureState.STAGED: "Disabled",
    dism.PackageFeatureState.RESOLVED: "Disabled with Payload Removed",
    dism.PackageFeatureState.INSTALLED: "Enabled",
    dism.PackageFeatureState.INSTALL_PENDING: "Enable Pending",
    dism.PackageFeatureState.SUPERSEDED: "Superseded",
    dism.PackageFeatureState.PARTIALLY_INSTALLED: "Partially Installed",
}
_PACKAGE_STATES = {  # packages and capabilities
    dism.PackageFeatureState.RESOLVED: "Removed",
}
_FULLY_OFFLINE = {
    dism.FullyOfflineInstallable.INSTALLABLE: "Yes",
    dism.FullyOfflineInstallable.NOT_INSTALLABLE: "No",
    dism.FullyOfflineInstallable.UNDETERMINED: "Undetermined",
}
_RESERVED_STORAGE = {
    dism.ReservedStorageState.ENABLED: "Reserved storage is enabled.",
    dism.ReservedStorageState.DISABLED: "Reserved storage is disabled.",
}
_HEALTH = {
    dism.ImageHealthState.HEALTHY: "No component store corruption detected.",
    dism.ImageHealthState.REPAIRABLE: "The component store is repairable.",
    dism.ImageHealthState.NON_REPAIRABLE: "The component store cannot be repaired.",
}


def _words(value: Any, names: Optional[Mapping[Any, str]] = None) -> str:
    """An enum member as DISM.exe words ("Install Pending"), through `names`
    first; a value newer than this program is shown as its number."""
    if names and value in names:
        return names[value]
    if isinstance(value, enum.Enum):
        return value.name.replace("_", " ").title()
    return _text(value)


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def _day(moment: Optional[_dt.datetime]) -> str:
    """A driver's date, which is a calendar date and so not moved to local time."""
    return "<undefined>" if moment is None else f"{moment.month}/{moment.day}/{moment.year}"


def _architecture(value: Any) -> str:
    return _ARCHITECTURES.get(value, _text(value))


def _widths(rows: Sequence[Sequence[str]]) -> List[int]:
    return [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()


def _rule(widths: Sequence[int]) -> str:
    return " | ".join("-" * width for width in widths)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """DISM.exe's /Format:Table: columns padded to width, rules of dashes
    above and below the header."""
    widths = _widths([headers, *rows])
    rule = _rule(widths)
    return [rule, _row(headers, widths), rule] + [_row(row, widths) for row in rows] + [""]


def _property_table(record: Sequence[Tuple[str, object]]) -> List[str]:
    """One record as DISM.exe's /Format:Table shows it: two columns, property
    and value, a row per `Label : value` line, under a rule of dashes."""
    rows = [[label, f"{value}"] for label, value in record]
    widths = _widths(rows)
    return [_rule(widths)] + [_row(row, widths) for row in rows]


def _labelled(record: Sequence[Tuple[str, object]]) -> List[str]:
    """DISM.exe's way of showing one record: a `Label : value` line per field."""
    return [f"{label} : {value}" for label, value in record]


def _record(record: Sequence[Tuple[str, object]], table: bool) -> List[str]:
    """One record, as `Label : value` lines or, with /Format:Table, as a table."""
    return _property_table(record) if table else _labelled(record)


def _blocks(records: Sequence[Sequence[Tuple[str, str]]], empty: str) -> List[str]:
    """DISM.exe's list format: `Label : value` lines, a blank line after each record."""
    if not records:
        return [empty, ""]
    lines: List[str] = []
    for record in records:
        lines += _labelled(record) + [""]
    return lines


def _records(labels: Sequence[str], rows: Sequence[Sequence[str]], table: bool,
             empty: str) -> List[str]:
    """Records with the same fields: blocks of `Label : value` lines or, with
    /Format:Table, one table with a column per field."""
    if table and rows:
        return _table(labels, rows)
    return _blocks([list(zip(labels, row)) for row in rows], empty)


def _listing(result: ServicingResult, fields: Sequence[Tuple[str, Callable[[Any], str]]],
             empty: str) -> List[str]:
    rows = [[render(item) for _, render in fields] for item in result.value]
    return _records([label for label, _ in fields], rows, result.table, empty)


def _custom_property_lines(properties: Sequence[dism.CustomProperty], table: bool) -> List[str]:
    lines = ["Custom Properties:", ""]
    if not properties:
        return lines + ["(No custom properties found)", ""]
    record = [(f"{prop.path}\\" if prop.path else "") + _text(prop.name) for prop in properties]
    return lines + _record(list(zip(record, (_text(p.value) for p in properties))), table) + [""]


def _human_features(result: ServicingResult) -> List[str]:
    package = result.context.get("package_name") or result.context.get("package_path")
    heading = f"Features listing for package : {package}" if package else "Features listing:"
    fields = [("Feature Name", lambda f: f.name),
              ("State", lambda f: _words(f.state, _FEATURE_STATES))]
    return [heading, ""] + _listing(result, fields, "(No features found)")


def _human_feature(result: ServicingResult) -> List[str]:
    info: dism.FeatureInfo = result.value
    return ["Feature Information:", ""] + _record([
        ("Feature Name", info.name),
        ("Display Name", _text(info.display_name)),
        ("Description", _text(info.description)),
        ("Restart Required", _words(info.restart_required)),
        ("State", _words(info.state, _FEATURE_STATES))], result.table) + [""] + \
        _custom_property_lines(info.custom_properties, result.table)


def _human_packages(result: ServicingResult) -> List[str]:
    fields = [("Package Identity", lambda p: p.name),
              ("State", lambda p: _words(p.state, _PACKAGE_STATES)),
              ("Release Type", lambda p: _words(p.release_type)),
              ("Install Time", lambda p: _when(p.install_time))]
    return ["Packages listing:", ""] + _listing(result, fields, "(No packages found)")


def _human_package(result: ServicingResult) -> List[str]:
    info: dism.PackageInfo = result.value
    fields: List[Tuple[str, object]] = [
        ("Package Identity", info.name),
        ("Applicable", _yes_no(info.applicable)),
        ("Copyright", _text(info.copyright)),
        ("Company", _text(info.company)),
        ("Creation Time", _when(info.creation_time)),
        ("Description", _text(info.description)),
        ("Install Client", _text(info.install_client)),
        ("Install Package Name", _text(info.install_package_name)),
        ("Install Time", _when(info.install_time)),
        ("Last Update Time", _when(info.last_update_time)),
        ("Name", _text(info.display_name)),
        ("Product Name", _text(info.product_name)),
        ("Product Version", _text(info.product_version)),
        ("Release Type", _words(info.release_type)),
        ("Restart Required", _words(info.restart_required)),
        ("Support Information", _text(info.support_information)),
        ("State", _words(info.state, _PACKAGE_STATES)),
        ("Completely offline capable", _words(info.fully_offline, _FULLY_OFFLINE))]
    if info.capability_id is not None:
        fields.append(("Capability Identity", info.capability_id))
    lines = ["Package information:", ""] + _record(fields, result.table) + [""]
    lines += _custom_property_lines(info.custom_properties, result.table)
    lines += [f"Features listing for package : {info.name}", ""]
    features = [[f.name, _words(f.state, _FEATURE_STATES)] for f in info.features]
    return lines + _records(("Feature Name", "State"), features, result.table,
                            "(No features found for this package)")


def _human_drivers(result: ServicingResult) -> List[str]:
    fields = [("Published Name", lambda d: _text(d.published_name)),
              ("Original File Name", lambda d: _text(d.original_file_name)),
              ("Inbox", lambda d: _yes_no(d.inbox)),
              ("Class Name", lambda d: _text(d.class_name)),
              ("Provider Name", lambda d: _text(d.provider_name)),
              ("Date", lambda d: _day(d.date)),
              ("Version", lambda d: str(d.version))]
    return ["Driver packages listing:", ""] + _listing(result, fields,
                                                       "(No driver packages found)")


_DEVICE_FIELDS: Sequence[Tuple[str, Callable[[dism.Driver], str]]] = (
    ("Manufacturer", lambda d: _text(d.manufacturer_name)),
    ("Description", lambda d: _text(d.hardware_description)),
    ("Architecture", lambda d: _architecture(d.architecture)),
    ("Hardware ID", lambda d: _text(d.hardware_id)),
    ("Service Name", lambda d: _text(d.service_name)),
    ("Compatible IDs", lambda d: _text(d.compatible_ids)),
    ("Exclude IDs", lambda d: _text(d.exclude_ids)))


def _device_lines(drivers: Sequence[dism.Driver], table: bool) -> List[str]:
    """The devices of one architecture: a table, or blocks indented under
    their architecture's heading as DISM.exe's list format has them."""
    labels = [label for label, _ in _DEVICE_FIELDS]
    rows = [[render(driver) for _, render in _DEVICE_FIELDS] for driver in drivers]
    if table:
        return _table(labels, rows)
    lines: List[str] = []
    for row in rows:
        lines += [f"    {label} : {value}" for label, value in zip(labels, row)] + [""]
    return lines


def _human_driver_info(result: ServicingResult) -> List[str]:
    return _driver_info_lines(result.value, result.table)


def _human_driver_infos(result: ServicingResult) -> List[str]:
    """Several --driver (/Driver) values: each package in the order given."""
    return [line for value in result.value for line in _driver_info_lines(value, result.table)]


def _driver_info_lines(value: Mapping[str, Any], table: bool) -> List[str]:
    package: dism.DriverPackage = value["driver_package"]
    lines = ["Driver package information:", ""] + _record([
        ("Published Name", _text(package.published_name)),
        ("Original File Name", _text(package.original_file_name)),
        ("Inbox", _yes_no(package.inbox)),
        ("Catalog File", _text(package.catalog_file)),
        ("Class Name", _text(package.class_name)),
        ("Class Description", _text(package.class_description)),
        ("Class GUID", _text(package.class_guid)),
        ("Provider Name", _text(package.provider_name)),
        ("Date", _day(package.date)),
        ("Version", package.version),
        ("Boot Critical", _yes_no(package.boot_critical)),
        ("Signature", _words(package.signature))], table) + [""]
    drivers: Sequence[dism.Driver] = value["drivers"]
    if not drivers:
        return lines + ["(No devices listed for this driver package)", ""]
    # DISM.exe groups the devices under the architecture they are built for.
    for arch in dict.fromkeys(driver.architecture for driver in drivers):
        lines += [f"Drivers for architecture : {_architecture(arch)}", ""]
        lines += _device_lines([d for d in drivers if d.architecture == arch], table)
    return lines


def _human_capabilities(result: ServicingResult) -> List[str]:
    fields = [("Capability Identity", lambda c: c.name),
              ("State", lambda c: _words(c.state, _PACKAGE_STATES))]
    return ["Capability listing:", ""] + _listing(result, fields, "(No capabilities found)")


def _human_capability(result: ServicingResult) -> List[str]:
    info: dism.CapabilityInfo = result.value
    return ["Capability Information:", ""] + _record([
        ("Capability Identity", info.name),
        ("Name", _text(info.display_name)),
        ("State", _words(info.state, _PACKAGE_STATES)),
        ("Description", _text(info.description)),
        ("Download Size", f"{info.download_size:,} bytes"),
        ("Install Size", f"{info.install_size:,} bytes")], result.table) + [""]


def _human_current_edition(result: ServicingResult) -> List[str]:
    return ["Current edition is:", "", f"Current Edition : {result.value}", ""]


def _human_target_editions(result: ServicingResult) -> List[str]:
    if not result.value:
        return ["The image cannot be changed to any other edition.", ""]
    return (["Editions that can be upgraded to:", ""]
            + [f"Target Edition : {edition}" for edition in result.value] + [""])


def _human_appx_packages(result: ServicingResult) -> List[str]:
    packages = [[("DisplayName", _text(p.display_name)), ("Version", str(p.version)),
                 ("Architecture", _architecture(p.architecture)),
                 ("ResourceId", _text(p.resource_id)), ("PackageName", p.package_name),
                 ("Regions", p.region or "None")]
                for p in result.value]
    return _blocks(packages, "(No provisioned app packages found)")


def _human_health(result: ServicingResult) -> List[str]:
    return [_HEALTH.get(result.value, f"Unknown component store state {result.value}."), ""]


def _human_reserved_storage(result: ServicingResult) -> List[str]:
    return [_RESERVED_STORAGE.get(result.value,
                                  f"Unknown reserved storage state {result.value}."), ""]


_SERVICING_RENDERERS: Mapping[str, Callable[[ServicingResult], List[str]]] = {
    "features": _human_features,
    "feature": _human_feature,
    "packages": _human_packages,
    "package": _human_package,
    "drivers": _human_drivers,
    "driver_info": _human_driver_info,
    "driver_infos": _human_driver_infos,
    "capabilities": _human_capabilities,
    "capability": _human_capability,
    "current_edition": _human_current_edition,
    "target_editions": _human_target_editions,
    "provisioned_appx_packages": _human_appx_packages,
    "health_state": _human_health,
    "reserved_storage_state": _human_reserved_storage,
}


def _human_servicing(result: ServicingResult) -> List[str]:
    return _SERVICING_RENDERERS[result.kind](result)


_HUMAN_RENDERERS: Mapping[type, Callable[[Any], List[str]]] = {
    ImageInfoResult: _human_image_info,
    MountedImagesResult: _human_mounted_images,
    ActionResult: _human_action,
    ServicingResult: _human_servicing,
    WimInfoResult: render_imaging.human_wim_info,
    ImageFilesResult: render_imaging.human_files,
}


def human_lines(result: Result) -> List[str]:
    """The result as DISM.exe's lines (without the closing success line)."""
    return _HUMAN_RENDERERS[type(result)](result)


def jsonable(value: Any) -> Any:
    """Plain JSON values: enums by name, datetimes in ISO 8601, versions as strings."""
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dism.Version):
        return str(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def json_document(result: Result) -> Dict[str, Any]:
    if isinstance(result, WimInfoResult):
        return render_imaging.wim_info_document(result, jsonable)
    if isinstance(result, ImageFilesResult):
        return render_imaging.files_document(result, jsonable)
    if isinstance(result, ImageInfoResult):
        return {"image_file": result.image_file, "images": jsonable(result.images)}
    if isinstance(result, ActionResult):
        return {"operation": result.operation, **jsonable(result.details),
                "restart_required": result.restart_required}
    if isinstance(result, ServicingResult):
        return {"image": result.image, **jsonable(result.context),
                result.kind: jsonable(result.value)}
    return {"mounted_images": jsonable(result.mounted_images)}

