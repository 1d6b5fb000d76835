/*
 * emit_c.c — gen/toy_spec.h and gen/toy_spec.c: the C side of the spec.
 *
 * For each derivation: its out struct, its state struct and its labels.
 * For each request: a struct holding only what may be kept (public values
 * and sink results), the sinks' working state (wiped after the parse), and
 * the rt_schema tables the streaming parser interprets.  For each output:
 * a struct and an rt_record table with keys in RFC 8785 order.  Last, the
 * route table as an X-macro.  Tables, not logic: the logic is in runtime/.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "specc.h"

static char *upper(const char *s)
{
    char *u = sc_strndup(s, strlen(s));
    for (char *p = u; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return u;
}

/* A C identifier for a label such as "18-25" or "50+". */
static char *ident(const char *s)
{
    size_t n = strlen(s);
    char *u = sc_alloc(n * 4 + 2), *o = u;
    if (isdigit((unsigned char)s[0]))
        *o++ = 'L';
    for (const char *p = s; *p; p++) {
        if (isalnum((unsigned char)*p))
            *o++ = (char)toupper((unsigned char)*p);
        else if (*p == '+')
            o += sprintf(o, "PLUS");
        else
            *o++ = '_';
    }
    return u;
}

/* The labels of a derivation field: declared ones, then the default if new. */
int sc_dlabels(const sc_dfield *f, const char ***out)
{
    const char **l = sc_alloc(sizeof *l * (size_t)(f->nlabels + 1));
    int n = 0, seen = 0;
    for (int i = 0; i < f->nlabels; i++) {
        l[n++] = f->labels[i].label;
        seen |= !strcmp(f->labels[i].label, f->deflt);
    }
    if (!seen)
        l[n++] = f->deflt;
    *out = l;
    return n;
}

int sc_derive_default_index(const sc_dfield *f)
{
    for (int i = 0; i < f->nlabels; i++)
        if (!strcmp(f->labels[i].label, f->deflt))
            return i;
    return f->nlabels;
}

/* ---- header: derivations ------------------------------------------------ */

static void h_derive(sc_out *o, const sc_derive *d)
{
    char *D = upper(d->name);
    sc_printf(o, "/* derive %s: %.0f outcomes, at most %.2f bits. */\n", d->name,
              sc_derive_domain(d), log2(sc_derive_domain(d)));
    for (int i = 0; i < d->nfields; i++) {
        const sc_dfield *f = &d->fields[i];
        const char **l;
        int n = sc_dlabels(f, &l);
        char *F = upper(f->name);
        sc_printf(o, "enum toy_%s_%s {\n", d->name, f->name);
        for (int j = 0; j < n; j++)
            sc_printf(o, "    TOY_%s_%s_%s = %d,\n", D, F, ident(l[j]), j);
        sc_printf(o, "    TOY_%s_%s__COUNT = %d\n};\n", D, F, n);
        sc_printf(o, "extern const char *const toy_%s_%s_labels[%d];\n", d->name, f->name, n);
    }
    sc_printf(o, "typedef struct toy_%s_out {\n", d->name);
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "    uint8_t %s;   /* enum toy_%s_%s */\n", d->fields[i].name, d->name, d->fields[i].name);
    sc_printf(o, "} toy_%s_out;\n", d->name);
    sc_printf(o, "typedef struct toy_%s_state {\n", d->name);
    for (int i = 0; i < d->nfields; i++) {
        const sc_dfield *f = &d->fields[i];
        const char **l;
        int n = sc_dlabels(f, &l);
        if (f->kind == SC_D_KEYWORDS)
            sc_printf(o, "    int cs_%s;\n    uint32_t hits_%s[%d];\n", f->name, f->name, n);
        else
            sc_printf(o, "    int cs_%s;\n    uint8_t phase_%s, ndigits_%s, found_%s;\n"
                      "    uint32_t num_%s;\n", f->name, f->name, f->name, f->name, f->name);
    }
    sc_printf(o, "} toy_%s_state;\n", d->name);
    sc_printf(o, "void toy_%s_init(void *st);\n", d->name);
    sc_printf(o, "void toy_%s_feed(void *st, const uint8_t *p, size_t n);\n", d->name);
    sc_printf(o, "void toy_%s_finish(void *st, void *out);\n", d->name);
    sc_printf(o, "/* Writes e.g. \"");
    for (int i = 0; i < d->nfields; i++)
        sc_printf(o, "%s%s:%s", i ? "," : "", d->fields[i].name, d->fields[i].deflt);
    sc_printf(o, "\"; returns the length (>= cap: cut). */\n");
    sc_printf(o, "size_t toy_%s_format(const void *out, char *buf, size_t cap);\n", d->name);
    sc_printf(o, "extern const rt_derive toy_derive_%s;\n\n", d->name);
}

