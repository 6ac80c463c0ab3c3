/* The YAML config (config*.c): isf_config_load on a file holding the input (the loader reads a
 * FILE*; the file lives on tmpfs when /dev/shm exists). */
#include "config.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, sizeof(path), "%s/isf-fuzz-config.%ld.yaml", dir, (long)getpid());
    /* ~ and the data folder resolve without touching the real home. */
    setenv("HOME", "/nonexistent-fuzz-home", 1);
    setenv("ISYNCSF_HOME", "/nonexistent-fuzz-home/isyncsf", 1);
    unsetenv("ISYNCSF_CONFIG");
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("XDG_DATA_HOME");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    struct isf_config *cfg = NULL;
    struct isf_error err;
    isf_err_init(&err);
    int rc = isf_config_load(path, &cfg, &err);
    if (rc == ISF_OK) {
        if (!cfg)
            __builtin_trap();
        isf_config_free(cfg);
    } else if (cfg || !err.message[0]) {
        __builtin_trap(); /* a failure returns nothing and says why */
    }
    unlink(path);
    return 0;
}
