/*
 * check.c — name resolution and the information-flow rules.
 *
 * The rules (spec/README.md, "Flow rules"):
 *  - a pseudonymous field must go to a `pseudonym` sink and nowhere else;
 *  - a secret field must go to at least one sink, and only to `commit`, to
 *    derivations, or (a random hex value of 16 bytes or more) to `digest`;
 *    its bytes have nowhere else to go;
 *  - an output (response, audit entry, record or report, log line,
 *    WebSocket frame, table column) may name a request field with `from`
 *    only through one of that field's sinks when the field is secret or
 *    pseudonymous: the raw value can reach no output;
 *  - every derivation has a finite domain, so what it lets out is bounded
 *    by log2 of the domain's size.
 * And the rules that keep the generated service honest: every endpoint
 * names its handler (or is `planned`); every kind it emits exists; a table
 * written `per` an entry kind takes values only from that entry and from
 * the sinks of the endpoints that emit it.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "specc.h"

static const char *class_name(int c)
{
    return c == SC_SECRET ? "secret" : c == SC_PSEUDONYMOUS ? "pseudonymous" : "public";
}

sc_record *sc_find_record(const sc_spec *spec, const char *name, int kind)
{
    for (int i = 0; i < spec->nrecords; i++)
        if (spec->records[i]->kind == kind && !strcmp(spec->records[i]->name, name))
            return spec->records[i];
    return NULL;
}

sc_derive *sc_find_derive(const sc_spec *spec, const char *name)
{
    for (int i = 0; i < spec->nderives; i++)
        if (!strcmp(spec->derives[i]->name, name))
            return spec->derives[i];
    return NULL;
}

sc_endpoint *sc_find_endpoint(const sc_spec *spec, const char *name)
{
    for (int i = 0; i < spec->nendpoints; i++)
        if (!strcmp(spec->endpoints[i]->name, name))
            return spec->endpoints[i];
    return NULL;
}

const sc_sink *sc_from_sink(const sc_from *fr)
{
    if (!fr->via || !fr->field)
        return NULL;
    for (int i = 0; i < fr->field->nsinks; i++)
        if (!strcmp(fr->field->sinks[i].name, fr->via))
            return &fr->field->sinks[i];
    return NULL;
}

const char *sc_thread_name(int t)
{
    static const char *n[] = { "?", "service", "reader", "io", "writer" };
    return t >= 1 && t <= 4 ? n[t] : n[0];
}

int sc_insert_column(const sc_column *c)
{
    return c->type != SC_C_BIGSERIAL && !c->deflt && !(c->nullable && !c->from);
}

const char *sc_sql_type(int t)
{
    switch (t) {
    case SC_C_BIGSERIAL: return "bigserial";
    case SC_C_BIGINT: return "bigint";
    case SC_C_INT: return "integer";
    case SC_C_TEXT: return "text";
    case SC_C_BYTES: return "bytea";
    case SC_C_BOOL: return "boolean";
    case SC_C_TIMESTAMPTZ: return "timestamptz";
    default: return "text";
    }
}

double sc_derive_domain(const sc_derive *d)
{
    double n = 1;
    for (int i = 0; i < d->nfields; i++) {
        const sc_dfield *f = &d->fields[i];
        int k = f->nlabels, has_default = 0;
        for (int j = 0; j < f->nlabels; j++)
            if (f->deflt && !strcmp(f->labels[j].label, f->deflt))
                has_default = 1;
        n *= k + (f->deflt && !has_default ? 1 : 0);
    }
    return n;
}

static double rfields_bits(const sc_rfield *f, int n)
{
    double bits = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < f[i].nsinks; j++)
            if (f[i].sinks[j].kind == SC_SINK_DERIVE && f[i].sinks[j].derive)
                bits += log2(sc_derive_domain(f[i].sinks[j].derive));
        bits += rfields_bits(f[i].fields, f[i].nfields);
    }
    return bits;
}

double sc_leakage_bits(const sc_endpoint *e)
{
    return rfields_bits(e->req, e->nreq);
}

/* ---- derivations -------------------------------------------------------- */

