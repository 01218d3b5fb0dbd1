/*
 * ckpt.c: writing and checking checkpoint files (format in ckpt.h).
 */
#include "worker/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ckpt.c stores arrays in host order and the format is little-endian"
#endif

#define FIELD_HEAD 16         /* tag, elem, count */

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
tag_name(char out[5], uint32_t tag)
{
	for (int i = 0; i < 4; i++) {
		char c = (char)(tag >> (8 * i));
		out[i] = c >= 32 && c < 127 ? c : '?';
	}
	out[4] = '\0';
}

void
ckpt_writer_init(struct ckpt_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void
ckpt_put(struct ckpt_writer *w, uint32_t tag, uint32_t elem, uint64_t count, const void *data)
{
	bool dup = false;

	for (int i = 0; i < w->n; i++)
		dup = dup || w->f[i].tag == tag;
	if (w->err || dup || w->n == CKPT_MAX_FIELDS || (elem != 1 && elem != 4 && elem != 8) ||
	    count > UINT64_MAX / 8 || (count && !data)) {
		w->err = -EINVAL;
		return;
	}
	w->f[w->n++] = (struct ckpt_field){ .tag = tag, .elem = elem, .count = count,
					    .data = data };
}

static int
write_all(int fd, const void *buf, size_t len, uLong *crc)
{
	const uint8_t *p = buf;

	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		ssize_t n = write(fd, p, chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		*crc = crc32(*crc, p, (uInt)n);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Header, fields and CRC into fd. */
static int
write_body(int fd, const struct ckpt_writer *w, uint32_t kind)
{
	uint8_t head[CKPT_HEADER_LEN], fh[FIELD_HEAD], tail[4];
	uint64_t payload = 0;
	uLong crc = crc32(0L, Z_NULL, 0);
	int rc;

	for (int i = 0; i < w->n; i++)
		payload += FIELD_HEAD + w->f[i].count * w->f[i].elem;
	memcpy(head, CKPT_MAGIC, CKPT_MAGIC_LEN);
	put_u32(head + 8, CKPT_VERSION);
	put_u32(head + 12, kind);
	put_u64(head + 16, payload);
	if ((rc = write_all(fd, head, sizeof(head), &crc)) < 0)
		return rc;
	for (int i = 0; i < w->n; i++) {
		const struct ckpt_field *f = &w->f[i];
		put_u32(fh, f->tag);
		put_u32(fh + 4, f->elem);
		put_u64(fh + 8, f->count);
		if ((rc = write_all(fd, fh, sizeof(fh), &crc)) < 0 ||
		    (rc = write_all(fd, f->data, (size_t)(f->count * f->elem), &crc)) < 0)
			return rc;
	}
	put_u32(tail, (uint32_t)crc);
	uLong ignored = 0;
	return write_all(fd, tail, sizeof(tail), &ignored);
}

/* fsync the directory holding path, so that the rename is durable. */
static int
sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int
ckpt_write(const struct ckpt_writer *w, uint32_t kind, const char *path, char *err,
	   size_t errlen)
{
	char tmp[PATH_MAX];
	const char *what = "write";
	int fd = -1, rc;

	if (w->err) {
		snprintf(err, errlen, "%s: invalid field list (a bug)", path);
		return w->err;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		what = "create";
		goto fail;
	}
	if ((rc = write_body(fd, w, kind)) < 0)
		goto fail;
	what = "fsync";
	if (fsync(fd) < 0) {
		rc = -errno;
		goto fail;
	}
	what = "close";
	rc = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (rc < 0)
		goto fail;
	what = "rename";
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto fail;
	}
	/* the new file is in place; a failed directory sync only weakens
	 * durability across a power cut, so it is reported but not undone */
	if ((rc = sync_dir(path)) < 0)
		snprintf(err, errlen, "%s: fsync of its directory: %s", path, strerror(-rc));
	return rc;
fail:
	snprintf(err, errlen, "%s: %s of %s: %s", path, what, tmp, strerror(-rc));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/* The fields of a checked payload [p, p + len). */
static int
parse_fields(struct ckpt_reader *r, const uint8_t *p, uint64_t len, char *err, size_t errlen)
{
	uint64_t off = 0;
	char name[5];

	while (off < len) {
		if (len - off < FIELD_HEAD || r->n == CKPT_MAX_FIELDS) {
			snprintf(err, errlen, "field %d at payload offset %llu is cut short or "
				 "one too many", r->n, (unsigned long long)off);
			return -EINVAL;
		}
		struct ckpt_field f = { .tag = get_u32(p + off), .elem = get_u32(p + off + 4),
					.count = get_u64(p + off + 8) };
		tag_name(name, f.tag);
		off += FIELD_HEAD;
		if ((f.elem != 1 && f.elem != 4 && f.elem != 8) ||
		    f.count > (len - off) / f.elem || ckpt_find(r, f.tag)) {
			snprintf(err, errlen, "field '%s': element size %u x %llu elements does not "
				 "fit the payload, or the tag is repeated", name, f.elem,
				 (unsigned long long)f.count);
			return -EINVAL;
		}
		f.data = p + off;
		off += f.count * f.elem;
		r->f[r->n++] = f;
	}
	return 0;
}

/* Magic, length, version, kind and CRC of buf. */
static int
check_frame(const uint8_t *b, size_t len, uint32_t kind, uint64_t *payload, char *err,
	    size_t errlen)
{
	if (len >= CKPT_MAGIC_LEN && memcmp(b, CKPT_MAGIC, CKPT_MAGIC_LEN) != 0) {
		snprintf(err, errlen, "bad magic: not a sweep-worker checkpoint file");
		return -EINVAL;
	}
	if (len < CKPT_HEADER_LEN + 4) {
		snprintf(err, errlen, "truncated: %zu bytes, shorter than header and checksum",
			 len);
		return -EINVAL;
	}
	uint32_t version = get_u32(b + 8), k = get_u32(b + 12);
	*payload = get_u64(b + 16);
	if (version != CKPT_VERSION) {
		snprintf(err, errlen, "format version %u, this sweep-worker reads version %u",
			 version, CKPT_VERSION);
		return -EINVAL;
	}
	if (k != kind) {
		snprintf(err, errlen, "a file of kind %u (%s), expected kind %u (%s)", k,
			 k == CKPT_KIND_STATE ? "checkpoint" : k == CKPT_KIND_WEIGHTS ? "weights"
			 : "unknown", kind, kind == CKPT_KIND_STATE ? "checkpoint" : "weights");
		return -EINVAL;
	}
	if (*payload != len - CKPT_HEADER_LEN - 4) {
		snprintf(err, errlen, "%s: %zu bytes, the header says %llu",
			 *payload > len - CKPT_HEADER_LEN - 4 ? "truncated" : "trailing bytes",
			 len, (unsigned long long)(*payload + CKPT_HEADER_LEN + 4));
		return -EINVAL;
	}
	uLong crc = crc32_z(crc32(0L, Z_NULL, 0), b, len - 4);
	if ((uint32_t)crc != get_u32(b + len - 4)) {
		snprintf(err, errlen, "checksum mismatch: the file is corrupt");
		return -EINVAL;
	}
	return 0;
}

/* Check buf (owned: kept in r on success, freed on failure). */
static int
parse_owned(struct ckpt_reader *r, uint8_t *buf, size_t len, uint32_t kind, char *err,
	    size_t errlen)
{
	uint64_t payload;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = check_frame(buf, len, kind, &payload, err, errlen)) < 0) {
		free(buf);
		return rc;
	}
	r->buf = buf;
	r->len = len;
	r->kind = kind;
	if ((rc = parse_fields(r, r->buf + CKPT_HEADER_LEN, payload, err, errlen)) < 0)
		ckpt_reader_free(r);
	return rc;
}

int
ckpt_parse(struct ckpt_reader *r, const void *data, size_t len, uint32_t kind, char *err,
	   size_t errlen)
{
	uint8_t *buf = malloc(len ? len : 1);

	memset(r, 0, sizeof(*r));
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (len)
		memcpy(buf, data, len);
	return parse_owned(r, buf, len, kind, err, errlen);
}

/* The whole of fd into a malloc'd buffer. */
static int
slurp(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t n = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size >= SIZE_MAX)
		return -EFBIG;
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = -errno;
			free(b);
			return rc;
		}
		if (r == 0 || (n += (size_t)r) == (size_t)st.st_size + 1)
			break;
	}
	*out = b;
	*len = n;
	return 0;
}

