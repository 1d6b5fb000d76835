/*
 * emit_doc.c — docs/spec.md: the auditor's reference.
 *
 * Everything an auditor needs to check what the service does with user
 * data, without reading C: the data classes, the leakage bound of every
 * endpoint, each endpoint's parameters, request and response, the
 * derivations with their whole domains, every audit entry, record, log
 * line and WebSocket frame, and the tables.  For each pseudonymous or
 * secret request field it lists every output that names it, so that "where
 * can this value end up" has one answer on one line; the generator has
 * already refused any path the spec does not declare.
 *
 * The output is a pure function of the spec: no dates, floats with a fixed
 * number of decimals, everything in spec order.  Links use explicit
 * anchors (<a id="kind-name">) because Markdown renderers disagree on how
 * they derive anchors from headings.
 */
#include <libgen.h>
#include <math.h>
#include <string.h>

#include "specc.h"

/* ---- Markdown helpers --------------------------------------------------- */

/* A code span.  A backtick inside gets a longer fence; control characters
 * are shown as escapes; in a table cell '|' is escaped, since GFM splits
 * cells on it even inside code spans. */
static void md_code(sc_out *o, const char *s, int cell)
{
    if (!*s) {
        sc_printf(o, "(empty)");
        return;
    }
    int run = 0, longest = 0;
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    size_t n = strlen(s);
    int pad = s[0] == '`' || s[n - 1] == '`' || s[0] == ' ' || s[n - 1] == ' ';
    for (int i = 0; i <= longest; i++)
        sc_printf(o, "`");
    if (pad)
        sc_printf(o, " ");
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '|' && cell)
            sc_printf(o, "\\|");
        else if (c == '\n')
            sc_printf(o, "\\n");
        else if (c == '\t')
            sc_printf(o, "\\t");
        else if (c < 0x20 || c == 0x7f)
            sc_printf(o, "\\x%02x", c);
        else
            sc_printf(o, "%c", c);
    }
    if (pad)
        sc_printf(o, " ");
    for (int i = 0; i <= longest; i++)
        sc_printf(o, "`");
}

/* A link to the explicit anchor of a named item, e.g. [`x`](#record-x).
 * Names are identifiers ([A-Za-z_][A-Za-z0-9_]*), so they need no escaping. */
static void md_link(sc_out *o, const char *kind, const char *name)
{
    sc_printf(o, "[`%s`](#%s-%s)", name, kind, name);
}

static void anchor(sc_out *o, const char *kind, const char *name)
{
    sc_printf(o, "\n<a id=\"%s-%s\"></a>\n", kind, name);
}

static void fmt_size(char *buf, size_t cap, int64_t n)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(buf, cap, "%lld MiB", (long long)(n / (1024 * 1024)));
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, cap, "%lld KiB", (long long)(n / 1024));
    else
        snprintf(buf, cap, "%lld bytes", (long long)n);
}

/* ---- derivation domains ------------------------------------------------- */

/* 1 when the default is not one of the declared labels: it is then one
 * more outcome of its own. */
static int default_is_extra(const sc_dfield *f)
{
    if (!f->deflt)
        return 0;
    for (int i = 0; i < f->nlabels; i++)
        if (!strcmp(f->labels[i].label, f->deflt))
            return 0;
    return 1;
}

static int dfield_domain(const sc_dfield *f)
{
    return f->nlabels + default_is_extra(f);
}

static double bits_of(double domain)
{
    return domain > 1 ? log2(domain) : 0.0;
}

/* ---- walking the outputs ------------------------------------------------ */

/* The thing an output field belongs to: an endpoint's inline response, or a
 * named record, audit entry, log line or frame. */
typedef struct owner {
    const sc_endpoint *ep;       /* inline response of this endpoint, or NULL */
    const sc_record *rec;        /* the named record otherwise */
} owner;

static const char *rec_anchor_kind(int kind)
{
    switch (kind) {
    case SC_REC_AUDIT: return "audit";
    case SC_REC_LOG: return "log";
    case SC_REC_FRAME: return "frame";
    default: return "record";
    }
}

static const char *rec_kind_word(int kind)
{
    switch (kind) {
    case SC_REC_AUDIT: return "audit entry";
    case SC_REC_LOG: return "log line";
    case SC_REC_FRAME: return "frame";
    default: return "record";
    }
}

/* "the response", "the response of [`x`]", "audit entry [`y`]", ... */
static void owner_text(sc_out *o, const owner *ow, const sc_endpoint *here)
{
    if (ow->ep) {
        if (ow->ep == here)
            sc_printf(o, "the response");
        else {
            sc_printf(o, "the response of ");
            md_link(o, "endpoint", ow->ep->name);
        }
    } else {
        sc_printf(o, "%s ", rec_kind_word(ow->rec->kind));
        md_link(o, rec_anchor_kind(ow->rec->kind), ow->rec->name);
    }
}

