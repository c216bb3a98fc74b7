/* unpack.h: a UnixFS DAG from a CAR back into files (tide import). The root must be a
 * directory; it becomes 'dir', which must not exist or be empty. Entry names are plain names
 * (no '/', not "." or ".."), files are created, never overwritten or followed through links,
 * and each file's length must match what its DAG says, so a crafted CAR cannot write outside
 * 'dir' or disagree with itself. */
#ifndef TIDE_UNPACK_H
#define TIDE_UNPACK_H
#include "car.h"
#include "err.h"

int tide_car_unpack(struct tide_car *car, const char *dir, struct tide_err *err);

#endif
