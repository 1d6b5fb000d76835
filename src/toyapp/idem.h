/*
 * idem.h — the stored answers of requests sent with an Idempotency-Key.
 *
 * The writer stores, with each keyed request's key, its answer sealed
 * (AES-256-GCM under a TEE-derived key, bound to the key and the route),
 * without the parts the database keeps anyway: the audit entry (and the
 * answer's members that repeat it), the batch head and the inclusion path.
 * A retry gets the answer rebuilt from them, byte for byte the one first
 * sent.
 */
#ifndef TOY_IDEM_H
#define TOY_IDEM_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "job.h"

/* Seals job j's answer, whose entry is e in the batch batch_id with the
 * signed head head (its canonical JSON, as in batches.head).  Returns the
 * sealed length (*out malloc'd), or 0. */
size_t idem_seal(const job *j, const wentry *e, uint64_t batch_id, const char *head, size_t head_len,
                 uint8_t **out);

/* Sets j's answer from a stored one (status, sealed): rebuilt, or 410 when
 * the entry it holds was purged by a deletion since, or 500 when it does not
 * open.  Returns 0, or -1 when the database failed (j unchanged). */
int idem_answer(PGconn *c, job *j, int status, const uint8_t *sealed, size_t n);

#endif