static void check_derive(const sc_spec *spec, sc_derive *d)
{
    for (int i = 0; i < spec->nderives && spec->derives[i] != d; i++)
        if (!strcmp(spec->derives[i]->name, d->name))
            sc_error(d->pos, "derivation '%s' is declared twice", d->name);
    for (int i = 0; i < d->nfields; i++) {
        sc_dfield *f = &d->fields[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(d->fields[j].name, f->name))
                sc_error(f->pos, "derivation %s has two fields named '%s'", d->name, f->name);
        if (f->kind == SC_D_TEXT) {
            sc_error(f->pos, "derivation %s.%s has an unbounded domain: 'text' lets any "
                     "bytes of the input out; declare a finite set of labels", d->name, f->name);
            continue;
        }
        if (f->kind == SC_D_NUMBER && f->nlabels == 0) {
            sc_error(f->pos, "derivation %s.%s has an unbounded domain: a number with no "
                     "{ label lo..hi } map lets the number itself out", d->name, f->name);
            continue;
        }
        f->bounded = 1;
        if (!f->deflt)
            sc_error(f->pos, "derivation %s.%s needs a default label for input that "
                     "matches none", d->name, f->name);
        for (int j = 0; j < f->nlabels; j++) {
            sc_dlabel *l = &f->labels[j];
            for (int k = 0; k < j; k++) {
                if (!strcmp(f->labels[k].label, l->label))
                    sc_error(l->pos, "derivation %s.%s lists label '%s' twice", d->name, f->name, l->label);
                else if (f->kind == SC_D_NUMBER && l->lo <= f->labels[k].hi && f->labels[k].lo <= l->hi)
                    sc_error(l->pos, "derivation %s.%s: range of '%s' overlaps that of '%s'",
                             d->name, f->name, l->label, f->labels[k].label);
            }
            if (f->kind == SC_D_KEYWORDS)
                for (int k = 0; k < l->nkeywords; k++) {
                    const char *kw = l->keywords[k];
                    if (!*kw)
                        sc_error(l->pos, "derivation %s.%s: empty keyword", d->name, f->name);
                    for (const char *c = kw; *c; c++)
                        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) {
                            sc_error(l->pos, "derivation %s.%s: keyword \"%s\" must be printable ASCII",
                                     d->name, f->name, kw);
                            break;
                        }
                }
        }
    }
}

/* ---- request fields ----------------------------------------------------- */

static int rdepth(const sc_rfield *f, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++)
        if (f[i].type == SC_R_OBJECT) {
            int x = rdepth(f[i].fields, f[i].nfields);
            if (x > d) d = x;
        }
    return d + 1;
}

