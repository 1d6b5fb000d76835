/*
 * compare.c — compare-instances: every CVM of the topology attested, and
 * their measurements compared (the seed's compare-instances.sh).
 *
 *   toyctl compare-instances --app URL... [--pg-primary URL] [--pg-replica URL]
 *                            [--instance ROLE=URL]... [--expect-compose ROLE=FILE]...
 *                            [--collateral FILE]... [--now TIME] [--allow-sim]
 *                            [--timeout MS] [--json]
 *
 * An instance is a metadata port URL with a role; the roles app,
 * pg-primary and pg-replica have their own flags, any other comes with
 * --instance.  For each instance, with a fresh random nonce: GET /info and
 * /attestation?nonce=N, then everything verify-report --attestation checks
 * (attest.c), with /info in the place of the report: the nonce is N, the
 * quote's report_data is SHA-256(publicKey) || SHA-256(N), the quote
 * verifies (rt_dcap, with the --collateral whose FMSPC is the quote's), the
 * event log replays to its RTMRs, and /info's role is the one given.
 * Then across instances: MRTD and RTMR0-2 equal within each role, the app
 * id (measured in RTMR3) equal across all, and each role's compose hash
 * (measured in RTMR3) equal to SHA-256 of the file --expect-compose names
 * (or, without one, equal within the role).
 *
 * Output: the check lines, a table (instance, role, TCB status, MRTD,
 * compose hash, verdict) and the verdict line; or with --json one JSON
 * document holding all of it.  Exit 0 only when every check passed.
 */
#include "toyctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "rt_compose.h"
#include "toy_spec.h"

#define MAX_INSTANCES 32
#define MAX_FILES 16

typedef struct inst {
    const char *role, *url;
    char label[48];
    int failed;        /* one of its checks, or a comparison naming it, failed */
    int attested;      /* /attestation was fetched and its quote parsed */
    tc_attest_result a;
    char nonce[65];
} inst;

typedef struct cmp_args {
    inst in[MAX_INSTANCES];
    int n;
    const char *expect_role[MAX_FILES], *expect_file[MAX_FILES];
    int nexpect;
    const char *collateral[MAX_FILES];
    int ncollateral;
    int64_t now;
    int allow_sim, json, timeout_ms;
} cmp_args;

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "toyctl: compare-instances: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    fprintf(stderr, "usage: toyctl compare-instances --app URL... [--pg-primary URL] [--pg-replica URL]\n"
                    "         [--instance ROLE=URL]... [--expect-compose ROLE=FILE]... [--collateral FILE]...\n"
                    "         [--now TIME] [--allow-sim] [--timeout MS] [--json]\n");
    return 2;
}

static int add_instance(cmp_args *a, const char *role, const char *url)
{
    char host[256], port[8], base[512];
    int tls;
    if (a->n == MAX_INSTANCES)
        return usage("too many instances", NULL);
    if (tc_url_parse(url, &tls, host, sizeof host, port, sizeof port, base, sizeof base) != 0)
        return usage("not an http(s)://HOST[:PORT] URL:", url);
    inst *i = &a->in[a->n++];
    i->role = role;
    i->url = url;
    int k = 0;
    for (int j = 0; j < a->n; j++)
        k += strcmp(a->in[j].role, role) == 0;
    /* app-1, app-2, ...; a role given once keeps its plain name. */
    snprintf(i->label, sizeof i->label, "%s-%d", role, k);
    return 0;
}

