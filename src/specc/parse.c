/*
 * parse.c — recursive-descent parser for the spec language.
 *
 * The grammar is in spec/README.md.  Declarations are separated by
 * newlines; a syntax error skips to the end of the enclosing line so that
 * one run reports every independent mistake.
 */
#include <stdlib.h>
#include <string.h>

#include "specc.h"

typedef struct P {
    sc_lexer lx;
    sc_token t;       /* current token */
    sc_spec *spec;
    int failed;       /* an error was reported in the current declaration */
} P;

static void next(P *p)
{
    do
        p->t = sc_lex_next(&p->lx);
    while (p->t.kind == T_ERROR);   /* the lexer already reported it */
}

static int is_name(P *p, const char *w)
{
    return p->t.kind == T_NAME && p->t.n == strlen(w) && memcmp(p->t.p, w, p->t.n) == 0;
}

static char *tokstr(P *p)
{
    return sc_strndup(p->t.p, p->t.n);
}

static void syntax(P *p, const char *what)
{
    if (!p->failed) {
        if (p->t.kind == T_NAME || p->t.kind == T_PATH)
            sc_error(p->t.pos, "expected %s, found '%.*s'", what, (int)p->t.n, p->t.p);
        else
            sc_error(p->t.pos, "expected %s, found %s", what, sc_tok_name(p->t.kind));
    }
    p->failed = 1;
}

static void skip_nl(P *p)
{
    while (p->t.kind == T_NL)
        next(p);
}

/* After an error: skip to the next line at the current nesting level. */
static void recover(P *p)
{
    int depth = 0;
    while (p->t.kind != T_EOF) {
        if (p->t.kind == T_LBRACE)
            depth++;
        else if (p->t.kind == T_RBRACE) {
            if (depth == 0)
                return;
            depth--;
        } else if (p->t.kind == T_NL && depth == 0)
            return;
        next(p);
    }
}

static int expect(P *p, int kind, const char *what)
{
    if (p->t.kind != kind) {
        syntax(p, what);
        return 0;
    }
    next(p);
    return 1;
}

static char *expect_name(P *p, const char *what)
{
    if (p->t.kind != T_NAME) {
        syntax(p, what);
        return NULL;
    }
    char *s = tokstr(p);
    next(p);
    return s;
}

static int expect_word(P *p, const char *w)
{
    if (!is_name(p, w)) {
        char buf[64];
        snprintf(buf, sizeof buf, "'%s'", w);
        syntax(p, buf);
        return 0;
    }
    next(p);
    return 1;
}

/* The end of a declaration line: a newline, or a '}' left for the caller. */
static void end_line(P *p)
{
    if (p->t.kind == T_NL || p->t.kind == T_EOF || p->t.kind == T_RBRACE)
        return;
    syntax(p, "end of line");
}

/* Appends to an arena array, doubling its room at powers of two. */
#define PUSH(arr, n, v) do { \
        if (((n) & ((n) - 1)) == 0) { \
            void *grown_ = sc_alloc(sizeof *(arr) * (size_t)((n) ? 2 * (n) : 1)); \
            if (n) memcpy(grown_, (arr), sizeof *(arr) * (size_t)(n)); \
            (arr) = grown_; \
        } \
        (arr)[(n)++] = (v); } while (0)

/* Runs `body` for each line of a { ... } block.  A line that failed is
 * skipped at the top of the next turn, so a body may `continue`. */
#define BLOCK(p, body) do { \
        if (expect((p), T_LBRACE, "'{'")) { \
            for (int first_ = 1;; first_ = 0) { \
                if (!first_ && (p)->failed) recover(p); \
                skip_nl(p); \
                if ((p)->t.kind == T_RBRACE || (p)->t.kind == T_EOF) break; \
                (p)->failed = 0; \
                body; \
            } \
            expect((p), T_RBRACE, "'}'"); \
        } } while (0)

