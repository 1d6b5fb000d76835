/*
 * toyctl.h — declarations shared by the files of toyctl, the auditor's
 * offline verifier.
 *
 *   json.c    strict JSON parsing into json-c trees, and the RFC 8785
 *             canonical form of such a tree (the bytes that are signed)
 *   check.c   the "ok / FAIL / note" report lines, hex, SHA-256, file input
 *   shape.c   checks a document against the spec's generated record tables
 *   verify.c  signatures, tree heads, reports, receipts, log consistency,
 *             deletions
 *   attest.c  the attestation document: quote, report_data binding, event log
 *   quote.c   the quote checks: DCAP (rt_dcap), event log replay (rt_evlog),
 *             report_data, the app-compose file
 *   fetch.c   the one network client: HTTP GET of an instance's metadata port
 *   compare.c compare-instances: every CVM attested, measurements compared
 *   ipfs.c    IPFS: a file's CID, a CAR of files, the check of a CAR
 *   compose.c the compose hash of a dstack app-compose.json
 *   main.c    the command line
 *
 * Only compare-instances uses the network (fetch.c, the one file allowed
 * to): every other command verifies files the auditor already has, which
 * is what makes the verdict reproducible by anyone.
 */
#ifndef TOYCTL_H
#define TOYCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "rt_dcap.h"
#include "rt_evlog.h"
#include "rt_hex.h"
#include "rt_ser.h"

/* Largest input file accepted, in bytes: far above any real report, proof
 * or quote, low enough that a wrong file cannot exhaust memory. */
#define TC_MAX_INPUT (64u << 20)

/* ---------------------------------------------------------------- json.c */

/*
 * Parses buf[0..n) as exactly one JSON value (RFC 8259, with the I-JSON
 * restrictions of RFC 7493 that RFC 8785 relies on) into a json-c tree.
 * Stricter than json-c's own parser on purpose, because a verifier must not
 * see a different document than other tools would:
 *   - duplicate object keys are refused (json-c silently keeps the last);
 *   - strings must be valid UTF-8, escapes must not leave lone surrogates
 *     (json-c would substitute U+FFFD), control characters must be escaped;
 *   - keys must not contain U+0000 (json-c keys are C strings);
 *   - numbers must be integers (no fraction or exponent) of magnitude at
 *     most 2^53-1: every signed number is one, and RFC 8785 cannot represent
 *     larger integers exactly;
 *   - nesting deeper than RT_JW_MAX_DEPTH containers is refused;
 *   - only JSON white space may surround the value (no BOM, no trailer).
 * Returns the tree (release with json_object_put) or NULL with a message
 * naming the line, column and problem in err[0..errcap).
 */
struct json_object *tc_json_parse(const char *buf, size_t n, char *err, size_t errcap);

/*
 * The RFC 8785 canonical JSON of o: object members sorted by UTF-16 code
 * units (rt_json_key_cmp), no white space, integers in plain decimal,
 * strings escaped as RFC 8785 §3.2.2.2 says.  If omit is not NULL and o is
 * an object, its top-level member named omit is left out (nested members
 * with that name are kept): that is how the signed bytes of a record are
 * formed from the record with its signature.
 * Returns a malloc'd buffer (NUL-terminated for convenience; the NUL is not
 * part of the *len bytes), or NULL with err set: a top-level scalar (o must
 * be an object or an array), a double, or anything the writer refuses
 * (rt_jw_strerror).
 */
char *tc_canon(struct json_object *o, const char *omit, size_t *len, char *err, size_t errcap);

/* --------------------------------------------------------------- check.c */

/* "ok   <what>" / "FAIL <what>: <why>" / "note: <text>" on stdout.  tc_ok
 * and tc_fail count the lines; tc_passes() / tc_failures() are the counts. */
