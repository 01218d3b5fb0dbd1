/*
 * data.c: IDX loading through zlib, the synthetic set, the split and the
 * batch gatherer.
 *
 * Images stay bytes until the split: the train, val and test arrays are
 * written once, as floats, straight from the decompressed bytes, so a
 * Fashion-MNIST load touches 70k images once and holds no second copy.
 */
#include "worker/data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAX_BYTES ((size_t)1 << 31)   /* refuse absurd headers before malloc */

/* Samples in their file form: bytes (IDX) or floats (synthetic). */
struct source {
	const uint8_t *px;   /* (n, d) or NULL */
	const float *fx;     /* (n, d) or NULL */
	const int32_t *y;    /* (n) */
	size_t n;
	int d, rows, cols;
};

struct idx_file {
	uint8_t *data;       /* owned */
	uint32_t dims[3];
	int ndim;
	size_t n_bytes;
};

static int
gz_read_full(gzFile f, uint8_t *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		size_t chunk = len - *got;
		if (chunk > (1u << 30))
			chunk = 1u << 30;
		int r = gzread(f, buf + *got, (unsigned)chunk);
		if (r < 0)
			return -EINVAL;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static void
gz_errmsg(gzFile f, const char *path, const char *what, char *err, size_t errlen)
{
	int zerr = 0;
	const char *msg = gzerror(f, &zerr);

	if (zerr != Z_OK && msg && *msg)
		snprintf(err, errlen, "%s: %s (%s)", path, what, msg);
	else
		snprintf(err, errlen, "%s: %s", path, what);
}

/* The magic, data type and dimensions of an IDX file into f (ndim, dims, n_bytes). */
static int
idx_read_header(gzFile gz, struct idx_file *f, const char *path, int min_ndim, char *err,
		size_t errlen)
{
	uint8_t head[4], dimb[12];
	size_t got, need = 1;

	if (gz_read_full(gz, head, 4, &got) < 0 || got < 4) {
		gz_errmsg(gz, path, "truncated or corrupt IDX header", err, errlen);
		return -EINVAL;
	}
	if (head[0] != 0 || head[1] != 0) {
		snprintf(err, errlen, "%s: not an IDX file (bad magic %02x %02x)", path, head[0],
			 head[1]);
		return -EINVAL;
	}
	if (head[2] != 0x08) {
		snprintf(err, errlen, "%s: unsupported IDX data type 0x%02x (only unsigned bytes)",
			 path, head[2]);
		return -EINVAL;
	}
	f->ndim = head[3];
	if (f->ndim < min_ndim || f->ndim > 3) {
		snprintf(err, errlen, "%s: IDX file has %d dimensions, expected %d%s", path, f->ndim,
			 min_ndim, min_ndim < 3 ? "" : "");
		return -EINVAL;
	}
	if (gz_read_full(gz, dimb, 4 * (size_t)f->ndim, &got) < 0 || got < 4 * (size_t)f->ndim) {
		gz_errmsg(gz, path, "truncated or corrupt IDX header", err, errlen);
		return -EINVAL;
	}
	for (int i = 0; i < f->ndim; i++) {
		f->dims[i] = (uint32_t)dimb[4 * i] << 24 | (uint32_t)dimb[4 * i + 1] << 16 |
			     (uint32_t)dimb[4 * i + 2] << 8 | dimb[4 * i + 3];
		if (f->dims[i] == 0 || need > IDX_MAX_BYTES / f->dims[i]) {
			snprintf(err, errlen, "%s: implausible IDX dimensions (corrupt header?)",
				 path);
			return -EINVAL;
		}
		need *= f->dims[i];
	}
	f->n_bytes = need;
	return 0;
}

/* The f->n_bytes data bytes into f->data (owned by f, freed by the caller on failure),
 * then the end of the stream. */
static int
idx_read_data(gzFile gz, struct idx_file *f, const char *path, char *err, size_t errlen)
{
	size_t got, need = f->n_bytes;
	uint8_t extra;

	f->data = malloc(need);
	if (!f->data) {
		snprintf(err, errlen, "%s: out of memory for %zu bytes", path, need);
		return -ENOMEM;
	}
	if (gz_read_full(gz, f->data, need, &got) < 0) {
		gz_errmsg(gz, path, "corrupt compressed data", err, errlen);
		return -EINVAL;
	}
	if (got < need) {
		char what[128];
		snprintf(what, sizeof(what), "truncated: %zu of %zu data bytes", got, need);
		gz_errmsg(gz, path, what, err, errlen);
		return -EINVAL;
	}
	/* Reading past the end makes zlib check the gzip CRC and length: a
	 * flipped byte in the middle is caught here, not only a short file. */
	if (gz_read_full(gz, &extra, 1, &got) < 0) {
		gz_errmsg(gz, path, "corrupt compressed data", err, errlen);
		return -EINVAL;
	}
	if (got != 0) {
		snprintf(err, errlen, "%s: trailing bytes after %zu data bytes (corrupt?)", path,
			 need);
		return -EINVAL;
	}
	return 0;
}

/* Read one IDX file of unsigned bytes with ndim in [min_ndim, 3]. */
static int
idx_read(struct idx_file *out, const char *path, int min_ndim, char *err, size_t errlen)
{
	struct idx_file f = { 0 };
	gzFile gz;
	int rc;

	memset(out, 0, sizeof(*out));
	errno = 0;
	gz = gzopen(path, "rb");
	if (!gz) {
		rc = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 errno ? strerror(errno) : "out of memory");
		return rc;
	}
	gzbuffer(gz, 1 << 18);
	rc = idx_read_header(gz, &f, path, min_ndim, err, errlen);
	if (rc == 0)
		rc = idx_read_data(gz, &f, path, err, errlen);
	gzclose(gz);
	if (rc < 0) {
		free(f.data);
		return rc;
	}
	*out = f;
	return 0;
}

