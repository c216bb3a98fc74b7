/* prom_encode.h: the body of a Prometheus remote-write 1.0 push, encoded by hand.
 *
 * A push is a WriteRequest protobuf (prometheus/prompb/remote.proto) compressed with snappy's
 * block format. tide needs three messages of it, written only, never read:
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }  (timestamp in ms)
 * That is a handful of varints and length-delimited fields, so they are written here rather
 * than through protobuf-c, which would need code generated from the .proto files at build
 * time for three messages (docs/streams.md). Because a WriteRequest is nothing but its
 * repeated field 1, a request is built by appending one TimeSeries after another.
 *
 * Labels must reach Prometheus sorted by name (byte order, so "__name__" comes before every
 * lower-case name): tide_prom_sort_labels does that; the encoder writes them as given. */
#ifndef TIDE_PROM_ENCODE_H
#define TIDE_PROM_ENCODE_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

struct tide_prom_label {
    const char *name;
    const char *value;
};

/* Sorts labels by name, byte order (remote-write requires it). */
void tide_prom_sort_labels(struct tide_prom_label *labels, int n);

/* Appends the encoded repeated Label fields (TimeSeries field 1) of 'labels', in that order,
 * to 'out': a label set encoded once can then be reused for every push. */
void tide_prom_encode_labels(struct tide_buf *out, const struct tide_prom_label *labels, int n);

/* Appends to the WriteRequest 'req' one TimeSeries with the already encoded labels
 * ('labels', 'len' bytes, from tide_prom_encode_labels) and one sample. */
void tide_prom_add_series(struct tide_buf *req, const void *labels, size_t len, double value,
                          int64_t timestamp_ms);

/* Compresses 'req' with snappy (block format, what remote write expects) into 'out'
 * (replacing its content). 0, or -1 without memory. */
int tide_prom_compress(const struct tide_buf *req, struct tide_buf *out);

#endif
