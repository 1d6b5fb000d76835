/*
 * compose.c — toyctl compose-hash: the compose hash of a dstack
 * app-compose.json, the value dstack measures into RTMR3 and its KMS checks
 * against the app's registry.
 *
 * The hash is rt_compose_hash over the file's bytes as they are (dstack does
 * not re-serialize before hashing; rt_compose.h cites its code).  Before
 * hashing, the file is checked to be an app-compose that dstack would accept
 * (the fields of dstack-types' AppCompose and what dstack's app-compose.sh
 * requires of the runner), so that a wrong file - a docker-compose.yml, a
 * manifest with a typo in a boolean - is an error rather than a hash that
 * no CVM will ever report.
 *
 * --normalized gives what dstack's SDKs compute from the parsed manifest
 * (sdk/js/src/get-compose-hash.ts getComposeHash(manifest, true)): the
 * runner's conflicting field and an empty pre_launch_script dropped, then
 * keys sorted and no white space.  For an integer-only document that
 * serialization is RFC 8785, which tc_canon writes.  It equals the plain
 * compose hash exactly when the file is already in that form; the plain
 * hash says which file is deployed, --normalized tells whether a deploy
 * tool that rebuilds the manifest would deploy the same bytes.
 */
#include "toyctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_compose.h"

static const char compose_usage[] = "usage: toyctl compose-hash [--normalized] FILE\n";

/* The members of dstack's AppCompose (dstack-types, with the SDKs' legacy
 * ones); anything else is hashed all the same, with a note. */
static const char *const known_fields[] = {
    "allowed_envs", "bash_script", "docker_compose_file", "docker_config", "event_log_version",
    "features", "gateway_enabled", "init_script", "key_provider", "key_provider_id",
    "kms_enabled", "local_key_provider_enabled", "manifest_version", "name", "no_instance_id",
    "port_policy", "pre_launch_script", "public_logs", "public_sysinfo", "public_tcbinfo",
    "requirements", "runner", "secure_time", "snapshotter", "storage_fs", "swap_size",
    "tproxy_enabled", "verity_volumes", NULL,
};

static const char *const bool_fields[] = {
    "gateway_enabled", "kms_enabled", "local_key_provider_enabled", "no_instance_id",
    "public_logs", "public_sysinfo", "public_tcbinfo", "secure_time", "tproxy_enabled", NULL,
};

static const char *const string_fields[] = {
    "bash_script", "docker_compose_file", "key_provider_id", "name", "pre_launch_script",
    "runner", "snapshotter", "storage_fs", NULL,
};

typedef struct why {
    char text[320];
} why;

static int bad(why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(why *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text, sizeof w->text, fmt, ap);
    va_end(ap);
    return -1;
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return 1;
    return 0;
}

/* An environment variable name as docker compose and dstack take it. */
static int env_name_ok(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* manifest_version: a string holding a canonical positive integer, or the
 * legacy numbers 1 and 2 (dstack-types deserialize_manifest_version). */
static int check_manifest_version(struct json_object *v, why *w)
{
    if (json_object_is_type(v, json_type_int)) {
        int64_t n = json_object_get_int64(v);
        return n == 1 || n == 2 ? 0
                                : bad(w, "a numeric manifest_version must be 1 or 2 (newer ones "
                                         "are strings), not %lld", (long long)n);
    }
    if (!json_object_is_type(v, json_type_string))
        return bad(w, "manifest_version must be a string or the number 1 or 2");
    const char *s = json_object_get_string(v);
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, n--;
    int ok = n > 0 && n <= 10 && s[0] >= '1' && s[0] <= '9';
    uint64_t val = 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        val = val * 10 + (uint64_t)(s[i] - '0');
    }
    if (!ok || val > UINT32_MAX)
        return bad(w, "manifest_version \"%s\" is not a canonical positive integer",
                   json_object_get_string(v));
    return 0;
}

static int check_string_array(struct json_object *o, const char *key, int env_names, why *w)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_array))
        return bad(w, "%s must be an array of strings", key);
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(v, i);
        if (!json_object_is_type(e, json_type_string))
            return bad(w, "%s[%zu] must be a string", key, i);
        if (env_names && !env_name_ok(json_object_get_string(e)))
            return bad(w, "%s[%zu] \"%s\" is not an environment variable name", key, i,
                       json_object_get_string(e));
    }
    return 0;
}