/* Read an image file and a label file into raw bytes, checking they match. */
static int
idx_pair(struct idx_file *img, struct idx_file *lab, const char *images, const char *labels,
	 char *err, size_t errlen)
{
	int rc;

	if ((rc = idx_read(img, images, 2, err, errlen)) < 0)
		return rc;
	if ((rc = idx_read(lab, labels, 1, err, errlen)) < 0)
		goto fail;
	if (lab->ndim != 1) {
		snprintf(err, errlen, "%s: a label file must have 1 dimension, not %d", labels,
			 lab->ndim);
		rc = -EINVAL;
		goto fail_lab;
	}
	if (lab->dims[0] != img->dims[0]) {
		snprintf(err, errlen, "%s: %u labels for %u images in %s", labels, lab->dims[0],
			 img->dims[0], images);
		rc = -EINVAL;
		goto fail_lab;
	}
	return 0;
fail_lab:
	free(lab->data);
	lab->data = NULL;
fail:
	free(img->data);
	img->data = NULL;
	return rc;
}

static void
idx_shape(const struct idx_file *img, int *d, int *rows, int *cols)
{
	if (img->ndim == 3) {
		*rows = (int)img->dims[1];
		*cols = (int)img->dims[2];
	} else {
		*rows = 0;
		*cols = 0;
	}
	*d = (int)(img->n_bytes / img->dims[0]);
}

static int
alloc_set(struct data_set *s, size_t n, int d, int rows, int cols)
{
	memset(s, 0, sizeof(*s));
	s->x = malloc(n * (size_t)d * sizeof(float) + 1);
	s->y = malloc(n * sizeof(int32_t) + 1);
	if (!s->x || !s->y) {
		data_set_free(s);
		return -ENOMEM;
	}
	s->n = n;
	s->d = d;
	s->rows = rows;
	s->cols = cols;
	return 0;
}

int
data_idx_load(struct data_set *out, const char *images, const char *labels, char *err,
	      size_t errlen)
{
	struct idx_file img, lab;
	int d, rows, cols, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = idx_pair(&img, &lab, images, labels, err, errlen)) < 0)
		return rc;
	idx_shape(&img, &d, &rows, &cols);
	if ((rc = alloc_set(out, img.dims[0], d, rows, cols)) < 0) {
		snprintf(err, errlen, "%s: out of memory", images);
		goto out;
	}
	for (size_t i = 0; i < img.n_bytes; i++)
		out->x[i] = img.data[i];
	for (size_t i = 0; i < out->n; i++)
		out->y[i] = lab.data[i];