/* ---- header: requests --------------------------------------------------- */

static void sink_out_decl(sc_out *o, const sc_rfield *f, const char *prefix, int indent)
{
    for (int j = 0; j < f->nsinks; j++) {
        const sc_sink *s = &f->sinks[j];
        if (s->kind == SC_SINK_DERIVE)
            sc_printf(o, "%*stoy_%s_out %s_%s;\n", indent, "", s->name, f->name, s->name);
        else
            sc_printf(o, "%*suint8_t %s_%s[32];   /* %s%s */\n", indent, "", f->name, s->name,
                      s->kind == SC_SINK_PSEUDONYM ? "HMAC-SHA256 keyed pseudonym of "
                      : s->kind == SC_SINK_DIGEST ? "SHA-256 of the decoded bytes of "
                      : "SHA-256(salt || value) of ", prefix);
    }
}

static void req_fields_decl(sc_out *o, const sc_rfield *f, int n, const char *prefix, int indent)
{
    sc_printf(o, "%*suint64_t present;   /* bit i: field i was in the body */\n", indent, "");
    for (int i = 0; i < n; i++) {
        const sc_rfield *r = &f[i];
        if (r->type == SC_R_OBJECT) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s%s.", prefix, r->name);
            sc_printf(o, "%*sstruct {\n", indent, "");
            req_fields_decl(o, r->fields, r->nfields, buf, indent + 4);
            sc_printf(o, "%*s} %s;\n", indent, "", r->name);
        } else if (r->cls != SC_PUBLIC) {
            sc_printf(o, "%*s/* %s%s: %s, never stored */\n", indent, "", prefix, r->name,
                      r->cls == SC_SECRET ? "secret" : "pseudonymous");
            sink_out_decl(o, r, r->name, indent);
        } else if (r->type == SC_R_STRING || r->type == SC_R_HEX) {
            sc_printf(o, "%*schar %s[%lld];\n%*suint32_t %s_len;\n", indent, "", r->name,
                      (long long)(r->type == SC_R_HEX ? 2 * r->max : r->max) + 1, indent, "", r->name);
        } else if (r->type == SC_R_INT) {
            sc_printf(o, "%*sint64_t %s;\n", indent, "", r->name);
        } else {
            sc_printf(o, "%*suint8_t %s;\n", indent, "", r->name);
        }
    }
}

static int work_decl(sc_out *o, const sc_rfield *f, int n, const char *prefix)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        const sc_rfield *r = &f[i];
        char buf[256];
        snprintf(buf, sizeof buf, "%s%s_", prefix, r->name);
        if (r->type == SC_R_OBJECT) {
            count += work_decl(o, r->fields, r->nfields, buf);
            continue;
        }
        for (int j = 0; j < r->nsinks; j++, count++) {
            const sc_sink *s = &r->sinks[j];
            if (s->kind == SC_SINK_DERIVE)
                sc_printf(o, "        toy_%s_state %s%s;\n", s->name, buf, s->name);
            else
                sc_printf(o, "        rt_sink_state %s%s;\n", buf, s->name);
        }
    }
    return count;
}

