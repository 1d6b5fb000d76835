/*
 * rt_evlog.h - dstack event logs: the replay of RTMR0-3 and what dstack's
 * runtime events in RTMR3 say about the instance.
 *
 * The log is the JSON array the dstack guest agent returns with a quote
 * (GetQuote's "event_log"): one object per event, {"imr": 0..3,
 * "event_type": u32, "digest": hex, "event": name, "event_payload": hex}.
 * Replaying it gives RTMR[i] = SHA-384(RTMR[i] || digest) over the events
 * of register i, from 48 zero bytes; the quote's RTMRs must equal that.
 *
 * RTMR3 holds dstack's runtime events, whose digest is
 *     SHA-384(le32(event_type) || ":" || event || ":" || payload)
 * so their content is bound to the quote through the replay.  Two forms
 * exist: logs that carry that digest (checked against the content), and
 * dstack 0.6's, whose RTMR3 events have an empty "digest" (recomputed here).
 * Events of RTMR0-2 are boot measurements whose content cannot be rehashed:
 * their digest must be given.
 *
 * The instance's identity comes from the runtime events dstack writes
 * before "system-ready": "app-id", "compose-hash" (32 bytes: SHA-256 of
 * the app-compose file), "instance-id", "key-provider" (JSON text) and
 * "os-image-hash".  Each may appear at most once in the whole log, so that
 * an application cannot add a second "compose-hash" later.
 */
#ifndef RT_EVLOG_H
#define RT_EVLOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dstack's event type for runtime events (not a TCG type). */
#define RT_EVLOG_RUNTIME_EVENT 0x08000001u
#define RT_EVLOG_ID_MAX 64 /* longest app id / instance id payload, bytes */

typedef struct rt_evlog {
    uint8_t rtmr[4][48];  /* the replay */
    size_t nevents;       /* events in the log */
    size_t nruntime;      /* of which RTMR3 events */
    size_t ncomputed;     /* RTMR3 digests recomputed from an empty "digest" */
    int content_ok;       /* every given RTMR3 digest matches its content */
    size_t bad_event;     /* the first that does not (index), when !content_ok */
    /* identity, from the runtime events before "system-ready" */
    uint8_t app_id[RT_EVLOG_ID_MAX], instance_id[RT_EVLOG_ID_MAX];
    size_t app_id_len, instance_id_len; /* 0: no such event */
    uint8_t compose_hash[32], os_image_hash[32];
    int have_compose_hash, have_os_image_hash;
    char key_provider[512]; /* the event's payload (JSON text), "" if none */
    int system_ready;       /* a "system-ready" event was seen */
    /* the first error */
    const char *reason; /* static text, NULL after success */
    size_t err_event;   /* index of the event it is about */
} rt_evlog;

/*
 * Parses and replays the log text[0..n) into *ev (which need not be
 * initialized).  Returns 0, or -1 with ev->reason and ev->err_event set (a
 * malformed log: not a JSON array, a missing or ill-typed field, imr out of
 * 0..3, a digest that is neither 48 bytes of hex nor, in RTMR3, empty, an
 * identity event twice or of the wrong size).  A digest that does not
 * match its content is not an error of the parse: it is reported by
 * ev->content_ok, and the given digest is what the replay extends.
 */
int rt_evlog_replay(const char *text, size_t n, rt_evlog *ev)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/* The digest of a runtime event: SHA-384(le32(type) || ":" || name || ":"
 * || payload).  Returns 0, or -1 if OpenSSL fails. */
int rt_evlog_digest(uint32_t type, const char *name, size_t name_len, const uint8_t *payload,
                    size_t payload_len, uint8_t out[48]);

#ifdef __cplusplus
}
#endif

#endif /* RT_EVLOG_H */
