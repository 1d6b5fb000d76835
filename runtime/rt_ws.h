/*
 * rt_ws.h — RFC 6455 WebSocket: the opening handshake's keys, frame
 * headers, close payloads, and a streaming frame parser.
 *
 * What toyapp's GET /ws needs, and what a client of it needs (the tests and
 * the benchmark use the same code from the other side):
 *
 *   - the handshake: checking a Sec-WebSocket-Key and computing its
 *     Sec-WebSocket-Accept (§4.2.2: base64 of SHA-1 of the key and the GUID);
 *   - frames out: a header for a payload (§5.2; unmasked from a server,
 *     masked from a client), masking, and a close frame's payload (§5.5.1);
 *   - frames in: a parser that takes bytes in chunks of any size and reports
 *     events — a data frame's header, its payload bytes (unmasked in place),
 *     its end, and each control frame whole — with every rule of §5 that a
 *     receiver must enforce.  No extension is ever negotiated, so the
 *     reserved bits must be zero.
 *
 * The parser's errors are sticky (the first one stays), with a static
 * reason, the offset in the stream of the byte that decided it, and the
 * close code the receiver should send: 1002 (protocol error) for a frame
 * that breaks the framing rules, 1007 for text or a close reason that is not
 * UTF-8, 1009 for a message over the caller's limit.
 *
 * Pure: no allocation, no I/O, no global state; the caller owns the
 * parser's struct.  Pointers are borrowed for the duration of the call,
 * except an event's data, which points into the caller's buffer (a data
 * chunk) or into the parser (a control frame's payload) until the next
 * call.
 */
#ifndef RT_WS_H
#define RT_WS_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes (§5.2). */
enum rt_ws_op {
    RT_WS_OP_CONT = 0x0, RT_WS_OP_TEXT = 0x1, RT_WS_OP_BINARY = 0x2,
    RT_WS_OP_CLOSE = 0x8, RT_WS_OP_PING = 0x9, RT_WS_OP_PONG = 0xA
};

/* Close codes (§7.4.1 and IANA's registry). */
enum rt_ws_close {
    RT_WS_CLOSE_NORMAL = 1000, RT_WS_CLOSE_GOING_AWAY = 1001, RT_WS_CLOSE_PROTOCOL = 1002,
    RT_WS_CLOSE_UNSUPPORTED = 1003, RT_WS_CLOSE_NO_STATUS = 1005, RT_WS_CLOSE_ABNORMAL = 1006,
    RT_WS_CLOSE_INVALID = 1007, RT_WS_CLOSE_POLICY = 1008, RT_WS_CLOSE_TOO_BIG = 1009,
    RT_WS_CLOSE_INTERNAL = 1011, RT_WS_CLOSE_TRY_LATER = 1013
};

/* The longest frame header: 2 bytes, a 64-bit length, a masking key. */
#define RT_WS_HEADER_MAX 14
/* The longest control frame payload, and a close reason's. */
#define RT_WS_CONTROL_MAX 125
#define RT_WS_REASON_MAX 123
/* Characters of a Sec-WebSocket-Accept value (base64 of 20 bytes). */
#define RT_WS_ACCEPT_LEN 28

/* ------------------------------------------------------------ handshake */

/* Is key[0..n) a Sec-WebSocket-Key as §4.1 requires: the base64 of 16
 * bytes (22 characters of the base64 alphabet and "==", the last character
 * before the padding one that leaves no stray bits)?  1 or 0. */
int rt_ws_key_valid(const char *key, size_t n);

/* The Sec-WebSocket-Accept of key[0..n): base64(SHA-1(key ||
 * "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), NUL-terminated in out. */
void rt_ws_accept(const char *key, size_t n, char out[RT_WS_ACCEPT_LEN + 1]);

/* ---------------------------------------------------------- frames out */

/* Writes the header of a frame with opcode op, FIN as fin, and a payload of
 * len bytes; masked with mask[0..4) when mask is not NULL (a client's
 * frame), else unmasked (a server's).  Returns the header's length (2 to
 * RT_WS_HEADER_MAX).  The length is encoded minimally, as §5.2 requires. */
size_t rt_ws_header(uint8_t out[RT_WS_HEADER_MAX], int op, int fin, uint64_t len, const uint8_t *mask);

/* XORs p[0..n) with the masking key, as if p started at byte offset of the
 * payload (so a payload may be masked, or unmasked, in pieces). */
void rt_ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* The payload of a close frame: code (big-endian) and reason, cut to
 * RT_WS_REASON_MAX bytes at a character boundary when longer (reason is
 * UTF-8).  Returns its length (2 to RT_WS_CONTROL_MAX). */
size_t rt_ws_close_payload(uint8_t out[RT_WS_CONTROL_MAX], unsigned code, const char *reason);

/* May an endpoint send close code in a close frame (§7.4: 1000-1003,
 * 1007-1014, 3000-4999)?  1 or 0. */
int rt_ws_close_code_valid(unsigned code);

/* ----------------------------------------------------------- frames in */

/* Which side the parser reads for: a server reads masked frames from a
 * client, a client unmasked frames from a server (§5.1). */