static void h_request(sc_out *o, const sc_endpoint *e)
{
    sc_printf(o, "/* %s %s: what the parser keeps of the body. */\n", e->method, e->path);
    sc_printf(o, "typedef struct toy_req_%s {\n", e->name);
    req_fields_decl(o, e->req, e->nreq, "", 4);
    sc_printf(o, "    struct {   /* sinks' working state: wiped when the parse ends */\n");
    if (!work_decl(o, e->req, e->nreq, ""))
        sc_printf(o, "        uint8_t none;\n");
    sc_printf(o, "    } work;\n} toy_req_%s;\n", e->name);
    sc_printf(o, "extern const rt_schema toy_schema_%s;\n\n", e->name);
}

static void h_params(sc_out *o, const sc_endpoint *e)
{
    sc_printf(o, "typedef struct toy_params_%s {\n", e->name);
    if (!e->nparams)
        sc_printf(o, "    uint8_t none;\n");
    for (int i = 0; i < e->nparams; i++) {
        const sc_rfield *r = &e->params[i];
        if (r->type == SC_R_STRING || r->type == SC_R_ID)
            sc_printf(o, "    char %s[%lld];\n    uint32_t %s_len;\n", r->name, (long long)r->max + 1, r->name);
        else if (r->type == SC_R_INT)
            sc_printf(o, "    int64_t %s;\n", r->name);
        else
            sc_printf(o, "    uint8_t %s;\n", r->name);
        sc_printf(o, "    uint8_t has_%s;\n", r->name);
    }
    sc_printf(o, "} toy_params_%s;\n", e->name);
    sc_printf(o, "extern const rt_params toy_params_%s_tab;\n\n", e->name);
}

/* ---- header: output records --------------------------------------------- */

static const char *ctype_of(const sc_otyp *t, char *buf, size_t cap)
{
    switch (t->kind) {
    case SC_O_STRING: case SC_O_ID: case SC_O_TIME: case SC_O_AUDIT: return "rt_str";
    case SC_O_UINT: return "uint64_t";
    case SC_O_INT: return "int64_t";
    case SC_O_BOOL: return "uint8_t";
    case SC_O_HASH: return "uint8_t";   /* [32] */
    case SC_O_HEX: return "rt_bytes";
    case SC_O_DERIVED: snprintf(buf, cap, "toy_%s_out", t->ref); return buf;
    case SC_O_RECORD: case SC_O_OBJECT: snprintf(buf, cap, "%s", t->rec->cname); return buf;
    case SC_O_LIST: return "rt_list";
    }
    return "void";
}

static void h_record(sc_out *o, const sc_record *r, const sc_record **done, int *ndone)
{
    for (int i = 0; i < *ndone; i++)
        if (done[i] == r)
            return;
    done[(*ndone)++] = r;
    /* What this struct embeds must be declared first. */
    for (int i = 0; i < r->nfields; i++) {
        const sc_otyp *t = &r->fields[i].type;
        if (t->kind == SC_O_LIST)
            t = t->elem;
        if ((t->kind == SC_O_RECORD || t->kind == SC_O_OBJECT) && t->rec)
            h_record(o, t->rec, done, ndone);
    }
    char buf[256];
    sc_printf(o, "/* %s */\ntypedef struct %s {\n", r->what, r->cname);
    if (r->kind == SC_REC_AUDIT)
        sc_printf(o, "    /* envelope: \"action\" is \"%s\" */\n    rt_str cvmId;\n    rt_str timestamp;\n", r->name);
    for (int i = 0; i < r->nfields; i++) {
        const sc_ofield *f = &r->fields[i];
        const char *ct = ctype_of(&f->type, buf, sizeof buf);
        sc_printf(o, "    %s %s%s;", ct, f->name, f->type.kind == SC_O_HASH ? "[32]" : "");
        if (f->type.kind == SC_O_LIST) {
            char eb[256];
            const sc_otyp *el = f->type.elem;
            sc_printf(o, "   /* of %s%s */", ctype_of(el, eb, sizeof eb), el->kind == SC_O_HASH ? "[32]" : "");
        } else if (f->type.kind == SC_O_AUDIT) {
            sc_printf(o, "   /* canonical JSON of an audit entry */");
        }
        sc_printf(o, "\n");
        if (f->nullable)
            sc_printf(o, "    uint8_t %s_null;   /* 1: written as null */\n", f->name);
    }
    sc_printf(o, "} %s;\nextern const rt_record %s_rec;\n\n", r->cname, r->cname);
}

