/* matmul: C = A * B over 32-bit words (mod 2**32) for two N x N matrices
 * generated from SEED by an LCG.  Input: "N SEED" in decimal.  stdout: the
 * trace of C and an FNV-1a checksum of C; public output (fd 3): the checksum,
 * 4 bytes little-endian.  Work is ~N**3 * 6 instructions. */
#include "sys.h"

int main(void) {
    uint8_t text[64];
    uint32_t len = read_all(text, sizeof text);
    uint32_t pos = 0;
    uint32_t n = parse_u32(text, len, &pos);
    uint32_t seed = parse_u32(text, len, &pos);
    if (n == 0 || n > 512) {
        put_str(FD_STDOUT, "bad N\n");
        return 2;
    }
    uint32_t *a = heap_alloc(n * n * 4u);
    uint32_t *b = heap_alloc(n * n * 4u);
    uint32_t *c = heap_alloc(n * n * 4u);
    if (!a || !b || !c) {
        put_str(FD_STDOUT, "out of memory\n");
        return 3;
    }
    uint32_t x = seed;
    for (uint32_t i = 0; i < n * n; i++) {
        x = x * 1664525u + 1013904223u;
        a[i] = x >> 8;
        x = x * 1664525u + 1013904223u;
        b[i] = x >> 8;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t *row = c + i * n;
        for (uint32_t j = 0; j < n; j++) row[j] = 0;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t aik = a[i * n + k];
            const uint32_t *bk = b + k * n;
            for (uint32_t j = 0; j < n; j++) row[j] += aik * bk[j];
        }
    }
    uint32_t trace = 0, h = 2166136261u;
    for (uint32_t i = 0; i < n * n; i++) {
        if (i % (n + 1) == 0) trace += c[i];
        for (int s = 0; s < 4; s++) {
            h ^= (c[i] >> (8 * s)) & 0xffu;
            h *= 16777619u;
        }
    }
    put_str(FD_STDOUT, "n=");
    put_u32(FD_STDOUT, n);
    put_str(FD_STDOUT, " trace=");
    put_hex32(FD_STDOUT, trace);
    put_str(FD_STDOUT, " fnv=");
    put_hex32(FD_STDOUT, h);
    put_str(FD_STDOUT, "\n");
    uint8_t le[4] = {(uint8_t)h, (uint8_t)(h >> 8), (uint8_t)(h >> 16), (uint8_t)(h >> 24)};
    sys_write(FD_PUBLIC, le, 4);
    return 0;
}
