/*
 * shape.c — checks a JSON document against a record table generated from
 * spec/ (gen/toy_spec.c).
 *
 * The service serializes every response and record from these same tables,
 * so checking against them (rather than a field list written out here)
 * keeps the verifier and the service on one definition of each shape: when
 * the spec changes, both follow.  Fields the spec does not declare are
 * refused even though a signature may cover them: the spec is the list of
 * everything that may leave the enclave, and an auditor should not accept
 * data it cannot interpret.
 */
#include "toyctl.h"

#include <stdio.h>
#include <string.h>

typedef struct problems {
    char text[640];
    size_t len;
    int count;
} problems;

static void problem(problems *p, const char *path, const char *key, const char *what)
{
    p->count++;
    if (p->count > 4)
        return; /* the first few say enough; the count says the rest */
    int n = snprintf(p->text + p->len, sizeof p->text - p->len, "%s%s%s%s %s",
                     p->count > 1 ? "; " : "", path, *path ? "." : "", key, what);
    if (n > 0)
        p->len = strlen(p->text);
}

static int is_hex_lower(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void walk(struct json_object *o, const rt_record *rec, const rt_record *raw_rec,
                 const char *path, problems *p);

/* Checks one value v of output type type (field f) at path.key. */
static void value(struct json_object *v, uint8_t type, const rt_ofield *f,
                  const rt_record *raw_rec, const char *path, const char *key, problems *p)
{
    enum json_type t = json_object_get_type(v);
    char sub[256];
    switch (type) {
    case RT_O_STR:
    case RT_O_DERIVED:
        if (t != json_type_string)
            problem(p, path, key, "is not a string");
        return;
    case RT_O_CONST:
        if (t != json_type_string || strcmp(json_object_get_string(v), f->cval) != 0)
            problem(p, path, key, "is not the constant the spec declares");
        return;
    case RT_O_UINT:
        if (t != json_type_int || json_object_get_int64(v) < 0)
            problem(p, path, key, "is not a non-negative integer");
        return;
    case RT_O_INT:
        if (t != json_type_int)
            problem(p, path, key, "is not an integer");
        return;
    case RT_O_BOOL:
        if (t != json_type_boolean)
            problem(p, path, key, "is not a boolean");
        return;
    case RT_O_HASH:
        if (t != json_type_string || json_object_get_string_len(v) != 64 ||
            !is_hex_lower(json_object_get_string(v), 64))
            problem(p, path, key, "is not a hash (64 lowercase hex digits)");
        return;
    case RT_O_BYTES: {
        size_t n = t == json_type_string ? (size_t)json_object_get_string_len(v) : 1;
        if (t != json_type_string || n % 2 || !is_hex_lower(json_object_get_string(v), n))
            problem(p, path, key, "is not lowercase hex of whole bytes");
        return;
    }
    case RT_O_RECORD:
    case RT_O_RAW:
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
        if (t != json_type_object)
            problem(p, path, key, "is not an object");
        else if (type == RT_O_RECORD)
            walk(v, f->rec, raw_rec, sub, p);
        else if (raw_rec)
            walk(v, raw_rec, NULL, sub, p);
        return;
    case RT_O_LIST: {
        if (t != json_type_array) {
            problem(p, path, key, "is not an array");
            return;
        }
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            char ek[160];
            snprintf(ek, sizeof ek, "%s[%zu]", key, i);
            value(json_object_array_get_idx(v, i), f->elem, f, raw_rec, path, ek, p);
        }
        return;
    }
    }
    problem(p, path, key, "has a type this tool does not know (rebuild toyctl with the spec)");
}

static void walk(struct json_object *o, const rt_record *rec, const rt_record *raw_rec,
                 const char *path, problems *p)
{
    for (uint16_t i = 0; i < rec->nfields; i++) {
        const rt_ofield *f = &rec->fields[i];
        struct json_object *v;
        if (!json_object_object_get_ex(o, f->key, &v)) {
            problem(p, path, f->key, "is missing");
            continue;
        }
        if (!v) { /* JSON null */
            if (!(f->flags & RT_OF_NULLABLE))
                problem(p, path, f->key, "is null");
            continue;
        }
        value(v, f->type, f, raw_rec, path, f->key, p);
    }
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        int known = 0;
        for (uint16_t i = 0; i < rec->nfields && !known; i++)
            known = strcmp(rec->fields[i].key, key) == 0;
        if (!known)
            problem(p, path, key, "is not in the spec");
    }
}

int tc_shape(struct json_object *o, const rt_record *rec, const rt_record *raw_rec,
             const char *role)
{
    problems p = { .len = 0 };
    p.text[0] = 0;
    walk(o, rec, raw_rec, "", &p);
    if (p.count == 0) {
        tc_ok("%s: fields match the spec (%s)", role, rec->name);
        return 1;
    }
    char what[128];
    snprintf(what, sizeof what, "%s: fields match the spec (%s)", role, rec->name);
    if (p.count > 4)
        tc_fail(what, "%s; and %d more", p.text, p.count - 4);
    else
        tc_fail(what, "%s", p.text);
    return 0;
}
