/*
 * specc.h — the spec compiler's syntax tree and passes.
 *
 * specc reads every *.spec file under spec/ (sorted by path, so output does
 * not depend on directory order), parses them into the tree below, checks
 * names and the information-flow rules (check.c), and runs one emitter per
 * output (emit_*.c).  Memory comes from one arena freed at exit.
 */
#ifndef SPECC_H
#define SPECC_H

#include <stdint.h>
#include <stdio.h>

/* ---- source positions and errors ---------------------------------------- */

typedef struct sc_src {
    const char *path;  /* as given, e.g. "spec/endpoints/signup.spec" */
    const char *text;  /* whole file, NUL-terminated */
    size_t len;
} sc_src;

typedef struct sc_pos {
    const sc_src *src;
    int line, col;     /* 1-based */
} sc_pos;

/* Prints "file:line:col: message", the source line and a caret under col,
 * to stderr, and counts the error.  Never returns early: callers go on to
 * find further errors where they can. */
void sc_error(sc_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
extern int sc_nerrors;

void *sc_alloc(size_t n);             /* zeroed, never NULL (aborts on OOM) */
char *sc_strndup(const char *s, size_t n);
void sc_free_all(void);               /* frees everything sc_alloc gave */

/* ---- lexer -------------------------------------------------------------- */

enum sc_tok {
    T_EOF = 0, T_NL, T_NAME, T_STRING, T_INT, T_PATH,
    T_LBRACE, T_RBRACE, T_LPAREN, T_RPAREN, T_COMMA, T_DOT, T_DOTDOT,
    T_ARROW, T_ERROR
};

typedef struct sc_token {
    int kind;
    sc_pos pos;
    const char *p; size_t n;   /* the lexeme; for T_STRING the unescaped value */
    int64_t ival;              /* T_INT */
} sc_token;

typedef struct sc_lexer {
    const sc_src *src;
    const char *cur, *lim, *line_start;
    int line;
} sc_lexer;

void sc_lex_init(sc_lexer *lx, const sc_src *src);
sc_token sc_lex_next(sc_lexer *lx);
const char *sc_tok_name(int kind);

/* ---- the tree ----------------------------------------------------------- */

enum sc_class { SC_PUBLIC = 1, SC_PSEUDONYMOUS, SC_SECRET };

/* A derivation output field: a finite set of labels. */
enum sc_dkind { SC_D_KEYWORDS = 1, SC_D_NUMBER, SC_D_TEXT };

typedef struct sc_dlabel {
    const char *label;
    const char **keywords; int nkeywords;  /* SC_D_KEYWORDS */
    int64_t lo, hi;                        /* SC_D_NUMBER */
    sc_pos pos;
} sc_dlabel;

typedef struct sc_dfield {
    const char *name;
    int kind;
    const char *after;          /* SC_D_NUMBER: the marker, e.g. "age:" */
    const char *deflt;          /* default label (always in the domain) */
    sc_dlabel *labels; int nlabels;
    int bounded;                /* 0 for SC_D_TEXT or a number with no map */
    sc_pos pos;
} sc_dfield;

typedef struct sc_derive {
    const char *name;
    sc_dfield *fields; int nfields;
    sc_pos pos;
} sc_derive;

/* Request fields (parsed from user input). */
/* SC_R_HEX: a string of 2n lowercase hex digits, n = min = max decoded
 * bytes (its sinks see the decoded bytes).  SC_R_ID: a parameter of
 * [a-z0-9_] only (the ids toyapp issues). */
enum sc_rtype { SC_R_STRING = 1, SC_R_INT, SC_R_BOOL, SC_R_OBJECT, SC_R_ENUM, SC_R_HEX, SC_R_ID };

/* SC_SINK_DIGEST: plain SHA-256, only of a random hex value (a capability
 * such as a deletion token), where no salt is needed to hide it. */
enum sc_sinkkind { SC_SINK_PSEUDONYM = 1, SC_SINK_COMMIT, SC_SINK_DERIVE, SC_SINK_DIGEST };

typedef struct sc_sink {
    int kind;
    const char *name;           /* "pseudonym", "commit" or the derive's name */
    sc_derive *derive;          /* resolved by check.c */
    sc_pos pos;
} sc_sink;

typedef struct sc_rfield {
    const char *name;
    int type;                   /* enum sc_rtype */
    int cls;                    /* enum sc_class */
    int optional;
    int64_t min, max;
    sc_sink *sinks; int nsinks;
    struct sc_rfield *fields; int nfields;   /* SC_R_OBJECT */
    const char **labels; int nlabels;        /* SC_R_ENUM (params) */
    sc_pos pos;
} sc_rfield;

/* Output fields: responses, audit entries, records, log lines, frames. */
enum sc_otype {
    SC_O_STRING = 1, SC_O_ID, SC_O_TIME, SC_O_UINT, SC_O_INT, SC_O_BOOL,
    SC_O_HASH, SC_O_HEX, SC_O_DERIVED, SC_O_RECORD, SC_O_AUDIT, SC_O_LIST,
    SC_O_OBJECT
};

struct sc_record;

typedef struct sc_otyp {
    int kind;                       /* enum sc_otype */
    const char *ref;                /* DERIVED/RECORD/AUDIT: name ("any" for AUDIT) */
    struct sc_record *rec;          /* RECORD/AUDIT/OBJECT: resolved */
    sc_derive *derive;              /* DERIVED: resolved */
    struct sc_otyp *elem;           /* LIST */
} sc_otyp;

/* `from endpoint.field[.field] via sink`, or `from entry.field` in a table
 * written per audit entry kind */
struct sc_ofield;
typedef struct sc_from {
    int entry;                      /* `from entry.F`: F is path[0] */
    struct sc_ofield *ofield;       /* entry: the entry's field, resolved (NULL
                                       for the envelope's cvmId and timestamp) */
    int envelope;                   /* entry: 1 cvmId, 2 timestamp */
    const char *endpoint;
    const char **path; int npath;
    const char *via;                /* NULL when absent */
    sc_pos pos, via_pos;
    sc_rfield *field;               /* resolved */
    struct sc_endpoint *ep;         /* resolved (request fields) */
} sc_from;

typedef struct sc_ofield {
    const char *name;
    sc_otyp type;
    int nullable;
    int is_signature;               /* the record's signature over the rest */
    sc_from *from;                  /* NULL when absent */
    sc_pos pos;
} sc_ofield;

enum sc_reckind { SC_REC_RECORD = 1, SC_REC_AUDIT, SC_REC_LOG, SC_REC_FRAME,
                  SC_REC_RESPONSE, SC_REC_OBJECT };

typedef struct sc_record {
    const char *name;               /* for responses: "<endpoint>_<status>" */
    int kind;                       /* enum sc_reckind */
    sc_ofield *fields; int nfields; /* in declaration order */
    const char *cname;              /* C type name, set by check.c */
    const char *what;               /* for messages: "response submit_data 200" */
    sc_pos pos;
} sc_record;

/* What an endpoint answers: canonical JSON (a record), a file served as it
 * is (`response 200 file "PATH"`), or a WebSocket that streams declared
 * frames (`response 101 websocket FRAME, ...`). */
enum sc_body { SC_BODY_JSON = 0, SC_BODY_FILE, SC_BODY_WEBSOCKET };

/* Where an endpoint's handler runs (docs/architecture.md, "Threads"). */
enum sc_thread { SC_T_SERVICE = 1, SC_T_READER, SC_T_IO, SC_T_WRITER };

typedef struct sc_endpoint {
    const char *name;
    int job;                        /* `job NAME`: work the service gives itself, not
                                       served on any port: no method, path, request
                                       or response (method and path are "") */
    const char *method;             /* GET, POST, ... */
    const char *path;               /* "/delete-data/:receiptId" */
    int metadata_port;              /* served on the metadata port */
    sc_rfield *params; int nparams; /* path and query parameters */
    int has_request;
    int64_t max_body;
    int max_depth;
    sc_rfield *req; int nreq;       /* request body fields */
    int status;
    sc_record *response;            /* inline or a named record; NULL for a file or WebSocket */
    int body;                       /* enum sc_body */
    const char *file;               /* SC_BODY_FILE: its path from the repository root */
    const char *content_type;       /* SC_BODY_FILE: from its extension (check.c) */
    const char **frames; int nframes;   /* SC_BODY_WEBSOCKET: the frames it streams */
    sc_record **frame_recs;         /* resolved */
    sc_pos body_pos;
    const char **emits; int nemits;
    const char *handler;            /* `handler NAME on THREAD`; NULL if planned */
    int thread;                     /* enum sc_thread */
    int planned;                    /* `planned`: declared, answered 501 */
    sc_pos pos;
} sc_endpoint;

enum sc_ctype { SC_C_BIGSERIAL = 1, SC_C_BIGINT, SC_C_INT, SC_C_TEXT,
                SC_C_BYTES, SC_C_BOOL, SC_C_TIMESTAMPTZ };

typedef struct sc_column {
    const char *name;
    int type;
    int key, unique, nullable, purged;
    int index;                   /* 1: a btree index, 2: `index brin` */
    const char *deflt;              /* SQL default, or NULL */
    sc_from *from;
    sc_pos pos;
} sc_column;

typedef struct sc_table {
    const char *name;
    const char *per;                /* `per KIND`: one row per such entry */
    sc_record *per_rec;             /* resolved */
    sc_pos per_pos;
    sc_column *cols; int ncols;
    sc_pos pos;
} sc_table;

/* Everything, in source order (files sorted by path). */
typedef struct sc_spec {
    sc_derive **derives; int nderives;
    sc_endpoint **endpoints; int nendpoints;
    sc_record **records; int nrecords;   /* record, audit, log, frame (named) */
    sc_table **tables; int ntables;
    sc_src **srcs; int nsrcs;
} sc_spec;

/* Parses one file into spec; errors via sc_error. */
void sc_parse_file(sc_spec *spec, const sc_src *src);
/* Resolves names and enforces the flow rules.  Returns sc_nerrors == 0. */
int sc_check(sc_spec *spec);

/* The sink a `from ... via SINK` names, or NULL (no via, or unresolved). */
const sc_sink *sc_from_sink(const sc_from *fr);

/* The Postgres type of a column type (enum sc_ctype). */
const char *sc_sql_type(int t);

/* Leakage of one submission through an endpoint, in bits (log2 of the
 * product of the domains of every derivation its request fields feed). */
double sc_leakage_bits(const sc_endpoint *e);
/* The labels of a derivation field: its declared labels, then the default
 * when it is not among them.  Returns the count; *out is arena memory. */
int sc_dlabels(const sc_dfield *f, const char ***out);
/* Index of the default label in sc_dlabels' list. */
int sc_derive_default_index(const sc_dfield *f);
/* Domain size of a derivation: product of its fields' label counts. */
double sc_derive_domain(const sc_derive *d);

sc_record *sc_find_record(const sc_spec *spec, const char *name, int kind);
sc_derive *sc_find_derive(const sc_spec *spec, const char *name);
sc_endpoint *sc_find_endpoint(const sc_spec *spec, const char *name);

/* ---- emitters: each writes its files under outdir ---------------------- */

/* An output file written only if its content changed, so make does not
 * rebuild what did not change. */
typedef struct sc_out {
    char *buf; size_t len, cap;
    char *path;
} sc_out;
sc_out *sc_out_open(const char *dir, const char *name);
void sc_printf(sc_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sc_out_close(sc_out *o);   /* 0 ok, -1 on I/O error (message printed) */

/* The banner every generated file starts with; `lead` is the comment
 * leader for the file's language ("//", "--", "#", or NULL for markdown). */
void sc_banner(sc_out *o, const sc_spec *spec, const char *lead);

int sc_emit_c(const sc_spec *spec, const char *gendir);        /* gen/toy_spec.{h,c} */
int sc_emit_ragel(const sc_spec *spec, const char *gendir);    /* gen/<name>.rl files */
int sc_emit_sql(const sc_spec *spec, const char *path,         /* postgres/schema.sql */
                const char *gendir);                            /* + gen/toy_schema_sql.c */
int sc_emit_doc(const sc_spec *spec, const char *path);        /* docs/spec.md */
int sc_emit_service(const sc_spec *spec, const char *gendir);  /* gen/toy_service.{h,c} */

/* The columns a `per` table's generated insert names, in order: all but
 * bigserial ones, ones with a default and nullable ones with no `from`. */
int sc_insert_column(const sc_column *c);
/* "service", "reader", "io" or "writer". */
const char *sc_thread_name(int t);

#endif
