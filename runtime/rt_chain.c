/* rt_chain.c — the registries' ABI and the attestation's on-chain form; see rt_chain.h. */
#include "rt_chain.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <nettle/sha2.h>

#include "rt_hex.h"
#include "rt_keccak.h"
#include "rt_tee.h"

void rt_chain_hash_sig(const char *sig, uint8_t out[32])
{
    rt_keccak256(sig, strlen(sig), out);
}

static void put_selector(const char *fn, uint8_t *out)
{
    uint8_t h[32];
    rt_chain_hash_sig(fn, h);
    memcpy(out, h, 4);
}

/* ABI words: 32 bytes, big endian, numbers and addresses right-aligned. */
static void word_u64(uint8_t *w, uint64_t v)
{
    memset(w, 0, 24);
    for (int i = 31; i >= 24; i--, v >>= 8)
        w[i] = (uint8_t)v;
}

static void word_address(uint8_t *w, const uint8_t addr[RT_ETH_ADDR_LEN])
{
    memset(w, 0, 12);
    memcpy(w + 12, addr, RT_ETH_ADDR_LEN);
}

/* A word holding a number below 2^64: 0 and *v, or -1. */
static int get_u64(const uint8_t *w, uint64_t *v)
{
    return rt_eth_u256_u64(w, v);
}

/* ---- calldata ------------------------------------------------------------ */

size_t rt_chain_record_len(size_t n)
{
    return 4 + 64 + RT_CHAIN_RECORD_BYTES * n;
}

void rt_chain_record_calldata(const rt_chain_attestation *a, size_t n, uint8_t *out)
{
    put_selector(RT_CHAIN_FN_RECORD, out);
    word_u64(out + 4, 32);             /* offset of the array */
    word_u64(out + 36, n);             /* its length; static tuples follow inline */
    uint8_t *p = out + 68;
    for (size_t i = 0; i < n; i++, p += RT_CHAIN_RECORD_BYTES) {
        memcpy(p, a[i].receipt_id_hash, 32);
        memcpy(p + 32, a[i].user_id_hash, 32);
        word_u64(p + 64, a[i].deleted_at);
        memcpy(p + 96, a[i].compose_hash, 32);
        memcpy(p + 128, a[i].public_key, 32);
        memcpy(p + 160, a[i].signature, 64);
    }
}

void rt_chain_call_bytes32(const char *fn, const uint8_t arg[32], uint8_t out[36])
{
    put_selector(fn, out);
    memcpy(out + 4, arg, 32);
}

void rt_chain_call_noarg(const char *fn, uint8_t out[4])
{
    put_selector(fn, out);
}

void rt_chain_call_set_enclave(const uint8_t addr[RT_ETH_ADDR_LEN], uint8_t out[36])
{
    put_selector(RT_CHAIN_FN_SET_ENCLAVE, out);
    word_address(out + 4, addr);
}

int rt_chain_call_add_compose(const uint8_t hash[32], const char *version, uint8_t out[132],
                              size_t *len)
{
    size_t vn = version ? strlen(version) : 0;
    if (vn == 0 || vn > RT_CHAIN_VERSION_MAX)
        return -1;
    put_selector(RT_CHAIN_FN_ADD_COMPOSE, out);
    memcpy(out + 4, hash, 32);
    word_u64(out + 36, 64);            /* offset of the string */
    word_u64(out + 68, vn);
    size_t padded = (vn + 31) / 32 * 32;
    memset(out + 100, 0, padded);
    memcpy(out + 100, version, vn);
    *len = 100 + padded;
    return 0;
}

/* ---- return values and events -------------------------------------------- */

int rt_chain_ret_u64(const uint8_t *ret, size_t n, uint64_t *v)
{
    return n == 32 ? get_u64(ret, v) : -1;
}

int rt_chain_ret_bool(const uint8_t *ret, size_t n, int *b)
{
    uint64_t v;
    if (rt_chain_ret_u64(ret, n, &v) != 0 || v > 1)
        return -1;
    *b = (int)v;
    return 0;
}

int rt_chain_ret_address(const uint8_t *ret, size_t n, uint8_t addr[RT_ETH_ADDR_LEN])
{
    if (n != 32)
        return -1;
    for (int i = 0; i < 12; i++)
        if (ret[i])
            return -1;
    memcpy(addr, ret + 12, RT_ETH_ADDR_LEN);
    return 0;
}

/* An ABI string whose offset word is at base[0..32), in base[0..n):
 * printable ASCII of at most RT_CHAIN_VERSION_MAX bytes. */
