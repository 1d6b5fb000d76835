/*
 * bench_report.c — fills toyapp's audit log straight in Postgres, and checks
 * what toyapp later signs on top of it.  Used by bench/bench_report.sh.
 *
 *   bench_report fill DATABASE_URL N SEED_FILE APP_ID FRONTIER_OUT
 *
 *     In one transaction on an empty log: COPY (binary) of N audit entries
 *     {"action":"bench","i":I} with their RFC 6962 leaf hashes and leaf
 *     indexes 0..N-1, the frontier computed on the way; then tree_state
 *     (size N and the frontier), one signed tree head of size N (signed with
 *     the key toyapp derives from the same sim seed and app id, serialized
 *     by the generated tree_head record so the bytes are toyapp's own), and
 *     counters.data_received += N.  No tree_nodes: reports do not use
 *     them.  Writes the frontier to FRONTIER_OUT and prints on stdout
 *
 *       root=HEX size=N public_key=HEX copy_s=S commit_s=S total_s=S rows_per_s=R
 *
 *   bench_report verify DATABASE_URL N FRONTIER_FILE SEED_FILE APP_ID
 *
 *     From the frontier of size N, appends every leaf with leaf_index >= N
 *     (checking its leaf hash against its bytes) and checks each stored tree
 *     head of size >= N: root, signature (by the derived key) and that the
 *     stored bytes are the canonical serialization.  Prints
 *
 *       heads=K max_size=M entries=E
 *
 * Exit status 0 on success, 1 on any failure (with a message on stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "rt_hex.h"
#include "rt_json.h"
#include "rt_merkle.h"
#include "rt_ser.h"
#include "rt_tee.h"
#include "toy_spec.h"

#define SIGN_PATH "toyapp/ed25519/signing/v1"   /* src/toyapp/main.c load_keys */
#define CHUNK (1u << 20)
#define SEG_LEAVES 256   /* leaves per log segment in fill: a large batch */

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_report: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = 0;
}

static void derive_key(const char *seed_path, const char *app_id, uint8_t seed[32], uint8_t pub[32])
{
    const char *err = NULL;
    rt_tee *t = rt_tee_open("sim", seed_path, app_id, &err);
    if (!t)
        die("sim TEE provider: %s", err ? err : "?");
    if (rt_tee_ed25519(t, SIGN_PATH, seed, pub))
        die("key derivation: %s", rt_tee_error(t));
    rt_tee_close(t);
}

static PGconn *connect_db(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        die("cannot connect: %s", PQerrorMessage(c));
    return c;
}

static PGresult *must(PGconn *c, PGresult *r, const char *what)
{
    int st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_COPY_IN) {
        fprintf(stderr, "bench_report: %s: %s", what, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        exit(1);
    }
    return r;
}

static void exec1(PGconn *c, const char *sql)
{
    PQclear(must(c, PQexec(c, sql), sql));
}

static void put16(uint8_t **p, uint16_t v) { (*p)[0] = (uint8_t)(v >> 8); (*p)[1] = (uint8_t)v; *p += 2; }
static void put32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        (*p)[i] = (uint8_t)(v >> (24 - 8 * i));
    *p += 4;
}
static void put64(uint8_t **p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        (*p)[i] = (uint8_t)(v >> (56 - 8 * i));
    *p += 8;
}

static void send_chunk(PGconn *c, const uint8_t *buf, size_t n)
{
    if (PQputCopyData(c, (const char *)buf, (int)n) != 1)
        die("COPY: %s", PQerrorMessage(c));
}

static uint64_t parse_n(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || !*s || v == 0 || v > (1ull << 40))
        die("N must be a positive integer, not %s", s);
    return v;
}

