/*
 * rt_evlog.c - dstack event log replay (see rt_evlog.h).
 */
#include "rt_evlog.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "rt_hex.h"

static int sha384_extend(uint8_t reg[48], const uint8_t digest[48])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1 && EVP_DigestUpdate(c, reg, 48) == 1 &&
             EVP_DigestUpdate(c, digest, 48) == 1 && EVP_DigestFinal_ex(c, reg, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

int rt_evlog_digest(uint32_t type, const char *name, size_t name_len, const uint8_t *payload,
                    size_t payload_len, uint8_t out[48])
{
    uint8_t head[4] = { (uint8_t)type, (uint8_t)(type >> 8), (uint8_t)(type >> 16), (uint8_t)(type >> 24) };
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c && EVP_DigestInit_ex(c, EVP_sha384(), NULL) == 1 && EVP_DigestUpdate(c, head, 4) == 1 &&
             EVP_DigestUpdate(c, ":", 1) == 1 && EVP_DigestUpdate(c, name, name_len) == 1 &&
             EVP_DigestUpdate(c, ":", 1) == 1 && (payload_len == 0 || EVP_DigestUpdate(c, payload, payload_len) == 1) &&
             EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : -1;
}

static int bad(rt_evlog *ev, size_t i, const char *reason)
{
    ev->reason = reason;
    ev->err_event = i;
    return -1;
}

static struct json_object *get(struct json_object *o, const char *k, json_type t)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, t) ? v : NULL;
}

static int is(const char *name, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(name, lit, n) == 0;
}

/* Records one identity event's payload; -1 (with the reason) if it was
 * seen before or has the wrong size. */
static int identity(rt_evlog *ev, size_t i, const char *name, size_t nn, const uint8_t *p, size_t pn,
                    int before_ready)
{
    struct {
        const char *name;
        uint8_t *dst;
        size_t *len;  /* variable-size ids */
        int *have;    /* fixed 32-byte hashes */
    } ids[] = {
        { "app-id", ev->app_id, &ev->app_id_len, NULL },
        { "instance-id", ev->instance_id, &ev->instance_id_len, NULL },
        { "compose-hash", ev->compose_hash, NULL, &ev->have_compose_hash },
        { "os-image-hash", ev->os_image_hash, NULL, &ev->have_os_image_hash },
    };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        if (!is(name, nn, ids[k].name))
            continue;
        if ((ids[k].len && *ids[k].len) || (ids[k].have && *ids[k].have))
            return bad(ev, i, "an identity event (app-id, instance-id, compose-hash, os-image-hash, "
                              "key-provider) appears twice");
        if (!before_ready)
            return bad(ev, i, "an identity event appears after system-ready");
        if (ids[k].len) {
            if (pn == 0 || pn > RT_EVLOG_ID_MAX)
                return bad(ev, i, "app-id or instance-id payload is empty or too long");
            memcpy(ids[k].dst, p, pn);
            *ids[k].len = pn;
        } else {
            if (pn != 32)
                return bad(ev, i, "compose-hash or os-image-hash payload is not 32 bytes");
            memcpy(ids[k].dst, p, 32);
            *ids[k].have = 1;
        }
        return 0;
    }
    if (is(name, nn, "key-provider")) {
        if (ev->key_provider[0])
            return bad(ev, i, "an identity event (app-id, instance-id, compose-hash, os-image-hash, "
                              "key-provider) appears twice");
        if (!before_ready)
            return bad(ev, i, "an identity event appears after system-ready");
        if (pn == 0 || pn >= sizeof ev->key_provider || memchr(p, 0, pn))
            return bad(ev, i, "key-provider payload is empty, too long or not text");
        memcpy(ev->key_provider, p, pn);
        ev->key_provider[pn] = 0;
    }
    return 0;
}

int rt_evlog_replay(const char *text, size_t n, rt_evlog *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->content_ok = 1;
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        return bad(ev, 0, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '\t'))
        n--;
    struct json_object *arr = n <= (64u << 20) ? json_tokener_parse_ex(tok, text, (int)n) : NULL;
    int parsed = arr && json_tokener_get_error(tok) == json_tokener_success &&
                 (size_t)json_tokener_get_parse_end(tok) == n;
    json_tokener_free(tok);
    if (!parsed || !json_object_is_type(arr, json_type_array)) {
        json_object_put(arr);
        return bad(ev, 0, "not a JSON array");
    }
    int rc = 0;
    uint8_t *payload = NULL;
    size_t cap = 0;
    ev->nevents = json_object_array_length(arr);
    for (size_t i = 0; i < ev->nevents && rc == 0; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        struct json_object *imr = get(e, "imr", json_type_int), *ty = get(e, "event_type", json_type_int);
        struct json_object *dg = get(e, "digest", json_type_string), *nm = get(e, "event", json_type_string);
        struct json_object *pl = get(e, "event_payload", json_type_string);
        if (!json_object_is_type(e, json_type_object) || !imr || !ty || !dg || !nm || !pl) {
            rc = bad(ev, i, "an event lacks imr, event_type (integers), digest, event or event_payload (strings)");
            break;
        }
        int64_t k = json_object_get_int64(imr), t = json_object_get_int64(ty);
        if (k < 0 || k > 3 || t < 0 || t > UINT32_MAX) {
            rc = bad(ev, i, "imr is not 0..3 or event_type not a u32");
            break;
        }
        size_t phn = (size_t)json_object_get_string_len(pl), pn = phn / 2;
        if (pn + 1 > cap) {
            uint8_t *np = realloc(payload, pn + 1);
            if (!np) {
                rc = bad(ev, i, "out of memory");
                break;
            }
            payload = np;
            cap = pn + 1;
        }
        if (phn % 2 || rt_hex_decode(json_object_get_string(pl), phn, payload, pn) != 0) {
            rc = bad(ev, i, "event_payload is not hex");
            break;
        }
        const char *name = json_object_get_string(nm);
        size_t nn = (size_t)json_object_get_string_len(nm), dn = (size_t)json_object_get_string_len(dg);
        uint8_t given[48], content[48];
        int have_given = dn != 0;
        if (have_given && rt_hex_decode(json_object_get_string(dg), dn, given, 48) != 0) {
            rc = bad(ev, i, "digest is not 48 bytes of hex");
            break;
        }
        if (k == 3) {
            ev->nruntime++;
            if (rt_evlog_digest((uint32_t)t, name, nn, payload, pn, content) != 0) {
                rc = bad(ev, i, "SHA-384 failed (OpenSSL)");
                break;
            }
            if (!have_given) {
                memcpy(given, content, 48);
                ev->ncomputed++;
            } else if (memcmp(given, content, 48) != 0 && ev->content_ok) {
                ev->content_ok = 0;
                ev->bad_event = i;
            }
            if (is(name, nn, "system-ready"))
                ev->system_ready = 1;
            else if ((rc = identity(ev, i, name, nn, payload, pn, !ev->system_ready)) != 0)
                break;
        } else if (!have_given) {
            rc = bad(ev, i, "an RTMR0-2 event has an empty digest (only RTMR3's can be recomputed)");
            break;
        }
        if (sha384_extend(ev->rtmr[k], given) != 0)
            rc = bad(ev, i, "SHA-384 failed (OpenSSL)");
    }
    free(payload);
    json_object_put(arr);
    return rc;
}