static int get_string(const uint8_t *base, size_t n, char out[RT_CHAIN_VERSION_MAX + 1])
{
    uint64_t off, len;
    if (n < 64 || get_u64(base, &off) != 0 || off > n - 32 || get_u64(base + off, &len) != 0 ||
        len > RT_CHAIN_VERSION_MAX || off + 32 + len > n)
        return -1;
    for (uint64_t i = 0; i < len; i++) {
        uint8_t ch = base[off + 32 + i];
        if (ch < 0x20 || ch > 0x7e)
            return -1;
        out[i] = (char)ch;
    }
    out[len] = 0;
    return 0;
}

int rt_chain_ret_string(const uint8_t *ret, size_t n, char out[RT_CHAIN_VERSION_MAX + 1])
{
    return get_string(ret, n, out);
}

static int topic_is(const uint8_t topic[32], const char *sig)
{
    uint8_t h[32];
    rt_chain_hash_sig(sig, h);
    return memcmp(topic, h, 32) == 0;
}

int rt_chain_decode_recorded(const uint8_t (*topics)[32], int ntopics, const uint8_t *data,
                             size_t n, rt_chain_attestation *a)
{
    if (ntopics != 2 || !topic_is(topics[0], RT_CHAIN_EV_RECORDED) || n != 6 * 32)
        return -1;
    memcpy(a->receipt_id_hash, topics[1], 32);
    memcpy(a->user_id_hash, data, 32);
    if (get_u64(data + 32, &a->deleted_at) != 0)
        return -1;
    memcpy(a->compose_hash, data + 64, 32);
    memcpy(a->public_key, data + 96, 32);
    memcpy(a->signature, data + 128, 64);
    return 0;
}

int rt_chain_decode_compose(const uint8_t (*topics)[32], int ntopics, const uint8_t *data,
                            size_t n, int *added, uint8_t hash[32],
                            char version[RT_CHAIN_VERSION_MAX + 1])
{
    if (ntopics != 2)
        return -1;
    if (topic_is(topics[0], RT_CHAIN_EV_ADDED))
        *added = 1;
    else if (topic_is(topics[0], RT_CHAIN_EV_REMOVED))
        *added = 0;
    else
        return -1;
    memcpy(hash, topics[1], 32);
    return get_string(data, n, version);
}

const char *rt_chain_revert_text(const uint8_t *data, size_t n, char *out, size_t cap)
{
    static const struct { const char *sig; int arg; } errs[] = {
        { "NotOwner(address)", 1 },       { "NotEnclave(address)", 1 },
        { "AlreadyAllowed(bytes32)", 2 }, { "NotAllowed(bytes32)", 2 },
        { "BadVersion()", 0 },
    };
    out[0] = 0;
    if (n < 4) {
        if (n)
            snprintf(out, cap, "revert data 0x%02x...", data[0]);
        return out;
    }
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        uint8_t h[32];
        rt_chain_hash_sig(errs[i].sig, h);
        if (memcmp(h, data, 4) != 0 || n != 4 + (errs[i].arg ? 32u : 0u))
            continue;
        size_t nl = strcspn(errs[i].sig, "(");
        if (errs[i].arg == 1) {
            char a[RT_ETH_ADDR_STR];
            rt_eth_address_str(data + 4 + 12, a);
            snprintf(out, cap, "%.*s(%s)", (int)nl, errs[i].sig, a);
        } else if (errs[i].arg == 2) {
            char hx[65];
            rt_hex_encode(data + 4, 32, hx);
            snprintf(out, cap, "%.*s(0x%s)", (int)nl, errs[i].sig, hx);
        } else {
            snprintf(out, cap, "%s", errs[i].sig);
        }
        return out;
    }
    char msg[RT_CHAIN_VERSION_MAX + 1];
    uint8_t h[32];
    rt_chain_hash_sig("Error(string)", h);
    if (memcmp(h, data, 4) == 0 && get_string(data + 4, n - 4, msg) == 0) {
        snprintf(out, cap, "Error(\"%s\")", msg);
        return out;
    }
    size_t k = snprintf(out, cap, "revert data 0x");
    for (size_t i = 0; i < n && k + 3 < cap; i++, k += 2)
        snprintf(out + k, cap - k, "%02x", data[i]);
    return out;
}

/* ---- time ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 0;
}

int rt_chain_time_parse(const char *s, size_t n, uint64_t *ms)
{
    unsigned y, mo, d, h, mi, sec, milli;
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (n != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != '.' || s[23] != 'Z' || digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
        digits(s + 8, 2, &d) || digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
        digits(s + 17, 2, &sec) || digits(s + 20, 3, &milli))
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    int64_t days = days_from_civil(y, mo, d);
    *ms = (uint64_t)(((days * 24 + h) * 60 + mi) * 60 + sec) * 1000 + milli;
    return 0;
}

size_t rt_chain_time_format(uint64_t ms, char out[32])
{
    int64_t y;
    unsigned mo, d;
    uint64_t secs = ms / 1000, days = secs / 86400, rem = secs % 86400;
    civil_from_days((int64_t)days, &y, &mo, &d);
    if (y > 9999)
        y = 9999;   /* outside the parseable range; never produced by a parse */
    snprintf(out, 32, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, mo, d,
             (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60),
             (unsigned)(ms % 1000));
    return 24;
}