static void check_rfields(const sc_spec *spec, const sc_endpoint *e, sc_rfield *f, int n,
                          const char *prefix)
{
    for (int i = 0; i < n; i++) {
        sc_rfield *r = &f[i];
        for (int j = 0; j < i; j++)
            if (!strcmp(f[j].name, r->name))
                sc_error(r->pos, "request of %s has two fields named '%s%s'", e->name, prefix, r->name);
        if (r->type == SC_R_OBJECT) {
            if (r->cls != SC_PUBLIC || r->nsinks)
                sc_error(r->pos, "an object field takes no class or sinks; its fields do");
            char buf[256];
            snprintf(buf, sizeof buf, "%s%s.", prefix, r->name);
            check_rfields(spec, e, r->fields, r->nfields, sc_strndup(buf, strlen(buf)));
            continue;
        }
        if (r->type == SC_R_STRING && r->max > 16 * 1024 * 1024)
            sc_error(r->pos, "field %s.%s%s: length bound over 16MiB", e->name, prefix, r->name);
        if (r->type == SC_R_STRING && r->cls == SC_PUBLIC && r->max > 65536)
            sc_error(r->pos, "public field %s.%s%s is stored whole: keep it under 64KiB",
                     e->name, prefix, r->name);
        if (r->cls != SC_PUBLIC && r->type != SC_R_STRING && r->type != SC_R_HEX)
            sc_error(r->pos, "%s field %s.%s%s must be a string", class_name(r->cls),
                     e->name, prefix, r->name);
        if (r->type == SC_R_HEX && (r->min < 1 || r->min > 4096))
            sc_error(r->pos, "field %s.%s%s: a hex value is 1 to 4096 bytes", e->name, prefix, r->name);
        if (r->type == SC_R_ID && (r->min < 1 || r->max > 256))
            sc_error(r->pos, "parameter %s.%s: an id is 1 to 256 characters", e->name, r->name);
        int has_pseudonym = 0;
        for (int j = 0; j < r->nsinks; j++) {
            sc_sink *s = &r->sinks[j];
            for (int k = 0; k < j; k++)
                if (!strcmp(r->sinks[k].name, s->name))
                    sc_error(s->pos, "sink '%s' named twice", s->name);
            if (s->kind == SC_SINK_DERIVE) {
                s->derive = sc_find_derive(spec, s->name);
                if (!s->derive)
                    sc_error(s->pos, "no sink or derivation named '%s' (sinks: pseudonym, "
                             "commit, or a derive block's name)", s->name);
            }
            if (r->cls == SC_PUBLIC)
                sc_error(s->pos, "public field %s.%s%s has a sink: sinks are for "
                         "pseudonymous and secret fields", e->name, prefix, r->name);
            else if (r->cls == SC_PSEUDONYMOUS && s->kind != SC_SINK_PSEUDONYM)
                sc_error(s->pos, "pseudonymous field %s.%s%s may only go to the 'pseudonym' "
                         "sink, not '%s'", e->name, prefix, r->name, s->name);
            else if (r->cls == SC_SECRET && s->kind == SC_SINK_PSEUDONYM)
                sc_error(s->pos, "secret field %s.%s%s may not go to 'pseudonym': a keyed "
                         "hash of a secret is a fingerprint of it; use 'commit'",
                         e->name, prefix, r->name);
            if (s->kind == SC_SINK_DIGEST && (r->type != SC_R_HEX || r->min < 16))
                sc_error(s->pos, "field %s.%s%s goes to 'digest', a hash with no salt or key: "
                         "that hides only a random value; declare it 'hex N' with N >= 16",
                         e->name, prefix, r->name);
            if (r->type == SC_R_HEX && s->kind == SC_SINK_DERIVE)
                sc_error(s->pos, "hex field %s.%s%s cannot feed a derivation: its bytes are "
                         "random, not text", e->name, prefix, r->name);
            if (s->kind == SC_SINK_PSEUDONYM)
                has_pseudonym = 1;
        }
        if (r->cls == SC_SECRET && r->nsinks == 0)
            sc_error(r->pos, "secret field %s.%s%s has no sink: its bytes would have "
                     "nowhere to go; add '-> commit' and/or a derivation",
                     e->name, prefix, r->name);
        if (r->cls == SC_PSEUDONYMOUS && !has_pseudonym)
            sc_error(r->pos, "pseudonymous field %s.%s%s has no sink: add '-> pseudonym'",
                     e->name, prefix, r->name);
    }
}

/* ---- outputs ------------------------------------------------------------ */

static void check_record(const sc_spec *spec, sc_record *r, const char *what,
                         const char *prefix, const char *cname);

static sc_rfield *find_rfield(sc_rfield *f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i].name, name))
            return &f[i];
    return NULL;
}

/* Resolves `from` and enforces the flow rule for one output.  `kind` is
 * what the value is written as: an output type (SC_O_*) or, for table
 * columns, -SC_C_*. */
