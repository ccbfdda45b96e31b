/* A guest that uses the two effects that wait: Exec.call and Clock.sleep.
 *
 *   1. Exec.call("square", 7)   -> runs the stored TEL `square` in a child execution
 *   2. Clock.sleep(5)           -> sleeps 5 ms on the Env clock
 * Each reply is printed as "<effect>: <reply length> <reply hex>"; the exit code
 * is the Exec reply's low byte when it is a one-byte-header CBOR integer < 256. */
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

static uint8_t reply[64];

static int32_t call(const char *name, const uint8_t *req, uint32_t n) {
    int32_t got = effect(req, n, reply, sizeof reply);
    put_str(FD_STDOUT, name);
    put_str(FD_STDOUT, ": ");
    put_u32(FD_STDOUT, (uint32_t)got);
    put_str(FD_STDOUT, " ");
    if (got > 0) put_hex_bytes(FD_STDOUT, reply, (uint32_t)got);
    put_str(FD_STDOUT, "\n");
    return got;
}

/* ["Exec", "call", ["square", 7]] */
static const uint8_t exec_req[] = {0x83, 0x64, 'E', 'x', 'e', 'c', 0x64, 'c', 'a', 'l', 'l',
                                   0x82, 0x66, 's', 'q', 'u', 'a', 'r', 'e', 0x07};
/* ["Clock", "sleep", [5]] */
static const uint8_t sleep_req[] = {0x83, 0x65, 'C', 'l', 'o', 'c', 'k', 0x65, 's', 'l', 'e',
                                    'e', 'p', 0x81, 0x05};

int main(void) {
    int32_t got = call("Exec.call", exec_req, sizeof exec_req);
    int code = 255;
    if (got == 1 && reply[0] < 24) code = reply[0];
    if (got == 2 && reply[0] == 0x18) code = reply[1];
    call("Clock.sleep", sleep_req, sizeof sleep_req);
    return code;
}