static int cmd_fill(const char *url, uint64_t n, const char *seed_path, const char *app_id, const char *fout)
{
    uint8_t seed[32], pub[32];
    derive_key(seed_path, app_id, seed, pub);
    PGconn *c = connect_db(url);
    double t0 = now_s();
    exec1(c, "SET synchronous_commit = off");
    exec1(c, "BEGIN");
    PGresult *r = must(c, PQexec(c, "SELECT tree_size FROM tree_state WHERE id = 1 FOR UPDATE"), "tree_state");
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 0), "0"))
        die("%s", "tree_state is missing or not empty: fill needs an empty log");
    PQclear(r);
    r = must(c, PQexec(c, "SELECT EXISTS (SELECT 1 FROM audit_log)"), "audit_log");
    if (strcmp(PQgetvalue(r, 0, 0), "f"))
        die("%s", "audit_log is not empty: fill needs an empty log");
    PQclear(r);

    /* Two binary COPYs: the entries (ids 1..n), then the log's leaves
     * (leaf i is entry i + 1) in segments of SEG_LEAVES, each recomputing
     * the same leaf hashes. */
    rt_merkle_frontier f;
    rt_merkle_frontier_init(&f);
    for (int pass = 0; pass < 2; pass++) {
        PQclear(must(c, PQexec(c, pass == 0
                                  ? "COPY audit_log (id, action, entry, leaf_hash) FROM STDIN (FORMAT binary)"
                                  : "COPY log_segments (first_leaf, batch_id, size, audit_ids, leaf_hashes)"
                                    " FROM STDIN (FORMAT binary)"),
                     "COPY"));
        uint8_t *buf = malloc(CHUNK + 256 + 40 * SEG_LEAVES), *p = buf;
        memcpy(p, "PGCOPY\n\377\r\n\0", 11);
        p += 11;
        put32(&p, 0);   /* flags */
        put32(&p, 0);   /* header extension length */
        double tp = now_s();
        for (uint64_t i = 0; i < n; i++) {
            char entry[64];
            int el = snprintf(entry, sizeof entry, "{\"action\":\"bench\",\"i\":%" PRIu64 "}", i);
            uint8_t leaf[32];
            rt_merkle_leaf((const uint8_t *)entry, (size_t)el, leaf);
            if (pass == 0) {
                if (rt_merkle_frontier_append(&f, leaf))
                    die("%s", "frontier append failed");
                put16(&p, 4);
                put32(&p, 8);
                put64(&p, i + 1);
                put32(&p, 5);
                memcpy(p, "bench", 5);
                p += 5;
                put32(&p, (uint32_t)el);
                memcpy(p, entry, (size_t)el);
                p += el;
                put32(&p, 32);
                memcpy(p, leaf, 32);
                p += 32;
            } else {
                /* A segment of its own for every SEG_LEAVES leaves, found
                 * under minus its first audit id. */
                static uint8_t ids[8 * SEG_LEAVES], hashes[32 * SEG_LEAVES];
                size_t k = (size_t)(i % SEG_LEAVES);
                uint8_t *q = ids + 8 * k;
                put64(&q, i + 1);
                memcpy(hashes + 32 * k, leaf, 32);
                if (k + 1 == SEG_LEAVES || i + 1 == n) {
                    uint64_t first = i - k;
                    put16(&p, 5);
                    put32(&p, 8);
                    put64(&p, first);
                    put32(&p, 8);
                    put64(&p, (uint64_t)-(int64_t)(first + 1));
                    put32(&p, 4);
                    put32(&p, (uint32_t)(k + 1));
                    put32(&p, (uint32_t)(8 * (k + 1)));
                    memcpy(p, ids, 8 * (k + 1));
                    p += 8 * (k + 1);
                    put32(&p, (uint32_t)(32 * (k + 1)));
                    memcpy(p, hashes, 32 * (k + 1));
                    p += 32 * (k + 1);
                }
            }
            if ((size_t)(p - buf) >= CHUNK) {
                send_chunk(c, buf, (size_t)(p - buf));
                p = buf;
            }
            if ((i + 1) % 1000000 == 0) {
                double t = now_s();
                fprintf(stderr, "bench_report: %s: %" PRIu64 "M rows sent, %.0f rows/s overall, %.0f rows/s last 1M\n",
                        pass ? "log_segments" : "audit_log", (i + 1) / 1000000, (double)(i + 1) / (t - t0),
                        1e6 / (t - tp));
                tp = t;
            }
        }
        put16(&p, 0xffff);   /* trailer */
        send_chunk(c, buf, (size_t)(p - buf));
        free(buf);
        if (PQputCopyEnd(c, NULL) != 1)
            die("COPY end: %s", PQerrorMessage(c));
        r = PQgetResult(c);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die("COPY: %s", PQresultErrorMessage(r));
        PQclear(r);
        while ((r = PQgetResult(c)))
            PQclear(r);
    }
    {
        char sv[64];
        snprintf(sv, sizeof sv, "SELECT setval('audit_log_id_seq', %" PRIu64 ")", n);
        PQclear(must(c, PQexec(c, sv), "setval"));
    }
    double t_copy = now_s();

    /* The state the sequencer continues from, and the signed head. */
    uint8_t fb[RT_MERKLE_FRONTIER_MAX_BYTES];
    size_t fl = rt_merkle_frontier_serialize(&f, fb, sizeof fb);
    toy_rec_tree_head th = { .treeSize = n };
    char ts[32];
    size_t tsn = rt_ser_now(ts);
    th.timestamp = (rt_str){ ts, tsn };
    th.publicKey = (rt_bytes){ pub, 32 };
    rt_merkle_frontier_root(&f, th.root);
    size_t ul, hl;
    char *unsigned_bytes = rt_ser_alloc(&toy_rec_tree_head_rec, &th, RT_SER_UNSIGNED, &ul, NULL);
    uint8_t sig[64];
    if (!unsigned_bytes || rt_ed25519_sign(seed, (const uint8_t *)unsigned_bytes, ul, sig))
        die("%s", "signing the tree head failed");
    free(unsigned_bytes);
    th.signature = (rt_bytes){ sig, 64 };
    char *head = rt_ser_alloc(&toy_rec_tree_head_rec, &th, 0, &hl, NULL);
    if (!head)
        die("%s", "serializing the tree head failed");
    char szs[24];
    snprintf(szs, sizeof szs, "%" PRIu64, n);
    {
        const char *v[] = { szs, (const char *)fb };
        int len[] = { 0, (int)fl }, fmt[] = { 0, 1 };
        PQclear(must(c, PQexecParams(c, "UPDATE tree_state SET tree_size = $1, frontier = $2 WHERE id = 1",
                                     2, NULL, v, len, fmt, 0), "tree_state"));
    }
    {
        const char *v[] = { szs, (const char *)th.root, head };
        int len[] = { 0, 32, (int)hl }, fmt[] = { 0, 1, 1 };
        PQclear(must(c, PQexecParams(c, "INSERT INTO tree_heads (tree_size, root, head) VALUES ($1, $2, $3)",
                                     3, NULL, v, len, fmt, 0), "tree_heads"));
    }
    {
        const char *v[] = { szs };
        PQclear(must(c, PQexecParams(c, "UPDATE counters SET value = value + $1 WHERE name = 'data_received'",
                                     1, NULL, v, NULL, NULL, 0), "counters"));
    }
    free(head);
    exec1(c, "COMMIT");
    double t_end = now_s();
    PQfinish(c);

    FILE *fo = fopen(fout, "wb");
    if (!fo || fwrite(fb, 1, fl, fo) != fl || fclose(fo))
        die("cannot write %s", fout);
    char rh[65], ph[65];
    hex(th.root, 32, rh);
    hex(pub, 32, ph);
    printf("root=%s size=%" PRIu64 " public_key=%s copy_s=%.2f commit_s=%.2f total_s=%.2f rows_per_s=%.0f\n",
           rh, n, ph, t_copy - t0, t_end - t_copy, t_end - t0, (double)n / (t_end - t0));
    return 0;
}

