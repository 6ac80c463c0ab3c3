/* A short summary of what a helper printed on stderr, safe to put into an error message: a
 * helper explaining a failure may well echo the token or a secret it was working with, so
 * anything that looks like one is replaced, control characters become spaces, and the summary
 * is cut at NC_SUMMARY_MAX characters. */
#include "nc.h"

#include <string.h>

/* A run of these characters, long enough, is taken for a token (OAuth tokens, Salesforce session
 * ids "00D...!AQ...", base64, JWTs, hex keys). "=" is left out so "key=SECRET" keeps its name. */
static int token_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("._~+/!-", c) != NULL;
}

#define LONG_RUN 24 /* a run at least this long is redacted */
#define BANG_RUN 12 /* ... or this long when it holds a '!' (a Salesforce session id) */
#define REDACTED "[redacted]"

void nc_summarize_stderr(const char *in, size_t len, char *out, size_t out_size)
{
    size_t o = 0, i = 0;
    size_t limit = out_size > NC_SUMMARY_MAX + 4 ? NC_SUMMARY_MAX : out_size - 4;
    out[0] = '\0';
    while (i < len && o < limit) {
        unsigned char c = (unsigned char)in[i];
        if (c && token_char(c)) {
            size_t j = i, bang = 0;
            while (j < len && in[j] && token_char((unsigned char)in[j]))
                bang |= in[j++] == '!';
            size_t run = j - i;
            if (run >= LONG_RUN || (bang && run >= BANG_RUN)) {
                if (o + sizeof(REDACTED) - 1 > limit)
                    break;
                memcpy(out + o, REDACTED, sizeof(REDACTED) - 1);
                o += sizeof(REDACTED) - 1;
            } else {
                size_t take = run < limit - o ? run : limit - o;
                memcpy(out + o, in + i, take);
                o += take;
            }
            i = j;
            continue;
        }
        /* Whitespace and control characters collapse to one space; other bytes show as '?'. */
        char shown = c < 0x20 || c == 0x7f ? ' ' : c >= 0x80 ? '?' : (char)c;
        if (!(shown == ' ' && (o == 0 || out[o - 1] == ' ')))
            out[o++] = shown;
        i++;
    }
    while (o && out[o - 1] == ' ')
        o--;
    if (i < len && o) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
