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
 *   dcap_batch --sim DIR TIME         writes sim base cases into DIR: quotes of
 *                                     the sim platform (rt_simca, on a fixed
 *                                     test seed), its root (sim-root.der),
 *                                     collateral valid at TIME in a variant
 *                                     for every TCB status and revocation,
 *                                     and sim-bases.json listing the cases
 *
 * The file format is described at the top of tests/dcap/diff.js.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "rt_dcap.h"
#include "rt_simca.h"

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

static void write_file(const char *dir, const char *name, const void *b, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0)
        die(path);
}

static int sim_bases(const char *dir, const char *when)
{
    static const char label[] = "toyapp dcap differential: sim seed";
    uint8_t seed[32];
    int64_t now;
    if (rt_dcap_time(when, strlen(when), &now) != 0)
        die("TIME must be YYYY-MM-DDTHH:MM:SSZ");
    EVP_Digest(label, sizeof label - 1, seed, NULL, EVP_sha256(), NULL);
    const char *err;
    rt_simca *ca = rt_simca_new(seed, &err);
    if (!ca)
        die(err);
    uint8_t *der, *q;
    size_t n;
    if (rt_simca_root_der(ca, &der, &n) != 0)
        die("root");
    write_file(dir, "sim-root.der", der, n);
    free(der);
    rt_simca_td td = { .td_attributes = RT_SIMCA_TD_ATTRIBUTES };
    for (int i = 0; i < 64; i++)
        td.report_data[i] = (uint8_t)i;
    memset(td.rtmr, 0x5a, sizeof td.rtmr);
    if (rt_simca_quote(ca, &td, &q, &n) != 0)
        die("quote");
    write_file(dir, "sim.quote.bin", q, n);
    free(q);
    td.td_attributes[0] = 1; /* DEBUG */
    if (rt_simca_quote(ca, &td, &q, &n) != 0)
        die("quote");
    write_file(dir, "sim-debug.quote.bin", q, n);
    free(q);
    static const struct {
        const char *name;
        rt_simca_variant v;
    } variants[] = {
        { "uptodate", { 0 } },
        { "swhardening", { .status = "SWHardeningNeeded", .advisories = "INTEL-SA-00615,INTEL-SA-00657" } },
        { "configneeded", { .status = "ConfigurationNeeded", .advisories = "INTEL-SA-00960" } },
        { "config-swhardening", { .status = "ConfigurationAndSWHardeningNeeded" } },
        { "outofdate", { .status = "OutOfDate", .advisories = "INTEL-SA-00837,INTEL-SA-00106" } },
        { "outofdate-config", { .status = "OutOfDateConfigurationNeeded" } },
        { "revoked-status", { .status = "Revoked" } },
        { "unknown-status", { .status = "NotAStatus" } },
        { "nomatch", { .above = 1 } },
        { "qe-outofdate", { .qe_status = "OutOfDate" } },
        { "qe-below", { .qe_above = 1 } },
        { "pck-revoked", { .revoke_pck = 1 } },
        { "tcbsigner-revoked", { .revoke_tcb_signer = 1 } },
    };
    char json[8192];
    size_t at = (size_t)snprintf(json, sizeof json, "[\n");
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char *col, name[96];
        if (rt_simca_collateral(ca, now, &variants[i].v, &col) != 0)
            die("collateral");
        snprintf(name, sizeof name, "sim-%s.collateral.json", variants[i].name);
        write_file(dir, name, col, strlen(col));
        free(col);
        at += (size_t)snprintf(json + at, sizeof json - at,
                               " {\"name\": \"sim-%s\", \"quote\": \"sim.quote.bin\", \"collateral\": \"%s\", "
                               "\"now\": \"%s\", \"root\": \"sim-root.der\", \"weight\": %s%s},\n",
                               variants[i].name, name, when, i == 0 ? "3" : "0.4", i == 0 ? ", \"times\": 50" : "");
    }
    at += (size_t)snprintf(json + at, sizeof json - at,
                           " {\"name\": \"sim-debug\", \"quote\": \"sim-debug.quote.bin\", "
                           "\"collateral\": \"sim-uptodate.collateral.json\", \"now\": \"%s\", "
                           "\"root\": \"sim-root.der\", \"weight\": 0.4},\n"
                           " {\"name\": \"sim-intel-root\", \"quote\": \"sim.quote.bin\", "
                           "\"collateral\": \"sim-uptodate.collateral.json\", \"now\": \"%s\", \"weight\": 0.4}\n]\n",
                           when, when);
    write_file(dir, "sim-bases.json", json, at);
    rt_simca_free(ca);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2)
        return batch(argv[1]);
    if (argc == 4 && strcmp(argv[1], "--sim") == 0)
        return sim_bases(argv[2], argv[3]);
    if (argc == 6 && strcmp(argv[1], "--bench") == 0)
        return bench(argv[2], argv[3], argv[4], atol(argv[5]));
    fprintf(stderr, "usage: dcap_batch MUTANTS.bin | --bench QUOTE COLLATERAL TIME N | --sim DIR TIME\n");
    return 2;
}
