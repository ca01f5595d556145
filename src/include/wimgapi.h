/*
 * wimgapi.h - the Windows Imaging API (WIMGAPI) as the dism project declares
 * it: the functions of Microsoft's wimgapi.dll that image management uses
 * (create, capture, apply, export, delete, split, information, messages,
 * single-path extraction), their constants and structures.
 *
 * One header for both halves of the project, like dismapi.h:
 *   - on Windows it describes the exports of the in-box System32\wimgapi.dll
 *     (the ADK's WIMGAPI.H is not in mingw-w64, and the project needs no
 *     ADK); failures are reported through GetLastError();
 *   - everywhere else it describes the portable engine's implementation on
 *     wimlib (src/engine/imaging/), which keeps a last error per thread
 *     (win32.h declares GetLastError there).
 *
 * The declarations follow the ADK header's names, types and order.  Every
 * export is WINAPI (__stdcall on x86) with a plain exported name; the x86
 * argument sizes are held against mingw-w64's libwimgapi.a by
 * tests/build_checks.  Unlike the DISM API's, these structures have natural
 * alignment (the ADK header has no #pragma pack); the layout is checked at the
 * end of this file.
 */
#ifndef DISM_PROJECT_WIMGAPI_H
#define DISM_PROJECT_WIMGAPI_H

#include "win32.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * WIMCreateFile: access, disposition, creation result, compression
 * ------------------------------------------------------------------------ */
#define WIM_GENERIC_READ 0x80000000u  /* read images and apply them */
#define WIM_GENERIC_WRITE 0x40000000u /* capture, append, export into, delete; includes read */
#define WIM_GENERIC_MOUNT 0x20000000u

#define WIM_CREATE_NEW 1    /* fails when the file exists */
#define WIM_CREATE_ALWAYS 2 /* replaces the file */
#define WIM_OPEN_EXISTING 3 /* fails when the file is missing */
#define WIM_OPEN_ALWAYS 4   /* creates it when missing (write access only) */

#define WIM_COMPRESS_NONE 0
#define WIM_COMPRESS_XPRESS 1 /* DISM's "fast" */
#define WIM_COMPRESS_LZX 2    /* DISM's "max" */
#define WIM_COMPRESS_LZMS 3   /* with WIM_FLAG_CHUNKED: solid, DISM's "recovery" (.esd) */

#define WIM_CREATED_NEW 0
#define WIM_OPENED_EXISTING 1

/* ------------------------------------------------------------------------
 * WIM_FLAG_*: WIMCreateFile, WIMCaptureImage, WIMApplyImage, WIMSetReferenceFile
 * ------------------------------------------------------------------------ */
#define WIM_FLAG_RESERVED 0x00000001
#define WIM_FLAG_VERIFY 0x00000002      /* integrity table (create); byte checks (capture, apply) */
#define WIM_FLAG_INDEX 0x00000004       /* apply: read the image sequentially */
#define WIM_FLAG_NO_APPLY 0x00000008    /* apply: create nothing, send the messages (listing) */
#define WIM_FLAG_NO_DIRACL 0x00000010
#define WIM_FLAG_NO_FILEACL 0x00000020
#define WIM_FLAG_SHARE_WRITE 0x00000040
#define WIM_FLAG_FILEINFO 0x00000080    /* apply: send WIM_MSG_FILEINFO for every file */
#define WIM_FLAG_NO_RP_FIX 0x00000100
#define WIM_FLAG_MOUNT_READONLY 0x00000200
#define WIM_FLAG_MOUNT_FAST 0x00000400
#define WIM_FLAG_MOUNT_LEGACY 0x00000800
#define WIM_FLAG_APPLY_CI_EA 0x00001000
#define WIM_FLAG_WIM_BOOT 0x00002000
#define WIM_FLAG_APPLY_COMPACT 0x00004000
#define WIM_FLAG_SUPPORT_EA 0x00008000
/* Not in the ADK header: WIMCreateFile needs it to open newer (chunked,
 * solid) WIM and ESD files (ERROR_BAD_FORMAT without it), and creates an ESD
 * with it and WIM_COMPRESS_LZMS.  Named after ManagedWimgApi's name. */
#define WIM_FLAG_CHUNKED 0x20000000

