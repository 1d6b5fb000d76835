/*
 * verify.c — the checks behind verify-report, verify-receipt and verify-log.
 *
 * Every signature is checked over bytes rebuilt here from the parsed
 * document (tc_canon), never over the file's bytes, so formatting cannot
 * matter and a document cannot carry bytes that differ from what it says.
 * Every hash and size that a proof uses comes from a signed head: a Merkle
 * path proves a leaf against a root, and only the signature says whose root
 * it is and for which tree size.
 */
#include "toyctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_merkle.h"
#include "rt_tee.h"
#include "toy_spec.h"

/* ------------------------------------------------------------- helpers */

/* Decodes the hex string member at path into exactly want bytes. */
static int member_bytes(struct json_object *o, const char *path, uint8_t *out, size_t want)
{
    return rt_hex_decode(tc_str(o, path), tc_strlen(o, path), out, want);
}

static int str_eq(struct json_object *a, const char *pa, struct json_object *b, const char *pb)
{
    return tc_strlen(a, pa) == tc_strlen(b, pb) &&
           memcmp(tc_str(a, pa), tc_str(b, pb), tc_strlen(a, pa)) == 0;
}

/* An array of hashes (already shape-checked) as a malloc'd array; *n is its
 * length.  Exits if out of memory: no verdict is possible then. */
