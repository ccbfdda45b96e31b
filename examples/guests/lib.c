/* Freestanding helpers over the syscall layer, shared by guest and host. */
#include "sys.h"

uint32_t read_all(uint8_t *buf, uint32_t cap) {
    uint32_t got = 0;
    while (got < cap) {
        int32_t n = sys_read(FD_INPUT, buf + got, cap - got);
        if (n <= 0) break;
        got += (uint32_t)n;
    }
    return got;
}

void *heap_alloc(uint32_t bytes) {
    uint32_t old = sys_brk(0);
    uint32_t start = (old + 15u) & ~15u;
    uint32_t want = start + bytes;
    if (want < start) return 0;
    if (sys_brk(want) != want) return 0;
    return brk_pointer(start);
}

void bytes_copy(void *dst, const void *src, uint32_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--) *d++ = *s++;
}

void bytes_zero(void *dst, uint32_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = 0;
}

void put_str(int32_t fd, const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    sys_write(fd, s, n);
}

void put_u32(int32_t fd, uint32_t v) {
    char buf[10];
    uint32_t i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    sys_write(fd, buf + i, sizeof buf - i);
}

static const char HEX[] = "0123456789abcdef";

void put_hex32(int32_t fd, uint32_t v) {
    char buf[8];
    for (int i = 7; i >= 0; i--) {
        buf[i] = HEX[v & 15u];
        v >>= 4;
    }
    sys_write(fd, buf, 8);
}

void put_hex_bytes(int32_t fd, const uint8_t *p, uint32_t n) {
    char buf[64];
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        buf[k++] = HEX[p[i] >> 4];
        buf[k++] = HEX[p[i] & 15u];
        if (k == sizeof buf) {
            sys_write(fd, buf, k);
            k = 0;
        }
    }
    if (k) sys_write(fd, buf, k);
}

uint32_t parse_u32(const uint8_t *s, uint32_t n, uint32_t *pos) {
    uint32_t i = *pos, v = 0;
    while (i < n && (s[i] < '0' || s[i] > '9')) i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') v = v * 10u + (uint32_t)(s[i++] - '0');
    *pos = i;
    return v;
}
