/*
 * ops_best.c: the `best` op's answers kept between requests (ops_best.h).
 */
#include "daemon/serve/ops_best.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static void
entry_free(struct ops_best_entry *e)
{
	for (int i = 0; i < e->n; i++) {
		free(e->key[i]);
		cJSON_free(e->text[i]);
	}
	memset(e, 0, sizeof *e);
}

static int
key_equal(const struct ops_best_entry *e, const struct ops_best_key *k)
{
	return e->gen == k->gen && e->active == k->active &&
	       e->n_objectives == k->n_objectives;
}

static struct ops_best_entry *
find(struct ops_best_cache *c, int64_t sweep_id)
{
	for (int i = 0; i < OPS_BEST_KEPT; i++)
		if (c->e[i].sweep_id == sweep_id)
			return &c->e[i];
	return NULL;
}

int
ops_best_add(struct ops_best_cache *c, int64_t sweep_id,
	     const struct ops_best_key *key, cJSON *reply)
{
	struct ops_best_entry *e = find(c, sweep_id);
	cJSON *raw[4] = { NULL };
	int i;

	if (!e || !key_equal(e, key)) {
		c->misses++;
		return 0;
	}
	for (i = 0; i < e->n; i++)
		if (!(raw[i] = cJSON_CreateRaw(e->text[i])))
			break;
	if (i < e->n) {
		for (i = 0; i < e->n; i++)
			cJSON_Delete(raw[i]);
		return -ENOMEM;
	}
	for (i = 0; i < e->n; i++)
		cJSON_AddItemToObject(reply, e->key[i], raw[i]);
	e->used = ++c->clock;
	c->hits++;
	return 1;
}

/* The entry to fill for sweep_id: its own, else the least recently used
 * (an unused one has used 0), emptied. */
static struct ops_best_entry *
slot(struct ops_best_cache *c, int64_t sweep_id)
{
	struct ops_best_entry *e = find(c, sweep_id);

	if (!e) {
		e = &c->e[0];
		for (int i = 1; i < OPS_BEST_KEPT; i++)
			if (c->e[i].used < e->used)
				e = &c->e[i];
	}
	entry_free(e);
	return e;
}

void
ops_best_keep(struct ops_best_cache *c, int64_t sweep_id,
	      const struct ops_best_key *key, const cJSON *answer)
{
	struct ops_best_entry *e = slot(c, sweep_id);
	const cJSON *m;
	int n = 0;

	cJSON_ArrayForEach(m, answer)
		n++;
	if (n > 4)
		return;
	cJSON_ArrayForEach(m, answer) {
		e->key[e->n] = strdup(m->string);
		e->text[e->n] = json_print(m);
		if (!e->key[e->n] || !e->text[e->n]) {
			free(e->key[e->n]);
			cJSON_free(e->text[e->n]);
			entry_free(e);
			return;
		}
		e->n++;
	}
	e->sweep_id = sweep_id;
	e->gen = key->gen;
	e->active = key->active;
	e->n_objectives = key->n_objectives;
	e->used = ++c->clock;
}

void
ops_best_clear(struct ops_best_cache *c)
{
	for (int i = 0; i < OPS_BEST_KEPT; i++)
		entry_free(&c->e[i]);
	c->clock = 0;
}