enum rt_ws_role { RT_WS_SERVER = 0, RT_WS_CLIENT = 1 };

/* Results of rt_ws_parse. */
enum { RT_WS_MORE = 0, RT_WS_EVENT = 1, RT_WS_ERROR = -1 };

/* Events. */
enum rt_ws_ev {
    RT_WS_EV_FRAME = 1,   /* a data frame's header: op (TEXT, BINARY or CONT),
                             message_op, fin, len */
    RT_WS_EV_DATA,        /* data[0..len) of its payload, unmasked (len > 0) */
    RT_WS_EV_FRAME_END,   /* its payload is complete; fin: the message is too */
    RT_WS_EV_CONTROL      /* a whole control frame: op, data[0..len); for a
                             close, code (RT_WS_CLOSE_NO_STATUS without one)
                             and reason[0..reason_len) */
};

typedef struct rt_ws_event {
    int type;                  /* enum rt_ws_ev */
    int op;                    /* the frame's opcode */
    int message_op;            /* TEXT or BINARY: the message the frame belongs to */
    int fin;
    uint64_t len;              /* FRAME: the payload's length; DATA, CONTROL: data's */
    uint8_t *data;
    unsigned code;             /* CONTROL close */
    const char *reason;
    size_t reason_len;
} rt_ws_event;

/* Error codes (RT_WS_E_*), each with its close code in rt_ws_parser.close. */
#define RT_WS_ERRORS(XX)                                                              \
    XX(RSV, "reserved bits set without an extension", RT_WS_CLOSE_PROTOCOL)          \
    XX(OPCODE, "unknown opcode", RT_WS_CLOSE_PROTOCOL)                               \
    XX(MASK, "a client's frame must be masked, a server's must not", RT_WS_CLOSE_PROTOCOL) \
    XX(CONTROL, "a control frame is fragmented or longer than 125 bytes", RT_WS_CLOSE_PROTOCOL) \
    XX(LENGTH, "the payload length is not minimally encoded or over 2^63", RT_WS_CLOSE_PROTOCOL) \
    XX(CONT, "a continuation frame with no message to continue", RT_WS_CLOSE_PROTOCOL) \
    XX(INTERLEAVED, "a new message before the fragmented one ended", RT_WS_CLOSE_PROTOCOL) \
    XX(TOO_BIG, "the message is over the size limit", RT_WS_CLOSE_TOO_BIG)           \
    XX(UTF8, "text that is not UTF-8", RT_WS_CLOSE_INVALID)                          \
    XX(CLOSE_LEN, "a close payload of one byte", RT_WS_CLOSE_PROTOCOL)              \
    XX(CLOSE_CODE, "a close code that may not be sent", RT_WS_CLOSE_PROTOCOL)        \
    XX(AFTER_CLOSE, "a frame after the close frame", RT_WS_CLOSE_PROTOCOL)

enum rt_ws_error {
    RT_WS_E_NONE = 0,
#define XX(name, reason, close) RT_WS_E_##name,
    RT_WS_ERRORS(XX)
#undef XX
};

typedef struct rt_ws_parser {
    /* configuration */
    int role;                  /* enum rt_ws_role */
    uint64_t max_message;      /* largest data message, in bytes */
    /* the error (sticky) */
    int error;                 /* enum rt_ws_error */
    const char *reason;        /* static */
    unsigned close;            /* the close code to answer it with */
    uint64_t error_off;        /* stream offset of the byte that decided it */
    /* machine state */
    uint64_t off;              /* bytes consumed so far */
    int state;
    uint8_t hdr[RT_WS_HEADER_MAX];
    unsigned hlen, hneed;
    int op, fin, masked;
    uint8_t key[4];
    uint64_t len, done;        /* the frame's payload length, bytes of it read */
    int msg_op;                /* the message under way (0: none) */
    uint64_t msg_len;          /* its bytes so far */
    int closed;                /* a close frame was read */
    unsigned u8need;           /* UTF-8: continuation bytes still expected */
    uint8_t u8lo, u8hi;        /* the range of the next one */
    uint8_t ctl[RT_WS_CONTROL_MAX];
} rt_ws_parser;

/* Starts a parser for role, refusing data messages over max_message bytes
 * (1009). */
void rt_ws_init(rt_ws_parser *p, int role, uint64_t max_message);

/*
 * Reads buf[0..n) (which it may change: payloads are unmasked in place) up
 * to the next event.  Sets *used to the bytes consumed and returns
 * RT_WS_EVENT (*ev filled; call again with the rest of the buffer),
 * RT_WS_MORE (all n bytes consumed, no event complete) or RT_WS_ERROR
 * (p->error, p->reason, p->close and p->error_off say what; every later
 * call returns RT_WS_ERROR at once).  Events depend only on the bytes, not
 * on how they were cut, except that DATA events end where the chunks do.
 */
int rt_ws_parse(rt_ws_parser *p, uint8_t *buf, size_t n, size_t *used, rt_ws_event *ev);

/* Is s[0..n) UTF-8 as RFC 3629 defines it (no overlong forms, surrogates
 * or code points past U+10FFFF)?  1 or 0. */
int rt_ws_utf8_valid(const uint8_t *s, size_t n);

#endif
