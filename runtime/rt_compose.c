/*
 * rt_compose.c - the compose hash (see rt_compose.h for dstack's definition).
 */
#include "rt_compose.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nettle/sha2.h>

void rt_compose_hash(const void *buf, size_t n, uint8_t out[32])
{
    struct sha256_ctx c;
    sha256_init(&c);
    if (n)
        sha256_update(&c, n, buf);
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}

int rt_compose_hash_file(const char *path, uint8_t out[32], char *err, size_t errcap)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        if (err && errcap)
            snprintf(err, errcap, "%s", strerror(errno));
        return -1;
    }
    struct sha256_ctx c;
    sha256_init(&c);
    uint8_t buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&c, n, buf);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr) {
        if (err && errcap)
            snprintf(err, errcap, "read error: %s", strerror(rerr));
        return -1;
    }
    sha256_digest(&c, SHA256_DIGEST_SIZE, out);
    return 0;
}
