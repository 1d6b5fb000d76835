/*
 * mockclient.c — the mock TikTok API client: the only file of toyapp that
 * opens an outbound connection (besides libpq and the dstack socket), and
 * the only endpoint it ever calls is the safe one, /api/watch_history.
 * CI checks the object files for this (see tests/integration).
 *
 * Plain HTTP/1.1 over TCP, one request per connection, 2 s timeouts.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app.h"
#include "mockclient.h"

#define WATCH_HISTORY_PATH "/api/watch_history"

/* "http://host:port" -> host, port. */
static int parse_url(const char *url, char *host, size_t hl, char *port, size_t pl)
{
    if (strncmp(url, "http://", 7))
        return -1;
    const char *h = url + 7, *c = strchr(h, ':'), *e = h + strcspn(h, "/");
    if (c && c < e) {
        snprintf(host, hl, "%.*s", (int)(c - h), h);
        snprintf(port, pl, "%.*s", (int)(e - c - 1), c + 1);
    } else {
        snprintf(host, hl, "%.*s", (int)(e - h), h);
        snprintf(port, pl, "80");
    }
    return 0;
}

static char *get(const char *url, const char *token, int *status, size_t *len)
{
    char host[256], port[16];
    if (parse_url(url, host, sizeof host, port, sizeof port))
        return NULL;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
    if (getaddrinfo(host, port, &hints, &ai))
        return NULL;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = { 2, 0 };
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return NULL;
    }
    freeaddrinfo(ai);
    char req[1024];
    int n = snprintf(req, sizeof req, "GET " WATCH_HISTORY_PATH " HTTP/1.1\r\nHost: %s:%s\r\n"
                     "Authorization: Bearer %s\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
                     host, port, token);
    if (n <= 0 || (size_t)n >= sizeof req || write(fd, req, (size_t)n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 16384, got = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (got == cap) {
            if (cap >= (1u << 20))
                break;
            buf = realloc(buf, (cap *= 2) + 1);
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    char *body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) || !body) {
        free(buf);
        return NULL;
    }
    *status = atoi(buf + 9);
    body += 4;
    *len = got - (size_t)(body - buf);
    memmove(buf, body, *len + 1);
    return buf;
}

void watch_list_free(void *p)
{
    watch_list *l = p;
    if (!l)
        return;
    for (int i = 0; i < l->n; i++) {
        free(l->items[i].video_id);
        free(l->items[i].title);
        free(l->items[i].category);
        free(l->items[i].watched_at);
    }
    free(l);
}

int mock_watch_history(watch_list *l)
{
    size_t len = 0;
    int status = 0;
    char *body = get(g_app.cfg.mock_api_url, g_app.cfg.mock_api_token, &status, &len);
    if (!body)
        return -1;
    l->status = status;
    json_object *o = json_tokener_parse(body), *items;
    free(body);
    if (status != 200 || !o || !json_object_object_get_ex(o, "items", &items)
        || !json_object_is_type(items, json_type_array)) {
        json_object_put(o);
        return -1;
    }
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n && l->n < WATCH_MAX; i++) {
        json_object *it = json_object_array_get_idx(items, i), *v;
        watch_item *w = &l->items[l->n];
        const char *keys[] = { "videoId", "title", "category", "watchedAt" };
        char **dst[] = { &w->video_id, &w->title, &w->category, &w->watched_at };
        for (int k = 0; k < 4; k++)
            *dst[k] = strdup(json_object_object_get_ex(it, keys[k], &v) && json_object_is_type(v, json_type_string)
                             ? json_object_get_string(v) : "");
        l->n++;
    }
    json_object_put(o);
    return 0;
}
