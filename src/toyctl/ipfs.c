/*
 * ipfs.c — toyctl's IPFS commands: the CID of a file, a CAR of files, and
 * the check of a CAR.
 *
 * A published file's CID is CIDv1, raw, sha2-256, base32 (rt_cid.h): the
 * SHA-256 of its exact bytes, under which any IPFS node serves them.  A
 * CAR (rt_car.h) carries such files as raw blocks, so that a node imports
 * them with `ipfs dag import`; verify-car checks one offline, block by
 * block, and, given the files, that it holds exactly them.
 */
#include "toyctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/sha2.h>

#include "rt_car.h"
#include "rt_cid.h"

typedef char cid_text[RT_CID_STR_MAX];

/* The raw CID of a file, hashed as it is read, so any size will do.
 * Returns 0, or -1 with err set. */
static int file_cid(const char *path, uint8_t out[RT_CID_RAW_SHA256_BYTES], char *err, size_t errcap)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct sha256_ctx h;
    sha256_init(&h);
    static uint8_t chunk[1 << 16];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        sha256_update(&h, r, chunk);
    int bad = ferror(f), e = errno;
    if (!is_stdin)
        fclose(f);
    if (bad) {
        snprintf(err, errcap, "read error: %s", strerror(e ? e : EIO));
        return -1;
    }
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&h, sizeof d, d);
    rt_cid_raw_from_digest(d, out);
    return 0;
}

int tc_cmd_cid(const char *const *files, int n)
{
    cid_text *out = calloc((size_t)n, sizeof *out);
    if (!out) {
        fprintf(stderr, "toyctl: out of memory\n");
        return 1;
    }
    /* Every CID first: on an error, nothing is printed, so that no line of
     * the output can be taken for another file's. */
    for (int i = 0; i < n; i++) {
        uint8_t cid[RT_CID_RAW_SHA256_BYTES];
        char err[320];
        if (file_cid(files[i], cid, err, sizeof err) != 0) {
            fprintf(stderr, "toyctl: %s: %s\n", files[i], err);
            free(out);
            return 1;
        }
        (void)rt_cid_to_string(cid, sizeof cid, out[i], sizeof out[i]);
    }
    for (int i = 0; i < n; i++)
        printf("%s\n", out[i]);
    free(out);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "toyctl: cannot write the output\n");
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------- car */

/* Writes n bytes, keeping the first error in *bad. */
static void put(FILE *f, const void *p, size_t n, int *bad)
{
    if (!*bad && n && fwrite(p, 1, n, f) != n)
        *bad = errno ? errno : EIO;
}

