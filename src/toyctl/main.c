/*
 * main.c — toyctl's command line.
 *
 *   toyctl verify-report REPORT [--pubkey HEX | --attestation FILE
 *                                [--allow-sim] [--nonce TEXT]]
 *   toyctl verify-receipt RECEIPT --proof PROOF [--pubkey HEX] [--payload TEXT]
 *   toyctl verify-log OLD_REPORT NEW_REPORT --proof PROOF [--pubkey HEX]
 *   toyctl verify-deletion DELETION [--receipt RECEIPT] [--pubkey HEX]
 *   toyctl canonical FILE
 *   toyctl cid FILE...
 *   toyctl car OUT.car FILE...
 *   toyctl verify-car CAR [FILE...]
 *   toyctl compose-hash [--normalized] FILE
 *
 * Everything is verified offline from the files given ("-" reads stdin).
 * Each check prints one line, "ok   <what>" or "FAIL <what>: <why>", plus
 * "note: ..." for what was not checked; the last line is the verdict.
 * Exit status: 0 when every check passed, 1 when one failed or an input
 * could not be read or parsed, 2 for a usage error.
 */
#include "toyctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char synopsis[] =
    "usage:\n"
    "  toyctl verify-report REPORT [--pubkey HEX | --attestation FILE [--allow-sim] [--nonce TEXT]]\n"
    "  toyctl verify-receipt RECEIPT --proof PROOF [--pubkey HEX] [--payload TEXT]\n"
    "  toyctl verify-log OLD_REPORT NEW_REPORT [--proof PROOF] [--pubkey HEX]\n"
    "  toyctl verify-deletion DELETION [--receipt RECEIPT] [--pubkey HEX]\n"
    "  toyctl canonical FILE\n"
    "  toyctl cid FILE...\n"
    "  toyctl car OUT.car FILE...\n"
    "  toyctl verify-car CAR [FILE...]\n"
    "  toyctl compose-hash [--normalized] FILE\n"
    "  toyctl help\n";

static const char usage_text[] =
    "Verifies, offline, what toyapp published:\n"
    "  verify-report   a report (GET /report): its Ed25519 signature over its canonical JSON\n"
    "                  (RFC 8785), its signed tree head and the sanity of its figures; whose\n"
    "                  key signed it with --pubkey, or with --attestation (the JSON of the\n"
    "                  metadata port's GET /attestation?nonce=...): the quote binds the key\n"
    "                  and the nonce (--nonce: the one you asked for); a sim quote proves\n"
    "                  nothing about hardware and is refused unless --allow-sim\n"
    "  verify-receipt  a receipt (POST /submit-data) with its proof (GET /receipts/ID/proof):\n"
    "                  its audit entry is in its signed batch and in the signed log; --payload\n"
    "                  checks that the receipt commits to that payload\n"
    "  verify-log      two reports and GET /log/consistency?from=OLD&to=NEW: the new log\n"
    "                  extends the old one (from an empty old log, the proof is empty: from=0)\n"
    "  verify-deletion the answer of POST /delete-data/ID: its deletion attestation's Ed25519\n"
    "                  signature, its data_deleted entry in the signed batch head, that both name\n"
    "                  the same receipt and user, and (--receipt: the receipt's JSON) that it\n"
    "                  deletes that receipt\n"
    "  canonical       prints the RFC 8785 canonical JSON of FILE (no trailing newline): RFC 8785\n"
    "                  restricted to what toyapp signs: integers within +-(2^53-1) only (no\n"
    "                  fractions or exponents), no U+0000 in keys, no duplicate keys, and an\n"
    "                  object or array at the top (no top-level scalar)\n"
    "  cid             prints each FILE's IPFS CID (CIDv1, raw, sha2-256, base32), one per\n"
    "                  line: the name under which any IPFS node serves its exact bytes\n"
    "  car             writes OUT.car, a CARv1 for `ipfs dag import`: the FILEs' CIDs as its\n"
    "                  roots and their bytes as its blocks, in order (at most 1 MiB a FILE)\n"
    "  verify-car      a CAR: its header, that each block hashes to its CID, that each root\n"
    "                  has a block; with FILEs, that its roots are exactly their CIDs\n"
    "                  extends the old one (--proof may be left out only if the old log is empty)\n"
    "  canonical       prints the RFC 8785 canonical JSON of FILE (no trailing newline)\n"
    "  compose-hash    prints the compose hash of a dstack app-compose.json as dstack computes\n"
    "                  it (SHA-256 of the file's bytes), after checking that dstack would run\n"
    "                  it; --normalized: of the manifest re-serialized as dstack's SDKs do\n"
    "\n"
    "FILE may be - for stdin.  One line per check: \"ok   WHAT\" or \"FAIL WHAT: WHY\";\n"
    "\"note: ...\" says what was not checked.  Exit status: 0 every check passed,\n"
    "1 a check failed or an input is unreadable or malformed, 2 usage error.\n";

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("toyctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    fputs(synopsis, stderr);
    return 2;
}

