/*
 * attest_fixture.c - reading tests/data/attestation (see attest_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest_fixture.h"
#include "rt_dcap.h"
#include "rt_hex.h"

const char *af_dir(void)
{
    const char *d = getenv("ATTEST_TESTDATA");
    return d ? d : "tests/data/attestation";
}

uint8_t *af_read(const char *name, size_t *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", af_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    if (fseek(f, 0, SEEK_END) != 0)
        fail_msg("cannot seek %s", path);
    long len = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)len + 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len)
        fail_msg("cannot read %s", path);
    fclose(f);
    b[len] = 0;
    *n = (size_t)len;
    return b;
}

struct json_object *af_json(const char *name)
{
    size_t n;
    uint8_t *b = af_read(name, &n);
    struct json_object *o = json_tokener_parse((const char *)b);
    free(b);
    if (!o)
        fail_msg("%s is not JSON", name);
    return o;
}

void af_hex(struct json_object *o, const char *k, uint8_t *out, size_t n)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || rt_hex_decode_str(json_object_get_string(v), out, n) != 0)
        fail_msg("%s is not %zu bytes of hex", k, n);
}

int64_t af_time(const char *s)
{
    int64_t t;
    if (rt_dcap_time(s, strlen(s), &t) != 0)
        fail_msg("bad time %s", s);
    return t;
}
