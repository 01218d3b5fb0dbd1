/*
 * test_data.c: IDX parsing (good, truncated, corrupt, mismatched, missing
 * files), the synthetic set, the split, preprocessing and augmentation.
 * the data cache (corrupt, truncated, stale, unwritable: rebuilt or
 * bypassed, never used). Every IDX file is generated here, in a fresh
 * temp dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/harness.h"
#include "worker/data.h"
#include "worker/dcache.h"

static char dir[64];
static char err[1024];

static void
path_of(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Write bytes to name, gzipped when the name ends in .gz. */
static void
write_file(const char *name, const uint8_t *buf, size_t len)
{
	char path[256];
	size_t n = strlen(name);

	path_of(path, sizeof(path), name);
	if (n > 3 && strcmp(name + n - 3, ".gz") == 0) {
		gzFile f = gzopen(path, "wb");
		CHECK(f != NULL);
		CHECK(gzwrite(f, buf, (unsigned)len) == (int)len);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");
		CHECK(f != NULL);
		CHECK(fwrite(buf, 1, len, f) == len);
		fclose(f);
	}
}

/* An image file of n rows x cols images whose pixel k of image i is
 * (i * 7 + k) % 256, and the label file with labels i % classes. */
static void
write_idx(const char *images, const char *labels, uint32_t n, uint32_t rows, uint32_t cols,
	  int classes)
{
	size_t px = (size_t)n * rows * cols;
	uint8_t *img = malloc(16 + px), *lab = malloc(8 + n);

	img[0] = img[1] = 0;
	img[2] = 0x08;
	img[3] = 3;
	be32(img + 4, n);
	be32(img + 8, rows);
	be32(img + 12, cols);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < rows * cols; k++)
			img[16 + i * rows * cols + k] = (uint8_t)((i * 7 + k) % 256);
	lab[0] = lab[1] = 0;
	lab[2] = 0x08;
	lab[3] = 1;
	be32(lab + 4, n);
	for (size_t i = 0; i < n; i++)
		lab[8 + i] = (uint8_t)(i % (size_t)classes);
	write_file(images, img, 16 + px);
	write_file(labels, lab, 8 + n);
	free(img);
	free(lab);
}

