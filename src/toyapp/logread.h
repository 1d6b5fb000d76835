/* logread.h — reads of the audit log and the reports (logread.c). */
#ifndef TOYAPP_LOGREAD_H
#define TOYAPP_LOGREAD_H

#include "app.h"

void log_head(PGconn *c, job *j);
void log_proof(PGconn *c, job *j);
void log_consistency(PGconn *c, job *j);
/* This period's report: served if it exists, else generated on the
 * primary; from the replica only if it already exists. */
void report_get(PGconn *primary, PGconn *replica, job *j);
void reports_list(PGconn *c, job *j);

#endif