void rt_chain_receipt_hash(const char *receipt_id, size_t n, uint8_t out[32])
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, n, (const uint8_t *)receipt_id);
    sha256_digest(&h, 32, out);
}

/* ---- the attestation's two forms --------------------------------------------- */

/* Which on-chain field a record field is, by its key and type. */
enum { F_USER, F_TIME, F_COMPOSE, F_PUB, F_SIG, F_RECEIPT, F_NONE };

static int field_kind(const rt_ofield *f)
{
    static const struct { const char *key; uint8_t type; int kind; } map[] = {
        { "userIdHash", RT_O_HASH, F_USER },      { "deletionTimestamp", RT_O_STR, F_TIME },
        { "composeHash", RT_O_STR, F_COMPOSE },   { "publicKey", RT_O_BYTES, F_PUB },
        { "signature", RT_O_BYTES, F_SIG },       { "receiptId", RT_O_STR, F_RECEIPT },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(f->key, map[i].key) == 0 && f->type == map[i].type)
            return map[i].kind;
    return F_NONE;
}

char *rt_chain_attestation_json(const rt_record *rec, const rt_chain_attestation *a,
                                const char *receipt_id, unsigned flags, size_t *len, char *err,
                                size_t errlen)
{
    char time[32], compose[65];
    uint8_t *obj = calloc(1, rec->size ? rec->size : 1);
    if (!obj) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rt_chain_time_format(a->deleted_at, time);
    rt_hex_encode(a->compose_hash, 32, compose);
    for (uint16_t i = 0; i < rec->nfields; i++) {
        const rt_ofield *f = &rec->fields[i];
        void *at = obj + f->off;
        switch (field_kind(f)) {
        case F_USER: memcpy(at, a->user_id_hash, 32); break;
        case F_TIME: *(rt_str *)at = (rt_str){ time, 24 }; break;
        case F_COMPOSE: *(rt_str *)at = (rt_str){ compose, 64 }; break;
        case F_PUB: *(rt_bytes *)at = (rt_bytes){ a->public_key, 32 }; break;
        case F_SIG: *(rt_bytes *)at = (rt_bytes){ a->signature, 64 }; break;
        case F_RECEIPT:
            if (!receipt_id)
                goto unknown;   /* no receipt id to put there */
            *(rt_str *)at = (rt_str){ receipt_id, strlen(receipt_id) };
            break;
        default:
        unknown:
            snprintf(err, errlen, "record %s has a field \"%s\" that the deletion registry does not carry",
                     rec->name, f->key);
            free(obj);
            return NULL;
        }
    }
    int e = 0;
    char *out = rt_ser_alloc(rec, obj, flags, len, &e);
    free(obj);
    if (!out)
        snprintf(err, errlen, "cannot serialize record %s (%s)", rec->name,
                 e ? rt_jw_strerror(e) : "out of memory");
    return out;
}

/* The string member key of o, or NULL. */
static const char *str_member(json_object *o, const char *key, size_t *n)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    *n = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