static const char *label(P *p)
{
    if (p->t.kind == T_NAME || p->t.kind == T_STRING) {
        char *s = tokstr(p);
        next(p);
        return s;
    }
    syntax(p, "a label (a name or a string)");
    return NULL;
}

static int range(P *p, int64_t *lo, int64_t *hi)
{
    if (p->t.kind != T_INT) { syntax(p, "a range such as 1..256"); return 0; }
    *lo = p->t.ival;
    next(p);
    if (!expect(p, T_DOTDOT, "'..'")) return 0;
    if (p->t.kind != T_INT) { syntax(p, "the end of the range"); return 0; }
    *hi = p->t.ival;
    sc_pos hp = p->t.pos;
    next(p);
    if (*hi < *lo) {
        sc_error(hp, "range ends before it starts");
        p->failed = 1;
        return 0;
    }
    return 1;
}

/* ---- derive ------------------------------------------------------------- */

static void parse_dfield(P *p, sc_derive *d)
{
    sc_dfield f;
    memset(&f, 0, sizeof f);
    f.pos = p->t.pos;
    if (!(f.name = expect_name(p, "a derivation field name"))) return;
    if (is_name(p, "keywords")) {
        f.kind = SC_D_KEYWORDS;
        next(p);
    } else if (is_name(p, "number")) {
        f.kind = SC_D_NUMBER;
        next(p);
        if (!expect_word(p, "after")) return;
        if (p->t.kind != T_STRING || p->t.n == 0) { syntax(p, "the marker string, e.g. \"age:\""); return; }
        f.after = tokstr(p);
        next(p);
    } else if (is_name(p, "text")) {
        f.kind = SC_D_TEXT;
        next(p);
    } else {
        syntax(p, "'keywords', 'number' or 'text'");
        return;
    }
    if (is_name(p, "default")) {
        next(p);
        if (!(f.deflt = label(p))) return;
    }
    if (p->t.kind == T_LBRACE) {
        BLOCK(p, {
            sc_dlabel l;
            memset(&l, 0, sizeof l);
            l.pos = p->t.pos;
            if (!(l.label = label(p))) continue;
            if (f.kind == SC_D_KEYWORDS) {
                while (p->t.kind == T_STRING) {
                    PUSH(l.keywords, l.nkeywords, tokstr(p));
                    next(p);
                }
                if (!l.nkeywords) { syntax(p, "one or more keyword strings"); continue; }
            } else if (f.kind == SC_D_NUMBER) {
                if (!range(p, &l.lo, &l.hi)) continue;
            } else {
                sc_error(l.pos, "a 'text' derivation has no labels");
                p->failed = 1;
                continue;
            }
            end_line(p);
            PUSH(f.labels, f.nlabels, l);
        });
    }
    end_line(p);
    PUSH(d->fields, d->nfields, f);
}

static void parse_derive(P *p)
{
    sc_derive *d = sc_alloc(sizeof *d);
    d->pos = p->t.pos;
    next(p);
    if (!(d->name = expect_name(p, "the derivation's name"))) return;
    BLOCK(p, parse_dfield(p, d));
    PUSH(p->spec->derives, p->spec->nderives, d);
}

/* ---- request fields and parameters -------------------------------------- */

static int parse_class(P *p, int *cls)
{
    if (is_name(p, "public")) *cls = SC_PUBLIC;
    else if (is_name(p, "pseudonymous")) *cls = SC_PSEUDONYMOUS;
    else if (is_name(p, "secret")) *cls = SC_SECRET;
    else { syntax(p, "a data class: public, pseudonymous or secret"); return 0; }
    next(p);
    return 1;
}