static int parse(int argc, char **argv, cmp_args *a)
{
    a->now = (int64_t)time(NULL);
    a->timeout_ms = 10000;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--allow-sim") == 0) {
            a->allow_sim = 1;
            continue;
        }
        if (strcmp(o, "--json") == 0) {
            a->json = 1;
            continue;
        }
        if (!v)
            return usage(strncmp(o, "--", 2) == 0 ? "option needs a value:" : "unexpected argument", o);
        i++;
        int rc = 0;
        if (strcmp(o, "--app") == 0) {
            rc = add_instance(a, "app", v);
        } else if (strcmp(o, "--pg-primary") == 0) {
            rc = add_instance(a, "pg-primary", v);
        } else if (strcmp(o, "--pg-replica") == 0) {
            rc = add_instance(a, "pg-replica", v);
        } else if (strcmp(o, "--instance") == 0 || strcmp(o, "--expect-compose") == 0) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                return usage("expected ROLE=VALUE:", v);
            char *role = strndup(v, (size_t)(eq - v)); /* lives as long as the process */
            if (!role)
                return usage("out of memory", NULL);
            if (strcmp(o, "--instance") == 0) {
                rc = add_instance(a, role, eq + 1);
            } else if (a->nexpect == MAX_FILES) {
                return usage("too many --expect-compose", NULL);
            } else {
                a->expect_role[a->nexpect] = role;
                a->expect_file[a->nexpect++] = eq + 1;
            }
        } else if (strcmp(o, "--collateral") == 0) {
            if (a->ncollateral == MAX_FILES)
                return usage("too many --collateral", NULL);
            a->collateral[a->ncollateral++] = v;
        } else if (strcmp(o, "--now") == 0) {
            if (tc_parse_time(v, &a->now) != 0)
                return usage("--now: expected now, seconds since 1970, or YYYY-MM-DDTHH:MM:SSZ:", v);
        } else if (strcmp(o, "--timeout") == 0) {
            a->timeout_ms = atoi(v);
            if (a->timeout_ms < 1 || a->timeout_ms > 600000)
                return usage("--timeout: 1..600000 ms:", v);
        } else {
            return usage("unknown option", o);
        }
        if (rc)
            return rc;
    }
    if (a->n == 0)
        return usage("no instance (--app URL, --pg-primary URL, --pg-replica URL, --instance ROLE=URL)", NULL);
    /* A role given once is named by the role alone. */
    for (int i = 0; i < a->n; i++) {
        int k = 0;
        for (int j = 0; j < a->n; j++)
            k += strcmp(a->in[j].role, a->in[i].role) == 0;
        if (k == 1)
            snprintf(a->in[i].label, sizeof a->in[i].label, "%s", a->in[i].role);
    }
    return 0;
}

/* GETs url + path and parses the JSON object answered with 200.  Prints a
 * FAIL line (what) and returns NULL if any of that fails. */
static struct json_object *get_json(const inst *in, const char *path, int timeout_ms, const char *what)
{
    tc_http_response res;
    char err[320];
    if (tc_http_get(in->url, path, timeout_ms, &res, err, sizeof err) != 0) {
        tc_fail(what, "%s", err);
        return NULL;
    }
    struct json_object *o = NULL;
    if (res.status != 200)
        tc_fail(what, "HTTP %d: %.200s", res.status, res.body);
    else if (!(o = tc_json_parse(res.body, res.len, err, sizeof err)) || !json_object_is_type(o, json_type_object))
        tc_fail(what, "not a JSON object: %s", o ? "another JSON value" : err);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    free(res.body);
    return o;
}

/* The collateral for a quote: the one whose TCB info has the FMSPC of the
 * quote's PCK certificate (read without collateral first), or the only one
 * given.  NULL for none. */
static char *pick_collateral(const cmp_args *a, const uint8_t *q, size_t qn, size_t *len)
{
    char err[320];
    if (a->ncollateral == 0)
        return NULL;
    rt_dcap_report *r = malloc(sizeof *r);
    char fm[13] = "";
    if (r && rt_dcap_verify(q, qn, NULL, 0, a->now, a->allow_sim ? RT_DCAP_ALLOW_SIM : 0, r) == 0 && r->have_pck)
        rt_hex_encode(r->fmspc, 6, fm);
    free(r);
    for (int k = 0; k < a->ncollateral; k++) {
        char *c = tc_read_file(a->collateral[k], len, err, sizeof err);
        if (!c)
            continue;
        if (a->ncollateral == 1)
            return c;
        struct json_object *o = tc_json_parse(c, *len, err, sizeof err), *ti = NULL, *tcb = NULL, *f = NULL;
        int match = o && json_object_object_get_ex(o, "tcb_info", &ti) &&
                    (tcb = json_tokener_parse(json_object_get_string(ti))) &&
                    json_object_object_get_ex(tcb, "fmspc", &f) && strcasecmp(json_object_get_string(f), fm) == 0;
        json_object_put(tcb);
        json_object_put(o);
        if (match)
            return c;
        free(c);
    }
    return NULL;
}