typedef void (*visit_fn)(void *ctx, const owner *ow, const char *path, const sc_ofield *f);

static void walk_record(const sc_record *r, const owner *ow, const char *prefix,
                        visit_fn fn, void *ctx)
{
    for (int i = 0; r && i < r->nfields; i++) {
        const sc_ofield *f = &r->fields[i];
        char path[512];
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        fn(ctx, ow, path, f);
        if (f->type.kind == SC_O_OBJECT) {
            char sub[520];
            snprintf(sub, sizeof sub, "%s.", path);
            walk_record(f->type.rec, ow, sub, fn, ctx);
        }
    }
}

/* Every output field: inline responses in endpoint order, then the named
 * records, audit entries, log lines and frames, each group in spec order. */
static void walk_outputs(const sc_spec *spec, visit_fn fn, void *ctx)
{
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (e->response && e->response->kind == SC_REC_RESPONSE) {
            owner ow = { e, NULL };
            walk_record(e->response, &ow, "", fn, ctx);
        }
    }
    static const int kinds[] = { SC_REC_AUDIT, SC_REC_RECORD, SC_REC_LOG, SC_REC_FRAME };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int i = 0; i < spec->nrecords; i++)
            if (spec->records[i]->kind == kinds[k]) {
                owner ow = { NULL, spec->records[i] };
                walk_record(spec->records[i], &ow, "", fn, ctx);
            }
}

/* ---- types -------------------------------------------------------------- */

static void rtype(sc_out *o, const sc_rfield *f)
{
    switch (f->type) {
    case SC_R_STRING:
        if (f->min == f->max)
            sc_printf(o, "string, exactly %lld bytes", (long long)f->min);
        else
            sc_printf(o, "string, %lld to %lld bytes", (long long)f->min, (long long)f->max);
        break;
    case SC_R_INT:
        sc_printf(o, "integer, %lld to %lld", (long long)f->min, (long long)f->max);
        break;
    case SC_R_BOOL:
        sc_printf(o, "boolean");
        break;
    case SC_R_OBJECT:
        sc_printf(o, "object");
        break;
    case SC_R_HEX:
        sc_printf(o, "hex, exactly %lld bytes (%lld lowercase hex digits)", (long long)f->min,
                  (long long)(2 * f->min));
        break;
    case SC_R_ID:
        sc_printf(o, "id (`[a-z0-9_]`), %lld to %lld characters", (long long)f->min, (long long)f->max);
        break;
    case SC_R_ENUM:
        sc_printf(o, "one of ");
        for (int i = 0; i < f->nlabels; i++) {
            sc_printf(o, "%s", i ? ", " : "");
            md_code(o, f->labels[i], 1);
        }
        break;
    }
}

static void otype(sc_out *o, const sc_otyp *t)
{
    switch (t->kind) {
    case SC_O_STRING: sc_printf(o, "string"); break;
    case SC_O_ID: sc_printf(o, "id"); break;
    case SC_O_TIME: sc_printf(o, "time"); break;
    case SC_O_UINT: sc_printf(o, "uint"); break;
    case SC_O_INT: sc_printf(o, "int"); break;
    case SC_O_BOOL: sc_printf(o, "bool"); break;
    case SC_O_HASH: sc_printf(o, "hash"); break;
    case SC_O_HEX: sc_printf(o, "hex"); break;
    case SC_O_DERIVED:
        sc_printf(o, "derived ");
        md_link(o, "derive", t->ref);
        break;
    case SC_O_RECORD:
        sc_printf(o, "record ");
        md_link(o, "record", t->ref);
        break;
    case SC_O_AUDIT:
        if (!strcmp(t->ref, "any"))
            sc_printf(o, "any audit entry");
        else {
            sc_printf(o, "audit entry ");
            md_link(o, "audit", t->ref);
        }
        break;
    case SC_O_LIST:
        sc_printf(o, "list of ");
        otype(o, t->elem);
        break;
    case SC_O_OBJECT:
        sc_printf(o, "object");
        break;
    }
}

/* "from `e.a.b` via `sink`", then what the sink does in a few words. */
static void from_text(sc_out *o, const sc_from *fr, int long_form)
{
    if (fr->entry) {
        sc_printf(o, "from the entry's `%s`", fr->npath ? fr->path[0] : "");
        return;
    }
    sc_printf(o, "from `%s", fr->endpoint);
    for (int i = 0; i < fr->npath; i++)
        sc_printf(o, ".%s", fr->path[i]);
    sc_printf(o, "`");
    const sc_sink *s = sc_from_sink(fr);
    if (!s) {
        if (long_form)
            sc_printf(o, " (public; stored as received)");
        return;
    }
    sc_printf(o, " via `%s`", s->name);
    if (!long_form)
        return;
    switch (s->kind) {
    case SC_SINK_PSEUDONYM:
        sc_printf(o, ": keyed hash (HMAC-SHA256, TEE-derived key); the raw value is never stored");
        break;
    case SC_SINK_COMMIT:
        sc_printf(o, ": salted SHA-256 commitment; the salt goes back to the user only; "
                  "the raw value is never stored");
        break;
    case SC_SINK_DIGEST:
        sc_printf(o, ": SHA-256 of the random value's bytes; the raw value is never stored");
        break;
    default:
        if (s->derive)
            sc_printf(o, ": one of %.0f outcomes, at most %.2f bits; the raw value is never stored",
                      sc_derive_domain(s->derive), bits_of(sc_derive_domain(s->derive)));
        break;
    }
}

