/*
 * log.c - the DISM log file.  Lines look like DISM's own:
 *   2026-11-21 10:00:00, Info  DISM   PID=123 TID=456 message
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static log_level log_threshold = LOG_ERROR;

int engine_log_open(DismLogLevel level, const char *path)
{
    /* O_APPEND so several processes may share one log, as DISM's tools do. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!f) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return err;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = f;
    log_threshold = (log_level)level;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void engine_log_close(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_file)
        fclose(log_file);
    log_file = NULL;
    pthread_mutex_unlock(&log_lock);
}

static const char *level_name(log_level level)
{
    static const char *names[] = {"Error", "Warning", "Info", "Debug"};
    return names[level];
}

void engine_log(log_level level, const char *fmt, ...)
{
    pthread_mutex_lock(&log_lock);
    if (log_file && level <= log_threshold) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
        fprintf(log_file, "%s, %-7s DISM   PID=%d TID=%ld ", stamp, level_name(level),
                (int)getpid(), (long)syscall(SYS_gettid));
        va_list ap;
        va_start(ap, fmt);
        vfprintf(log_file, fmt, ap);
        va_end(ap);
        fputc('\n', log_file);
    }
    pthread_mutex_unlock(&log_lock);
}
