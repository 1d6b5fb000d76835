/*
 * check.c — the report lines toyctl prints, and small helpers: file input,
 * hex, SHA-256, member lookup by path, timestamp normalization.
 *
 * Every check prints exactly one line on stdout, "ok   <what>" or
 * "FAIL <what>: <why>", so that an auditor (or a CI job) can read and grep
 * the verdict; the exit status summarizes it.
 */
#include "toyctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int failures, passes;
static FILE *out_f;

void tc_set_output(FILE *f)
{
    out_f = f;
}

static FILE *out(void)
{
    return out_f ? out_f : stdout;
}

void tc_ok(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    passes++;
    fputs("ok   ", out());
    vfprintf(out(), fmt, ap);
    fputc('\n', out());
    va_end(ap);
}

void tc_fail(const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(out(), "FAIL %s: ", what);
    vfprintf(out(), fmt, ap);
    fputc('\n', out());
    va_end(ap);
    failures++;
}

void tc_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("note: ", out());
    vfprintf(out(), fmt, ap);
    fputc('\n', out());
    va_end(ap);
}

int tc_failures(void)
{
    return failures;
}

int tc_passes(void)
{
    return passes;
}

char *tc_read_file(const char *path, size_t *len, char *err, size_t errcap)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 0, n = 0;
    char *buf = NULL;
    int too_big = 0, no_mem = 0, read_errno = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > TC_MAX_INPUT) {
                too_big = 1;
                break;
            }
            size_t nc = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, nc);
            if (!nb) {
                no_mem = 1;
                break;
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + n, 1, cap - 1 - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                read_errno = errno ? errno : EIO;
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    too_big |= n > TC_MAX_INPUT;
    if (too_big || no_mem || read_errno) {
        if (too_big)
            snprintf(err, errcap, "larger than %u bytes; refused", TC_MAX_INPUT);
        else if (no_mem)
            snprintf(err, errcap, "out of memory");
        else
            snprintf(err, errcap, "read error: %s", strerror(read_errno));
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

struct json_object *tc_load(const char *role, const char *path)
{
    char err[320] = "", what[96];
    size_t n;
    snprintf(what, sizeof what, "%s parses as JSON", role);
    char *buf = tc_read_file(path, &n, err, sizeof err);
    if (!buf) {
        tc_fail(what, "%s: %s", path, err);
        return NULL;
    }
    struct json_object *o = tc_json_parse(buf, n, err, sizeof err);
    free(buf);
    if (!o) {
        tc_fail(what, "%s: %s", path, err);
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object)) {
        tc_fail(what, "%s: the document is not a JSON object", path);
        json_object_put(o);
        return NULL;
    }
    return o;
}

void tc_sha256(const void *a, size_t na, const void *b, size_t nb, uint8_t out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(c, a, na) == 1 && (nb == 0 || EVP_DigestUpdate(c, b, nb) == 1) &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) {
        /* No verdict can be trusted without a working hash. */
        fprintf(stderr, "toyctl: SHA-256 failed (OpenSSL)\n");
        exit(1);
    }
}

struct json_object *tc_get(struct json_object *o, const char *path)
{
    char step[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof step || !json_object_is_type(o, json_type_object))
            return NULL;
        memcpy(step, path, n);
        step[n] = 0;
        struct json_object *next;
        if (!json_object_object_get_ex(o, step, &next))
            return NULL;
        o = next;
        path += n + (dot ? 1 : 0);
    }
    return o;
}

int64_t tc_int(struct json_object *o, const char *path)
{
    return json_object_get_int64(tc_get(o, path));
}

const char *tc_str(struct json_object *o, const char *path)
{
    struct json_object *v = tc_get(o, path);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

size_t tc_strlen(struct json_object *o, const char *path)
{
    struct json_object *v = tc_get(o, path);
    return json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : 0;
}

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int tc_time_norm(const char *s, size_t n, char out[32])
{
    /* YYYY-MM-DDTHH:MM:SS = 19 bytes, then optional .digits, then Z. */
    if (n < 20 || s[n - 1] != 'Z' || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
        s[7] != '-' || !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) ||
        s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return -1;
    size_t frac = 0;
    if (n > 20) {
        if (s[19] != '.' || n - 21 == 0 || n - 21 > 9 || !digits(s + 20, (int)(n - 21)))
            return -1;
        frac = n - 21;
    }
    memcpy(out, s, 19);
    out[19] = '.';
    memcpy(out + 20, s + 20, frac);
    memset(out + 20 + frac, '0', 9 - frac);
    out[29] = 0;
    return 0;
}
