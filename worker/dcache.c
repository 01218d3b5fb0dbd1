/*
 * dcache.c: the prepared-split cache (see dcache.h).
 *
 * File layout, native byte order (the file never leaves this machine):
 *   [0, HDR_SPACE)    struct dcache_header, zero padded
 *   then per set (train, val, test): x (n * d floats), y (n int32), each
 *   starting on a page boundary and zero padded to the next one.
 * payload_sum covers [HDR_SPACE, file_bytes), header_sum the header up to
 * itself. No fsync: a file torn by a crash fails its checksum and is
 * rebuilt, which is all the cache promises.
 */
#include "worker/dcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DCACHE_MAGIC "SWDCACHE"
#define DCACHE_VERSION 1u
#define HDR_SPACE 8192u
#define PAGE 4096u

struct dcache_src {
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns;
};

/* Everything the prepared split depends on. Zeroed before it is filled,
 * so it compares and hashes as bytes. */
struct dcache_key {
	char paths[DATA_N_SRC][DATA_PATH_MAX];
	struct dcache_src src[DATA_N_SRC];
	int32_t val_size, split_seed, preprocess, pad;
	double train_fraction;
};

struct dcache_header {
	char magic[8];
	uint32_t version, header_bytes;
	struct dcache_key key;
	int32_t n_classes, d, rows, cols;
	float fill;
	int32_t pad;
	uint64_t n[3], off_x[3], off_y[3];
	uint64_t file_bytes, payload_sum, header_sum;
};

_Static_assert(sizeof(struct dcache_header) <= HDR_SPACE, "header space");

struct sum {
	uint64_t h[4], words;
};

static const uint64_t P1 = 0x9e3779b185ebca87ULL, P2 = 0xc2b2ae3d27d4eb4fULL;

static void
sum_init(struct sum *s)
{
	s->h[0] = P1 + P2;
	s->h[1] = P2;
	s->h[2] = 0;
	s->h[3] = (uint64_t)0 - P1;
	s->words = 0;
}

static inline uint64_t
sum_round(uint64_t h, const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	h += w * P2;
	return (h << 31 | h >> 33) * P1;
}

/* n is a multiple of 8. Four lanes, an xxhash64-style round per word;
 * word k goes to lane k % 4. The lanes are independent, so the loop over
 * whole groups of four runs at memory speed. */
static void
sum_update(struct sum *s, const void *buf, size_t n)
{
	const uint8_t *p = buf, *end = p + n / 8 * 8;

	for (; p < end && (s->words & 3); p += 8, s->words++)
		s->h[s->words & 3] = sum_round(s->h[s->words & 3], p);
	uint64_t h0 = s->h[0], h1 = s->h[1], h2 = s->h[2], h3 = s->h[3];
	for (; end - p >= 32; p += 32, s->words += 4) {
		h0 = sum_round(h0, p);
		h1 = sum_round(h1, p + 8);
		h2 = sum_round(h2, p + 16);
		h3 = sum_round(h3, p + 24);
	}
	s->h[0] = h0;
	s->h[1] = h1;
	s->h[2] = h2;
	s->h[3] = h3;
	for (; p < end; p += 8, s->words++)
		s->h[s->words & 3] = sum_round(s->h[s->words & 3], p);
}

static uint64_t
sum_final(const struct sum *s)
{
	uint64_t v = s->words;
	for (int i = 0; i < 4; i++) {
		v ^= s->h[i] + (v << 6) + (v >> 2);
		v *= P1;
	}
	return v ^ (v >> 29);
}

uint64_t
dcache_sum(const void *buf, size_t n)
{
	struct sum s;
	sum_init(&s);
	sum_update(&s, buf, n);
	return sum_final(&s);
}

static uint64_t
round_up(uint64_t v)
{
	return (v + PAGE - 1) / PAGE * PAGE;
}

static const struct data_set *
set_of(const struct data_split *d, int k)
{
	return k == 0 ? &d->train : k == 1 ? &d->val : &d->test;
}

