/* rt_ws.c — RFC 6455 WebSocket keys, frames and the frame parser (rt_ws.h). */
#include "rt_ws.h"

#include <string.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* ---- handshake -------------------------------------------------------------- */

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int rt_ws_key_valid(const char *key, size_t n)
{
    if (n != 24 || key[22] != '=' || key[23] != '=')
        return 0;
    for (int i = 0; i < 22; i++)
        if (b64_value(key[i]) < 0)
            return 0;
    /* 16 bytes are 128 bits: the 22nd character carries 2 of them, and its
     * 4 low bits must be zero in the canonical encoding. */
    return (b64_value(key[21]) & 0x0f) == 0;
}

void rt_ws_accept(const char *key, size_t n, char out[RT_WS_ACCEPT_LEN + 1])
{
    struct sha1_ctx h;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&h);
    sha1_update(&h, n, (const uint8_t *)key);
    sha1_update(&h, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&h, sizeof d, d);
    base64_encode_raw(out, sizeof d, d);
    out[RT_WS_ACCEPT_LEN] = 0;
}

/* ---- frames out ------------------------------------------------------------- */

size_t rt_ws_header(uint8_t out[RT_WS_HEADER_MAX], int op, int fin, uint64_t len, const uint8_t *mask)
{
    size_t n = 2;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        out[1] = m | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] = m | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void rt_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= mask[(offset + i) & 3];
}

int rt_ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
           || (code >= 3000 && code <= 4999);
}

size_t rt_ws_close_payload(uint8_t out[RT_WS_CONTROL_MAX], unsigned code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (n > RT_WS_REASON_MAX) {
        n = RT_WS_REASON_MAX;
        /* Cut before a character, not inside one. */
        while (n && ((uint8_t)reason[n] & 0xc0) == 0x80)
            n--;
    }
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (n)
        memcpy(out + 2, reason, n);
    return 2 + n;
}

/* ---- UTF-8 ------------------------------------------------------------------- */

/* Advances the UTF-8 check over s[0..n); returns how many bytes are valid
 * (n when all are).  *need, *lo, *hi carry a character across calls. */
static size_t utf8_scan(unsigned *need, uint8_t *lo, uint8_t *hi, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (*need) {
            if (b < *lo || b > *hi)
                return i;
            (*need)--;
            *lo = 0x80;
            *hi = 0xbf;
            continue;
        }
        if (b < 0x80)
            continue;
        *lo = 0x80;
        *hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            *need = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            *need = 2;
            if (b == 0xe0)
                *lo = 0xa0;          /* no overlong 3-byte form */
            else if (b == 0xed)
                *hi = 0x9f;          /* no surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            *need = 3;
            if (b == 0xf0)
                *lo = 0x90;          /* no overlong 4-byte form */
            else if (b == 0xf4)
                *hi = 0x8f;          /* nothing past U+10FFFF */
        } else {
            return i;
        }
    }
    return n;
}

int rt_ws_utf8_valid(const uint8_t *s, size_t n)
{
    unsigned need = 0;
    uint8_t lo = 0x80, hi = 0xbf;
    return utf8_scan(&need, &lo, &hi, s, n) == n && !need;
}

/* ---- the parser -------------------------------------------------------------- */

enum { S_HEADER, S_DATA, S_DATA_END, S_CONTROL };

static int is_control(int op)
{
    return op & 0x8;
}

static int fail(rt_ws_parser *p, int e, uint64_t off)
{
    static const struct { const char *reason; unsigned close; } info[] = {
        [RT_WS_E_NONE] = { NULL, 0 },
#define XX(name, reason, close) [RT_WS_E_##name] = { reason, close },
        RT_WS_ERRORS(XX)
#undef XX
    };
    p->error = e;
    p->reason = info[e].reason;
    p->close = info[e].close;
    p->error_off = off;
    return RT_WS_ERROR;
}

void rt_ws_init(rt_ws_parser *p, int role, uint64_t max_message)
{
    memset(p, 0, sizeof p[0]);
    p->role = role;
    p->max_message = max_message;
    p->state = S_HEADER;
    p->hneed = 2;
}