out:
	free(img.data);
	free(lab.data);
	return rc;
}

int
data_synthetic(struct data_set *train, struct data_set *test, int n_train, int n_test,
	       int features, int classes, double noise)
{
	/* Two blobs per class, centres at distance ~3 apart whatever the
	 * dimension, so the problem is neither trivial nor linear. */
	int n_centres = 2 * classes;
	float *centres = malloc((size_t)n_centres * (size_t)features * sizeof(float));
	double scale = 3.0 / sqrt(2.0 * features) * sqrt(2.0);
	struct rng r;
	int rc = -ENOMEM;

	memset(train, 0, sizeof(*train));
	memset(test, 0, sizeof(*test));
	if (!centres)
		return -ENOMEM;
	if (alloc_set(train, (size_t)n_train, features, 0, 0) < 0 ||
	    alloc_set(test, (size_t)n_test, features, 0, 0) < 0)
		goto fail;
	rng_seed(&r, 0x5eed5eedULL, RNG_DATA);
	for (int i = 0; i < n_centres * features; i++)
		centres[i] = (float)(rng_normal(&r) * scale);
	for (int s = 0; s < 2; s++) {
		struct data_set *set = s ? test : train;
		for (size_t i = 0; i < set->n; i++) {
			int c = (int)rng_below(&r, (uint32_t)n_centres);
			set->y[i] = c % classes;
			for (int j = 0; j < features; j++)
				set->x[i * (size_t)features + j] =
					centres[c * features + j] + (float)(noise * rng_normal(&r));
		}
	}
	free(centres);
	return 0;
fail:
	data_set_free(train);
	data_set_free(test);
	free(centres);
	return rc;
}

static void
copy_row(float *dst, const struct source *src, size_t i)
{
	size_t d = (size_t)src->d;

	if (src->px) {
		const uint8_t *p = src->px + i * d;
		for (size_t j = 0; j < d; j++)
			dst[j] = p[j];
	} else {
		memcpy(dst, src->fx + i * d, d * sizeof(float));
	}
}

static int
take_rows(struct data_set *out, const struct source *src, const uint32_t *idx, size_t n)
{
	int rc = alloc_set(out, n, src->d, src->rows, src->cols);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		size_t k = idx ? idx[i] : i;
		copy_row(out->x + i * (size_t)src->d, src, k);
		out->y[i] = src->y[k];
	}
	return 0;
}

/* x <- (x - shift[j]) * scale[j], statistics from the training part. Images
 * get one shift/scale for all pixels: per-pixel statistics would blow up
 * near-constant border pixels and give a shifted pixel another pixel's
 * scale. Tabular features get their own. */
