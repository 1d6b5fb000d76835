/*
 * idem.c — the stored answers of requests sent with an Idempotency-Key.
 *
 * Most of a write's answer is what the database keeps anyway: its audit
 * entry (audit_log), the signed head of its batch (batches.head) and the
 * entry's inclusion path in the batch (from the batch's leaf hashes, in
 * log_queue until the sequencer moves them to log_segments).  Storing them a
 * second time, in every key's row, was more than half of what a keyed
 * request cost Postgres (bench/README.md, "Keyed submissions").  So the
 * stored answer is a template: the answer with those parts cut out, and
 * with each of its other members ("name":value) that is one of the
 * entry's members, byte for byte (a receipt's id, hashes and derivative),
 * cut out too, each cut only where the answer holds it byte for byte as
 * it is rebuilt.  Sealed (AES-256-GCM, a TEE-derived key, bound to the key
 * and the route), it is:
 *
 *   2                       the format (1: the same without member cuts;
 *                           a row of the first format holds the whole
 *                           answer, which begins with '{')
 *   batch id                8 bytes, big-endian
 *   entry's batch index     4 bytes
 *   number of cuts          1 byte, then for each: its part (1 entry,
 *                           2 head, 3 path, 4 a range of the entry) and
 *                           its offset in the template (4 bytes), in
 *                           offset order; a range adds its offset in the
 *                           entry and its length (4 bytes each)
 *   the template
 *
 * A retry puts the parts back.  When the entry was purged by a deletion
 * since, there is no answer to give: 410.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "idem.h"
#include "route.h"
#include "rt_be.h"
#include "rt_hex.h"
#include "rt_merkle.h"
#include "rt_seal.h"
#include "sql.h"

#define FORMAT 2
#define HEADER 14                 /* format, batch id, index, number of cuts */
#define CUT 5                     /* part, offset */
#define CUT_RANGE 13              /* part, offset, offset in the entry, length */
#define MAX_CUTS 16
#define MIN_RANGE 24              /* a shorter member is cheaper to keep */
#define MAX_MEMBERS 32            /* of an entry, looked at for cuts */
enum { P_ENTRY = 1, P_HEAD, P_PATH, P_RANGE, P__N };
static const char *const part_key[P_RANGE] = { NULL, "\"auditEntry\":", "\"batchHead\":", "\"inclusionPath\":" };

/* An inclusion path as the answer's serializer writes it: a JSON array of
 * hex strings.  out has room for 2 + 67 * (RT_MERKLE_BATCH_LEVELS - 1). */
#define PATH_JSON_MAX (2 + 67 * (RT_MERKLE_BATCH_LEVELS - 1))
static size_t path_json(const uint8_t (*path)[32], size_t n, char *out)
{
    size_t k = 0;
    out[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            out[k++] = ',';
        out[k++] = '"';
        rt_hex_encode(path[i], 32, out + k);
        k += 64;
        out[k++] = '"';
    }
    out[k++] = ']';
    return k;
}

/* The end of the JSON value that begins at s[i] (canonical JSON, without
 * white space), or 0 when it does not end. */
static size_t value_end(const char *s, size_t n, size_t i)
{
    int depth = 0;
    for (; i < n; i++) {
        if (s[i] == '"') {
            for (;;) {   /* to the quote that no odd run of backslashes escapes */
                const char *q = memchr(s + i + 1, '"', n - i - 1);
                if (!q)
                    return 0;
                i = (size_t)(q - s);
                size_t bs = 0;
                while (s[i - 1 - bs] == '\\')
                    bs++;
                if (!(bs & 1))
                    break;
            }
            if (!depth)
                return i + 1;
        } else if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            if (!depth)
                return i;
            if (!--depth)
                return i + 1;
        } else if (s[i] == ',' && !depth) {
            return i;
        }
    }
    return depth ? 0 : n;
}

/* The associated data an answer is sealed with: its key, a NUL, its route. */
static size_t answer_ad(const job *j, char ad[256 + 64])
{
    const char *route = toy_routes[j->route].name;
    size_t kn = strlen(j->idem_key), rn = strlen(route);
    memcpy(ad, j->idem_key, kn);
    ad[kn] = 0;
    memcpy(ad + kn + 1, route, rn);
    return kn + 1 + rn;
}

