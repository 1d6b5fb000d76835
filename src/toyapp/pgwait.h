/*
 * pgwait.h — waiting for a statement's result without waiting forever.
 *
 * A commit on a primary with a synchronous standby waits for the standby,
 * and with the standby away it waits forever (docs/architecture.md,
 * "Acknowledged on two nodes").  The statement helpers (sql.h) and the
 * chain poster (poster.c, which links no more of the service than libpq)
 * both send a statement with libpq's asynchronous calls and wait here,
 * bounded by time or by a stop flag.
 */
#ifndef TOYAPP_PGWAIT_H
#define TOYAPP_PGWAIT_H

#include <stdatomic.h>

#include <libpq-fe.h>

/*
 * The result of the statement just sent on c (sent: what PQsendQuery*
 * returned; 0 gives NULL at once).  With stop not NULL, *stop is looked at
 * every 100 ms: once it is set the statement is abandoned, NULL is
 * returned, and the caller must close the connection (it is still busy).
 * Otherwise, with ms > 0, a statement still running after ms is cancelled
 * (PQcancel) and its result then awaited: a commit waiting for the standby
 * then stands on the primary alone, a statement cancelled before its commit
 * fails (SQLSTATE 57014).  With neither, it waits as long as it takes.
 * When several results come, the first failure is the one returned.  Never
 * NULL except when abandoned or not sent; a broken connection gives a
 * failed result.
 */
PGresult *pg_await(PGconn *c, int sent, int ms, const atomic_int *stop);

#endif
