/* The daemon's schedule (see daemon_sched.h): entries in one growing array addressed by number,
 * a chained hash from name to entry, and a binary min-heap of entry numbers keyed on due time.
 * Numbers, not pointers, so growing the array never leaves a dangling reference. */
#include "daemon_sched.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

struct entry {
    char name[ISF_SCHED_NAME_MAX + 1];
    int64_t due;
    uint32_t next; /* next entry in the hash chain, or in the free list */
    uint32_t slot; /* position in the heap */
};

struct isf_sched {
    struct entry *e;
    uint32_t cap, used; /* entries allocated / ever handed out */
    uint32_t free_head; /* recycled entries */
    uint32_t *bucket;   /* hash heads; nbuckets is a power of two */
    uint32_t nbuckets;
    uint32_t *heap; /* entry numbers; heap[0] is the earliest */
    uint32_t count;
};

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

struct isf_sched *isf_sched_new(void)
{
    struct isf_sched *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->nbuckets = 256;
    s->bucket = malloc(s->nbuckets * sizeof(*s->bucket));
    if (!s->bucket) {
        free(s);
        return NULL;
    }
    memset(s->bucket, 0xff, s->nbuckets * sizeof(*s->bucket));
    s->free_head = NONE;
    return s;
}

void isf_sched_free(struct isf_sched *s)
{
    if (!s)
        return;
    free(s->e);
    free(s->bucket);
    free(s->heap);
    free(s);
}

void isf_sched_clear(struct isf_sched *s)
{
    s->used = 0;
    s->count = 0;
    s->free_head = NONE;
    memset(s->bucket, 0xff, s->nbuckets * sizeof(*s->bucket));
}

size_t isf_sched_count(const struct isf_sched *s)
{
    return s->count;
}

static uint32_t find(const struct isf_sched *s, const char *name)
{
    for (uint32_t i = s->bucket[hash_name(name) & (s->nbuckets - 1)]; i != NONE; i = s->e[i].next)
        if (strcmp(s->e[i].name, name) == 0)
            return i;
    return NONE;
}

/* ---- heap --------------------------------------------------------------------------------- */

static void heap_put(struct isf_sched *s, uint32_t slot, uint32_t idx)
{
    s->heap[slot] = idx;
    s->e[idx].slot = slot;
}

static void sift_up(struct isf_sched *s, uint32_t slot)
{
    uint32_t idx = s->heap[slot];
    while (slot > 0) {
        uint32_t parent = (slot - 1) / 2;
        if (s->e[s->heap[parent]].due <= s->e[idx].due)
            break;
        heap_put(s, slot, s->heap[parent]);
        slot = parent;
    }
    heap_put(s, slot, idx);
}

static void sift_down(struct isf_sched *s, uint32_t slot)
{
    uint32_t idx = s->heap[slot];
    for (;;) {
        uint32_t child = 2 * slot + 1;
        if (child >= s->count)
            break;
        if (child + 1 < s->count && s->e[s->heap[child + 1]].due < s->e[s->heap[child]].due)
            child++;
        if (s->e[idx].due <= s->e[s->heap[child]].due)
            break;
        heap_put(s, slot, s->heap[child]);
        slot = child;
    }
    heap_put(s, slot, idx);
}

/* The entry at `slot` changed its due time: move it up or down to where it belongs. */
static void reposition(struct isf_sched *s, uint32_t slot)
{
    if (slot > 0 && s->e[s->heap[slot]].due < s->e[s->heap[(slot - 1) / 2]].due)
        sift_up(s, slot);
    else
        sift_down(s, slot);
}

/* ---- growth ------------------------------------------------------------------------------- */

static int grow(struct isf_sched *s)
{
    uint32_t cap = s->cap ? s->cap * 2 : 64;
    struct entry *e = realloc(s->e, (size_t)cap * sizeof(*e));
    if (!e)
        return -1;
    s->e = e;
    uint32_t *heap = realloc(s->heap, (size_t)cap * sizeof(*heap));
    if (!heap)
        return -1;
    s->heap = heap;
    s->cap = cap;
    return 0;
}

/* Keep chains short: twice as many buckets as entries, rebuilt from the live entries. */
static void rehash(struct isf_sched *s)
{
    uint32_t n = s->nbuckets * 4;
    uint32_t *b = malloc((size_t)n * sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    memset(b, 0xff, (size_t)n * sizeof(*b));
    for (uint32_t k = 0; k < s->count; k++) {
        uint32_t i = s->heap[k];
        uint32_t h = hash_name(s->e[i].name) & (n - 1);
        s->e[i].next = b[h];
        b[h] = i;
    }
    free(s->bucket);
    s->bucket = b;
    s->nbuckets = n;
}

static uint32_t new_entry(struct isf_sched *s)
{
    if (s->free_head != NONE) {
        uint32_t i = s->free_head;
        s->free_head = s->e[i].next;
        return i;
    }
    if (s->used == s->cap && grow(s) != 0)
        return NONE;
    return s->used++;
}

/* ---- operations --------------------------------------------------------------------------- */

void isf_sched_remove(struct isf_sched *s, const char *name)
{
    uint32_t h = hash_name(name) & (s->nbuckets - 1);
    uint32_t *link = &s->bucket[h];
    while (*link != NONE && strcmp(s->e[*link].name, name) != 0)
        link = &s->e[*link].next;
    if (*link == NONE)
        return;
    uint32_t idx = *link;
    *link = s->e[idx].next;
    uint32_t slot = s->e[idx].slot;
    s->count--;
    if (slot < s->count) {
        heap_put(s, slot, s->heap[s->count]);
        reposition(s, slot);
    }
    s->e[idx].next = s->free_head;
    s->free_head = idx;
}

int isf_sched_set(struct isf_sched *s, const char *name, int64_t due_ms)
{
    if (due_ms == INT64_MAX) {
        isf_sched_remove(s, name);
        return 0;
    }
    uint32_t idx = find(s, name);
    if (idx != NONE) {
        s->e[idx].due = due_ms;
        reposition(s, s->e[idx].slot);
        return 0;
    }
    if (strlen(name) > ISF_SCHED_NAME_MAX || (idx = new_entry(s)) == NONE)
        return -1;
    struct entry *e = &s->e[idx];
    memcpy(e->name, name, strlen(name) + 1);
    e->due = due_ms;
    uint32_t h = hash_name(name) & (s->nbuckets - 1);
    e->next = s->bucket[h];
    s->bucket[h] = idx;
    heap_put(s, s->count++, idx);
    sift_up(s, s->count - 1);
    if (s->count > s->nbuckets * 2)
        rehash(s);
    return 0;
}

int64_t isf_sched_due(const struct isf_sched *s, const char *name)
{
    uint32_t idx = find(s, name);
    return idx == NONE ? INT64_MAX : s->e[idx].due;
}

int64_t isf_sched_next(const struct isf_sched *s)
{
    return s->count ? s->e[s->heap[0]].due : INT64_MAX;
}

size_t isf_sched_take_due(struct isf_sched *s, int64_t now_ms, int64_t later_ms,
                          char (*names)[ISF_SCHED_NAME_MAX + 1], size_t max)
{
    size_t n = 0;
    while (n < max && s->count && s->e[s->heap[0]].due <= now_ms) {
        uint32_t idx = s->heap[0];
        memcpy(names[n++], s->e[idx].name, sizeof(names[0]));
        s->e[idx].due = later_ms > now_ms ? later_ms : now_ms + 1;
        sift_down(s, 0);
    }
    return n;
}
