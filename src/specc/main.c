/*
 * main.c — specc, the spec compiler.
 *
 *   specc [--check] [--out DIR] PATH...
 *
 * Reads every *.spec file under each PATH (a file or a directory, walked
 * recursively), sorted by path so that the output does not depend on the
 * order the file system lists them in; checks them; and, unless --check,
 * writes into DIR (default "."): gen/toy_spec.h, gen/toy_spec.c, the Ragel
 * machines gen/<name>.rl, postgres/schema.sql and docs/spec.md.
 * Exit status: 0 ok, 1 the spec has errors, 2 usage or I/O error.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "specc.h"

static char **paths;
static int npaths;

static void add_path(const char *p)
{
    paths = realloc(paths, sizeof *paths * (size_t)(npaths + 1));
    if (!paths) abort();
    paths[npaths++] = sc_strndup(p, strlen(p));
}

static int walk(const char *p)
{
    struct stat st;
    if (stat(p, &st) != 0) {
        fprintf(stderr, "specc: %s: no such file or directory\n", p);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        add_path(p);
        return 0;
    }
    DIR *d = opendir(p);
    if (!d) {
        fprintf(stderr, "specc: cannot read %s\n", p);
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char buf[4096];
        snprintf(buf, sizeof buf, "%s/%s", p, de->d_name);
        size_t n = strlen(de->d_name);
        struct stat cs;
        if (stat(buf, &cs) == 0 && S_ISDIR(cs.st_mode))
            rc |= walk(buf);
        else if (n > 5 && !strcmp(de->d_name + n - 5, ".spec"))
            add_path(buf);
    }
    closedir(d);
    return rc;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static sc_src *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "specc: cannot open %s\n", path);
        return NULL;
    }
    sc_src *s = sc_alloc(sizeof *s);
    size_t cap = 4096;
    char *buf = malloc(cap);   /* grown with realloc: not arena memory */
    if (!buf) abort();
    size_t n;
    while ((n = fread(buf + s->len, 1, cap - s->len - 1, f)) > 0) {
        s->len += n;
        if (cap - s->len < 2) {
            buf = realloc(buf, cap *= 2);
            if (!buf) abort();
        }
    }
    fclose(f);
    buf[s->len] = 0;
    if (memchr(buf, 0, s->len)) {
        fprintf(stderr, "%s: contains a NUL byte\n", path);
        return NULL;
    }
    s->text = buf;
    s->path = path;
    return s;
}

static int mkdirs(const char *root, const char *sub)
{
    char buf[4096];
    mkdir(root, 0755);   /* the output root may be new too */
    snprintf(buf, sizeof buf, "%s/%s", root, sub);
    mkdir(buf, 0755);
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

int main(int argc, char **argv)
{
    int check_only = 0;
    const char *out = ".";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--check"))
            check_only = 1;
        else if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else {
            fprintf(stderr, "usage: specc [--check] [--out DIR] PATH...\n");
            return 2;
        }
    }
    if (i == argc) {
        fprintf(stderr, "usage: specc [--check] [--out DIR] PATH...\n");
        return 2;
    }
    for (; i < argc; i++)
        if (walk(argv[i]) < 0)
            return 2;
    qsort(paths, (size_t)npaths, sizeof *paths, cmp);
    static sc_spec spec;   /* static: what it points to stays reachable until exit */
    memset(&spec, 0, sizeof spec);
    spec.srcs = sc_alloc(sizeof *spec.srcs * (size_t)(npaths + 1));
    for (int k = 0; k < npaths; k++) {
        sc_src *s = load(paths[k]);
        if (!s)
            return 2;
        spec.srcs[spec.nsrcs++] = s;
        sc_parse_file(&spec, s);
    }
    if (sc_nerrors == 0)
        sc_check(&spec);
    if (sc_nerrors) {
        fprintf(stderr, "specc: %d error%s\n", sc_nerrors, sc_nerrors == 1 ? "" : "s");
        return 1;
    }
    if (check_only)
        return 0;
    if (mkdirs(out, "gen") || mkdirs(out, "postgres") || mkdirs(out, "docs")) {
        fprintf(stderr, "specc: cannot create output directories under %s\n", out);
        return 2;
    }
    char gen[4096], sql[4096], doc[4096];
    snprintf(gen, sizeof gen, "%s/gen", out);
    snprintf(sql, sizeof sql, "%s/postgres/schema.sql", out);
    snprintf(doc, sizeof doc, "%s/docs/spec.md", out);
    if (sc_emit_c(&spec, gen) || sc_emit_service(&spec, gen) || sc_emit_ragel(&spec, gen)
        || sc_emit_sql(&spec, sql, gen)
        || sc_emit_doc(&spec, doc))
        return 2;
    return 0;
}
