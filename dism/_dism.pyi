"""Type stub of the extension module (src/ext/; ext.h lists its files).

Checked against the built module by stubtest and by
tests/test_servicing_types.py (the same public names)."""
import sys
from os import PathLike
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Tuple, Union, final

_Path = Union[str, PathLike[str]]
_Progress = Optional[Callable[[int, int], object]]

class _CancelLike(Protocol):
    def is_set(self) -> bool: ...

BACKEND: str
DISM_ONLINE_IMAGE: str
DISM_SESSION_DEFAULT: int
DISM_MOUNT_READWRITE: int
DISM_MOUNT_READONLY: int
DISM_MOUNT_OPTIMIZE: int
DISM_MOUNT_CHECK_INTEGRITY: int
DISM_MOUNT_SUPPORT_EA: int
DISM_COMMIT_IMAGE: int
DISM_DISCARD_IMAGE: int
DISM_COMMIT_GENERATE_INTEGRITY: int
DISM_COMMIT_APPEND: int
DISM_COMMIT_SUPPORT_EA: int
DISM_COMMIT_MASK: int
DISMAPI_S_RELOAD_IMAGE_SESSION_REQUIRED: int
DISMAPI_E_DISMAPI_NOT_INITIALIZED: int
DISMAPI_E_SHUTDOWN_IN_PROGRESS: int
DISMAPI_E_OPEN_SESSION_HANDLES: int
DISMAPI_E_INVALID_DISM_SESSION: int
DISMAPI_E_INVALID_IMAGE_INDEX: int
DISMAPI_E_INVALID_IMAGE_NAME: int
DISMAPI_E_UNABLE_TO_UNMOUNT_IMAGE_PATH: int
DISMAPI_E_LOGGING_DISABLED: int
DISMAPI_E_OPEN_HANDLES_UNABLE_TO_UNMOUNT_IMAGE_PATH: int
DISMAPI_E_OPEN_HANDLES_UNABLE_TO_MOUNT_IMAGE_PATH: int
DISMAPI_E_OPEN_HANDLES_UNABLE_TO_REMOUNT_IMAGE_PATH: int
DISMAPI_E_PARENT_FEATURE_DISABLED: int
DISMAPI_E_MUST_SPECIFY_ONLINE_IMAGE: int
DISMAPI_E_INVALID_PRODUCT_KEY: int
DISMAPI_E_MUST_SPECIFY_INDEX_OR_NAME: int
DISMAPI_E_NEEDS_REMOUNT: int
DISMAPI_E_UNKNOWN_FEATURE: int
DISMAPI_E_BUSY: int
DISM_RESERVED_STORAGE_DISABLED: int
DISM_RESERVED_STORAGE_ENABLED: int
CBS_E_NOT_APPLICABLE: int
CBS_E_SOURCE_MISSING: int
# The HRESULTs the dism package needs, from the extension's error table.
E_FAIL: int
E_INVALIDARG: int
E_NOTIMPL: int
HR_FILE_NOT_FOUND: int
HR_CANCELLED: int
HR_INVALID_STATE: int
HR_MOD_NOT_FOUND: int
HR_NOT_SUPPORTED: int
# {"DismPackage": ("PackageName", ...)}: the fields of each record's tuple,
# in order (src/ext/convert.c); dism/types.py builds its dataclasses from them.
RECORD_FIELDS: Dict[str, Tuple[str, ...]]

class DismError(OSError):
    hresult: int
    message: Optional[str]

class NotInitializedError(DismError): ...
class OpenSessionsError(DismError): ...
class InvalidSessionError(DismError): ...
class InvalidImageIndexError(DismError): ...
class InvalidImageNameError(DismError): ...
class MountPathError(DismError): ...
class NeedsRemountError(DismError): ...
class CancelledError(DismError):
    # True: the cancel came after the point of no return and the operation
    # completed (its changes were saved); False: it stopped, nothing changed.
    # Set on every exception a cancelled long call raises (KeyboardInterrupt
    # and the progress callback's own exception too).
    completed: bool
