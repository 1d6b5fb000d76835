/*
 * toyctl_fixtures.c — writes the documents tests/integration/test_toyctl.sh
 * verifies with toyctl: reports, a consistency proof, a receipt with its
 * proof and a sim attestation, all as the service would serve them.
 *
 * They are made the way the service makes its own: records filled in the
 * structs specc generates and serialized by rt_ser from the generated
 * tables, signed over rt_ser's RT_SER_UNSIGNED bytes with an Ed25519 key
 * derived by the sim TEE provider from a fixed seed, Merkle trees and proofs
 * from rt_merkle.  toyctl shares none of that path (it parses the JSON and
 * canonicalizes it itself), so a disagreement between the two shows up as a
 * failed verification.
 *
 * Usage: toyctl_fixtures OUTDIR   (OUTDIR must exist)
 *
 * The log has 13 entries; the reports cover sizes 0, 6 and 13, each naming
 * the previous one; entries 7..12 form one signed batch; the receipt is
 * entry 9 (index 2 of its batch).  Everything but the sim quote's ECDSA
 * signature (randomized by OpenSSL) is the same on every run.
 *
 * Files: sim.seed, pubkey.hex, report_empty.json (size 0), old_report.json
 * (size 6), new_report.json (size 13), report.json (= new_report.json),
 * report_dstack.json (size 13, teeProvider dstack, composeHash of the
 * recorded dstack quote in tests/data/tee), consistency.json (6 -> 13),
 * consistency_same.json (13 -> 13), consistency_0.json (0 -> 6), receipt.json, receipt_proof.json,
 * payload.txt, attestation.json (nonce in nonce.txt),
 * attestation_nononce.json (empty nonce), collateral.json (the sim
 * platform's DCAP collateral, valid now).
 *
 * Build it with -DTOYCTL_FIXTURES_MAIN.  Without that macro the file is
 * empty, because the build links every non-test_ file of tests/unit into
 * each unit test as a helper, and a second main() would break them all.
 */
#ifdef TOYCTL_FIXTURES_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rt_json.h"
#include "rt_merkle.h"
#include "rt_ser.h"
#include "rt_tee.h"
#include "toy_spec.h"

#include <openssl/evp.h>

#define NLEAVES 13
#define BATCH_FIRST 7
#define RECEIPT_LEAF 9
#define OLD_SIZE 6
#define PAYLOAD "Saturday movie night with the family, age: 34"
#define NONCE "auditor-nonce-7f3a"
/* The compose hash measured in tests/data/tee/dstack-getquote-a.json. */
#define DSTACK_COMPOSE "3763bc34552cf3a27ff71ad5f7a90471562a1a2df552dfc1998cba2d60da27e7"

static const char *outdir;
static uint8_t seed[32], pub[32];

static void die(const char *what)
{
    fprintf(stderr, "toyctl_fixtures: %s\n", what);
    exit(1);
}

static void sha256(const void *a, size_t na, const void *b, size_t nb, uint8_t out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(c, a, na) != 1 ||
        (nb && EVP_DigestUpdate(c, b, nb) != 1) || EVP_DigestFinal_ex(c, out, NULL) != 1)
        die("SHA-256 failed");
    EVP_MD_CTX_free(c);
}

/* rt_ser into a malloc'd buffer, growing it until the record fits. */
static char *ser(const rt_record *rec, const void *obj, unsigned flags, size_t *len)
{
    for (size_t cap = 4096;; cap *= 4) {
        char *buf = malloc(cap);
        rt_jw w;
        if (!buf)
            die("out of memory");
        rt_jw_init(&w, buf, cap);
        rt_ser(&w, rec, obj, flags);
        int rc = rt_jw_finish(&w);
        if (rc == RT_JW_OK) {
            *len = w.len;
            return buf;
        }
        free(buf);
        if (rc != RT_JW_E_SPACE || cap > (1u << 26))
            die(rt_jw_strerror(rc));
    }
}

/* The service's signature: Ed25519 over the record without its signature
 * fields (sign_record in src/toyapp/common.c). */
static void sign(const rt_record *rec, const void *obj, uint8_t sig[64])
{
    size_t n;
    char *msg = ser(rec, obj, RT_SER_UNSIGNED, &n);
    if (rt_ed25519_sign(seed, (const uint8_t *)msg, n, sig) != 0)
        die("Ed25519 signing failed");
    free(msg);
}

static void write_file(const char *name, const void *data, size_t n, int mode)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd) != 0) {
        perror(path);
        exit(1);
    }
}

static void write_rec(const char *name, const rt_record *rec, const void *obj)
{
    size_t n;
    char *j = ser(rec, obj, 0, &n);
    write_file(name, j, n, 0644);
    free(j);
}

/* ------------------------------------------------------------ the log */

