/*
 * rt_schema.h — the tables that specc generates and the streaming request
 * parser (rt_parse) interprets.
 *
 * specc compiles each request schema in spec/ into constant data of these
 * types (see gen/toy_spec.c); the parser walks the tables while a Ragel
 * machine tokenizes the body.  Nothing here allocates.  All offsets are byte
 * offsets into the caller's generated request struct (e.g. toy_req_submit_data),
 * computed by offsetof() in generated code.
 */
#ifndef RT_SCHEMA_H
#define RT_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* Bump when a change to these structs needs generated code to be remade. */
#define RT_SCHEMA_ABI 2

enum rt_type {
    RT_T_STRING = 1, /* JSON string, decoded; length bounds count UTF-8 bytes */
    RT_T_INT,        /* JSON integer (no fraction/exponent), int64 range-checked */
    RT_T_BOOL,       /* true / false */
    RT_T_OBJECT      /* nested object with its own rt_object table */
};

/* Data classes, as written in spec/ (see spec/README.md). */
enum rt_class {
    RT_C_PUBLIC = 1,   /* stored as decoded bytes in the request struct */
    RT_C_PSEUDONYMOUS, /* never stored: streamed into its sinks only */
    RT_C_SECRET        /* never stored: streamed into its sinks only */
};

/* What a sink computes from the decoded bytes of one string field. */
enum rt_sink_kind {
    RT_SINK_PSEUDONYM = 1, /* HMAC-SHA256(ctx->pseudonym_key, value) -> uint8_t[32] */
    RT_SINK_COMMIT,        /* SHA-256(ctx->salt || value)            -> uint8_t[32] */
    RT_SINK_DERIVE,        /* a generated derivation machine          -> its out struct */
    RT_SINK_DIGEST         /* SHA-256(the hex value's decoded bytes)  -> uint8_t[32] */
};

/* A derivation generated from a `derive` block: a Ragel machine fed the
 * decoded bytes in arbitrary pieces. */
typedef struct rt_derive {
    const char *name;
    void (*init)(void *st);
    void (*feed)(void *st, const uint8_t *p, size_t n);
    void (*finish)(void *st, void *out); /* writes the result; caller wipes st */
} rt_derive;

typedef struct rt_sink {
    uint8_t kind;             /* enum rt_sink_kind */
    uint32_t st_off;          /* working state (rt_sink_state or derive state) */
    uint32_t out_off;         /* result */
    const rt_derive *derive;  /* RT_SINK_DERIVE only */
} rt_sink;

struct rt_object;

typedef struct rt_field {
    const char *name;          /* JSON key, as in the spec */
    uint8_t name_len;
    uint8_t type;              /* enum rt_type */
    uint8_t cls;               /* enum rt_class */
    uint8_t nsinks;            /* 0 for public fields */
    uint8_t hex;               /* string of lowercase hex digits only (its
                                  sinks get the decoded bytes: digest) */
    int64_t min, max;          /* string: byte length bounds (hex: digits);
                                  int: value bounds */
    uint32_t off;              /* public string: char[max+1] (NUL-terminated);
                                  int: int64_t; bool: uint8_t; object: unused */
    uint32_t len_off;          /* public string: uint32_t length */
    const rt_sink *sinks;      /* pseudonymous/secret strings */
    const struct rt_object *obj; /* RT_T_OBJECT */
} rt_field;

typedef struct rt_object {
    const rt_field *fields;
    uint8_t nfields;                  /* <= 64 */
    uint64_t required;                /* bit i: fields[i] must be present */
    uint32_t present_off;             /* uint64_t bitmask of keys seen */
    /* Maps a decoded key to its field index, or -1.  Generated (Ragel). */
    int (*key_index)(const uint8_t *k, size_t n);
} rt_object;

typedef struct rt_schema {
    const char *name;           /* e.g. "submit_data" */
    const rt_object *root;
    uint32_t max_body;          /* bytes; larger bodies fail RT_E_TOO_LARGE */
    uint8_t max_depth;          /* object nesting the schema declares (>= 1) */
    uint32_t out_size;          /* sizeof the generated request struct */
    uint32_t work_off, work_size; /* sink working state, wiped at finish/abort */
} rt_schema;

/* Keys given to the sinks for one parse.  Borrowed for the parse's duration. */
typedef struct rt_parse_ctx {
    const uint8_t *pseudonym_key; size_t pseudonym_key_len;
    const uint8_t *salt;          size_t salt_len;
} rt_parse_ctx;

#endif
