/*
 * hostile_hives.c - the engine's read side against damaged registry hives.
 *
 * usage: hostile_hives WORKDIR NAME=SEED_HIVE...
 *
 * For each seed hive (NAME is the file name it takes in System32\config:
 * SOFTWARE, SYSTEM or DRIVERS) the program writes many damaged copies into
 * an otherwise empty offline image and calls every read function on it:
 * truncations, random byte flips, and records edited to claim huge values,
 * huge subkey counts and subkey lists that point back at themselves.
 * A call may succeed or fail; a failure must come with a message.  A crash,
 * a hang (the caller's timeout) or a sanitizer report fails the test.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wchar.h>

#include "dismapi.h"

static int failures, cases, failed_calls, ok_calls;

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return data;
}

static int write_all(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = len ? fwrite(data, 1, len, f) : 0;
    return fclose(f) == 0 && put == len ? 0 : -1;
}

static void expect_message(HRESULT hr, const char *what)
{
    if (SUCCEEDED(hr)) {
        ok_calls++;
        return;
    }
    failed_calls++;
    DismString *m = NULL;
    if (DismGetLastErrorMessage(&m) != S_OK || !m || !m->Value || !*m->Value) {
        printf("FAIL case %d: %s failed with 0x%08X and no message\n", cases, what, (unsigned)hr);
        failures++;
    }
    if (m)
        DismDelete(m);
}

#define FREE_IF_OK(hr, p) \
    do {                  \
        if (SUCCEEDED(hr) && (p)) DismDelete(p); \
    } while (0)

/* Every read function of the servicing side, on one session. */
static void call_everything(DismSession s)
{
    HRESULT hr;
    UINT n;
    DismPackage *packages = NULL;
    hr = DismGetPackages(s, &packages, &n);
    expect_message(hr, "DismGetPackages");
    if (SUCCEEDED(hr) && n > 0) {
        DismPackageInfoEx *info = NULL;
        HRESULT h2 = DismGetPackageInfoEx(s, packages[0].PackageName, DismPackageName, &info);
        expect_message(h2, "DismGetPackageInfoEx");
        FREE_IF_OK(h2, info);
    }
    FREE_IF_OK(hr, packages);

    DismFeature *features = NULL;
    hr = DismGetFeatures(s, NULL, DismPackageNone, &features, &n);
    expect_message(hr, "DismGetFeatures");
    if (SUCCEEDED(hr) && n > 0) {
        DismFeatureInfo *info = NULL;
        HRESULT h2 = DismGetFeatureInfo(s, features[0].FeatureName, NULL, DismPackageNone, &info);
        expect_message(h2, "DismGetFeatureInfo");
        FREE_IF_OK(h2, info);
        DismFeature *parents = NULL;
        h2 = DismGetFeatureParent(s, features[0].FeatureName, NULL, DismPackageNone, &parents, &n);
        expect_message(h2, "DismGetFeatureParent");
        FREE_IF_OK(h2, parents);
    }
    FREE_IF_OK(hr, features);

    DismDriverPackage *drivers = NULL;
    hr = DismGetDrivers(s, TRUE, &drivers, &n);
    expect_message(hr, "DismGetDrivers");
    if (SUCCEEDED(hr) && n > 0 && drivers[0].PublishedName) {
        DismDriver *devs = NULL;
        DismDriverPackage *pkg = NULL;
        HRESULT h2 = DismGetDriverInfo(s, drivers[0].PublishedName, &devs, &n, &pkg);
        expect_message(h2, "DismGetDriverInfo");
        FREE_IF_OK(h2, devs);
        FREE_IF_OK(h2, pkg);
    }
    FREE_IF_OK(hr, drivers);

    DismCapability *caps = NULL;
    hr = DismGetCapabilities(s, &caps, &n);
    expect_message(hr, "DismGetCapabilities");
    FREE_IF_OK(hr, caps);

    DismAppxPackage *apps = NULL;
    hr = _DismGetProvisionedAppxPackages(s, &apps, &n);
    expect_message(hr, "_DismGetProvisionedAppxPackages");
    FREE_IF_OK(hr, apps);

    DismString *edition = NULL;
    hr = _DismGetCurrentEdition(s, &edition);
    expect_message(hr, "_DismGetCurrentEdition");
    FREE_IF_OK(hr, edition);

    DWORD state;
    expect_message(DismGetReservedStorageState(s, &state), "DismGetReservedStorageState");
    DismImageHealthState health;
    expect_message(DismCheckImageHealth(s, FALSE, NULL, NULL, NULL, &health),
                   "DismCheckImageHealth");
    expect_message(DismEnableFeature(s, L"NetFx3", NULL, DismPackageNone, FALSE, NULL, 0, FALSE,
                                     NULL, NULL, NULL),
                   "DismEnableFeature");
}