/* The header byte b, at stream offset off.  Returns 0, or RT_WS_ERROR. */
static int header_byte(rt_ws_parser *p, uint8_t b, uint64_t off)
{
    unsigned i = p->hlen;
    p->hdr[p->hlen++] = b;
    if (i == 0) {
        if (p->closed)
            return fail(p, RT_WS_E_AFTER_CLOSE, off);
        if (b & 0x70)
            return fail(p, RT_WS_E_RSV, off);
        int op = b & 0x0f;
        if (op != RT_WS_OP_CONT && op != RT_WS_OP_TEXT && op != RT_WS_OP_BINARY && op != RT_WS_OP_CLOSE
            && op != RT_WS_OP_PING && op != RT_WS_OP_PONG)
            return fail(p, RT_WS_E_OPCODE, off);
        p->op = op;
        p->fin = b >> 7;
        if (is_control(op) && !p->fin)
            return fail(p, RT_WS_E_CONTROL, off);
        if (op == RT_WS_OP_CONT && !p->msg_op)
            return fail(p, RT_WS_E_CONT, off);
        if ((op == RT_WS_OP_TEXT || op == RT_WS_OP_BINARY) && p->msg_op)
            return fail(p, RT_WS_E_INTERLEAVED, off);
        return 0;
    }
    if (i == 1) {
        p->masked = b >> 7;
        if (p->masked != (p->role == RT_WS_SERVER))
            return fail(p, RT_WS_E_MASK, off);
        unsigned len7 = b & 0x7f;
        if (is_control(p->op) && len7 > RT_WS_CONTROL_MAX)
            return fail(p, RT_WS_E_CONTROL, off);
        if (p->op == RT_WS_OP_CLOSE && len7 == 1)
            return fail(p, RT_WS_E_CLOSE_LEN, off);
        unsigned ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        p->hneed = 2 + ext + (p->masked ? 4 : 0);
        p->len = ext ? 0 : len7;
        if (ext)
            return 0;
    } else if (i < 2 + ((p->hdr[1] & 0x7f) == 126 ? 2u : (p->hdr[1] & 0x7f) == 127 ? 8u : 0u)) {
        unsigned ext = (p->hdr[1] & 0x7f) == 126 ? 2 : 8;
        if (ext == 8 && i == 2 && (b & 0x80))
            return fail(p, RT_WS_E_LENGTH, off);
        p->len = p->len << 8 | b;
        if (i + 1 < 2 + ext)
            return 0;
        if ((ext == 2 && p->len < 126) || (ext == 8 && p->len <= 0xffff))
            return fail(p, RT_WS_E_LENGTH, off);
    } else {
        p->key[i - (p->hneed - 4)] = b;
        return 0;
    }
    /* The length is known (this byte completed it). */
    if (!is_control(p->op)) {
        uint64_t so_far = p->op == RT_WS_OP_CONT ? p->msg_len : 0;
        if (p->len > p->max_message || so_far > p->max_message - p->len)
            return fail(p, RT_WS_E_TOO_BIG, off);
    }
    return 0;
}

/* The header is complete: the frame's event. */
static int header_done(rt_ws_parser *p, rt_ws_event *ev)
{
    p->done = 0;
    p->hlen = 0;
    p->hneed = 2;
    if (is_control(p->op)) {
        p->state = S_CONTROL;
        return 0;   /* its event comes with its payload */
    }
    if (p->op != RT_WS_OP_CONT) {
        p->msg_op = p->op;
        p->msg_len = 0;
        p->u8need = 0;
    }
    p->msg_len += p->len;
    p->state = p->len ? S_DATA : S_DATA_END;
    memset(ev, 0, sizeof *ev);
    ev->type = RT_WS_EV_FRAME;
    ev->op = p->op;
    ev->message_op = p->msg_op;
    ev->fin = p->fin;
    ev->len = p->len;
    return 1;
}