/* Everything about one instance; its lines are prefixed "<label>: ". */
static void check_instance(const cmp_args *a, inst *in)
{
    char what[300], prefix[96];
    int before = tc_failures();
    snprintf(prefix, sizeof prefix, "%s: ", in->label);

    snprintf(what, sizeof what, "%sGET %s/info", prefix, in->url);
    struct json_object *info = get_json(in, "/info", a->timeout_ms, what);
    if (info) {
        snprintf(what, sizeof what, "%s/info", in->label);
        if (!tc_shape(info, &toy_resp_info_rec, NULL, what)) {
            json_object_put(info);
            info = NULL;
        }
    }
    if (info) {
        snprintf(what, sizeof what, "%s/info says role %s", prefix, in->role);
        if (strcmp(tc_str(info, "role"), in->role) == 0)
            tc_ok("%s", what);
        else
            tc_fail(what, "it says \"%s\" (not attested: a mislabelled instance, or the wrong URL)", tc_str(info, "role"));
    }

    uint8_t rnd[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1) {
        fprintf(stderr, "toyctl: RAND_bytes failed\n");
        exit(1);
    }
    rt_hex_encode(rnd, sizeof rnd, in->nonce);
    char path[128];
    snprintf(path, sizeof path, "/attestation?nonce=%s", in->nonce);
    snprintf(what, sizeof what, "%sGET %s/attestation with a fresh nonce", prefix, in->url);
    struct json_object *att = info ? get_json(in, path, a->timeout_ms, what) : NULL;
    if (att) {
        size_t qn = tc_strlen(att, "quote") / 2, cn = 0;
        uint8_t *q = malloc(qn + 1);
        char *col = NULL;
        if (q && rt_hex_decode(tc_str(att, "quote"), 2 * qn, q, qn) == 0)
            col = pick_collateral(a, q, qn, &cn);
        if (a->ncollateral && !col)
            tc_fail(what, "no --collateral file has the FMSPC of this instance's PCK certificate");
        tc_attest_opts o = { .allow_sim = a->allow_sim, .nonce = in->nonce, .collateral = col,
                             .collateral_len = cn, .now = a->now, .prefix = prefix, .ref = "/info's",
                             .out = &in->a };
        tc_verify_attestation(att, info, &o);
        in->attested = 1;
        free(col);
        free(q);
        json_object_put(att);
    }
    json_object_put(info);
    in->failed = tc_failures() > before;
}

/* Whether instance i is the first of its role (the others are compared
 * with it). */
static int first_of_role(const cmp_args *a, int i)
{
    for (int j = 0; j < i; j++)
        if (strcmp(a->in[j].role, a->in[i].role) == 0)
            return 0;
    return 1;
}

/* Whether o's event log replayed and measured the identity event named;
 * if not, a FAIL line for what names o. */
static int measured(inst *o, int have, const char *what, const char *event)
{
    if (o->a.log_ok && have)
        return 1;
    tc_fail(what, "%s (%s) has no %s event measured in RTMR3", o->label, o->url, event);
    o->failed = 1;
    return 0;
}

static void hex16(const uint8_t *b, char out[17])
{
    rt_hex_encode(b, 8, out);
}

/* MRTD and RTMR0-2 equal within each role. */
static void compare_measurements(cmp_args *a)
{
    static const char *const names[] = { "MRTD", "RTMR0", "RTMR1", "RTMR2" };
    for (int i = 0; i < a->n; i++) {
        inst *first = &a->in[i];
        int count = 0, ok = 1;
        if (!first_of_role(a, i) || !first->attested)
            continue;
        char what[200];
        snprintf(what, sizeof what, "role %s: MRTD and RTMR0-2 equal across its instances", first->role);
        for (int j = i; j < a->n; j++) {
            inst *o = &a->in[j];
            if (strcmp(o->role, first->role) != 0 || !o->attested)
                continue;
            count++;
            for (int k = 0; k < 4 && ok; k++) {
                const uint8_t *x = k ? first->a.rtmr[k - 1] : first->a.mrtd, *y = k ? o->a.rtmr[k - 1] : o->a.mrtd;
                if (memcmp(x, y, 48) != 0) {
                    char hx[17], hy[17];
                    hex16(x, hx);
                    hex16(y, hy);
                    tc_fail(what, "%s (%s) has %s %s..., %s has %s...", o->label, o->url, names[k], hy,
                            first->label, hx);
                    o->failed = 1;
                    ok = 0;
                }
            }
        }
        if (ok)
            tc_ok("%s (%d instance%s)", what, count, count == 1 ? "" : "s");
    }
}