int rt_chain_attestation_parse(const rt_record *rec, const char *json, size_t n,
                               const char *receipt_id, rt_chain_attestation *a, char *err,
                               size_t errlen)
{
    memset(a, 0, sizeof *a);
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, json, (int)n) : NULL;
    int ok = o && json_tokener_get_error(tok) == json_tokener_success &&
             json_tokener_get_parse_end(tok) == n && json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(o);
        snprintf(err, errlen, "the attestation is not a JSON object");
        return -1;
    }
    int rc = -1;
    if (receipt_id)
        rt_chain_receipt_hash(receipt_id, strlen(receipt_id), a->receipt_id_hash);
    if ((size_t)json_object_object_length(o) != rec->nfields) {
        snprintf(err, errlen, "the attestation has %d fields, record %s has %u",
                 json_object_object_length(o), rec->name, rec->nfields);
        goto out;
    }
    for (uint16_t i = 0; i < rec->nfields; i++) {
        const rt_ofield *f = &rec->fields[i];
        size_t vn = 0;
        const char *v = str_member(o, f->key, &vn);
        int kind = field_kind(f), bad = !v;
        if (!bad) {
            switch (kind) {
            case F_USER: bad = rt_hex_decode(v, vn, a->user_id_hash, 32) != 0; break;
            case F_TIME: bad = rt_chain_time_parse(v, vn, &a->deleted_at) != 0; break;
            case F_COMPOSE: bad = rt_hex_decode(v, vn, a->compose_hash, 32) != 0; break;
            case F_PUB: bad = rt_hex_decode(v, vn, a->public_key, 32) != 0; break;
            case F_SIG: bad = rt_hex_decode(v, vn, a->signature, 64) != 0; break;
            case F_RECEIPT: bad = !receipt_id || strlen(receipt_id) != vn || memcmp(v, receipt_id, vn); break;
            default: bad = 1;
            }
        }
        if (bad) {
            snprintf(err, errlen, "attestation field \"%s\" is missing or has no on-chain form%s",
                     f->key, kind == F_TIME ? " (expected YYYY-MM-DDTHH:MM:SS.mmmZ)"
                             : kind == F_COMPOSE ? " (expected 64 hex digits)" : "");
            goto out;
        }
    }
    /* The chain keeps the fields, not the text: the text must be exactly
     * what a verifier will rebuild from them. */
    size_t cn, un;
    char *canon = rt_chain_attestation_json(rec, a, receipt_id, 0, &cn, err, errlen);
    if (!canon)
        goto out;
    int same = cn == n && memcmp(canon, json, n) == 0;
    free(canon);
    if (!same) {
        snprintf(err, errlen, "the attestation is not in the canonical form its on-chain fields rebuild");
        goto out;
    }
    char *signed_part = rt_chain_attestation_json(rec, a, receipt_id, RT_SER_UNSIGNED, &un, err, errlen);
    if (!signed_part)
        goto out;
    int valid = rt_ed25519_verify(a->public_key, (const uint8_t *)signed_part, un, a->signature);
    free(signed_part);
    if (!valid) {
        snprintf(err, errlen, "the attestation's Ed25519 signature does not verify");
        goto out;
    }
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

/* ---- configuration ----------------------------------------------------------- */

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_u64(const char *name, uint64_t lo, uint64_t hi, uint64_t *out, char *err, size_t errlen)
{
    const char *v = env(name);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*v == '-' || *end || errno || x < lo || x > hi) {
        snprintf(err, errlen, "%s=%s is not a number in %llu..%llu", name, v, (unsigned long long)lo,
                 (unsigned long long)hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int env_address(const char *name, int *has, uint8_t addr[RT_ETH_ADDR_LEN], char *err,
                       size_t errlen)
{
    const char *v = env(name);
    *has = 0;
    if (!v)
        return 0;
    if (rt_eth_address_parse(v, strlen(v), addr) != 0) {
        snprintf(err, errlen, "%s=%s is not an address (0x and 40 hex digits, EIP-55 checksum if mixed case)",
                 name, v);
        return -1;
    }
    *has = 1;
    return 0;
}

int rt_chain_config_env(rt_chain_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    const char *on = env("CHAIN");
    if (on && strcmp(on, "on") != 0 && strcmp(on, "off") != 0) {
        snprintf(err, errlen, "CHAIN=%s: expected on or off", on);
        return -1;
    }
    c->on = !on || strcmp(on, "on") == 0;
    const char *url = env("CHAIN_RPC_URL"), *ca = env("CHAIN_RPC_CA_FILE");
    if ((url && strlen(url) >= sizeof c->rpc_url) || (ca && strlen(ca) >= sizeof c->ca_file)) {
        snprintf(err, errlen, "CHAIN_RPC_URL or CHAIN_RPC_CA_FILE is too long");
        return -1;
    }
    snprintf(c->rpc_url, sizeof c->rpc_url, "%s", url ? url : RT_CHAIN_RPC_URL_DEFAULT);
    snprintf(c->ca_file, sizeof c->ca_file, "%s", ca ? ca : "");
    uint64_t batch = RT_CHAIN_BATCH_MAX;
    if (env_u64("CHAIN_ID", 1, UINT64_MAX / 2, &c->chain_id, err, errlen) ||
        env_u64("CHAIN_CONFIRMATIONS", 0, 1000, &c->confirmations, err, errlen) ||
        env_u64("CHAIN_BATCH_MAX", 1, RT_CHAIN_BATCH_MAX, &batch, err, errlen) ||
        env_u64("CHAIN_GAS_PER_RECORD", 1, 1000000, &c->gas_per_record, err, errlen) ||
        env_address("CHAIN_DELETION_REGISTRY", &c->has_deletion_registry, c->deletion_registry, err,
                    errlen) ||
        env_address("CHAIN_APP_REGISTRY", &c->has_app_registry, c->app_registry, err, errlen))
        return -1;
    c->batch_max = (unsigned)batch;
    return 0;
}
