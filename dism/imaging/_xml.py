"""The image XML WIMGAPI keeps in every WIM (WIMGetImageInformation):
reading names and DismImageInfo-shaped records from it, and editing the
NAME/DESCRIPTION family of one image (WIMSetImageInformation replaces the
whole document, so edits start from what was read)."""
from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Tuple, Union

from ..types import Architecture, ImageBootable, ImageInfo, ImageType, Version, as_enum
from .types import filetime

#: The elements set_image_info edits, in the order WIMGAPI writes them.
EDITABLE = ("NAME", "DESCRIPTION", "FLAGS", "DISPLAYNAME", "DISPLAYDESCRIPTION")


def _parse(xml: str) -> ET.Element:
    return ET.fromstring(xml.lstrip("\ufeff"))


def _text(element: Optional[ET.Element], path: str) -> Optional[str]:
    if element is None:
        return None
    found = element.find(path)
    return found.text if found is not None and found.text is not None else None


def _int(element: Optional[ET.Element], path: str) -> Optional[int]:
    text = _text(element, path)
    try:
        return int(text, 0) if text is not None else None
    except ValueError:
        return None


def _time(element: ET.Element, path: str) -> Optional[_dt.datetime]:
    high, low = _int(element, f"{path}/HIGHPART"), _int(element, f"{path}/LOWPART")
    if high is None or low is None:
        return None
    return filetime((high << 32) | low)


def images(wim_xml: str) -> List[ET.Element]:
    """The <IMAGE> elements of a <WIM> document, in index order."""
    root = _parse(wim_xml)
    found = root.findall("IMAGE")
    return sorted(found, key=lambda image: int(image.get("INDEX", "0") or 0))


def image_names(wim_xml: str) -> List[Tuple[int, Optional[str]]]:
    """(index, name) of every image; an image without <NAME> has None."""
    return [(int(image.get("INDEX", "0") or 0), _text(image, "NAME"))
            for image in images(wim_xml)]


def _architecture(windows: Optional[ET.Element]) -> Union[Architecture, int]:
    value = _int(windows, "ARCH")
    return Architecture.UNKNOWN if value is None else as_enum(Architecture, value)


def _version(windows: Optional[ET.Element]) -> Version:
    parts = [_int(windows, f"VERSION/{part}") or 0
             for part in ("MAJOR", "MINOR", "BUILD", "SPBUILD", "SPLEVEL")]
    return Version(*parts)


def _languages(windows: Optional[ET.Element]) -> Tuple[Tuple[str, ...], Optional[str]]:
    if windows is None:
        return (), None
    languages = tuple(element.text for element in windows.findall("LANGUAGES/LANGUAGE")
                      if element.text)
    return languages, _text(windows, "LANGUAGES/DEFAULT")


def image_info(image: ET.Element, boot_index: int) -> ImageInfo:
    """What DismGetImageInfo reports for this image, read from its XML."""
    index = int(image.get("INDEX", "0") or 0)
    windows = image.find("WINDOWS")
    languages, default = _languages(windows)
    return ImageInfo(
        index=index, name=_text(image, "NAME"), description=_text(image, "DESCRIPTION"),
        size=_int(image, "TOTALBYTES") or 0, architecture=_architecture(windows),
        edition=_text(windows, "EDITIONID"), product_name=_text(windows, "PRODUCTNAME"),
        installation_type=_text(windows, "INSTALLATIONTYPE"), version=_version(windows),
        languages=languages, default_language=default,
        bootable=ImageBootable.YES if index == boot_index else ImageBootable.NO,
        image_type=ImageType.WIM, hal=_text(windows, "HAL"),
        product_type=_text(windows, "PRODUCTTYPE"),
        product_suite=_text(windows, "PRODUCTSUITE"),
        system_root=_text(windows, "SYSTEMROOT"),
        directory_count=_int(image, "DIRCOUNT"), file_count=_int(image, "FILECOUNT"),
        created=_time(image, "CREATIONTIME"), modified=_time(image, "LASTMODIFICATIONTIME"))


def unholdable(text: str) -> Optional[str]:
    """The first character XML 1.0 cannot hold (controls but tab and line
    ends, surrogates, U+FFFE/U+FFFF), as U+XXXX; None when all can be held."""
    for char in text:
        code = ord(char)
        if (code < 0x20 and char not in "\t\n\r") or 0xD800 <= code <= 0xDFFF \
                or code in (0xFFFE, 0xFFFF):
            return f"U+{code:04X}"
    return None


def edit_image(image_xml: str, values: Dict[str, Optional[str]]) -> str:
    """The <IMAGE> document with each element of `values` set (None: left as
    it is; "": emptied), new elements added in WIMGAPI's order."""
    root = _parse(image_xml)
    for tag in EDITABLE:
        value = values.get(tag)
        if value is None:
            continue
        element = root.find(tag)
        if element is None:
            element = ET.SubElement(root, tag)
        element.text = value
    return ET.tostring(root, encoding="unicode")
