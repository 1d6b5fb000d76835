/* monitor.h — the health monitor thread (monitor.c). */
#ifndef TOYAPP_MONITOR_H
#define TOYAPP_MONITOR_H

#include "job.h"

void *monitor_main(void *arg);
/* 1 once the monitor has checked the servers at least once. */
int monitor_ready(void);
/* Sets j's answer to GET /health, from the monitor's last check. */
void monitor_health(job *j);

#endif