static const char *jstr(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
           ? json_object_get_string(v) : NULL;
}

/* Checks one stored tree head against the root computed here. */
static void check_head(const char *json, size_t len, uint64_t size, const uint8_t root[32],
                       const uint8_t pub[32])
{
    char *s = strndup(json, len);
    json_object *o = json_tokener_parse(s), *v;
    toy_rec_tree_head th = { 0 };
    uint8_t hp[32], hs[64];
    const char *ts = o ? jstr(o, "timestamp") : NULL;
    if (!o || !json_object_object_get_ex(o, "treeSize", &v) || !ts || rt_hex_decode_str(jstr(o, "root"), th.root, 32)
        || rt_hex_decode_str(jstr(o, "publicKey"), hp, 32) || rt_hex_decode_str(jstr(o, "signature"), hs, 64))
        die("tree head is malformed: %s", s);
    th.treeSize = (uint64_t)json_object_get_int64(v);
    th.timestamp = (rt_str){ ts, strlen(ts) };
    th.publicKey = (rt_bytes){ hp, 32 };
    if (th.treeSize != size)
        die("tree head size differs from its row: %s", s);
    if (memcmp(th.root, root, 32))
        die("tree head root differs from the root of the entries: %s", s);
    if (memcmp(hp, pub, 32))
        die("tree head signed by another key: %s", s);
    size_t ul, fl;
    char *u = rt_ser_alloc(&toy_rec_tree_head_rec, &th, RT_SER_UNSIGNED, &ul, NULL);
    if (!u || rt_ed25519_verify(pub, (const uint8_t *)u, ul, hs) != 1)
        die("tree head signature does not verify: %s", s);
    th.signature = (rt_bytes){ hs, 64 };
    char *full = rt_ser_alloc(&toy_rec_tree_head_rec, &th, 0, &fl, NULL);
    if (!full || fl != len || memcmp(full, json, len))
        die("tree head is not in canonical form: %s", s);
    free(u);
    free(full);
    json_object_put(o);
    free(s);
}

