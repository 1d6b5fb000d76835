/*
 * h_asset.c — the files spec/ serves as they are (the dashboard: GET
 * /dashboard, /dashboard/app.js, /dashboard/style.css), from the copies
 * embedded at build time (assets.h), on the service thread.
 *
 * Each answer carries a Content-Security-Policy that lets the page load
 * its own script and style sheet and open its own origin's WebSocket, and
 * nothing else: no inline script, no other origin, no frame around it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "assets.h"
#include "handler.h"

#define ASSET_HEADERS                                                                          \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "     \
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "              \
    "frame-ancestors 'none'\r\n"                                                             \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-cache\r\n"

const toy_asset *asset_find(const char *path)
{
    for (size_t i = 0; i < toy_nassets; i++)
        if (!strcmp(toy_assets[i].path, path))
            return &toy_assets[i];
    return NULL;
}

static void asset_serve(job *j, worker *w)
{
    (void)w;
    const char *path = NULL, *type = NULL;
#define XX(name, file, ctype) \
    if (j->route == TOY_R_##name) {   \
        path = file;                  \
        type = ctype;                 \
    }
    TOY_FILES(XX)
#undef XX
    const toy_asset *a = path ? asset_find(path) : NULL;
    char *body = a ? malloc(a->len ? a->len : 1) : NULL, *headers = a ? strdup(ASSET_HEADERS) : NULL;
    if (!body || !headers) {
        free(body);
        free(headers);
        job_error(j, 500, "internal_error", "this file was not embedded in the build");
        return;
    }
    memcpy(body, a->data, a->len);
    free(j->body);
    j->body = body;
    j->body_len = a->len;
    j->status = 200;
    j->content_type = type;
    j->headers = headers;
}
const toy_handler h_asset = { .serve = asset_serve };
