/*
 * The C examples of the seed DISM API pages (DismOpenSession,
 * DismCloseSession, DismMountImage), written as a DISM program would write
 * them and compiled against the project's dismapi.h.  Only the Windows paths
 * of the examples are replaced, by arguments: image file, mount directory.
 *
 * Prints one line per step; exit status 0 when every step behaved as the
 * DISM documentation says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "dismapi.h"

static wchar_t *widen(const char *s)
{
    size_t n = mbstowcs(NULL, s, 0);
    wchar_t *w = calloc(n + 1, sizeof *w);
    mbstowcs(w, s, n + 1);
    return w;
}

static void print_last_error(void)
{
    DismString *message = NULL;
    if (DismGetLastErrorMessage(&message) == S_OK && message) {
        printf("  last error: %ls\n", message->Value);
        DismDelete(message);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s IMAGE.wim MOUNTDIR\n", argv[0]);
        return 2;
    }
    wchar_t *image = widen(argv[1]), *mount = widen(argv[2]);
    int failures = 0;

    HRESULT hr = DismInitialize(DismLogErrorsWarningsInfo, NULL, NULL);
    printf("DismInitialize: 0x%08X\n", (unsigned)hr);
    failures += hr != S_OK;

    /* DismMountImage example (read-write, by index). */
    hr = DismMountImage(image, mount, 1, NULL, DismImageIndex, DISM_MOUNT_READWRITE, NULL, NULL,
                        NULL);
    printf("DismMountImage: 0x%08X\n", (unsigned)hr);
    failures += hr != S_OK;

    /* DismOpenSession example, on the mounted image. */
    DismSession Session = DISM_SESSION_DEFAULT;
    hr = DismOpenSession(mount, NULL, NULL, &Session);
    printf("DismOpenSession(mount): 0x%08X session=%u\n", (unsigned)hr, (unsigned)Session);
    failures += hr != S_OK || Session == DISM_SESSION_DEFAULT;

    DismMountedImageInfo *mounted = NULL;
    UINT count = 0;
    hr = DismGetMountedImageInfo(&mounted, &count);
    for (UINT i = 0; SUCCEEDED(hr) && i < count; i++)
        printf("  mounted: %ls index %u mode %d status %d\n", mounted[i].MountPath,
               mounted[i].ImageIndex, (int)mounted[i].MountMode, (int)mounted[i].MountStatus);
    failures += hr != S_OK || count < 1;
    if (mounted)
        DismDelete(mounted);

    hr = DismCloseSession(Session);
    printf("DismCloseSession: 0x%08X\n", (unsigned)hr);
    failures += hr != S_OK;

    /* DismCloseSession example, on the online image: not on this platform. */
    DismSession online;
    hr = DismOpenSession(DISM_ONLINE_IMAGE, NULL, NULL, &online);
    printf("DismOpenSession(DISM_ONLINE_IMAGE): 0x%08X\n", (unsigned)hr);
    print_last_error();
    failures += hr != HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED);

    hr = DismUnmountImage(mount, DISM_DISCARD_IMAGE, NULL, NULL, NULL);
    printf("DismUnmountImage: 0x%08X\n", (unsigned)hr);
    failures += hr != S_OK;

    hr = DismShutdown();
    printf("DismShutdown: 0x%08X\n", (unsigned)hr);
    failures += hr != S_OK;

    free(image);
    free(mount);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