/* ---- intro -------------------------------------------------------------- */

static void emit_intro(sc_out *o)
{
    sc_printf(o,
        "\n# toyapp: the spec, for auditors\n"
        "\n"
        "This file is generated from the spec files listed above by the spec compiler,\n"
        "`specc`, which also generates the request parsers, the response and audit\n"
        "serializers and `postgres/schema.sql` from the same files.  What it says here\n"
        "is what the service is built from.\n"
        "\n"
        "Contents: [data classes](#data-classes), [leakage bounds](#leakage-bounds),\n"
        "[endpoints](#endpoints), [derivations](#derivations),\n"
        "[audit entries](#audit-entries), [records](#records), [log lines](#log-lines),\n"
        "[WebSocket frames](#websocket-frames), [tables](#tables).\n"
        "\n"
        "<a id=\"data-classes\"></a>\n"
        "## Data classes\n"
        "\n"
        "Every field of a request has one of three classes:\n"
        "\n"
        "- **public**: may be stored and returned as received, within its declared bounds.\n"
        "- **pseudonymous**: never stored, logged or returned.  While the request is\n"
        "  parsed, its bytes go into a keyed hash, HMAC-SHA256 with a key derived inside\n"
        "  the TEE (the `pseudonym` sink); only the 32-byte hash is kept.  Equal values\n"
        "  give equal hashes, so pseudonyms are linkable; without the key, nobody can\n"
        "  test a guessed value against one.\n"
        "- **secret**: never held whole, stored, logged or returned.  Its bytes are\n"
        "  streamed, as the parser decodes them, into the sinks the spec names, and the\n"
        "  buffers that held them are wiped: `commit` is SHA-256 of a fresh random salt\n"
        "  followed by the value (the salt goes back to the user in the response and is\n"
        "  stored nowhere), and a derivation's name sends the bytes to that derivation.\n"
        "\n"
        "What a derivation outputs is **derived** data: one label per derivation field,\n"
        "each from a finite list declared in the spec.  A derived value therefore reveals\n"
        "at most log2(number of possible outcomes) bits about the secret it was computed\n"
        "from, whatever the secret was.\n"
        "\n"
        "`specc` refuses to compile a spec in which a pseudonymous or secret value could\n"
        "reach a response, audit entry, record, log line, WebSocket frame or table column\n"
        "other than through one of its sinks.  So the `from ... via ...` entries below are\n"
        "the only ways such a field reaches an output.\n"
        "\n"
        "### How to read the tables\n"
        "\n"
        "- Request fields: a string's bounds are its length in bytes once decoded (UTF-8);\n"
        "  an integer's are its value.  A field `a.b` is field `b` of the object `a`.\n"
        "  Unknown, duplicate or missing required fields, and bodies over the limit or\n"
        "  nested deeper than declared, are refused.\n"
        "- Sinks: `pseudonym` (keyed hash), `commit` (salted commitment) or the name of\n"
        "  a derivation.  \"Where the value goes\" lists every output that names the\n"
        "  field, grouped by sink.\n"
        "- Output types: `string`; `id` (an identifier, as a string); `time` (a\n"
        "  timestamp, as a string); `uint` and `int` (JSON integers); `bool`; `hash`\n"
        "  (32 bytes as 64 hex digits); `hex` (bytes as hex digits); `derived X` (the\n"
        "  labels derivation X chose, as a string); `record X`; `audit entry X`;\n"
        "  `list of X` (a JSON array); `object` (its fields follow as `a.b` rows).\n"
        "  Responses, audit entries and records are serialized as canonical JSON\n"
        "  (sorted keys, no insignificant white space): the bytes that are signed and\n"
        "  hashed.\n"
        "- Source: where an output field's value comes from, when it comes from a\n"
        "  request field.  Fields without one are computed by the service (identifiers,\n"
        "  times, counters, signatures, values from configuration).\n"
        "- A **signature** field is the signature over the record's other fields.\n");
}

/* ---- leakage ------------------------------------------------------------ */

typedef struct lk {
    sc_out *o;
    int n;          /* items printed so far in the cell */
} lk;