/* Options of all commands; each command says which it accepts. */
enum {
    O_PUBKEY = 1 << 0,
    O_ATTEST = 1 << 1,
    O_ALLOW_SIM = 1 << 2,
    O_NONCE = 1 << 3,
    O_PROOF = 1 << 4,
    O_PAYLOAD = 1 << 5,
    O_RECEIPT = 1 << 6,
};

typedef struct args {
    const char *pos[3];
    int npos;
    unsigned seen;
    const char *pubkey_hex, *attestation, *nonce, *proof, *payload, *receipt;
    uint8_t pubkey[32];
} args;

static const struct {
    const char *name;
    unsigned bit;
    int has_value;
} options[] = {
    { "--pubkey", O_PUBKEY, 1 },   { "--attestation", O_ATTEST, 1 }, { "--allow-sim", O_ALLOW_SIM, 0 },
    { "--nonce", O_NONCE, 1 },     { "--proof", O_PROOF, 1 },        { "--payload", O_PAYLOAD, 1 },
    { "--receipt", O_RECEIPT, 1 },
};

/* Parses argv[2..] for a command taking npos positionals and the options in
 * allowed.  Returns 0, or 2 after printing a usage message. */
static int parse_args(int argc, char **argv, int npos, unsigned allowed, args *a)
{
    int only_pos = 0, stdin_uses = 0;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (!only_pos && strcmp(s, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (!only_pos && strncmp(s, "--", 2) == 0) {
            size_t k = 0, nk = sizeof options / sizeof options[0];
            const char *eq = strchr(s, '=');
            size_t nl = eq ? (size_t)(eq - s) : strlen(s);
            while (k < nk && !(strlen(options[k].name) == nl && strncmp(options[k].name, s, nl) == 0))
                k++;
            if (k == nk || !(allowed & options[k].bit))
                return usage("unknown option %s for this command", s);
            if (a->seen & options[k].bit)
                return usage("%s given twice", options[k].name);
            a->seen |= options[k].bit;
            const char *val = NULL;
            if (options[k].has_value) {
                if (eq)
                    val = eq + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    return usage("%s needs a value", options[k].name);
            } else if (eq) {
                return usage("%s takes no value", options[k].name);
            }
            switch (options[k].bit) {
            case O_PUBKEY: a->pubkey_hex = val; break;
            case O_ATTEST: a->attestation = val; break;
            case O_NONCE: a->nonce = val; break;
            case O_PROOF: a->proof = val; break;
            case O_PAYLOAD: a->payload = val; break;
            case O_RECEIPT: a->receipt = val; break;
            default: break;
            }
            if (val && (options[k].bit == O_ATTEST || options[k].bit == O_PROOF || options[k].bit == O_RECEIPT)
                && strcmp(val, "-") == 0)
                stdin_uses++;
            continue;
        }
        if (a->npos == npos)
            return usage("unexpected argument %s", s);
        a->pos[a->npos++] = s;
        if (strcmp(s, "-") == 0)
            stdin_uses++;
    }
    if (a->npos < npos)
        return usage("%s: missing file argument", argv[1]);
    if (stdin_uses > 1)
        return usage("only one input can be read from stdin (-)");
    if (a->pubkey_hex && rt_hex_decode(a->pubkey_hex, strlen(a->pubkey_hex), a->pubkey, 32) != 0)
        return usage("--pubkey %s: expected 64 hex digits (a 32-byte Ed25519 public key)",
                     a->pubkey_hex);
    if (a->pubkey_hex && a->attestation)
        return usage("give --pubkey or --attestation, not both");
    if ((a->seen & (O_ALLOW_SIM | O_NONCE)) && !a->attestation)
        return usage("--allow-sim and --nonce apply to --attestation only");
    return 0;
}

/* The last line: the verdict, and the exit status that goes with it. */
static int verdict(void)
{
    if (tc_failures() == 0) {
        printf("verified: all %d checks passed\n", tc_passes());
        return 0;
    }
    printf("NOT verified: %d of %d checks failed\n", tc_failures(), tc_failures() + tc_passes());
    return 1;
}

static int cmd_verify_report(int argc, char **argv)
{
    args a = { .npos = 0 };
    int rc = parse_args(argc, argv, 1, O_PUBKEY | O_ATTEST | O_ALLOW_SIM | O_NONCE, &a);
    if (rc)
        return rc;
    struct json_object *r = tc_load("report", a.pos[0]);
    if (!r)
        return verdict();
    /* Key binding reads the report's fields: only when its shape is right. */
    int rep = tc_verify_report(r, "report");
    if (a.pubkey_hex) {
        if (rep >= 0)
            tc_bind_pubkey("report", tc_str(r, "publicKey"), a.pubkey);
    } else if (a.attestation) {
        struct json_object *att = tc_load("attestation", a.attestation);
        tc_attest_opts o = { .allow_sim = (a.seen & O_ALLOW_SIM) != 0, .nonce = a.nonce };
        if (att && rep >= 0)
            tc_verify_attestation(att, r, &o);
        json_object_put(att);
    } else {
        tc_note("publicKey not bound (use --pubkey or --attestation)");
    }
    json_object_put(r);
    return verdict();
}

static int cmd_verify_receipt(int argc, char **argv)
{
    args a = { .npos = 0 };
    int rc = parse_args(argc, argv, 1, O_PUBKEY | O_PROOF | O_PAYLOAD, &a);
    if (rc)
        return rc;
    if (!a.proof)
        return usage("verify-receipt needs --proof PROOF (GET /receipts/ID/proof)");
    struct json_object *r = tc_load("receipt", a.pos[0]);
    struct json_object *p = tc_load("receipt proof", a.proof);
    if (r && p)
        tc_verify_receipt(r, p, a.pubkey_hex ? a.pubkey : NULL, a.payload);
    json_object_put(r);
    json_object_put(p);
    return verdict();
}

static int cmd_verify_log(int argc, char **argv)
{
    args a = { .npos = 0 };
    int rc = parse_args(argc, argv, 2, O_PUBKEY | O_PROOF, &a);
    if (rc)
        return rc;
    struct json_object *o = tc_load("old report", a.pos[0]);
    struct json_object *n = tc_load("new report", a.pos[1]);
    struct json_object *p = a.proof ? tc_load("consistency proof", a.proof) : NULL;
    if (o && n && (p || !a.proof))
        tc_verify_log(o, n, p, a.pubkey_hex ? a.pubkey : NULL);
    json_object_put(o);
    json_object_put(n);
    json_object_put(p);
    return verdict();
}

static int cmd_verify_deletion(int argc, char **argv)
{
    args a = { .npos = 0 };
    int rc = parse_args(argc, argv, 1, O_PUBKEY | O_RECEIPT, &a);
    if (rc)
        return rc;
    struct json_object *d = tc_load("deletion", a.pos[0]);
    struct json_object *r = a.receipt ? tc_load("receipt", a.receipt) : NULL;
    if (d && (r || !a.receipt))
        tc_verify_deletion(d, r, a.pubkey_hex ? a.pubkey : NULL);
    json_object_put(d);
    json_object_put(r);
    return verdict();
}

static int cmd_canonical(int argc, char **argv)
{
    args a = { .npos = 0 };
    int rc = parse_args(argc, argv, 1, 0, &a);
    if (rc)
        return rc;
    char err[320];
    size_t n, cn;
    char *buf = tc_read_file(a.pos[0], &n, err, sizeof err);
    if (!buf) {
        fprintf(stderr, "toyctl: %s: %s\n", a.pos[0], err);
        return 1;
    }
    struct json_object *o = tc_json_parse(buf, n, err, sizeof err);
    free(buf);
    if (!o) {
        fprintf(stderr, "toyctl: %s: not valid JSON for RFC 8785: %s\n", a.pos[0], err);
        return 1;
    }
    char *c = tc_canon(o, NULL, &cn, err, sizeof err);
    json_object_put(o);
    if (!c) {
        fprintf(stderr, "toyctl: %s: %s\n", a.pos[0], err);
        return 1;
    }
    int ok = fwrite(c, 1, cn, stdout) == cn && fflush(stdout) == 0;
    free(c);
    if (!ok) {
        fprintf(stderr, "toyctl: cannot write the output\n");
        return 1;
    }
    return 0;
}

/*
 * The file arguments of cid, car and verify-car, which take no options:
 * argv[2..], after an optional "--".  Sets *files (into argv) and *n.
 * Returns 0, or 2 after a usage message: fewer than min files, an option,
 * or "-" (stdin) more than once (OUT, the first of car's, is not an input).
 */
static int file_args(int argc, char **argv, int min, int out_first, const char ***files, int *n)
{
    int i = 2, stdin_uses = 0;
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    else
        for (int k = i; k < argc; k++)
            if (argv[k][0] == '-' && argv[k][1] != 0)
                return usage("unknown option %s for this command", argv[k]);
    *n = argc - i;
    if (*n < min)
        return usage("%s: missing file argument", argv[1]);
    for (int k = i + (out_first ? 1 : 0); k < argc; k++)
        stdin_uses += strcmp(argv[k], "-") == 0;
    if (stdin_uses > 1)
        return usage("only one input can be read from stdin (-)");
    *files = (const char **)(argv + i);
    return 0;
}

static int cmd_cid(int argc, char **argv)
{
    const char **f;
    int n, rc = file_args(argc, argv, 1, 0, &f, &n);
    return rc ? rc : tc_cmd_cid(f, n);
}

static int cmd_car(int argc, char **argv)
{
    const char **f;
    int n, rc = file_args(argc, argv, 2, 1, &f, &n);
    return rc ? rc : tc_cmd_car(f[0], f + 1, n - 1);
}

static int cmd_verify_car(int argc, char **argv)
{
    const char **f;
    int n, rc = file_args(argc, argv, 1, 0, &f, &n);
    if (rc)
        return rc;
    tc_verify_car(f[0], f + 1, n - 1);
    return verdict();
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage("missing command");
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(synopsis, stdout);
        fputs("\n", stdout);
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "verify-report") == 0)
        return cmd_verify_report(argc, argv);
    if (strcmp(cmd, "verify-receipt") == 0)
        return cmd_verify_receipt(argc, argv);
    if (strcmp(cmd, "verify-log") == 0)
        return cmd_verify_log(argc, argv);
    if (strcmp(cmd, "verify-deletion") == 0)
        return cmd_verify_deletion(argc, argv);
    if (strcmp(cmd, "canonical") == 0)
        return cmd_canonical(argc, argv);
    if (strcmp(cmd, "cid") == 0)
        return cmd_cid(argc, argv);
    if (strcmp(cmd, "car") == 0)
        return cmd_car(argc, argv);
    if (strcmp(cmd, "verify-car") == 0)
        return cmd_verify_car(argc, argv);
    if (strcmp(cmd, "compose-hash") == 0)
        return tc_cmd_compose_hash(argc, argv);
    return usage("unknown command %s", cmd);
}
