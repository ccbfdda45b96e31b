/* Sorts a table with pointer-walking insertion sort, copies it byte by byte
 * and mixes the bytes: word and byte loads and stores (signed and unsigned),
 * bitwise ops, compares and branches -- nothing outside provable mode. */
typedef unsigned int u32;
typedef unsigned char u8;

static int table[12] = {5, -3, 1024, 7, -70000, 0, 99, 3, 65537, -1, 12, 8};
static u8 copy[48];


static void sort(int *lo, int *hi) {
    for (int *p = lo + 1; p < hi; p++) {
        int v = *p;
        int *q = p;
        while (q > lo && q[-1] > v) {
            *q = q[-1];
            q--;
        }
        *q = v;
    }
}

int main(void) {
    sort(table, table + 12);
    const u8 *src = (const u8 *)table;
    u8 *dst = copy;
    for (const u8 *end = src + sizeof table; src < end; src++, dst++) *dst = *src ^ 0x5a;
    u32 mix = 0;
    for (const signed char *p = (const signed char *)copy; p < (const signed char *)(copy + 48); p++)
        mix = (mix + (u32)*p) ^ 0x1234567u;
    return (int)((mix & 0x7fu) + (table[0] < table[11] ? 100u : 0u));
}
