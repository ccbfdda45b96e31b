/* The host side of the syscall layer: POSIX calls, so a guest compiled with
 * the host's gcc behaves like the guest under the co-processor.  brk is
 * emulated over a static arena (the guest only ever grows it). */
#include "sys.h"

#include <unistd.h>

#define HOST_HEAP (64u << 20)
static uint8_t host_heap[HOST_HEAP];
static uint32_t host_break;

int32_t sys_read(int32_t fd, void *buf, uint32_t len) { return (int32_t)read(fd, buf, len); }

int32_t sys_write(int32_t fd, const void *buf, uint32_t len) {
    return (int32_t)write(fd, buf, len);
}

void sys_exit(int32_t code) { _exit(code); }

/* Addresses handed out are offsets into host_heap, starting at 4096, so the
 * guest's pointer arithmetic over the break works unchanged. */
uint32_t sys_brk(uint32_t addr) {
    if (host_break == 0) host_break = 4096;
    if (addr >= 4096 && addr <= HOST_HEAP) host_break = addr;
    return host_break;
}

void *brk_pointer(uint32_t addr) { return host_heap + addr; }