static int
make_key(struct dcache_key *k, const struct params *p)
{
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (data_idx_sources(p, k->paths) < 0)
		return -ENOTSUP;
	for (int i = 0; i < DATA_N_SRC; i++) {
		if (stat(k->paths[i], &st) < 0)
			return -errno;
		k->src[i] = (struct dcache_src){ (uint64_t)st.st_dev, (uint64_t)st.st_ino,
			(uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
			(int64_t)st.st_mtim.tv_nsec };
	}
	k->val_size = p->val_size;
	k->split_seed = p->split_seed;
	k->preprocess = p->preprocess;
	k->train_fraction = p->train_fraction;
	return 0;
}

/* The file is named by what the split depends on except the sources'
 * identity, so a changed source rebuilds the same file instead of leaving
 * the old one behind. */
static void
cache_path(char *out, size_t len, const char *dir, const struct dcache_key *k)
{
	struct dcache_key named = *k;

	memset(named.src, 0, sizeof(named.src));
	snprintf(out, len, "%s/idx-%016" PRIx64 ".split", dir, dcache_sum(&named, sizeof(named)));
}

static void
fill_header(struct dcache_header *h, const struct dcache_key *k, const struct data_split *d)
{
	uint64_t off = HDR_SPACE;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, DCACHE_MAGIC, 8);
	h->version = DCACHE_VERSION;
	h->header_bytes = sizeof(*h);
	h->key = *k;
	h->n_classes = d->n_classes;
	h->d = d->train.d;
	h->rows = d->train.rows;
	h->cols = d->train.cols;
	h->fill = d->fill;
	for (int i = 0; i < 3; i++) {
		const struct data_set *s = set_of(d, i);
		h->n[i] = s->n;
		h->off_x[i] = off;
		off += round_up(s->n * (uint64_t)s->d * sizeof(float));
		h->off_y[i] = off;
		off += round_up(s->n * sizeof(int32_t));
	}
	h->file_bytes = off;
}

static int
write_full(int fd, const void *buf, size_t n, struct sum *s)
{
	const uint8_t *p = buf;

	if (s)
		sum_update(s, buf, n);
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* An array, then zeros up to the next page boundary. */
static int
write_padded(int fd, const void *buf, size_t n, struct sum *s)
{
	static const uint8_t zeros[PAGE];
	int rc = write_full(fd, buf, n, s);

	if (rc == 0 && round_up(n) > n)
		rc = write_full(fd, zeros, round_up(n) - n, s);
	return rc;
}

static int
write_payload(int fd, const struct data_split *d, struct dcache_header *h)
{
	struct sum s;
	int rc = 0;

	sum_init(&s);
	if (lseek(fd, HDR_SPACE, SEEK_SET) < 0)
		return -errno;
	for (int i = 0; i < 3 && rc == 0; i++) {
		const struct data_set *set = set_of(d, i);
		rc = write_padded(fd, set->x, set->n * (size_t)set->d * sizeof(float), &s);
		if (rc == 0)
			rc = write_padded(fd, set->y, set->n * sizeof(int32_t), &s);
	}
	if (rc < 0)
		return rc;
	h->payload_sum = sum_final(&s);
	h->header_sum = dcache_sum(h, offsetof(struct dcache_header, header_sum));
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return write_padded(fd, h, sizeof(*h), NULL);
}

/* Write d to a temp file beside path and rename it over path. */
static int
cache_store(const struct data_split *d, const struct dcache_key *k, const char *path,
	    char *why, size_t whylen)
{
	struct dcache_header *h = malloc(sizeof(*h));
	char tmp[DATA_PATH_MAX + 16];
	int fd = -1, rc;

	if (!h)
		return -ENOMEM;
	fill_header(h, k, d);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "cannot create a temp file beside it: %s", strerror(-rc));
		goto out;
	}
	rc = write_payload(fd, d, h);
	if (rc == 0 && close(fd) < 0)
		rc = -errno;
	fd = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(why, whylen, "cannot write it: %s", strerror(-rc));
		unlink(tmp);
	}
out:
	if (fd >= 0)
		close(fd);
	free(h);
	return rc;
}

static bool
layout_ok(const struct dcache_header *h)
{
	uint64_t off = HDR_SPACE;

	if (h->d <= 0 || h->n_classes < 2 || h->rows < 0 || h->cols < 0 || h->n[0] < 2)
		return false;
	for (int i = 0; i < 3; i++) {
		/* the same rule fill_header wrote with, so no overflow can pass */
		if (h->n[i] > ((uint64_t)1 << 40) / (uint64_t)h->d || h->off_x[i] != off)
			return false;
		off += round_up(h->n[i] * (uint64_t)h->d * sizeof(float));
		if (h->off_y[i] != off)
			return false;
		off += round_up(h->n[i] * sizeof(int32_t));
	}
	return off == h->file_bytes;
}

