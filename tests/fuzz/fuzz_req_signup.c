/* fuzz_req_signup.c — libFuzzer harness for the generated signup request parser. */
#define SCHEMA toy_schema_signup
#define REQ toy_req_signup
#include "fuzz_request.h"