/* WIMExportImage */
#define WIM_EXPORT_ALLOW_DUPLICATES 0x00000001
#define WIM_EXPORT_ONLY_RESOURCES 0x00000002
#define WIM_EXPORT_ONLY_METADATA 0x00000004
#define WIM_EXPORT_VERIFY_SOURCE 0x00000008
#define WIM_EXPORT_VERIFY_DESTINATION 0x00000010

/* WIMSetReferenceFile: exactly one of these, optionally with VERIFY/SHARE_WRITE */
#define WIM_REFERENCE_APPEND 0x00010000
#define WIM_REFERENCE_REPLACE 0x00020000

/* WIM_INFO.WimAttributes */
#define WIM_ATTRIBUTE_NORMAL 0x00000000
#define WIM_ATTRIBUTE_RESOURCE_ONLY 0x00000001
#define WIM_ATTRIBUTE_METADATA_ONLY 0x00000002
#define WIM_ATTRIBUTE_VERIFY_DATA 0x00000004 /* an integrity table is present */
#define WIM_ATTRIBUTE_RP_FIX 0x00000008
#define WIM_ATTRIBUTE_SPANNED 0x00000010     /* one part of a split WIM */
#define WIM_ATTRIBUTE_READONLY 0x00000020

#define INVALID_CALLBACK_VALUE 0xFFFFFFFFu

/* ------------------------------------------------------------------------
 * Messages (WIMRegisterMessageCallback): WM_APP + 0x1476, then in order
 * ------------------------------------------------------------------------ */
#define WIM_MSG 0x9476u
#define WIM_MSG_TEXT (WIM_MSG + 1)        /* wParam 0, lParam PWSTR text */
#define WIM_MSG_PROGRESS (WIM_MSG + 2)    /* wParam percent, lParam estimated ms left */
#define WIM_MSG_PROCESS (WIM_MSG + 3)     /* wParam PWSTR path, lParam PBOOL: FALSE skips it */
#define WIM_MSG_SCANNING (WIM_MSG + 4)    /* wParam 0 files / 1 dirs, lParam count */
#define WIM_MSG_SETRANGE (WIM_MSG + 5)    /* lParam number of files */
#define WIM_MSG_SETPOS (WIM_MSG + 6)      /* lParam files done */
#define WIM_MSG_STEPIT (WIM_MSG + 7)      /* one file done */
#define WIM_MSG_COMPRESS (WIM_MSG + 8)    /* wParam PWSTR path, lParam PBOOL compress */
#define WIM_MSG_ERROR (WIM_MSG + 9)       /* wParam PWSTR path, lParam Win32 error */
#define WIM_MSG_ALIGNMENT (WIM_MSG + 10)  /* wParam PWSTR path, lParam PDWORD boundary */
#define WIM_MSG_RETRY (WIM_MSG + 11)      /* wParam PWSTR path, lParam Win32 error */
#define WIM_MSG_SPLIT (WIM_MSG + 12)      /* wParam PWSTR* part path, lParam PLARGE_INTEGER size */
#define WIM_MSG_FILEINFO (WIM_MSG + 13)   /* wParam PWSTR path, lParam WIN32_FIND_DATAW* */
#define WIM_MSG_INFO (WIM_MSG + 14)       /* wParam PWSTR path, lParam Win32 error */
#define WIM_MSG_WARNING (WIM_MSG + 15)    /* wParam PWSTR path, lParam Win32 error */
#define WIM_MSG_CHK_PROCESS (WIM_MSG + 16)
#define WIM_MSG_WARNING_OBJECTID (WIM_MSG + 17)
#define WIM_MSG_QUERY_ABORT (WIM_MSG + 24) /* return WIM_MSG_ABORT_IMAGE to stop */

/* What a message callback returns. */
#define WIM_MSG_SUCCESS 0u              /* ERROR_SUCCESS: go on, let other callbacks see it */
#define WIM_MSG_DONE 0xFFFFFFF0u        /* handled: other callbacks do not see it */
#define WIM_MSG_SKIP_ERROR 0xFFFFFFFEu  /* to WIM_MSG_ERROR: skip the file and go on */
#define WIM_MSG_ABORT_IMAGE 0xFFFFFFFFu /* to WIM_MSG_PROCESS / QUERY_ABORT: cancel */

/* ------------------------------------------------------------------------
 * Structures (natural alignment)
 * ------------------------------------------------------------------------ */
