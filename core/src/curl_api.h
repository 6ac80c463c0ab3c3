/* libcurl, loaded on first use. Most isyncsf commands that run in scripts' hot paths (org token
 * with a valid token, org list, org show) never touch the network, and linking libcurl with its
 * dependency tree (krb5, ldap, ssh2, rtmp/gnutls, ...) costs ~3.5 ms per process start on its own
 * — most of the `org token` budget. So the core resolves the dozen libcurl calls it uses from
 * libcurl.so.4 (ABI-stable since 2006) the first time it needs HTTP. */
#ifndef ISF_CURL_API_H
#define ISF_CURL_API_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct isf_curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *h);
    void (*easy_reset)(CURL *h);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    curl_version_info_data *(*version_info)(CURLversion v);
    /* The multi interface, for the refresh engine's many transfers on one connection pool. */
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *m);
    CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned n, int timeout_ms,
                            int *numfds);
    CURLMsg *(*multi_info_read)(CURLM *m, int *msgs_in_queue);
    const char *(*multi_strerror)(CURLMcode code);
};

/* The loaded API, or NULL with *why set (dlerror text) when libcurl cannot be loaded. */
const struct isf_curl_api *isf_curl_api(const char **why);

#endif
