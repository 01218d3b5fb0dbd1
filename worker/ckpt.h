/*
 * ckpt.h: the file format of the built-in trainer's checkpoints and best
 * weights: a header, tagged fields, a checksum.
 *
 * Layout (every integer little-endian; the float and integer arrays are
 * stored as the host writes them, which this build requires to be
 * little-endian too):
 *
 *   offset  size  what
 *   0       8     magic "SWCKPT\r\n"
 *   8       4     version (CKPT_VERSION, 1)
 *   12      4     kind (enum ckpt_kind: 1 trainer state, 2 weights)
 *   16      8     N, the payload's length in bytes
 *   24      N     payload: fields, one after another, each
 *                   tag u32 (four characters, CKPT_TAG), elem u32 (bytes per
 *                   element: 1, 4 or 8), count u64, then count * elem bytes
 *   24 + N  4     CRC-32 (zlib's crc32) of bytes [0, 24 + N)
 *
 * A file is accepted only when it is exactly 28 + N bytes, its magic,
 * version and kind are the expected ones, its CRC matches and its fields
 * tile the payload with no tag twice: a truncated, extended, corrupt or
 * foreign file is refused with a message saying which, never half read.
 * ckpt_write() writes a temp file next to the target, fsyncs it, renames
 * it over the target and fsyncs the directory, so a crash at any moment
 * leaves either the old file or the new one, whole.
 */
#ifndef SWEEPD_WORKER_CKPT_H
#define SWEEPD_WORKER_CKPT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_MAGIC "SWCKPT\r\n"
#define CKPT_MAGIC_LEN 8
#define CKPT_VERSION 1u
#define CKPT_HEADER_LEN 24
#define CKPT_MAX_FIELDS 32

/* A field tag from four characters: CKPT_TAG('W','G','H','T'). */
#define CKPT_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | \
			      (uint32_t)(d) << 24)

enum ckpt_kind { CKPT_KIND_STATE = 1, CKPT_KIND_WEIGHTS = 2 };

struct ckpt_field {
	uint32_t tag, elem;
	uint64_t count;
	const void *data;     /* borrowed: the writer's memory, or into a reader's buf */
};

/* Fields to write: borrowed pointers, copied by ckpt_write only. */
struct ckpt_writer {
	struct ckpt_field f[CKPT_MAX_FIELDS];
	int n;
	int err;              /* the first ckpt_put error, reported by ckpt_write */
};

void
ckpt_writer_init(struct ckpt_writer *w);

/* Add a field (data borrowed until ckpt_write returns). An elem other
 * than 1, 4, 8, a tag given twice or more than CKPT_MAX_FIELDS fields make
 * ckpt_write fail with -EINVAL. */
void
ckpt_put(struct ckpt_writer *w, uint32_t tag, uint32_t elem, uint64_t count, const void *data);

/* Write the fields as a file of `kind` at path (temp path + ".tmp", fsync,
 * rename, fsync of the directory). Returns 0 or -errno with a message
 * naming the path in err; on failure the temp file is removed and path is
 * untouched. */
int
ckpt_write(const struct ckpt_writer *w, uint32_t kind, const char *path, char *err,
	   size_t errlen);

/* A file read and checked. */
struct ckpt_reader {
	uint8_t *buf;         /* owned: the whole file */
	size_t len;
	uint32_t kind;
	struct ckpt_field f[CKPT_MAX_FIELDS];  /* data points into buf */
	int n;
};

/* Check len bytes of a file's content as a file of `kind` (copied, so
 * data may be freed after). Returns 0, -EINVAL (the message in err says
 * what: bad magic, version, kind, length, checksum or fields) or -ENOMEM.
 * r is zeroed on failure. */
int
ckpt_parse(struct ckpt_reader *r, const void *data, size_t len, uint32_t kind, char *err,
	   size_t errlen);

/* Read and check path: as ckpt_parse, plus -ENOENT / -errno when the file
 * cannot be read (message names the path). */
int
ckpt_read(struct ckpt_reader *r, const char *path, uint32_t kind, char *err, size_t errlen);

/* The field tagged tag, or NULL. */
const struct ckpt_field *
ckpt_find(const struct ckpt_reader *r, uint32_t tag);

/* Copy field tag, which must have elements of elem bytes and exactly count
 * of them, into dst. Returns 0, or -EINVAL with a message naming the tag
 * (missing, or of another size). */
int
ckpt_get(const struct ckpt_reader *r, uint32_t tag, uint32_t elem, uint64_t count, void *dst,
	 char *err, size_t errlen);

void
ckpt_reader_free(struct ckpt_reader *r);

#endif