static void leak_derives(lk *c, const sc_rfield *f, int n, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", prefix, f[i].name);
        for (int j = 0; j < f[i].nsinks; j++) {
            const sc_sink *s = &f[i].sinks[j];
            if (s->kind != SC_SINK_DERIVE || !s->derive)
                continue;
            double d = sc_derive_domain(s->derive);
            sc_printf(c->o, "%s", c->n++ ? "; " : "");
            md_link(c->o, "derive", s->name);
            sc_printf(c->o, " of `%s`: %.0f outcomes, %.2f bits", path, d, bits_of(d));
        }
        char sub[520];
        snprintf(sub, sizeof sub, "%s.", path);
        leak_derives(c, f[i].fields, f[i].nfields, sub);
    }
}

static void leak_pseudonyms(lk *c, const sc_rfield *f, int n, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", prefix, f[i].name);
        if (f[i].cls == SC_PSEUDONYMOUS) {
            sc_printf(c->o, "%s`%s`", c->n++ ? ", " : "", path);
        }
        char sub[520];
        snprintf(sub, sizeof sub, "%s.", path);
        leak_pseudonyms(c, f[i].fields, f[i].nfields, sub);
    }
}

static void emit_leakage(sc_out *o, const sc_spec *spec)
{
    sc_printf(o,
        "\n<a id=\"leakage-bounds\"></a>\n"
        "## Leakage bounds\n"
        "\n"
        "For each endpoint that takes a request body: how many bits about its secret\n"
        "fields one request can leave behind, at most (log2 of the number of outcomes of\n"
        "every derivation the request feeds), and which fields become pseudonyms.\n"
        "Commitments are not counted: without the salt, which only the user keeps, a\n"
        "commitment reveals nothing about the value.\n"
        "\n"
        "| Endpoint | Method and path | Bits per request | Derivations | Pseudonymous fields |\n"
        "|---|---|--:|---|---|\n");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (!e->has_request)
            continue;
        sc_printf(o, "| ");
        md_link(o, "endpoint", e->name);
        sc_printf(o, " | `%s %s` | %.2f | ", e->method, e->path, sc_leakage_bits(e));
        lk c = { o, 0 };
        leak_derives(&c, e->req, e->nreq, "");
        if (!c.n)
            sc_printf(o, "none");
        sc_printf(o, " | ");
        c.n = 0;
        leak_pseudonyms(&c, e->req, e->nreq, "");
        if (!c.n)
            sc_printf(o, "none");
        sc_printf(o, " |\n");
    }
    sc_printf(o,
        "\n"
        "Per user, the bound is the bits per request times the number of requests that\n"
        "user makes: each request's derived value is recorded, so a user who submits k\n"
        "payloads leaves at most k times the bits above.  Pseudonyms are linkable (the\n"
        "same value always gives the same keyed hash, which is what lets requests be\n"
        "counted per user) but reveal nothing of the value beyond equality.\n");
}

/* ---- endpoints ---------------------------------------------------------- */

typedef struct refs {
    sc_out *o;
    const char *lead;             /* printed before the first item */
    const sc_rfield *field;
    const char *via;              /* NULL: uses without a sink (public) */
    const sc_endpoint *here;
    int n;
} refs;

static void ref_visit(void *ctx, const owner *ow, const char *path, const sc_ofield *f)
{
    refs *r = ctx;
    if (!f->from || f->from->field != r->field)
        return;
    if (r->via ? !f->from->via || strcmp(f->from->via, r->via) : f->from->via != NULL)
        return;
    sc_printf(r->o, "%s`%s` in ", r->n++ ? ", " : r->lead, path);
    owner_text(r->o, ow, r->here);
}

/* Every output (and table column) that names field f through sink via,
 * after `lead`; returns how many, having printed nothing when none. */
static int list_refs(sc_out *o, const char *lead, const sc_spec *spec,
                     const sc_endpoint *here, const sc_rfield *f, const char *via)
{
    refs r = { o, lead, f, via, here, 0 };
    walk_outputs(spec, ref_visit, &r);
    for (int i = 0; i < spec->ntables; i++) {
        const sc_table *t = spec->tables[i];
        for (int j = 0; j < t->ncols; j++) {
            const sc_from *fr = t->cols[j].from;
            if (!fr || fr->field != f)
                continue;
            if (via ? !fr->via || strcmp(fr->via, via) : fr->via != NULL)
                continue;
            sc_printf(o, "%s`%s` in table ", r.n++ ? ", " : lead, t->cols[j].name);
            md_link(o, "table", t->name);
        }
    }
    return r.n;
}

static const char *class_word(int c)
{
    return c == SC_SECRET ? "secret" : c == SC_PSEUDONYMOUS ? "pseudonymous" : "public";
}