static void check_from(const sc_spec *spec, sc_from *fr, const char *where, int kind,
                       const char *derive_name)
{
    if (fr->entry) {
        sc_error(fr->pos, "%s: 'from entry.' names a field of the audit entry a row is "
                 "written for; it is for columns of a table declared 'per KIND'", where);
        return;
    }
    sc_endpoint *e = sc_find_endpoint(spec, fr->endpoint);
    fr->ep = e;
    if (!e) {
        sc_error(fr->pos, "no endpoint named '%s'", fr->endpoint);
        return;
    }
    sc_rfield *f = NULL, *fields = e->req;
    int n = e->nreq;
    char path[256] = "";
    for (int i = 0; i < fr->npath; i++) {
        f = find_rfield(fields, n, fr->path[i]);
        if (!f && i == 0)
            f = find_rfield(e->params, e->nparams, fr->path[i]);
        snprintf(path + strlen(path), sizeof path - strlen(path), "%s%s", i ? "." : "", fr->path[i]);
        if (!f) {
            sc_error(fr->pos, "endpoint %s has no request field '%s'", e->name, path);
            return;
        }
        fields = f->fields;
        n = f->nfields;
    }
    fr->field = f;
    if (f->type == SC_R_OBJECT) {
        sc_error(fr->pos, "%s: 'from %s.%s' names an object; name one of its fields", where, e->name, path);
        return;
    }
    if (!fr->via) {
        if (f->cls != SC_PUBLIC) {
            char sinks[256] = "";
            for (int j = 0; j < f->nsinks; j++)
                snprintf(sinks + strlen(sinks), sizeof sinks - strlen(sinks), "%s%s",
                         j ? ", " : "", f->sinks[j].name);
            sc_error(fr->pos, "%s field %s.%s would reach %s raw; route it through one of its "
                     "sinks with 'via' (%s)", class_name(f->cls), e->name, path, where,
                     f->nsinks ? sinks : "it has none");
        } else if (kind == SC_O_DERIVED) {
            sc_error(fr->pos, "%s: a derived value needs 'via' and the derivation's name", where);
        }
        return;
    }
    sc_sink *s = NULL;
    for (int j = 0; j < f->nsinks; j++)
        if (!strcmp(f->sinks[j].name, fr->via))
            s = &f->sinks[j];
    if (!s) {
        sc_error(fr->via_pos, "%s field %s.%s has no sink '%s'; it would reach %s by a path "
                 "the spec does not declare", class_name(f->cls), e->name, path, fr->via, where);
        return;
    }
    if (s->kind == SC_SINK_DERIVE) {
        if (kind != SC_O_DERIVED && kind != -SC_C_TEXT)
            sc_error(fr->pos, "%s: a value via derivation '%s' must be of type 'derived %s'",
                     where, s->name, s->name);
        else if (derive_name && strcmp(derive_name, s->name))
            sc_error(fr->pos, "%s: type says 'derived %s' but the value comes via '%s'",
                     where, derive_name, s->name);
    } else if (kind != SC_O_HASH && kind != -SC_C_BYTES) {
        sc_error(fr->pos, "%s: a value via '%s' is a 32-byte hash: give it type 'hash' "
                 "(or 'bytes' in a table)", where, s->name);
    }
}

static void check_otype(const sc_spec *spec, sc_otyp *t, sc_ofield *f, const char *where,
                        const char *what, const char *prefix, const char *cname)
{
    switch (t->kind) {
    case SC_O_DERIVED:
        t->derive = sc_find_derive(spec, t->ref);
        if (!t->derive)
            sc_error(f->pos, "no derivation named '%s'", t->ref);
        if (!f->from)
            sc_error(f->pos, "%s: a derived value must say where it comes from "
                     "('from endpoint.field via %s')", where, t->ref);
        break;
    case SC_O_RECORD:
        t->rec = sc_find_record(spec, t->ref, SC_REC_RECORD);
        if (!t->rec)
            sc_error(f->pos, "no record named '%s'", t->ref);
        break;
    case SC_O_AUDIT:
        if (strcmp(t->ref, "any")) {
            t->rec = sc_find_record(spec, t->ref, SC_REC_AUDIT);
            if (!t->rec)
                sc_error(f->pos, "no audit entry kind named '%s'", t->ref);
        }
        break;
    case SC_O_LIST:
        if (t->elem->kind == SC_O_LIST || t->elem->kind == SC_O_OBJECT || t->elem->kind == SC_O_DERIVED)
            sc_error(f->pos, "%s: a list holds scalars, records or audit entries", where);
        else
            check_otype(spec, t->elem, f, where, what, prefix, cname);
        break;
    case SC_O_OBJECT: {
        char p[256], c[256];
        snprintf(p, sizeof p, "%s%s.", prefix, f->name);
        snprintf(c, sizeof c, "%s_%s", cname, f->name);
        check_record(spec, t->rec, what, sc_strndup(p, strlen(p)), sc_strndup(c, strlen(c)));
        break;
    }
    default:
        break;
    }
}