typedef struct cut { size_t off, len, src; int part; } cut;

/* Adds a cut to cuts[0..*nc), kept in offset order, unless it overlaps one. */
static void add_cut(cut *cuts, int *nc, cut c)
{
    if (*nc == MAX_CUTS)
        return;
    int k = *nc;
    for (; k > 0 && cuts[k - 1].off > c.off; k--)
        ;
    if ((k > 0 && cuts[k - 1].off + cuts[k - 1].len > c.off) || (k < *nc && c.off + c.len > cuts[k].off))
        return;
    memmove(cuts + k + 1, cuts + k, (size_t)(*nc - k) * sizeof *cuts);
    cuts[k] = c;
    (*nc)++;
}

size_t idem_seal(const job *j, const wentry *e, uint64_t batch_id, const char *head, size_t head_len,
                 uint8_t **out)
{
    const char *b = j->body;
    size_t bn = j->body_len;
    char pj[PATH_JSON_MAX];
    const char *want[P_RANGE] = { NULL, e->json, head, pj };
    size_t wlen[P_RANGE] = { 0, e->len, head_len, path_json((const uint8_t (*)[32])e->path, e->npath, pj) };
    cut cuts[MAX_CUTS];
    int nc = 0;
    /* The entry's members ("name":value), for the answer's to be matched
     * with: where each begins and ends in the entry. */
    size_t em[MAX_MEMBERS][2], ne = 0;
    for (size_t i = 1; e->len && e->json[0] == '{' && i < e->len && e->json[i] == '"' && ne < MAX_MEMBERS;) {
        size_t k = value_end(e->json, e->len, i), v;
        if (!k || k >= e->len || e->json[k] != ':' || !(v = value_end(e->json, e->len, k + 1)))
            break;
        em[ne][0] = i;
        em[ne++][1] = v;
        if (v >= e->len || e->json[v] != ',')
            break;
        i = v + 1;
    }
    /* One walk over the answer's members: a part where the answer holds it
     * byte for byte, and each other member that is one of the entry's. */
    for (size_t i = 1; bn && b[0] == '{' && i < bn && b[i] == '"';) {
        size_t k = value_end(b, bn, i), v = 0;
        if (!k || k >= bn || b[k] != ':')
            break;
        for (int p = P_ENTRY; p < P_RANGE && !v; p++) {
            size_t kn = strlen(part_key[p]);
            if (k + 1 - i == kn && !memcmp(b + i, part_key[p], kn) && k + 1 + wlen[p] <= bn
                && !memcmp(b + k + 1, want[p], wlen[p])) {
                add_cut(cuts, &nc, (cut){ k + 1, wlen[p], 0, p });
                v = k + 1 + wlen[p];
            }
        }
        if (!v) {
            if (!(v = value_end(b, bn, k + 1)))
                break;
            for (size_t m = 0; v - i >= MIN_RANGE && m < ne; m++)
                if (em[m][1] - em[m][0] == v - i && !memcmp(e->json + em[m][0], b + i, v - i)) {
                    add_cut(cuts, &nc, (cut){ i, v - i, em[m][0], P_RANGE });
                    break;
                }
        }
        if (v >= bn || b[v] != ',')
            break;
        i = v + 1;
    }
    size_t tn = bn, n = HEADER;
    for (int k = 0; k < nc; k++) {
        tn -= cuts[k].len;
        n += cuts[k].part == P_RANGE ? CUT_RANGE : CUT;
    }
    uint8_t *pt = malloc(n + tn);
    *out = malloc(n + tn + RT_SEAL_OVERHEAD);
    if (!pt || !*out)
        goto fail;
    pt[0] = FORMAT;
    rt_be_put(pt + 1, batch_id, 8);
    rt_be_put(pt + 9, e->index, 4);
    pt[13] = (uint8_t)nc;
    size_t from = 0, t = n, r = HEADER;   /* copied from the body up to from; written up to t; records up to r */
    for (int k = 0; k < nc; k++) {
        memcpy(pt + t, b + from, cuts[k].off - from);
        t += cuts[k].off - from;
        pt[r] = (uint8_t)cuts[k].part;
        rt_be_put(pt + r + 1, t - n, 4);
        if (cuts[k].part == P_RANGE) {
            rt_be_put(pt + r + 5, cuts[k].src, 4);
            rt_be_put(pt + r + 9, cuts[k].len, 4);
        }
        r += cuts[k].part == P_RANGE ? CUT_RANGE : CUT;
        from = cuts[k].off + cuts[k].len;
    }
    memcpy(pt + t, b + from, bn - from);
    char ad[256 + 64];
    size_t an = answer_ad(j, ad);
    if (rt_seal(g_app.k.idem_seal, ad, an, pt, n + tn, *out))
        goto fail;
    free(pt);
    return n + tn + RT_SEAL_OVERHEAD;
fail:
    free(pt);
    free(*out);
    *out = NULL;
    return 0;
}