static void emit_rfields(sc_out *o, const sc_spec *spec, const sc_endpoint *e,
                         const sc_rfield *f, int n, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        const sc_rfield *r = &f[i];
        char path[512];
        snprintf(path, sizeof path, "%s%s", prefix, r->name);
        sc_printf(o, "| `%s` | ", path);
        rtype(o, r);
        sc_printf(o, " | %s | ", r->optional ? "no" : "yes");
        if (r->type == SC_R_OBJECT) {
            sc_printf(o, "— | — | its fields, below |\n");
            char sub[520];
            snprintf(sub, sizeof sub, "%s.", path);
            emit_rfields(o, spec, e, r->fields, r->nfields, sub);
            continue;
        }
        sc_printf(o, "%s | ", class_word(r->cls));
        for (int j = 0; j < r->nsinks; j++) {
            sc_printf(o, "%s", j ? ", " : "");
            if (r->sinks[j].kind == SC_SINK_DERIVE)
                md_link(o, "derive", r->sinks[j].name);
            else
                sc_printf(o, "`%s`", r->sinks[j].name);
        }
        if (!r->nsinks)
            sc_printf(o, "—");
        sc_printf(o, " | ");
        if (r->cls == SC_PUBLIC) {
            sc_printf(o, "as received");
            if (list_refs(o, " → ", spec, e, r, NULL) == 0)
                sc_printf(o, "; no output names it");
        } else {
            sc_printf(o, "never stored");
            for (int j = 0; j < r->nsinks; j++) {
                const sc_sink *s = &r->sinks[j];
                if (s->kind == SC_SINK_PSEUDONYM)
                    sc_printf(o, "; HMAC → ");
                else if (s->kind == SC_SINK_COMMIT)
                    sc_printf(o, "; commitment → ");
                else if (s->kind == SC_SINK_DIGEST)
                    sc_printf(o, "; SHA-256 → ");
                else
                    sc_printf(o, "; `%s` → ", s->name);
                if (list_refs(o, "", spec, e, r, s->name) == 0)
                    sc_printf(o, "no output");
            }
        }
        sc_printf(o, " |\n");
    }
}

/* Rows for output fields; objects are flattened into `a.b` rows. */
static void emit_ofields(sc_out *o, const sc_record *r, const char *prefix)
{
    for (int i = 0; r && i < r->nfields; i++) {
        const sc_ofield *f = &r->fields[i];
        char path[512];
        snprintf(path, sizeof path, "%s%s", prefix, f->name);
        sc_printf(o, "| `%s` | ", path);
        otype(o, &f->type);
        if (f->nullable)
            sc_printf(o, ", or null");
        if (f->is_signature)
            sc_printf(o, ", **signature**");
        sc_printf(o, " | ");
        if (f->from)
            from_text(o, f->from, 0);
        else if (f->is_signature)
            sc_printf(o, "signature over the other fields");
        else if (f->type.kind == SC_O_OBJECT)
            sc_printf(o, "its fields, below");
        else
            sc_printf(o, "—");
        sc_printf(o, " |\n");
        if (f->type.kind == SC_O_OBJECT) {
            char sub[520];
            snprintf(sub, sizeof sub, "%s.", path);
            emit_ofields(o, f->type.rec, sub);
        }
    }
}

static void ofields_table(sc_out *o, const sc_record *r, int envelope)
{
    sc_printf(o, "\n| Field | Type | Source |\n|---|---|---|\n");
    if (envelope)
        sc_printf(o, "| `action` | string | the entry's kind (envelope) |\n"
                     "| `cvmId` | string | the instance that wrote it (envelope) |\n"
                     "| `timestamp` | time | when it was written (envelope) |\n");
    emit_ofields(o, r, "");
    if (r && r->nfields == 0 && !envelope)
        sc_printf(o, "| (no fields) | | |\n");
}

static int is_path_param(const sc_endpoint *e, const char *name)
{
    size_t n = strlen(name);
    for (const char *s = strchr(e->path, ':'); s; s = strchr(s + 1, ':'))
        if (strcspn(s + 1, "/") == n && !strncmp(s + 1, name, n))
            return 1;
    return 0;
}