static size_t
file_size(const char *name)
{
	char path[256];
	struct stat st;
	path_of(path, sizeof(path), name);
	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void
cut_file(const char *name, size_t len)
{
	char path[256];
	path_of(path, sizeof(path), name);
	CHECK(truncate(path, (off_t)len) == 0);
}

static void
flip_byte(const char *name, size_t off)
{
	char path[256];
	FILE *f;
	int c;

	path_of(path, sizeof(path), name);
	f = fopen(path, "r+b");
	CHECK(f != NULL);
	fseek(f, (long)off, SEEK_SET);
	c = fgetc(f);
	fseek(f, (long)off, SEEK_SET);
	fputc(c ^ 0x5a, f);
	fclose(f);
}

static int
load(const char *images, const char *labels, struct data_set *s)
{
	char pi[256], pl[256];
	path_of(pi, sizeof(pi), images);
	path_of(pl, sizeof(pl), labels);
	return data_idx_load(s, pi, pl, err, sizeof(err));
}

static void
idx_reads_gzipped_and_plain_files(void)
{
	struct data_set s;

	write_idx("a-img.gz", "a-lab.gz", 5, 3, 4, 3);
	CHECK(load("a-img.gz", "a-lab.gz", &s) == 0);
	CHECK(s.n == 5 && s.d == 12 && s.rows == 3 && s.cols == 4);
	CHECK(s.x && s.x[2 * 12 + 5] == (float)((2 * 7 + 5) % 256));
	CHECK(s.y && s.y[4] == 1);
	data_set_free(&s);
	data_set_free(&s);
	write_idx("b-img", "b-lab", 4, 2, 2, 2);
	CHECK(load("b-img", "b-lab", &s) == 0);
	CHECK(s.n == 4 && s.d == 4);
	data_set_free(&s);
}

static void
idx_missing_file_is_named(void)
{
	struct data_set s;
	write_idx("c-img.gz", "c-lab.gz", 5, 3, 4, 3);
	CHECK(load("nope.gz", "c-lab.gz", &s) == -ENOENT);
	CHECK_CONTAINS(err, "nope.gz");
	CHECK_CONTAINS(err, "No such file");
	CHECK(s.x == NULL);
}

static void
idx_truncated_gzip_is_refused(void)
{
	struct data_set s;
	write_idx("d-img.gz", "d-lab.gz", 200, 8, 8, 3);
	cut_file("d-img.gz", file_size("d-img.gz") / 2);
	CHECK(load("d-img.gz", "d-lab.gz", &s) == -EINVAL);
	CHECK_CONTAINS(err, "d-img.gz");
	CHECK_CONTAINS(err, "truncated");
}

static void
idx_truncated_plain_file_is_refused(void)
{
	struct data_set s;
	write_idx("e-img", "e-lab", 10, 4, 4, 3);
	cut_file("e-img", 16 + 10 * 16 - 3);
	CHECK(load("e-img", "e-lab", &s) == -EINVAL);
	CHECK_CONTAINS(err, "e-img: truncated: 157 of 160 data bytes");
	cut_file("e-img", 10);
	CHECK(load("e-img", "e-lab", &s) == -EINVAL);
	CHECK_CONTAINS(err, "header");
}

static void
idx_corrupt_gzip_is_refused(void)
{
	struct data_set s;
	write_idx("f-img.gz", "f-lab.gz", 200, 8, 8, 3);
	/* a byte in the middle of the deflate stream: a data error or a CRC
	 * mismatch, never a silent success */
	flip_byte("f-img.gz", file_size("f-img.gz") / 2);
	CHECK(load("f-img.gz", "f-lab.gz", &s) == -EINVAL);
	CHECK_CONTAINS(err, "f-img.gz");
	/* the gzip trailer's CRC */
	write_idx("g-img.gz", "g-lab.gz", 200, 8, 8, 3);
	flip_byte("g-img.gz", file_size("g-img.gz") - 6);
	CHECK(load("g-img.gz", "g-lab.gz", &s) == -EINVAL);
	CHECK_CONTAINS(err, "g-img.gz");
}

static void
idx_bad_header_is_refused(void)
{
	struct data_set s;
	uint8_t bad[20] = { 0x1f, 0x00, 0x08, 0x03 };

	write_idx("h-img", "h-lab", 3, 2, 2, 2);
	write_file("h-bad", bad, sizeof(bad));
	CHECK(load("h-bad", "h-lab", &s) == -EINVAL);
	CHECK_CONTAINS(err, "h-bad: not an IDX file");
	bad[0] = 0;
	bad[2] = 0x0d;   /* float data */
	write_file("h-bad", bad, sizeof(bad));
	CHECK(load("h-bad", "h-lab", &s) == -EINVAL);
	CHECK_CONTAINS(err, "unsupported IDX data type 0x0d");
	/* labels given where images belong and vice versa */
	CHECK(load("h-lab", "h-img", &s) == -EINVAL);
	CHECK_CONTAINS(err, "h-lab");
}

static void
idx_trailing_bytes_are_refused(void)
{
	struct data_set s;
	uint8_t buf[16 + 8 + 2] = { 0, 0, 8, 3 };

	write_idx("i-img", "i-lab", 2, 2, 2, 2);
	be32(buf + 4, 2);
	be32(buf + 8, 2);
	be32(buf + 12, 2);
	write_file("i-long", buf, sizeof(buf));
	CHECK(load("i-long", "i-lab", &s) == -EINVAL);
	CHECK_CONTAINS(err, "i-long: trailing bytes");
}

static void
idx_label_count_mismatch_is_refused(void)
{
	struct data_set s;
	write_idx("j-img", "j-lab", 6, 2, 2, 2);
	write_idx("k-img", "k-lab", 5, 2, 2, 2);
	CHECK(load("j-img", "k-lab", &s) == -EINVAL);
	CHECK_CONTAINS(err, "k-lab: 5 labels for 6 images");
}

static void
prepare_idx_prefix_splits_and_standardises(void)
{
	struct params p;
	struct data_split d;
	char prefix[128];

	write_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 100, 4, 4, 4);
	write_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 30, 4, 4, 4);
	snprintf(prefix, sizeof(prefix), "{\"dataset\":\"idx:%s\",\"val_size\":20,"
		 "\"train_fraction\":0.5}", dir);
	CHECK(params_parse(&p, prefix, err, sizeof(err)) == 0);
	CHECK(data_prepare(&d, &p, 0, err, sizeof(err)) == 0);
	CHECK(d.train.n == 40 && d.val.n == 20 && d.test.n == 30);
	CHECK(d.n_classes == 4);
	CHECK(d.train.rows == 4 && d.train.cols == 4);
	/* one mean and std for all pixels of the training part */
	double s = 0, ss = 0, n = (double)d.train.n * d.train.d;
	for (size_t i = 0; i < d.train.n * (size_t)d.train.d; i++) {
		s += d.train.x[i];
		ss += (double)d.train.x[i] * d.train.x[i];
	}
	CHECK_NEAR(s / n, 0.0, 1e-4);
	CHECK_NEAR(ss / n, 1.0, 1e-3);
	data_split_free(&d);
	/* val_size too large names the param */
	snprintf(prefix, sizeof(prefix), "{\"dataset\":\"idx:%s\",\"val_size\":100}", dir);
	CHECK(params_parse(&p, prefix, err, sizeof(err)) == 0);
	CHECK(data_prepare(&d, &p, 0, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'val_size'");
	/* a missing data_dir names the file */
	CHECK(params_parse(&p, "{\"data_dir\":\"/nonexistent-sweepd\"}", err, sizeof(err)) == 0);
	CHECK(data_prepare(&d, &p, 0, err, sizeof(err)) == -ENOENT);
	CHECK_CONTAINS(err, "/nonexistent-sweepd/train-images-idx3-ubyte.gz");
}

static void
minmax_maps_training_part_to_unit_range(void)
{
	struct params p;
	struct data_split d;
	char js[256];

	snprintf(js, sizeof(js), "{\"dataset\":\"idx:%s/\",\"val_size\":20,"
		 "\"preprocess\":\"minmax\"}", dir);
	CHECK(params_parse(&p, js, err, sizeof(err)) == 0);
	CHECK(data_prepare(&d, &p, 0, err, sizeof(err)) == 0);
	float lo = 1e9f, hi = -1e9f;
	for (size_t i = 0; i < d.train.n * (size_t)d.train.d; i++) {
		lo = fminf(lo, d.train.x[i]);
		hi = fmaxf(hi, d.train.x[i]);
	}
	CHECK_NEAR(lo, 0.0, 1e-6);
	CHECK_NEAR(hi, 1.0, 1e-6);
	data_split_free(&d);
}

static void
split_is_seeded_by_split_seed(void)
{
	struct params p;
	struct data_split a, b;

	CHECK(params_parse(&p, "{\"dataset\":\"synthetic\",\"synthetic_size\":300,"
			   "\"val_size\":100,\"synthetic_test_size\":50}", err, sizeof(err)) == 0);
	CHECK(data_prepare(&a, &p, 1, err, sizeof(err)) == 0);
	CHECK(data_prepare(&b, &p, 2, err, sizeof(err)) == 0);
	/* SWEEP_SEED does not move the val set: trials compare on one set */
	CHECK(memcmp(a.val.x, b.val.x, a.val.n * a.val.d * sizeof(float)) == 0);
	data_split_free(&b);
	p.split_seed = 9;
	CHECK(data_prepare(&b, &p, 1, err, sizeof(err)) == 0);
	CHECK(memcmp(a.val.x, b.val.x, a.val.n * a.val.d * sizeof(float)) != 0);
	/* a train_fraction that leaves fewer than 2 samples is refused */
	struct params tiny = p;
	struct data_split c;
	tiny.train_fraction = 0.001;
	CHECK(data_prepare(&c, &tiny, 1, err, sizeof(err)) == -EINVAL);
	CHECK_CONTAINS(err, "param 'train_fraction'");
	/* per-feature standardisation for tabular data */
	for (int j = 0; j < a.train.d; j++) {
		double s = 0;
		for (size_t i = 0; i < a.train.n; i++)
			s += a.train.x[i * a.train.d + j];
		CHECK_NEAR(s / a.train.n, 0.0, 1e-4);
	}
	data_split_free(&a);
	data_split_free(&b);
}

static void
synthetic_is_deterministic(void)
{
	struct data_set a, b, ta, tb;

	CHECK(data_synthetic(&a, &ta, 200, 50, 8, 3, 0.5) == 0);
	CHECK(data_synthetic(&b, &tb, 200, 50, 8, 3, 0.5) == 0);
	CHECK(memcmp(a.x, b.x, 200 * 8 * sizeof(float)) == 0);
	CHECK(memcmp(a.y, b.y, 200 * sizeof(int32_t)) == 0);
	int seen[3] = { 0 };
	for (int i = 0; i < 200; i++)
		if (a.y[i] >= 0 && a.y[i] < 3)
			seen[a.y[i]]++;
	CHECK(seen[0] > 20 && seen[1] > 20 && seen[2] > 20);
	data_set_free(&a);
	data_set_free(&b);
	data_set_free(&ta);
	data_set_free(&tb);
}

static void
gather_flips_and_shifts_images(void)
{
	struct data_set s = { 0 };
	float img[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, out[9 * 64];
	int32_t lab[1] = { 2 }, yb[64];
	uint32_t idx[64] = { 0 };
	struct rng r;
	int flipped = 0, plain = 0, moved = 0;

	s.x = img;
	s.y = lab;
	s.n = 1;
	s.d = 9;
	s.rows = s.cols = 3;
	rng_seed(&r, 1, 1);
	data_gather(out, yb, &s, idx, 64, AUG_FLIP, -1.0f, &r);
	for (int i = 0; i < 64; i++) {
		const float *o = out + 9 * i;
		CHECK(yb[i] == 2);
		if (o[0] == 3 && o[1] == 2 && o[2] == 1 && o[3] == 6 && o[8] == 7)
			flipped++;
		else if (memcmp(o, img, sizeof(img)) == 0)
			plain++;
	}
	CHECK(flipped + plain == 64);
	CHECK(flipped > 15 && plain > 15);
	data_gather(out, yb, &s, idx, 64, AUG_SHIFT, -1.0f, &r);
	for (int i = 0; i < 64; i++) {
		const float *o = out + 9 * i;
		/* every output pixel is the fill or the source pixel at a
		 * translation of at most 2 */
		int sum_fill = 0;
		for (int k = 0; k < 9; k++)
			sum_fill += o[k] == -1.0f;
		if (sum_fill)
			moved++;
		CHECK(o[4] == -1.0f || (o[4] >= 1 && o[4] <= 9));
	}
	CHECK(moved > 32);
	data_gather(out, yb, &s, idx, 1, AUG_NONE, -1.0f, &r);
	CHECK(memcmp(out, img, sizeof(img)) == 0);
}

static bool
same_split(const struct data_split *a, const struct data_split *b)
{
	const struct data_set *sa[3] = { &a->train, &a->val, &a->test };
	const struct data_set *sb[3] = { &b->train, &b->val, &b->test };

	if (a->n_classes != b->n_classes || a->fill != b->fill)
		return false;
	for (int i = 0; i < 3; i++)
		if (sa[i]->n != sb[i]->n || sa[i]->d != sb[i]->d ||
		    memcmp(sa[i]->x, sb[i]->x, sa[i]->n * (size_t)sa[i]->d * sizeof(float)) ||
		    memcmp(sa[i]->y, sb[i]->y, sa[i]->n * sizeof(int32_t)))
			return false;
	return true;
}

/* dcache_prepare in dir/cache against data_prepare; returns the result,
 * and why in *why. */
static int
cached(const struct params *p, const struct data_split *want, struct dcache_info *ci)
{
	struct data_split d;
	char cdir[128];

	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	CHECK_MSG(dcache_prepare(&d, p, 0, cdir, ci, err, sizeof(err)) == 0, "%s", err);
	CHECK_MSG(same_split(&d, want), "result %d", ci->result);
	CHECK(ci->result == DCACHE_HIT ? d.map != NULL : d.map == NULL);
	data_split_free(&d);
	return ci->result;
}

/* Overwrite len bytes at off of the cache file with junk. */
static void
scribble(const char *path, long off, size_t len)
{
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	fseek(f, off, SEEK_SET);
	for (size_t i = 0; i < len; i++)
		fputc(0xa5, f);
	fclose(f);
}

static void
cache_rebuilds_whatever_is_wrong_with_it(void)
{
	struct params p;
	struct data_split want;
	struct dcache_info ci;
	char js[256], src[256];

	write_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 300, 6, 6, 5);
	write_idx("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 50, 6, 6, 5);
	snprintf(js, sizeof(js), "{\"dataset\":\"idx:%s\",\"val_size\":40}", dir);
	CHECK(params_parse(&p, js, err, sizeof(err)) == 0);
	CHECK(data_prepare(&want, &p, 0, err, sizeof(err)) == 0);
	CHECK(cached(&p, &want, &ci) == DCACHE_BUILT);
	CHECK(cached(&p, &want, &ci) == DCACHE_HIT);
	/* a byte of the training pixels */
	scribble(ci.path, 8192 + 100, 1);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "payload checksum");
	CHECK(cached(&p, &want, &ci) == DCACHE_HIT);
	/* the header (its n_classes, say) */
	scribble(ci.path, 16, 4);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "checksum");
	/* cut short, in the payload and in the header */
	CHECK(truncate(ci.path, 8192 + 4096) == 0);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "truncated");
	CHECK(truncate(ci.path, 100) == 0);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "truncated");
	/* not ours at all */
	scribble(ci.path, 0, 8);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "not a cache file");
	/* a source file changed: more samples, so the old cache is wrong */
	data_split_free(&want);
	write_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 320, 6, 6, 5);
	CHECK(data_prepare(&want, &p, 0, err, sizeof(err)) == 0);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "stale");
	/* the same content, only the mtime moved: still rebuilt, never trusted */
	path_of(src, sizeof(src), "t10k-images-idx3-ubyte");
	struct timespec ts[2] = { { 1, 0 }, { 1000, 0 } };
	CHECK(utimensat(AT_FDCWD, src, ts, 0) == 0);
	CHECK(cached(&p, &want, &ci) == DCACHE_REBUILT);
	CHECK_CONTAINS(ci.why, "stale");
	CHECK(cached(&p, &want, &ci) == DCACHE_HIT);
	/* other params, another file; the first one stays valid */
	char first[sizeof(ci.path)];
	snprintf(first, sizeof(first), "%s", ci.path);
	struct params q = p;
	struct data_split wq;
	q.train_fraction = 0.5;
	CHECK_MSG(data_prepare(&wq, &q, 0, err, sizeof(err)) == 0, "%s", err);
	CHECK(cached(&q, &wq, &ci) == DCACHE_BUILT);
	CHECK(strcmp(first, ci.path) != 0);
	CHECK(cached(&p, &want, &ci) == DCACHE_HIT);
	data_split_free(&wq);
	data_split_free(&want);
}

