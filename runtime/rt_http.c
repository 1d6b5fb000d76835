
/* #line 1 "runtime/rt_http.rl" */
/*
 * rt_http.rl — the grammar of HTTP/1.1 request heads (see rt_http.h).
 *
 * rt_http.c is generated from this file, from the repository root:
 *     ragel -G2 -L -o runtime/rt_http.c runtime/rt_http.rl
 *
 * Spans are offsets into the caller's buffer, so the machine may stop at the
 * end of any chunk and resume on the next call.  The fields the server acts
 * on are interpreted (field()) when their line ends; every other field is
 * checked against the grammar and skipped.
 */
#include "rt_http.h"
#include "rt_hex.h"

#include <string.h>
#include <strings.h>

static int fail(rt_http_head *h, int status, const char *code, const char *message,
                uint32_t off)
{
    h->status = status;
    h->code = code;
    h->message = message;
    h->err_off = off;
    return RT_HTTP_ERROR;
}

static int name_is(const rt_http_head *h, const char *b, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && !strncasecmp(b + h->name_off, name, n);
}

/* Does the comma-separated list v[0..n) hold token tok (any case)? */
static int list_has(const char *v, size_t n, const char *tok)
{
    size_t t = strlen(tok), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == t && !strncasecmp(v + s, tok, t))
            return 1;
    }
    return 0;
}

/* A field that may appear once: its value's span, or an error. */
static int once(rt_http_head *h, rt_http_span *s, const char *twice)
{
    if (s->off)
        return fail(h, 400, "bad_header", twice, h->name_off);
    uint32_t vn = h->val_end > h->val_off ? h->val_end - h->val_off : 0;
    /* An empty value is still present: its span starts after the colon. */
    *s = (rt_http_span){ vn ? h->val_off : h->name_off + h->name_len + 1, vn };
    return RT_HTTP_MORE;
}

/* A field line has ended: act on it if it is one of ours. */
static int field(rt_http_head *h, const char *b)
{
    const char *v = b + h->val_off;
    uint32_t vn = h->val_end > h->val_off ? h->val_end - h->val_off : 0;
    if (name_is(h, b, "content-length")) {
        int64_t x = 0;
        if (vn == 0 || vn > 18)
            return fail(h, 400, "bad_content_length", "Content-Length is not a number", h->name_off);
        for (uint32_t i = 0; i < vn; i++) {
            if (v[i] < '0' || v[i] > '9')
                return fail(h, 400, "bad_content_length", "Content-Length is not a number", h->name_off);
            x = x * 10 + (v[i] - '0');
        }
        if (h->content_length >= 0 && h->content_length != x)
            return fail(h, 400, "bad_content_length", "two Content-Length fields disagree", h->name_off);
        h->content_length = x;
    } else if (name_is(h, b, "transfer-encoding")) {
        h->transfer_encoding = 1;
    } else if (name_is(h, b, "connection")) {
        h->conn_close |= list_has(v, vn, "close");
        h->conn_keep_alive |= list_has(v, vn, "keep-alive");
        h->conn_upgrade |= list_has(v, vn, "upgrade");
    } else if (name_is(h, b, "content-type")) {
        if (h->content_type.len)
            return fail(h, 400, "bad_header", "more than one Content-Type field", h->name_off);
        h->content_type = (rt_http_span){ h->val_off, vn };
    } else if (name_is(h, b, "host")) {
        if (++h->hosts > 1)
            return fail(h, 400, "bad_header", "more than one Host field", h->name_off);
        h->host = (rt_http_span){ h->val_off, vn };
    } else if (name_is(h, b, "expect")) {
        h->expect_continue |= vn == 12 && !strncasecmp(v, "100-continue", 12);
    } else if (name_is(h, b, "upgrade")) {
        h->upgrade_websocket |= list_has(v, vn, "websocket");
    } else if (name_is(h, b, "origin")) {
        return once(h, &h->origin, "more than one Origin field");
    } else if (name_is(h, b, "sec-websocket-key")) {
        return once(h, &h->ws_key, "more than one Sec-WebSocket-Key field");
    } else if (name_is(h, b, "sec-websocket-version")) {
        return once(h, &h->ws_version, "more than one Sec-WebSocket-Version field");
    } else if (name_is(h, b, "idempotency-key")) {
        if (h->idempotency_key.len)
            return fail(h, 400, "bad_header", "more than one Idempotency-Key field", h->name_off);
        uint32_t o = h->val_off, k = vn;
        if (k >= 2 && v[0] == '"' && v[k - 1] == '"') {
            o++;
            k -= 2;
        }
        if (k < 1 || k > 255)
            return fail(h, 400, "bad_header", "an Idempotency-Key is 1 to 255 characters", h->name_off);
        for (uint32_t i = 0; i < k; i++) {
            char c = b[o + i];
            if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
                return fail(h, 400, "bad_header",
                            "an Idempotency-Key is visible ASCII, without '\"' or '\\' inside", o + i);
        }
        h->idempotency_key = (rt_http_span){ o, k };
    }
    return RT_HTTP_MORE;
}