void tc_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tc_fail(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tc_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tc_failures(void);
int tc_passes(void);

/* Where the lines go (stdout by default); compare-instances --json
 * collects them in a memory stream. */
void tc_set_output(FILE *f);

/* Reads a whole file ("-" is stdin) into a malloc'd NUL-terminated buffer.
 * Returns it, or NULL with err set.  At most TC_MAX_INPUT bytes. */
char *tc_read_file(const char *path, size_t *len, char *err, size_t errcap);

/* Reads and parses a JSON document.  On failure prints
 * "FAIL <role> parses as JSON: <path>: <why>" and returns NULL. */
struct json_object *tc_load(const char *role, const char *path);

/* SHA-256 of a[0..na) || b[0..nb); b may be NULL when nb is 0. */
void tc_sha256(const void *a, size_t na, const void *b, size_t nb, uint8_t out[32]);

/* Member lookup by dotted path ("summary.window.signups"); NULL if a step is
 * missing or not an object.  The typed getters assume the document passed
 * its shape check (tc_shape), so the member exists with that type. */
struct json_object *tc_get(struct json_object *o, const char *path);
int64_t tc_int(struct json_object *o, const char *path);
const char *tc_str(struct json_object *o, const char *path);
size_t tc_strlen(struct json_object *o, const char *path);

/* Normalizes an RFC 3339 UTC timestamp ("YYYY-MM-DDTHH:MM:SS[.f+]Z") into
 * out as "YYYY-MM-DDTHH:MM:SS.fffffffff", which compares lexically in time
 * order whatever the precision of the input.  Returns 0, or -1 if s is not
 * in that form. */
int tc_time_norm(const char *s, size_t n, char out[32]);

/* --------------------------------------------------------------- shape.c */

/*
 * Checks that o has exactly the fields of rec (the table specc generates
 * from spec/, the same one the service serializes with): every field
 * present, nothing else, each of the declared JSON type; "hash" fields are
 * 64 lowercase hex digits, "hex" fields even-length lowercase hex, constants
 * (an audit entry's action) have their value.  A field holding a raw audit
 * entry is checked against raw_rec (if NULL, only that it is an object).
 * Prints "ok   <role>: fields match the spec (<rec name>)" or a FAIL line
 * listing the problems; returns 1 if it matched, else 0.
 */
int tc_shape(struct json_object *o, const rt_record *rec, const rt_record *raw_rec,
             const char *role);

/* -------------------------------------------------------------- verify.c */

/*
 * Verifies the Ed25519 signature of a signed record: the member "signature"
 * (64 bytes, hex) by the member named key_field (32 bytes, hex) over the
 * canonical JSON of rec without its top-level "signature".  Prints one line
 * "<what>" and returns 1 if valid, else 0.
 */
int tc_verify_signed(struct json_object *rec, const char *key_field, const char *what);

/*
 * Everything verify-report checks except the key binding: shape, the report
 * signature, the tree head, and the sanity of the figures.  Lines are
 * prefixed with role ("report", "old report", ...).  Returns 1 if all passed,
 * 0 if a check failed, -1 if the document does not have the report's shape
 * (then nothing else was checked, and no field of it may be read).
 */
int tc_verify_report(struct json_object *r, const char *role);

/* Compares a document's publicKey (hex) with the key the auditor gave
 * (pub, 32 bytes).  Prints one line; returns 1 if equal. */
int tc_bind_pubkey(const char *role, const char *have_hex, const uint8_t pub[32]);

/* The verify-receipt and verify-log commands, minus argument parsing.
 * pub (32 bytes) may be NULL: no key binding.  payload may be NULL.
 * Return 1 if every check passed. */
int tc_verify_receipt(struct json_object *rc, struct json_object *proof, const uint8_t *pub,
                      const char *payload);
int tc_verify_log(struct json_object *old_r, struct json_object *new_r,
                  struct json_object *proof, const uint8_t *pub);
/* The offline verify-deletion: the answer of POST /delete-data (d), its
 * signed attestation, its data_deleted entry in its signed batch, and, when
 * receipt is not NULL, that it deletes that receipt.  Returns 1 if every
 * check passed. */
int tc_verify_deletion(struct json_object *d, struct json_object *receipt, const uint8_t *pub);

/* -------------------------------------------------------------- attest.c */

/* What the attestation check learned, for compare-instances. */
typedef struct tc_attest_result {
    int quote_ok;              /* the quote verified (rt_dcap) */
    char status[48];           /* its TCB status, "" without collateral */
    int sim;                   /* verified against the sim root */
    uint8_t mrtd[48], rtmr[4][48];
    int log_ok;                /* the event log replayed to the quote's RTMRs */
    rt_evlog ev;               /* the replay, when log_ok */
} tc_attest_result;

/* Options of the attestation check. */
typedef struct tc_attest_opts {
    int allow_sim;      /* accept a "sim" quote (after checking it) */
    const char *nonce;  /* if not NULL, the nonce the auditor asked for */
    const char *collateral; /* DCAP collateral (JSON text) or NULL */
    size_t collateral_len;
    int64_t now;        /* the time the quote is verified at */
    const char *prefix; /* of every line: "attestation: " if NULL */
    const char *ref;    /* what r is, in lines: "the report's" if NULL */
    tc_attest_result *out; /* if not NULL, receives what was learned */
} tc_attest_opts;

/*
 * Checks that the attestation document att binds the key of r (a report,
 * or for compare-instances an instance's /info: any object with publicKey,
 * teeProvider and composeHash): its shape; its publicKey and teeProvider
 * are r's; with o->nonce, its nonce is that one; reportData =
 * SHA-256(key) || SHA-256(nonce asked for, else the document's) and is the
 * quote's report_data; the event log replays to the quote's RTMRs and
 * measured r's composeHash; the quote verifies by DCAP (quote.c: Intel's
 * root, or with o->allow_sim the sim root for a "sim" provider, which is
 * refused otherwise; o->collateral and o->now as verify-quote takes them).
 * Lines are prefixed with o->prefix; o->out, if set, receives what was
 * learned.  Returns 1 if all passed.
 */
int tc_verify_attestation(struct json_object *att, struct json_object *r,
                          const tc_attest_opts *o);

/* --------------------------------------------------------------- fetch.c */

typedef struct tc_http_response {
    int status;
    char *body; /* malloc'd, NUL-terminated after len bytes */
    size_t len;
} tc_http_response;

/*
 * Splits "http[s]://HOST[:PORT][/BASE]" (HOST may be [IPv6]) into its parts;
 * *tls is 1 for https (default port 443, else 80); BASE loses its trailing
 * slashes.  Returns 0, or -1 if url is not that.
 */
int tc_url_parse(const char *url, int *tls, char *host, size_t hostcap, char *port, size_t portcap, char *base,
                 size_t basecap);

/*
 * GET url's BASE followed by path ("/info", "/attestation?nonce=..."), all
 * of it within timeout_ms.  On success *res holds the status and the body
 * (free res->body) and 0 is returned; else -1 with err set.  A non-2xx
 * status is a success here: the caller decides.
 */
int tc_http_get(const char *url, const char *path, int timeout_ms, tc_http_response *res, char *err,
                size_t errcap);

/* ------------------------------------------------------------- compare.c */

/* The compare-instances command (argv[1] is "compare-instances"); returns
 * the exit status: 0 all passed, 1 a check failed, 2 usage. */
int tc_compare_instances(int argc, char **argv);

/* --------------------------------------------------------------- quote.c */

/* How a quote is checked, and the prefix of its lines ("" or "app-1: "). */
typedef struct tc_quote_opts {
    const char *prefix;
    const char *collateral; /* JSON text, NULL for none */
    size_t collateral_len;
    int64_t now;
    int allow_sim;
} tc_quote_opts;

/*
 * Verifies the quote q[0..n) with rt_dcap and prints one line per check
 * that ran (lines whose trust comes from the sim root are marked), then a
 * note with the TCB status and advisories, or with what was not checked.
 * *r receives the report (its quote field points into q).  Returns 1 if the
 * quote verified, else 0.
 */
int tc_check_quote(const uint8_t *q, size_t n, const tc_quote_opts *o, rt_dcap_report *r);

/*
 * Replays the event log log[0..n) (rt_evlog) and checks it against the
 * parsed quote q: RTMR0-3 equal to the replay, RTMR3 digests matching
 * their content.  Prints those lines and notes with the identity it
 * measured (app id, compose hash, instance id, key provider).  *ev receives
 * the replay.  Returns 1 if both checks passed.
 */
int tc_check_event_log(const rt_quote *q, const char *log, size_t n, const char *prefix, rt_evlog *ev);

/* Checks that SHA-256 of file[0..n) (named name) is ev's compose hash.
 * Prints one line; returns 1 if equal. */
int tc_check_compose(const rt_evlog *ev, const uint8_t *file, size_t n, const char *name, const char *prefix);

/* Parses --now: "now", seconds since the epoch, or RFC 3339 UTC.  Returns
 * 0, or -1 if s is none of them. */
int tc_parse_time(const char *s, int64_t *out);

/* A quote as a file gives it: binary, hex text, or JSON (a dstack GetQuote
 * response, or the metadata port's /attestation) with "quote" and maybe
 * "event_log"/"eventLog" and "report_data"/"reportData". */
typedef struct tc_quote_input {
    uint8_t *quote;
    size_t quote_len;
    char *event_log; /* NULL if the file had none */
    size_t event_log_len;
    uint8_t report_data[64];
    int have_report_data;
} tc_quote_input;

/* Reads path into *in, printing "ok   quote file ..." or a FAIL line.
 * Returns 1 on success; release with tc_quote_input_free either way. */
int tc_load_quote(const char *path, tc_quote_input *in);
void tc_quote_input_free(tc_quote_input *in);
/* ---------------------------------------------------------------- ipfs.c */

/* Largest file that toyctl car puts in a CAR, as one block: 1 MiB.  Older
 * Kubo versions refuse larger blocks on `ipfs dag import` (newer ones take
 * up to 2 MiB, the bitswap limit), so a CAR within this imports into any
 * IPFS node.  Reports are a few KiB. */
#define TC_MAX_BLOCK (1u << 20)

/*
 * toyctl cid FILE...: prints the CID of each file's bytes (CIDv1, raw,
 * sha2-256, base32: rt_cid_raw_sha256), one line per file, in order.  A
 * file of any size is hashed as it is read; "-" is stdin.  Returns 0, or 1
 * after a message on stderr, with nothing on stdout.
 */
int tc_cmd_cid(const char *const *files, int n);

/*
 * toyctl car OUT FILE...: writes the CARv1 whose roots are the files'
 * CIDs, in order, and whose blocks are their bytes, one block per file in
 * the same order (the same bytes given twice are one root and one block).
 * OUT is replaced by rename, so it is never half written; "-" is stdout.
 * n >= 1.  Returns 0, or 1 after a message on stderr (a file unreadable or
 * over TC_MAX_BLOCK, more than RT_CAR_MAX_ROOTS distinct files, a write
 * error).
 */
int tc_cmd_car(const char *out, const char *const *files, int n);

/*
 * toyctl verify-car CAR [FILE...]: checks the CARv1 file at path, one line
 * per check: its header; that each block hashes to its CID (sha2-256
 * CIDs; another hash is a FAIL, as it cannot be checked); that each root
 * has its block.  Repeated blocks are noted.  With files (n > 0): each
 * file's raw CID is a root, and every root is one of the files.  Returns 1
 * if every check passed.
 */
int tc_verify_car(const char *path, const char *const *files, int n);
/* ------------------------------------------------------------- compose.c */

/* toyctl compose-hash [--normalized] FILE (argv[1] is "compose-hash"):
 * prints the compose hash and returns the exit status (0, 1, 2). */
int tc_cmd_compose_hash(int argc, char **argv);

#endif /* TOYCTL_H */