/* The parts of a template's answer, from the database: 1 with them, 0 when
 * the entry was purged, -1 when they are not all there (or do not agree),
 * -2 when the database failed. */
typedef struct parts { PGresult *batch, *entry; const char *v[P__N]; size_t n[P__N]; char path[PATH_JSON_MAX]; } parts;

static int fetch_parts(PGconn *c, uint64_t batch_id, uint64_t index, int need_entry, parts *ps)
{
    sql_args a = { 0 };
    sql_int(&a, (int64_t)batch_id);
    ps->batch = sql_query(c, "writer", "SELECT b.head, s.audit_ids, s.leaf_hashes FROM batches b CROSS JOIN LATERAL"
                                       " (SELECT audit_ids, leaf_hashes FROM log_queue WHERE batch_id = b.batch_id"
                                       "  UNION ALL SELECT audit_ids, leaf_hashes FROM log_segments"
                                       "  WHERE batch_id = b.batch_id) s WHERE b.batch_id = $1 LIMIT 1",
                          &a, SQL_BINARY);
    if (!ps->batch)
        return -2;
    if (PQntuples(ps->batch) != 1)
        return -1;
    const uint8_t *ids = (const uint8_t *)PQgetvalue(ps->batch, 0, 1);
    const uint8_t (*leaves)[32] = (const uint8_t (*)[32])PQgetvalue(ps->batch, 0, 2);
    size_t size = (size_t)PQgetlength(ps->batch, 0, 2) / 32;
    if (index >= size || (size_t)PQgetlength(ps->batch, 0, 1) != 8 * size || size > RT_MERKLE_BATCH_MAX)
        return -1;
    ps->v[P_HEAD] = PQgetvalue(ps->batch, 0, 0);
    ps->n[P_HEAD] = (size_t)PQgetlength(ps->batch, 0, 0);
    if (need_entry) {
        sql_args e = { 0 };
        sql_int(&e, (int64_t)rt_be_get(ids + 8 * index, 8));
        ps->entry = sql_query(c, "writer", "SELECT entry FROM audit_log WHERE id = $1", &e, SQL_BINARY);
        if (!ps->entry)
            return -2;
        if (PQntuples(ps->entry) != 1)
            return -1;
        if (PQgetisnull(ps->entry, 0, 0))
            return 0;
        ps->v[P_ENTRY] = PQgetvalue(ps->entry, 0, 0);
        ps->n[P_ENTRY] = (size_t)PQgetlength(ps->entry, 0, 0);
        uint8_t leaf[32];
        rt_merkle_leaf((const uint8_t *)ps->v[P_ENTRY], ps->n[P_ENTRY], leaf);
        if (memcmp(leaf, leaves[index], 32))
            return -1;
    }
    /* The path, from the batch's tree as the writer built it. */
    rt_merkle_batch *tree = malloc(sizeof *tree);
    uint8_t root[32], path[RT_MERKLE_BATCH_LEVELS - 1][32];
    if (!tree || rt_merkle_batch_build(tree, leaves, size, root)) {
        free(tree);
        return -1;
    }
    size_t np = rt_merkle_batch_path(tree, (size_t)index, path);
    free(tree);
    ps->n[P_PATH] = path_json((const uint8_t (*)[32])path, np, ps->path);
    ps->v[P_PATH] = ps->path;
    return 1;
}