static uint64_t be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint8_t)p[i];
    return v;
}

static int cmd_verify(const char *url, uint64_t n, const char *fin, const char *seed_path, const char *app_id)
{
    uint8_t seed[32], pub[32];
    derive_key(seed_path, app_id, seed, pub);
    uint8_t fb[RT_MERKLE_FRONTIER_MAX_BYTES];
    FILE *fi = fopen(fin, "rb");
    if (!fi)
        die("cannot read %s", fin);
    size_t fl = fread(fb, 1, sizeof fb, fi);
    fclose(fi);
    rt_merkle_frontier f;
    rt_merkle_frontier_init(&f);
    if (rt_merkle_frontier_deserialize(&f, fb, fl) || f.size != n)
        die("%s holds no frontier of that size", fin);

    PGconn *c = connect_db(url);
    exec1(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
    char szs[24];
    snprintf(szs, sizeof szs, "%" PRIu64, n);
    const char *v[] = { szs };
    PGresult *e = must(c, PQexecParams(c, "SELECT l.leaf_index, a.entry, l.leaf_hash"
                                          " FROM log_leaf_range($1, (SELECT tree_size FROM tree_state WHERE id = 1)) l"
                                          " JOIN audit_log a ON a.id = l.audit_id ORDER BY l.leaf_index",
                                       1, NULL, v, NULL, NULL, 1), "entries");
    PGresult *h = must(c, PQexecParams(c, "SELECT tree_size, head FROM tree_heads WHERE tree_size >= $1"
                                          " ORDER BY tree_size", 1, NULL, v, NULL, NULL, 1), "heads");
    exec1(c, "COMMIT");
    int ne = PQntuples(e), nh = PQntuples(h), k = 0;
    uint64_t max = 0;
    for (int i = 0; i < nh; i++) {
        uint64_t size = be64(PQgetvalue(h, i, 0));
        while (f.size < size) {
            if (k >= ne || be64(PQgetvalue(e, k, 0)) != f.size)
                die("%s", "the log has a gap below a signed tree head");
            uint8_t leaf[32];
            rt_merkle_leaf((const uint8_t *)PQgetvalue(e, k, 1), (size_t)PQgetlength(e, k, 1), leaf);
            if (PQgetlength(e, k, 2) != 32 || memcmp(leaf, PQgetvalue(e, k, 2), 32))
                die("%s", "a stored leaf hash is not the hash of its entry");
            rt_merkle_frontier_append(&f, leaf);
            k++;
        }
        uint8_t root[32];
        rt_merkle_frontier_root(&f, root);
        check_head(PQgetvalue(h, i, 1), (size_t)PQgetlength(h, i, 1), size, root, pub);
        max = size;
    }
    PQclear(e);
    PQclear(h);
    PQfinish(c);
    if (nh == 0)
        die("%s", "no tree head of at least that size");
    printf("heads=%d max_size=%" PRIu64 " entries=%d\n", nh, max, k);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && !strcmp(argv[1], "fill"))
        return cmd_fill(argv[2], parse_n(argv[3]), argv[4], argv[5], argv[6]);
    if (argc == 7 && !strcmp(argv[1], "verify"))
        return cmd_verify(argv[2], parse_n(argv[3]), argv[4], argv[5], argv[6]);
    fprintf(stderr, "usage: bench_report fill DATABASE_URL N SEED_FILE APP_ID FRONTIER_OUT\n"
                    "       bench_report verify DATABASE_URL N FRONTIER_FILE SEED_FILE APP_ID\n");
    return 2;
}
