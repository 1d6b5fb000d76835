/*
 * dcap_batch.c - rt_dcap's side of the differential test and of the
 * verify-quote benchmark: many verifications in one process.
 *
 *   dcap_batch MUTANTS.bin            one verdict per case of the file that
 *                                     tests/dcap/diff.js gen wrote, on stdout:
 *                                     "N ok STATUS ADVISORIES" or
 *                                     "N fail CLASS DETAIL"
 *   dcap_batch --bench QUOTE COLLATERAL TIME N
 *                                     verifies the same quote N times and
 *                                     prints "rt_dcap: X ms per verification"
 *
 * The file format is described at the top of tests/dcap/diff.js.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_dcap.h"

static void die(const char *what)
{
    fprintf(stderr, "dcap_batch: %s\n", what);
    exit(2);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    if (!b)
        die("out of memory");
    *n = len;
    return b;
}

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static uint32_t u32(reader *r)
{
    if (r->end - r->p < 4)
        die("truncated file");
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static int64_t i64(reader *r)
{
    uint64_t lo = u32(r), hi = u32(r);
    return (int64_t)(hi << 32 | lo);
}

static const uint8_t *blob(reader *r, uint32_t *n)
{
    *n = u32(r);
    if ((size_t)(r->end - r->p) < *n)
        die("truncated file");
    const uint8_t *b = r->p;
    r->p += *n;
    return b;
}

typedef struct base {
    const uint8_t *q, *c;
    uint32_t qn, cn, flags;
    int64_t now;
} base;

static void verdict(long i, const uint8_t *q, size_t qn, const uint8_t *c, size_t cn, int64_t now,
                    unsigned flags)
{
    rt_dcap_report r;
    if (rt_dcap_verify(q, qn, (const char *)c, cn, now, flags, &r) == 0) {
        printf("%ld ok %s ", i, r.status);
        /* Sorted, as the reference's are printed. */
        for (int a = 0; a < r.nadvisories; a++)
            for (int b = a + 1; b < r.nadvisories; b++)
                if (strcmp(r.advisories[a], r.advisories[b]) > 0) {
                    char t[sizeof r.advisories[0]];
                    memcpy(t, r.advisories[a], sizeof t);
                    memcpy(r.advisories[a], r.advisories[b], sizeof t);
                    memcpy(r.advisories[b], t, sizeof t);
                }
        for (int a = 0; a < r.nadvisories; a++)
            printf("%s%s", a ? "," : "", r.advisories[a]);
        printf("%s\n", r.nadvisories ? "" : "-");
    } else {
        const rt_dcap_line *l = &r.lines[r.nlines - 1];
        printf("%ld fail %s %s: %s\n", i, r.name, l->what, l->why);
    }
}

static int batch(const char *path)
{
    size_t n;
    uint8_t *file = slurp(path, &n);
    reader r = { file, file + n };
    if (n < 6 || memcmp(file, "TDCM1\n", 6) != 0)
        die("not a mutants file");
    r.p += 6;
    uint32_t nb = u32(&r), len;
    base *b = calloc(nb ? nb : 1, sizeof *b);
    for (uint32_t i = 0; i < nb; i++) {
        b[i].q = blob(&r, &b[i].qn);
        b[i].c = blob(&r, &b[i].cn);
        b[i].now = i64(&r);
        b[i].flags = u32(&r) ? RT_DCAP_ALLOW_SIM : 0;
        (void)blob(&r, &len); /* name */
    }
    uint32_t nm = u32(&r);
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < nm; i++) {
        uint32_t bi = u32(&r);
        if (bi >= nb || r.p == r.end)
            die("bad mutant");
        uint8_t target = *r.p++;
        uint32_t off = u32(&r), del = u32(&r), insn;
        const uint8_t *ins = blob(&r, &insn);
        int64_t now = i64(&r);
        (void)blob(&r, &len); /* region */
        const base *B = &b[bi];
        const uint8_t *src = target ? B->c : B->q;
        size_t sn = target ? B->cn : B->qn;
        if ((size_t)off + del > sn)
            die("patch out of range");
        size_t mn = sn - del + insn;
        if (mn + 1 > cap) {
            cap = mn + 1;
            buf = realloc(buf, cap);
            if (!buf)
                die("out of memory");
        }
        memcpy(buf, src, off);
        memcpy(buf + off, ins, insn);
        memcpy(buf + off + insn, src + off + del, sn - off - del);
        if (target)
            verdict(i, B->q, B->qn, buf, mn, now, B->flags);
        else
            verdict(i, buf, mn, B->c, B->cn, now, B->flags);
    }
    free(buf);
    free(b);
    free(file);
    return fflush(stdout) == 0 ? 0 : 2;
}

static int bench(const char *qpath, const char *cpath, const char *when, long n)
{
    size_t qn, cn;
    uint8_t *q = slurp(qpath, &qn), *c = slurp(cpath, &cn);
    int64_t now;
    if (rt_dcap_time(when, strlen(when), &now) != 0)
        die("TIME must be YYYY-MM-DDTHH:MM:SSZ");
    rt_dcap_report r;
    if (rt_dcap_verify(q, qn, (const char *)c, cn, now, 0, &r) != 0)
        die("the benchmark's quote does not verify");
    struct timespec a, z;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (rt_dcap_verify(q, qn, (const char *)c, cn, now, 0, &r) != 0)
            die("verification failed during the benchmark");
    clock_gettime(CLOCK_MONOTONIC, &z);
    double ms = ((double)(z.tv_sec - a.tv_sec) * 1e3 + (double)(z.tv_nsec - a.tv_nsec) / 1e6) / (double)n;
    printf("rt_dcap: %.3f ms per verification (%ld runs, status %s)\n", ms, n, r.status);
    free(q);
    free(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return batch(argv[1]);
    if (argc == 6 && strcmp(argv[1], "--bench") == 0)
        return bench(argv[2], argv[3], argv[4], atol(argv[5]));
    fprintf(stderr, "usage: dcap_batch MUTANTS.bin | dcap_batch --bench QUOTE COLLATERAL TIME N\n");
    return 2;
}
