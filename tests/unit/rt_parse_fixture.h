/*
 * rt_parse_fixture.h — a hand-written schema for the rt_parse tests, shaped
 * like the tables specc emits for:
 *
 *   request max 64KiB depth 2 {
 *     userId           string 1..256   pseudonymous  -> pseudonym
 *     sensitivePayload string 1..65536 secret        -> commit, derive(count_e)
 *     note             string 0..32    public optional
 *     age              int 0..150      public optional
 *     consent          bool            public optional
 *     profile          object optional { city string 1..64 public }
 *   }
 *
 * count_e is a toy derivation: the number of 'e' bytes in the value.
 */
#ifndef RT_PARSE_FIXTURE_H
#define RT_PARSE_FIXTURE_H

#include <stdint.h>

#include "rt_schema.h"
#include "rt_sink.h"

/* Field indices, i.e. bit numbers in the present masks. */
enum { FX_USERID, FX_SENSITIVEPAYLOAD, FX_NOTE, FX_AGE, FX_CONSENT, FX_PROFILE };
enum { FX_PROFILE_CITY };

typedef struct fx_count_e_state { uint64_t n; } fx_count_e_state;
typedef struct fx_count_e_out { uint64_t count; } fx_count_e_out;

/* The request struct. */
typedef struct fx_req {
    uint64_t present;                 /* root object */
    uint64_t profile_present;         /* profile object */
    uint8_t userId_pseudonym[RT_HASH_LEN];
    uint8_t sensitivePayload_commit[RT_HASH_LEN];
    fx_count_e_out sensitivePayload_count_e;
    char note[32 + 1];
    uint32_t note_len;
    int64_t age;
    uint8_t consent;
    char profile_city[64 + 1];
    uint32_t profile_city_len;
    /* Sink working state: wiped by the parser at finish and on error. */
    struct {
        rt_sink_state userId_pseudonym;
        rt_sink_state sensitivePayload_commit;
        fx_count_e_state sensitivePayload_count_e;
    } work;
} fx_req;

extern const rt_derive fx_count_e;
extern const rt_object fx_root, fx_profile;

/* The schema as declared above. */
extern const rt_schema fx_schema;
/* The same tables with max_body 1 MiB, to reach sensitivePayload's max. */
extern const rt_schema fx_schema_big;
/* The same tables with max_depth 1: profile cannot be entered. */
extern const rt_schema fx_schema_flat;

/* Sink keys used by the tests. */
extern const uint8_t fx_pseudonym_key[32];
extern const uint8_t fx_salt[16];
extern const rt_parse_ctx fx_ctx;

#endif
