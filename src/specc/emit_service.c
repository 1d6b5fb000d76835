/*
 * emit_service.c — gen/toy_service.h and gen/toy_service.c: what the
 * service dispatches and writes, as data.
 *
 *   - the route table (TOY_ROUTES, an X-macro): per endpoint its method,
 *     path, port, request schema, parameter table, response record, the
 *     audit entry kinds it emits and the handler that serves it on which
 *     thread (a planned endpoint has none and is answered 501);
 *   - the routes and the audit entry kinds as enums: a job's kind is its
 *     route, and each route has its own request struct (toy_spec.h);
 *   - the copies the spec's `from ENDPOINT.field via SINK` lines declare,
 *     for every audit entry kind and every endpoint's response;
 *   - per table written `per` an entry kind: its row struct, its columns
 *     (where each value comes from, how it is sent) and its purged columns;
 *   - the batch statement: the one prepared statement that writes a batch
 *     of entries, the rows of every such table and the counters.
 * Tables, not logic: runtime/rt_table.c and src/toyapp/ interpret them.
 */
#include <stdlib.h>
#include <string.h>

#include "specc.h"

/* ---- names and types ------------------------------------------------------ */

static const char *thread_enum(int t)
{
    static const char *n[] = { "0", "TOY_T_SERVICE", "TOY_T_READER", "TOY_T_IO", "TOY_T_WRITER" };
    return t >= 1 && t <= 4 ? n[t] : n[0];
}

/* The request-struct member a `from ENDPOINT.a.b via s` names: "a.b_s". */
static const char *sink_member(const sc_from *fr)
{
    char buf[512] = "";
    for (int i = 0; i < fr->npath; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? "." : "", fr->path[i]);
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "_%s", fr->via);
    return sc_strndup(buf, strlen(buf));
}

/* A row column's C member type, its encoding, and (for derived values) the
 * derivation's name. */
typedef struct coltype {
    const char *ctype;     /* "rt_str", "uint8_t" ([32] when hash), ... */
    int hash;              /* uint8_t[32] */
    const char *enc;       /* "RT_COL_*" */
    const char *derive;    /* RT_COL_DERIVED: the derivation */
} coltype;

static coltype col_type(const sc_column *c)
{
    coltype t = { "rt_str", 0, "RT_COL_STR", NULL };
    int ts = c->type == SC_C_TIMESTAMPTZ;
    if (c->from && c->from->entry) {
        int k = c->from->envelope == 1 ? SC_O_STRING : c->from->envelope == 2 ? SC_O_TIME
              : c->from->ofield ? c->from->ofield->type.kind : SC_O_STRING;
        switch (k) {
        case SC_O_TIME: t.enc = ts ? "RT_COL_TS" : "RT_COL_STR"; break;
        case SC_O_HASH: t = (coltype){ "uint8_t", 1, "RT_COL_HASH", NULL }; break;
        case SC_O_HEX: t = (coltype){ "rt_bytes", 0, "RT_COL_BYTES", NULL }; break;
        case SC_O_UINT: t = (coltype){ "uint64_t", 0, "RT_COL_U64", NULL }; break;
        case SC_O_INT: t = (coltype){ "int64_t", 0, "RT_COL_I64", NULL }; break;
        case SC_O_BOOL: t = (coltype){ "uint8_t", 0, "RT_COL_BOOL", NULL }; break;
        case SC_O_DERIVED: {
            const char *d = c->from->ofield->type.ref;
            char buf[256];
            snprintf(buf, sizeof buf, "toy_%s_out", d);
            t = (coltype){ sc_strndup(buf, strlen(buf)), 0, "RT_COL_DERIVED", d };
            break;
        }
        default: break;
        }
        return t;
    }
    if (c->from) {
        const sc_sink *s = sc_from_sink(c->from);
        if (s && s->kind == SC_SINK_DERIVE) {
            char buf[256];
            snprintf(buf, sizeof buf, "toy_%s_out", s->name);
            return (coltype){ sc_strndup(buf, strlen(buf)), 0, "RT_COL_DERIVED", s->name };
        }
        return (coltype){ "uint8_t", 1, "RT_COL_HASH", NULL };
    }
    switch (c->type) {
    case SC_C_TIMESTAMPTZ: t.enc = "RT_COL_TS"; break;
    case SC_C_BYTES: t = (coltype){ "rt_bytes", 0, "RT_COL_BYTES", NULL }; break;
    case SC_C_BIGINT: case SC_C_INT: t = (coltype){ "int64_t", 0, "RT_COL_I64", NULL }; break;
    case SC_C_BOOL: t = (coltype){ "uint8_t", 0, "RT_COL_BOOL", NULL }; break;
    default: break;
    }
    return t;
}

