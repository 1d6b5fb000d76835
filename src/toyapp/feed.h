/*
 * feed.h — the live feed's frames, read from the log in the database
 * (feed.c), for the WebSocket layer on the service thread (ws.c).
 *
 * The feed is the audit log in leaf order, one sequencer round at a time:
 * the round's entries as `audit` frames, then the signed tree head that
 * closes it as a `tree_head` frame (with the consistency proof from the
 * round's first size), all declared in spec/records/streams.spec and
 * serialized by the generated tables.  Two threads read it:
 *
 *   the follower  keeps one cursor at the log's end: woken by the
 *                 sequencer's NOTIFY (a trigger on tree_heads, so every
 *                 instance hears every sequencer), or once a second, it
 *                 reads the new rounds and hands them to the service
 *                 thread, where every live client shares them; while no
 *                 session is attached it reads nothing, and starts again
 *                 at the log's end when one attaches;
 *   the backfill  serves one client at a time: from ?from=N (the largest
 *                 signed head <= N) up to the follower's position, a chunk
 *                 per request, so that a client that resumes misses
 *                 nothing and a slow one is read only as fast as it drains.
 *
 * Neither blocks the service thread: they hand results over under a mutex
 * and wake it with lws_cancel_service.
 */
#ifndef TOYAPP_FEED_H
#define TOYAPP_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "rt_merkle.h"

/*
 * One round of the stream, from tree size `from` to `to`: its entries'
 * audit frames, then the tree_head frame of size `to`, then a start frame
 * at `to` (for a client that joins there), each a complete WebSocket text
 * frame, back to back in buf after LWS_PRE bytes of headroom.  A round with
 * from == to has no entries and no tree head: only a start frame (where a
 * stream begins).  Immutable once made; shared by every client it is queued
 * for (refs counts them, service thread only).
 */
typedef struct feed_round {
    struct feed_round *next;
    int refs;
    uint64_t from, to;
    unsigned char *buf;          /* LWS_PRE + len bytes */
    size_t len;
    size_t n;                    /* entries */
    size_t *off;                 /* off[i]: entry i's frame; off[n]: the tree head's */
    size_t latest;               /* the first entry a `latest` client gets */
    size_t start_off, start_len; /* the start frame at `to` */
    unsigned epoch;              /* the follower's period of reading it came from */
} feed_round;

/* What a client asked for (the `entries` parameter). */
enum { FEED_ALL = 0, FEED_LATEST, FEED_NONE };

/* The bytes of r a client in mode gets (off into r->buf + LWS_PRE, len). */
void feed_segment(const feed_round *r, int mode, size_t *off, size_t *len);
/* The start frame of r. */
void feed_start_segment(const feed_round *r, size_t *off, size_t *len);
/* Frees r (its refs are 0). */
void feed_round_free(feed_round *r);

/*
 * A backfill request: a client's stream from `from` up to `until` (the
 * follower's position when asked; UINT64_MAX when it has none yet), at most
 * one chunk per request.  Made and owned by the service thread, lent to the
 * backfill thread until it comes back through feed_collect.
 */
typedef struct feed_req {
    struct feed_req *next;
    void *client;                /* the service thread's, untouched here */
    uint64_t from, until;
    int first;                   /* start the stream: find the largest signed
                                    head <= from and send its start frame */
    /* kept between chunks */
    rt_merkle_frontier f;        /* the frontier at `from`, once known */
    int have_f;
    /* the answer */
    feed_round *rounds;          /* in order, each from == the previous to */
    int done;                    /* reached `until` (or the log's end) */
    unsigned close_code;         /* nonzero: close the client so */
    char reason[96];
} feed_req;

/* Starts the follower and backfill threads.  Returns 0, or -1. */
int feed_start(void);
/* Stops them and waits for them (at shutdown). */
void feed_stop(void);

/* Hands r to the backfill thread (service thread). */
void feed_request(feed_req *r);

/* How many sessions are attached (service thread, at each change).  With
 * none, the follower reads nothing: the log's rounds are of no use then,
 * and reading them cost the database about 5 us a submission. */
void feed_demand(int sessions);
/* The follower's current period of reading: a round of an earlier one may
 * be behind the log's end by any amount (service thread). */
unsigned feed_epoch(void);

/* Takes what the threads finished since the last call (service thread):
 * the follower's new rounds in order, and the answered requests. */
void feed_collect(feed_round **rounds, feed_req **answered);

#endif
