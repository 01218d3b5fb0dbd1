/*
 * test_ckpt.c: the checkpoint file format (worker/ckpt.h): a round trip,
 * and refusal of every truncation, every flipped byte, a bad magic,
 * version, kind or length, a field of the wrong size; a failed write
 * leaves the old file whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/harness.h"
#include "worker/ckpt.h"

#define TAG_F CKPT_TAG('F', 'L', 'T', 'S')
#define TAG_U CKPT_TAG('U', '6', '4', 'S')
#define TAG_B CKPT_TAG('T', 'E', 'X', 'T')
#define TAG_E CKPT_TAG('E', 'M', 'P', 'T')

static char dir[64];

static void
path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static const float floats[5] = { 1.5f, -0.0f, 3.25e-8f, 1e30f, -2.0f };
static const uint64_t words[2] = { 0x0123456789abcdefull, 7 };
static const char text[] = "{\"lr\":0.1}";

static int
write_sample(const char *path, uint32_t kind)
{
	struct ckpt_writer w;
	char err[512];

	ckpt_writer_init(&w);
	ckpt_put(&w, TAG_F, 4, 5, floats);
	ckpt_put(&w, TAG_U, 8, 2, words);
	ckpt_put(&w, TAG_B, 1, sizeof(text) - 1, text);
	ckpt_put(&w, TAG_E, 4, 0, NULL);
	return ckpt_write(&w, kind, path, err, sizeof(err));
}

static uint8_t *
read_bytes(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	uint8_t *b;

	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	b = malloc((size_t)st.st_size);
	if (!b || read(fd, b, (size_t)st.st_size) != st.st_size)
		abort();
	close(fd);
	*len = (size_t)st.st_size;
	return b;
}

/* Rewrite the CRC so only the change under test makes a file wrong. */
static void
fix_crc(uint8_t *b, size_t len)
{
	uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, (uInt)(len - 4));
	for (int i = 0; i < 4; i++)
		b[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void
round_trip_gives_every_field_back(void)
{
	char path[128], err[512];
	struct ckpt_reader r;
	float f[5];
	uint64_t u[2];

	path_in(path, sizeof(path), "rt");
	CHECK(write_sample(path, CKPT_KIND_STATE) == 0);
	CHECK(ckpt_read(&r, path, CKPT_KIND_STATE, err, sizeof(err)) == 0);
	CHECK(r.n == 4);
	CHECK(ckpt_get(&r, TAG_F, 4, 5, f, err, sizeof(err)) == 0);
	CHECK(memcmp(f, floats, sizeof(f)) == 0);
	CHECK(ckpt_get(&r, TAG_U, 8, 2, u, err, sizeof(err)) == 0);
	CHECK(u[0] == words[0] && u[1] == words[1]);
	const struct ckpt_field *t = ckpt_find(&r, TAG_B);
	CHECK(t && t->elem == 1 && t->count == strlen(text) &&
	      memcmp(t->data, text, strlen(text)) == 0);
	CHECK(ckpt_get(&r, TAG_E, 4, 0, NULL, err, sizeof(err)) == 0);
	ckpt_reader_free(&r);
	/* no temp file is left behind */
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
}

static void
header_is_the_documented_layout(void)
{
	char path[128];
	size_t len;

	path_in(path, sizeof(path), "layout");
	CHECK(write_sample(path, CKPT_KIND_WEIGHTS) == 0);
	uint8_t *b = read_bytes(path, &len);
	CHECK(memcmp(b, "SWCKPT\r\n", 8) == 0);
	CHECK(b[8] == 1 && b[9] == 0 && b[10] == 0 && b[11] == 0);   /* version 1 LE */
	CHECK(b[12] == CKPT_KIND_WEIGHTS);
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | b[16 + i];
	CHECK(len == 24 + n + 4);
	/* 4 field heads + 20 + 16 + 10 + 0 bytes of data */
	CHECK(n == 4 * 16 + 20 + 16 + strlen(text));
	free(b);
}

static void
every_truncation_is_refused(void)
{
	char path[128], err[512];
	struct ckpt_reader r;
	size_t len;
	int accepted = 0;

	path_in(path, sizeof(path), "trunc");
	CHECK(write_sample(path, CKPT_KIND_STATE) == 0);
	uint8_t *b = read_bytes(path, &len);
	CHECK(ckpt_parse(&r, b, len, CKPT_KIND_STATE, err, sizeof(err)) == 0);
	ckpt_reader_free(&r);
	for (size_t cut = 0; cut < len; cut++) {
		err[0] = '\0';
		if (ckpt_parse(&r, b, cut, CKPT_KIND_STATE, err, sizeof(err)) != -EINVAL ||
		    !*err) {
			accepted++;
			ckpt_reader_free(&r);
		}
		CHECK(r.buf == NULL);
	}
	CHECK_MSG(accepted == 0, "%d of %zu truncations accepted", accepted, len);
	/* the message says what happened, for a cut inside the payload */
	ckpt_parse(&r, b, len - 10, CKPT_KIND_STATE, err, sizeof(err));
	CHECK_CONTAINS(err, "truncated");
	free(b);
}

static void
every_flipped_byte_is_refused(void)
{
	char path[128], err[512];
	struct ckpt_reader r;
	size_t len;
	int accepted = 0;

	path_in(path, sizeof(path), "flip");
	CHECK(write_sample(path, CKPT_KIND_STATE) == 0);
	uint8_t *b = read_bytes(path, &len);
	for (size_t i = 0; i < len; i++) {
		b[i] ^= 0x20;
		if (ckpt_parse(&r, b, len, CKPT_KIND_STATE, err, sizeof(err)) == 0) {
			accepted++;
			ckpt_reader_free(&r);
		}
		b[i] ^= 0x20;
	}
	CHECK_MSG(accepted == 0, "%d flipped bytes accepted", accepted);
	b[40] ^= 1;
	CHECK(ckpt_parse(&r, b, len, CKPT_KIND_STATE, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "checksum");
	free(b);
}

static void
bad_magic_version_kind_length_are_named(void)
{
	char path[128], err[512];
	struct ckpt_reader r;
	size_t len;

	path_in(path, sizeof(path), "bad");
	CHECK(write_sample(path, CKPT_KIND_STATE) == 0);
	uint8_t *b = read_bytes(path, &len);
	uint8_t *c = malloc(len + 1);

	memcpy(c, b, len);
	c[0] = 'X';
	fix_crc(c, len);
	CHECK(ckpt_parse(&r, c, len, CKPT_KIND_STATE, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "magic");

	memcpy(c, b, len);
	c[8] = 2;
	fix_crc(c, len);
	CHECK(ckpt_parse(&r, c, len, CKPT_KIND_STATE, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "version 2");

	memcpy(c, b, len);
	CHECK(ckpt_parse(&r, c, len, CKPT_KIND_WEIGHTS, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "kind");

	/* a trailing byte, CRC moved to the end: the length no longer matches */
	memcpy(c, b, len);
	c[len] = 0;
	fix_crc(c, len + 1);
	CHECK(ckpt_parse(&r, c, len + 1, CKPT_KIND_STATE, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "trailing");

	/* a field count that overruns the payload, with a valid CRC */
	memcpy(c, b, len);
	c[24 + 8] = 0xff;
	fix_crc(c, len);
	CHECK(ckpt_parse(&r, c, len, CKPT_KIND_STATE, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "FLTS");
	free(c);
	free(b);
}

static void
get_refuses_missing_or_resized_fields(void)
{
	char path[128], err[512];
	struct ckpt_reader r;
	float f[6];

	path_in(path, sizeof(path), "get");
	CHECK(write_sample(path, CKPT_KIND_STATE) == 0);
	CHECK(ckpt_read(&r, path, CKPT_KIND_STATE, err, sizeof(err)) == 0);
	CHECK(ckpt_get(&r, TAG_F, 4, 6, f, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "FLTS");
	CHECK(ckpt_get(&r, TAG_F, 8, 5, f, err, sizeof(err)) == -EINVAL);
	CHECK(ckpt_get(&r, CKPT_TAG('N', 'O', 'P', 'E'), 4, 1, f, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "NOPE");
	ckpt_reader_free(&r);
	CHECK(ckpt_read(&r, "/nonexistent/ckpt", CKPT_KIND_STATE, err, sizeof(err)) == -ENOENT);
	CHECK_CONTAINS(err, "/nonexistent/ckpt");
}

static void
writer_refuses_bad_field_lists(void)
{
	struct ckpt_writer w;
	char path[128], err[512];

	path_in(path, sizeof(path), "badlist");
	ckpt_writer_init(&w);
	ckpt_put(&w, TAG_F, 4, 5, floats);
	ckpt_put(&w, TAG_F, 4, 5, floats);
	CHECK(ckpt_write(&w, CKPT_KIND_STATE, path, err, sizeof(err)) == -EINVAL);
	ckpt_writer_init(&w);
	ckpt_put(&w, TAG_F, 3, 5, floats);
	CHECK(ckpt_write(&w, CKPT_KIND_STATE, path, err, sizeof(err)) == -EINVAL);
	CHECK(access(path, F_OK) < 0);
}

static void
failed_write_leaves_the_old_file_whole(void)
{
	char path[128], tmp[160], err[512];
	struct ckpt_reader r;
	struct ckpt_writer w;
	float other[1] = { 9.0f }, f[5];

	path_in(path, sizeof(path), "keep");
	CHECK(write_sample(path, CKPT_KIND_STATE) == 0);
	/* the temp name taken by a directory: creating it fails */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(mkdir(tmp, 0755) == 0);
	ckpt_writer_init(&w);
	ckpt_put(&w, TAG_F, 4, 1, other);
	CHECK(ckpt_write(&w, CKPT_KIND_STATE, path, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, path);
	CHECK(ckpt_read(&r, path, CKPT_KIND_STATE, err, sizeof(err)) == 0);
	CHECK(ckpt_get(&r, TAG_F, 4, 5, f, err, sizeof(err)) == 0);
	CHECK(memcmp(f, floats, sizeof(f)) == 0);
	ckpt_reader_free(&r);
	rmdir(tmp);
	/* and a successful write replaces it */
	CHECK(ckpt_write(&w, CKPT_KIND_STATE, path, err, sizeof(err)) == 0);
	CHECK(ckpt_read(&r, path, CKPT_KIND_STATE, err, sizeof(err)) == 0);
	CHECK(ckpt_get(&r, TAG_F, 4, 1, f, err, sizeof(err)) == 0 && f[0] == 9.0f);
	ckpt_reader_free(&r);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test-ckpt-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(round_trip_gives_every_field_back);
	RUN(header_is_the_documented_layout);
	RUN(every_truncation_is_refused);
	RUN(every_flipped_byte_is_refused);
	RUN(bad_magic_version_kind_length_are_named);
	RUN(get_refuses_missing_or_resized_fields);
	RUN(writer_refuses_bad_field_lists);
	RUN(failed_write_leaves_the_old_file_whole);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return harness_done();
}
