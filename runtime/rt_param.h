/*
 * rt_param.h — path and query parameters, as declared by `param` lines.
 *
 * specc emits one rt_param table per endpoint and a struct to hold the
 * parsed values; rt_param_parse fills it from the path captures and the
 * query string.  Parameters are public by construction (the spec language
 * gives them no class), bounded, and checked like body fields.
 */
#ifndef RT_PARAM_H
#define RT_PARAM_H

#include <stddef.h>
#include <stdint.h>

enum rt_ptype { RT_P_STRING = 1, RT_P_INT, RT_P_BOOL, RT_P_ENUM };

typedef struct rt_param {
    const char *name;
    uint8_t type;            /* enum rt_ptype */
    uint8_t optional;
    uint8_t in_path;         /* a :name segment of the path */
    int64_t min, max;        /* string: byte length; int: value */
    const char *const *labels; uint8_t nlabels;  /* RT_P_ENUM */
    uint32_t off;            /* string: char[max+1]; int: int64_t; bool/enum: uint8_t */
    uint32_t len_off;        /* string: uint32_t */
    uint32_t has_off;        /* uint8_t: 1 when given */
} rt_param;

typedef struct rt_params {
    const rt_param *params;
    uint8_t nparams;
    uint32_t size;           /* sizeof the generated params struct */
} rt_params;

#endif
