/*
 * sql.h — Postgres: connections, migrations, and the one way statements
 * are run here.
 *
 * Every statement goes through sql_query / sql_exec with its parameters in
 * an sql_args (text, integers, bytes, binary arrays), so no statement text
 * is ever built from values.  A failure is logged once, here, with the
 * caller's tag; a lost connection is noticed by db_get on the next use.
 */
#ifndef TOYAPP_SQL_H
#define TOYAPP_SQL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "rt_pgarr.h"

/* Connects, as application_name app (NULL: "toyapp"; it names the thread
 * in pg_stat_activity), with a short timeout and TCP keepalives, so that a server that
 * is down or unreachable is an error in about a second.  NULL on failure
 * (the reason in err). */
PGconn *db_connect(const char *url, const char *app, char *err, size_t errlen);

/* Applies the versioned migrations not applied yet (under an advisory lock,
 * so that instances starting together do not race), then makes sure every
 * audit entry kind has its counter.  Returns 0, or -1 (reason in err). */
int db_migrate(const char *url, char *err, size_t errlen);

/* A server a thread keeps a connection to, reconnecting at most every
 * DB_RECONNECT_MS after a failure, so a dead server costs little. */
#define DB_RECONNECT_MS 500
typedef struct db_server {
    const char *url;             /* NULL or "": no such server */
    const char *name;            /* application_name (NULL: "toyapp") */
    PGconn *c;
    uint64_t last_fail;
    int prepared;                /* statements prepared on c (caller's bits) */
    unsigned gen;                /* counts connections made: a session's state
                                    (locks, prepared statements) is per gen */
    int sync_local;              /* the session's synchronous_commit: -1 unset,
                                    0 on, 1 local */
} db_server;

/* Sets the session's synchronous_commit: on (the commit waits for the
 * synchronous standby, if the server names one) or local (the primary
 * alone), when it is not already so on this connection.  Returns 0, or -1. */
int db_sync_commit(db_server *s, int local);

/* The connection, connecting if needed; NULL when the server is down (or
 * was, less than DB_RECONNECT_MS ago) or not configured. */
PGconn *db_get(db_server *s);
/* Drops the connection if it is broken (call after a failed statement). */
void db_check(db_server *s);
void db_close(db_server *s);

/* Statement parameters.  Values are borrowed until the statement runs. */
#define SQL_MAX_ARGS 40
typedef struct sql_args {
    int n;
    const char *v[SQL_MAX_ARGS];
    int len[SQL_MAX_ARGS], fmt[SQL_MAX_ARGS];
    char num[SQL_MAX_ARGS][24];
} sql_args;

void sql_text(sql_args *a, const char *s);               /* NUL-terminated; NULL is SQL NULL */
void sql_str(sql_args *a, const char *p, size_t n);     /* n bytes of text */
void sql_int(sql_args *a, int64_t v);
void sql_bytes(sql_args *a, const void *p, size_t n);   /* bytea */
void sql_array(sql_args *a, const rt_pgarr *arr);       /* a binary array */

/* Results: SQL_TEXT gives every value as text, SQL_BINARY in binary. */
enum { SQL_TEXT = 0, SQL_BINARY = 1 };

/* Runs sql with a (NULL: no parameters).  Returns the result (PQclear it),
 * or NULL after logging "toyapp: TAG: message". */
PGresult *sql_query(PGconn *c, const char *tag, const char *sql, const sql_args *a, int format);
/* The same for a statement whose rows do not matter.  Returns 0, or -1. */
int sql_exec(PGconn *c, const char *tag, const char *sql, const sql_args *a);
/* Prepares sql as name, and runs it. */
int sql_prepare(PGconn *c, const char *tag, const char *name, const char *sql, int nparams);
PGresult *sql_run_prepared(PGconn *c, const char *tag, const char *name, const sql_args *a, int format);

/* How long the calling thread's statements may wait, from now on (0, the
 * default: as long as they take).  Past ms a statement is cancelled.  It is
 * meant for a commit waiting for the synchronous replica: cancelling ends
 * that wait, and the commit then stands on the primary alone (Postgres says
 * so with a warning, and sql_unconfirmed() returns 1).  A statement
 * cancelled before its commit fails (SQLSTATE 57014), changing nothing.
 * stop, when not NULL, is watched instead (ms is then ignored): once it is
 * set the statement is abandoned, failing with an empty SQLSTATE; the
 * caller must then close the connection. */
void sql_wait_bound(int ms, const atomic_int *stop);
/* 1 when the calling thread's last statement committed on the primary but
 * its wait for the synchronous replica was cancelled. */
int sql_unconfirmed(void);

/* The SQLSTATE of the calling thread's last failed statement ("" when the
 * server gave none: a lost connection). */
const char *sql_last_state(void);

/* The calling thread's next statement, if it fails on the unique
 * constraint named, fails without a line on stderr: the caller expects
 * it and deals with it (sql_last_state() is "23505").  NULL: none. */
void sql_quiet_unique(const char *constraint);

/* A text-format integer value (0 when NULL). */
int64_t sql_int_at(const PGresult *r, int row, int col);

#endif
