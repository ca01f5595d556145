"""dism: Python binding of Microsoft's DISM API.

On Windows the calls go to the system's DismApi.dll.  Everywhere else they go
to the portable DISM engine built into the extension, which implements the
same API on top of wimlib (WIM files, mounted through FUSE) - see README.md.

    import dism
    for image in dism.get_image_info("install.wim"):
        print(image.index, image.name, image.version)
    with dism.mount("install.wim", "/mnt/img", index=1) as mounted:
        ...  # change files; a normal exit commits, an exception discards

Image management (capture, apply, export WIM <-> ESD, split, delete, list,
extract) goes through WIMGAPI instead (dism.imaging): wimgapi.dll on
Windows, the portable engine's implementation of it elsewhere.

    dism.export_image("install.esd", "install.wim", index=1, compression="max")
"""
from . import _dism
from ._library import DismLibrary, DismSource, dism_library
from ._runtime import initialize, is_initialized, shutdown
# The exception hierarchy (errors.__all__): the extension's error table plus
# DismLibraryError.
from .errors import *  # noqa: F401,F403
from .image import (
    MountedImage,
    cleanup_mountpoints,
    get_image_info,
    get_mounted_images,
    mount,
    remount,
    unmount,
)
from .imaging import (
    Compression,
    ImageFile,
    WimInfo,
    apply_image,
    capture_image,
    delete_image,
    export_image,
    extract_files,
    get_wim_info,
    list_image,
    set_image_info,
    split_image,
)
from .progress import CancelToken, ProgressCallback
from .drivers_export import ExportedDriver
from .session import ONLINE, Session, find_driver_infs
from .types import (
    AppxPackage,
    Architecture,
    Capability,
    CapabilityInfo,
    CustomProperty,
    Driver,
    DriverPackage,
    DriverSignature,
    Feature,
    FeatureInfo,
    FullyOfflineInstallable,
    ImageBootable,
    ImageHealthState,
    ImageInfo,
    ImageType,
    LogLevel,
    MountedImageInfo,
    MountMode,
    MountStatus,
    Package,
    PackageFeatureState,
    PackageInfo,
    ProductKeyInfo,
    RegistryHive,
    ReleaseType,
    ReservedStorageState,
    RestartType,
    StubPackageOption,
    Version,
)

__version__ = "0.1.0"

#: "DismApi.dll" on Windows, "portable" where the portable engine serves the API.
BACKEND = _dism.BACKEND

__all__ = [
    "AppxPackage", "Architecture", "BACKEND", "BusyError", "CancelToken", "CancelledError",
    "Capability", "CapabilityInfo", "Compression", "CustomProperty", "DismError", "DismLibrary",
    "DismLibraryError", "DismSource", "Driver", "DriverPackage",
    "DriverSignature", "ElevationRequiredError", "ExportNotAvailableError", "ExportedDriver",
    "Feature",
    "FeatureInfo", "FullyOfflineInstallable", "ImageBootable", "ImageFile", "ImageHealthState",
    "ImageInfo",
    "ImageType", "InvalidArgumentError", "InvalidImageIndexError", "InvalidImageNameError",
    "InvalidProductKeyError", "InvalidSessionError", "LogLevel", "MountMode", "MountPathError",
    "MountStatus", "MountedImage", "MountedImageInfo", "NeedsRemountError", "NotApplicableError",
    "NotFoundError", "NotImplementedByEngineError", "NotInitializedError", "NotSupportedError",
    "ONLINE", "OpenSessionsError", "Package", "PackageFeatureState", "PackageInfo",
    "ParentFeatureDisabledError", "PathNotFoundError", "ProductKeyInfo", "ProgressCallback",
    "RegistryHive", "ReleaseType", "ReservedStorageState", "RestartType", "Session",
    "StubPackageOption", "UnknownFeatureError", "Version", "WimInfo", "apply_image",
    "capture_image", "cleanup_mountpoints", "delete_image", "dism_library", "export_image",
    "extract_files", "get_wim_info", "list_image", "set_image_info", "split_image", "find_driver_infs", "get_image_info", "get_mounted_images", "initialize", "is_initialized",
    "mount", "remount", "shutdown", "unmount",
]
