/* fuzz_car: the CAR reader behind 'tide import' and 'tide verify FILE.car' (engine/export:
 * car.c indexes and hash-checks the blocks, unpack.c writes the UnixFS tree back as files) on
 * an arbitrary file. A CAR that is refused with a message is an expected outcome; a crash, or a
 * file written outside the folder it unpacks into, is not. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "car.h"
#include "fuzz_util.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[128], out[128];
    snprintf(path, sizeof path, "%s", fuzz_file("in.car", data, size));
    snprintf(out, sizeof out, "%s/unpacked", fuzz_dir());
    struct tide_car car;
    struct tide_err err;
    if (tide_car_open(path, &car, &err) == 0 && tide_car_check_complete(&car, &err) == 0) {
        for (size_t i = 0; i < car.nroots; i++) {
            uint8_t *block = NULL;
            size_t len = 0;
            if (tide_car_read(&car, &car.roots[i], &block, &len, &err) == 0)
                free(block);
        }
        (void)tide_car_unpack(&car, out, &err);
        nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    tide_car_close(&car);
    return 0;
}
