/*
 * rt_ws_trace.h — what an rt_ws parser makes of a byte stream, as one
 * string, for the unit tests and the fuzz harness: the same bytes must give
 * the same trace however they are cut.
 */
#ifndef RT_WS_TRACE_H
#define RT_WS_TRACE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses a copy of in[0..n) for role (enum rt_ws_role) with a message limit
 * of max, in pieces ending at cuts[0..ncuts) (increasing, each <= n) and
 * then the rest, and writes the trace to out (NUL-terminated, cut at cap):
 *   F<op>,<message op>,<fin>,<len>;   a data frame's header
 *   D<hex>;                           its payload (consecutive chunks merged)
 *   E<fin>;                           its end
 *   C<op>,<hex>[,<code>,<reason hex>]; a control frame (a close's code and reason)
 * then "end@<bytes consumed>" or "error <name> close <code> @<offset>".
 * Returns the parser's error (0 for none).
 */
int ws_trace(int role, uint64_t max, const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts,
             char *out, size_t cap);

#endif
