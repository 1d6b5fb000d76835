/*
 * bench_parse.c — the generated submit-data parser against json-c.
 *
 * Both sides get the same bodies (distinct, 200 B to 60 KiB, mostly text with
 * some escapes and non-ASCII) and must do the same job: parse, validate
 * (object, exactly the keys userId and sensitivePayload, both strings, byte
 * lengths in bounds, strict UTF-8), then compute what toyapp keeps: the
 * HMAC-SHA256 pseudonym of userId, SHA-256(salt || payload) and the classify
 * derivation.  json-c's side uses json_tokener with strict mode and UTF-8
 * validation, then the same nettle and classify calls on the decoded
 * strings.  A second pair compares the parse and validation alone: json-c
 * with no hashing against the same generated tables with the sinks taken
 * out (the parser then validates the secret's bytes and drops them).
 *
 * Prints MB/s for each and the ratios; best of several rounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include "rt_json.h"
#include "rt_parse.h"
#include "toy_spec.h"

#define NBODIES 48

static uint8_t *bodies[NBODIES];
static size_t lens[NBODIES];
static size_t total;
static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t salt[32] = "saltsaltsaltsaltsaltsaltsaltsalt";
static volatile unsigned sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Two mixes of payload text: mostly plain ASCII prose with a line break
 * now and then, and a mix where one word in four needs an escape or is
 * non-ASCII (the parser's slow path). */
static const char *plain_words[] = { "the", "movie", "was", "long", "and", "we", "watched",
    "football", "after", "school,", "with", "friends.", "then", "a", "recipe", "data",
    "age: 23", "night", "we", "went", "home", "early", "today", "tomorrow", "quite",
    "good", "series", "music", "travel", "phone", "about", "really", "nice", "time",
    "but", "some", "other", "people", "said", "so", "it", "is", "what", "it", "is",
    "I", "think", "you", "know", "the", "story", "line", "with", "more", "words", "here",
    "and", "there", "over", "again", "once", "more", "so", "on", "and", "on\\n" };
static const char *heavy_words[] = { "the", "movie", "was", "long", "and", "we", "watched",
    "football", "after", "school", "with", "friends", "caf\\u00e9", "na\xc3\xafve",
    "\\\"quoted\\\"", "line\\nbreak", "recipe", "data", "age: 23", "\xe2\x82\xac" };

static void make_bodies(const char **words, unsigned nwords)
{
    static const size_t sizes[] = { 200, 1024, 4096, 16384, 61440 };
    unsigned seed = 12345;
    total = 0;
    for (int i = 0; i < NBODIES; i++) {
        size_t want = sizes[i % 5];
        uint8_t *b = malloc(want + 512);
        size_t n = (size_t)sprintf((char *)b, "{\"userId\":\"user_%06d@example.com\",\"sensitivePayload\":\"", i);
        while (n < want) {
            seed = seed * 1103515245u + 12345u;
            const char *w = words[(seed >> 16) % nwords];
            size_t wl = strlen(w);
            memcpy(b + n, w, wl);
            n += wl;
            b[n++] = ' ';
        }
        n += (size_t)sprintf((char *)b + n, "\"}");
        free(bodies[i]);
        bodies[i] = b;
        lens[i] = n;
        total += n;
    }
}

/* ---- ours ----------------------------------------------------------------- */

static rt_schema bare_schema;   /* toy_schema_submit_data without sinks */
static rt_object bare_root;
static rt_field bare_fields[64];

static void make_bare(void)
{
    const rt_object *root = toy_schema_submit_data.root;
    for (int i = 0; i < root->nfields; i++) {
        bare_fields[i] = root->fields[i];
        bare_fields[i].nsinks = 0;
        bare_fields[i].sinks = NULL;
    }
    bare_root = *root;
    bare_root.fields = bare_fields;
    bare_schema = toy_schema_submit_data;
    bare_schema.root = &bare_root;
}

static int ours_with(const rt_schema *s, const uint8_t *b, size_t n)
{
    rt_parser p;
    toy_req_submit_data req;
    rt_parse_ctx ctx = { key, sizeof key, salt, sizeof salt };
    rt_parse_init(&p, s, &req, &ctx);
    rt_parse_feed(&p, b, n);
    if (rt_parse_finish(&p))
        return -1;
    sink += req.sensitivePayload_commit[0] + req.userId_pseudonym[0] + req.sensitivePayload_classify.category;
    return 0;
}

