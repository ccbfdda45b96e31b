/* Sorts a table by index (gcc emits shifts for the indexing), copies it byte
 * by byte, mixes bytes and halves, multiplies: word, half and byte loads and
 * stores (signed and unsigned), shifts, mul, bitwise ops, compares and branches. */
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

static int table[12] = {5, -3, 1024, 7, -70000, 0, 99, 3, 65537, -1, 12, 8};
static u8 copy[48];
static volatile short halves[4];
static volatile u16 uhalves[2];

static void sort(int *a, int n) {
    for (int i = 1; i < n; i++) {
        int v = a[i];
        int j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

int main(void) {
    sort(table, 12);
    const u8 *src = (const u8 *)table;
    for (int i = 0; i < 48; i++) copy[i] = src[i] ^ 0x5a;
    u32 mix = 0;
    for (int i = 0; i < 48; i++) mix = (mix + (u32)(signed char)copy[i]) ^ (mix >> 3) ^ 0x1234567u;
    halves[0] = (short)mix;
    halves[1] = (short)(mix ^ 0xffffu);
    uhalves[1] = (u16)(mix >> 7);
    mix += (u32)halves[0] + (u32)halves[1] + (u32)uhalves[1];
    mix = mix * 2654435761u + (u32)(table[0] >> 2);
    return (int)((mix >> 25) + (table[0] < table[11] ? 100u : 0u));
}
