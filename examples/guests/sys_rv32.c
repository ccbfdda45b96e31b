/* The guest side of the syscall layer: Linux-numbered ecalls (a7 = number). */
#include "sys.h"

static inline int32_t ecall3(int32_t n, int32_t a0, int32_t a1, int32_t a2) {
    register int32_t r_a0 __asm__("a0") = a0;
    register int32_t r_a1 __asm__("a1") = a1;
    register int32_t r_a2 __asm__("a2") = a2;
    register int32_t r_a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a7) : "memory");
    return r_a0;
}

int32_t sys_read(int32_t fd, void *buf, uint32_t len) {
    return ecall3(63, fd, (int32_t)(uintptr_t)buf, (int32_t)len);
}

int32_t sys_write(int32_t fd, const void *buf, uint32_t len) {
    return ecall3(64, fd, (int32_t)(uintptr_t)buf, (int32_t)len);
}

void sys_exit(int32_t code) {
    ecall3(93, code, 0, 0);
    for (;;) {
    }
}

uint32_t sys_brk(uint32_t addr) { return (uint32_t)ecall3(214, (int32_t)addr, 0, 0); }

void *brk_pointer(uint32_t addr) { return (void *)(uintptr_t)addr; }

/* gcc may emit calls to these even in freestanding code. */
void *memcpy(void *dst, const void *src, uint32_t n) {
    bytes_copy(dst, src, n);
    return dst;
}

void *memset(void *dst, int c, uint32_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}