int tc_cmd_car(const char *out, const char *const *files, int n)
{
    char **data = calloc((size_t)n, sizeof *data);
    size_t *len = calloc((size_t)n, sizeof *len);
    uint8_t (*cids)[RT_CID_RAW_SHA256_BYTES] = calloc((size_t)n, sizeof *cids);
    int *keep = calloc((size_t)n, sizeof *keep);
    uint8_t *header = NULL;
    char *tmp = NULL;
    FILE *f = NULL;
    int rc = 1, bad = 0, nroots = 0;
    if (!data || !len || !cids || !keep) {
        fprintf(stderr, "toyctl: out of memory\n");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        char err[320];
        data[i] = tc_read_file(files[i], &len[i], err, sizeof err);
        if (!data[i]) {
            fprintf(stderr, "toyctl: %s: %s\n", files[i], err);
            goto done;
        }
        if (len[i] > TC_MAX_BLOCK) {
            fprintf(stderr,
                    "toyctl: %s: %zu bytes: a CAR block holds at most %u bytes (1 MiB), the most "
                    "that every IPFS node imports\n",
                    files[i], len[i], TC_MAX_BLOCK);
            goto done;
        }
        rt_cid_raw_sha256_bytes(data[i], len[i], cids[i]);
        /* The same bytes twice are one block and one root. */
        keep[i] = 1;
        for (int j = 0; j < i && keep[i]; j++)
            keep[i] = !keep[j] || memcmp(cids[i], cids[j], sizeof cids[i]) != 0;
        if (keep[i] && i != nroots)
            memcpy(cids[nroots], cids[i], sizeof cids[i]);
        nroots += keep[i];
    }
    size_t hlen = 0;
    if (rt_car_header(&cids[0][0], (size_t)nroots * sizeof cids[0], NULL, 0, &hlen) != RT_CAR_ENOSPC ||
        !(header = malloc(hlen)) ||
        rt_car_header(&cids[0][0], (size_t)nroots * sizeof cids[0], header, hlen, &hlen) != 0) {
        fprintf(stderr, "toyctl: cannot make the CAR header (%d roots; at most %d)\n", nroots,
                RT_CAR_MAX_ROOTS);
        goto done;
    }

    /* Into a temporary file beside OUT, renamed over it at the end: a
     * reader never sees half a CAR, and a failure leaves OUT as it was. */
    int to_stdout = strcmp(out, "-") == 0;
    if (to_stdout) {
        f = stdout;
    } else {
        size_t tl = strlen(out) + 16;
        int fd = -1;
        if ((tmp = malloc(tl)) != NULL) {
            snprintf(tmp, tl, "%s.tmp-XXXXXX", out);
            fd = mkstemp(tmp);
        }
        if (fd < 0) {
            fprintf(stderr, "toyctl: %s: cannot create a file beside it: %s\n", out,
                    tmp ? strerror(errno) : "out of memory");
            free(tmp);
            tmp = NULL;
            goto done;
        }
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) != 0 || !(f = fdopen(fd, "wb"))) {
            fprintf(stderr, "toyctl: %s: %s\n", tmp, strerror(errno));
            close(fd);
            goto done;
        }
    }
    errno = 0;
    put(f, header, hlen, &bad);
    for (int i = 0, r = 0; i < n; i++) {
        if (!keep[i])
            continue;
        uint8_t prefix[RT_CAR_PREFIX_MAX(RT_CID_RAW_SHA256_BYTES)];
        size_t pl = rt_car_section_prefix(cids[r++], RT_CID_RAW_SHA256_BYTES, len[i], prefix,
                                          sizeof prefix);
        put(f, prefix, pl, &bad);
        put(f, data[i], len[i], &bad);
    }
    if (!bad && fflush(f) != 0)
        bad = errno ? errno : EIO;
    if (!to_stdout) {
        if (!bad && fsync(fileno(f)) != 0)
            bad = errno;
        if (fclose(f) != 0 && !bad)
            bad = errno ? errno : EIO;
        f = NULL;
        if (!bad && rename(tmp, out) != 0)
            bad = errno;
    }
    if (bad) {
        fprintf(stderr, "toyctl: %s: cannot write: %s\n", to_stdout ? "stdout" : out, strerror(bad));
        goto done;
    }
    free(tmp); /* renamed: nothing to remove */
    tmp = NULL;
    rc = 0;
done:
    if (f && f != stdout)
        fclose(f);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    for (int i = 0; data && i < n; i++)
        free(data[i]);
    free(data);
    free(len);
    free(cids);
    free(keep);
    free(header);
    return rc;
}

/* ------------------------------------------------------ verify-car */

/* A block's CID, for sorting and lookup. */
typedef struct cid_ref {
    const uint8_t *p;
    size_t n;
    size_t index; /* the block's number, from 1 */
} cid_ref;