static const char *
check_header(const struct dcache_header *h, const struct dcache_key *k, size_t len)
{
	if (len < HDR_SPACE)
		return "truncated header";
	if (memcmp(h->magic, DCACHE_MAGIC, 8) != 0 || h->version != DCACHE_VERSION ||
	    h->header_bytes != sizeof(*h))
		return "not a cache file of this version";
	if (h->header_sum != dcache_sum(h, offsetof(struct dcache_header, header_sum)))
		return "header checksum mismatch (corrupt)";
	if (memcmp(h->key.paths, k->paths, sizeof(k->paths)) != 0 ||
	    h->key.val_size != k->val_size || h->key.split_seed != k->split_seed ||
	    h->key.preprocess != k->preprocess || h->key.train_fraction != k->train_fraction)
		return "written for other params (name collision)";
	if (memcmp(h->key.src, k->src, sizeof(k->src)) != 0)
		return "stale: a source file changed (size, mtime or inode)";
	if (!layout_ok(h))
		return "inconsistent layout (corrupt)";
	if (h->file_bytes != len)
		return "truncated or overlong payload";
	return NULL;
}

static const char *
check_payload(const uint8_t *m, const struct dcache_header *h)
{
	if (dcache_sum(m + HDR_SPACE, h->file_bytes - HDR_SPACE) != h->payload_sum)
		return "payload checksum mismatch (corrupt)";
	for (int i = 0; i < 3; i++) {
		const int32_t *y = (const int32_t *)(m + h->off_y[i]);
		for (uint64_t j = 0; j < h->n[i]; j++)
			if (y[j] < 0 || y[j] >= h->n_classes)
				return "label out of range (corrupt)";
	}
	return NULL;
}

static void
point_sets(struct data_split *out, uint8_t *m, const struct dcache_header *h)
{
	for (int i = 0; i < 3; i++) {
		struct data_set *s = i == 0 ? &out->train : i == 1 ? &out->val : &out->test;
		s->x = (float *)(m + h->off_x[i]);
		s->y = (int32_t *)(m + h->off_y[i]);
		s->n = h->n[i];
		s->d = h->d;
		s->rows = h->rows;
		s->cols = h->cols;
	}
	out->n_classes = h->n_classes;
	out->fill = h->fill;
	out->map = m;
	out->map_len = h->file_bytes;
}

/* Map path read-only and check it against k. Returns 0, -ENOENT when there
 * is no file, -EBADMSG (why says what is wrong) when it cannot be used. */
static int
cache_open(struct data_split *out, const struct dcache_key *k, const char *path, char *why,
	   size_t whylen)
{
	const char *bad = NULL;
	struct stat st;
	uint8_t *m = MAP_FAILED;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -EBADMSG;
	}
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)HDR_SPACE) {
		bad = "truncated header";
		goto out;
	}
	/* MAP_POPULATE: the pages come from the page cache now, in bulk,
	 * rather than one fault at a time in the first epoch */
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, whylen, "cannot map: %s", strerror(errno));
		rc = -EBADMSG;
		goto out;
	}
	if (!(bad = check_header((const struct dcache_header *)m, k, (size_t)st.st_size)))
		bad = check_payload(m, (const struct dcache_header *)m);
	if (!bad)
		point_sets(out, m, (const struct dcache_header *)m);
out:
	if (bad) {
		snprintf(why, whylen, "%s", bad);
		rc = -EBADMSG;
	}
	if (rc < 0 && m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	close(fd);
	return rc;
}

int
dcache_prepare(struct data_split *out, const struct params *p, uint64_t seed, const char *dir,
	       struct dcache_info *info, char *err, size_t errlen)
{
	struct dcache_key *k = NULL;
	int rc, found;

	memset(info, 0, sizeof(*info));
	memset(out, 0, sizeof(*out));
	if (!dir || !*dir || !(k = malloc(sizeof(*k))) || make_key(k, p) < 0) {
		/* no cache, no files, or a file missing: data_prepare names it */
		free(k);
		return data_prepare(out, p, seed, err, errlen);
	}
	cache_path(info->path, sizeof(info->path), dir, k);
	found = cache_open(out, k, info->path, info->why, sizeof(info->why));
	if (found == 0) {
		info->result = DCACHE_HIT;
		rc = 0;
		if (p->augment != AUG_NONE && out->train.rows == 0) {
			/* the same refusal as data_prepare's */
			snprintf(err, errlen, "param 'augment': %s needs 2-D images "
				 "(3-dimensional IDX)", params_enum_name("augment", p->augment));
			data_split_free(out);
			rc = -EINVAL;
		}
		goto out;
	}
	rc = data_prepare(out, p, seed, err, errlen);
	if (rc < 0)
		goto out;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		info->result = DCACHE_UNWRITABLE;
		snprintf(info->why, sizeof(info->why), "cannot create %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	if (cache_store(out, k, info->path, info->why, sizeof(info->why)) < 0)
		info->result = DCACHE_UNWRITABLE;
	else
		info->result = found == -ENOENT ? DCACHE_BUILT : DCACHE_REBUILT;
out:
	free(k);
	return rc;
}
