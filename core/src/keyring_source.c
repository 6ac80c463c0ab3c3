/* The master key from an environment variable, or from a command run directly (no shell) whose
 * stdout is the key. The key file source is keyring_file.c. */
#include "keyring_internal.h"

#include "exec.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define COMMAND_OUTPUT_MAX 4096
#define COMMAND_TIMEOUT_MS_DEFAULT 10000L

static long command_timeout_ms = COMMAND_TIMEOUT_MS_DEFAULT;

void isf_keyring_set_command_timeout_ms(long ms)
{
    command_timeout_ms = ms > 0 ? ms : COMMAND_TIMEOUT_MS_DEFAULT;
}

/* ---------------------------------------------------------------------------------------------
 * Environment source */

int isf_key_from_env(const char *var, unsigned char key[ISF_KEY_LEN], struct isf_error *err)
{
    if (!var || !*var)
        return isf_err_set(err, ISF_E_CONFIG,
                           "key: {env: VAR} names no variable; give the name of the variable "
                           "that holds the master key");
    const char *v = getenv(var);
    if (!v || !*v)
        return isf_err_set(err, ISF_E_STORE,
                           "master key variable %s is not set; set it to the master key (the "
                           "base64 of 32 bytes; `openssl rand -base64 32` makes a new one)",
                           var);
    if (isf_key_parse_text(v, strlen(v), key) != 0)
        return isf_err_set(err, ISF_E_STORE,
                           "master key variable %s does not hold a key (the base64 of 32 bytes); "
                           "check its value",
                           var);
    return ISF_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Command source: run directly (no shell), stdout is the key. */

/* Word how the command failed: it names the command, never what it printed (maybe a key). */
static int command_failure(const char *cmd, const struct isf_exec_result *res,
                           struct isf_error *err)
{
    long ms = command_timeout_ms;
    switch (res->outcome) {
    case ISF_EXEC_NOT_STARTED:
        return isf_err_set(err, ISF_E_STORE, "master key command %s could not be started: %s", cmd,
                           strerror(res->sys_errno));
    case ISF_EXEC_TIMEOUT:
        return isf_err_set(err, ISF_E_STORE,
                           "master key command %s did not finish within %ld %s and was killed; "
                           "make sure it runs without waiting for input",
                           cmd, ms % 1000 ? ms : ms / 1000, ms % 1000 ? "ms" : "s");
    case ISF_EXEC_TOO_BIG:
        return isf_err_set(err, ISF_E_STORE,
                           "master key command %s printed more than %d bytes; it must print "
                           "only the base64 key",
                           cmd, COMMAND_OUTPUT_MAX);
    case ISF_EXEC_READ_ERROR:
        return isf_err_set(err, ISF_E_STORE, "cannot read the output of master key command %s",
                           cmd);
    case ISF_EXEC_SIGNALED:
        return isf_err_set(err, ISF_E_STORE, "master key command %s was killed by signal %d", cmd,
                           res->signal);
    case ISF_EXEC_EXITED:
    default:
        break;
    }
    int code = res->exit_code;
    /* 127 is how a spawn that could not exec reports itself where posix_spawnp cannot (the
     * fork-based fallback some libcs and valgrind use). */
    return isf_err_set(err, ISF_E_STORE,
                       "master key command %s failed (exit status %d%s); run it by hand to see why",
                       cmd, code, code == 127 ? ": not found or not executable?" : "");
}

int isf_key_from_command(char *const argv[], unsigned char key[ISF_KEY_LEN], struct isf_error *err)
{
    char out[COMMAND_OUTPUT_MAX + 1];
    size_t got = 0;
    struct isf_exec_result res;
    /* stderr stays the user's: what the command says there is for them. */
    const struct isf_exec_limits lim = {.timeout_ms = command_timeout_ms, .envp = NULL};
    if (!argv || !argv[0] || !*argv[0])
        return isf_err_set(err, ISF_E_CONFIG,
                           "key: {command: [...]} is empty; give the command and its arguments");
    int rc = isf_exec_capture(argv, &lim, out, COMMAND_OUTPUT_MAX, &got, &res, err);
    if (rc != ISF_OK)
        return rc;
    if (res.outcome != ISF_EXEC_EXITED || res.exit_code != 0)
        rc = command_failure(argv[0], &res, err);
    else if (isf_key_parse_text(out, got, key) != 0)
        rc = isf_err_set(err, ISF_E_STORE,
                         "master key command %s did not print a key (the base64 of 32 bytes)",
                         argv[0]);
    isf_wipe(out, sizeof(out));
    return rc;
}
