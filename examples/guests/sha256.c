/* sha256: the SHA-256 digest (FIPS 180-4) of the whole input.
 * stdout: the digest in hex and a newline; public output (fd 3): the 32 raw
 * digest bytes.  The input is streamed in 4 KiB chunks, so memory use is
 * constant; work is linear in the input size (~50 instructions per byte). */
#include "sys.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t H[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) |
               ((uint32_t)p[4 * i + 2] << 8) | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    H[0] += a;
    H[1] += b;
    H[2] += c;
    H[3] += d;
    H[4] += e;
    H[5] += f;
    H[6] += g;
    H[7] += h;
}

static uint8_t chunk[4096 + 128];

int main(void) {
    uint32_t have = 0;      /* bytes buffered in chunk */
    uint32_t total_lo = 0;  /* message length in bytes, 64-bit as two words */
    uint32_t total_hi = 0;
    for (;;) {
        int32_t n = sys_read(FD_INPUT, chunk + have, 4096 - have);
        if (n <= 0) break;
        have += (uint32_t)n;
        uint32_t before = total_lo;
        total_lo += (uint32_t)n;
        if (total_lo < before) total_hi++;
        uint32_t off = 0;
        while (have - off >= 64) {
            block(chunk + off);
            off += 64;
        }
        bytes_copy(chunk, chunk + off, have - off);
        have -= off;
    }
    chunk[have++] = 0x80;
    while (have % 64 != 56) chunk[have++] = 0;
    uint32_t bits_hi = (total_hi << 3) | (total_lo >> 29);
    uint32_t bits_lo = total_lo << 3;
    for (int i = 0; i < 4; i++) chunk[have++] = (uint8_t)(bits_hi >> (24 - 8 * i));
    for (int i = 0; i < 4; i++) chunk[have++] = (uint8_t)(bits_lo >> (24 - 8 * i));
    for (uint32_t off = 0; off < have; off += 64) block(chunk + off);
    uint8_t digest[32];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) digest[4 * i + j] = (uint8_t)(H[i] >> (24 - 8 * j));
    put_hex_bytes(FD_STDOUT, digest, 32);
    put_str(FD_STDOUT, "\n");
    sys_write(FD_PUBLIC, digest, 32);
    return 0;
}