static char *entries[NLEAVES];
static size_t entry_len[NLEAVES];
static uint8_t leaves[NLEAVES][32];

static const char *stamp(int i)
{
    static char buf[NLEAVES][32];
    snprintf(buf[i], sizeof buf[i], "2025-01-0%dT%02d:%02d:00.%03dZ", 1 + i / 6, 8 + i % 6, i * 4, i * 37);
    return buf[i];
}

static rt_str S(const char *s)
{
    return (rt_str){ s, strlen(s) };
}

static void user_hash(int u, uint8_t out[32])
{
    char name[32];
    snprintf(name, sizeof name, "fixture user %d", u);
    sha256(name, strlen(name), NULL, 0, out);
}

static uint8_t salt[32], token[32], commitment[32];
static char receipt_id[] = "rcpt_01JH3QZ9X4TK2M8V5N7PBD6CFE";

static void make_log(void)
{
    static const char *const report_ids[] = { "report_20250101", "report_20250102" };
    for (int i = 0; i < NLEAVES; i++) {
        const rt_str cvm = S("cvm-fixture-1"), ts = S(stamp(i));
        if (i == 0 || i == OLD_SIZE) {
            toy_audit_report_generated a = { .cvmId = cvm, .timestamp = ts,
                                             .reportId = S(report_ids[i ? 1 : 0]),
                                             .treeSize = (uint64_t)i };
            entries[i] = ser(&toy_audit_report_generated_rec, &a, 0, &entry_len[i]);
        } else if (i == 3 || i == 10) {
            toy_audit_safe_api_call a = { .cvmId = cvm, .timestamp = ts,
                                          .endpoint = S("/api/watch_history"), .status = 200,
                                          .items = (uint64_t)(i + 2) };
            entries[i] = ser(&toy_audit_safe_api_call_rec, &a, 0, &entry_len[i]);
        } else if (i == 4 || i == 8 || i == RECEIPT_LEAF || i == 11) {
            toy_audit_data_received a = { .cvmId = cvm, .timestamp = ts };
            char *id = i == RECEIPT_LEAF ? receipt_id : malloc(32);
            if (!id)
                die("out of memory");
            if (i != RECEIPT_LEAF)
                snprintf(id, 32, "rcpt_other_%02d", i);
            a.receiptId = S(id);
            user_hash(i, a.userIdHash);
            if (i == RECEIPT_LEAF) {
                memcpy(a.payloadCommitment, commitment, 32);
                sha256(token, sizeof token, "", 0, a.deletionTokenHash);
            } else {
                sha256(id, strlen(id), "commit", 6, a.payloadCommitment);
                sha256(id, strlen(id), "token", 5, a.deletionTokenHash);
            }
            /* Raw label indexes: entertainment / 26-35 for the receipt. */
            a.safeDerivative.category = (uint8_t)(i == RECEIPT_LEAF ? 0 : i % 6);
            a.safeDerivative.bracket = (uint8_t)(i == RECEIPT_LEAF ? 2 : i % 6);
            entries[i] = ser(&toy_audit_data_received_rec, &a, 0, &entry_len[i]);
            if (i != RECEIPT_LEAF)
                free(id);
        } else {
            toy_audit_signup a = { .cvmId = cvm, .timestamp = ts };
            user_hash(i, a.userIdHash);
            entries[i] = ser(&toy_audit_signup_rec, &a, 0, &entry_len[i]);
        }
        rt_merkle_leaf((const uint8_t *)entries[i], entry_len[i], leaves[i]);
    }
}

/* A signed tree head over the first size leaves. */
typedef struct head {
    toy_rec_tree_head th;
    uint8_t sig[64];
} head;

static void make_head(head *h, uint64_t size, const char *ts)
{
    memset(h, 0, sizeof *h);
    h->th.treeSize = size;
    rt_merkle_root((const uint8_t (*)[32])leaves, (size_t)size, h->th.root);
    h->th.timestamp = S(ts);
    h->th.publicKey = (rt_bytes){ pub, 32 };
    sign(&toy_rec_tree_head_rec, &h->th, h->sig);
    h->th.signature = (rt_bytes){ h->sig, 64 };
}

/* ------------------------------------------------------------ reports */

typedef struct figures {
    uint64_t users, calls, signups, deletions;
} figures;