/* ---- source: tables ----------------------------------------------------- */

static int rt_cls(int c)
{
    return c == SC_SECRET ? 3 : c == SC_PSEUDONYMOUS ? 2 : 1;
}

static void c_rtables(sc_out *o, const sc_endpoint *e, const sc_rfield *f, int n,
                      const char *tprefix, const char *mprefix, const char *wprefix)
{
    /* Nested objects' tables first, so they can be referred to. */
    for (int i = 0; i < n; i++)
        if (f[i].type == SC_R_OBJECT) {
            char t[256], m[256], w[256];
            snprintf(t, sizeof t, "%s_%s", tprefix, f[i].name);
            snprintf(m, sizeof m, "%s%s.", mprefix, f[i].name);
            snprintf(w, sizeof w, "%s%s_", wprefix, f[i].name);
            c_rtables(o, e, f[i].fields, f[i].nfields, t, m, w);
        }
    for (int i = 0; i < n; i++) {
        const sc_rfield *r = &f[i];
        if (!r->nsinks)
            continue;
        sc_printf(o, "static const rt_sink %s_%s_sinks[] = {\n", tprefix, r->name);
        for (int j = 0; j < r->nsinks; j++) {
            const sc_sink *s = &r->sinks[j];
            sc_printf(o, "    { .kind = %s, .st_off = offsetof(toy_req_%s, work.%s%s_%s),\n"
                      "      .out_off = offsetof(toy_req_%s, %s%s_%s)",
                      s->kind == SC_SINK_PSEUDONYM ? "RT_SINK_PSEUDONYM"
                      : s->kind == SC_SINK_COMMIT ? "RT_SINK_COMMIT"
                      : s->kind == SC_SINK_DIGEST ? "RT_SINK_DIGEST" : "RT_SINK_DERIVE",
                      e->name, wprefix, r->name, s->name, e->name, mprefix, r->name, s->name);
            if (s->kind == SC_SINK_DERIVE)
                sc_printf(o, ", .derive = &toy_derive_%s", s->name);
            sc_printf(o, " },\n");
        }
        sc_printf(o, "};\n");
    }
    sc_printf(o, "static const rt_field %s_fields[] = {\n", tprefix);
    uint64_t required = 0;
    for (int i = 0; i < n; i++) {
        const sc_rfield *r = &f[i];
        static const char *types[] = { "", "RT_T_STRING", "RT_T_INT", "RT_T_BOOL", "RT_T_OBJECT",
                                       "", "RT_T_STRING" };
        if (!r->optional)
            required |= 1ull << i;
        int hex = r->type == SC_R_HEX;
        sc_printf(o, "    { .name = \"%s\", .name_len = %zu, .type = %s, .cls = %d, .nsinks = %d,%s\n",
                  r->name, strlen(r->name), types[r->type], rt_cls(r->cls), r->nsinks, hex ? " .hex = 1," : "");
        sc_printf(o, "      .min = %lld, .max = %lld", (long long)(hex ? 2 * r->min : r->min),
                  (long long)(hex ? 2 * r->max : r->max));
        if (r->type == SC_R_OBJECT)
            sc_printf(o, ", .obj = &%s_%s_obj", tprefix, r->name);
        else if (r->nsinks)
            sc_printf(o, ", .sinks = %s_%s_sinks", tprefix, r->name);
        else if (r->type == SC_R_STRING || r->type == SC_R_HEX)
            sc_printf(o, ",\n      .off = offsetof(toy_req_%s, %s%s), .len_off = offsetof(toy_req_%s, %s%s_len)",
                      e->name, mprefix, r->name, e->name, mprefix, r->name);
        else
            sc_printf(o, ",\n      .off = offsetof(toy_req_%s, %s%s)", e->name, mprefix, r->name);
        sc_printf(o, " },\n");
    }
    sc_printf(o, "};\n");
    sc_printf(o, "static const rt_object %s_obj = {\n", tprefix);
    sc_printf(o, "    .fields = %s_fields, .nfields = %d, .required = 0x%llxull,\n", tprefix, n,
              (unsigned long long)required);
    sc_printf(o, "    .present_off = offsetof(toy_req_%s, %spresent), .key_index = %s_key,\n};\n\n",
              e->name, mprefix, tprefix);
}

