/* libcurl, loaded on first use (see curl_api.h for why). */
#include "curl_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#ifndef ISF_LIBCURL_SONAME
#define ISF_LIBCURL_SONAME "libcurl.so.4"
#endif

static struct isf_curl_api api;
static const char *load_error = "libcurl not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define RESOLVE(field, symbol)                                                                     \
    do {                                                                                           \
        *(void **)&api.field = dlsym(lib, symbol);                                                 \
        if (!api.field) {                                                                          \
            load_error = "libcurl lacks " symbol;                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static void load(void)
{
    /* Kept loaded for the life of the process: libcurl must not be unloaded after
     * curl_global_init. */
    void *lib = dlopen(ISF_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        load_error = dlerror();
        return;
    }
    RESOLVE(global_init, "curl_global_init");
    RESOLVE(easy_init, "curl_easy_init");
    RESOLVE(easy_cleanup, "curl_easy_cleanup");
    RESOLVE(easy_reset, "curl_easy_reset");
    RESOLVE(easy_setopt, "curl_easy_setopt");
    RESOLVE(easy_perform, "curl_easy_perform");
    RESOLVE(easy_getinfo, "curl_easy_getinfo");
    RESOLVE(easy_strerror, "curl_easy_strerror");
    RESOLVE(slist_append, "curl_slist_append");
    RESOLVE(slist_free_all, "curl_slist_free_all");
    RESOLVE(version_info, "curl_version_info");
    RESOLVE(multi_init, "curl_multi_init");
    RESOLVE(multi_cleanup, "curl_multi_cleanup");
    RESOLVE(multi_setopt, "curl_multi_setopt");
    RESOLVE(multi_add_handle, "curl_multi_add_handle");
    RESOLVE(multi_remove_handle, "curl_multi_remove_handle");
    RESOLVE(multi_perform, "curl_multi_perform");
    RESOLVE(multi_poll, "curl_multi_poll");
    RESOLVE(multi_info_read, "curl_multi_info_read");
    RESOLVE(multi_strerror, "curl_multi_strerror");
    if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        load_error = "curl_global_init failed";
        return;
    }
    load_error = NULL;
}

const struct isf_curl_api *isf_curl_api(const char **why)
{
    pthread_once(&once, load);
    if (load_error) {
        if (why)
            *why = load_error;
        return NULL;
    }
    return &api;
}
