/*
 * mappings.c - the one place where raw image data becomes DISM values.
 *
 * Each mapping says where it comes from:
 *   [D] documented by Microsoft;
 *   [V] verified here against real Windows data (../shared/testdata/real);
 *   [C] corroborated by several independent tools or write-ups;
 *   [I] inferred: the most plausible reading, not confirmed against DISM's
 *       own output.  These are the ones to check first when a real image
 *       disagrees with DISM.exe.
 */
#include "offline.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * Package and feature state: the registry's CurrentState (and a feature's
 * value under the package's Updates key) holds a CBS state code.
 *   codes [C]: Microsoft's "CBS Servicing States Chart" (TechNet, 2015) and
 *              CBS.log; the same numbers in every source found;
 *   code -> DismPackageFeatureState [I], by meaning of the names.
 */
DismPackageFeatureState map_cbs_state(uint32_t cbs_state)
{
    switch (cbs_state) {
    case 0x00: return DismStateNotPresent;          /* Absent */
    case 0x05: return DismStateUninstallPending;    /* Uninstall Pending */
    case 0x10: return DismStateNotPresent;          /* Resolving (transient) */
    case 0x20: return DismStateRemoved;             /* Resolved: metadata only, payload removed */
    case 0x30: return DismStateStaged;              /* Staging (transient) */
    case 0x40: return DismStateStaged;              /* Staged */
    case 0x50: return DismStateSuperseded;          /* Superseded */
    case 0x60: return DismStateInstallPending;      /* Install Pending */
    case 0x65: return DismStatePartiallyInstalled;  /* Partially Installed */
    case 0x70: return DismStateInstalled;           /* Installed */
    case 0x80: return DismStateInstalled;           /* Permanent: installed, cannot be removed */
    default: return DismStateNotPresent;            /* unknown or negative "invalid" states */
    }
}

/* Notifications\OptionalFeatures\<name> Selection [C]: 1 selected (enabled),
 * 0 not selected.  Used only for features no package's Updates key names [I]. */
DismPackageFeatureState map_feature_selection(uint32_t selection)
{
    return selection == 1 ? DismStateInstalled : DismStateStaged;
}

/* <package releaseType="..."> in the .mum [C real manifests]; the strings
 * are DISM's enum names with spaces, as DISM.exe prints them [I]. */
DismReleaseType map_release_type(const char *release_type)
{
    static const struct {
        const char *text;
        DismReleaseType value;
    } table[] = {
        {"Critical Update", DismReleaseTypeCriticalUpdate},
        {"Driver", DismReleaseTypeDriver},
        {"Feature Pack", DismReleaseTypeFeaturePack},
        {"Hotfix", DismReleaseTypeHotfix},
        {"Security Update", DismReleaseTypeSecurityUpdate},
        {"Software Update", DismReleaseTypeSoftwareUpdate},
        {"Update", DismReleaseTypeUpdate},
        {"Update Rollup", DismReleaseTypeUpdateRollup},
        {"Language Pack", DismReleaseTypeLanguagePack},
        {"Foundation", DismReleaseTypeFoundation},
        {"Service Pack", DismReleaseTypeServicePack},
        {"Product", DismReleaseTypeProduct},
        {"Local Pack", DismReleaseTypeLocalPack},
        {"On Demand Pack", DismReleaseTypeOnDemandPack},
        {"OnDemand Pack", DismReleaseTypeOnDemandPack},
    };
    if (!release_type)
        return DismReleaseTypeOther;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        /* Also accept the unspaced spelling ("SecurityUpdate"). */
        char compact[32];
        size_t k = 0;
        for (const char *c = table[i].text; *c && k + 1 < sizeof compact; c++)
            if (*c != ' ')
                compact[k++] = *c;
        compact[k] = '\0';
        if (!strcasecmp(release_type, table[i].text) || !strcasecmp(release_type, compact))
            return table[i].value;
    }
    return DismReleaseTypeOther;
}

/* restart="required|possible|no" on <package> and <update> [C real
 * manifests].  An absent attribute is read as "possible", the answer
 * DISM.exe gives for most packages [I]. */