static uint8_t (*hash_list(struct json_object *arr, size_t *n))[RT_MERKLE_HASH]
{
    *n = json_object_array_length(arr);
    uint8_t (*h)[RT_MERKLE_HASH] = calloc(*n ? *n : 1, RT_MERKLE_HASH);
    if (!h) {
        fprintf(stderr, "toyctl: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < *n; i++) {
        struct json_object *e = json_object_array_get_idx(arr, i);
        if (rt_hex_decode(json_object_get_string(e), (size_t)json_object_get_string_len(e), h[i],
                     RT_MERKLE_HASH) != 0)
            memset(h[i], 0, RT_MERKLE_HASH); /* unreachable after tc_shape */
    }
    return h;
}

/* The leaf hash of a JSON value: RFC 6962 leaf over its canonical JSON. */
static int leaf_of(struct json_object *entry, uint8_t leaf[RT_MERKLE_HASH], char *err,
                   size_t errcap)
{
    size_t n;
    char *c = tc_canon(entry, NULL, &n, err, errcap);
    if (!c)
        return -1;
    rt_merkle_leaf((const uint8_t *)c, n, leaf);
    free(c);
    return 0;
}

int tc_verify_signed(struct json_object *rec, const char *key_field, const char *what)
{
    uint8_t pub[32], sig[64];
    char err[256];
    if (member_bytes(rec, key_field, pub, sizeof pub) != 0) {
        tc_fail(what, "%s is %zu hex digits, expected 64 (a 32-byte Ed25519 key)", key_field,
                tc_strlen(rec, key_field));
        return 0;
    }
    if (member_bytes(rec, "signature", sig, sizeof sig) != 0) {
        tc_fail(what, "signature is %zu hex digits, expected 128 (64 bytes)",
                tc_strlen(rec, "signature"));
        return 0;
    }
    size_t n;
    char *msg = tc_canon(rec, "signature", &n, err, sizeof err);
    if (!msg) {
        tc_fail(what, "%s", err);
        return 0;
    }
    int ok = rt_ed25519_verify(pub, (const uint8_t *)msg, n, sig) == 1;
    free(msg);
    if (ok)
        tc_ok("%s", what);
    else
        tc_fail(what, "the signature does not verify over the canonical JSON without "
                      "\"signature\"");
    return ok;
}

int tc_bind_pubkey(const char *role, const char *have_hex, const uint8_t pub[32])
{
    uint8_t have[32];
    char what[96], want_hex[65];
    snprintf(what, sizeof what, "%s: publicKey is the key given with --pubkey", role);
    rt_hex_encode(pub, 32, want_hex);
    if (rt_hex_decode(have_hex, strlen(have_hex), have, 32) != 0 || memcmp(have, pub, 32) != 0) {
        tc_fail(what, "it is %s, expected %s", have_hex, want_hex);
        return 0;
    }
    tc_ok("%s", what);
    return 1;
}

/* The checks of a signed tree head th found at label ("report: treeHead").
 * Returns 1 if its signature verifies. */
static int tree_head_sig(struct json_object *th, const char *label)
{
    char what[256];
    snprintf(what, sizeof what, "%s signature (Ed25519 by treeHead.publicKey)", label);
    return tc_verify_signed(th, "publicKey", what);
}

/* ------------------------------------------------------------ reports */

int tc_verify_report(struct json_object *r, const char *role)
{
    char what[160];
    if (!tc_shape(r, &toy_rec_report_rec, NULL, role))
        return -1;
    int ok = 1;

    snprintf(what, sizeof what, "%s: signature (Ed25519 by publicKey over the canonical JSON "
                                "without \"signature\")", role);
    ok &= tc_verify_signed(r, "publicKey", what);

    snprintf(what, sizeof what, "%s: treeHead", role);
    struct json_object *th = tc_get(r, "treeHead");
    ok &= tree_head_sig(th, what);

    snprintf(what, sizeof what, "%s: treeHead.publicKey is publicKey", role);
    if (str_eq(r, "treeHead.publicKey", r, "publicKey")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "%s differs from %s", tc_str(r, "treeHead.publicKey"), tc_str(r, "publicKey"));
        ok = 0;
    }

    char digest[80];
    snprintf(digest, sizeof digest, "sha256:%s", tc_str(r, "treeHead.root"));
    snprintf(what, sizeof what, "%s: summary.auditLogDigest is \"sha256:\" + treeHead.root", role);
    if (strcmp(tc_str(r, "summary.auditLogDigest"), digest) == 0 &&
        tc_strlen(r, "summary.auditLogDigest") == strlen(digest)) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "it is \"%s\", expected \"%s\"", tc_str(r, "summary.auditLogDigest"), digest);
        ok = 0;
    }

    if (tc_int(r, "treeHead.treeSize") == 0) {
        uint8_t empty[32], root[32];
        rt_merkle_empty_root(empty);
        snprintf(what, sizeof what, "%s: an empty log has the empty root", role);
        if (member_bytes(r, "treeHead.root", root, 32) == 0 && memcmp(root, empty, 32) == 0) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "treeSize is 0 but root is not SHA-256(\"\")");
            ok = 0;
        }
    }

    static const char *const pairs[][2] = {
        { "summary.window.usersProcessed", "summary.totalUsersProcessed" },
        { "summary.window.safeApiCalls", "summary.totalSafeApiCalls" },
        { "summary.window.signups", "summary.totalSignups" },
        { "summary.window.deletions", "summary.totalDeletions" },
    };
    snprintf(what, sizeof what, "%s: window figures are within the totals", role);
    int win_ok = 1;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0] && win_ok; i++) {
        if (tc_int(r, pairs[i][0]) > tc_int(r, pairs[i][1])) {
            tc_fail(what, "%s = %lld exceeds %s = %lld", pairs[i][0],
                    (long long)tc_int(r, pairs[i][0]), pairs[i][1],
                    (long long)tc_int(r, pairs[i][1]));
            win_ok = 0;
        }
    }
    if (win_ok)
        tc_ok("%s", what);
    ok &= win_ok;

    char ts[32], te[32];
    snprintf(what, sizeof what, "%s: timeWindow.start <= timeWindow.end", role);
    if (tc_time_norm(tc_str(r, "timeWindow.start"), tc_strlen(r, "timeWindow.start"), ts) != 0 ||
        tc_time_norm(tc_str(r, "timeWindow.end"), tc_strlen(r, "timeWindow.end"), te) != 0) {
        tc_fail(what, "\"%s\" / \"%s\": not RFC 3339 UTC timestamps (YYYY-MM-DDTHH:MM:SS[.fff]Z)",
                tc_str(r, "timeWindow.start"), tc_str(r, "timeWindow.end"));
        ok = 0;
    } else if (strcmp(ts, te) > 0) {
        tc_fail(what, "the window starts at %s, after its end %s", tc_str(r, "timeWindow.start"),
                tc_str(r, "timeWindow.end"));
        ok = 0;
    } else {
        tc_ok("%s", what);
    }

    snprintf(what, sizeof what, "%s: previousTreeSize <= treeHead.treeSize", role);
    if (tc_int(r, "previousTreeSize") > tc_int(r, "treeHead.treeSize")) {
        tc_fail(what, "%lld > %lld: the log cannot shrink", (long long)tc_int(r, "previousTreeSize"),
                (long long)tc_int(r, "treeHead.treeSize"));
        ok = 0;
    } else if (!tc_get(r, "previousReportId") && tc_int(r, "previousTreeSize") != 0) {
        /* No previous report means nothing was covered before this one. */
        tc_fail(what, "previousReportId is null but previousTreeSize is %lld",
                (long long)tc_int(r, "previousTreeSize"));
        ok = 0;
    } else {
        tc_ok("%s", what);
    }
    return ok;
}

