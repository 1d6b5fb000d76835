/* fuzz_req_delete_data.c — libFuzzer harness for the generated delete_data request parser. */
#define SCHEMA toy_schema_delete_data
#define REQ toy_req_delete_data
#include "fuzz_request.h"