int
ckpt_read(struct ckpt_reader *r, const char *path, uint32_t kind, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char why[256];
	int fd, rc;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = slurp(fd, &buf, &len);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, rc == -EINVAL ? "not a regular file"
			 : strerror(-rc));
		return rc;
	}
	rc = parse_owned(r, buf, len, kind, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

const struct ckpt_field *
ckpt_find(const struct ckpt_reader *r, uint32_t tag)
{
	for (int i = 0; i < r->n; i++)
		if (r->f[i].tag == tag)
			return &r->f[i];
	return NULL;
}

int
ckpt_get(const struct ckpt_reader *r, uint32_t tag, uint32_t elem, uint64_t count, void *dst,
	 char *err, size_t errlen)
{
	const struct ckpt_field *f = ckpt_find(r, tag);
	char name[5];

	tag_name(name, tag);
	if (!f) {
		snprintf(err, errlen, "field '%s' is missing", name);
		return -EINVAL;
	}
	if (f->elem != elem || f->count != count) {
		snprintf(err, errlen, "field '%s' holds %llu x %u bytes, expected %llu x %u "
			 "(another net, data set or trainer)", name,
			 (unsigned long long)f->count, f->elem, (unsigned long long)count, elem);
		return -EINVAL;
	}
	if (count)
		memcpy(dst, f->data, (size_t)(count * elem));
	return 0;
}

void
ckpt_reader_free(struct ckpt_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