/* ------------------------------------------------------------ receipts */

/* The batch: the entry (leaf) -> doc.batchHead.root through doc.batchIndex
 * and doc.inclusionPath -> the batch head's signature.  Lines are prefixed
 * with role.  Returns 1 if both hold. */
static int in_batch(struct json_object *doc, const uint8_t leaf[RT_MERKLE_HASH], const char *role)
{
    char what[160];
    uint8_t root[RT_MERKLE_HASH];
    size_t np;
    uint8_t (*path)[RT_MERKLE_HASH] = hash_list(tc_get(doc, "inclusionPath"), &np);
    int64_t bi = tc_int(doc, "batchIndex"), bs = tc_int(doc, "batchHead.size");
    int ok = 1;
    snprintf(what, sizeof what, "%s: audit entry is leaf %lld of batch %lld (size %lld)", role,
             (long long)bi, (long long)tc_int(doc, "batchHead.batchId"), (long long)bs);
    if (member_bytes(doc, "batchHead.root", root, sizeof root) == 0 &&
        rt_merkle_verify_inclusion((uint64_t)bi, (uint64_t)bs, leaf,
                                   (const uint8_t (*)[RT_MERKLE_HASH])path, np, root) == 1) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "inclusionPath (%zu hashes) does not lead from the entry's leaf hash to "
                      "batchHead.root", np);
        ok = 0;
    }
    free(path);
    snprintf(what, sizeof what, "%s: batchHead signature (Ed25519 by batchHead.publicKey)", role);
    return tc_verify_signed(tc_get(doc, "batchHead"), "publicKey", what) && ok;
}