class ElevationRequiredError(DismError): ...
class NotSupportedError(DismError): ...
class NotImplementedByEngineError(DismError): ...
class InvalidArgumentError(DismError): ...
class BusyError(DismError): ...
class PathNotFoundError(DismError, FileNotFoundError): ...
class ExportNotAvailableError(NotSupportedError): ...
class NotFoundError(DismError, LookupError): ...
class UnknownFeatureError(DismError, LookupError): ...
class ParentFeatureDisabledError(DismError): ...
class NotApplicableError(DismError): ...
class InvalidProductKeyError(DismError): ...

@final
class Session:
    """An open DismSession.  Made by open_session()."""
    @property
    def handle(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def commit(self, flags: int, progress: _Progress = None,
               cancel: Optional[_CancelLike] = None) -> int: ...

def initialize(log_level: int, log_path: Optional[_Path] = ...,
               scratch_dir: Optional[_Path] = ...) -> None: ...
def shutdown() -> None: ...

if sys.platform == "win32":
    # src/windows/library.c: the choice of DismApi.dll.
    def load_library(path: Optional[str] = ...) -> None: ...
    def library_path() -> Optional[str]: ...
    def file_version(path: str) -> Tuple[int, int, int, int]: ...
    def is_elevated() -> bool: ...

# A record is a tuple of the DISM struct's fields in the order RECORD_FIELDS
# gives; SYSTEMTIMEs are 7-tuples (None: no time), enums are ints with their
# C values, nested records are lists of tuples.
_Record = Tuple[Any, ...]

def get_image_info(image_path: _Path) -> List[_Record]: ...
def get_mounted_image_info() -> List[_Record]: ...
def mount_image(image_path: _Path, mount_path: _Path, index: int, name: Optional[str],
                flags: int, progress: _Progress = ...,
                cancel: Optional[_CancelLike] = ...) -> int: ...
def unmount_image(mount_path: _Path, flags: int, progress: _Progress = ...,
                  cancel: Optional[_CancelLike] = ...) -> int: ...
def remount_image(mount_path: _Path) -> int: ...
def cleanup_mountpoints() -> None: ...
def open_session(image_path: _Path, windows_dir: Optional[_Path] = ...,
                 system_drive: Optional[str] = ...) -> Session: ...

# --- servicing: every function takes the session first --------------------------

_Cancel = Optional[_CancelLike]
_Identifier = Optional[_Path]

def export_available(name: str) -> bool: ...
def get_packages(session: Session) -> List[_Record]: ...
def get_package_info(session: Session, identifier: _Identifier, by_path: bool,
                     ex: bool = False) -> _Record: ...
def get_features(session: Session, identifier: _Identifier = None,
                 by_path: bool = False) -> List[_Record]: ...
def get_feature_info(session: Session, name: str, identifier: _Identifier = None,
                     by_path: bool = False) -> _Record: ...
def get_feature_parent(session: Session, name: str, identifier: _Identifier = None,
                       by_path: bool = False) -> List[_Record]: ...
def enable_feature(session: Session, names: str, identifier: _Identifier, by_path: bool,
                   limit_access: bool, sources: Optional[Sequence[_Path]], enable_all: bool,
                   progress: _Progress = None, cancel: _Cancel = None) -> int: ...
def disable_feature(session: Session, names: str, package_name: Optional[str],
                    remove_payload: bool, progress: _Progress = None,
                    cancel: _Cancel = None) -> int: ...
def add_package(session: Session, path: _Path, ignore_check: bool, prevent_pending: bool,
                progress: _Progress = None, cancel: _Cancel = None) -> int: ...
def remove_package(session: Session, identifier: _Identifier, by_path: bool,
                   progress: _Progress = None, cancel: _Cancel = None) -> int: ...
def get_drivers(session: Session, all_drivers: bool) -> List[_Record]: ...
def get_driver_info(session: Session, path: _Path) -> Tuple[List[_Record], _Record]: ...
def add_driver(session: Session, path: _Path, force_unsigned: bool) -> int: ...
def remove_driver(session: Session, published_name: str) -> int: ...
def get_capabilities(session: Session) -> List[_Record]: ...
def get_capability_info(session: Session, name: str) -> _Record: ...
def add_capability(session: Session, name: str, limit_access: bool,
                   sources: Optional[Sequence[_Path]], progress: _Progress = None,
                   cancel: _Cancel = None) -> int: ...
def remove_capability(session: Session, name: str, progress: _Progress = None,
                      cancel: _Cancel = None) -> int: ...
def add_language(session: Session, name: str, prevent_pending: bool, limit_access: bool,
                 sources: Optional[Sequence[_Path]], progress: _Progress = None,
                 cancel: _Cancel = None) -> int: ...
def remove_language(session: Session, name: str, progress: _Progress = None,
                    cancel: _Cancel = None) -> int: ...
def get_provisioned_appx_packages(session: Session) -> List[_Record]: ...
def add_provisioned_appx_package(session: Session, app_path: _Path,
                                 dependencies: Optional[Sequence[_Path]],
                                 optional_packages: Optional[Sequence[_Path]],
                                 licenses: Optional[Sequence[_Path]], skip_license: bool,
                                 custom_data_path: Optional[_Path], region: Optional[str],
                                 stub_option: int) -> int: ...
def remove_provisioned_appx_package(session: Session, package_name: str) -> int: ...
def apply_unattend(session: Session, path: _Path, single_session: bool) -> int: ...
def check_image_health(session: Session, scan: bool, progress: _Progress = None,
                       cancel: _Cancel = None) -> Tuple[int, int]: ...
def restore_image_health(session: Session, sources: Optional[Sequence[_Path]],
                         limit_access: bool, progress: _Progress = None,
                         cancel: _Cancel = None) -> int: ...
def get_reserved_storage_state(session: Session) -> int: ...
def set_reserved_storage_state(session: Session, state: int) -> int: ...
def get_current_edition(session: Session) -> Optional[str]: ...
def get_target_editions(session: Session) -> List[Optional[str]]: ...
def set_edition(session: Session, edition: str, product_key: Optional[str] = None,
                progress: _Progress = None, cancel: _Cancel = None) -> int: ...
def set_product_key(session: Session, key: str) -> int: ...
def validate_product_key(session: Session, key: str) -> int: ...
def get_product_key_info(session: Session, key: str) -> Tuple[Optional[str], Optional[str]]: ...
def get_registry_mount_point(session: Session, hive: int) -> Optional[str]: ...
def get_session_image_info(session: Session) -> _Record: ...


# --- WIMGAPI (src/ext/imaging/): wimgapi.dll on Windows, the engine elsewhere ---
# Every constant of src/include/wimgapi.h, by its name there.
WIM_GENERIC_READ: int
WIM_GENERIC_WRITE: int
WIM_GENERIC_MOUNT: int
WIM_CREATE_NEW: int
WIM_CREATE_ALWAYS: int
WIM_OPEN_EXISTING: int
WIM_OPEN_ALWAYS: int
WIM_COMPRESS_NONE: int
WIM_COMPRESS_XPRESS: int
WIM_COMPRESS_LZX: int
WIM_COMPRESS_LZMS: int
WIM_CREATED_NEW: int
WIM_OPENED_EXISTING: int
WIM_FLAG_RESERVED: int
WIM_FLAG_VERIFY: int
WIM_FLAG_INDEX: int
WIM_FLAG_NO_APPLY: int
WIM_FLAG_NO_DIRACL: int
WIM_FLAG_NO_FILEACL: int
WIM_FLAG_SHARE_WRITE: int
WIM_FLAG_FILEINFO: int
WIM_FLAG_NO_RP_FIX: int
WIM_FLAG_MOUNT_READONLY: int
WIM_FLAG_MOUNT_FAST: int
WIM_FLAG_MOUNT_LEGACY: int
WIM_FLAG_APPLY_CI_EA: int
WIM_FLAG_WIM_BOOT: int
WIM_FLAG_APPLY_COMPACT: int
WIM_FLAG_SUPPORT_EA: int
WIM_FLAG_CHUNKED: int
WIM_EXPORT_ALLOW_DUPLICATES: int
WIM_EXPORT_ONLY_RESOURCES: int
WIM_EXPORT_ONLY_METADATA: int
WIM_EXPORT_VERIFY_SOURCE: int
WIM_EXPORT_VERIFY_DESTINATION: int
WIM_REFERENCE_APPEND: int
WIM_REFERENCE_REPLACE: int
WIM_ATTRIBUTE_NORMAL: int
WIM_ATTRIBUTE_RESOURCE_ONLY: int
WIM_ATTRIBUTE_METADATA_ONLY: int
WIM_ATTRIBUTE_VERIFY_DATA: int
WIM_ATTRIBUTE_RP_FIX: int
WIM_ATTRIBUTE_SPANNED: int
WIM_ATTRIBUTE_READONLY: int
INVALID_CALLBACK_VALUE: int
WIM_MSG: int
WIM_MSG_TEXT: int
WIM_MSG_PROGRESS: int
WIM_MSG_PROCESS: int
WIM_MSG_SCANNING: int
WIM_MSG_SETRANGE: int
WIM_MSG_SETPOS: int
WIM_MSG_STEPIT: int
WIM_MSG_COMPRESS: int
WIM_MSG_ERROR: int
WIM_MSG_ALIGNMENT: int
WIM_MSG_RETRY: int
WIM_MSG_SPLIT: int
WIM_MSG_FILEINFO: int
WIM_MSG_INFO: int
WIM_MSG_WARNING: int
WIM_MSG_CHK_PROCESS: int
WIM_MSG_WARNING_OBJECTID: int
WIM_MSG_QUERY_ABORT: int
WIM_MSG_SUCCESS: int
WIM_MSG_DONE: int
WIM_MSG_SKIP_ERROR: int
WIM_MSG_ABORT_IMAGE: int

# messages(message, a, b): a and b per message (imaging/messages.c); None
# answers WIM_MSG_SUCCESS, False skips (PROCESS) or stores (COMPRESS), an int
# is returned to WIMGAPI as is (PROCESS, ERROR and kin).
_Messages = Optional[Callable[[int, Any, Any], object]]

@final
class WimHandle:
    """A WIMGAPI handle: a WIM file (wim_create_file) or an image in one
    (wim_load_image, wim_capture_image).  A context manager that closes it."""
    @property
    def closed(self) -> bool: ...
    @property
    def is_image(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> "WimHandle": ...
    def __exit__(self, *args: object) -> bool: ...

def wim_create_file(path: _Path, access: int, disposition: int, flags: int,
                    compression: int) -> Tuple[WimHandle, int]: ...
def wim_set_temporary_path(wim: WimHandle, path: _Path) -> None: ...
def wim_set_reference_file(wim: WimHandle, path: Optional[_Path], flags: int) -> None: ...
def wim_get_image_count(wim: WimHandle, /) -> int: ...
def wim_get_attributes(
    wim: WimHandle, /) -> Tuple[str, bytes, int, int, int, int, int, int, int]: ...
def wim_set_boot_image(wim: WimHandle, index: int) -> None: ...
def wim_load_image(wim: WimHandle, index: int) -> WimHandle: ...
def wim_get_image_information(handle: WimHandle, /) -> str: ...
def wim_set_image_information(handle: WimHandle, xml: str) -> None: ...
def wim_capture_image(wim: WimHandle, path: _Path, flags: int, messages: _Messages = None,
                      cancel: Optional[_CancelLike] = None) -> WimHandle: ...
def wim_apply_image(image: WimHandle, path: Optional[_Path], flags: int,
                    messages: _Messages = None, cancel: Optional[_CancelLike] = None) -> None: ...
def wim_export_image(image: WimHandle, dest_wim: WimHandle, flags: int,
                     messages: _Messages = None, cancel: Optional[_CancelLike] = None) -> None: ...
def wim_delete_image(wim: WimHandle, index: int, messages: _Messages = None,
                     cancel: Optional[_CancelLike] = None) -> None: ...
def wim_split_file(wim: WimHandle, part_path: _Path, part_size: int, flags: int,
                   messages: _Messages = None, cancel: Optional[_CancelLike] = None) -> int: ...
def wim_extract_image_path(image: WimHandle, image_path: _Path, destination_file: _Path,
                           flags: int, messages: _Messages = None,
                           cancel: Optional[_CancelLike] = None) -> None: ...
