/* monitor.h — the health monitor thread (monitor.c). */
#ifndef TOYAPP_MONITOR_H
#define TOYAPP_MONITOR_H

#include "job.h"
#include "sql.h"

/* Whether the primary's commits are confirmed by a synchronous standby, as
 * of the last check. */
enum { REPL_UNKNOWN = 0, REPL_SYNC, REPL_MISSING, REPL_ASYNC };
int monitor_replication(void);
/* Counts the monitor's connections to the primary.  When it changes, the
 * monitor had to reconnect (the primary restarted, or the network broke):
 * a thread's own connection may be dead without knowing it yet, and is
 * better made again before its next statement (monitor_fresh). */
unsigned monitor_primary_gen(void);
/* Drops s's connection when the monitor reconnected since *seen. */
void monitor_fresh(db_server *s, unsigned *seen);

void *monitor_main(void *arg);
/* 1 once the monitor has checked the servers at least once. */
int monitor_ready(void);
/* Sets j's answer to GET /health (always 200: the process is alive), from
 * the monitor's last check. */
void monitor_health(job *j);
/* Sets j's answer to GET /ready: 200 when the last write probe passed, 503
 * with the reason and Retry-After otherwise. */
void monitor_ready_answer(job *j);

#endif