typedef struct _WIM_INFO {
    WCHAR WimPath[MAX_PATH];
    GUID Guid;
    DWORD ImageCount;
    DWORD CompressionType; /* WIM_COMPRESS_* */
    USHORT PartNumber;     /* 1 unless split */
    USHORT TotalParts;
    DWORD BootIndex;       /* 0: none */
    DWORD WimAttributes;   /* WIM_ATTRIBUTE_* */
    DWORD WimFlagsAndAttr; /* the flags given to WIMCreateFile */
} WIM_INFO, *PWIM_INFO, *LPWIM_INFO;

/* What WIM_MSG_FILEINFO points to.  On Windows it is <windows.h>'s
 * WIN32_FIND_DATAW; the portable engine fills the fields a listing needs. */
#ifndef _WIN32
typedef struct _WIN32_FIND_DATAW {
    DWORD dwFileAttributes;
    FILETIME ftCreationTime;
    FILETIME ftLastAccessTime;
    FILETIME ftLastWriteTime;
    DWORD nFileSizeHigh;
    DWORD nFileSizeLow;
    DWORD dwReserved0; /* the reparse tag of a reparse point */
    DWORD dwReserved1;
    WCHAR cFileName[MAX_PATH];
    WCHAR cAlternateFileName[14];
} WIN32_FIND_DATAW, *PWIN32_FIND_DATAW, *LPWIN32_FIND_DATAW;
#  define FILE_ATTRIBUTE_READONLY 0x00000001
#  define FILE_ATTRIBUTE_HIDDEN 0x00000002
#  define FILE_ATTRIBUTE_SYSTEM 0x00000004
#  define FILE_ATTRIBUTE_DIRECTORY 0x00000010
#  define FILE_ATTRIBUTE_ARCHIVE 0x00000020
#  define FILE_ATTRIBUTE_NORMAL 0x00000080
#  define FILE_ATTRIBUTE_REPARSE_POINT 0x00000400
#  define FILE_ATTRIBUTE_COMPRESSED 0x00000800
#endif

/* The application's message callback; register it cast to FARPROC. */
typedef DWORD(CALLBACK *WIM_MESSAGE_CALLBACK)(DWORD MessageId, WPARAM wParam, LPARAM lParam,
                                              PVOID UserData);

/* ------------------------------------------------------------------------
 * Functions.  BOOL ones return FALSE and HANDLE ones NULL on failure, with
 * the reason in GetLastError().  Handles (a WIM file, an image in it) are
 * WIMGAPI objects: close them with WIMCloseHandle only, images first.
 * ------------------------------------------------------------------------ */
HANDLE WINAPI WIMCreateFile(_In_ PCWSTR WimPath, _In_ DWORD DesiredAccess,
                            _In_ DWORD CreationDisposition, _In_ DWORD FlagsAndAttributes,
                            _In_ DWORD CompressionType, _Out_opt_ PDWORD CreationResult);
BOOL WINAPI WIMCloseHandle(_In_ HANDLE Object);
BOOL WINAPI WIMSetTemporaryPath(_In_ HANDLE Wim, _In_ PCWSTR Path);
BOOL WINAPI WIMSetReferenceFile(_In_ HANDLE Wim, _In_opt_ PCWSTR Path, _In_ DWORD Flags);
BOOL WINAPI WIMSplitFile(_In_ HANDLE Wim, _In_ PCWSTR PartPath, _Inout_ PLARGE_INTEGER PartSize,
                         _In_ DWORD Flags);
BOOL WINAPI WIMExportImage(_In_ HANDLE Image, _In_ HANDLE Wim, _In_ DWORD Flags);
BOOL WINAPI WIMDeleteImage(_In_ HANDLE Wim, _In_ DWORD ImageIndex);
DWORD WINAPI WIMGetImageCount(_In_ HANDLE Wim);
BOOL WINAPI WIMGetAttributes(_In_ HANDLE Wim, _Out_ PWIM_INFO WimInfo, _In_ DWORD cbWimInfo);
BOOL WINAPI WIMSetBootImage(_In_ HANDLE Wim, _In_ DWORD ImageIndex);
HANDLE WINAPI WIMCaptureImage(_In_ HANDLE Wim, _In_ PCWSTR Path, _In_ DWORD CaptureFlags);
HANDLE WINAPI WIMLoadImage(_In_ HANDLE Wim, _In_ DWORD ImageIndex);
BOOL WINAPI WIMApplyImage(_In_ HANDLE Image, _In_opt_ PCWSTR Path, _In_ DWORD ApplyFlags);
/* The XML of the WIM (<WIM> root) or of one image (<IMAGE> root) as WCHAR
 * units: UTF-16LE on Windows; off Windows the portable engine's wchar_t
 * (UTF-32, 4 bytes a unit on Linux).  The first unit is the BOM (U+FEFF)
 * and a NUL unit ends the text; *cbImageInfo is in bytes and counts the BOM
 * and the text, not the NUL.  Free it with LocalFree (the portable engine:
 * with WIMFreeMemory, which LocalFree names there). */