/* Is o an app-compose that dstack would run?  0, or -1 with the reason. */
static int check_app_compose(struct json_object *o, why *w)
{
    if (!json_object_is_type(o, json_type_object))
        return bad(w, "the document must be a JSON object");
    struct json_object *v;
    if (!json_object_object_get_ex(o, "manifest_version", &v))
        return bad(w, "manifest_version is missing");
    if (check_manifest_version(v, w))
        return -1;
    if (!json_object_object_get_ex(o, "name", &v))
        return bad(w, "name is missing");
    if (!json_object_object_get_ex(o, "runner", &v))
        return bad(w, "runner is missing");
    json_object_object_foreach(o, key, val)
    {
        if (in_list(bool_fields, key) && !json_object_is_type(val, json_type_boolean))
            return bad(w, "%s must be true or false", key);
        if (in_list(string_fields, key) && !json_object_is_type(val, json_type_string))
            return bad(w, "%s must be a string", key);
    }
    if (check_string_array(o, "allowed_envs", 1, w) || check_string_array(o, "features", 0, w))
        return -1;
    if (json_object_object_get_ex(o, "key_provider", &v) && !json_object_is_type(v, json_type_null)) {
        const char *k = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(k, "none") && strcmp(k, "kms") && strcmp(k, "local") && strcmp(k, "tpm"))
            return bad(w, "key_provider must be \"none\", \"kms\", \"local\" or \"tpm\"");
    }
    /* What os/common/rootfs/app-compose.sh does with each runner. */
    const char *runner = json_object_get_string(json_object_object_get(o, "runner"));
    int compose = strcmp(runner, "docker-compose") == 0 || strcmp(runner, "nerdctl-compose") == 0;
    if (compose && !json_object_object_get_ex(o, "docker_compose_file", NULL))
        return bad(w, "runner %s needs docker_compose_file", runner);
    if (strcmp(runner, "docker-compose") == 0 && json_object_object_get_ex(o, "snapshotter", NULL))
        return bad(w, "snapshotter is only for the nerdctl-compose runner");
    if (strcmp(runner, "bash") == 0 && !json_object_object_get_ex(o, "bash_script", NULL))
        return bad(w, "runner bash needs bash_script");
    if (!compose && strcmp(runner, "bash") != 0)
        return bad(w, "runner must be docker-compose, nerdctl-compose or bash, not \"%s\"", runner);
    return 0;
}

/* JavaScript's !value, for the SDK's "pre_launch_script is empty". */
static int js_falsy(struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return 1;
    case json_type_boolean: return !json_object_get_boolean(v);
    case json_type_int: return json_object_get_int64(v) == 0;
    case json_type_string: return json_object_get_string_len(v) == 0;
    default: return 0;
    }
}

/* The SDK's preprocessAppCompose, on o in place. */
static void sdk_preprocess(struct json_object *o)
{
    const char *runner = json_object_get_string(json_object_object_get(o, "runner"));
    if (strcmp(runner, "bash") == 0)
        json_object_object_del(o, "docker_compose_file");
    else if (strcmp(runner, "docker-compose") == 0 || strcmp(runner, "nerdctl-compose") == 0)
        json_object_object_del(o, "bash_script");
    struct json_object *v;
    if (json_object_object_get_ex(o, "pre_launch_script", &v) && js_falsy(v))
        json_object_object_del(o, "pre_launch_script");
}

int tc_cmd_compose_hash(int argc, char **argv)
{
    const char *path = NULL;
    int normalized = 0, only_pos = 0;
    for (int i = 2; i < argc; i++) {
        if (!only_pos && strcmp(argv[i], "--") == 0) {
            only_pos = 1;
        } else if (!only_pos && strcmp(argv[i], "--normalized") == 0) {
            normalized = 1;
        } else if (!only_pos && argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "toyctl: unknown option %s for compose-hash\n%s", argv[i], compose_usage);
            return 2;
        } else if (path) {
            fprintf(stderr, "toyctl: compose-hash takes one FILE\n%s", compose_usage);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        fprintf(stderr, "toyctl: compose-hash: missing FILE (an app-compose.json)\n%s", compose_usage);
        return 2;
    }

    char err[320];
    size_t n, cn = 0;
    char *buf = tc_read_file(path, &n, err, sizeof err);
    if (!buf) {
        fprintf(stderr, "toyctl: %s: %s\n", path, err);
        return 1;
    }
    struct json_object *o = tc_json_parse(buf, n, err, sizeof err);
    why w = { "" };
    if (!o) {
        fprintf(stderr, "toyctl: %s: not a dstack app-compose: not valid JSON: %s\n", path, err);
        free(buf);
        return 1;
    }
    if (check_app_compose(o, &w)) {
        fprintf(stderr, "toyctl: %s: not a dstack app-compose: %s\n", path, w.text);
        json_object_put(o);
        free(buf);
        return 1;
    }
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        if (!in_list(known_fields, key))
            fprintf(stderr, "toyctl: note: %s: field %s is not one dstack defines (it is hashed all the same)\n",
                    path, key);
    }

    uint8_t raw[32], norm[32];
    rt_compose_hash(buf, n, raw);
    sdk_preprocess(o);
    char *c = tc_canon(o, NULL, &cn, err, sizeof err);
    json_object_put(o);
    if (!c) {
        fprintf(stderr, "toyctl: %s: cannot serialize the manifest: %s\n", path, err);
        free(buf);
        return 1;
    }
    rt_compose_hash(c, cn, norm);
    int same_bytes = cn == n && memcmp(c, buf, n) == 0;
    free(c);
    free(buf);

    char hex[65];
    rt_hex_encode(normalized ? norm : raw, 32, hex);
    if (!normalized && !same_bytes) {
        char nhex[65];
        rt_hex_encode(norm, 32, nhex);
        fprintf(stderr,
                "toyctl: note: %s is not in dstack's deterministic form (keys sorted, no white "
                "space); dstack hashes the bytes as they are, so deploy this exact file: a tool "
                "that rebuilds the manifest would get %s\n",
                path, nhex);
    }
    if (printf("%s\n", hex) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "toyctl: cannot write the output\n");
        return 1;
    }
    return 0;
}