static int
preprocess(struct data_split *s, int how)
{
	const struct data_set *t = &s->train;
	int d = t->d;
	bool global = t->rows > 0;
	double *shift = calloc((size_t)d, sizeof(double));
	double *scale = calloc((size_t)d, sizeof(double));
	double *a = calloc((size_t)d, sizeof(double));
	double *b = calloc((size_t)d, sizeof(double));
	int rc = -ENOMEM;

	if (!shift || !scale || !a || !b)
		goto out;
	rc = 0;
	for (int j = 0; j < d; j++) {
		shift[j] = 0.0;
		scale[j] = 1.0;
	}
	if (how == PRE_NONE)
		goto apply;
	if (how == PRE_STANDARDIZE) {
		/* a: sum, b: sum of squares, per feature (in double) */
		for (size_t i = 0; i < t->n; i++)
			for (int j = 0; j < d; j++) {
				double v = t->x[i * (size_t)d + j];
				a[j] += v;
				b[j] += v * v;
			}
		double n = (double)t->n * (global ? d : 1);
		double ga = 0, gb = 0;
		for (int j = 0; j < d; j++) {
			ga += a[j];
			gb += b[j];
		}
		for (int j = 0; j < d; j++) {
			double sa = global ? ga : a[j], sb = global ? gb : b[j];
			double mean = sa / n, var = sb / n - mean * mean;
			double sd = var > 1e-12 ? sqrt(var) : 1.0;
			shift[j] = mean;
			scale[j] = 1.0 / sd;
		}
	} else {
		for (int j = 0; j < d; j++) {
			a[j] = INFINITY;
			b[j] = -INFINITY;
		}
		for (size_t i = 0; i < t->n; i++)
			for (int j = 0; j < d; j++) {
				double v = t->x[i * (size_t)d + j];
				a[j] = fmin(a[j], v);
				b[j] = fmax(b[j], v);
			}
		double gmin = INFINITY, gmax = -INFINITY;
		for (int j = 0; j < d; j++) {
			gmin = fmin(gmin, a[j]);
			gmax = fmax(gmax, b[j]);
		}
		for (int j = 0; j < d; j++) {
			double lo = global ? gmin : a[j], hi = global ? gmax : b[j];
			shift[j] = lo;
			scale[j] = hi - lo > 1e-12 ? 1.0 / (hi - lo) : 1.0;
		}
	}
apply:
	for (int k = 0; k < 3; k++) {
		struct data_set *set = k == 0 ? &s->train : k == 1 ? &s->val : &s->test;
		for (size_t i = 0; i < set->n; i++)
			for (int j = 0; j < d; j++) {
				float *v = &set->x[i * (size_t)d + j];
				*v = (float)((*v - shift[j]) * scale[j]);
			}
	}
	s->fill = (float)((0.0 - shift[0]) * scale[0]);
out:
	free(shift);
	free(scale);
	free(a);
	free(b);
	return rc;
}

/* prefix + name, with a '/' between when prefix is a directory (data_dir
 * always is; "idx:PREFIX" may also be a file-name prefix like "/d/mnist-"). */
static void
idx_path(char *out, size_t len, const char *prefix, bool is_dir, const char *name)
{
	struct stat st;
	size_t n = strlen(prefix);
	bool dir = is_dir || (stat(prefix, &st) == 0 && S_ISDIR(st.st_mode));

	snprintf(out, len, "%s%s%s", prefix, dir && n && prefix[n - 1] != '/' ? "/" : "", name);
}

/* gzopen reads plain files too; prefer the .gz name, fall back to the bare one. */
static void
idx_pick(char *out, size_t len, const char *prefix, bool is_dir, const char *name)
{
	char gz[64];   /* name is one of the four fixed IDX file names */
	struct stat st;

	snprintf(gz, sizeof(gz), "%.40s.gz", name);
	idx_path(out, len, prefix, is_dir, gz);
	if (stat(out, &st) == 0)
		return;
	idx_path(out, len, prefix, is_dir, name);
	if (stat(out, &st) != 0)
		idx_path(out, len, prefix, is_dir, gz);   /* name the .gz in the error */
}

static int
split(struct data_split *out, const struct source *tr, const struct source *te,
      const struct params *p, char *err, size_t errlen)
{
	uint32_t *perm = NULL;
	struct rng r;
	size_t n_part, n_keep;
	int rc;

	if ((size_t)p->val_size >= tr->n) {
		snprintf(err, errlen, "param 'val_size': %d leaves no training samples (the "
			 "training file has %zu)", p->val_size, tr->n);
		return -EINVAL;
	}
	perm = malloc(tr->n * sizeof(uint32_t));
	if (!perm)
		return -ENOMEM;
	for (size_t i = 0; i < tr->n; i++)
		perm[i] = (uint32_t)i;
	rng_seed(&r, (uint64_t)p->split_seed, RNG_SPLIT);
	rng_shuffle(&r, perm, tr->n);
	n_part = tr->n - (size_t)p->val_size;
	n_keep = (size_t)llround(p->train_fraction * (double)n_part);
	if (n_keep < 2) {
		snprintf(err, errlen, "param 'train_fraction': %g of %zu samples leaves fewer than "
			 "2 to train on", p->train_fraction, n_part);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = take_rows(&out->train, tr, perm, n_keep)) < 0 ||
	    (rc = take_rows(&out->val, tr, perm + n_part, (size_t)p->val_size)) < 0 ||
	    (rc = take_rows(&out->test, te, NULL, te->n)) < 0) {
		snprintf(err, errlen, "out of memory splitting the data");
		goto out;
	}
	rc = preprocess(out, p->preprocess);
	if (rc < 0)
		snprintf(err, errlen, "out of memory preprocessing the data");
