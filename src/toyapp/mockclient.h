/* mockclient.h — the mock TikTok API client (mockclient.c): the one
 * allowlisted outbound call, to its safe endpoint only. */
#ifndef TOYAPP_MOCKCLIENT_H
#define TOYAPP_MOCKCLIENT_H

#define WATCH_MAX 16

typedef struct watch_item { char *video_id, *title, *category, *watched_at; } watch_item;

/* What /api/watch_history returned: at most WATCH_MAX items. */
typedef struct watch_list {
    int status;
    int n;
    watch_item items[WATCH_MAX];
} watch_list;

/* Calls the mock API's /api/watch_history (2 s timeouts) into l (zeroed by
 * the caller).  Returns 0 on a 200 with a list of items, else -1. */
int mock_watch_history(watch_list *l);
/* Frees a heap watch_list and its strings (NULL is fine). */
void watch_list_free(void *l);

#endif