static int fcmp(const void *a, const void *b)
{
    return strcmp((*(const sc_ofield *const *)a)->name, (*(const sc_ofield *const *)b)->name);
}

static const char *rt_otype(int k)
{
    switch (k) {
    case SC_O_STRING: case SC_O_ID: case SC_O_TIME: return "RT_O_STR";
    case SC_O_UINT: return "RT_O_UINT";
    case SC_O_INT: return "RT_O_INT";
    case SC_O_BOOL: return "RT_O_BOOL";
    case SC_O_HASH: return "RT_O_HASH";
    case SC_O_HEX: return "RT_O_BYTES";
    case SC_O_DERIVED: return "RT_O_DERIVED";
    case SC_O_RECORD: case SC_O_OBJECT: return "RT_O_RECORD";
    case SC_O_AUDIT: return "RT_O_RAW";
    case SC_O_LIST: return "RT_O_LIST";
    }
    return "0";
}

static void c_record(sc_out *o, const sc_record *r, const sc_record **done, int *ndone)
{
    for (int i = 0; i < *ndone; i++)
        if (done[i] == r)
            return;
    done[(*ndone)++] = r;
    for (int i = 0; i < r->nfields; i++) {
        const sc_otyp *t = &r->fields[i].type;
        if (t->kind == SC_O_LIST)
            t = t->elem;
        if ((t->kind == SC_O_RECORD || t->kind == SC_O_OBJECT) && t->rec)
            c_record(o, t->rec, done, ndone);
    }
    /* Envelope fields of audit entries take part in the sort like any other. */
    int n = r->nfields + (r->kind == SC_REC_AUDIT ? 3 : 0);
    sc_ofield *env = sc_alloc(sizeof *env * 3);
    const sc_ofield **sorted = sc_alloc(sizeof *sorted * (size_t)(n + 1));
    int k = 0;
    for (int i = 0; i < r->nfields; i++)
        sorted[k++] = &r->fields[i];
    if (r->kind == SC_REC_AUDIT) {
        env[0].name = "action"; env[0].type.kind = -1;
        env[1].name = "cvmId"; env[1].type.kind = SC_O_STRING;
        env[2].name = "timestamp"; env[2].type.kind = SC_O_TIME;
        for (int i = 0; i < 3; i++)
            sorted[k++] = &env[i];
    }
    qsort(sorted, (size_t)n, sizeof *sorted, fcmp);
    sc_printf(o, "static const rt_ofield %s_fields[] = {\n", r->cname);
    for (int i = 0; i < n; i++) {
        const sc_ofield *f = sorted[i];
        sc_printf(o, "    { .key = \"%s\", .key_len = %zu, ", f->name, strlen(f->name));
        if (f->type.kind == -1) {
            sc_printf(o, ".type = RT_O_CONST, .cval = \"%s\" },\n", r->name);
            continue;
        }
        sc_printf(o, ".type = %s, .off = offsetof(%s, %s)", rt_otype(f->type.kind), r->cname, f->name);
        if (f->nullable || f->is_signature) {
            sc_printf(o, ",\n      .flags = %s%s%s", f->nullable ? "RT_OF_NULLABLE" : "",
                      f->nullable && f->is_signature ? " | " : "", f->is_signature ? "RT_OF_SIGNATURE" : "");
            if (f->nullable)
                sc_printf(o, ", .null_off = offsetof(%s, %s_null)", r->cname, f->name);
        }
        const sc_otyp *t = &f->type;
        if (t->kind == SC_O_LIST) {
            char eb[256];
            const char *ct = ctype_of(t->elem, eb, sizeof eb);
            sc_printf(o, ",\n      .elem = %s, .elem_size = sizeof(%s)%s", rt_otype(t->elem->kind), ct,
                      t->elem->kind == SC_O_HASH ? " * 32" : "");
            t = t->elem;
        }
        if ((t->kind == SC_O_RECORD || t->kind == SC_O_OBJECT) && t->rec)
            sc_printf(o, ", .rec = &%s_rec", t->rec->cname);
        if (t->kind == SC_O_DERIVED)
            sc_printf(o, ", .format = toy_%s_format", t->ref);
        sc_printf(o, " },\n");
    }
    sc_printf(o, "};\nconst rt_record %s_rec = {\n    .name = \"%s\", .fields = %s_fields, .nfields = %d,\n"
              "    .size = sizeof(%s),\n};\n\n", r->cname, r->name ? r->name : r->cname, r->cname, n, r->cname);
}

