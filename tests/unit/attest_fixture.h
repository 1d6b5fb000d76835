/*
 * attest_fixture.h - test helpers for the attestation tests (test_rt_dcap,
 * test_rt_evlog): reading the real quotes, collateral and event logs of
 * tests/data/attestation (see its README.txt), and its expected.json.
 */
#ifndef ATTEST_FIXTURE_H
#define ATTEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The directory: $ATTEST_TESTDATA, else tests/data/attestation. */
const char *af_dir(void);

/* Reads the file name (relative to af_dir()) into a malloc'd buffer with a
 * NUL after its *n bytes; fails the test (cmocka) if it cannot. */
uint8_t *af_read(const char *name, size_t *n);

/* Parses the JSON file name (relative to af_dir()); fails the test if it
 * cannot.  Release with json_object_put. */
struct json_object *af_json(const char *name);

/* Decodes the hex string at o.k into out (n bytes); fails the test if it
 * is not exactly that. */
void af_hex(struct json_object *o, const char *k, uint8_t *out, size_t n);

/* Seconds since the epoch of an RFC 3339 UTC time; fails the test if bad. */
int64_t af_time(const char *rfc3339);

#endif