static void check_record(const sc_spec *spec, sc_record *r, const char *what,
                         const char *prefix, const char *cname)
{
    r->what = what;
    r->cname = cname;
    int nsig = 0;
    for (int i = 0; i < r->nfields; i++) {
        sc_ofield *f = &r->fields[i];
        char where[600];
        snprintf(where, sizeof where, "%s as field '%s%s'", what, prefix, f->name);
        for (int j = 0; j < i; j++)
            if (!strcmp(r->fields[j].name, f->name))
                sc_error(f->pos, "%s has two fields named '%s'", what, f->name);
        if (r->kind == SC_REC_AUDIT && (!strcmp(f->name, "action") || !strcmp(f->name, "cvmId")
                                        || !strcmp(f->name, "timestamp")))
            sc_error(f->pos, "'%s' is part of every audit entry's envelope", f->name);
        if (f->is_signature) {
            nsig++;
            if (f->type.kind != SC_O_HEX)
                sc_error(f->pos, "a signature field has type 'hex'");
            if (nsig > 1)
                sc_error(f->pos, "%s has more than one signature field", what);
        }
        check_otype(spec, &f->type, f, where, what, prefix, cname);
        if (f->from) {
            int kind = f->type.kind == SC_O_LIST ? f->type.elem->kind : f->type.kind;
            check_from(spec, f->from, where, kind, f->type.kind == SC_O_DERIVED ? f->type.ref : NULL);
        }
    }
}

/* ---- endpoints and tables ----------------------------------------------- */

/* A job is made by the service, not by a request: what it carries is its
 * parameters, which the code that makes it fills and rt_param checks. */
static int check_job(const sc_endpoint *e)
{
    int n = sc_nerrors;
    if (e->has_request)
        sc_error(e->pos, "job %s has a request body: a job is made by the service itself; "
                 "declare what it carries as 'param' lines", e->name);
    if (e->response || e->body)
        sc_error(e->pos, "job %s has a response: nobody waits for a job's answer", e->name);
    if (e->planned || !e->handler)
        sc_error(e->pos, "job %s needs a handler: add 'handler NAME on THREAD' (reader, io "
                 "or writer)", e->name);
    else if (e->thread == SC_T_SERVICE)
        sc_error(e->pos, "job %s runs on the service thread, which only answers requests: "
                 "choose reader, io or writer", e->name);
    return sc_nerrors - n;
}

/* `response 200 file "PATH"`: a file of the repository, served as it is.
 * Its type comes from its extension; the path stays inside the tree. */
static void check_file(sc_endpoint *e)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" }, { ".svg", "image/svg+xml" },
        { ".png", "image/png" }, { ".txt", "text/plain; charset=utf-8" },
    };
    const char *f = e->file;
    if (strcmp(e->method, "GET") || e->status != 200)
        sc_error(e->body_pos, "endpoint %s: a file is served to GET with status 200", e->name);
    if (e->has_request)
        sc_error(e->pos, "endpoint %s: a file endpoint takes no request body", e->name);
    int bad = !*f || *f == '/' || strstr(f, "..") || strstr(f, "//") || strchr(f, '\\');
    for (const char *c = f; *c && !bad; c++)
        bad = !(isalnum((unsigned char)*c) || strchr("._-/", *c));
    if (bad)
        sc_error(e->body_pos, "endpoint %s: file \"%s\" must be a plain relative path inside the "
                 "repository ([A-Za-z0-9._-/], no '..')", e->name, f);
    const char *dot = strrchr(f, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            e->content_type = types[i].type;
    if (!e->content_type)
        sc_error(e->body_pos, "endpoint %s: no content type for file \"%s\" (known: .html .js "
                 ".css .svg .png .txt)", e->name, f);
}

/* `response 101 websocket FRAME, ...`: an upgrade on the connection (so
 * its handler runs on the service thread), streaming declared frames. */
