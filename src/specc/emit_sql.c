/*
 * emit_sql.c — postgres/schema.sql: the DDL for every `table` in the spec.
 *
 * One CREATE TABLE per table, in spec order, then its indexes and column
 * comments.  Every statement is idempotent (IF NOT EXISTS, COMMENT ON
 * replaces), so the file can be applied to a fresh database and again to one
 * that already has it; changing an existing table is a migration, which
 * this file does not attempt.
 *
 * A column whose value comes from a request field says so twice: as a SQL
 * comment for whoever reads the file, and as COMMENT ON COLUMN for whoever
 * reads the live database (\d+ in psql), with the sink that stands between
 * the raw value and the column.
 */
#include <libgen.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "specc.h"


/* Postgres keywords that cannot name a table or column unquoted.  Spec
 * names are otherwise left unquoted so that they fold to lower case the
 * same way in hand-written queries. */
static const char *const reserved[] = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
    "authorization", "binary", "both", "case", "cast", "check", "collate",
    "collation", "column", "concurrently", "constraint", "create", "cross",
    "current_catalog", "current_date", "current_role", "current_schema",
    "current_time", "current_timestamp", "current_user", "default", "deferrable",
    "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for",
    "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in",
    "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral",
    "leading", "left", "like", "limit", "localtime", "localtimestamp", "natural",
    "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer",
    "overlaps", "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "system_user", "table",
    "tablesample", "then", "to", "trailing", "true", "union", "unique", "user",
    "using", "variadic", "verbose", "when", "where", "window", "with",
};

static const char *ident(const char *name)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!strcasecmp(name, reserved[i])) {
            size_t n = strlen(name) + 3;
            char *q = sc_alloc(n);
            snprintf(q, n, "\"%s\"", name);
            return q;
        }
    return name;
}

/* What the column holds of the request field it comes from, in words. */
static void provenance(char *buf, size_t cap, const sc_from *fr)
{
    size_t n = (size_t)snprintf(buf, cap, "from %s", fr->endpoint);
    for (int i = 0; i < fr->npath && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, ".%s", fr->path[i]);
    if (n >= cap)
        return;
    const sc_sink *s = NULL;
    if (fr->via && fr->field)
        for (int i = 0; i < fr->field->nsinks; i++)
            if (!strcmp(fr->field->sinks[i].name, fr->via))
                s = &fr->field->sinks[i];
    if (!s) {
        snprintf(buf + n, cap - n, " (public; stored as received)");
        return;
    }
    switch (s->kind) {
    case SC_SINK_PSEUDONYM:
        snprintf(buf + n, cap - n, " via pseudonym (keyed hash, HMAC-SHA256 with a "
                 "TEE-derived key; the raw value is never stored)");
        break;
    case SC_SINK_COMMIT:
        snprintf(buf + n, cap - n, " via commit (SHA-256 of a fresh salt and the value; "
                 "the salt goes back to the user only; the raw value is never stored)");
        break;
    default: {
        double dom = s->derive ? sc_derive_domain(s->derive) : 0;
        snprintf(buf + n, cap - n, " via %s (one of %.0f outcomes, at most %.2f bits; "
                 "the raw value is never stored)", s->name, dom, dom > 0 ? log2(dom) : 0.0);
        break;
    }
    }
}

/* A SQL string literal: quotes doubled. */
static void sql_string(sc_out *o, const char *s)
{
    sc_printf(o, "'");
    for (; *s; s++) {
        if (*s == '\'')
            sc_printf(o, "'");
        sc_printf(o, "%c", *s);
    }
    sc_printf(o, "'");
}

static void emit_table(sc_out *o, const sc_table *t)
{
    const char *tn = ident(t->name);
    int width = 0;
    for (int i = 0; i < t->ncols; i++) {
        int w = (int)strlen(ident(t->cols[i].name));
        if (w > width)
            width = w;
    }
    sc_printf(o, "\nCREATE TABLE IF NOT EXISTS %s (\n", tn);
    for (int i = 0; i < t->ncols; i++) {
        const sc_column *c = &t->cols[i];
        if (c->from) {
            char why[512];
            provenance(why, sizeof why, c->from);
            sc_printf(o, "    -- %s\n", why);
        }
        sc_printf(o, "    %-*s %s", width, ident(c->name), sc_sql_type(c->type));
        /* A primary key is unique and NOT NULL, and bigserial is NOT NULL,
         * by themselves: saying so again only adds noise. */
        if (c->key)
            sc_printf(o, " PRIMARY KEY");
        else if (c->unique)
            sc_printf(o, " UNIQUE");
        if (!c->key && !c->nullable && c->type != SC_C_BIGSERIAL)
            sc_printf(o, " NOT NULL");
        if (c->deflt)
            sc_printf(o, " DEFAULT %s", c->deflt);
        sc_printf(o, "%s\n", i + 1 < t->ncols ? "," : "");
    }
    sc_printf(o, ");\n");
    for (int i = 0; i < t->ncols; i++) {
        const sc_column *c = &t->cols[i];
        /* key and unique columns already have the index their constraint
         * builds; a second one would only slow down writes. */
        if (c->index == 2 && !c->key && !c->unique)
            sc_printf(o, "CREATE INDEX IF NOT EXISTS %s_%s_brin ON %s USING brin (%s);\n",
                      t->name, c->name, tn, ident(c->name));
        else if (c->index && !c->key && !c->unique)
            sc_printf(o, "CREATE INDEX IF NOT EXISTS %s_%s_idx ON %s (%s);\n",
                      t->name, c->name, tn, ident(c->name));
    }
    for (int i = 0; i < t->ncols; i++) {
        const sc_column *c = &t->cols[i];
        if (!c->from)
            continue;
        char why[512];
        provenance(why, sizeof why, c->from);
        sc_printf(o, "COMMENT ON COLUMN %s.%s IS ", tn, ident(c->name));
        sql_string(o, why);
        sc_printf(o, ";\n");
    }
}

/* The same DDL as a C string, so the service applies exactly this file as
 * its first migration without reading anything at run time. */
static int emit_c_copy(const sc_spec *spec, const char *sql, size_t n, const char *gendir)
{
    sc_out *o = sc_out_open(gendir, "toy_schema_sql.c");
    sc_banner(o, spec, "//");
    sc_printf(o, "// postgres/schema.sql as a C string (the first migration).\n"
                 "const char toy_schema_sql[] =\n    \"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)sql[i];
        if (c == '\n')
            sc_printf(o, i + 1 < n ? "\\n\"\n    \"" : "\\n");
        else if (c == '"' || c == '\\')
            sc_printf(o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            sc_printf(o, "\\%03o", c);
        else
            sc_printf(o, "%c", c);
    }
    sc_printf(o, "\";\n");
    return sc_out_close(o);
}

int sc_emit_sql(const sc_spec *spec, const char *path, const char *gendir)
{
    /* dirname and basename may modify their argument. */
    char *d = sc_strndup(path, strlen(path)), *b = sc_strndup(path, strlen(path));
    sc_out *o = sc_out_open(dirname(d), basename(b));
    sc_banner(o, spec, "--");
    sc_printf(o, "--\n-- Applying this file twice is harmless: every statement is "
                 "IF NOT EXISTS or\n-- replaces what it sets.  A column that comes from a "
                 "request field says\n-- which one, and through which sink.\n");
    for (int i = 0; i < spec->ntables; i++)
        emit_table(o, spec->tables[i]);
    if (emit_c_copy(spec, o->buf, o->len, gendir)) {
        sc_out_close(o);
        return -1;
    }
    return sc_out_close(o);
}