static void run_case(const char *root, const char *config, const char *name,
                     const unsigned char *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", config, name);
    if (write_all(path, data, len) != 0) {
        printf("FAIL: cannot write %s\n", path);
        failures++;
        return;
    }
    cases++;
    wchar_t wroot[4096];
    mbstowcs(wroot, root, 4096);
    DismSession s = DISM_SESSION_DEFAULT;
    HRESULT hr = DismOpenSession(wroot, NULL, NULL, &s);
    expect_message(hr, "DismOpenSession");
    if (SUCCEEDED(hr)) {
        call_everything(s);
        DismCloseSession(s);
    }
    remove(path);
}

/* Offsets of records with a given two-byte signature inside the hbins. */
static size_t find_records(const unsigned char *data, size_t len, const char *sig,
                           size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 4096; i + 24 < len && n < max; i++)
        if (data[i] == (unsigned char)sig[0] && data[i + 1] == (unsigned char)sig[1])
            out[n++] = i;
    return n;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void damage_seed(const char *root, const char *config, const char *name,
                        const unsigned char *seed, size_t len, int rounds)
{
    unsigned char *copy = malloc(len + 1);
    size_t cuts[] = {0, 1, 31, 512, 4095, 4096, 4097, 8192, len / 3, len / 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        if (cuts[i] < len)
            run_case(root, config, name, seed, cuts[i]);

    for (int r = 0; r < rounds; r++) { /* random flips */
        memcpy(copy, seed, len);
        int flips = 1 + (int)(rnd() % 64);
        for (int k = 0; k < flips; k++) {
            /* Mostly in the first 64 KiB, where the keys the engine reads start. */
            size_t span = (r % 3 == 0 || len < 65536) ? len : 65536;
            copy[rnd() % span] = (unsigned char)rnd();
        }
        run_case(root, config, name, copy, len);
    }

    static size_t recs[100000];
    size_t nvk = find_records(seed, len, "vk", recs, 100000);
    for (int r = 0; nvk && r < rounds; r++) { /* values claiming huge data */
        memcpy(copy, seed, len);
        for (int k = 0; k < 8; k++) {
            size_t at = recs[rnd() % nvk];
            put32(copy + at + 4, r % 2 ? 0x7FFFFFF0u : (uint32_t)rnd());
            put32(copy + at + 8, (uint32_t)rnd() % (uint32_t)(len * 2));
        }
        run_case(root, config, name, copy, len);
    }
    size_t nnk = find_records(seed, len, "nk", recs, 100000);
    for (int r = 0; nnk && r < rounds; r++) { /* huge counts and self-referencing lists */
        memcpy(copy, seed, len);
        for (int k = 0; k < 8; k++) {
            size_t at = recs[rnd() % nnk];
            uint32_t self = (uint32_t)(at - 4096 - 4);
            put32(copy + at + 20, r % 2 ? 0x7FFFFFFFu : (uint32_t)rnd()); /* subkey count */
            put32(copy + at + 28, r % 3 ? self : (uint32_t)rnd());       /* subkey list */
            put32(copy + at + 16, self);                                  /* parent */
        }
        run_case(root, config, name, copy, len);
    }
    free(copy);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s WORKDIR NAME=HIVE...\n", argv[0]);
        return 2;
    }
    if (DismInitialize(DismLogErrors, NULL, NULL) != S_OK)
        return 2;
    char root[4096], config[4096];
    snprintf(root, sizeof root, "%s/image", argv[1]);
    snprintf(config, sizeof config, "%s/Windows/System32/config", root);
    char windows[4096], sys32[4096];
    snprintf(windows, sizeof windows, "%s/Windows", root);
    snprintf(sys32, sizeof sys32, "%s/Windows/System32", root);
    mkdir(root, 0700);
    mkdir(windows, 0700);
    mkdir(sys32, 0700);
    mkdir(config, 0700);
    int rounds = getenv("HOSTILE_ROUNDS") ? atoi(getenv("HOSTILE_ROUNDS")) : 40;
    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return 2;
        *eq = '\0';
        size_t len;
        unsigned char *seed = read_all(eq + 1, &len);
        if (!seed || len < 4096) {
            fprintf(stderr, "cannot read seed %s\n", eq + 1);
            return 2;
        }
        damage_seed(root, config, argv[i], seed, len, rounds);
        free(seed);
    }
    DismShutdown();
    printf("%d cases, %d calls succeeded, %d failed with a message, %d failure(s)\n", cases,
           ok_calls, failed_calls, failures);
    return failures ? 1 : 0;
}