DismRestartType map_restart(const char *restart)
{
    if (!restart)
        return DismRestartPossible;
    if (!strcasecmp(restart, "required"))
        return DismRestartRequired;
    if (!strcasecmp(restart, "no") || !strcasecmp(restart, "none"))
        return DismRestartNo;
    return DismRestartPossible;
}

/* Manifest processorArchitecture and INF decorations [D INF docs]. */
UINT map_architecture_name(const char *name)
{
    if (!name)
        return PROCESSOR_ARCHITECTURE_UNKNOWN;
    if (!strcasecmp(name, "x86") || !strcasecmp(name, "wow64"))
        return PROCESSOR_ARCHITECTURE_INTEL;
    if (!strcasecmp(name, "amd64") || !strcasecmp(name, "x64"))
        return PROCESSOR_ARCHITECTURE_AMD64;
    if (!strcasecmp(name, "arm64"))
        return PROCESSOR_ARCHITECTURE_ARM64;
    if (!strcasecmp(name, "arm"))
        return PROCESSOR_ARCHITECTURE_ARM;
    if (!strcasecmp(name, "ia64"))
        return PROCESSOR_ARCHITECTURE_IA64;
    if (!strcasecmp(name, "neutral") || !strcasecmp(name, "msil"))
        return PROCESSOR_ARCHITECTURE_NEUTRAL;
    return PROCESSOR_ARCHITECTURE_UNKNOWN;
}

/* Package full names use x86/x64/arm/arm64/neutral [D appx naming]. */
UINT map_appx_architecture(const char *name) { return map_architecture_name(name); }

/* SignerName is written when the store verified the catalog's signature
 * [C]; an empty one means nothing is known [I]. */
DismDriverSignature map_driver_signature(const char *signer_name)
{
    return signer_name && *signer_name ? DismDriverSignatureSigned : DismDriverSignatureUnknown;
}

/* SERVICE_BOOT_START = 0 [D]; a driver whose service starts with the boot
 * loader is what DISM calls boot-critical [I]. */
bool map_boot_critical(uint32_t service_start) { return service_start == 0; }

/* Third-party packages are published as oem<N>.inf [C]; in-box ones keep
 * their own INF name. */
bool map_inbox_driver(const char *published_name)
{
    return !(published_name && strncasecmp(published_name, "oem", 3) == 0);
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

/*
 * DriverPackages\<package>\Version (REG_BINARY, 48 bytes) [V on the real
 * Windows 10 and 8.1 SYSTEM hives: class GUIDs, dates and versions decode to
 * the values of the INFs they describe, e.g. 1394.inf -> class 1394,
 * 06/21/2006, 10.0.18362.1]:
 *   0..1   flags (00 FF or FF FF)            [I meaning unknown]
 *   2..3   architecture, PROCESSOR_ARCHITECTURE_*
 *   8..23  class GUID, Windows binary layout
 *   24..31 driver date, FILETIME
 *   32..39 driver version, 16 bits each: major, minor, build, revision
 */
void map_driver_version_blob(const uint8_t *data, size_t len, driver_version_blob *out)
{
    memset(out, 0, sizeof *out);
    if (!data || len < 40)
        return;
    out->valid = true;
    out->architecture = le16(data + 2);
    const uint8_t *g = data + 8;
    snprintf(out->class_guid, sizeof out->class_guid,
             "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}", le32(g), le16(g + 4),
             le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
    out->date_filetime = le64(data + 24);
    uint64_t v = le64(data + 32);
    out->version[0] = (UINT)(v >> 48 & 0xFFFF);
    out->version[1] = (UINT)(v >> 32 & 0xFFFF);
    out->version[2] = (UINT)(v >> 16 & 0xFFFF);
    out->version[3] = (UINT)(v & 0xFFFF);
}

/* creationTimeStamp / lastUpdateTimeStamp on <assembly> [C real manifests]. */
SYSTEMTIME map_manifest_time(const char *text)
{
    SYSTEMTIME none;
    memset(&none, 0, sizeof none);
    if (!text)
        return none;
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, s = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) < 3 || y < 1601 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return none;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return none;
    /* Seconds between 1601-01-01 and 1970-01-01, in 100 ns units. */
    uint64_t ft = ((uint64_t)t + 11644473600ULL) * 10000000ULL;
    return systemtime_from_filetime(ft);
}