static void
cache_that_cannot_be_written_or_read_is_bypassed(void)
{
	struct params p;
	struct data_split d;
	struct dcache_info ci;
	char js[256], cdir[128];

	snprintf(js, sizeof(js), "{\"dataset\":\"idx:%s\",\"val_size\":40}", dir);
	CHECK(params_parse(&p, js, err, sizeof(err)) == 0);
	/* a cache dir under a regular file */
	snprintf(cdir, sizeof(cdir), "%s/t10k-labels-idx1-ubyte/cache", dir);
	CHECK(dcache_prepare(&d, &p, 0, cdir, &ci, err, sizeof(err)) == 0);
	CHECK(ci.result == DCACHE_UNWRITABLE && d.map == NULL && d.train.n == 280);
	CHECK_CONTAINS(ci.why, "cannot create");
	data_split_free(&d);
	/* a missing source is named as without a cache */
	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	CHECK(params_parse(&p, "{\"data_dir\":\"/nonexistent-sweepd\"}", err, sizeof(err)) == 0);
	CHECK(dcache_prepare(&d, &p, 0, cdir, &ci, err, sizeof(err)) == -ENOENT);
	CHECK_CONTAINS(err, "/nonexistent-sweepd/train-images-idx3-ubyte.gz");
	/* no dir: no cache */
	snprintf(js, sizeof(js), "{\"dataset\":\"idx:%s\",\"val_size\":40}", dir);
	CHECK(params_parse(&p, js, err, sizeof(err)) == 0);
	CHECK(dcache_prepare(&d, &p, 0, "", &ci, err, sizeof(err)) == 0);
	CHECK(ci.result == DCACHE_OFF && d.map == NULL);
	data_split_free(&d);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sweep-worker-test-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(idx_reads_gzipped_and_plain_files);
	RUN(idx_missing_file_is_named);
	RUN(idx_truncated_gzip_is_refused);
	RUN(idx_truncated_plain_file_is_refused);
	RUN(idx_corrupt_gzip_is_refused);
	RUN(idx_bad_header_is_refused);
	RUN(idx_trailing_bytes_are_refused);
	RUN(idx_label_count_mismatch_is_refused);
	RUN(prepare_idx_prefix_splits_and_standardises);
	RUN(minmax_maps_training_part_to_unit_range);
	RUN(split_is_seeded_by_split_seed);
	RUN(synthetic_is_deterministic);
	RUN(gather_flips_and_shifts_images);
	RUN(cache_rebuilds_whatever_is_wrong_with_it);
	RUN(cache_that_cannot_be_written_or_read_is_bypassed);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return harness_done();
}
