/* conn.h — the lws protocol callback that serves every connection (conn.c). */
#ifndef TOYAPP_CONN_H
#define TOYAPP_CONN_H

#include <libwebsockets.h>

int toy_conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len);
/* The per-connection struct's size, for the lws protocol table. */
size_t toy_conn_pss_size(void);

#endif