static const char *pg_array_type(const char *enc)
{
    if (!strcmp(enc, "RT_COL_HASH") || !strcmp(enc, "RT_COL_BYTES"))
        return "bytea[]";
    if (!strcmp(enc, "RT_COL_U64") || !strcmp(enc, "RT_COL_I64"))
        return "int8[]";
    if (!strcmp(enc, "RT_COL_BOOL"))
        return "bool[]";
    return "text[]";
}

/* The batch statement's parameters: $1-$6 the batch, $7-$11 the entries,
 * $12-$16 the idempotency keys, then the tables' columns. */
#define TABLES_FIRST_PARAM 17

/* ---- the writer's own tables ----------------------------------------------- */

static const sc_table *find_table(const sc_spec *spec, const char *name)
{
    for (int i = 0; i < spec->ntables; i++)
        if (!strcmp(spec->tables[i]->name, name))
            return spec->tables[i];
    return NULL;
}

/* The batch statement names these columns itself: the spec must have them,
 * of these types, or the generated statement would not run. */
static int check_core(const sc_spec *spec)
{
    static const struct { const char *table, *col; int type; } need[] = {
        { "batches", "batch_id", SC_C_BIGSERIAL }, { "batches", "size", SC_C_INT },
        { "batches", "root", SC_C_BYTES }, { "batches", "head", SC_C_BYTES },
        { "batches", "signature", SC_C_BYTES }, { "batches", "source_cvm", SC_C_TEXT },
        { "audit_log", "id", SC_C_BIGSERIAL }, { "audit_log", "action", SC_C_TEXT },
        { "audit_log", "receipt_id", SC_C_TEXT }, { "audit_log", "entry", SC_C_BYTES },
        { "audit_log", "leaf_hash", SC_C_BYTES }, { "audit_log", "batch_id", SC_C_BIGINT },
        { "log_queue", "audit_ids", SC_C_BYTES }, { "log_queue", "leaf_hashes", SC_C_BYTES },
        { "log_queue", "batch_id", SC_C_BIGINT }, { "log_segments", "first_leaf", SC_C_BIGINT },
        { "log_segments", "batch_id", SC_C_BIGINT }, { "log_segments", "size", SC_C_INT },
        { "log_segments", "audit_ids", SC_C_BYTES }, { "log_segments", "leaf_hashes", SC_C_BYTES },
        { "counters", "name", SC_C_TEXT }, { "counters", "value", SC_C_BIGINT },
        { "idempotency_keys", "idem_key", SC_C_TEXT }, { "idempotency_keys", "route", SC_C_TEXT },
        { "idempotency_keys", "fingerprint", SC_C_BYTES }, { "idempotency_keys", "status", SC_C_INT },
        { "idempotency_keys", "answer", SC_C_BYTES },
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        const sc_table *t = find_table(spec, need[i].table);
        const sc_column *c = NULL;
        for (int k = 0; t && k < t->ncols; k++)
            if (!strcmp(t->cols[k].name, need[i].col))
                c = &t->cols[k];
        if (!t || !c || c->type != need[i].type) {
            if (t)
                sc_error(t->pos, "table %s needs a %s column '%s': the writer's batch statement "
                         "writes it", t->name, sc_sql_type(need[i].type), need[i].col);
            else
                fprintf(stderr, "specc: no table '%s': the writer's batch statement writes it\n",
                        need[i].table);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* ---- the header ------------------------------------------------------------ */

static void h_row(sc_out *o, const sc_table *t)
{
    sc_printf(o, "/* A row of %s: one per %s entry. */\ntypedef struct toy_row_%s {\n", t->name, t->per, t->name);
    int n = 0;
    for (int i = 0; i < t->ncols; i++) {
        const sc_column *c = &t->cols[i];
        if (!sc_insert_column(c))
            continue;
        coltype ct = col_type(c);
        sc_printf(o, "    %s %s%s;", ct.ctype, c->name, ct.hash ? "[32]" : "");
        if (c->from && c->from->entry)
            sc_printf(o, "   /* from entry.%s */", c->from->path[0]);
        else if (c->from)
            sc_printf(o, "   /* from %s.%s via %s */", c->from->endpoint, c->from->path[0], c->from->via);
        else
            sc_printf(o, "   /* set by the handler */");
        sc_printf(o, "\n");
        n++;
    }
    if (!n)
        sc_printf(o, "    uint8_t none;\n");
    sc_printf(o, "} toy_row_%s;\nextern const rt_table toy_table_%s;\n\n", t->name, t->name);
}

static void h_purges(sc_out *o, const sc_spec *spec)
{
    sc_printf(o, "/* What a deletion clears: per table, the SET list of its purged columns. */\n");
    for (int i = 0; i < spec->ntables; i++) {
        const sc_table *t = spec->tables[i];
        char set[1024] = "";
        for (int k = 0; k < t->ncols; k++)
            if (t->cols[k].purged)
                snprintf(set + strlen(set), sizeof set - strlen(set), "%s%s = NULL", *set ? ", " : "",
                         t->cols[k].name);
        if (*set)
            sc_printf(o, "#define TOY_PURGE_SET_%s \"%s\"\n", t->name, set);
    }
    sc_printf(o, "\n");
}

/* The endpoints whose answer is not JSON: files served as they are, and
 * WebSockets with the frames each streams. */
static void h_bodies(sc_out *h, const sc_spec *spec)
{
    sc_printf(h, "\n\n/* Files served as they are (`response 200 file`), embedded in the binary at\n"
              " * build time: XX(route, path from the repository root, content type). */\n"
              "#define TOY_FILES(XX)");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (e->body == SC_BODY_FILE)
            sc_printf(h, " \\\n    XX(%s, \"%s\", \"%s\")", e->name, e->file, e->content_type);
    }
    sc_printf(h, "\n\n/* WebSockets (`response 101 websocket`): XX(route, frames it streams, as\n"
              " * bits 1 << TOY_F_*). */\nenum toy_frame {");
    int nf = 0;
    for (int i = 0; i < spec->nrecords; i++)
        if (spec->records[i]->kind == SC_REC_FRAME)
            sc_printf(h, "%s TOY_F_%s = %d", nf ? "," : "", spec->records[i]->name, nf), nf++;
    sc_printf(h, "%s TOY_F__COUNT = %d };\n#define TOY_WEBSOCKETS(XX)", nf ? "," : "", nf);
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (e->body != SC_BODY_WEBSOCKET)
            continue;
        char mask[512] = "";
        for (int j = 0; j < e->nframes; j++)
            snprintf(mask + strlen(mask), sizeof mask - strlen(mask), "%s(1u << TOY_F_%s)", j ? " | " : "",
                     e->frames[j]);
        sc_printf(h, " \\\n    XX(%s, %s)", e->name, *mask ? mask : "0u");
    }
}

static int emit_h(const sc_spec *spec, const char *gendir, int nparams, int pcounters, int ntables)
{
    sc_out *h = sc_out_open(gendir, "toy_service.h");
    sc_banner(h, spec, "//");
    sc_printf(h, "#ifndef TOY_SERVICE_H\n#define TOY_SERVICE_H\n\n#include \"rt_table.h\"\n#include \"toy_spec.h\"\n\n"
              "#if RT_TABLE_ABI != 1\n#error \"gen/ was generated for another runtime ABI: run make regen\"\n#endif\n\n");
    sc_printf(h, "/* Where a handler runs (docs/architecture.md, \"Threads\"). */\n"
              "enum toy_thread { TOY_T_SERVICE = 1, TOY_T_READER, TOY_T_IO, TOY_T_WRITER };\n\n"
              "/* A spec `job` is on no port: the service makes it, no request does. */\n"
              "enum toy_port { TOY_PORT_API = 0, TOY_PORT_METADATA = 1, TOY_PORT_NONE = 2 };\n\n");
    sc_printf(h, "/* One route per endpoint and per job, in spec order: a job's kind is its\n"
              " * route. */\nenum toy_route {\n");
    for (int i = 0; i < spec->nendpoints; i++)
        sc_printf(h, "    TOY_R_%s = %d,\n", spec->endpoints[i]->name, i);
    sc_printf(h, "    TOY_R__COUNT = %d\n};\n\n", spec->nendpoints);
    sc_printf(h, "/* The audit entry kinds. */\nenum toy_kind {\n");
    int nk = 0;
    for (int i = 0; i < spec->nrecords; i++)
        if (spec->records[i]->kind == SC_REC_AUDIT)
            sc_printf(h, "    TOY_K_%s = %d,\n", spec->records[i]->name, nk++);
    sc_printf(h, "    TOY_K__COUNT = %d\n};\nextern const rt_kind toy_kinds[TOY_K__COUNT];\n\n", nk);

    sc_printf(h, "/* XX(name, method, path, port, status, request schema or NULL, params table,\n"
              " *    response record (NULL for a job), kinds emitted (bits 1 << TOY_K_*),\n"
              " *    handler (NULL: planned, answered 501), thread) */\n#define TOY_ROUTES(XX) \\\n");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        char sch[256] = "NULL", mask[512] = "", hd[256] = "NULL";
        if (e->has_request)
            snprintf(sch, sizeof sch, "&toy_schema_%s", e->name);
        for (int j = 0; j < e->nemits; j++)
            snprintf(mask + strlen(mask), sizeof mask - strlen(mask), "%s(1u << TOY_K_%s)", j ? " | " : "",
                     e->emits[j]);
        if (!*mask)
            snprintf(mask, sizeof mask, "0u");
        if (e->handler)
            snprintf(hd, sizeof hd, "&h_%s", e->handler);
        char resp[256] = "NULL";
        if (e->response)
            snprintf(resp, sizeof resp, "&%s_rec", e->response->cname);
        sc_printf(h, "    XX(%s, \"%s\", \"%s\", %s, %d, %s, &toy_params_%s_tab, %s, %s, %s, %s)%s\n",
                  e->name, e->method, e->path,
                  e->job ? "TOY_PORT_NONE" : e->metadata_port ? "TOY_PORT_METADATA" : "TOY_PORT_API",
                  e->status, sch, e->name, resp, mask, hd,
                  e->planned ? "0" : thread_enum(e->thread), i + 1 < spec->nendpoints ? " \\" : "");
    }
    sc_printf(h, "\n/* Every handler the routes name, once: XX(name, thread).  The service\n"
              " * defines each as `const toy_handler h_<name>`. */\n#define TOY_HANDLERS(XX)");
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        int seen = !e->handler;
        for (int j = 0; j < i && !seen; j++)
            seen = spec->endpoints[j]->handler && !strcmp(spec->endpoints[j]->handler, e->handler);
        if (!seen)
            sc_printf(h, " \\\n    XX(%s, %s)", e->handler, thread_enum(e->thread));
    }
    h_bodies(h, spec);
    sc_printf(h, "\n\n/* Audit entry kinds: XX(name, record) */\n#define TOY_AUDIT_KINDS(XX)");
    for (int i = 0; i < spec->nrecords; i++)
        if (spec->records[i]->kind == SC_REC_AUDIT)
            sc_printf(h, " \\\n    XX(%s, &%s_rec)", spec->records[i]->name, spec->records[i]->cname);
    sc_printf(h, "\n\n/* What each route's response takes from its request's sinks (the\n"
              " * response's `from` lines), by route. */\nextern const rt_copies toy_resp_copies[TOY_R__COUNT];\n\n");
    for (int i = 0; i < spec->ntables; i++)
        if (spec->tables[i]->per)
            h_row(h, spec->tables[i]);
    h_purges(h, spec);
    sc_printf(h, "/* The batch statement: one execution writes a batch's signed head ($1-$6:\n"
              " * batch id, size, root, head JSON, signature, CVM id), its audit entries\n"
              " * ($7-$11: arrays of action, receipt id, entry, leaf hash, and id: one its\n"
              " * handler reserved, or 0 for the next), the queue row the sequencer takes\n"
              " * them from, the idempotency keys of its requests ($12-$16: key, route,\n"
              " * fingerprint, status, sealed answer), the rows of each table below (one\n"
              " * array per column, from its first_param on), and the counters ($%d:\n"
              " * kinds, $%d: counts). */\n",
              pcounters, pcounters + 1);
    sc_printf(h, "#define TOY_BATCH_P_ENTRIES 7\n#define TOY_BATCH_P_IDEM 12\n#define TOY_BATCH_P_TABLES %d\n",
              TABLES_FIRST_PARAM);
    sc_printf(h, "#define TOY_BATCH_NTABLES %d\nextern const rt_table *const toy_batch_tables[TOY_BATCH_NTABLES];\n", ntables);
    sc_printf(h, "#define TOY_BATCH_P_COUNTERS %d\n#define TOY_BATCH_NPARAMS %d\nextern const char toy_batch_sql[];\n\n#endif\n",
              pcounters, nparams);
    return sc_out_close(h);
}