static void c_params(sc_out *o, const sc_endpoint *e)
{
    for (int i = 0; i < e->nparams; i++) {
        const sc_rfield *r = &e->params[i];
        if (r->type != SC_R_ENUM)
            continue;
        sc_printf(o, "static const char *const toy_params_%s_%s_labels[] = {", e->name, r->name);
        for (int j = 0; j < r->nlabels; j++)
            sc_printf(o, " \"%s\",", r->labels[j]);
        sc_printf(o, " };\n");
    }
    if (e->nparams) {
        sc_printf(o, "static const rt_param toy_params_%s_list[] = {\n", e->name);
        for (int i = 0; i < e->nparams; i++) {
            const sc_rfield *r = &e->params[i];
            static const char *types[] = { "", "RT_P_STRING", "RT_P_INT", "RT_P_BOOL", "", "RT_P_ENUM",
                                           "", "RT_P_ID" };
            char pat[256];
            snprintf(pat, sizeof pat, ":%s", r->name);
            const char *at = strstr(e->path, pat);
            int in_path = at && (at[strlen(pat)] == 0 || at[strlen(pat)] == '/');
            sc_printf(o, "    { .name = \"%s\", .type = %s, .optional = %d, .in_path = %d,\n"
                      "      .min = %lld, .max = %lld, .off = offsetof(toy_params_%s, %s),\n"
                      "      .has_off = offsetof(toy_params_%s, has_%s)",
                      r->name, types[r->type], r->optional, in_path, (long long)r->min,
                      (long long)r->max, e->name, r->name, e->name, r->name);
            if (r->type == SC_R_STRING || r->type == SC_R_ID)
                sc_printf(o, ", .len_off = offsetof(toy_params_%s, %s_len)", e->name, r->name);
            if (r->type == SC_R_ENUM)
                sc_printf(o, ",\n      .labels = toy_params_%s_%s_labels, .nlabels = %d", e->name, r->name, r->nlabels);
            sc_printf(o, " },\n");
        }
        sc_printf(o, "};\n");
    }
    sc_printf(o, "const rt_params toy_params_%s_tab = { .params = %s%s%s, .nparams = %d, .size = sizeof(toy_params_%s) };\n\n",
              e->name, e->nparams ? "toy_params_" : "NULL", e->nparams ? e->name : "",
              e->nparams ? "_list" : "", e->nparams, e->name);
}

static void key_decls(sc_out *o, const char *tprefix, const sc_rfield *f, int n)
{
    for (int i = 0; i < n; i++)
        if (f[i].type == SC_R_OBJECT) {
            char t[256];
            snprintf(t, sizeof t, "%s_%s", tprefix, f[i].name);
            key_decls(o, t, f[i].fields, f[i].nfields);
        }
    sc_printf(o, "int %s_key(const uint8_t *k, size_t n);\n", tprefix);
}