/* The control frame's payload is all in p->ctl: check it, make its event. */
static int control_done(rt_ws_parser *p, rt_ws_event *ev)
{
    uint64_t start = p->off - p->len;   /* the payload's first byte */
    memset(ev, 0, sizeof *ev);
    ev->type = RT_WS_EV_CONTROL;
    ev->op = p->op;
    ev->fin = 1;
    ev->data = p->ctl;
    ev->len = p->len;
    p->state = S_HEADER;
    if (p->op != RT_WS_OP_CLOSE)
        return RT_WS_EVENT;
    p->closed = 1;
    ev->code = RT_WS_CLOSE_NO_STATUS;
    ev->reason = "";
    if (p->len >= 2) {
        ev->code = (unsigned)p->ctl[0] << 8 | p->ctl[1];
        if (!rt_ws_close_code_valid(ev->code))
            return fail(p, RT_WS_E_CLOSE_CODE, start + 1);
        unsigned need = 0;
        uint8_t lo = 0x80, hi = 0xbf;
        size_t rl = (size_t)p->len - 2, ok = utf8_scan(&need, &lo, &hi, p->ctl + 2, rl);
        if (ok < rl)
            return fail(p, RT_WS_E_UTF8, start + 2 + ok);
        if (need)
            return fail(p, RT_WS_E_UTF8, p->off);
        ev->reason = (const char *)p->ctl + 2;
        ev->reason_len = rl;
    }
    return RT_WS_EVENT;
}

int rt_ws_parse(rt_ws_parser *p, uint8_t *buf, size_t n, size_t *used, rt_ws_event *ev)
{
    size_t i = 0;
    *used = 0;
    if (p->error)
        return RT_WS_ERROR;
    for (;;) {
        switch (p->state) {
        case S_HEADER:
            while (i < n && p->hlen < p->hneed) {
                int rc = header_byte(p, buf[i], p->off);
                if (rc)
                    return rc;
                i++;
                p->off++;
            }
            if (p->hlen < p->hneed) {
                *used = i;
                return RT_WS_MORE;
            }
            if (header_done(p, ev)) {
                *used = i;
                return RT_WS_EVENT;
            }
            if (p->len == 0) {
                *used = i;
                return control_done(p, ev);
            }
            break;
        case S_DATA: {
            uint64_t left = p->len - p->done;
            size_t k = n - i < left ? n - i : (size_t)left;
            if (!k) {
                *used = i;
                return RT_WS_MORE;
            }
            uint8_t *d = buf + i;
            if (p->masked)
                rt_ws_mask(d, k, p->key, p->done);
            if (p->msg_op == RT_WS_OP_TEXT) {
                size_t ok = utf8_scan(&p->u8need, &p->u8lo, &p->u8hi, d, k);
                if (ok < k) {
                    if (!ok)
                        return fail(p, RT_WS_E_UTF8, p->off);
                    /* The valid bytes first; the bad one errs on the next
                     * call.  Mask the rest back, so that it is unmasked
                     * once, from the same offset, whatever the cuts. */
                    if (p->masked)
                        rt_ws_mask(d + ok, k - ok, p->key, p->done + ok);
                    k = ok;
                }
            }
            p->done += k;
            p->off += k;
            *used = i + k;
            if (p->done == p->len)
                p->state = S_DATA_END;
            memset(ev, 0, sizeof *ev);
            ev->type = RT_WS_EV_DATA;
            ev->op = p->op;
            ev->message_op = p->msg_op;
            ev->fin = p->fin;
            ev->data = d;
            ev->len = k;
            return RT_WS_EVENT;
        }
        case S_DATA_END:
            *used = i;
            if (p->fin && p->msg_op == RT_WS_OP_TEXT && p->u8need)
                return fail(p, RT_WS_E_UTF8, p->off);
            memset(ev, 0, sizeof *ev);
            ev->type = RT_WS_EV_FRAME_END;
            ev->op = p->op;
            ev->message_op = p->msg_op;
            ev->fin = p->fin;
            if (p->fin)
                p->msg_op = 0;
            p->state = S_HEADER;
            return RT_WS_EVENT;
        case S_CONTROL: {
            uint64_t left = p->len - p->done;
            size_t k = n - i < left ? n - i : (size_t)left;
            memcpy(p->ctl + p->done, buf + i, k);
            if (p->masked)
                rt_ws_mask(p->ctl + p->done, k, p->key, p->done);
            p->done += k;
            p->off += k;
            i += k;
            *used = i;
            if (p->done < p->len)
                return RT_WS_MORE;
            return control_done(p, ev);
        }
        }
    }
}