/* ---- the source ------------------------------------------------------------ */

/* The copies of one record's `from` fields, as `static const rt_copy NAME[]`;
 * returns how many. */
static int c_copies(sc_out *o, const sc_record *r, const char *name)
{
    int n = 0;
    for (int i = 0; i < r->nfields; i++) {
        const sc_ofield *f = &r->fields[i];
        if (!f->from || f->from->entry || !sc_from_sink(f->from) || !f->from->ep)
            continue;
        if (!n)
            sc_printf(o, "static const rt_copy %s[] = {\n", name);
        sc_printf(o, "    { .dst_off = offsetof(%s, %s), .src_off = offsetof(toy_req_%s, %s),\n"
                  "      .size = sizeof(((%s *)0)->%s), .route = TOY_R_%s },\n",
                  r->cname, f->name, f->from->endpoint, sink_member(f->from), r->cname, f->name,
                  f->from->endpoint);
        n++;
    }
    if (n)
        sc_printf(o, "};\n");
    return n;
}

static void c_table(sc_out *o, const sc_spec *spec, const sc_table *t, int *param)
{
    int n = 0;
    sc_printf(o, "static const rt_col toy_cols_%s[] = {\n", t->name);
    for (int i = 0; i < t->ncols; i++) {
        const sc_column *c = &t->cols[i];
        if (!sc_insert_column(c))
            continue;
        coltype ct = col_type(c);
        sc_printf(o, "    { .name = \"%s\", .enc = %s, .off = offsetof(toy_row_%s, %s)", c->name, ct.enc,
                  t->name, c->name);
        if (c->from && c->from->entry) {
            const char *m = c->from->envelope == 1 ? "cvmId" : c->from->envelope == 2 ? "timestamp"
                          : c->from->ofield->name;
            sc_printf(o, ",\n      .from = { .dst_off = offsetof(toy_row_%s, %s), .src_off = offsetof(toy_audit_%s, %s),\n"
                      "                .size = sizeof(((toy_row_%s *)0)->%s), .route = RT_FROM_ENTRY }",
                      t->name, c->name, t->per, m, t->name, c->name);
        } else if (c->from) {
            sc_printf(o, ",\n      .from = { .dst_off = offsetof(toy_row_%s, %s), .src_off = offsetof(toy_req_%s, %s),\n"
                      "                .size = sizeof(((toy_row_%s *)0)->%s), .route = TOY_R_%s }",
                      t->name, c->name, c->from->endpoint, sink_member(c->from), t->name, c->name,
                      c->from->endpoint);
        }
        if (ct.derive)
            sc_printf(o, ", .format = toy_%s_format", ct.derive);
        sc_printf(o, " },\n");
        n++;
    }
    sc_printf(o, "};\nconst rt_table toy_table_%s = {\n    .name = \"%s\", .kind = TOY_K_%s, .cols = toy_cols_%s,"
              " .ncols = %d,\n    .row_size = sizeof(toy_row_%s), .first_param = %d,\n};\n\n",
              t->name, t->name, t->per, t->name, n, t->name, *param);
    *param += n;
    (void)spec;
}