static void make_report(const char *file, const char *id, const char *start, const char *end,
                        const head *h, const figures *tot, const figures *prev,
                        const char *prev_id, uint64_t prev_size, const char *provider,
                        const char *compose)
{
    static char digest[80];
    static uint8_t sig[64];
    snprintf(digest, sizeof digest, "sha256:");
    for (int i = 0; i < 32; i++)
        snprintf(digest + 7 + 2 * i, 3, "%02x", h->th.root[i]);
    toy_rec_report r = {
        .reportId = S(id), .generatedAt = S(end),
        .timeWindow = { S(start), S(end) },
        .enclaveVersion = S("0.3.0"), .composeHash = S(compose), .teeProvider = S(provider),
        .summary = { tot->users, tot->calls, tot->signups, tot->deletions, S(digest),
                     { tot->users - prev->users, tot->calls - prev->calls,
                       tot->signups - prev->signups, tot->deletions - prev->deletions } },
        .treeHead = h->th, .leakageBound = S(TOY_LEAKAGE_SUBMIT_DATA),
        .previousReportId = S(prev_id ? prev_id : ""), .previousReportId_null = !prev_id,
        .previousTreeSize = prev_size, .publicKey = { pub, 32 },
    };
    sign(&toy_rec_report_rec, &r, sig);
    r.signature = (rt_bytes){ sig, 64 };
    write_rec(file, &toy_rec_report_rec, &r);
}

