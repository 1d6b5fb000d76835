/*
 * fuzz_specc.c — libFuzzer harness for specc's lexer, parser and checker:
 * any input is either accepted or refused with messages, never a crash.
 * Messages go to stderr; run with -close_fd_mask=2 to keep the log short.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "specc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    if (memchr(text, 0, size)) {   /* specc refuses NUL bytes before parsing */
        free(text);
        return 0;
    }
    sc_src src = { "fuzz.spec", text, size };
    sc_spec spec;
    memset(&spec, 0, sizeof spec);
    sc_nerrors = 0;
    sc_parse_file(&spec, &src);
    if (sc_nerrors == 0)
        sc_check(&spec);
    sc_nerrors = 0;
    sc_free_all();
    free(text);
    return 0;
}
