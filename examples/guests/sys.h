/* The syscall layer shared by every Stele guest.
 *
 * Under the co-processor (and qemu-riscv32) these are Linux-numbered ecalls
 * (sys_rv32.c); on the host they are POSIX calls (sys_host.c), so the same
 * guest source compiles both ways and the outputs can be compared.
 *
 * fd 0: the execution's input; fd 1: stdout; fd 3: the public output. */
#ifndef STELE_GUEST_SYS_H
#define STELE_GUEST_SYS_H
#include <stdint.h>

#define FD_INPUT 0
#define FD_STDOUT 1
#define FD_PUBLIC 3

int32_t sys_read(int32_t fd, void *buf, uint32_t len);
int32_t sys_write(int32_t fd, const void *buf, uint32_t len);
void sys_exit(int32_t code) __attribute__((noreturn));
/* Linux brk: returns the new break (the old one on failure). */
uint32_t sys_brk(uint32_t addr);
/* The pointer behind a break address (identity on the guest). */
void *brk_pointer(uint32_t addr);

/* Helpers built on the four calls (lib.c). */
uint32_t read_all(uint8_t *buf, uint32_t cap);   /* until EOF or cap */
void *heap_alloc(uint32_t bytes);                /* brk bump allocator, NULL on failure */
void put_str(int32_t fd, const char *s);
void put_u32(int32_t fd, uint32_t v);            /* decimal */
void put_hex32(int32_t fd, uint32_t v);          /* 8 lowercase hex digits */
void put_hex_bytes(int32_t fd, const uint8_t *p, uint32_t n);
uint32_t parse_u32(const uint8_t *s, uint32_t n, uint32_t *pos);  /* skips non-digits */
void bytes_copy(void *dst, const void *src, uint32_t n);
void bytes_zero(void *dst, uint32_t n);
#endif
