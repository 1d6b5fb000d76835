/*
 * rt_compose.h - the compose hash: how dstack identifies the code a CVM runs.
 *
 * A dstack CVM is described by its app-compose.json (manifest_version, name,
 * runner, docker_compose_file, kms_enabled, allowed_envs, ...).  dstack
 * measures that file into RTMR3 as the "compose-hash" event, reports it in
 * the guest agent's Info, and its KMS gives keys only to a compose hash the
 * app's registry allows.  The compose hash is the SHA-256 of the file's
 * bytes exactly as they are: dstack does not parse and re-serialize it
 * before hashing.  See Dstack-TEE/dstack (commit 312dc605eb):
 *   dstack/dstack-util/src/system_setup.rs  measure_app_info():
 *       compose_hash = sha256_file(app_compose_file)   (the measured event)
 *   dstack/dstack-util/src/utils.rs         sha256_file(): SHA-256 of fs::read
 *   dstack/vmm/src/main_service.rs          get_compose_hash(): checks that the
 *       text parses as an AppCompose, then hex_sha256 of the text itself
 * Its SDKs (sdk/js/src/get-compose-hash.ts, ...) only decide which bytes a
 * deploy tool writes (keys sorted, no white space); once written, the bytes
 * are the identity.  tests/data/compose/ holds a real app-compose.json with
 * the event log that measured it.
 *
 * This is the one implementation: toyctl compose-hash and the sim TEE
 * provider (TOYAPP_COMPOSE_FILE) both call it.
 */
#ifndef RT_COMPOSE_H
#define RT_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The compose hash of the document buf[0..n) (buf may be NULL when n is 0):
 * SHA-256 of exactly those bytes, into out. */
void rt_compose_hash(const void *buf, size_t n, uint8_t out[32]);

/*
 * The compose hash of the file at path, read whole as it is on disk.
 * Returns 0, or -1 with a message in err[0..errcap) (the reason, e.g.
 * "No such file or directory"; err may be NULL).  out is written only on
 * success.
 */
int rt_compose_hash_file(const char *path, uint8_t out[32], char *err, size_t errcap);

#ifdef __cplusplus
}
#endif

#endif /* RT_COMPOSE_H */