static void emit_endpoint(sc_out *o, const sc_spec *spec, const sc_endpoint *e)
{
    anchor(o, "endpoint", e->name);
    if (e->job)
        sc_printf(o, "### `%s` — job (served on no port)\n\nMade by the service itself, never by a "
                  "request: its parameters are the values the code that makes it passes, checked "
                  "against their bounds as a request's are.\n", e->name);
    else
        sc_printf(o, "### `%s` — `%s %s`%s\n", e->name, e->method, e->path,
                  e->metadata_port ? " (metadata port)" : "");
    if (e->planned)
        sc_printf(o, "\n**Planned**: declared, not served yet; it answers `501 not_implemented`.\n");
    else
        sc_printf(o, "\n**Handler**: `h_%s`, on the %s thread.\n", e->handler, sc_thread_name(e->thread));
    if (e->nparams) {
        sc_printf(o, "\n**Parameters**\n\n| Parameter | In | Type | Required |\n|---|---|---|---|\n");
        for (int i = 0; i < e->nparams; i++) {
            const sc_rfield *p = &e->params[i];
            int in_path = is_path_param(e, p->name);
            sc_printf(o, "| `%s` | %s | ", p->name, e->job ? "job" : in_path ? "path" : "query");
            rtype(o, p);
            sc_printf(o, " | %s |\n", in_path || !p->optional ? "yes" : "no");
        }
    }
    if (e->has_request) {
        char size[64];
        fmt_size(size, sizeof size, e->max_body);
        sc_printf(o, "\n**Request body**: a JSON object of at most %s", size);
        if (e->max_depth <= 1)
            sc_printf(o, ", with no object inside it");
        else
            sc_printf(o, ", with objects nested at most %d deep (the body itself counts as 1)",
                      e->max_depth);
        sc_printf(o, ".  Bits left behind per request: at most %.2f ([leakage bounds]"
                  "(#leakage-bounds)).\n", sc_leakage_bits(e));
        sc_printf(o, "\n| Field | Type | Required | Class | Sinks | Where the value goes |\n"
                     "|---|---|---|---|---|---|\n");
        emit_rfields(o, spec, e, e->req, e->nreq, "");
    }
    if (e->body == SC_BODY_FILE) {
        sc_printf(o, "\n**Response %d**: the file `%s` (`%s`), embedded in the binary at build "
                  "time and served as it is.\n", e->status, e->file, e->content_type);
    } else if (e->body == SC_BODY_WEBSOCKET) {
        sc_printf(o, "\n**Response %d**: a WebSocket (RFC 6455) that streams these frames, as "
                  "canonical JSON text messages, and nothing else: ", e->status);
        for (int i = 0; i < e->nframes; i++) {
            sc_printf(o, "%s", i ? ", " : "");
            md_link(o, "frame", e->frames[i]);
        }
        sc_printf(o, ".\n");
    } else if (e->response) {
        sc_printf(o, "\n**Response %d**", e->status);
        if (e->response->kind == SC_REC_RESPONSE) {
            sc_printf(o, "\n");
            ofields_table(o, e->response, 0);
        } else {
            sc_printf(o, ": record ");
            md_link(o, "record", e->response->name);
            sc_printf(o, ".\n");
        }
    }
    sc_printf(o, "\n**Audit entries emitted**: ");
    for (int i = 0; i < e->nemits; i++) {
        sc_printf(o, "%s", i ? ", " : "");
        md_link(o, "audit", e->emits[i]);
    }
    sc_printf(o, "%s.\n", e->nemits ? "" : "none");
}

/* ---- derivations -------------------------------------------------------- */

typedef struct feeders {
    sc_out *o;
    const char *derive;
    int n;
} feeders;

static void feeders_of(feeders *c, const sc_endpoint *e, const sc_rfield *f, int n,
                       const char *prefix)
{
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", prefix, f[i].name);
        for (int j = 0; j < f[i].nsinks; j++)
            if (f[i].sinks[j].kind == SC_SINK_DERIVE && !strcmp(f[i].sinks[j].name, c->derive))
                sc_printf(c->o, "%s`%s.%s`", c->n++ ? ", " : "", e->name, path);
        char sub[520];
        snprintf(sub, sizeof sub, "%s.", path);
        feeders_of(c, e, f[i].fields, f[i].nfields, sub);
    }
}

static void emit_dfield(sc_out *o, const sc_derive *d, const sc_dfield *f)
{
    sc_printf(o, "\n#### `%s.%s`", d->name, f->name);
    switch (f->kind) {
    case SC_D_KEYWORDS:
        sc_printf(o, " — keywords\n\nThe input is searched for every keyword, ignoring case; "
                  "the label with the most hits wins, a tie goes to the label listed first, "
                  "and no hit at all gives the default.\n"
                  "\n| Label | Keywords |\n|---|---|\n");
        break;
    case SC_D_NUMBER:
        sc_printf(o, " — number after a marker\n\nThe first whole number after the marker ");
        md_code(o, f->after ? f->after : "", 0);
        sc_printf(o, " (spaces allowed between them) is mapped to the label whose range holds "
                  "it; no number, or one outside every range, gives the default.\n"
                  "\n| Label | Range |\n|---|---|\n");
        break;
    default:
        sc_printf(o, " — text\n\nUnbounded: the spec compiler refuses this field.\n");
        return;
    }
    for (int i = 0; i < f->nlabels; i++) {
        const sc_dlabel *l = &f->labels[i];
        sc_printf(o, "| ");
        md_code(o, l->label, 1);
        sc_printf(o, " | ");
        if (f->kind == SC_D_KEYWORDS)
            for (int k = 0; k < l->nkeywords; k++) {
                sc_printf(o, "%s", k ? ", " : "");
                md_code(o, l->keywords[k], 1);
            }
        else
            sc_printf(o, "%lld to %lld", (long long)l->lo, (long long)l->hi);
        if (f->deflt && !strcmp(l->label, f->deflt))
            sc_printf(o, "; also the default");
        sc_printf(o, " |\n");
    }
    if (default_is_extra(f)) {
        sc_printf(o, "| ");
        md_code(o, f->deflt, 1);
        sc_printf(o, " | the default: %s |\n",
                  f->kind == SC_D_KEYWORDS ? "no keyword found" : "no number in any range");
    }
    int dom = dfield_domain(f);
    sc_printf(o, "\nDomain: %d labels, log2(%d) = %.2f bits.\n", dom, dom, bits_of(dom));
}

