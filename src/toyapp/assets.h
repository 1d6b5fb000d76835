/*
 * assets.h — the files toyapp serves as they are (spec: `response 200
 * file`), embedded in the binary at build time: the make rule runs
 * build/embed over the files spec/ names and compiles what it writes
 * (build/assets.c), so the binary serves exactly the bytes of the commit it
 * was built from and fetches nothing from anywhere.
 */
#ifndef TOYAPP_ASSETS_H
#define TOYAPP_ASSETS_H

#include <stddef.h>

typedef struct toy_asset {
    const char *path;            /* from the repository root, as spec/ names it */
    const unsigned char *data;
    size_t len;
} toy_asset;

extern const toy_asset toy_assets[];
extern const size_t toy_nassets;

/* The embedded file at path, or NULL. */
const toy_asset *asset_find(const char *path);

#endif
