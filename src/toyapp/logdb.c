/* logdb.c — the Merkle log as stored by the sequencer, read back (logdb.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "logdb.h"
#include "rt_be.h"
#include "rt_hex.h"
#include "sql.h"

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

static json_object *parse_json(const char *json, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = tok && len < INT32_MAX ? json_tokener_parse_ex(tok, json, (int)len) : NULL;
    json_tokener_free(tok);
    return o;
}

/* A uint field: a JSON integer >= 0. */
static int juint(json_object *o, const char *k, uint64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int)
        || json_object_get_int64(v) < 0)
        return -1;
    *out = (uint64_t)json_object_get_int64(v);
    return 0;
}

int log_parse_batch_head(const char *json, size_t len, log_batch_head *b)
{
    json_object *o = parse_json(json, len);
    const char *cvm = o ? jstr(o, "cvmId") : NULL, *ts = o ? jstr(o, "timestamp") : NULL;
    int ok = cvm && ts && strlen(cvm) < sizeof b->cvm && strlen(ts) < sizeof b->ts
             && !juint(o, "batchId", &b->bh.batchId) && !juint(o, "size", &b->bh.size)
             && !rt_hex_decode_str(jstr(o, "root"), b->bh.root, 32)
             && !rt_hex_decode_str(jstr(o, "publicKey"), b->pub, 32)
             && !rt_hex_decode_str(jstr(o, "signature"), b->sig, 64);
    if (ok) {
        snprintf(b->cvm, sizeof b->cvm, "%s", cvm);
        snprintf(b->ts, sizeof b->ts, "%s", ts);
        b->bh.cvmId = rt_cstr(b->cvm);
        b->bh.timestamp = rt_cstr(b->ts);
        b->bh.publicKey = (rt_bytes){ b->pub, 32 };
        b->bh.signature = (rt_bytes){ b->sig, 64 };
    }
    json_object_put(o);
    return ok ? 0 : -1;
}

int log_parse_head(const char *json, size_t len, log_head *h)
{
    json_object *o = parse_json(json, len), *v;
    int ok = o && json_object_object_get_ex(o, "treeSize", &v)
             && !rt_hex_decode_str(jstr(o, "root"), h->th.root, 32)
             && !rt_hex_decode_str(jstr(o, "publicKey"), h->pub, 32)
             && !rt_hex_decode_str(jstr(o, "signature"), h->sig, 64) && jstr(o, "timestamp");
    if (ok) {
        h->th.treeSize = (uint64_t)json_object_get_int64(v);
        snprintf(h->ts, sizeof h->ts, "%s", jstr(o, "timestamp"));
        h->th.timestamp = (rt_str){ h->ts, strlen(h->ts) };
        h->th.publicKey = (rt_bytes){ h->pub, 32 };
        h->th.signature = (rt_bytes){ h->sig, 64 };
    }
    json_object_put(o);
    return ok ? 0 : -1;
}

int log_load_head(PGconn *c, uint64_t size, log_head *h, int *found)
{
    sql_args a = { 0 };
    sql_int(&a, (int64_t)size);
    PGresult *r = size ? sql_query(c, "log", "SELECT head FROM tree_heads WHERE tree_size = $1", &a, SQL_BINARY)
                       : sql_query(c, "log", "SELECT head FROM tree_heads ORDER BY tree_size DESC LIMIT 1",
                                   NULL, SQL_BINARY);
    if (!r)
        return -1;
    *found = PQntuples(r) == 1;
    int rc = *found ? log_parse_head(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), h) : 0;
    PQclear(r);
    return rc;
}


int log_read_leaves(PGconn *c, uint64_t lo, uint64_t hi, uint64_t *ids, uint8_t (*hashes)[32])
{
    if (hi <= lo)
        return 0;
    sql_args a = { 0 };
    sql_int(&a, (int64_t)lo);
    sql_int(&a, (int64_t)hi);
    /* The last segment that starts at or before lo, and the ones after it
     * that start before hi: the primary key, twice. */
    PGresult *r = sql_query(c, "log", "SELECT first_leaf, size, audit_ids, leaf_hashes FROM log_segments"
                                      " WHERE first_leaf >= coalesce((SELECT max(first_leaf) FROM log_segments"
                                      " WHERE first_leaf <= $1), 0) AND first_leaf < $2 ORDER BY first_leaf",
                            &a, SQL_BINARY);
    if (!r)
        return -1;
    uint64_t next = lo;
    for (int row = 0; row < PQntuples(r) && next < hi; row++) {
        uint64_t first = rt_be_get(PQgetvalue(r, row, 0), 8);
        uint32_t size = 0;
        for (int b = 0; b < 4 && PQgetlength(r, row, 1) == 4; b++)
            size = size << 8 | (uint8_t)PQgetvalue(r, row, 1)[b];
        if ((size_t)PQgetlength(r, row, 2) != (size_t)size * 8 || (size_t)PQgetlength(r, row, 3) != (size_t)size * 32
            || first > next)
            break;   /* malformed, or a gap: next is missing */
        for (; next < first + size && next < hi; next++) {
            uint64_t k = next - first;
            if (ids)
                ids[next - lo] = rt_be_get(PQgetvalue(r, row, 2) + 8 * k, 8);
            memcpy(hashes[next - lo], PQgetvalue(r, row, 3) + 32 * k, 32);
        }
    }
    PQclear(r);
    if (next != hi) {
        fprintf(stderr, "toyapp: log: leaves %llu..%llu are not all in log_segments\n", (unsigned long long)lo,
                (unsigned long long)hi - 1);
        return -1;
    }
    return 0;
}

static int db_subtree(void *ctx, uint64_t start, unsigned level, uint8_t out[32])
{
    PGconn *c = ctx;
    int stored = level >= RT_MERKLE_STORED_MIN_LEVEL;
    sql_args a = { 0 };
    sql_int(&a, (int64_t)RT_MERKLE_NODE_ID(level, start));
    uint8_t leaves[1 << (RT_MERKLE_STORED_MIN_LEVEL - 1)][32];
    int ok;
    if (stored) {
        PGresult *r = sql_query(c, "log", "SELECT hash FROM tree_nodes WHERE id = $1", &a, SQL_BINARY);
        ok = r && PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 32;
        if (ok)
            memcpy(out, PQgetvalue(r, 0, 0), 32);
        PQclear(r);
    } else {
        ok = log_read_leaves(c, start, start + (1ull << level), NULL, leaves) == 0;
        if (ok)
            rt_merkle_root((const uint8_t (*)[32])leaves, (size_t)1 << level, out);
    }
    return ok ? 0 : -1;
}

rt_merkle_source log_source(PGconn *c)
{
    return (rt_merkle_source){ db_subtree, NULL, c };
}
