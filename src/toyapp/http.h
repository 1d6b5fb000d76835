/* http.h — the lws protocol callback that serves every route (http.c). */
#ifndef TOYAPP_HTTP_H
#define TOYAPP_HTTP_H

#include <libwebsockets.h>

int toy_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                      void *in, size_t len);
size_t toy_http_pss_size(void);

#endif
