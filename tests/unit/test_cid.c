/* Unit tests of the export layer (engine/export): varints, CID text, and the UnixFS DAG tide
 * builds against golden CIDs that kubo's `ipfs add --cid-version=1` gives for the same bytes
 * (single raw leaf, a folder, a multi-chunk balanced file); then a CAR written, read back,
 * checked, unpacked byte-identical, and a flipped byte caught with the block named. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../check.h"
#include "buf.h"
#include "car.h"
#include "cid.h"
#include "dagpb.h"
#include "fsutil.h"
#include "unixfs.h"
#include "unpack.h"

static char tmp[] = "/tmp/tide-test-cid-XXXXXX";

static void put(const char *rel, const void *data, size_t len)
{
    char path[512];
    struct tide_err err = {{0}};
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    CHECK(tide_fs_write_atomic(path, data, len, &err) == 0);
}

/* The root CID of tmp/rel, as text ("" on failure, with the message printed). */
static void cid_of(const char *rel, char out[TIDE_CID_TEXT])
{
    char path[512];
    struct tide_dag dag;
    struct tide_err err = {{0}};
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    out[0] = '\0';
    if (tide_dag_build(path, &dag, &err) == 0)
        tide_cid_to_text(&dag.nodes[dag.root].cid, out);
    else
        fprintf(stderr, "%s: %s\n", rel, err.msg);
    tide_dag_free(&dag);
}

static void test_varint(void)
{
    uint8_t b[10];
    uint64_t v = 0;
    CHECK(tide_varint_put(b, 0x7f) == 1 && b[0] == 0x7f);
    CHECK(tide_varint_put(b, 300) == 2 && b[0] == 0xac && b[1] == 0x02);
    CHECK(tide_varint_get(b, 2, &v) == 2 && v == 300);
    CHECK(tide_varint_get(b, 1, &v) == 0); /* cut */
    uint8_t padded[] = {0x80, 0x00};
    CHECK(tide_varint_get(padded, 2, &v) == 0); /* not minimal */
}

static void test_text(void)
{
    const char *text = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
    struct tide_cid cid;
    char back[TIDE_CID_TEXT];
    CHECK(tide_cid_from_text(text, &cid) == 0);
    CHECK(cid.codec == TIDE_CODEC_RAW);
    tide_cid_to_text(&cid, back);
    CHECK_STR(back, text);
    CHECK(tide_cid_from_text("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn", &cid) != 0);
    CHECK(tide_cid_from_text("bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei", &cid) !=
          0);
    CHECK(tide_cid_from_text("bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4a",
                             &cid) != 0);
    CHECK(tide_cid_from_text("bAfkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4", &cid) !=
          0);
}