/* The head is complete: the checks that need all of it. */
static int head_done(rt_http_head *h, const char *b)
{
    if (h->minor >= 1 && h->hosts == 0)
        return fail(h, 400, "bad_header", "an HTTP/1.1 request needs a Host field", h->end - 2);
    const char *t = b + h->target.off;
    const char *q = memchr(t, '?', h->target.len);
    uint32_t plen = q ? (uint32_t)(q - t) : h->target.len;
    h->path = (rt_http_span){ h->target.off, plen };
    h->query = q ? (rt_http_span){ h->target.off + plen + 1, h->target.len - plen - 1 }
                 : (rt_http_span){ h->target.off + h->target.len, 0 };
    return RT_HTTP_DONE;
}


/* #line 185 "runtime/rt_http.rl" */



/* #line 143 "runtime/rt_http.c" */
static const int rt_http_start = 1;
static const int rt_http_error = 0;


/* #line 188 "runtime/rt_http.rl" */

void rt_http_init(rt_http_head *h, uint32_t limit)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    h->limit = limit;
    
/* #line 152 "runtime/rt_http.c" */
	{
	 h->cs = rt_http_start;
	}

/* #line 195 "runtime/rt_http.rl" */
}

int rt_http_feed(rt_http_head *h, const char *b, size_t n)
{
    if (h->status)
        return RT_HTTP_ERROR;
    if (h->end)
        return RT_HTTP_DONE;
    const unsigned char *ub = (const unsigned char *)b;
    size_t stop = n < h->limit ? n : h->limit;
    const unsigned char *p = ub + h->pos, *pe = ub + stop;
    int rc = RT_HTTP_MORE;
    if (p < pe) {
        
/* #line 168 "runtime/rt_http.c" */
	{
	if ( p == pe )
		goto _test_eof;
	switch (  h->cs )
	{
st1:
	if ( ++p == pe )
		goto _test_eof1;
case 1:
	switch( (*p) ) {
		case 13u: goto st2;
		case 33u: goto tr2;
		case 124u: goto tr2;
		case 126u: goto tr2;
	}
	if ( (*p) < 45u ) {
		if ( (*p) > 39u ) {
			if ( 42u <= (*p) && (*p) <= 43u )
				goto tr2;
		} else if ( (*p) >= 35u )
			goto tr2;
	} else if ( (*p) > 46u ) {
		if ( (*p) < 65u ) {
			if ( 48u <= (*p) && (*p) <= 57u )
				goto tr2;
		} else if ( (*p) > 90u ) {
			if ( 94u <= (*p) && (*p) <= 122u )
				goto tr2;
		} else
			goto tr2;
	} else
		goto tr2;
	goto st0;
st0:
 h->cs = 0;
	goto _out;
st2:
	if ( ++p == pe )
		goto _test_eof2;
case 2:
	if ( (*p) == 10u )
		goto st1;
	goto st0;
tr2:
/* #line 145 "runtime/rt_http.rl" */
	{ h->method.off = (uint32_t)(p - ub); }
	goto st3;
st3:
	if ( ++p == pe )
		goto _test_eof3;
case 3:
/* #line 218 "runtime/rt_http.c" */
	switch( (*p) ) {
		case 32u: goto tr4;
		case 33u: goto st3;
		case 124u: goto st3;
		case 126u: goto st3;
	}
	if ( (*p) < 45u ) {
		if ( (*p) > 39u ) {
			if ( 42u <= (*p) && (*p) <= 43u )
				goto st3;
		} else if ( (*p) >= 35u )
			goto st3;
	} else if ( (*p) > 46u ) {
		if ( (*p) < 65u ) {
			if ( 48u <= (*p) && (*p) <= 57u )
				goto st3;
		} else if ( (*p) > 90u ) {
			if ( 94u <= (*p) && (*p) <= 122u )
				goto st3;
		} else
			goto st3;
	} else
		goto st3;
	goto st0;
tr4:
/* #line 146 "runtime/rt_http.rl" */
	{ h->method.len = (uint32_t)(p - ub) - h->method.off; }
	goto st4;
st4:
	if ( ++p == pe )
		goto _test_eof4;
case 4:
/* #line 249 "runtime/rt_http.c" */
	if ( (*p) == 47u )
		goto tr6;
	goto st0;
tr6:
/* #line 147 "runtime/rt_http.rl" */
	{ h->target.off = (uint32_t)(p - ub); }
	goto st5;
st5:
	if ( ++p == pe )
		goto _test_eof5;
case 5:
/* #line 259 "runtime/rt_http.c" */
	if ( (*p) == 32u )
		goto tr7;
	if ( 33u <= (*p) && (*p) <= 126u )
		goto st5;
	goto st0;
tr7:
/* #line 148 "runtime/rt_http.rl" */
	{ h->target.len = (uint32_t)(p - ub) - h->target.off; }
	goto st6;
st6:
	if ( ++p == pe )
		goto _test_eof6;
case 6:
/* #line 271 "runtime/rt_http.c" */
	if ( (*p) == 72u )
		goto st7;
	goto st0;
st7:
	if ( ++p == pe )
		goto _test_eof7;
case 7:
	if ( (*p) == 84u )
		goto st8;
	goto st0;
st8:
	if ( ++p == pe )
		goto _test_eof8;
case 8:
	if ( (*p) == 84u )
		goto st9;
	goto st0;
st9:
	if ( ++p == pe )
		goto _test_eof9;
case 9:
	if ( (*p) == 80u )
		goto st10;
	goto st0;
st10:
	if ( ++p == pe )
		goto _test_eof10;
case 10:
	if ( (*p) == 47u )
		goto st11;
	goto st0;
st11:
	if ( ++p == pe )
		goto _test_eof11;
case 11:
	if ( 48u <= (*p) && (*p) <= 57u )
		goto tr14;
	goto st0;
tr14:
/* #line 149 "runtime/rt_http.rl" */
	{
        if ((*p) != '1') {
            rc = fail(h, 505, "http_version_not_supported", "only HTTP/1.x is served",
                      (uint32_t)(p - ub));
            {p++;  h->cs = 12; goto _out;}
        }
    }
	goto st12;
st12:
	if ( ++p == pe )
		goto _test_eof12;
case 12:
/* #line 322 "runtime/rt_http.c" */
	if ( (*p) == 46u )
		goto st13;
	goto st0;
st13:
	if ( ++p == pe )
		goto _test_eof13;
case 13:
	if ( 48u <= (*p) && (*p) <= 57u )
		goto tr16;
	goto st0;
tr16:
/* #line 156 "runtime/rt_http.rl" */
	{ h->minor = (*p) - '0'; }
	goto st14;
st14:
	if ( ++p == pe )
		goto _test_eof14;
case 14:
/* #line 339 "runtime/rt_http.c" */
	if ( (*p) == 13u )
		goto st15;
	goto st0;
st15:
	if ( ++p == pe )
		goto _test_eof15;
case 15:
	if ( (*p) == 10u )
		goto tr18;
	goto st0;
tr18:
/* #line 157 "runtime/rt_http.rl" */
	{ h->in_fields = 1; }
	goto st16;
tr27:
/* #line 162 "runtime/rt_http.rl" */
	{
        if ((rc = field(h, b)) != RT_HTTP_MORE)
            {p++;  h->cs = 16; goto _out;}
    }
	goto st16;
st16:
	if ( ++p == pe )
		goto _test_eof16;
case 16:
/* #line 362 "runtime/rt_http.c" */
	switch( (*p) ) {
		case 13u: goto st17;
		case 33u: goto tr20;
		case 124u: goto tr20;
		case 126u: goto tr20;
	}
	if ( (*p) < 45u ) {
		if ( (*p) > 39u ) {
			if ( 42u <= (*p) && (*p) <= 43u )
				goto tr20;
		} else if ( (*p) >= 35u )
			goto tr20;
	} else if ( (*p) > 46u ) {
		if ( (*p) < 65u ) {
			if ( 48u <= (*p) && (*p) <= 57u )
				goto tr20;
		} else if ( (*p) > 90u ) {
			if ( 94u <= (*p) && (*p) <= 122u )
				goto tr20;
		} else
			goto tr20;
	} else
		goto tr20;
	goto st0;
st17:
	if ( ++p == pe )
		goto _test_eof17;
case 17:
	if ( (*p) == 10u )
		goto tr21;
	goto st0;
tr21:
/* #line 166 "runtime/rt_http.rl" */
	{
        h->end = (uint32_t)(p - ub) + 1;
        rc = head_done(h, b);
        {p++;  h->cs = 22; goto _out;}
    }
	goto st22;
st22:
	if ( ++p == pe )
		goto _test_eof22;
case 22:
/* #line 404 "runtime/rt_http.c" */
	goto st0;
tr20:
/* #line 158 "runtime/rt_http.rl" */
	{ h->name_off = (uint32_t)(p - ub); h->val_off = h->val_end = 0; }
	goto st18;
st18:
	if ( ++p == pe )
		goto _test_eof18;
case 18:
/* #line 412 "runtime/rt_http.c" */
	switch( (*p) ) {
		case 33u: goto st18;
		case 58u: goto tr23;
		case 124u: goto st18;
		case 126u: goto st18;
	}
	if ( (*p) < 45u ) {
		if ( (*p) > 39u ) {
			if ( 42u <= (*p) && (*p) <= 43u )
				goto st18;
		} else if ( (*p) >= 35u )
			goto st18;
	} else if ( (*p) > 46u ) {
		if ( (*p) < 65u ) {
			if ( 48u <= (*p) && (*p) <= 57u )
				goto st18;
		} else if ( (*p) > 90u ) {
			if ( 94u <= (*p) && (*p) <= 122u )
				goto st18;
		} else
			goto st18;
	} else
		goto st18;
	goto st0;
tr23:
/* #line 159 "runtime/rt_http.rl" */
	{ h->name_len = (uint32_t)(p - ub) - h->name_off; }
	goto st19;
st19:
	if ( ++p == pe )
		goto _test_eof19;
case 19:
/* #line 443 "runtime/rt_http.c" */
	switch( (*p) ) {
		case 9u: goto st19;
		case 13u: goto st20;
		case 32u: goto st19;
		case 127u: goto st0;
	}
	if ( (*p) <= 31u )
		goto st0;
	goto tr26;
st20:
	if ( ++p == pe )
		goto _test_eof20;
case 20:
	if ( (*p) == 10u )
		goto tr27;
	goto st0;
tr26:
/* #line 160 "runtime/rt_http.rl" */
	{ h->val_off = (uint32_t)(p - ub); }
/* #line 161 "runtime/rt_http.rl" */
	{ h->val_end = (uint32_t)(p - ub) + 1; }
	goto st21;
tr29:
/* #line 161 "runtime/rt_http.rl" */
	{ h->val_end = (uint32_t)(p - ub) + 1; }
	goto st21;
st21:
	if ( ++p == pe )
		goto _test_eof21;
case 21:
/* #line 470 "runtime/rt_http.c" */
	switch( (*p) ) {
		case 9u: goto st21;
		case 13u: goto st20;
		case 32u: goto st21;
		case 127u: goto st0;
	}
	if ( (*p) <= 31u )
		goto st0;
	goto tr29;
	}
	_test_eof1:  h->cs = 1; goto _test_eof; 
	_test_eof2:  h->cs = 2; goto _test_eof; 
	_test_eof3:  h->cs = 3; goto _test_eof; 
	_test_eof4:  h->cs = 4; goto _test_eof; 
	_test_eof5:  h->cs = 5; goto _test_eof; 
	_test_eof6:  h->cs = 6; goto _test_eof; 
	_test_eof7:  h->cs = 7; goto _test_eof; 
	_test_eof8:  h->cs = 8; goto _test_eof; 
	_test_eof9:  h->cs = 9; goto _test_eof; 
	_test_eof10:  h->cs = 10; goto _test_eof; 
	_test_eof11:  h->cs = 11; goto _test_eof; 
	_test_eof12:  h->cs = 12; goto _test_eof; 
	_test_eof13:  h->cs = 13; goto _test_eof; 
	_test_eof14:  h->cs = 14; goto _test_eof; 
	_test_eof15:  h->cs = 15; goto _test_eof; 
	_test_eof16:  h->cs = 16; goto _test_eof; 
	_test_eof17:  h->cs = 17; goto _test_eof; 
	_test_eof22:  h->cs = 22; goto _test_eof; 
	_test_eof18:  h->cs = 18; goto _test_eof; 
	_test_eof19:  h->cs = 19; goto _test_eof; 
	_test_eof20:  h->cs = 20; goto _test_eof; 
	_test_eof21:  h->cs = 21; goto _test_eof; 

	_test_eof: {}
	_out: {}
	}

/* #line 209 "runtime/rt_http.rl" */
    }
    h->pos = (uint32_t)(p - ub);
    if (rc != RT_HTTP_MORE)
        return rc;
    if (h->cs == rt_http_error)
        return h->in_fields
            ? fail(h, 400, "bad_header", "malformed header field", h->pos)
            : fail(h, 400, "bad_request_line", "malformed request line", h->pos);
    if (n >= h->limit)
        return fail(h, 431, "headers_too_large",
                    "the request line and headers are over the size limit", h->limit);
    return RT_HTTP_MORE;
}

int rt_http_query_arg(const rt_http_head *h, const char *buf, const char *name,
                      char *out, size_t cap)
{
    const char *q = buf + h->query.off, *end = q + h->query.len;
    size_t nl = strlen(name);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *e = amp ? amp : end;
        if ((size_t)(e - q) > nl && !memcmp(q, name, nl) && q[nl] == '=') {
            size_t o = 0;
            for (const char *s = q + nl + 1; s < e; s++) {
                int c = (unsigned char)*s;
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int hi = s + 2 < e ? rt_hex_digit((unsigned char)s[1]) : -1,
                        lo = hi >= 0 ? rt_hex_digit((unsigned char)s[2]) : -1;
                    if (lo < 0)
                        return -2;
                    c = hi * 16 + lo;
                    s += 2;
                    if (!c)
                        return -2;
                }
                if (o + 1 >= cap)
                    return -2;
                out[o++] = (char)c;
            }
            out[o] = 0;
            return (int)o;
        }
        q = amp ? amp + 1 : end;
    }
    return -1;
}