/* The batch statement's text.  Rows travel as arrays, one per column, and
 * unnest() turns them back into rows: the text never changes with the
 * batch, so it is parsed and planned once per connection. */
static void c_batch_sql(sc_out *o, const sc_spec *spec, int pcounters)
{
    sc_printf(o, "const char toy_batch_sql[] =\n"
              "    \"WITH b AS (INSERT INTO batches (batch_id, size, root, head, signature, source_cvm)\"\n"
              "    \" VALUES ($1, $2, $3, $4, $5, $6)),\"\n"
              /* An entry's id is the one its handler reserved from the
               * sequence (to refer to it in the same transaction), or 0:
               * the next one, in the batch's order. */
              "    \" a AS (INSERT INTO audit_log (id, action, receipt_id, entry, leaf_hash, batch_id)\"\n"
              "    \" SELECT CASE WHEN t.id > 0 THEN t.id ELSE nextval('audit_log_id_seq') END,\"\n"
              "    \" t.action, t.rid, t.entry, t.leaf, $1\"\n"
              "    \" FROM unnest($7::text[], $8::text[], $9::bytea[], $10::bytea[], $11::int8[]) WITH ORDINALITY\"\n"
              "    \" AS t(action, rid, entry, leaf, id, ord) ORDER BY t.ord RETURNING id, leaf_hash),\"\n"
              "    /* The sequencer's queue: one row per batch, ids and leaf hashes packed. */\n"
              "    \" q AS (INSERT INTO log_queue (batch_id, audit_ids, leaf_hashes)\"\n"
              "    \" SELECT $1, string_agg(int8send(id), ''::bytea ORDER BY id),\"\n"
              "    \" string_agg(leaf_hash, ''::bytea ORDER BY id) FROM a HAVING count(*) > 0),\"\n"
              "    /* The requests' idempotency keys: a key seen before fails the\n"
              "     * statement (unique), and nothing of the batch is written. */\n"
              "    \" k AS (INSERT INTO idempotency_keys (idem_key, route, fingerprint, status, answer)\"\n"
              "    \" SELECT t.k, t.r, t.f, t.s, t.a\"\n"
              "    \" FROM unnest($12::text[], $13::text[], $14::bytea[], $15::int8[], $16::bytea[])\"\n"
              "    \" AS t(k, r, f, s, a)),\"\n");
    int param = TABLES_FIRST_PARAM;
    for (int i = 0; i < spec->ntables; i++) {
        const sc_table *t = spec->tables[i];
        if (!t->per)
            continue;
        char cols[2048] = "", sel[2048] = "", args[2048] = "", names[2048] = "";
        int k = 0;
        for (int j = 0; j < t->ncols; j++) {
            const sc_column *c = &t->cols[j];
            if (!sc_insert_column(c))
                continue;
            coltype ct = col_type(c);
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s", k ? ", " : "", c->name);
            snprintf(sel + strlen(sel), sizeof sel - strlen(sel), "%st.c%d%s", k ? ", " : "", k,
                     !strcmp(ct.enc, "RT_COL_TS") ? "::timestamptz" : "");
            snprintf(args + strlen(args), sizeof args - strlen(args), "%s$%d::%s", k ? ", " : "", param++,
                     pg_array_type(ct.enc));
            snprintf(names + strlen(names), sizeof names - strlen(names), "%sc%d", k ? ", " : "", k);
            k++;
        }
        sc_printf(o, "    /* %s: a row per %s entry. */\n", t->name, t->per);
        sc_printf(o, "    \" w_%s AS (INSERT INTO %s (%s)\"\n    \" SELECT %s FROM unnest(%s) AS t(%s)),\"\n",
                  t->name, t->name, cols, sel, args, names);
    }
    sc_printf(o, "    /* The counters that make the figures O(1) to read: one per kind. */\n"
              "    \" c AS (SELECT t.name, t.n FROM unnest($%d::text[], $%d::int8[]) AS t(name, n))\"\n"
              "    \" UPDATE counters SET value = counters.value + c.n FROM c WHERE counters.name = c.name\";\n\n",
              pcounters, pcounters + 1);
}