static void test_golden(void)
{
    char got[TIDE_CID_TEXT];
    put("hello.txt", "hello world\n", 12);
    cid_of("hello.txt", got);
    CHECK_STR(got, "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4");

    char path[512];
    snprintf(path, sizeof path, "%s/folder", tmp);
    mkdir(path, 0755);
    put("folder/summary.json", "{\"a\":1}\n", 8); /* written first: the order is by name */
    put("folder/hello.txt", "hello world\n", 12);
    cid_of("folder", got);
    CHECK_STR(got, "bafybeies4o7mowqayzkd6omzazaiiebx7qft4wpwi5b4woeobqoscsh7hi");

    size_t n = 2097159;
    uint8_t *bytes = malloc(n);
    for (size_t i = 0; i < n; i++)
        bytes[i] = (uint8_t)(i % 251);
    put("300000.bin", bytes, 300000);
    cid_of("300000.bin", got);
    CHECK_STR(got, "bafybeih7gz5kvvg2zafb7vue6izhy6c4tglvwpi3rgunwdag2fidn2y6eq");
    put("2097159.bin", bytes, n);
    cid_of("2097159.bin", got);
    CHECK_STR(got, "bafybeidsujp3yrf427rpohiyjpznmk6e4swunqfdxlumi7tkx7oicclqn4");
    free(bytes);

    put("empty", "", 0);
    cid_of("empty", got);
    CHECK_STR(got, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    snprintf(path, sizeof path, "%s/emptydir", tmp);
    mkdir(path, 0755);
    cid_of("emptydir", got);
    CHECK_STR(got, "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
}

/* Two levels: 175 chunks fill one node of 174 leaves and start a second. The layout is
 * checked by shape (kubo's rule), the CID by the e2e test against js-ipfs. */
static void test_two_levels(void)
{
    size_t n = (size_t)TIDE_UNIXFS_MAX_LINKS * TIDE_UNIXFS_CHUNK + 5;
    uint8_t *bytes = calloc(1, n);
    for (size_t i = 0; i < n; i += 4096)
        bytes[i] = (uint8_t)(i / 4096);
    put("big.bin", bytes, n);
    free(bytes);
    char path[512];
    struct tide_dag dag;
    struct tide_err err = {{0}};
    snprintf(path, sizeof path, "%s/big.bin", tmp);
    CHECK(tide_dag_build(path, &dag, &err) == 0);
    const struct tide_dag_node *root = &dag.nodes[dag.root];
    CHECK(root->nkids == 2);
    if (root->nkids == 2) {
        CHECK(dag.nodes[root->kids[0]].nkids == TIDE_UNIXFS_MAX_LINKS);
        CHECK(dag.nodes[root->kids[1]].nkids == 1);
        CHECK(dag.nodes[dag.nodes[root->kids[1]].kids[0]].len == 5);
    }
    tide_dag_free(&dag);
}

static int files_equal(const char *a, const char *b)
{
    size_t la, lb;
    char *x = tide_fs_read_all(a, &la, NULL), *y = tide_fs_read_all(b, &lb, NULL);
    int eq = x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

static void test_car(void)
{
    char path[512], car_path[512], out[512], a[600], b[600];
    snprintf(path, sizeof path, "%s/folder", tmp);
    snprintf(car_path, sizeof car_path, "%s/folder.car", tmp);
    put("folder/2097159.bin", "x", 1);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/folder/sub", tmp);
    mkdir(sub, 0755);
    put("folder/sub/hello.txt", "hello world\n", 12); /* the same block twice: written once */
    struct tide_dag dag;
    struct tide_err err = {{0}};
    CHECK(tide_dag_build(path, &dag, &err) == 0);
    FILE *f = fopen(car_path, "wb");
    uint64_t size = 0;
    CHECK(tide_car_write(&dag, f, &size, &err) == 0);
    fclose(f);
    struct tide_car car;
    CHECK(tide_car_open(car_path, &car, &err) == 0);
    CHECK(car.nroots == 1 && tide_cid_equal(&car.roots[0], &dag.nodes[dag.root].cid));
    CHECK(car.nblocks == 5); /* root, 2097159.bin, hello.txt, sub, summary.json */
    CHECK(tide_car_check_complete(&car, &err) == 0);
    snprintf(out, sizeof out, "%s/unpacked", tmp);
    CHECK(tide_car_unpack(&car, out, &err) == 0);
    snprintf(a, sizeof a, "%s/sub/hello.txt", path);
    snprintf(b, sizeof b, "%s/sub/hello.txt", out);
    CHECK(files_equal(a, b));
    snprintf(a, sizeof a, "%s/summary.json", path);
    snprintf(b, sizeof b, "%s/summary.json", out);
    CHECK(files_equal(a, b));
    CHECK(tide_car_unpack(&car, out, &err) != 0); /* not empty any more */
    CHECK(strstr(err.msg, "not an empty folder") != NULL);
    tide_car_close(&car);

    /* The first block after the header is the root; flip the last byte of the file, which
     * belongs to the last block written. */
    size_t len;
    char *bytes = tide_fs_read_all(car_path, &len, &err);
    bytes[len - 1] ^= 1;
    CHECK(tide_fs_write_atomic(car_path, bytes, len, &err) == 0);
    free(bytes);
    CHECK(tide_car_open(car_path, &car, &err) != 0);
    CHECK(strstr(err.msg, "do not hash to its CID") != NULL);
    CHECK(strstr(err.msg, "bafkrei") != NULL); /* summary.json, a raw leaf */
    tide_car_close(&car);
    tide_dag_free(&dag);
}

static void put_block(FILE *f, const struct tide_cid *cid, const void *data, size_t len)
{
    uint8_t head[10 + TIDE_CID_BYTES];
    size_t n = tide_varint_put(head, TIDE_CID_BYTES + len);
    tide_cid_to_bytes(cid, head + n);
    fwrite(head, 1, n + TIDE_CID_BYTES, f);
    fwrite(data, 1, len, f);
}

/* A well-formed CAR whose folder names an entry "../evil": every hash is right, so only the
 * name check stands between it and a file written outside the target folder. */
static void test_hostile_names(void)
{
    struct tide_cid leaf, dir;
    tide_cid_of(TIDE_CODEC_RAW, "x", 1, &leaf);
    struct tide_buf data = {0}, node = {0};
    tide_unixfs_encode(&data, TIDE_UNIXFS_DIRECTORY, 0, NULL, 0);
    struct tide_pb_link link = {
        .cid = leaf, .name = (const uint8_t *)"../evil", .name_len = 7, .tsize = 1};
    tide_pb_encode(&node, &link, 1, (const uint8_t *)data.data, data.len);
    tide_cid_of(TIDE_CODEC_DAG_PB, node.data, node.len, &dir);
    char car_path[512], out[512], evil[512];
    snprintf(car_path, sizeof car_path, "%s/evil.car", tmp);
    snprintf(out, sizeof out, "%s/evil-out", tmp);
    snprintf(evil, sizeof evil, "%s/evil", tmp);
    FILE *f = fopen(car_path, "wb");
    uint8_t header[64] = {0xa2, 0x65, 'r', 'o', 'o', 't', 's', 0x81, 0xd8, 42, 0x58, 37, 0x00};
    tide_cid_to_bytes(&dir, header + 13);
    memcpy(header + 13 + TIDE_CID_BYTES, "\x67version\x01", 9);
    uint8_t hlen = 13 + TIDE_CID_BYTES + 9;
    fwrite(&hlen, 1, 1, f);
    fwrite(header, 1, hlen, f);
    put_block(f, &dir, node.data, node.len);
    put_block(f, &leaf, "x", 1);
    fclose(f);
    tide_buf_free(&data);
    tide_buf_free(&node);
    struct tide_car car;
    struct tide_err err = {{0}};
    CHECK(tide_car_open(car_path, &car, &err) == 0); /* hashes and links are fine */
    CHECK(tide_car_check_complete(&car, &err) == 0);
    CHECK(tide_car_unpack(&car, out, &err) != 0);
    CHECK(strstr(err.msg, "not a plain file name") != NULL);
    CHECK(access(evil, F_OK) != 0); /* nothing outside */
    tide_car_close(&car);
}

int main(void)
{
    CHECK(mkdtemp(tmp) != NULL);
    test_varint();
    test_text();
    test_golden();
    test_two_levels();
    test_car();
    test_hostile_names();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    return CHECK_DONE();
}