/* The app id measured in RTMR3, equal across all instances. */
static void compare_app_ids(cmp_args *a)
{
    const char *what = "app id (measured in RTMR3) equal across all instances";
    inst *first = NULL;
    int ok = 1, count = 0;
    for (int i = 0; i < a->n; i++) {
        inst *o = &a->in[i];
        if (!o->attested)
            continue;
        if (!measured(o, o->a.ev.app_id_len != 0, what, "app-id")) {
            ok = 0;
            continue;
        }
        count++;
        if (!first) {
            first = o;
        } else if (o->a.ev.app_id_len != first->a.ev.app_id_len ||
                   memcmp(o->a.ev.app_id, first->a.ev.app_id, o->a.ev.app_id_len) != 0) {
            char x[2 * RT_EVLOG_ID_MAX + 1], y[2 * RT_EVLOG_ID_MAX + 1];
            rt_hex_encode(first->a.ev.app_id, first->a.ev.app_id_len, x);
            rt_hex_encode(o->a.ev.app_id, o->a.ev.app_id_len, y);
            tc_fail(what, "%s (%s) runs app %s, %s runs %s", o->label, o->url, y, first->label, x);
            o->failed = 1;
            ok = 0;
        }
    }
    if (ok && first) {
        char x[2 * RT_EVLOG_ID_MAX + 1];
        rt_hex_encode(first->a.ev.app_id, first->a.ev.app_id_len, x);
        tc_ok("%s (%d instances: %s)", what, count, x);
    }
}

/* Each role's compose hash: SHA-256 of its --expect-compose file, or the
 * same within the role when none was given. */
static void compare_compose(cmp_args *a)
{
    char err[320];
    for (int e = 0; e < a->nexpect; e++) {
        int found = 0;
        for (int i = 0; i < a->n; i++)
            found |= strcmp(a->in[i].role, a->expect_role[e]) == 0;
        if (!found) {
            char what[200];
            snprintf(what, sizeof what, "--expect-compose %s=%s names a role", a->expect_role[e], a->expect_file[e]);
            tc_fail(what, "no instance has role %s", a->expect_role[e]);
        }
    }
    for (int i = 0; i < a->n; i++) {
        inst *first = &a->in[i];
        if (!first_of_role(a, i))
            continue;
        const char *file = NULL;
        for (int e = 0; e < a->nexpect; e++)
            if (strcmp(a->expect_role[e], first->role) == 0)
                file = a->expect_file[e];
        uint8_t want[32];
        char what[300], wh[65], got[65];
        const uint8_t *ref = NULL;
        if (file) {
            size_t n;
            char *c = tc_read_file(file, &n, err, sizeof err);
            snprintf(what, sizeof what, "role %s: compose hash (measured in RTMR3) is SHA-256 of %s", first->role, file);
            if (!c) {
                tc_fail(what, "%s", err);
                continue;
            }
            rt_compose_hash(c, n, want); /* as dstack computes it */
            free(c);
            ref = want;
        } else {
            snprintf(what, sizeof what, "role %s: compose hash (measured in RTMR3) equal across its instances", first->role);
        }
        int ok = 1, count = 0;
        for (int j = i; j < a->n; j++) {
            inst *o = &a->in[j];
            if (strcmp(o->role, first->role) != 0 || !o->attested)
                continue;
            if (!measured(o, o->a.ev.have_compose_hash, what, "compose-hash")) {
                ok = 0;
                continue;
            }
            count++;
            if (!ref)
                ref = o->a.ev.compose_hash;
            if (memcmp(o->a.ev.compose_hash, ref, 32) != 0) {
                rt_hex_encode(ref, 32, wh);
                rt_hex_encode(o->a.ev.compose_hash, 32, got);
                tc_fail(what, "%s (%s) runs compose %s, expected %s", o->label, o->url, got, wh);
                o->failed = 1;
                ok = 0;
            }
        }
        if (ok && count) {
            rt_hex_encode(ref, 32, wh);
            tc_ok("%s (%d instance%s: %s)", what, count, count == 1 ? "" : "s", wh);
        }
        if (!file)
            tc_note("role %s: no --expect-compose %s=FILE, so its compose hash was not compared with a file",
                    first->role, first->role);
    }
}

static const char *status_of(const inst *in)
{
    if (!in->attested || !in->a.quote_ok)
        return "-";
    return in->a.status[0] ? in->a.status : "(no collateral)";
}

static void print_table(const cmp_args *a)
{
    printf("\n%-40s %-11s %-20s %-17s %-17s %s\n", "instance", "role", "TCB status", "MRTD", "compose hash", "verdict");
    for (int i = 0; i < a->n; i++) {
        const inst *in = &a->in[i];
        char inst_col[256], mrtd[20] = "-", compose[20] = "-";
        snprintf(inst_col, sizeof inst_col, "%s %s", in->label, in->url);
        if (in->attested) {
            hex16(in->a.mrtd, mrtd);
            strcat(mrtd, "..");
        }
        if (in->attested && in->a.log_ok && in->a.ev.have_compose_hash) {
            hex16(in->a.ev.compose_hash, compose);
            strcat(compose, "..");
        }
        printf("%-40s %-11s %-20s %-17s %-17s %s\n", inst_col, in->role, status_of(in), mrtd, compose,
               in->failed ? "FAIL" : "ok");
    }
    printf("\n");
}