int sc_emit_service(const sc_spec *spec, const char *gendir)
{
    if (check_core(spec))
        return -1;
    int ntables = 0, param = TABLES_FIRST_PARAM;
    for (int i = 0; i < spec->ntables; i++)
        if (spec->tables[i]->per) {
            ntables++;
            for (int k = 0; k < spec->tables[i]->ncols; k++)
                param += sc_insert_column(&spec->tables[i]->cols[k]);
        }
    int pcounters = param, nparams = param + 1;
    if (emit_h(spec, gendir, nparams, pcounters, ntables))
        return -1;

    sc_out *c = sc_out_open(gendir, "toy_service.c");
    sc_banner(c, spec, "//");
    sc_printf(c, "#include <stddef.h>\n\n#include \"toy_service.h\"\n\n");
    /* The kinds, with what their entries take from requests. */
    for (int i = 0; i < spec->nrecords; i++) {
        const sc_record *r = spec->records[i];
        if (r->kind != SC_REC_AUDIT)
            continue;
        char name[256];
        snprintf(name, sizeof name, "toy_copy_%s", r->cname);
        c_copies(c, r, name);
    }
    sc_printf(c, "const rt_kind toy_kinds[TOY_K__COUNT] = {\n");
    for (int i = 0; i < spec->nrecords; i++) {
        const sc_record *r = spec->records[i];
        if (r->kind != SC_REC_AUDIT)
            continue;
        int n = 0, has_receipt = 0;
        for (int j = 0; j < r->nfields; j++) {
            const sc_ofield *f = &r->fields[j];
            n += f->from && !f->from->entry && sc_from_sink(f->from) && f->from->ep;
            has_receipt |= !strcmp(f->name, "receiptId") && f->type.kind == SC_O_ID;
        }
        char recp[256] = "-1";
        if (has_receipt)
            snprintf(recp, sizeof recp, "(int32_t)offsetof(%s, receiptId)", r->cname);
        sc_printf(c, "    [TOY_K_%s] = { .name = \"%s\", .rec = &%s_rec, .size = sizeof(%s),\n"
                  "        .receipt_off = %s",
                  r->name, r->name, r->cname, r->cname, recp);
        if (n)
            sc_printf(c, ", .copies = { toy_copy_%s, %d }", r->cname, n);
        sc_printf(c, " },\n");
    }
    sc_printf(c, "};\n\n");
    /* The responses' copies. */
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (!e->response || e->response->kind != SC_REC_RESPONSE)
            continue;
        char name[256];
        snprintf(name, sizeof name, "toy_copy_resp_%s", e->name);
        c_copies(c, e->response, name);
    }
    sc_printf(c, "const rt_copies toy_resp_copies[TOY_R__COUNT] = {\n");
    int any = 0;
    for (int i = 0; i < spec->nendpoints; i++) {
        const sc_endpoint *e = spec->endpoints[i];
        if (!e->response || e->response->kind != SC_REC_RESPONSE)
            continue;
        int n = 0;
        for (int j = 0; j < e->response->nfields; j++) {
            const sc_ofield *f = &e->response->fields[j];
            n += f->from && !f->from->entry && sc_from_sink(f->from) && f->from->ep;
        }
        if (n)
            sc_printf(c, "    [TOY_R_%s] = { toy_copy_resp_%s, %d },\n", e->name, e->name, n);
        any |= n;
    }
    if (!any)
        sc_printf(c, "    [0] = { NULL, 0 },\n");
    sc_printf(c, "};\n\n");
    param = TABLES_FIRST_PARAM;
    for (int i = 0; i < spec->ntables; i++)
        if (spec->tables[i]->per)
            c_table(c, spec, spec->tables[i], &param);
    sc_printf(c, "const rt_table *const toy_batch_tables[TOY_BATCH_NTABLES] = {");
    for (int i = 0; i < spec->ntables; i++)
        if (spec->tables[i]->per)
            sc_printf(c, " &toy_table_%s,", spec->tables[i]->name);
    sc_printf(c, " };\n\n");
    c_batch_sql(c, spec, pcounters);
    return sc_out_close(c);
}