/* --------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: toyctl_fixtures OUTDIR\n");
        return 2;
    }
    outdir = argv[1];

    /* A fixed sim seed, so the keys are the same on every run. */
    uint8_t sim_seed[RT_TEE_SEED_LEN];
    sha256("toyctl fixtures sim seed", 24, NULL, 0, sim_seed);
    char seed_path[4096];
    snprintf(seed_path, sizeof seed_path, "%s/sim.seed", outdir);
    unlink(seed_path);
    write_file("sim.seed", sim_seed, sizeof sim_seed, 0600);
    const char *err = NULL;
    rt_tee *t = rt_tee_open("sim", seed_path, "toyapp", &err);
    if (!t)
        die(err ? err : "rt_tee_open failed");
    if (rt_tee_ed25519(t, "toyapp/ed25519/signing/v1", seed, pub) != 0)
        die(rt_tee_error(t));
    rt_tee_info_t info;
    if (rt_tee_info(t, &info) != 0)
        die(rt_tee_error(t));
    char pub_hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(pub_hex + 2 * i, 3, "%02x", pub[i]);
    write_file("pubkey.hex", pub_hex, 64, 0644);

    for (int i = 0; i < 32; i++) {
        salt[i] = (uint8_t)(0xA0 + i);
        token[i] = (uint8_t)(0x51 * i + 7);
    }
    sha256(salt, sizeof salt, PAYLOAD, strlen(PAYLOAD), commitment);
    write_file("payload.txt", PAYLOAD, strlen(PAYLOAD), 0644);
    make_log();

    /* Reports at sizes 0, 6 and 13, each window starting where the last
     * one ended and its figures the differences of the totals. */
    head h0, h1, h2;
    make_head(&h0, 0, "2025-01-01T00:00:00.000Z");
    make_head(&h1, OLD_SIZE, "2025-01-02T00:00:00.000Z");
    make_head(&h2, NLEAVES, "2025-01-03T00:00:00.000Z");
    figures f0 = { 0, 0, 0, 0 }, f1 = { 1, 1, 3, 0 }, f2 = { 4, 2, 5, 1 };
    make_report("report_empty.json", "report_20250101", "2025-01-01T00:00:00.000Z",
                "2025-01-01T00:00:00.000Z", &h0, &f0, &f0, NULL, 0, "sim", info.compose_hash);
    make_report("old_report.json", "report_20250102", "2025-01-01T00:00:00.000Z",
                "2025-01-02T00:00:00.000Z", &h1, &f1, &f0, "report_20250101", 0, "sim",
                info.compose_hash);
    make_report("new_report.json", "report_20250103", "2025-01-02T00:00:00.000Z",
                "2025-01-03T00:00:00.000Z", &h2, &f2, &f1, "report_20250102", OLD_SIZE, "sim",
                info.compose_hash);
    make_report("report.json", "report_20250103", "2025-01-02T00:00:00.000Z",
                "2025-01-03T00:00:00.000Z", &h2, &f2, &f1, "report_20250102", OLD_SIZE, "sim",
                info.compose_hash);
    make_report("report_dstack.json", "report_20250103", "2025-01-02T00:00:00.000Z",
                "2025-01-03T00:00:00.000Z", &h2, &f2, &f1, "report_20250102", OLD_SIZE,
                "dstack", DSTACK_COMPOSE);

    /* Consistency proofs 6 -> 13 and 13 -> 13. */
    uint8_t cp[RT_MERKLE_MAX_PROOF][32];
    int nc = rt_merkle_consistency_proof_mem((const uint8_t (*)[32])leaves, NLEAVES, OLD_SIZE,
                                             NLEAVES, cp, RT_MERKLE_MAX_PROOF);
    if (nc < 0)
        die("consistency proof failed");
    toy_resp_log_consistency lc = { .from = OLD_SIZE, .to = NLEAVES,
                                    .path = { cp, (size_t)nc }, .treeHead = h2.th };
    write_rec("consistency.json", &toy_resp_log_consistency_rec, &lc);
    toy_resp_log_consistency same = { .from = NLEAVES, .to = NLEAVES, .path = { cp, 0 },
                                      .treeHead = h2.th };
    write_rec("consistency_same.json", &toy_resp_log_consistency_rec, &same);
    /* From the empty log (report_empty.json) to 6: the empty proof. */
    toy_resp_log_consistency from0 = { .from = 0, .to = OLD_SIZE, .path = { cp, 0 }, .treeHead = h1.th };
    write_rec("consistency_0.json", &toy_resp_log_consistency_rec, &from0);

    /* The receipt: entry 9 is index 2 of the batch of entries 7..12. */
    const size_t bsize = NLEAVES - BATCH_FIRST, bidx = RECEIPT_LEAF - BATCH_FIRST;
    static uint8_t bsig[64];
    toy_rec_batch_head bh = { .batchId = 5, .size = bsize, .cvmId = S("cvm-fixture-1"),
                              .timestamp = S(stamp(RECEIPT_LEAF)), .publicKey = { pub, 32 } };
    rt_merkle_root((const uint8_t (*)[32])(leaves + BATCH_FIRST), bsize, bh.root);
    sign(&toy_rec_batch_head_rec, &bh, bsig);
    bh.signature = (rt_bytes){ bsig, 64 };
    uint8_t bp[RT_MERKLE_MAX_PROOF][32];
    int nb = rt_merkle_inclusion_proof_mem((const uint8_t (*)[32])(leaves + BATCH_FIRST), bsize,
                                           bidx, bsize, bp, RT_MERKLE_MAX_PROOF);
    if (nb < 0)
        die("batch inclusion proof failed");
    toy_resp_submit_data rc = {
        .receiptId = S(receipt_id),
        .salt = { salt, 32 }, .deletionToken = { token, 32 },
        .auditEntry = { entries[RECEIPT_LEAF], entry_len[RECEIPT_LEAF] },
        .batchHead = bh, .batchIndex = bidx, .inclusionPath = { bp, (size_t)nb },
    };
    rc.safeDerivative.category = 0;
    rc.safeDerivative.bracket = 2;
    user_hash(RECEIPT_LEAF, rc.userIdHash);
    memcpy(rc.payloadCommitment, commitment, 32);
    write_rec("receipt.json", &toy_resp_submit_data_rec, &rc);

    uint8_t lp[RT_MERKLE_MAX_PROOF][32];
    int nl = rt_merkle_inclusion_proof_mem((const uint8_t (*)[32])leaves, NLEAVES, RECEIPT_LEAF,
                                           NLEAVES, lp, RT_MERKLE_MAX_PROOF);
    if (nl < 0)
        die("log inclusion proof failed");
    toy_resp_receipt_proof pr = { .receiptId = S(receipt_id), .leafIndex = RECEIPT_LEAF,
                                  .treeSize = NLEAVES, .path = { lp, (size_t)nl },
                                  .treeHead = h2.th };
    memcpy(pr.leafHash, leaves[RECEIPT_LEAF], 32);
    write_rec("receipt_proof.json", &toy_resp_receipt_proof_rec, &pr);

    /* Attestations: report_data = SHA-256(key) || SHA-256(nonce), or zero
     * bytes for the nonce half when there is none. */
    for (int with_nonce = 1; with_nonce >= 0; with_nonce--) {
        uint8_t rd[64], *q = NULL;
        size_t qn = 0;
        char *log = NULL;
        sha256(pub, 32, NULL, 0, rd);
        if (with_nonce)
            sha256(NONCE, strlen(NONCE), NULL, 0, rd + 32);
        else
            memset(rd + 32, 0, 32);
        if (rt_tee_quote(t, rd, &q, &qn, &log) != 0)
            die(rt_tee_error(t));
        toy_resp_attestation a = { .quote = { q, qn }, .eventLog = S(log),
                                   .reportData = { rd, 64 }, .nonce = S(with_nonce ? NONCE : ""),
                                   .teeProvider = S("sim"), .publicKey = { pub, 32 },
                                   .enclaveAddress_null = 1 };
        write_rec(with_nonce ? "attestation.json" : "attestation_nononce.json",
                  &toy_resp_attestation_rec, &a);
        free(q);
        free(log);
    }
    write_file("nonce.txt", NONCE, strlen(NONCE), 0644);
    /* The sim platform's DCAP collateral, valid from a day ago for 30 days. */
    char *col = NULL;
    if (rt_tee_collateral(t, (int64_t)time(NULL), &col) != 0)
        die(rt_tee_error(t));
    write_file("collateral.json", col, strlen(col), 0644);
    free(col);

    for (int i = 0; i < NLEAVES; i++)
        free(entries[i]);
    rt_tee_close(t);
    return 0;
}
#endif /* TOYCTL_FIXTURES_MAIN */