static void emit_derive(sc_out *o, const sc_spec *spec, const sc_derive *d)
{
    anchor(o, "derive", d->name);
    sc_printf(o, "### `%s`\n\nFed by: ", d->name);
    feeders c = { o, d->name, 0 };
    for (int i = 0; i < spec->nendpoints; i++)
        feeders_of(&c, spec->endpoints[i], spec->endpoints[i]->req, spec->endpoints[i]->nreq, "");
    if (!c.n)
        sc_printf(o, "no request field");
    double dom = sc_derive_domain(d);
    sc_printf(o, ".  Outcomes: ");
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "%s%d", i ? " × " : "", dfield_domain(&d->fields[i]));
    if (d->nfields > 1)
        sc_printf(o, " = %.0f", dom);
    sc_printf(o, ", so one value reveals at most log2(%.0f) = %.2f bits.\n", dom, bits_of(dom));
    for (int i = 0; i < d->nfields; i++)
        emit_dfield(o, d, &d->fields[i]);
}

/* ---- records, audit entries, log lines, frames ------------------------- */

typedef struct users {
    sc_out *o;
    const sc_record *rec;
    int n;
} users;

static const sc_otyp *elem_of(const sc_otyp *t)
{
    return t->kind == SC_O_LIST ? t->elem : t;
}

static void user_visit(void *ctx, const owner *ow, const char *path, const sc_ofield *f)
{
    users *u = ctx;
    const sc_otyp *t = elem_of(&f->type);
    int hit = (t->kind == SC_O_RECORD || t->kind == SC_O_AUDIT) && t->rec == u->rec;
    /* `audit any` holds an entry of every kind. */
    hit |= u->rec->kind == SC_REC_AUDIT && t->kind == SC_O_AUDIT && !strcmp(t->ref, "any");
    if (!hit)
        return;
    sc_printf(u->o, "%s`%s` in ", u->n++ ? ", " : "", path);
    owner_text(u->o, ow, NULL);
}

static void emit_users(sc_out *o, const sc_spec *spec, const sc_record *r)
{
    users u = { o, r, 0 };
    sc_printf(o, "\nAppears in: ");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        int emits = 0;
        for (int j = 0; j < e->nemits; j++)
            emits |= r->kind == SC_REC_AUDIT && !strcmp(e->emits[j], r->name);
        if (e->response == r) {
            sc_printf(o, "%sthe whole response of ", u.n++ ? ", " : "");
            md_link(o, "endpoint", e->name);
        }
        if (emits) {
            sc_printf(o, "%semitted by ", u.n++ ? ", " : "");
            md_link(o, "endpoint", e->name);
        }
    }
    walk_outputs(spec, user_visit, &u);
    sc_printf(o, "%s.\n", u.n ? "" : "nothing in the spec (written by the service itself)");
}

/* The WebSocket endpoints that stream frame r. */
static void emit_streamers(sc_out *o, const sc_spec *spec, const sc_record *r)
{
    int n = 0;
    sc_printf(o, "\nStreamed by: ");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        for (int j = 0; j < e->nframes; j++)
            if (e->frame_recs && e->frame_recs[j] == r) {
                sc_printf(o, "%s", n++ ? ", " : "");
                md_link(o, "endpoint", e->name);
            }
    }
    sc_printf(o, "%s.\n", n ? "" : "no endpoint");
}

static void emit_records(sc_out *o, const sc_spec *spec, int kind, const char *id,
                         const char *title, const char *intro)
{
    sc_printf(o, "\n<a id=\"%s\"></a>\n## %s\n\n%s\n", id, title, intro);
    int any = 0;
    for (int i = 0; i < spec->nrecords; i++) {
        const sc_record *r = spec->records[i];
        if (r->kind != kind)
            continue;
        any = 1;
        anchor(o, rec_anchor_kind(kind), r->name);
        sc_printf(o, "### `%s`%s\n", r->name,
                  kind == SC_REC_RECORD && !strcmp(r->name, "report") ? " (the report)" : "");
        /* Log lines and frames are written by the service, never embedded. */
        if (kind != SC_REC_LOG && kind != SC_REC_FRAME)
            emit_users(o, spec, r);
        if (kind == SC_REC_FRAME)
            emit_streamers(o, spec, r);
        ofields_table(o, r, kind == SC_REC_AUDIT);
    }
    if (!any)
        sc_printf(o, "\nNone.\n");
}