int tc_verify_receipt(struct json_object *rc, struct json_object *pf, const uint8_t *pub,
                      const char *payload)
{
    int shape_rc = tc_shape(rc, &toy_resp_submit_data_rec, &toy_audit_data_received_rec, "receipt");
    int shape_pf = tc_shape(pf, &toy_resp_receipt_proof_rec, NULL, "receipt proof");
    if (!shape_rc || !shape_pf)
        return 0;
    int ok = 1;
    char what[160], err[256];
    struct json_object *entry = tc_get(rc, "auditEntry");
    size_t np;
    uint8_t (*path)[RT_MERKLE_HASH];

    /* The receipt's own fields are not signed: they count only because
     * they equal the audit entry's, which the leaf hash covers. */
    snprintf(what, sizeof what, "receipt: receiptId is the audit entry's and the proof's");
    if (str_eq(rc, "receiptId", rc, "auditEntry.receiptId") && str_eq(rc, "receiptId", pf, "receiptId")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "receipt \"%s\", audit entry \"%s\", proof \"%s\"", tc_str(rc, "receiptId"),
                tc_str(rc, "auditEntry.receiptId"), tc_str(pf, "receiptId"));
        ok = 0;
    }
    static const char *const same[] = { "safeDerivative", "userIdHash", "payloadCommitment" };
    snprintf(what, sizeof what, "receipt: safeDerivative, userIdHash, payloadCommitment are the "
                                "audit entry's");
    int same_ok = 1;
    for (size_t i = 0; i < 3 && same_ok; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "auditEntry.%s", same[i]);
        if (!str_eq(rc, same[i], rc, ep)) {
            tc_fail(what, "%s is \"%s\" in the receipt but \"%s\" in the audit entry", same[i],
                    tc_str(rc, same[i]), tc_str(rc, ep));
            same_ok = 0;
        }
    }
    if (same_ok)
        tc_ok("%s", what);
    ok &= same_ok;

    uint8_t leaf[RT_MERKLE_HASH], root[RT_MERKLE_HASH];
    if (leaf_of(entry, leaf, err, sizeof err) != 0) {
        tc_fail("receipt: audit entry leaf hash", "%s", err);
        return 0;
    }
    ok &= in_batch(rc, leaf, "receipt");

    /* The log: entry -> tree root -> tree head signature. */
    char lh[65];
    rt_hex_encode(leaf, sizeof leaf, lh);
    snprintf(what, sizeof what, "receipt proof: leafHash is the audit entry's leaf hash");
    if (strcmp(tc_str(pf, "leafHash"), lh) == 0) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "it is %s, the entry hashes to %s", tc_str(pf, "leafHash"), lh);
        ok = 0;
    }
    snprintf(what, sizeof what, "receipt proof: treeSize is treeHead.treeSize");
    if (tc_int(pf, "treeSize") == tc_int(pf, "treeHead.treeSize")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "%lld != %lld", (long long)tc_int(pf, "treeSize"),
                (long long)tc_int(pf, "treeHead.treeSize"));
        ok = 0;
    }
    path = hash_list(tc_get(pf, "path"), &np);
    int64_t li = tc_int(pf, "leafIndex");
    /* Size and root both from the signed head: a path alone can fit
     * several sizes (rt_merkle.h). */
    int64_t ts = tc_int(pf, "treeHead.treeSize");
    snprintf(what, sizeof what, "receipt proof: audit entry is leaf %lld of the log (size %lld)",
             (long long)li, (long long)ts);
    if (member_bytes(pf, "treeHead.root", root, sizeof root) == 0 &&
        rt_merkle_verify_inclusion((uint64_t)li, (uint64_t)ts, leaf,
                                   (const uint8_t (*)[RT_MERKLE_HASH])path, np, root) == 1) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "path (%zu hashes) does not lead from the entry's leaf hash to "
                      "treeHead.root", np);
        ok = 0;
    }
    free(path);
    ok &= tree_head_sig(tc_get(pf, "treeHead"), "receipt proof: treeHead");
    snprintf(what, sizeof what, "receipt proof: treeHead.publicKey is batchHead.publicKey");
    if (str_eq(pf, "treeHead.publicKey", rc, "batchHead.publicKey")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "%s differs from %s", tc_str(pf, "treeHead.publicKey"),
                tc_str(rc, "batchHead.publicKey"));
        ok = 0;
    }

    if (payload) {
        uint8_t salt[256], commit[32], want[32];
        size_t sn = tc_strlen(rc, "salt") / 2;
        snprintf(what, sizeof what, "receipt: payloadCommitment is SHA-256(salt || payload)");
        if (sn > sizeof salt || rt_hex_decode(tc_str(rc, "salt"), tc_strlen(rc, "salt"), salt, sn) != 0 ||
            member_bytes(rc, "payloadCommitment", want, 32) != 0) {
            tc_fail(what, "salt is not hex of at most %zu bytes", sizeof salt);
            ok = 0;
        } else {
            tc_sha256(salt, sn, payload, strlen(payload), commit);
            if (memcmp(commit, want, 32) == 0) {
                tc_ok("%s", what);
            } else {
                tc_fail(what, "the salt and the given payload do not hash to payloadCommitment");
                ok = 0;
            }
        }
    } else {
        tc_note("salt not checked (use --payload TEXT to check which payload the receipt "
                "commits to)");
    }
    {
        uint8_t tok[32], want[32], got[32];
        snprintf(what, sizeof what, "receipt: deletionToken hashes to the audit entry's deletionTokenHash");
        if (member_bytes(rc, "deletionToken", tok, 32) != 0 ||
            member_bytes(rc, "auditEntry.deletionTokenHash", want, 32) != 0) {
            tc_fail(what, "deletionToken or auditEntry.deletionTokenHash is not 32 bytes of hex");
            ok = 0;
        } else {
            tc_sha256(tok, 32, NULL, 0, got);
            if (memcmp(got, want, 32) == 0) {
                tc_ok("%s", what);
            } else {
                tc_fail(what, "SHA-256(deletionToken) differs from auditEntry.deletionTokenHash");
                ok = 0;
            }
        }
    }
    if (pub)
        ok &= tc_bind_pubkey("receipt: batchHead", tc_str(rc, "batchHead.publicKey"), pub);
    else
        tc_note("publicKey not bound (use --pubkey)");
    return ok;
}

/* ----------------------------------------------------------------- log */

