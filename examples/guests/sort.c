/* sort: generate N pseudo-random words (xorshift32 from SEED), merge-sort
 * them on a brk-allocated heap, check the order and print a digest.
 * Input: "N SEED" in decimal.  stdout: n, min, median, max and an FNV-1a
 * checksum of the sorted words; public output (fd 3): the checksum, 4 bytes
 * little-endian.  Work is ~N log2 N * 15 instructions. */
#include "sys.h"

static void merge_sort(uint32_t *a, uint32_t *tmp, uint32_t n) {
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        /* runs of 2*width now live in tmp: swap the roles */
        uint32_t *t = a;
        a = tmp;
        tmp = t;
    }
}

int main(void) {
    uint8_t text[64];
    uint32_t len = read_all(text, sizeof text);
    uint32_t pos = 0;
    uint32_t n = parse_u32(text, len, &pos);
    uint32_t seed = parse_u32(text, len, &pos);
    if (n == 0 || n > (1u << 22)) {
        put_str(FD_STDOUT, "bad N\n");
        return 2;
    }
    uint32_t *a = heap_alloc(n * 4u);
    uint32_t *tmp = heap_alloc(n * 4u);
    if (!a || !tmp) {
        put_str(FD_STDOUT, "out of memory\n");
        return 3;
    }
    uint32_t x = seed ? seed : 0x9e3779b9u;
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        a[i] = x;
    }
    merge_sort(a, tmp, n);
    /* after an odd number of passes the result is in tmp */
    uint32_t passes = 0;
    for (uint32_t w = 1; w < n; w *= 2) passes++;
    uint32_t *s = (passes & 1u) ? tmp : a;
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) {
        if (i && s[i - 1] > s[i]) {
            put_str(FD_STDOUT, "NOT SORTED\n");
            return 1;
        }
        for (int b = 0; b < 4; b++) {
            h ^= (s[i] >> (8 * b)) & 0xffu;
            h *= 16777619u;
        }
    }
    put_str(FD_STDOUT, "n=");
    put_u32(FD_STDOUT, n);
    put_str(FD_STDOUT, " min=");
    put_hex32(FD_STDOUT, s[0]);
    put_str(FD_STDOUT, " median=");
    put_hex32(FD_STDOUT, s[n / 2]);
    put_str(FD_STDOUT, " max=");
    put_hex32(FD_STDOUT, s[n - 1]);
    put_str(FD_STDOUT, " fnv=");
    put_hex32(FD_STDOUT, h);
    put_str(FD_STDOUT, "\n");
    uint8_t le[4] = {(uint8_t)h, (uint8_t)(h >> 8), (uint8_t)(h >> 16), (uint8_t)(h >> 24)};
    sys_write(FD_PUBLIC, le, 4);
    return 0;
}
