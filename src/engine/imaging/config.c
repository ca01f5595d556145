/* placeholder */
#include "imaging.h"
struct capture_config { int unused; };
struct capture_config *config_load(const char *path, const char *function) { (void)path; (void)function; return NULL; }
void config_free(struct capture_config *c) { (void)c; }
bool config_excludes(const struct capture_config *c, const char *rel) { (void)c; (void)rel; return false; }
BOOL WINAPI _WIMPortableSetCaptureConfig(HANDLE Wim, PCWSTR ConfigFile) { (void)Wim; (void)ConfigFile; return wim_fail(ERROR_NOT_SUPPORTED, "not yet"); }