int tc_verify_log(struct json_object *o, struct json_object *n, struct json_object *pf,
                  const uint8_t *pub)
{
    char what[200];
    int ro = tc_verify_report(o, "old report");
    int rn = tc_verify_report(n, "new report");
    int ok = ro == 1 && rn == 1;
    int sp = pf ? tc_shape(pf, &toy_resp_log_consistency_rec, NULL, "consistency proof") : 1;
    if (ro < 0 || rn < 0 || !sp)
        return 0;

    snprintf(what, sizeof what, "both reports have the same publicKey");
    if (str_eq(o, "publicKey", n, "publicKey")) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "old %s, new %s", tc_str(o, "publicKey"), tc_str(n, "publicKey"));
        ok = 0;
    }

    if (str_eq(o, "reportId", n, "reportId")) {
        /* Two different signed documents under one id would be equivocation. */
        size_t la, lb;
        char err[256];
        char *ca = tc_canon(o, NULL, &la, err, sizeof err), *cb = tc_canon(n, NULL, &lb, err, sizeof err);
        snprintf(what, sizeof what, "reports with the same reportId are identical");
        if (ca && cb && la == lb && memcmp(ca, cb, la) == 0) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "two different reports are both \"%s\"", tc_str(o, "reportId"));
            ok = 0;
        }
        free(ca);
        free(cb);
    }

    int64_t m = tc_int(o, "treeHead.treeSize"), sz = tc_int(n, "treeHead.treeSize");
    uint8_t root_m[32], root_n[32];
    member_bytes(o, "treeHead.root", root_m, 32);
    member_bytes(n, "treeHead.root", root_n, 32);

    size_t np = 0;
    uint8_t (*path)[RT_MERKLE_HASH] = NULL;
    if (pf) {
        snprintf(what, sizeof what, "consistency proof: from/to are the old/new tree sizes");
        if (tc_int(pf, "from") == m && tc_int(pf, "to") == sz) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "proof is from %lld to %lld, the reports' trees have %lld and %lld leaves",
                    (long long)tc_int(pf, "from"), (long long)tc_int(pf, "to"), (long long)m,
                    (long long)sz);
            ok = 0;
        }
        snprintf(what, sizeof what, "consistency proof: treeHead is the new report's (size, root, key)");
        if (tc_int(pf, "treeHead.treeSize") == sz && str_eq(pf, "treeHead.root", n, "treeHead.root") &&
            str_eq(pf, "treeHead.publicKey", n, "treeHead.publicKey")) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "proof head: size %lld root %s; new report: size %lld root %s",
                    (long long)tc_int(pf, "treeHead.treeSize"), tc_str(pf, "treeHead.root"),
                    (long long)sz, tc_str(n, "treeHead.root"));
            ok = 0;
        }
        /* Its own signature too, so no field of the proof goes unchecked. */
        ok &= tree_head_sig(tc_get(pf, "treeHead"), "consistency proof: treeHead");
        path = hash_list(tc_get(pf, "path"), &np);
    }

    snprintf(what, sizeof what, "the new log (size %lld) extends the old log (size %lld)",
             (long long)sz, (long long)m);
    if (!pf) {
        tc_fail(what, "no --proof given");
        ok = 0;
    } else if (rt_merkle_verify_consistency((uint64_t)m, (uint64_t)sz, root_m, root_n,
                                            (const uint8_t (*)[RT_MERKLE_HASH])path, np) == 1) {
        tc_ok("%s", what);
    } else if (m == 0) {
        tc_fail(what, "from the empty log the proof is empty and the old root the empty tree's; "
                      "here %zu hashes%s", np, np ? "" : " and another root");
        ok = 0;
    } else if (m == sz) {
        tc_fail(what, "same size but %s", memcmp(root_m, root_n, 32) ? "different roots (a fork)"
                                                                      : "a non-empty proof");
        ok = 0;
    } else {
        tc_fail(what, "the consistency path (%zu hashes) does not connect the two roots%s", np,
                m > sz ? " (the old log is larger)" : "");
        ok = 0;
    }
    free(path);

    if (str_eq(n, "previousReportId", o, "reportId") && tc_get(n, "previousReportId")) {
        snprintf(what, sizeof what, "new report's previousTreeSize is the old report's treeSize");
        if (tc_int(n, "previousTreeSize") == m) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "%lld != %lld", (long long)tc_int(n, "previousTreeSize"), (long long)m);
            ok = 0;
        }
        /* A report's window is what happened since its predecessor: the
         * window starts where the old one ended, and its figures are the
         * differences of the totals. */
        char a[32], b[32];
        snprintf(what, sizeof what, "new report's window starts where the old report's ended");
        if (tc_time_norm(tc_str(n, "timeWindow.start"), tc_strlen(n, "timeWindow.start"), a) == 0 &&
            tc_time_norm(tc_str(o, "timeWindow.end"), tc_strlen(o, "timeWindow.end"), b) == 0 &&
            strcmp(a, b) == 0) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "new start %s, old end %s", tc_str(n, "timeWindow.start"),
                    tc_str(o, "timeWindow.end"));
            ok = 0;
        }
        static const char *const fig[][2] = {
            { "usersProcessed", "totalUsersProcessed" },
            { "safeApiCalls", "totalSafeApiCalls" },
            { "signups", "totalSignups" },
            { "deletions", "totalDeletions" },
        };
        snprintf(what, sizeof what, "new report's window figures are its totals minus the old "
                                    "report's totals");
        int fok = 1;
        for (size_t i = 0; i < 4 && fok; i++) {
            char w[64], t[64];
            snprintf(w, sizeof w, "summary.window.%s", fig[i][0]);
            snprintf(t, sizeof t, "summary.%s", fig[i][1]);
            if (tc_int(n, t) - tc_int(o, t) != tc_int(n, w)) {
                tc_fail(what, "%s: new total %lld - old total %lld != window %lld", fig[i][0],
                        (long long)tc_int(n, t), (long long)tc_int(o, t), (long long)tc_int(n, w));
                fok = 0;
            }
        }
        if (fok)
            tc_ok("%s", what);
        ok &= fok;
    } else {
        tc_note("the new report's previousReportId is %s%s%s, not the old report: reports "
                "in between are not checked",
                tc_get(n, "previousReportId") ? "\"" : "",
                tc_get(n, "previousReportId") ? tc_str(n, "previousReportId") : "null",
                tc_get(n, "previousReportId") ? "\"" : "");
    }

    if (pub)
        ok &= tc_bind_pubkey("new report", tc_str(n, "publicKey"), pub);
    else
        tc_note("publicKey not bound (use --pubkey)");
    return ok;
}

