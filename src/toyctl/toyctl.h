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
 *   ipfs.c    IPFS: a file's CID, a CAR of files, the check of a CAR
 *   compose.c the compose hash of a dstack app-compose.json
 *   main.c    the command line
 *
 * Nothing here uses the network: every input is a file the auditor already
 * has, which is what makes the verdict reproducible by anyone.
 */
#ifndef TOYCTL_H
#define TOYCTL_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

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

/* Options of the attestation check. */
typedef struct tc_attest_opts {
    int allow_sim;      /* accept a "sim" quote (after checking it) */
    const char *nonce;  /* if not NULL, the nonce the auditor asked for */
} tc_attest_opts;

/*
 * Checks that the attestation document att binds the report r's key: its
 * shape, its quote's structure and report_data, reportData = SHA-256(key) ||
 * SHA-256(nonce), the event log's replay into the quote's RTMRs, the
 * provider-specific part (sim: refused unless allowed, then its ECDSA
 * signature; dstack: RTMR3 event digests and the compose hash, with a note
 * that the Intel chain is not verified here), and that its publicKey and
 * teeProvider are the report's.  Returns 1 if all passed.
 */
int tc_verify_attestation(struct json_object *att, struct json_object *r,
                          const tc_attest_opts *o);

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
