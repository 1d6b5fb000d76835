/*
 * ws.h — the WebSocket sessions of GET /ws on the service thread (ws.c).
 *
 * After the handshake (h_ws.c) conn.c hands the connection to a session:
 * every byte the client sends goes to ws_rx, every writable callback to
 * ws_writable.  A session streams the feed's rounds (feed.h) through a
 * bounded queue of references to them (the rounds are shared, never
 * copied); a client whose queue is full is closed with 1013, so that it
 * never holds back the writer, the feed or any other client.
 */
#ifndef TOYAPP_WS_H
#define TOYAPP_WS_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

typedef struct ws_client ws_client;

/* A session streaming entries in mode (FEED_ALL, FEED_LATEST, FEED_NONE)
 * from tree size from (-1: from the latest signed head).  Counted against
 * WS_MAX_CLIENTS from now on: NULL when that many sessions exist. */
ws_client *ws_client_new(int mode, int64_t from);

/* Sessions that exist (attached or not). */
int ws_clients(void);

/*
 * The 101 answer to c's handshake is written on wsi: the stream starts.
 * leftover[0..n) is what the client sent after its handshake (its first
 * frames).  Returns 0, or -1 to close the connection.
 */
int ws_attach(ws_client *c, struct lws *wsi, uint8_t *leftover, size_t n);

/* The client's bytes (unmasked in place), and the connection's writable
 * callback.  Each returns what the lws callback returns (-1: close). */
int ws_rx(ws_client *c, uint8_t *in, size_t len);
int ws_writable(ws_client *c);

/* The connection is gone (or never got its 101): c is freed now, or when
 * the backfill thread hands its request back. */
void ws_closed(ws_client *c);

/* Takes the feed's new rounds and answered requests (from conn.c, when the
 * service thread is woken). */
void ws_service(void);

/* The server is stopping (main, once its service loop has ended): each
 * client between two frames is sent a close frame, 1001 with where to
 * resume, at once; the connections end with the lws context. */
void ws_stop(void);

/* At exit, after the feed has stopped and the lws context is destroyed:
 * frees what is left. */
void ws_cleanup(void);

#endif