int sc_emit_c(const sc_spec *spec, const char *gendir)
{
    const sc_record **done = sc_alloc(sizeof *done * 4096);
    int ndone = 0;

    sc_out *h = sc_out_open(gendir, "toy_spec.h");
    sc_banner(h, spec, "//");
    sc_printf(h, "#ifndef TOY_SPEC_H\n#define TOY_SPEC_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
              "#include \"rt_param.h\"\n#include \"rt_schema.h\"\n#include \"rt_ser.h\"\n#include \"rt_sink.h\"\n\n"
              "#if RT_SCHEMA_ABI != 2 || RT_SER_ABI != 1\n"
              "#error \"gen/ was generated for another runtime ABI: run make regen\"\n#endif\n\n");
    for (int i = 0; i < spec->nderives; i++)
        h_derive(h, spec->derives[i]);
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (e->has_request) {
            h_request(h, e);
            char t[256];
            snprintf(t, sizeof t, "toy_%s", e->name);
            key_decls(h, t, e->req, e->nreq);
            sc_printf(h, "\n");
        }
        h_params(h, e);
        if (e->has_request) {
            char *E = upper(e->name);
            sc_printf(h, "/* What one %s request can reveal through its derivations. */\n"
                      "#define TOY_LEAKAGE_%s \"%.2f bits per request\"\n\n", e->name, E, sc_leakage_bits(e));
        }
    }
    for (int i = 0; i < spec->nrecords; i++)
        h_record(h, spec->records[i], done, &ndone);
    for (int i = 0; i < spec->nendpoints; i++)
        if (spec->endpoints[i]->response)
            h_record(h, spec->endpoints[i]->response, done, &ndone);

    sc_printf(h, "#endif\n");
    if (sc_out_close(h))
        return -1;

    sc_out *c = sc_out_open(gendir, "toy_spec.c");
    sc_banner(c, spec, "//");
    sc_printf(c, "#include <stddef.h>\n\n#include \"toy_spec.h\"\n\n");
    for (int i = 0; i < spec->nderives; i++) {
        const sc_derive *d = spec->derives[i];
        for (int j = 0; j < d->nfields; j++) {
            const char **l;
            int n = sc_dlabels(&d->fields[j], &l);
            sc_printf(c, "const char *const toy_%s_%s_labels[%d] = {", d->name, d->fields[j].name, n);
            for (int k = 0; k < n; k++)
                sc_printf(c, " \"%s\",", l[k]);
            sc_printf(c, " };\n");
        }
        sc_printf(c, "const rt_derive toy_derive_%s = {\n    .name = \"%s\", .init = toy_%s_init,\n"
                  "    .feed = toy_%s_feed, .finish = toy_%s_finish,\n};\n\n",
                  d->name, d->name, d->name, d->name, d->name);
    }
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        c_params(c, e);
        if (!e->has_request)
            continue;
        char t[256];
        snprintf(t, sizeof t, "toy_%s", e->name);
        c_rtables(c, e, e->req, e->nreq, t, "", "");
        sc_printf(c, "const rt_schema toy_schema_%s = {\n    .name = \"%s\", .root = &toy_%s_obj,\n"
                  "    .max_body = %lld, .max_depth = %d, .out_size = sizeof(toy_req_%s),\n"
                  "    .work_off = offsetof(toy_req_%s, work),\n"
                  "    .work_size = sizeof(((toy_req_%s *)0)->work),\n};\n\n",
                  e->name, e->name, e->name, (long long)e->max_body, e->max_depth, e->name, e->name, e->name);
    }
    ndone = 0;
    for (int i = 0; i < spec->nrecords; i++)
        c_record(c, spec->records[i], done, &ndone);
    for (int i = 0; i < spec->nendpoints; i++)
        if (spec->endpoints[i]->response)
            c_record(c, spec->endpoints[i]->response, done, &ndone);
    return sc_out_close(c);
}