static void check_websocket(const sc_spec *spec, sc_endpoint *e)
{
    if (strcmp(e->method, "GET") || e->status != 101)
        sc_error(e->body_pos, "endpoint %s: a WebSocket is opened by GET, answered 101", e->name);
    if (e->has_request)
        sc_error(e->pos, "endpoint %s: a WebSocket endpoint takes no request body", e->name);
    if (e->handler && e->thread != SC_T_SERVICE)
        sc_error(e->pos, "endpoint %s: a WebSocket's handler runs on the service thread, which "
                 "holds the connection", e->name);
    if (!e->nframes)
        sc_error(e->body_pos, "endpoint %s: name the frames the WebSocket streams", e->name);
    e->frame_recs = sc_alloc((size_t)(e->nframes ? e->nframes : 1) * sizeof *e->frame_recs);
    for (int i = 0; i < e->nframes; i++) {
        e->frame_recs[i] = sc_find_record(spec, e->frames[i], SC_REC_FRAME);
        if (!e->frame_recs[i])
            sc_error(e->body_pos, "endpoint %s streams '%s', which is no frame (declare it "
                     "with 'frame %s { ... }')", e->name, e->frames[i], e->frames[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(e->frames[i], e->frames[j]))
                sc_error(e->body_pos, "endpoint %s names frame '%s' twice", e->name, e->frames[i]);
    }
}

static void check_endpoint(const sc_spec *spec, sc_endpoint *e)
{
    static const char *methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };
    int ok = e->job;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        ok |= !strcmp(e->method, methods[i]);
    if (!ok)
        sc_error(e->pos, "endpoint %s: unknown method '%s'", e->name, e->method);
    for (int i = 0; i < spec->nendpoints && spec->endpoints[i] != e; i++) {
        const sc_endpoint *o = spec->endpoints[i];
        if (!strcmp(o->name, e->name))
            sc_error(e->pos, "%s '%s' is declared twice", e->job ? "job" : "endpoint", e->name);
        else if (!e->job && !o->job && !strcmp(o->method, e->method) && !strcmp(o->path, e->path)
                 && o->metadata_port == e->metadata_port)
            sc_error(e->pos, "endpoints %s and %s both serve %s %s", o->name, e->name, e->method, e->path);
    }
    if (e->job && check_job(e))
        return;
    /* Every :name in the path is a declared parameter. */
    for (const char *s = strchr(e->path, ':'); s; s = strchr(s + 1, ':')) {
        size_t n = strcspn(s + 1, "/");
        if (!find_rfield(e->params, e->nparams, sc_strndup(s + 1, n)))
            sc_error(e->pos, "endpoint %s: path parameter ':%.*s' has no 'param' line", e->name, (int)n, s + 1);
    }
    check_rfields(spec, e, e->params, e->nparams, "");
    if (e->has_request) {
        if (!strcmp(e->method, "GET"))
            sc_error(e->pos, "endpoint %s: a GET request has no body", e->name);
        if (e->max_body < 2 || e->max_body > 16 * 1024 * 1024)
            sc_error(e->pos, "endpoint %s: body limit must be between 2B and 16MiB", e->name);
        int d = rdepth(e->req, e->nreq);
        if (e->max_depth == 0)
            e->max_depth = d;
        else if (e->max_depth < d)
            sc_error(e->pos, "endpoint %s: declared depth %d but its fields nest %d deep",
                     e->name, e->max_depth, d);
        if (e->max_depth > 8)
            sc_error(e->pos, "endpoint %s: nesting deeper than 8 is not supported", e->name);
        check_rfields(spec, e, e->req, e->nreq, "");
        if (e->nreq == 0 || e->nreq > 64)
            sc_error(e->pos, "endpoint %s: a request has 1 to 64 fields", e->name);
    }
    if (e->body == SC_BODY_FILE) {
        check_file(e);
    } else if (e->body == SC_BODY_WEBSOCKET) {
        check_websocket(spec, e);
    } else if (!e->response) {
        if (!e->job)
            sc_error(e->pos, "endpoint %s has no response", e->name);
    } else if (e->response->nfields < 0) {
        sc_record *r = sc_find_record(spec, e->response->name, SC_REC_RECORD);
        if (!r)
            sc_error(e->response->pos, "no record named '%s'", e->response->name);
        else
            e->response = r;
    } else {
        char what[256], cname[256];
        snprintf(what, sizeof what, "response %s %d", e->name, e->status);
        snprintf(cname, sizeof cname, "toy_resp_%s", e->name);
        check_record(spec, e->response, sc_strndup(what, strlen(what)), "",
                     sc_strndup(cname, strlen(cname)));
    }
    for (int i = 0; i < e->nemits; i++)
        if (!sc_find_record(spec, e->emits[i], SC_REC_AUDIT))
            sc_error(e->pos, "endpoint %s emits '%s', which is no audit entry kind", e->name, e->emits[i]);
    if (!strcmp(e->name, "entry"))
        sc_error(e->pos, "'entry' names the audit entry in a table's 'from entry.F': "
                 "choose another endpoint name");
    if (!e->handler && !e->planned) {
        sc_error(e->pos, "endpoint %s has no handler: add 'handler NAME on THREAD' (service, "
                 "reader, io or writer), or 'planned' to declare it unserved (it answers 501 "
                 "not_implemented)", e->name);
        return;
    }
    if (e->planned)
        return;
    if (e->thread == SC_T_WRITER && e->nemits == 0)
        sc_error(e->pos, "endpoint %s: a handler on the writer writes audit entries; say "
                 "which with 'emits'", e->name);
    if (e->thread == SC_T_SERVICE && e->nemits)
        sc_error(e->pos, "endpoint %s emits entries: its handler runs on the writer, or on "
                 "reader or io and hands the job on to the writer, never on the service "
                 "thread", e->name);
    for (int i = 0; i < spec->nendpoints && spec->endpoints[i] != e; i++) {
        const sc_endpoint *o = spec->endpoints[i];
        if (o->handler && !strcmp(o->handler, e->handler) && o->thread != e->thread)
            sc_error(e->pos, "endpoints %s and %s share handler '%s' but run on different "
                     "threads (%s, %s)", o->name, e->name, e->handler,
                     sc_thread_name(o->thread), sc_thread_name(e->thread));
    }
}