/* ---- tables ------------------------------------------------------------- */


static void emit_table(sc_out *o, const sc_table *t)
{
    anchor(o, "table", t->name);
    sc_printf(o, "### `%s`\n\n", t->name);
    if (t->per) {
        sc_printf(o, "One row per ");
        md_link(o, "audit", t->per);
        sc_printf(o, " entry, written with it.\n\n");
    }
    sc_printf(o, "| Column | SQL type | Constraints | Provenance |\n|---|---|---|---|\n");
    for (int i = 0; i < t->ncols; i++) {
        const sc_column *c = &t->cols[i];
        sc_printf(o, "| `%s` | `%s` | ", c->name, sc_sql_type(c->type));
        /* The same rules as postgres/schema.sql, so the two agree. */
        int n = 0;
        if (c->key)
            sc_printf(o, "%sprimary key", n++ ? ", " : "");
        else if (c->unique)
            sc_printf(o, "%sunique", n++ ? ", " : "");
        if (!c->key && !c->nullable && c->type != SC_C_BIGSERIAL)
            sc_printf(o, "%snot null", n++ ? ", " : "");
        if (c->nullable && !c->key && c->type != SC_C_BIGSERIAL)
            sc_printf(o, "%snullable", n++ ? ", " : "");
        if (c->deflt)
            sc_printf(o, "%sdefault `%s`", n++ ? ", " : "", c->deflt);
        if (c->index && !c->key && !c->unique)
            sc_printf(o, "%sindexed%s", n++ ? ", " : "", c->index == 2 ? " (BRIN)" : "");
        if (c->purged)
            sc_printf(o, "%s**purged** by a deletion", n++ ? ", " : "");
        if (!n)
            sc_printf(o, "—");
        sc_printf(o, " | ");
        if (c->from)
            from_text(o, c->from, 1);
        else
            sc_printf(o, "—");
        sc_printf(o, " |\n");
    }
}

/* ---- the file ----------------------------------------------------------- */

int sc_emit_doc(const sc_spec *spec, const char *path)
{
    /* dirname and basename may modify their argument. */
    char *d = sc_strndup(path, strlen(path)), *b = sc_strndup(path, strlen(path));
    sc_out *o = sc_out_open(dirname(d), basename(b));
    sc_banner(o, spec, NULL);
    emit_intro(o);
    emit_leakage(o, spec);

    sc_printf(o, "\n<a id=\"endpoints\"></a>\n## Endpoints\n\n"
                 "In spec order.  A parameter is in the path (`:name`) or in the query\n"
                 "string.  Endpoints marked \"metadata port\" are served on the separate\n"
                 "attestation metadata port.  A job is work the service gives itself,\n"
                 "through the same handlers and writer as a request, on no port.\n");
    for (int i = 0; i < spec->nendpoints; i++)
        emit_endpoint(o, spec, spec->endpoints[i]);

    sc_printf(o, "\n<a id=\"derivations\"></a>\n## Derivations\n\n"
                 "A derivation is a state machine fed the decoded bytes of a secret field as\n"
                 "they arrive; it keeps nothing of them but its counters, and yields one label\n"
                 "per field.  Its outcomes are every combination of its fields' labels.\n");
    if (!spec->nderives)
        sc_printf(o, "\nNone.\n");
    for (int i = 0; i < spec->nderives; i++)
        emit_derive(o, spec, spec->derives[i]);

    emit_records(o, spec, SC_REC_AUDIT, "audit-entries", "Audit entries",
                 "Each entry is a leaf of the Merkle audit log (RFC 6962), as its canonical\n"
                 "JSON; the batch head that covers it is signed.  Every entry carries the\n"
                 "envelope fields `action`, `cvmId` and `timestamp` besides its own.");
    emit_records(o, spec, SC_REC_RECORD, "records", "Records",
                 "Named records shared by responses, audit entries and frames, and the\n"
                 "retrospective report.");
    emit_records(o, spec, SC_REC_LOG, "log-lines", "Log lines",
                 "What the service writes to its log: these fields and nothing else.");
    emit_records(o, spec, SC_REC_FRAME, "websocket-frames", "WebSocket frames",
                 "What the dashboard's WebSocket receives.");

    sc_printf(o, "\n<a id=\"tables\"></a>\n## Tables\n\n"
                 "The Postgres tables, as created by `postgres/schema.sql`.  `bigserial` and\n"
                 "primary key columns are never null.\n");
    for (int i = 0; i < spec->ntables; i++)
        emit_table(o, spec->tables[i]);
    return sc_out_close(o);
}