static int cid_ref_cmp(const void *a, const void *b)
{
    const cid_ref *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    if (c)
        return c;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first block (lowest number) with CID p[0..n), or NULL. */
static const cid_ref *find_block(const cid_ref *sorted, size_t nb, const uint8_t *p, size_t n)
{
    size_t lo = 0, hi = nb;
    cid_ref key = { p, n, 0 };
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cid_ref_cmp(&sorted[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < nb && sorted[lo].n == n && memcmp(sorted[lo].p, p, n) == 0)
        return &sorted[lo];
    return NULL;
}

static void cid_string(const uint8_t *p, size_t n, char out[RT_CID_STR_MAX])
{
    if (rt_cid_to_string(p, n, out, RT_CID_STR_MAX) < 0)
        snprintf(out, RT_CID_STR_MAX, "(not a CID)");
}

/* Checks one block against its CID, printing one line. */
static void check_block(const uint8_t *buf, const rt_car_block *b, size_t i)
{
    char what[RT_CID_STR_MAX + 96], s[RT_CID_STR_MAX];
    const uint8_t *cid = buf + b->cid_off;
    cid_string(cid, b->cid.len, s);
    snprintf(what, sizeof what, "car: block %zu %s (%zu byte%s) hashes to its CID", i, s, b->data_len,
             b->data_len == 1 ? "" : "s");
    int m = rt_cid_matches(cid, &b->cid, buf + b->data_off, b->data_len);
    if (m == 1) {
        tc_ok("%s", what);
    } else if (m == 0) {
        /* The CID these bytes do have: the same prefix, their digest. */
        uint8_t real[RT_CID_MAX_BYTES];
        memcpy(real, cid, b->cid.len);
        tc_sha256(buf + b->data_off, b->data_len, NULL, 0, real + b->cid.digest_off);
        cid_string(real, b->cid.len, s);
        tc_fail(what, "its bytes have the CID %s (tampered, or not the block the CID names)", s);
    } else {
        tc_fail(what, "cannot check: its multihash (function 0x%llx, %zu-byte digest) is not a "
                "32-byte sha2-256, the only hash toyctl computes", (unsigned long long)b->cid.hash,
                b->cid.digest_len);
    }
}

int tc_verify_car(const char *path, const char *const *files, int n)
{
    char err[320], s[RT_CID_STR_MAX];
    size_t len, nb = 0, cap = 0;
    int before = tc_failures(), complete = 0;
    cid_ref *blocks = NULL;
    char *buf = tc_read_file(path, &len, err, sizeof err);
    if (!buf) {
        tc_fail("car is readable", "%s: %s", path, err);
        return 0;
    }
    const uint8_t *u = (const uint8_t *)buf;
    rt_car_reader r;
    if (rt_car_open(&r, u, len) != 0) {
        tc_fail("car: a CARv1 header", "%s: at byte %zu: %s", path, r.error_off, r.reason);
        free(buf);
        return 0;
    }
    tc_ok("car: a CARv1 header with %zu root%s", r.nroots, r.nroots == 1 ? "" : "s");

    rt_car_block b;
    int rc;
    while ((rc = rt_car_next(&r, &b)) == 1) {
        if (nb == cap) {
            size_t nc = cap ? 2 * cap : 64;
            cid_ref *grown = realloc(blocks, nc * sizeof *grown);
            if (!grown) {
                tc_fail("car: blocks", "out of memory after %zu blocks", nb);
                goto out;
            }
            blocks = grown;
            cap = nc;
        }
        blocks[nb] = (cid_ref){ u + b.cid_off, b.cid.len, nb + 1 };
        nb++;
        check_block(u, &b, nb);
    }
    if (rc < 0) {
        tc_fail("car: the sections are well formed", "section %zu, at byte %zu: %s", r.nblocks + 1,
                r.error_off, r.reason);
    } else {
        complete = 1;
        if (nb == 0)
            tc_note("the CAR holds no blocks");
    }

    if (nb)
        qsort(blocks, nb, sizeof *blocks, cid_ref_cmp);
    for (size_t i = 1; i < nb; i++)
        if (blocks[i].n == blocks[i - 1].n && memcmp(blocks[i].p, blocks[i - 1].p, blocks[i].n) == 0) {
            cid_string(blocks[i].p, blocks[i].n, s);
            tc_note("block %zu repeats block %zu (%s)", blocks[i].index, blocks[i - 1].index, s);
        }
    for (size_t i = 0; i < r.nroots; i++) {
        const uint8_t *root = u + r.root_off[i];
        cid_string(root, r.roots[i].len, s);
        const cid_ref *hit = find_block(blocks, nb, root, r.roots[i].len);
        if (hit)
            tc_ok("car: root %zu %s has its block (block %zu)", i + 1, s, hit->index);
        else if (complete)
            tc_fail("car: root has its block", "root %zu %s: no block of the CAR has this CID", i + 1, s);
        else
            tc_note("root %zu %s: not found before the damage, not checked", i + 1, s);
    }

    /* The files given: each is a root, and every root is one of them. */
    if (n > 0) {
        int *matched = calloc(r.nroots ? r.nroots : 1, sizeof *matched);
        if (!matched) {
            tc_fail("car: files", "out of memory");
            goto out;
        }
        for (int k = 0; k < n; k++) {
            uint8_t cid[RT_CID_RAW_SHA256_BYTES];
            char what[256];
            snprintf(what, sizeof what, "%s is a root of the CAR", files[k]);
            if (file_cid(files[k], cid, err, sizeof err) != 0) {
                tc_fail(what, "%s", err);
                continue;
            }
            cid_string(cid, sizeof cid, s);
            size_t i = 0;
            while (i < r.nroots && !(r.roots[i].len == sizeof cid &&
                                     memcmp(u + r.root_off[i], cid, sizeof cid) == 0))
                i++;
            if (i == r.nroots) {
                tc_fail(what, "its CID %s is not among the CAR's %zu roots", s, r.nroots);
            } else {
                matched[i] = 1;
                tc_ok("%s: its CID %s is root %zu of the CAR", files[k], s, i + 1);
            }
        }
        size_t extra = 0;
        for (size_t i = 0; i < r.nroots; i++)
            if (!matched[i]) {
                cid_string(u + r.root_off[i], r.roots[i].len, s);
                tc_fail("car: every root is one of the files given", "root %zu %s is none of them", i + 1, s);
                extra++;
            }
        if (!extra)
            tc_ok("car: every root is one of the %d file%s given", n, n == 1 ? "" : "s");
        free(matched);
    }
out:
    free(blocks);
    free(buf);
    return tc_failures() == before;
}