/* ---- json-c --------------------------------------------------------------- */

static int jsonc(const uint8_t *b, size_t n, int with_sinks)
{
    json_tokener *tok = json_tokener_new_ex(3);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, (const char *)b, (int)n);
    int rc = -1;
    if (!o || json_tokener_get_error(tok) != json_tokener_success
        || tok->char_offset != (int)n || !json_object_is_type(o, json_type_object)
        || json_object_object_length(o) != 2)
        goto out;
    json_object *u, *s;
    if (!json_object_object_get_ex(o, "userId", &u) || !json_object_is_type(u, json_type_string)
        || !json_object_object_get_ex(o, "sensitivePayload", &s) || !json_object_is_type(s, json_type_string))
        goto out;
    size_t ul = (size_t)json_object_get_string_len(u), sl = (size_t)json_object_get_string_len(s);
    if (ul < 1 || ul > 256 || sl < 1 || sl > 65536)
        goto out;
    const uint8_t *us = (const uint8_t *)json_object_get_string(u);
    const uint8_t *ss = (const uint8_t *)json_object_get_string(s);
    if (with_sinks) {
        struct hmac_sha256_ctx h;
        struct sha256_ctx c;
        toy_classify_state cs;
        toy_classify_out co;
        uint8_t d1[32], d2[32];
        hmac_sha256_set_key(&h, sizeof key, key);
        hmac_sha256_update(&h, ul, us);
        hmac_sha256_digest(&h, 32, d1);
        sha256_init(&c);
        sha256_update(&c, sizeof salt, salt);
        sha256_update(&c, sl, ss);
        sha256_digest(&c, 32, d2);
        toy_classify_init(&cs);
        toy_classify_feed(&cs, ss, sl);
        toy_classify_finish(&cs, &co);
        sink += d1[0] + d2[0] + co.category;
    }
    rc = 0;
out:
    json_object_put(o);
    json_tokener_free(tok);
    return rc;
}

typedef int (*fn)(int i);
static int run_ours(int i) { return ours_with(&toy_schema_submit_data, bodies[i], lens[i]); }
static int run_ours_bare(int i) { return ours_with(&bare_schema, bodies[i], lens[i]); }
static int run_jsonc_full(int i) { return jsonc(bodies[i], lens[i], 1); }
static int run_jsonc_parse(int i) { return jsonc(bodies[i], lens[i], 0); }

static double mbps(fn f)
{
    double best = 0;
    for (int round = 0; round < 7; round++) {
        int iters = 0;
        double t0 = now(), t;
        do {
            for (int i = 0; i < NBODIES; i++)
                if (f(i) != 0) {
                    fprintf(stderr, "bench: body %d rejected\n", i);
                    exit(1);
                }
            iters++;
        } while ((t = now() - t0) < 0.3);
        double r = (double)total * iters / t / 1e6;
        if (r > best)
            best = r;
    }
    return best;
}

static void run_mix(const char *name, const char **words, unsigned nwords)
{
    make_bodies(words, nwords);
    printf("\n%s: %d distinct bodies, %zu bytes in all; best of 7 rounds\n", name, NBODIES, total);
    double ob = mbps(run_ours_bare), jp = mbps(run_jsonc_parse);
    double o = mbps(run_ours), jf = mbps(run_jsonc_full);
    printf("  parse + validate:\n");
    printf("    %-52s %8.1f MB/s\n", "generated parser", ob);
    printf("    %-52s %8.1f MB/s\n", "json-c (strict, UTF-8 checked) + same checks", jp);
    printf("    ratio: %.2fx json-c\n", ob / jp);
    printf("  parse + validate + pseudonym + commitment + classify:\n");
    printf("    %-52s %8.1f MB/s\n", "generated parser with its sinks", o);
    printf("    %-52s %8.1f MB/s\n", "json-c + same checks + same hashing and classify", jf);
    printf("    ratio: %.2fx json-c\n", o / jf);
}

int main(void)
{
    make_bare();
    printf("POST /submit-data bodies, generated parser vs json-c, in one run\n");
    run_mix("plain text", plain_words, sizeof plain_words / sizeof *plain_words);
    run_mix("escape-heavy text", heavy_words, sizeof heavy_words / sizeof *heavy_words);
    return sink == 0xdeadbeef;
}