static void parse_rfield(P *p, sc_rfield **arr, int *n, int is_param)
{
    sc_rfield f;
    memset(&f, 0, sizeof f);
    f.pos = p->t.pos;
    f.cls = SC_PUBLIC;
    if (!(f.name = expect_name(p, "a field name"))) return;
    if (is_name(p, "string")) {
        f.type = SC_R_STRING;
        next(p);
        if (!range(p, &f.min, &f.max)) return;
    } else if (is_name(p, "int")) {
        f.type = SC_R_INT;
        next(p);
        if (!range(p, &f.min, &f.max)) return;
    } else if (is_name(p, "bool")) {
        f.type = SC_R_BOOL;
        next(p);
    } else if (is_name(p, "hex") && !is_param) {
        f.type = SC_R_HEX;
        next(p);
        if (p->t.kind != T_INT) { syntax(p, "the number of bytes, e.g. hex 32"); return; }
        f.min = f.max = p->t.ival;
        next(p);
    } else if (is_name(p, "id") && is_param) {
        f.type = SC_R_ID;
        next(p);
        if (!range(p, &f.min, &f.max)) return;
    } else if (is_name(p, "enum") && is_param) {
        f.type = SC_R_ENUM;
        next(p);
        if (!expect(p, T_LPAREN, "'('")) return;
        while (p->t.kind == T_NAME || p->t.kind == T_STRING) {
            PUSH(f.labels, f.nlabels, tokstr(p));
            next(p);
        }
        if (!expect(p, T_RPAREN, "')'")) return;
    } else if (is_name(p, "object") && !is_param) {
        f.type = SC_R_OBJECT;
        next(p);
        if (is_name(p, "optional")) { f.optional = 1; next(p); }
        BLOCK(p, parse_rfield(p, &f.fields, &f.nfields, 0));
        end_line(p);
        PUSH(*arr, *n, f);
        return;
    } else {
        syntax(p, is_param ? "a type: string, id, int, bool or enum" : "a type: string, hex, int, bool or object");
        return;
    }
    if (!is_param && p->t.kind == T_NAME && !is_name(p, "optional")) {
        if (!parse_class(p, &f.cls)) return;
    }
    if (is_name(p, "optional")) { f.optional = 1; next(p); }
    if (p->t.kind == T_ARROW && !is_param) {
        next(p);
        for (;;) {
            sc_sink s;
            memset(&s, 0, sizeof s);
            s.pos = p->t.pos;
            if (!(s.name = expect_name(p, "a sink: pseudonym, commit, digest or a derivation's name"))) return;
            s.kind = !strcmp(s.name, "pseudonym") ? SC_SINK_PSEUDONYM
                   : !strcmp(s.name, "commit") ? SC_SINK_COMMIT
                   : !strcmp(s.name, "digest") ? SC_SINK_DIGEST : SC_SINK_DERIVE;
            PUSH(f.sinks, f.nsinks, s);
            if (p->t.kind != T_COMMA) break;
            next(p);
        }
    }
    end_line(p);
    PUSH(*arr, *n, f);
}

/* ---- output fields ------------------------------------------------------ */

static sc_record *parse_record_body(P *p, const char *name, int kind, sc_pos pos);