/* --json: the lines, the instances and the verdict as one document. */
static void print_json(const cmp_args *a, const char *lines)
{
    struct json_object *doc = json_object_new_object(), *arr = json_object_new_array(),
                       *checks = json_object_new_array();
    for (int i = 0; i < a->n; i++) {
        const inst *in = &a->in[i];
        struct json_object *o = json_object_new_object();
        char h[129];
        json_object_object_add(o, "instance", json_object_new_string(in->label));
        json_object_object_add(o, "url", json_object_new_string(in->url));
        json_object_object_add(o, "role", json_object_new_string(in->role));
        json_object_object_add(o, "tcbStatus", json_object_new_string(status_of(in)));
        json_object_object_add(o, "simulated", json_object_new_boolean(in->a.sim));
        if (in->attested) {
            rt_hex_encode(in->a.mrtd, 48, h);
            json_object_object_add(o, "mrtd", json_object_new_string(h));
            for (int k = 0; k < 3; k++) {
                char key[8];
                snprintf(key, sizeof key, "rtmr%d", k);
                rt_hex_encode(in->a.rtmr[k], 48, h);
                json_object_object_add(o, key, json_object_new_string(h));
            }
        }
        if (in->attested && in->a.log_ok) {
            if (in->a.ev.have_compose_hash) {
                rt_hex_encode(in->a.ev.compose_hash, 32, h);
                json_object_object_add(o, "composeHash", json_object_new_string(h));
            }
            if (in->a.ev.app_id_len) {
                rt_hex_encode(in->a.ev.app_id, in->a.ev.app_id_len, h);
                json_object_object_add(o, "appId", json_object_new_string(h));
            }
            if (in->a.ev.instance_id_len) {
                rt_hex_encode(in->a.ev.instance_id, in->a.ev.instance_id_len, h);
                json_object_object_add(o, "instanceId", json_object_new_string(h));
            }
        }
        json_object_object_add(o, "nonce", json_object_new_string(in->nonce));
        json_object_object_add(o, "verdict", json_object_new_string(in->failed ? "fail" : "ok"));
        json_object_array_add(arr, o);
    }
    for (const char *l = lines; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        struct json_object *c = json_object_new_object();
        const char *kind = strncmp(l, "ok   ", 5) == 0 ? "ok" : strncmp(l, "FAIL ", 5) == 0 ? "fail" : "note";
        size_t skip = strncmp(l, "note: ", 6) == 0 ? 6 : 5;
        json_object_object_add(c, "result", json_object_new_string(kind));
        json_object_object_add(c, "text", json_object_new_string_len(l + skip, (int)(n - skip)));
        json_object_array_add(checks, c);
        l = e ? e + 1 : l + n;
    }
    json_object_object_add(doc, "verified", json_object_new_boolean(tc_failures() == 0));
    json_object_object_add(doc, "passed", json_object_new_int(tc_passes()));
    json_object_object_add(doc, "failed", json_object_new_int(tc_failures()));
    json_object_object_add(doc, "instances", arr);
    json_object_object_add(doc, "checks", checks);
    printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
}

int tc_compare_instances(int argc, char **argv)
{
    static cmp_args a; /* large: keep it off the stack */
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc;
    char *buf = NULL;
    size_t blen = 0;
    FILE *mem = NULL;
    if (a.json) {
        if (!(mem = open_memstream(&buf, &blen))) {
            fprintf(stderr, "toyctl: out of memory\n");
            return 1;
        }
        tc_set_output(mem);
    }
    for (int i = 0; i < a.n; i++)
        check_instance(&a, &a.in[i]);
    compare_measurements(&a);
    compare_app_ids(&a);
    compare_compose(&a);
    if (a.json) {
        tc_set_output(NULL);
        fclose(mem);
        print_json(&a, buf);
        free(buf);
    } else {
        print_table(&a);
        if (tc_failures() == 0)
            printf("verified: all %d checks passed\n", tc_passes());
        else
            printf("NOT verified: %d of %d checks failed\n", tc_failures(), tc_failures() + tc_passes());
    }
    return tc_failures() == 0 ? 0 : 1;
}