/* j's answer: status, body[0..n). */
static void set_answer(job *j, int status, char *body, size_t n)
{
    free(j->body);
    j->body = body;
    j->body_len = n;
    j->status = status;
    j->content_type = NULL;
    j->retry_after = 0;
}

int idem_answer(PGconn *c, job *j, int status, const uint8_t *sealed, size_t n)
{
    char ad[256 + 64];
    size_t an = answer_ad(j, ad);
    uint8_t *pt = n >= RT_SEAL_OVERHEAD ? malloc(n - RT_SEAL_OVERHEAD + 1) : NULL;
    long m = pt ? rt_seal_open(g_app.k.idem_seal, ad, an, sealed, n, pt) : -1;
    int rc = 0;
    parts ps = { 0 };
    if (m > 0 && pt[0] == '{') {   /* the first format: the whole answer */
        set_answer(j, status, (char *)pt, (size_t)m);
        return 0;
    }
    /* The cuts (format 1 has no ranges), then the parts they need. */
    if (m < HEADER || (pt[0] != 1 && pt[0] != FORMAT) || pt[13] > MAX_CUTS)
        goto bad;
    cut cuts[MAX_CUTS];
    size_t nc = pt[13], h = HEADER, prev = 0;
    int need_entry = 0;
    for (size_t k = 0; k < nc; k++) {
        int p = h < (size_t)m ? pt[h] : 0;
        size_t rn = p == P_RANGE ? CUT_RANGE : CUT;
        if (p < P_ENTRY || p >= P__N || (p == P_RANGE && pt[0] == 1) || h + rn > (size_t)m)
            goto bad;
        cuts[k] = (cut){ (size_t)rt_be_get(pt + h + 1, 4), 0, 0, p };
        if (p == P_RANGE) {
            cuts[k].src = (size_t)rt_be_get(pt + h + 5, 4);
            cuts[k].len = (size_t)rt_be_get(pt + h + 9, 4);
        }
        if (cuts[k].off < prev)
            goto bad;
        prev = cuts[k].off;
        need_entry |= p == P_ENTRY || p == P_RANGE;
        h += rn;
    }
    if (prev > (size_t)m - h)
        goto bad;
    size_t len = (size_t)m - h;
    if (nc) {
        int f = fetch_parts(c, rt_be_get(pt + 1, 8), rt_be_get(pt + 9, 4), need_entry, &ps);
        if (f == -2) {
            rc = -1;
            goto out;
        }
        if (f == 0) {
            job_error(j, 410, "answer_deleted",
                      "this Idempotency-Key's request was stored, but its data has since been deleted,"
                      " and its answer with it");
            goto out;
        }
        if (f < 0)
            goto bad;
        for (size_t k = 0; k < nc; k++) {
            if (cuts[k].part == P_RANGE) {
                if (cuts[k].src > ps.n[P_ENTRY] || cuts[k].len > ps.n[P_ENTRY] - cuts[k].src)
                    goto bad;
            } else {
                cuts[k].src = 0;
                cuts[k].len = ps.n[cuts[k].part];
            }
            len += cuts[k].len;
        }
    }
    char *body = malloc(len + 1);
    if (!body)
        goto bad;
    size_t from = h, w = 0;
    for (size_t k = 0; k < nc; k++) {
        size_t at = h + cuts[k].off;
        int p = cuts[k].part == P_RANGE ? P_ENTRY : cuts[k].part;
        memcpy(body + w, pt + from, at - from);
        w += at - from;
        memcpy(body + w, ps.v[p] + cuts[k].src, cuts[k].len);
        w += cuts[k].len;
        from = at;
    }
    memcpy(body + w, pt + from, (size_t)m - from);
    set_answer(j, status, body, len);
    goto out;
bad:
    job_error(j, 500, "internal_error", "the stored answer of this Idempotency-Key does not open");
out:
    PQclear(ps.batch);
    PQclear(ps.entry);
    free(pt);
    return rc;
}