/* ------------------------------------------------------------ deletions */

int tc_verify_deletion(struct json_object *d, struct json_object *receipt, const uint8_t *pub)
{
    if (!tc_shape(d, &toy_resp_delete_data_rec, &toy_audit_data_deleted_rec, "deletion"))
        return 0;
    if (receipt && !tc_shape(receipt, &toy_resp_submit_data_rec, &toy_audit_data_received_rec, "receipt"))
        return 0;
    int ok = 1;
    char what[200], err[256];
    snprintf(what, sizeof what, "deletion: deleted is true");
    if (json_object_get_boolean(tc_get(d, "deleted"))) {
        tc_ok("%s", what);
    } else {
        tc_fail(what, "it is false");
        ok = 0;
    }
    /* The answer's own fields count only because they equal the signed
     * entry's and the signed attestation's. */
    static const char *const same[][2] = {
        { "receiptId", "auditEntry.receiptId" }, { "receiptId", "attestation.receiptId" },
        { "userIdHash", "auditEntry.userIdHash" }, { "userIdHash", "attestation.userIdHash" },
        { "attestation.publicKey", "batchHead.publicKey" },
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        snprintf(what, sizeof what, "deletion: %s is %s", same[i][0], same[i][1]);
        if (str_eq(d, same[i][0], d, same[i][1])) {
            tc_ok("%s", what);
        } else {
            tc_fail(what, "\"%s\" against \"%s\"", tc_str(d, same[i][0]), tc_str(d, same[i][1]));
            ok = 0;
        }
    }
    ok &= tc_verify_signed(tc_get(d, "attestation"), "publicKey",
                           "deletion: attestation signature (Ed25519 by attestation.publicKey)");
    uint8_t leaf[RT_MERKLE_HASH];
    if (leaf_of(tc_get(d, "auditEntry"), leaf, err, sizeof err) != 0) {
        tc_fail("deletion: audit entry leaf hash", "%s", err);
        return 0;
    }
    ok &= in_batch(d, leaf, "deletion");
    if (receipt) {
        static const char *const rs[][2] = {
            { "receiptId", "receiptId" }, { "userIdHash", "userIdHash" },
            { "batchHead.publicKey", "attestation.publicKey" },
        };
        for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
            snprintf(what, sizeof what, "deletion: the receipt's %s is the deletion's %s", rs[i][0], rs[i][1]);
            if (str_eq(receipt, rs[i][0], d, rs[i][1])) {
                tc_ok("%s", what);
            } else {
                tc_fail(what, "\"%s\" against \"%s\"", tc_str(receipt, rs[i][0]), tc_str(d, rs[i][1]));
                ok = 0;
            }
        }
    } else {
        tc_note("which receipt was deleted not compared with one (use --receipt RECEIPT)");
    }
    if (pub)
        ok &= tc_bind_pubkey("deletion: attestation", tc_str(d, "attestation.publicKey"), pub);
    else
        tc_note("publicKey not bound (use --pubkey)");
    return ok;
}