/* Can an entry field of output type k be stored in a column of type c? */
static int entry_fits(int k, int c)
{
    switch (k) {
    case SC_O_STRING: case SC_O_ID: return c == SC_C_TEXT;
    case SC_O_TIME: return c == SC_C_TEXT || c == SC_C_TIMESTAMPTZ;
    case SC_O_HASH: case SC_O_HEX: return c == SC_C_BYTES;
    case SC_O_UINT: case SC_O_INT: return c == SC_C_BIGINT || c == SC_C_INT;
    case SC_O_BOOL: return c == SC_C_BOOL;
    case SC_O_DERIVED: return c == SC_C_TEXT;
    default: return 0;
    }
}

static void check_entry_from(sc_table *t, sc_column *c, const char *where)
{
    sc_from *fr = c->from;
    if (!t->per) {
        sc_error(fr->pos, "%s: 'from entry.%s' needs the table to be written per an entry kind "
                 "('table %s per KIND')", where, fr->npath ? fr->path[0] : "", t->name);
        return;
    }
    if (!t->per_rec)
        return;
    if (fr->npath != 1 || fr->via) {
        sc_error(fr->pos, "%s: 'from entry.FIELD' names one field of the entry, with no 'via'", where);
        return;
    }
    const char *name = fr->path[0];
    int k = -1;
    if (!strcmp(name, "cvmId")) {
        fr->envelope = 1;
        k = SC_O_STRING;
    } else if (!strcmp(name, "timestamp")) {
        fr->envelope = 2;
        k = SC_O_TIME;
    } else {
        for (int i = 0; i < t->per_rec->nfields; i++)
            if (!strcmp(t->per_rec->fields[i].name, name))
                fr->ofield = &t->per_rec->fields[i];
        if (!fr->ofield) {
            sc_error(fr->pos, "%s: audit entry %s has no field '%s'", where, t->per, name);
            return;
        }
        k = fr->ofield->type.kind;
    }
    if (!entry_fits(k, c->type))
        sc_error(fr->pos, "%s: entry field %s.%s does not fit a %s column", where, t->per, name,
                 sc_sql_type(c->type));
}