static int parse_otype(P *p, sc_otyp *t)
{
    static const struct { const char *w; int k; } simple[] = {
        { "string", SC_O_STRING }, { "id", SC_O_ID }, { "time", SC_O_TIME },
        { "uint", SC_O_UINT }, { "int", SC_O_INT }, { "bool", SC_O_BOOL },
        { "hash", SC_O_HASH }, { "hex", SC_O_HEX },
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (is_name(p, simple[i].w)) {
            t->kind = simple[i].k;
            next(p);
            return 1;
        }
    if (is_name(p, "derived") || is_name(p, "record") || is_name(p, "audit")) {
        t->kind = is_name(p, "derived") ? SC_O_DERIVED : is_name(p, "record") ? SC_O_RECORD : SC_O_AUDIT;
        next(p);
        return (t->ref = expect_name(p, "a name")) != NULL;
    }
    if (is_name(p, "list")) {
        next(p);
        t->kind = SC_O_LIST;
        t->elem = sc_alloc(sizeof *t->elem);
        return parse_otype(p, t->elem);
    }
    if (is_name(p, "object")) {
        sc_pos pos = p->t.pos;
        next(p);
        t->kind = SC_O_OBJECT;
        t->rec = parse_record_body(p, NULL, SC_REC_OBJECT, pos);
        return t->rec != NULL;
    }
    syntax(p, "a type: string, id, time, uint, int, bool, hash, hex, derived, record, audit, list or object");
    return 0;
}

static sc_from *parse_from(P *p)
{
    sc_from *fr = sc_alloc(sizeof *fr);
    fr->pos = p->t.pos;
    next(p);  /* 'from' */
    if (!(fr->endpoint = expect_name(p, "an endpoint name, or 'entry'"))) return NULL;
    fr->entry = !strcmp(fr->endpoint, "entry");
    if (!expect(p, T_DOT, fr->entry ? "'.' and a field of the entry" : "'.' and a request field")) return NULL;
    for (;;) {
        char *s = expect_name(p, "a request field name");
        if (!s) return NULL;
        PUSH(fr->path, fr->npath, s);
        if (p->t.kind != T_DOT) break;
        next(p);
    }
    if (is_name(p, "via")) {
        next(p);
        fr->via_pos = p->t.pos;
        if (!(fr->via = expect_name(p, "a sink name"))) return NULL;
    }
    return fr;
}

static void parse_ofield(P *p, sc_record *r)
{
    sc_ofield f;
    memset(&f, 0, sizeof f);
    f.pos = p->t.pos;
    if (!(f.name = expect_name(p, "a field name"))) return;
    if (!parse_otype(p, &f.type)) return;
    for (;;) {
        if (is_name(p, "nullable")) { f.nullable = 1; next(p); }
        else if (is_name(p, "signature")) { f.is_signature = 1; next(p); }
        else if (is_name(p, "from")) { if (!(f.from = parse_from(p))) return; }
        else break;
    }
    end_line(p);
    PUSH(r->fields, r->nfields, f);
}

static sc_record *parse_record_body(P *p, const char *name, int kind, sc_pos pos)
{
    sc_record *r = sc_alloc(sizeof *r);
    r->name = name;
    r->kind = kind;
    r->pos = pos;
    int outer_failed = p->failed;
    BLOCK(p, parse_ofield(p, r));
    p->failed = outer_failed;
    return r;
}

static void parse_named_record(P *p, int kind)
{
    sc_pos pos = p->t.pos;
    next(p);
    char *name = expect_name(p, "a name");
    if (!name) return;
    sc_record *r = parse_record_body(p, name, kind, pos);
    PUSH(p->spec->records, p->spec->nrecords, r);
}

/* ---- endpoint ----------------------------------------------------------- */

static int parse_size(P *p, int64_t *out)
{
    if (p->t.kind != T_INT) { syntax(p, "a size such as 64KiB"); return 0; }
    int64_t v = p->t.ival;
    next(p);
    if (is_name(p, "KiB")) { v *= 1024; next(p); }
    else if (is_name(p, "MiB")) { v *= 1024 * 1024; next(p); }
    else if (is_name(p, "B")) next(p);
    else { syntax(p, "a unit: B, KiB or MiB"); return 0; }
    *out = v;
    return 1;
}

/* NAME, NAME, ... to the end of the line, appended to *arr. */
static void parse_names(P *p, const char ***arr, int *n, const char *what)
{
    for (;;) {
        char *s = expect_name(p, what);
        if (!s)
            break;
        PUSH(*arr, *n, s);
        if (p->t.kind != T_COMMA)
            break;
        next(p);
    }
    end_line(p);
}

/* `endpoint NAME METHOD /path [port metadata] { ... }`, or with job set
 * `job NAME { ... }`: the same block, with no method, path or port. */
static void parse_endpoint(P *p, int job)
{
    sc_endpoint *e = sc_alloc(sizeof *e);
    e->pos = p->t.pos;
    e->job = job;
    next(p);
    if (!(e->name = expect_name(p, job ? "the job's name" : "the endpoint's name"))) return;
    if (job) {
        e->method = e->path = "";
    } else {
        if (!(e->method = expect_name(p, "a method (GET, POST, ...)"))) return;
        if (p->t.kind != T_PATH) { syntax(p, "a path starting with '/'"); return; }
        e->path = tokstr(p);
        next(p);
    }
    if (!job && is_name(p, "port")) {
        next(p);
        if (!expect_word(p, "metadata")) return;
        e->metadata_port = 1;
    }
    BLOCK(p, {
        if (is_name(p, "param")) {
            next(p);
            parse_rfield(p, &e->params, &e->nparams, 1);
        } else if (is_name(p, "request")) {
            sc_pos rp = p->t.pos;
            next(p);
            if (e->has_request) { sc_error(rp, "endpoint %s has a second request", e->name); p->failed = 1; continue; }
            e->has_request = 1;
            e->max_depth = 0;
            if (!expect_word(p, "max") || !parse_size(p, &e->max_body)) continue;
            if (is_name(p, "depth")) {
                next(p);
                if (p->t.kind != T_INT) { syntax(p, "a nesting depth"); continue; }
                e->max_depth = (int)p->t.ival;
                next(p);
            }
            BLOCK(p, parse_rfield(p, &e->req, &e->nreq, 0));
        } else if (is_name(p, "response")) {
            sc_pos rp = p->t.pos;
            next(p);
            if (e->response || e->body) { sc_error(rp, "endpoint %s has a second response", e->name); p->failed = 1; continue; }
            if (p->t.kind != T_INT) { syntax(p, "a status code"); continue; }
            e->status = (int)p->t.ival;
            next(p);
            e->body_pos = p->t.pos;
            if (is_name(p, "file")) {
                next(p);
                if (p->t.kind != T_STRING) { syntax(p, "the file's path, in quotes"); continue; }
                e->body = SC_BODY_FILE;
                e->file = tokstr(p);
                e->response = NULL;
                next(p);
                end_line(p);
                continue;
            } else if (is_name(p, "websocket")) {
                next(p);
                e->body = SC_BODY_WEBSOCKET;
                parse_names(p, &e->frames, &e->nframes, "a frame's name");
                continue;
            } else if (is_name(p, "record")) {
                next(p);
                sc_record *r = sc_alloc(sizeof *r);
                r->kind = SC_REC_RECORD;
                r->pos = rp;
                if (!(r->name = expect_name(p, "a record name"))) continue;
                r->nfields = -1;   /* a reference, resolved by check.c */
                e->response = r;
            } else {
                char buf[128];
                snprintf(buf, sizeof buf, "%s_%d", e->name, e->status);
                e->response = parse_record_body(p, sc_strndup(buf, strlen(buf)), SC_REC_RESPONSE, rp);
            }
            end_line(p);
        } else if (is_name(p, "handler")) {
            sc_pos hp = p->t.pos;
            next(p);
            if (e->handler || e->planned) { sc_error(hp, "endpoint %s has a second handler", e->name); p->failed = 1; continue; }
            if (!(e->handler = expect_name(p, "the handler's name"))) continue;
            if (!expect_word(p, "on")) continue;
            for (int i = SC_T_SERVICE; i <= SC_T_WRITER; i++)
                if (is_name(p, sc_thread_name(i)))
                    e->thread = i;
            if (!e->thread) { syntax(p, "a thread: service, reader, io or writer"); continue; }
            next(p);
            end_line(p);
        } else if (is_name(p, "planned")) {
            sc_pos hp = p->t.pos;
            next(p);
            if (e->handler || e->planned) { sc_error(hp, "endpoint %s has a second handler", e->name); p->failed = 1; continue; }
            e->planned = 1;
            end_line(p);
        } else if (is_name(p, "emits")) {
            next(p);
            parse_names(p, &e->emits, &e->nemits, "an audit entry kind");
        } else {
            syntax(p, "'handler', 'planned', 'param', 'request', 'response' or 'emits'");
        }
    });
    PUSH(p->spec->endpoints, p->spec->nendpoints, e);
}

/* ---- table -------------------------------------------------------------- */

static void parse_column(P *p, sc_table *t)
{
    static const struct { const char *w; int k; } types[] = {
        { "bigserial", SC_C_BIGSERIAL }, { "bigint", SC_C_BIGINT }, { "int", SC_C_INT },
        { "text", SC_C_TEXT }, { "bytes", SC_C_BYTES }, { "bool", SC_C_BOOL },
        { "timestamptz", SC_C_TIMESTAMPTZ },
    };
    sc_column c;
    memset(&c, 0, sizeof c);
    c.pos = p->t.pos;
    if (!(c.name = expect_name(p, "a column name"))) return;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (is_name(p, types[i].w)) c.type = types[i].k;
    if (!c.type) { syntax(p, "a column type: bigserial, bigint, int, text, bytes, bool or timestamptz"); return; }
    next(p);
    for (;;) {
        if (is_name(p, "key")) { c.key = 1; next(p); }
        else if (is_name(p, "unique")) { c.unique = 1; next(p); }
        else if (is_name(p, "null")) { c.nullable = 1; next(p); }
        else if (is_name(p, "index")) {
            c.index = 1;
            next(p);
            if (is_name(p, "brin")) { c.index = 2; next(p); }
        }
        else if (is_name(p, "purged")) { c.purged = 1; next(p); }
        else if (is_name(p, "default")) {
            next(p);
            if (is_name(p, "now")) c.deflt = "now()";
            else if (p->t.kind == T_INT) c.deflt = tokstr(p);
            else if (is_name(p, "true") || is_name(p, "false")) c.deflt = tokstr(p);
            else { syntax(p, "a default: now, a number, true or false"); return; }
            next(p);
        } else if (is_name(p, "from")) {
            if (!(c.from = parse_from(p))) return;
        } else break;
    }
    end_line(p);
    PUSH(t->cols, t->ncols, c);
}

static void parse_table(P *p)
{
    sc_table *t = sc_alloc(sizeof *t);
    t->pos = p->t.pos;
    next(p);
    if (!(t->name = expect_name(p, "the table's name"))) return;
    if (is_name(p, "per")) {
        next(p);
        t->per_pos = p->t.pos;
        if (!(t->per = expect_name(p, "an audit entry kind"))) return;
    }
    BLOCK(p, parse_column(p, t));
    PUSH(p->spec->tables, p->spec->ntables, t);
}

void sc_parse_file(sc_spec *spec, const sc_src *src)
{
    P p;
    memset(&p, 0, sizeof p);
    p.spec = spec;
    sc_lex_init(&p.lx, src);
    next(&p);
    for (;;) {
        skip_nl(&p);
        if (p.t.kind == T_EOF)
            break;
        p.failed = 0;
        if (is_name(&p, "derive")) parse_derive(&p);
        else if (is_name(&p, "endpoint")) parse_endpoint(&p, 0);
        else if (is_name(&p, "job")) parse_endpoint(&p, 1);
        else if (is_name(&p, "record")) parse_named_record(&p, SC_REC_RECORD);
        else if (is_name(&p, "audit")) parse_named_record(&p, SC_REC_AUDIT);
        else if (is_name(&p, "log")) parse_named_record(&p, SC_REC_LOG);
        else if (is_name(&p, "frame")) parse_named_record(&p, SC_REC_FRAME);
        else if (is_name(&p, "table")) parse_table(&p);
        else syntax(&p, "a declaration: derive, endpoint, job, record, audit, log, frame or table");
        if (p.failed) {
            recover(&p);
            if (p.t.kind == T_RBRACE)
                next(&p);
        }
    }
}
