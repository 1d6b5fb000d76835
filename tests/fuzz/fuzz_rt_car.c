/*
 * fuzz_rt_car.c — libFuzzer harness for rt_car (the CARv1 reader) and
 * rt_cid_decode.
 *
 * The input is read as a CAR.  An error must name an offset inside the
 * input.  A header that is accepted must be exactly the header that
 * rt_car_header writes for its roots (DAG-CBOR has one encoding per value,
 * and the reader takes no other), and each section read must be exactly
 * rt_car_section_prefix of its CID and length followed by the block, inside
 * the input.  Every CID read must have a text form.  The input is also
 * decoded as one CID, which must then print.
 *
 * Built by `make fuzz` (libFuzzer) and, replaying tests/fuzz/corpus/fuzz_rt_car,
 * by `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt_car.h"
#include "rt_cid.h"

static void prints(const uint8_t *cid, size_t n)
{
    char s[RT_CID_STR_MAX];
    if (rt_cid_to_string(cid, n, s, sizeof s) <= 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_cid c;
    if (rt_cid_decode(data, size, &c) == 0) {
        if (c.len > size || c.digest_off + c.digest_len != c.len)
            abort();
        prints(data, c.len);
        (void)rt_cid_matches(data, &c, data, size);
    }

    static rt_car_reader r;
    static uint8_t roots[RT_CAR_MAX_ROOTS * RT_CID_MAX_BYTES], header[RT_CAR_MAX_HEADER + 16];
    if (rt_car_open(&r, data, size) != 0) {
        if (!r.reason || r.error_off > size || r.error >= 0)
            abort();
        return 0;
    }
    size_t nr = 0, hl = 0;
    for (size_t i = 0; i < r.nroots; i++) {
        if (r.root_off[i] + r.roots[i].len > r.data_off)
            abort();
        prints(data + r.root_off[i], r.roots[i].len);
        memcpy(roots + nr, data + r.root_off[i], r.roots[i].len);
        nr += r.roots[i].len;
    }
    if (rt_car_header(roots, nr, header, sizeof header, &hl) != 0 || hl != r.data_off ||
        memcmp(header, data, hl) != 0)
        abort();

    rt_car_block b;
    int rc;
    size_t expect_off = r.data_off;
    while ((rc = rt_car_next(&r, &b)) == 1) {
        uint8_t pre[RT_CAR_PREFIX_MAX(RT_CID_MAX_BYTES)];
        if (b.off != expect_off || b.data_off > size || b.data_len > size - b.data_off)
            abort();
        size_t pl = rt_car_section_prefix(data + b.cid_off, b.cid.len, b.data_len, pre, sizeof pre);
        if (pl == 0 || b.off + pl != b.data_off || memcmp(pre, data + b.off, pl) != 0)
            abort();
        prints(data + b.cid_off, b.cid.len);
        (void)rt_cid_matches(data + b.cid_off, &b.cid, data + b.data_off, b.data_len);
        expect_off = b.data_off + b.data_len;
    }
    if (rc == 0 ? expect_off != size : (!r.reason || r.error_off > size))
        abort();
    return 0;
}
