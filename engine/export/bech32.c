/* bech32.c: Bech32 (BIP 173) encode and decode, see bech32.h. */
#include "bech32.h"
#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint8_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++) {
        if ((top >> i) & 1)
            chk ^= gen[i];
    }
    return chk;
}

/* The checksum state after the expanded hrp (high bits, a zero, low bits). */
static uint32_t hrp_polymod(const char *hrp, size_t hlen)
{
    uint32_t chk = 1;
    for (size_t i = 0; i < hlen; i++)
        chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] >> 5));
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < hlen; i++)
        chk = polymod_step(chk, (uint8_t)((unsigned char)hrp[i] & 31));
    return chk;
}

int tide_bech32_encode(const char *hrp, const uint8_t *data, size_t len, int upper, char *out,
                       size_t outsz)
{
    size_t hlen = strlen(hrp);
    size_t groups = (len * 8 + 4) / 5;
    if (hlen == 0 || hlen + 1 + groups + 6 + 1 > outsz)
        return -1;
    for (size_t i = 0; i < hlen; i++) {
        if (hrp[i] < 33 || hrp[i] > 126 || (hrp[i] >= 'A' && hrp[i] <= 'Z'))
            return -1;
    }
    uint32_t chk = hrp_polymod(hrp, hlen);
    size_t o = 0;
    memcpy(out, hrp, hlen);
    o = hlen;
    out[o++] = '1';
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | data[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            uint8_t v = (acc >> bits) & 31;
            chk = polymod_step(chk, v);
            out[o++] = charset[v];
        }
    }
    if (bits > 0) {
        uint8_t v = (acc << (5 - bits)) & 31;
        chk = polymod_step(chk, v);
        out[o++] = charset[v];
    }
    for (int i = 0; i < 6; i++)
        chk = polymod_step(chk, 0);
    chk ^= 1;
    for (int i = 0; i < 6; i++)
        out[o++] = charset[(chk >> (5 * (5 - i))) & 31];
    out[o] = '\0';
    if (upper) {
        for (size_t i = 0; i < o; i++) {
            if (out[i] >= 'a' && out[i] <= 'z')
                out[i] = (char)(out[i] - 'a' + 'A');
        }
    }
    return 0;
}

int tide_bech32_decode(const char *s, char *hrp, size_t hrpsz, uint8_t *data, size_t cap,
                       size_t *len)
{
    size_t n = strlen(s);
    int has_lower = 0, has_upper = 0;
    size_t sep = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126)
            return -1;
        if (c >= 'a' && c <= 'z')
            has_lower = 1;
        if (c >= 'A' && c <= 'Z')
            has_upper = 1;
        if (c == '1')
            sep = i;
    }
    if (has_lower && has_upper)
        return -1;
    if (sep == 0 || sep + 7 > n || sep + 1 > hrpsz)
        return -1;
    for (size_t i = 0; i < sep; i++) {
        char c = s[i];
        hrp[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    hrp[sep] = '\0';
    uint32_t chk = hrp_polymod(hrp, sep);
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    size_t ndata = n - sep - 1 - 6;
    for (size_t i = sep + 1; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        const char *p = strchr(charset, c);
        if (p == NULL || c == '\0')
            return -1;
        uint8_t v = (uint8_t)(p - charset);
        chk = polymod_step(chk, v);
        if (i - sep - 1 >= ndata)
            continue; /* checksum characters */
        acc = (acc << 5) | v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            data[o++] = (uint8_t)((acc >> bits) & 0xff);
        }
    }
    if (chk != 1)
        return -1;
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return -1; /* more than 4 padding bits, or padding bits set */
    *len = o;
    return 0;
}