out:
	free(perm);
	return rc;
}

static int
max_label(const struct source *s)
{
	int m = -1;
	for (size_t i = 0; i < s->n; i++)
		if (s->y[i] > m)
			m = s->y[i];
	return m;
}

static void
idx_sources(const char *prefix, bool is_dir, char src[DATA_N_SRC][DATA_PATH_MAX])
{
	idx_pick(src[DATA_SRC_TRAIN_X], DATA_PATH_MAX, prefix, is_dir, "train-images-idx3-ubyte");
	idx_pick(src[DATA_SRC_TRAIN_Y], DATA_PATH_MAX, prefix, is_dir, "train-labels-idx1-ubyte");
	idx_pick(src[DATA_SRC_TEST_X], DATA_PATH_MAX, prefix, is_dir, "t10k-images-idx3-ubyte");
	idx_pick(src[DATA_SRC_TEST_Y], DATA_PATH_MAX, prefix, is_dir, "t10k-labels-idx1-ubyte");
}

int
data_idx_sources(const struct params *p, char src[DATA_N_SRC][DATA_PATH_MAX])
{
	if (strcmp(p->dataset, "synthetic") == 0)
		return -ENOTSUP;
	if (strncmp(p->dataset, "idx:", 4) == 0)
		idx_sources(p->dataset + 4, false, src);
	else
		idx_sources(p->data_dir, true, src);
	return 0;
}

static int
prepare_idx(struct data_split *out, const char *prefix, bool is_dir, const struct params *p,
	    char *err, size_t errlen)
{
	char src[DATA_N_SRC][DATA_PATH_MAX];
	const char *ti = src[DATA_SRC_TRAIN_X], *tl = src[DATA_SRC_TRAIN_Y];
	const char *ei = src[DATA_SRC_TEST_X], *el = src[DATA_SRC_TEST_Y];
	struct idx_file tri = { 0 }, trl = { 0 }, tei = { 0 }, tel = { 0 };
	int32_t *ytr = NULL, *yte = NULL;
	struct source str, ste;
	int rc;

	idx_sources(prefix, is_dir, src);
	if ((rc = idx_pair(&tri, &trl, ti, tl, err, errlen)) < 0)
		return rc;
	if ((rc = idx_pair(&tei, &tel, ei, el, err, errlen)) < 0)
		goto out;
	if (tei.n_bytes / tei.dims[0] != tri.n_bytes / tri.dims[0] || tei.ndim != tri.ndim ||
	    tei.dims[1] != tri.dims[1]) {
		snprintf(err, errlen, "%s: image shape differs from %s", ei, ti);
		rc = -EINVAL;
		goto out;
	}
	ytr = malloc(trl.n_bytes * sizeof(int32_t));
	yte = malloc(tel.n_bytes * sizeof(int32_t));
	if (!ytr || !yte) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory reading labels");
		goto out;
	}
	for (size_t i = 0; i < trl.n_bytes; i++)
		ytr[i] = trl.data[i];
	for (size_t i = 0; i < tel.n_bytes; i++)
		yte[i] = tel.data[i];
	str = (struct source){ .px = tri.data, .y = ytr, .n = tri.dims[0] };
	idx_shape(&tri, &str.d, &str.rows, &str.cols);
	ste = str;
	ste.px = tei.data;
	ste.y = yte;
	ste.n = tei.dims[0];
	out->n_classes = max_label(&str) + 1;
	if (out->n_classes < 2) {
		snprintf(err, errlen, "%s: fewer than 2 classes", tl);
		rc = -EINVAL;
		goto out;
	}
	if (max_label(&ste) >= out->n_classes) {
		snprintf(err, errlen, "%s: label %d never occurs in %s", el, max_label(&ste), tl);
		rc = -EINVAL;
		goto out;
	}
	rc = split(out, &str, &ste, p, err, errlen);
