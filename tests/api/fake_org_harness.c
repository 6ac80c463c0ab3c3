/* Starting and driving the fake Salesforce org from C tests. */
#include "fake_org_harness.h"

#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int run(const char *const argv[])
{
    pid_t pid;
    if (posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int fake_org_start(struct fake_org *f, const char *const *extra_args, const char *extra_config)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/isyncsf-apitest.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char pki[300], port_file[300], cert[320], key[320], cfg[320];
    snprintf(pki, sizeof(pki), "%s/pki", f->dir);
    snprintf(port_file, sizeof(port_file), "%s/port", f->dir);
    snprintf(f->home, sizeof(f->home), "%s/home", f->dir);
    snprintf(f->ca_file, sizeof(f->ca_file), "%s/ca.pem", pki);
    snprintf(cert, sizeof(cert), "%s/server.pem", pki);
    snprintf(key, sizeof(key), "%s/server.key", pki);
    const char *mk[] = {"/bin/bash", ISF_TEST_SOURCE_DIR "/fake-org/make-test-pki.sh", pki, NULL};
    if (run(mk) != 0)
        return -1;
    const char *argv[40] = {ISF_TEST_BIN_DIR "/fake-org",
                            "--cert",
                            cert,
                            "--key",
                            key,
                            "--port",
                            "0",
                            "--port-file",
                            port_file,
                            "--client",
                            "cid:secret"};
    int n = 11;
    for (const char *const *a = extra_args; a && *a && n < 38; a++)
        argv[n++] = *a;
    argv[n] = NULL;
    if (posix_spawn(&f->pid, argv[0], NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    long port = 0;
    for (int i = 0; i < 200 && port == 0; i++) {
        FILE *pf = fopen(port_file, "r");
        if (pf) {
            if (fscanf(pf, "%ld", &port) != 1)
                port = 0;
            fclose(pf);
        }
        if (!port)
            sleep_ms(20);
    }
    if (!port)
        return -1;
    snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%ld", port);
    mkdir(f->home, 0700);
    snprintf(cfg, sizeof(cfg), "%s/config.yaml", f->home);
    FILE *c = fopen(cfg, "w");
    if (!c)
        return -1;
    fprintf(c, "http: {ca_file: %s, retries: 0}\n%s", f->ca_file, extra_config ? extra_config : "");
    fclose(c);
    setenv("ISYNCSF_HOME", f->home, 1);
    unsetenv("ISYNCSF_CONFIG");
    return 0;
}

void fake_org_stop(struct fake_org *f)
{
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        waitpid(f->pid, NULL, 0);
        f->pid = 0;
    }
    if (f->dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", f->dir);
        f->dir[0] = '\0';
    }
}

struct buf {
    char *data;
    size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    char *grown = realloc(b->data, b->len + size * n + 1);
    if (!grown)
        return 0;
    b->data = grown;
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

long fake_org_ctl(const struct fake_org *f, const char *path, const char *body, char **out)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", f->url, path);
    CURL *c = curl_easy_init();
    struct buf b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out)
        *out = b.data;
    else
        free(b.data);
    return status;
}

long fake_org_counter(const struct fake_org *f, const char *name)
{
    char *body = NULL;
    if (fake_org_ctl(f, "/__fake/counters", NULL, &body) != 200) {
        free(body);
        return -1;
    }
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    json_t *v = json_object_get(j, name);
    long n = json_is_integer(v) ? (long)json_integer_value(v) : -1;
    json_decref(j);
    return n;
}
