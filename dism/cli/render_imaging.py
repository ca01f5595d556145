"""Image-management results as text (DISM.exe's `Label : value` lines where
DISM.exe has a view) and as JSON: the WIM header view, file lists and what
capture, export, split and set-imageinfo made."""
from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Mapping, Optional

import dism

from .results import ImageFilesResult, WimInfoResult


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _compression(info: dism.WimInfo) -> str:
    kind = info.compression
    name = kind.dism_name if isinstance(kind, dism.Compression) else str(kind)
    if kind == dism.Compression.LZMS and not info.solid:
        return "LZMS (not solid)"
    return name


def human_wim_info(result: WimInfoResult) -> List[str]:
    info = result.info
    lines = [f"Details for WIM : {result.image_file}", "",
             f"Path : {info.path}", f"GUID : {{{info.guid}}}",
             f"Image Count : {info.image_count}", f"Compression : {_compression(info)}",
             f"Solid : {_yes(info.solid)}",
             f"Part Number : {info.part_number}/{info.total_parts}",
             f"Boot Index : {info.boot_index or '<none>'}",
             f"Integrity : {_yes(info.integrity)}", f"Read-only : {_yes(info.read_only)}",
             f"Reparse Point Fix : {_yes(info.rp_fix)}", f"Attributes : 0x{info.attributes:X}"]
    for index, name in enumerate(info.image_names, 1):
        lines.append(f"Image {index} : {name if name is not None else '<undefined>'}")
    return lines + [""]


def wim_info_document(result: WimInfoResult, jsonable: Any) -> Dict[str, Any]:
    info = result.info
    return {"image_file": result.image_file, "wim": {
        **jsonable(info), "guid": str(info.guid), "integrity": info.integrity,
        "read_only": info.read_only, "spanned": info.spanned, "rp_fix": info.rp_fix}}


def _when(moment: Optional[_dt.datetime]) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-" * 19


def human_files(result: ImageFilesResult) -> List[str]:
    """One line a file, as `wimlib-imagex dir --detailed` in short: modified
    time, size (<DIR> for directories), path from the image root."""
    lines = []
    for entry in result.files:
        size = "<DIR>" if entry.is_directory else f"{entry.size:,}"
        link = " <LINK>" if entry.is_reparse_point else ""
        lines.append(f"{_when(entry.modified)}  {size:>15}{link}  \\{entry.path}")
    return lines + ["", f"{len(result.files)} file(s) and directories", ""]


def files_document(result: ImageFilesResult, jsonable: Any) -> Dict[str, Any]:
    return {"image_file": result.image_file, "files": [
        {**jsonable(entry), "is_directory": entry.is_directory,
         "is_reparse_point": entry.is_reparse_point} for entry in result.files]}


def _image_line(details: Mapping[str, Any]) -> List[str]:
    image = details["image"]
    return [f"Image Index : {image['index']}", f"Name : {image['name']}"]


def _parts(details: Mapping[str, Any]) -> List[str]:
    return [f"Part {number} : {part}" for number, part in enumerate(details["parts"], 1)]


ACTION_RENDERERS = {
    "capture-image": _image_line, "append-image": _image_line,
    "export-image": _image_line, "set-imageinfo": _image_line, "split-image": _parts,
}
