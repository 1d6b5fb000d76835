/*
 * logdb.h — reading the Merkle log from the database (logdb.c): signed tree
 * heads, and the node source the proof generators of rt_merkle read.
 */
#ifndef TOYAPP_LOGDB_H
#define TOYAPP_LOGDB_H

#include <libpq-fe.h>

#include "rt_merkle.h"
#include "toy_spec.h"

/* A signed tree head, parsed back from its stored canonical JSON. */
typedef struct log_head {
    toy_rec_tree_head th;
    char ts[40];
    uint8_t pub[32], sig[64];
} log_head;

/* A signed batch head, parsed back from its stored canonical JSON. */
typedef struct log_batch_head {
    toy_rec_batch_head bh;
    char cvm[256], ts[40];
    uint8_t pub[32], sig[64];
} log_batch_head;

/* Parses the stored JSON of a signed tree head (log_head) or batch head
 * (log_batch_head) into its generated struct, which then points into *h.
 * Returns 0, or -1 when the bytes are not such a head. */
int log_parse_head(const char *json, size_t len, log_head *h);
int log_parse_batch_head(const char *json, size_t len, log_batch_head *b);

/* Loads the latest signed tree head (size 0) or the one of exactly that
 * size.  Returns 0 (*found says whether there is one), or -1 when the
 * database fails or the stored head is malformed. */
int log_load_head(PGconn *c, uint64_t size, log_head *h, int *found);

/* The leaves lo..hi-1 of the log, from the segments that hold them: each
 * one's audit id (ids, may be NULL) and leaf hash.  Returns 0 when every
 * one is there, or -1 (the database failed, or a leaf is missing). */
int log_read_leaves(PGconn *c, uint64_t lo, uint64_t hi, uint64_t *ids, uint8_t (*hashes)[32]);

/* The proof node source over c: leaf hashes from log_segments, perfect
 * subtrees of 2^RT_MERKLE_STORED_MIN_LEVEL leaves and more from
 * tree_nodes, smaller ones recomputed from their leaves. */
rt_merkle_source log_source(PGconn *c);

#endif
