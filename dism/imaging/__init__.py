"""Image management through WIMGAPI: capture, apply, export (WIM <-> ESD),
split, delete, rename, list and extract.

On Windows the calls go to the system's wimgapi.dll; elsewhere to the
portable engine, which implements the same C API on wimlib.  Everything
here is built on the extension's `_dism.wim_*` binding only:

    read   get_wim_info, list_image, apply_image, extract_files
    write  capture_image (and append), export_image, split_image,
           delete_image, set_image_info
    types  Compression, WimInfo, ImageFile

The choices made where DISM.exe leaves room are in each function's doc;
the common parts (errors, messages, the cancel rule) are in _wim.
"""
from .read import apply_image, extract_files, get_wim_info, list_image
from .types import Compression, ImageFile, WimInfo
from .write import capture_image, delete_image, export_image, set_image_info, split_image

__all__ = [
    "Compression", "ImageFile", "WimInfo", "apply_image", "capture_image", "delete_image",
    "export_image", "extract_files", "get_wim_info", "list_image", "set_image_info",
    "split_image",
]
