/* fuzz_req_submit_data.c — libFuzzer harness for the generated submit_data request parser. */
#define SCHEMA toy_schema_submit_data
#define REQ toy_req_submit_data
#include "fuzz_request.h"