out:
	free(tri.data);
	free(trl.data);
	free(tei.data);
	free(tel.data);
	free(ytr);
	free(yte);
	return rc;
}

static int
prepare_synthetic(struct data_split *out, const struct params *p, char *err, size_t errlen)
{
	struct data_set tr, te;
	struct source str, ste;
	int rc;

	rc = data_synthetic(&tr, &te, p->synthetic_size, p->synthetic_test_size,
			    p->synthetic_features, p->synthetic_classes, p->synthetic_noise);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory generating the synthetic set");
		return rc;
	}
	str = (struct source){ .fx = tr.x, .y = tr.y, .n = tr.n, .d = tr.d };
	ste = (struct source){ .fx = te.x, .y = te.y, .n = te.n, .d = te.d };
	out->n_classes = p->synthetic_classes;
	rc = split(out, &str, &ste, p, err, errlen);
	data_set_free(&tr);
	data_set_free(&te);
	return rc;
}

int
data_prepare(struct data_split *out, const struct params *p, uint64_t seed, char *err,
	     size_t errlen)
{
	int rc;

	(void)seed;  /* the split has its own param; see split_seed */
	memset(out, 0, sizeof(*out));
	if (strcmp(p->dataset, "synthetic") == 0) {
		if (p->augment != AUG_NONE) {
			snprintf(err, errlen, "param 'augment': %s needs an image dataset, not "
				 "synthetic", params_enum_name("augment", p->augment));
			return -EINVAL;
		}
		rc = prepare_synthetic(out, p, err, errlen);
	} else if (strncmp(p->dataset, "idx:", 4) == 0) {
		rc = prepare_idx(out, p->dataset + 4, false, p, err, errlen);
	} else {
		rc = prepare_idx(out, p->data_dir, true, p, err, errlen);
	}
	if (rc == 0 && p->augment != AUG_NONE && out->train.rows == 0) {
		snprintf(err, errlen, "param 'augment': %s needs 2-D images (3-dimensional IDX)",
			 params_enum_name("augment", p->augment));
		rc = -EINVAL;
	}
	if (rc < 0)
		data_split_free(out);
	return rc;
}

static void
shift_image(float *dst, const float *src, int rows, int cols, int dy, int dx, float fill)
{
	for (int r = 0; r < rows; r++) {
		int sr = r - dy;
		float *d = dst + (size_t)r * cols;
		if (sr < 0 || sr >= rows) {
			for (int c = 0; c < cols; c++)
				d[c] = fill;
			continue;
		}
		const float *s = src + (size_t)sr * cols;
		for (int c = 0; c < cols; c++) {
			int sc = c - dx;
			d[c] = (sc >= 0 && sc < cols) ? s[sc] : fill;
		}
	}
}

void
data_gather(float *xb, int32_t *yb, const struct data_set *s, const uint32_t *idx, int B,
	    int augment, float fill, struct rng *r)
{
	size_t d = (size_t)s->d;

	for (int i = 0; i < B; i++) {
		const float *src = s->x + (size_t)idx[i] * d;
		float *dst = xb + (size_t)i * d;
		yb[i] = s->y[idx[i]];
		if (augment == AUG_SHIFT) {
			int dy = (int)rng_below(r, 5) - 2, dx = (int)rng_below(r, 5) - 2;
			shift_image(dst, src, s->rows, s->cols, dy, dx, fill);
		} else if (augment == AUG_FLIP && (rng_next(r) >> 63)) {
			for (int row = 0; row < s->rows; row++)
				for (int c = 0; c < s->cols; c++)
					dst[row * s->cols + c] = src[row * s->cols + s->cols - 1 - c];
		} else {
			memcpy(dst, src, d * sizeof(float));
		}
	}
}

void
data_set_free(struct data_set *s)
{
	if (!s)
		return;
	free(s->x);
	free(s->y);
	memset(s, 0, sizeof(*s));
}

void
data_split_free(struct data_split *s)
{
	if (!s)
		return;
	if (s->map) {
		munmap(s->map, s->map_len);
		memset(s, 0, sizeof(*s));
		return;
	}
	data_set_free(&s->train);
	data_set_free(&s->val);
	data_set_free(&s->test);
}