static void check_table(const sc_spec *spec, sc_table *t)
{
    int keys = 0;
    if (t->per) {
        t->per_rec = sc_find_record(spec, t->per, SC_REC_AUDIT);
        if (!t->per_rec)
            sc_error(t->per_pos, "table %s is written per '%s', which is no audit entry kind",
                     t->name, t->per);
    }
    for (int i = 0; i < spec->ntables && spec->tables[i] != t; i++)
        if (!strcmp(spec->tables[i]->name, t->name))
            sc_error(t->pos, "table '%s' is declared twice", t->name);
    for (int i = 0; i < t->ncols; i++) {
        sc_column *c = &t->cols[i];
        keys += c->key;
        for (int j = 0; j < i; j++)
            if (!strcmp(t->cols[j].name, c->name))
                sc_error(c->pos, "table %s has two columns named '%s'", t->name, c->name);
        char where[256];
        snprintf(where, sizeof where, "table column %s.%s", t->name, c->name);
        if (c->purged && !c->nullable)
            sc_error(c->pos, "%s is purged (set to NULL by a deletion): declare it 'null'", where);
        if (c->from && c->from->entry) {
            check_entry_from(t, c, where);
        } else if (c->from) {
            int before = sc_nerrors;
            check_from(spec, c->from, where, -c->type, NULL);
            const sc_endpoint *e = c->from->ep;
            if (sc_nerrors != before)
                ;   /* one error per column: the flow error says it all */
            else if (!t->per)
                sc_error(c->from->pos, "%s: only a table written per an entry kind ('table %s per "
                         "KIND') gets values from requests", where, t->name);
            else if (e && c->from->field && !c->from->via)
                sc_error(c->from->pos, "%s: a row takes a request value only through one of its "
                         "field's sinks ('via'); set a public value in the handler", where);
            else if (e && t->per_rec) {
                int emits = 0;
                for (int k = 0; k < e->nemits; k++)
                    emits |= !strcmp(e->emits[k], t->per);
                if (!emits)
                    sc_error(c->from->pos, "%s: table %s is written per %s entry, which endpoint "
                             "%s does not emit: the column would never get this value", where,
                             t->name, t->per, e->name);
                for (int i = 0; i < spec->nendpoints && emits && !c->nullable; i++) {
                    const sc_endpoint *o = spec->endpoints[i];
                    for (int k = 0; k < o->nemits && o != e; k++)
                        if (!strcmp(o->emits[k], t->per))
                            sc_error(c->from->pos, "%s comes from %s's request, but endpoint %s "
                                     "emits %s entries too and has no such value: declare the "
                                     "column 'null'", where, e->name, o->name, t->per);
                }
            }
        }
    }
    if (keys != 1)
        sc_error(t->pos, "table %s needs exactly one 'key' column", t->name);
}

int sc_check(sc_spec *spec)
{
    for (int i = 0; i < spec->nderives; i++)
        check_derive(spec, spec->derives[i]);
    for (int i = 0; i < spec->nendpoints; i++)
        check_endpoint(spec, spec->endpoints[i]);
    for (int i = 0; i < spec->nrecords; i++) {
        sc_record *r = spec->records[i];
        for (int j = 0; j < i; j++)
            if (spec->records[j]->kind == r->kind && !strcmp(spec->records[j]->name, r->name))
                sc_error(r->pos, "'%s' is declared twice", r->name);
        static const char *kinds[] = { "", "record", "audit entry", "log line", "WebSocket frame" };
        static const char *prefixes[] = { "", "toy_rec_", "toy_audit_", "toy_log_", "toy_frame_" };
        char what[256], cname[256];
        if (r->kind == SC_REC_RECORD && !strcmp(r->name, "report"))
            snprintf(what, sizeof what, "the report");
        else
            snprintf(what, sizeof what, "%s %s", kinds[r->kind], r->name);
        snprintf(cname, sizeof cname, "%s%s", prefixes[r->kind], r->name);
        check_record(spec, r, sc_strndup(what, strlen(what)), "", sc_strndup(cname, strlen(cname)));
    }
    for (int i = 0; i < spec->ntables; i++)
        check_table(spec, spec->tables[i]);
    return sc_nerrors == 0;
}