BOOL WINAPI WIMGetImageInformation(_In_ HANDLE Object, _Out_ PVOID *ImageInfo,
                                   _Out_ PDWORD cbImageInfo);
/* Replaces the XML of the WIM (<WIM> root) or of one image (<IMAGE> root),
 * given as WCHAR units as above; cbImageInfo is in bytes.  The binding sends
 * the BOM, the text and a NUL, the NUL counted (as ManagedWimgApi does); the
 * portable engine takes the text with or without the BOM and the NUL. */
BOOL WINAPI WIMSetImageInformation(_In_ HANDLE Object, _In_ PVOID ImageInfo,
                                   _In_ DWORD cbImageInfo);
DWORD WINAPI WIMGetMessageCallbackCount(_In_opt_ HANDLE Wim);
DWORD WINAPI WIMRegisterMessageCallback(_In_opt_ HANDLE Wim, _In_ FARPROC MessageProc,
                                        _In_opt_ PVOID UserData);
BOOL WINAPI WIMUnregisterMessageCallback(_In_opt_ HANDLE Wim, _In_opt_ FARPROC MessageProc);
BOOL WINAPI WIMExtractImagePath(_In_ HANDLE Image, _In_ PCWSTR ImagePath,
                                _In_ PCWSTR DestinationPath, _In_ DWORD ExtractFlags);

#ifndef _WIN32
/* The portable engine's allocator for what WIMGetImageInformation returns. */
void *WINAPI LocalFree(void *Memory);

/* ------------------------------------------------------------------------
 * Portable engine only (no wimgapi.dll has it): the sentence that goes with
 * the calling thread's last error (what wimlib said, and about which file),
 * or NULL when the last call succeeded.  Valid until the thread's next call.
 * ------------------------------------------------------------------------ */
PCWSTR WINAPI _WIMPortableGetLastErrorMessage(void);
#endif

/* ------------------------------------------------------------------------
 * Layout checks (Windows: the ADK layout; x64 and ARM64 alike, x86 the same
 * here since WIM_INFO holds no pointer)
 * ------------------------------------------------------------------------ */
#ifdef _WIN32
#  if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#    define WIMGAPI_LAYOUT_CHECK(cond, msg) _Static_assert(cond, msg)
#  elif defined(__cplusplus) && __cplusplus >= 201103L
#    define WIMGAPI_LAYOUT_CHECK(cond, msg) static_assert(cond, msg)
#  else
#    define WIMGAPI_LAYOUT_CHECK(cond, msg)
#  endif
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, Guid) == 520, "offset of WIM_INFO.Guid");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, ImageCount) == 536, "offset of WIM_INFO.ImageCount");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, CompressionType) == 540,
                     "offset of WIM_INFO.CompressionType");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, PartNumber) == 544, "offset of WIM_INFO.PartNumber");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, TotalParts) == 546, "offset of WIM_INFO.TotalParts");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, BootIndex) == 548, "offset of WIM_INFO.BootIndex");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, WimAttributes) == 552,
                     "offset of WIM_INFO.WimAttributes");
WIMGAPI_LAYOUT_CHECK(offsetof(WIM_INFO, WimFlagsAndAttr) == 556,
                     "offset of WIM_INFO.WimFlagsAndAttr");
WIMGAPI_LAYOUT_CHECK(sizeof(WIM_INFO) == 560, "size of WIM_INFO");
WIMGAPI_LAYOUT_CHECK(sizeof(WIN32_FIND_DATAW) == 592, "size of WIN32_FIND_DATAW");
#  undef WIMGAPI_LAYOUT_CHECK
#endif

#ifdef __cplusplus
}
#endif

#endif /* DISM_PROJECT_WIMGAPI_H */
