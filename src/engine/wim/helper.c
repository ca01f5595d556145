/*
 * helper.c - running the programs the engine needs: dism-mountd (found
 * beside the engine, or at $DISM_MOUNT_HELPER) and fusermount.  Always an
 * argument vector, never a shell; stdin and stdout are /dev/null, stderr
 * is collected for error messages.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "wim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

HRESULT find_helper(char *out, size_t size)
{
    const char *env = getenv("DISM_MOUNT_HELPER");
    if (env && *env) {
        snprintf(out, size, "%s", env);
    } else {
        /* Installed beside the library that holds this engine. */
        Dl_info dl;
        if (!dladdr((void *)find_helper, &dl) || !dl.dli_fname)
            return engine_fail(E_FAIL, "Cannot locate the engine library to find dism-mountd; "
                               "set DISM_MOUNT_HELPER.");
        char lib[ENGINE_PATH_MAX];
        snprintf(lib, sizeof lib, "%s", dl.dli_fname);
        snprintf(out, size, "%s/_libexec/dism-mountd", dirname(lib));
    }
    if (access(out, X_OK) != 0)
        return engine_fail(HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND),
                           "The mount server helper '%s' is missing or not executable (%s); "
                           "reinstall the package or set DISM_MOUNT_HELPER.", out, strerror(errno));
    return S_OK;
}

/* Reads a pipe to its end into `out` (at most size - 1 bytes kept). */
static size_t drain_pipe(int fd, char *out, size_t size)
{
    size_t used = 0;
    for (;;) {
        char buf[512];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n < size - 1 - used ? (size_t)n : size - 1 - used;
        memcpy(out + used, buf, take);
        used += take;
    }
    out[used] = '\0';
    return used;
}

/* The last "<pid>\n" line dism-mountd's children wrote (see mountd.c). */
static pid_t last_reported_pid(int fd)
{
    char text[256];
    fcntl(fd, F_SETFL, O_NONBLOCK); /* written before the helper exited */
    size_t n = drain_pipe(fd, text, sizeof text);
    while (n && text[n - 1] == '\n')
        text[--n] = '\0';
    const char *last = strrchr(text, '\n');
    return (pid_t)atoi(last ? last + 1 : text);
}

static void one_line(char *text)
{
    size_t used = strlen(text);
    while (used && (text[used - 1] == '\n' || text[used - 1] == ' '))
        text[--used] = '\0';
    for (char *p = text; *p; p++)
        if (*p == '\n')
            *p = ' ';
}

int run_helper(char *const argv[], char *err, size_t err_size, pid_t *reported_pid)
{
    int errfds[2], pidfds[2] = {-1, -1};
    err[0] = '\0';
    if (pipe2(errfds, O_CLOEXEC) != 0)
        return -1;
    if (reported_pid && pipe2(pidfds, O_CLOEXEC) != 0) {
        close(errfds[0]);
        close(errfds[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, errfds[1], 2);
    if (reported_pid)
        posix_spawn_file_actions_adddup2(&fa, pidfds[1], 3);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(errfds[1]);
    if (reported_pid)
        close(pidfds[1]);
    if (rc != 0) {
        close(errfds[0]);
        if (reported_pid)
            close(pidfds[0]);
        snprintf(err, err_size, "cannot start %s: %s", argv[0], strerror(rc));
        return -1;
    }
    drain_pipe(errfds[0], err, err_size);
    one_line(err);
    close(errfds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (reported_pid) {
        *reported_pid = last_reported_pid(pidfds[0]);
        close(pidfds[0]);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
