/*
 * rt_param.h — path and query parameters, as declared by `param` lines.
 *
 * specc emits one rt_param table per endpoint and a struct to hold the
 * parsed values; rt_param_parse fills it from the path captures and the
 * query string.  Parameters are public by construction (the spec language
 * gives them no class), bounded, and checked like body fields: a value that
 * is malformed, out of its bounds or (when required) absent fails with a
 * message that names the parameter and says what it must be.
 */
#ifndef RT_PARAM_H
#define RT_PARAM_H

#include <stddef.h>
#include <stdint.h>

/* RT_P_ID: a string of [a-z0-9_] only (the ids the service issues). */
enum rt_ptype { RT_P_STRING = 1, RT_P_INT, RT_P_BOOL, RT_P_ENUM, RT_P_ID };

typedef struct rt_param {
    const char *name;
    uint8_t type;            /* enum rt_ptype */
    uint8_t optional;
    uint8_t in_path;         /* a :name segment of the path */
    int64_t min, max;        /* string, id: byte length; int: value */
    const char *const *labels; uint8_t nlabels;  /* RT_P_ENUM */
    uint32_t off;            /* string, id: char[max+1]; int: int64_t;
                                bool: uint8_t; enum: uint8_t label index */
    uint32_t len_off;        /* string, id: uint32_t */
    uint32_t has_off;        /* uint8_t: 1 when given */
} rt_param;

typedef struct rt_params {
    const rt_param *params;
    uint8_t nparams;
    uint32_t size;           /* sizeof the generated params struct */
} rt_params;

/*
 * Where rt_param_parse reads raw values: get(ctx, name, in_path, out, cap)
 * writes the value of the path capture (in_path) or the decoded query
 * parameter `name` to out (NUL-terminated) and returns its length, -1 when
 * it is absent, or -2 when it is malformed or longer than cap - 1.
 */
typedef int (*rt_param_get)(void *ctx, const char *name, int in_path, char *out, size_t cap);

/* The first problem found, for a 400 answer. */
typedef struct rt_param_err {
    const char *code;        /* "bad_parameter" or "missing_parameter" */
    const char *name;        /* the parameter */
    char message[160];       /* e.g. "from must be a whole number from 1 to 10" */
} rt_param_err;

/*
 * Fills out (t->size bytes, zeroed first) with every parameter of t.
 * Returns 0, or -1 with *err describing the first parameter that is
 * malformed, out of bounds, or required and absent.
 */
int rt_param_parse(const rt_params *t, void *out, rt_param_get get, void *ctx,
                   rt_param_err *err) __attribute__((warn_unused_result));

#endif
