/* A guest that uses Stele effects through the effect ecall (0x5E1E).
 *
 * Requests are canonical CBOR [effect, op, [args...]] built by hand:
 *   1. Log.emit(<input as text>)
 *   2. KV.put("guest/last", <input bytes>)
 *   3. Rand.int(1, 6)
 * After each call it prints "<effect>: <reply length> <reply hex>" to stdout.
 * A denied effect never returns: the host ends the run with EffectDenied.
 * Exit code 0 when every call returned a reply, 1 otherwise. */
#include "../guests/sys.h"

#define SYS_EFFECT 0x5E1E

static int32_t effect(const uint8_t *req, uint32_t n, uint8_t *reply, uint32_t cap) {
    register int32_t a0 __asm__("a0") = (int32_t)(uintptr_t)req;
    register int32_t a1 __asm__("a1") = (int32_t)n;
    register int32_t a2 __asm__("a2") = (int32_t)(uintptr_t)reply;
    register int32_t a3 __asm__("a3") = (int32_t)cap;
    register int32_t a7 __asm__("a7") = SYS_EFFECT;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a7) : "memory");
    return a0;
}

static uint32_t put(uint8_t *out, uint32_t at, const char *s) {
    while (*s) out[at++] = (uint8_t)*s++;
    return at;
}

/* a CBOR header for major type `major` and length `len` (< 65536) */
static uint32_t head(uint8_t *out, uint32_t at, uint8_t major, uint32_t len) {
    if (len < 24) {
        out[at++] = (uint8_t)((major << 5) | len);
    } else if (len < 256) {
        out[at++] = (uint8_t)((major << 5) | 24);
        out[at++] = (uint8_t)len;
    } else {
        out[at++] = (uint8_t)((major << 5) | 25);
        out[at++] = (uint8_t)(len >> 8);
        out[at++] = (uint8_t)len;
    }
    return at;
}

static uint8_t input[256], req[600], reply[256];

static int call(const char *name, uint32_t n) {
    int32_t got = effect(req, n, reply, sizeof reply);
    put_str(FD_STDOUT, name);
    put_str(FD_STDOUT, ": ");
    if (got < 0) {
        put_str(FD_STDOUT, "error\n");
        return 1;
    }
    put_u32(FD_STDOUT, (uint32_t)got);
    put_str(FD_STDOUT, " ");
    put_hex_bytes(FD_STDOUT, reply, (uint32_t)got < sizeof reply ? (uint32_t)got : sizeof reply);
    put_str(FD_STDOUT, "\n");
    return 0;
}

int main(void) {
    uint32_t len = read_all(input, sizeof input), n, i;
    int bad = 0;

    n = head(req, 0, 4, 3);  /* ["Log", "emit", [msg]] */
    n = head(req, n, 3, 3); n = put(req, n, "Log");
    n = head(req, n, 3, 4); n = put(req, n, "emit");
    n = head(req, n, 4, 1); n = head(req, n, 3, len);
    for (i = 0; i < len; i++) req[n++] = input[i];
    bad |= call("Log.emit", n);

    n = head(req, 0, 4, 3);  /* ["KV", "put", [key, value]] */
    n = head(req, n, 3, 2); n = put(req, n, "KV");
    n = head(req, n, 3, 3); n = put(req, n, "put");
    n = head(req, n, 4, 2); n = head(req, n, 3, 10); n = put(req, n, "guest/last");
    n = head(req, n, 2, len);
    for (i = 0; i < len; i++) req[n++] = input[i];
    bad |= call("KV.put", n);

    n = head(req, 0, 4, 3);  /* ["Rand", "int", [1, 6]] */
    n = head(req, n, 3, 4); n = put(req, n, "Rand");
    n = head(req, n, 3, 3); n = put(req, n, "int");
    n = head(req, n, 4, 2); req[n++] = 0x01; req[n++] = 0x06;
    bad |= call("Rand.int", n);
    return bad;
}
