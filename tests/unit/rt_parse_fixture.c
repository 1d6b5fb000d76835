/* rt_parse_fixture.c — the test schema's tables (see rt_parse_fixture.h). */
#include "rt_parse_fixture.h"

#include <stddef.h>
#include <string.h>

static void fx_count_e_init(void *st) { ((fx_count_e_state *)st)->n = 0; }

static void fx_count_e_feed(void *st, const uint8_t *p, size_t n)
{
    fx_count_e_state *s = st;
    for (size_t i = 0; i < n; i++)
        s->n += p[i] == 'e';
}

static void fx_count_e_finish(void *st, void *out)
{
    ((fx_count_e_out *)out)->count = ((fx_count_e_state *)st)->n;
}

const rt_derive fx_count_e = {
    .name = "count_e",
    .init = fx_count_e_init,
    .feed = fx_count_e_feed,
    .finish = fx_count_e_finish,
};

static const rt_sink fx_userId_sinks[] = {
    { .kind = RT_SINK_PSEUDONYM,
      .st_off = offsetof(fx_req, work.userId_pseudonym),
      .out_off = offsetof(fx_req, userId_pseudonym) },
};

static const rt_sink fx_sensitivePayload_sinks[] = {
    { .kind = RT_SINK_COMMIT,
      .st_off = offsetof(fx_req, work.sensitivePayload_commit),
      .out_off = offsetof(fx_req, sensitivePayload_commit) },
    { .kind = RT_SINK_DERIVE,
      .st_off = offsetof(fx_req, work.sensitivePayload_count_e),
      .out_off = offsetof(fx_req, sensitivePayload_count_e),
      .derive = &fx_count_e },
};

static int fx_key_eq(const uint8_t *k, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(k, name, n) == 0;
}

static int fx_profile_key_index(const uint8_t *k, size_t n)
{
    return fx_key_eq(k, n, "city") ? FX_PROFILE_CITY : -1;
}

static int fx_root_key_index(const uint8_t *k, size_t n)
{
    static const char *const names[] = {
        "userId", "sensitivePayload", "note", "age", "consent", "profile",
    };
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (fx_key_eq(k, n, names[i]))
            return i;
    return -1;
}

static const rt_field fx_profile_fields[] = {
    [FX_PROFILE_CITY] = { .name = "city", .name_len = 4, .type = RT_T_STRING,
        .cls = RT_C_PUBLIC, .min = 1, .max = 64,
        .off = offsetof(fx_req, profile_city),
        .len_off = offsetof(fx_req, profile_city_len) },
};

const rt_object fx_profile = {
    .fields = fx_profile_fields,
    .nfields = 1,
    .required = 1u << FX_PROFILE_CITY,
    .present_off = offsetof(fx_req, profile_present),
    .key_index = fx_profile_key_index,
};

static const rt_field fx_root_fields[] = {
    [FX_USERID] = { .name = "userId", .name_len = 6, .type = RT_T_STRING,
        .cls = RT_C_PSEUDONYMOUS, .nsinks = 1, .min = 1, .max = 256,
        .sinks = fx_userId_sinks },
    [FX_SENSITIVEPAYLOAD] = { .name = "sensitivePayload", .name_len = 16,
        .type = RT_T_STRING, .cls = RT_C_SECRET, .nsinks = 2, .min = 1,
        .max = 65536, .sinks = fx_sensitivePayload_sinks },
    [FX_NOTE] = { .name = "note", .name_len = 4, .type = RT_T_STRING,
        .cls = RT_C_PUBLIC, .min = 0, .max = 32,
        .off = offsetof(fx_req, note), .len_off = offsetof(fx_req, note_len) },
    [FX_AGE] = { .name = "age", .name_len = 3, .type = RT_T_INT,
        .cls = RT_C_PUBLIC, .min = 0, .max = 150,
        .off = offsetof(fx_req, age) },
    [FX_CONSENT] = { .name = "consent", .name_len = 7, .type = RT_T_BOOL,
        .cls = RT_C_PUBLIC, .off = offsetof(fx_req, consent) },
    [FX_PROFILE] = { .name = "profile", .name_len = 7, .type = RT_T_OBJECT,
        .cls = RT_C_PUBLIC, .obj = &fx_profile },
};

const rt_object fx_root = {
    .fields = fx_root_fields,
    .nfields = 6,
    .required = 1u << FX_USERID | 1u << FX_SENSITIVEPAYLOAD,
    .present_off = offsetof(fx_req, present),
    .key_index = fx_root_key_index,
};

#define FX_SCHEMA(body, depth)                                                 \
    { .name = "fixture", .root = &fx_root, .max_body = (body),                 \
      .max_depth = (depth), .out_size = sizeof(fx_req),                        \
      .work_off = offsetof(fx_req, work),                                      \
      .work_size = sizeof(((fx_req *)0)->work) }

const rt_schema fx_schema = FX_SCHEMA(64 * 1024, 2);
const rt_schema fx_schema_big = FX_SCHEMA(1024 * 1024, 2);
const rt_schema fx_schema_flat = FX_SCHEMA(64 * 1024, 1);

const uint8_t fx_pseudonym_key[32] = "fixture-pseudonym-key-0123456789";
const uint8_t fx_salt[16] = "fixture-salt-16b";

const rt_parse_ctx fx_ctx = {
    .pseudonym_key = fx_pseudonym_key, .pseudonym_key_len = sizeof fx_pseudonym_key,
    .salt = fx_salt, .salt_len = sizeof fx_salt,
};
