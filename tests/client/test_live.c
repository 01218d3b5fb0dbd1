/* test_live.c: the live watch view: the state each event leaves, the
 * merging of fetched state with the event stream, and the text of a
 * frame (rendered to a memstream, no terminal). */
#include "client/live.h"
#include "tests/harness.h"

#include <errno.h>
#include <stdlib.h>

#define T0 1700000000.0

static cJSON *
J(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (!j) {
		printf("# bad test JSON: %s\n", text);
		abort();
	}
	return j;
}

/* Applies one event given as JSON text. */
static int
feed(struct live *l, const char *text)
{
	cJSON *ev = J(text);
	int rc = live_update(l, ev);

	cJSON_Delete(ev);
	return rc;
}

/* A running sweep of 10 trials: 2 done, 1 running, best #2 at 0.75. */
static void
start(struct live *l)
{
	cJSON *s = J("{\"id\":2,\"name\":\"demo\",\"status\":\"running\","
		     "\"created_at\":1700000000,\"ended_at\":null,\"trials_total\":10,"
		     "\"counts\":{\"queued\":7,\"running\":1,\"completed\":2,\"failed\":0,"
		     "\"pruned\":0,\"cancelled\":0},"
		     "\"objective\":{\"metric\":\"val_acc\",\"mode\":\"max\"},"
		     "\"best\":{\"number\":2,\"objective\":0.75}}");

	CHECK(live_init(l, 2, s) == 0);
	cJSON_Delete(s);
}

static char *
render(const struct live *l, double now, int width, int max_lines, int *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*n = live_render(f, l, now, width, max_lines);
	fclose(f);
	return buf;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void
init_reads_the_summary(void)
{
	struct live l;

	start(&l);
	CHECK_STR(l.name, "demo");
	CHECK_STR(l.status, "running");
	CHECK_STR(l.metric, "val_acc");
	CHECK(l.mode_max == 1 && l.total == 10 && !l.ended);
	CHECK(l.counts[LIVE_QUEUED] == 7 && l.counts[LIVE_RUNNING] == 1 &&
	      l.counts[LIVE_COMPLETED] == 2);
	CHECK(l.have_best && l.best_number == 2);
	CHECK_NEAR(l.best_value, 0.75, 0);
	CHECK(l.n_run == 0);
	live_free(&l);
	live_free(&l);   /* harmless twice */
}

static void
a_trial_runs_and_ends(void)
{
	struct live l;
	struct live_trial *t;

	start(&l);
	feed(&l, "{\"event\":\"trial_started\",\"sweep\":2,\"number\":4,\"attempt\":1,"
		 "\"params\":{\"lr\":0.01,\"epochs\":10}}");
	CHECK(l.n_run == 1 && l.counts[LIVE_RUNNING] == 2 && l.counts[LIVE_QUEUED] == 6);
	t = live_find(&l, 4);
	CHECK(t && t->epochs == 10 && t->epoch == 0 && isnan(t->value));
	feed(&l, "{\"event\":\"epoch\",\"sweep\":2,\"number\":4,\"epoch\":1,"
		 "\"metrics\":{\"val_acc\":0.5},\"objective\":0.5,\"diagnosis\":null}");
	feed(&l, "{\"event\":\"epoch\",\"sweep\":2,\"number\":4,\"epoch\":2,"
		 "\"metrics\":{\"val_acc\":0.8},\"objective\":0.8,"
		 "\"diagnosis\":{\"verdict\":\"overfitting\"}}");
	/* the same epoch twice is kept once */
	feed(&l, "{\"event\":\"epoch\",\"sweep\":2,\"number\":4,\"epoch\":2,"
		 "\"objective\":0.8}");
	t = live_find(&l, 4);
	CHECK(t && t->n == 2 && t->epoch == 2);
	CHECK(t && t->curve[0] == 0.5 && t->curve[1] == 0.8);
	CHECK_STR(t ? t->verdict : NULL, "overfitting");
	feed(&l, "{\"event\":\"trial_ended\",\"sweep\":2,\"number\":4,"
		 "\"status\":\"completed\",\"objective\":0.8,\"best_epoch\":2,"
		 "\"error\":null,\"diagnosis\":{\"verdict\":\"overfitting\"}}");
	CHECK(l.n_run == 0 && !live_find(&l, 4));
	CHECK(l.counts[LIVE_RUNNING] == 1 && l.counts[LIVE_COMPLETED] == 3);
	CHECK(l.have_best && l.best_number == 4);
	CHECK(l.n_verdicts == 1 && l.verdicts[0].n == 1);
	CHECK_STR(l.verdicts[0].name, "overfitting");
	live_free(&l);
}

static void
best_follows_the_mode_and_only_completed_trials(void)
{
	struct live l;

	start(&l);
	feed(&l, "{\"event\":\"trial_ended\",\"number\":5,\"status\":\"pruned\","
		 "\"objective\":0.99,\"diagnosis\":{\"verdict\":\"diverged\"}}");
	CHECK(l.best_number == 2 && l.counts[LIVE_PRUNED] == 1);
	feed(&l, "{\"event\":\"trial_ended\",\"number\":6,\"status\":\"completed\","
		 "\"objective\":0.7,\"diagnosis\":null}");
	CHECK(l.best_number == 2);   /* 0.7 < 0.75 under max */
	l.mode_max = 0;
	feed(&l, "{\"event\":\"trial_ended\",\"number\":7,\"status\":\"completed\","
		 "\"objective\":0.6}");
	CHECK(l.best_number == 7);   /* under min, lower wins */
	CHECK(l.n_verdicts == 1 && l.verdicts[0].n == 1);   /* diverged only */
	live_free(&l);
}

static void
a_new_attempt_restarts_the_curve(void)
{
	struct live l;

	start(&l);
	feed(&l, "{\"event\":\"trial_started\",\"number\":3,\"attempt\":1,\"params\":{}}");
	feed(&l, "{\"event\":\"epoch\",\"number\":3,\"epoch\":1,\"objective\":0.4}");
	/* a repeated start of the same attempt changes nothing */
	feed(&l, "{\"event\":\"trial_started\",\"number\":3,\"attempt\":1,\"params\":{}}");
	CHECK(l.n_run == 1 && live_find(&l, 3)->n == 1 && l.counts[LIVE_RUNNING] == 2);
	feed(&l, "{\"event\":\"trial_started\",\"number\":3,\"attempt\":2,"
		 "\"params\":{\"epochs\":4}}");
	CHECK(l.n_run == 1 && l.counts[LIVE_RUNNING] == 2);
	CHECK(live_find(&l, 3)->n == 0 && live_find(&l, 3)->attempt == 2 &&
	      live_find(&l, 3)->epochs == 4);
	live_free(&l);
}

/* A Slurm trial: started while its job waits in Slurm's queue
 * ("pending": true), running once the job starts (trial_running), and a
 * pending one cancelled ends without having run. The view says pending. */
static void
a_pending_trial_is_shown_pending_until_its_job_runs(void)
{
	struct live l;
	char *out;
	int n;

	start(&l);
	feed(&l, "{\"event\":\"trial_started\",\"number\":3,\"attempt\":1,"
		 "\"params\":{\"epochs\":5},\"pending\":true}");
	feed(&l, "{\"event\":\"trial_started\",\"number\":4,\"attempt\":1,"
		 "\"params\":{\"epochs\":5},\"pending\":true}");
	CHECK(l.counts[LIVE_PENDING] == 2 && l.counts[LIVE_RUNNING] == 1);
	CHECK(l.counts[LIVE_QUEUED] == 5);
	out = render(&l, T0 + 60, 80, 12, &n);
	CHECK_CONTAINS(out, "pending 2");
	CHECK_CONTAINS(out, "  #3    pending in Slurm's queue");
	free(out);
	feed(&l, "{\"event\":\"trial_running\",\"number\":3,\"attempt\":1,"
		 "\"queue_s\":4.5}");
	CHECK(l.counts[LIVE_PENDING] == 1 && l.counts[LIVE_RUNNING] == 2);
	/* twice changes nothing */
	feed(&l, "{\"event\":\"trial_running\",\"number\":3,\"attempt\":1,"
		 "\"queue_s\":4.5}");
	CHECK(l.counts[LIVE_PENDING] == 1 && l.counts[LIVE_RUNNING] == 2);
	out = render(&l, T0 + 60, 80, 12, &n);
	CHECK_CONTAINS(out, "  #3    epoch   0/5");
	free(out);
	feed(&l, "{\"event\":\"trial_ended\",\"number\":4,\"status\":\"cancelled\","
		 "\"objective\":null}");
	CHECK(l.counts[LIVE_PENDING] == 0 && l.counts[LIVE_RUNNING] == 2);
	CHECK(l.counts[LIVE_CANCELLED] == 1);
	feed(&l, "{\"event\":\"sweep_ended\",\"status\":\"cancelled\"}");
	CHECK(l.counts[LIVE_PENDING] == 0 && l.counts[LIVE_RUNNING] == 0);
	live_free(&l);
}

static void
a_trial_seen_first_mid_way_is_seeded(void)
{
	struct live l;
	struct live_trial *t;
	cJSON *trial;

	start(&l);
	/* the trial counted running in the summary reports epoch 4 */
	feed(&l, "{\"event\":\"epoch\",\"number\":1,\"epoch\":4,\"objective\":0.84}");
	t = live_find(&l, 1);
	CHECK(t && t->need_fetch && t->epochs == 0 && t->n == 1);
	CHECK(l.counts[LIVE_RUNNING] == 1);   /* not counted twice */
	/* the fetched trial has epochs 1..4 (and 5, which the events will
	 * bring too); the events' 4 is kept, 1..3 come first */
	trial = J("{\"number\":1,\"attempt\":1,\"status\":\"running\","
		  "\"params\":{\"epochs\":12},\"diagnosis\":{\"verdict\":\"plateau\"},"
		  "\"curve\":[{\"epoch\":1,\"val_acc\":0.5},{\"epoch\":2,\"val_acc\":0.6},"
		  "{\"epoch\":3,\"val_acc\":0.7},{\"epoch\":4,\"val_acc\":0.84},"
		  "{\"epoch\":5,\"val_acc\":0.85}]}");
	CHECK(live_seed_trial(&l, trial) == 0);
	cJSON_Delete(trial);
	t = live_find(&l, 1);
	CHECK(t && !t->need_fetch && t->epochs == 12 && t->n == 4 && t->epoch == 4);
	CHECK(t && t->curve[0] == 0.5 && t->curve[2] == 0.7 && t->curve[3] == 0.84);
	CHECK_STR(t ? t->verdict : NULL, "plateau");
	feed(&l, "{\"event\":\"epoch\",\"number\":1,\"epoch\":5,\"objective\":0.85}");
	CHECK(t && t->n == 5 && t->value == 0.85);
	live_free(&l);
}

static void
verdicts_seeded_once_even_when_trials_end_meanwhile(void)
{
	struct live l;
	cJSON *trials;

	start(&l);   /* 2 completed at the watch reply */
	/* fetched after the watch: trials 1, 2 and 3 ended (3 since the
	 * reply; its trial_ended event is still to come), 4 running with a
	 * provisional verdict that must not count */
	trials = J("[{\"number\":1,\"status\":\"completed\",\"diagnosis\":{\"verdict\":\"good_fit\"}},"
		   "{\"number\":2,\"status\":\"completed\",\"diagnosis\":{\"verdict\":\"overfitting\"}},"
		   "{\"number\":3,\"status\":\"failed\",\"diagnosis\":{\"verdict\":\"diverged\"}},"
		   "{\"number\":4,\"status\":\"running\",\"diagnosis\":{\"verdict\":\"insufficient_data\"}}]");
	live_seed_verdicts(&l, trials);
	cJSON_Delete(trials);
	CHECK(l.n_verdicts == 3 && l.skip_verdicts == 1);
	feed(&l, "{\"event\":\"trial_ended\",\"number\":3,\"status\":\"failed\","
		 "\"diagnosis\":{\"verdict\":\"diverged\"}}");
	feed(&l, "{\"event\":\"trial_ended\",\"number\":4,\"status\":\"completed\","
		 "\"objective\":0.5,\"diagnosis\":{\"verdict\":\"diverged\"}}");
	for (int i = 0; i < l.n_verdicts; i++)
		if (strcmp(l.verdicts[i].name, "diverged") == 0)
			CHECK(l.verdicts[i].n == 2);
		else
			CHECK(l.verdicts[i].n == 1);
	CHECK(l.counts[LIVE_FAILED] == 1 && l.counts[LIVE_COMPLETED] == 3);
	live_free(&l);
}

static void
sweep_ended_clears_the_running(void)
{
	struct live l;

	start(&l);
	feed(&l, "{\"event\":\"trial_started\",\"number\":3,\"attempt\":1,\"params\":{}}");
	feed(&l, "{\"event\":\"sweep_ended\",\"sweep\":2,\"status\":\"cancelled\"}");
	CHECK(l.ended && l.n_run == 0 && l.counts[LIVE_RUNNING] == 0);
	CHECK_STR(l.status, "cancelled");
	/* unknown events and non-objects are ignored */
	CHECK(feed(&l, "{\"event\":\"frobnicated\"}") == 0);
	CHECK(live_update(&l, NULL) == 0);
	live_free(&l);
}

static void
sparkline_scales_between_min_and_max(void)
{
	char buf[3 * 8 + 1];
	double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, flat[] = { 2, 2 },
	       gap[] = { 0, NAN, 1 };

	CHECK_STR(live_sparkline(buf, v, 8, 8), "▁▂▃▄▅▆▇█");
	CHECK_STR(live_sparkline(buf, v, 8, 3), "▁▅█");   /* the last 3: 5 6 7 */
	CHECK_STR(live_sparkline(buf, flat, 2, 8), "▄▄");
	CHECK_STR(live_sparkline(buf, gap, 3, 8), "▁ █");
	CHECK_STR(live_sparkline(buf, v, 0, 8), "");
}

static void
render_shows_progress_trials_best_and_verdicts(void)
{
	struct live l;
	char *out;
	int n;

	start(&l);
	feed(&l, "{\"event\":\"trial_started\",\"number\":4,\"attempt\":1,"
		 "\"params\":{\"epochs\":10}}");
	for (int e = 1; e <= 3; e++) {
		char ev[160];

		snprintf(ev, sizeof ev, "{\"event\":\"epoch\",\"number\":4,\"epoch\":%d,"
			 "\"objective\":%g,\"diagnosis\":{\"verdict\":\"underfitting\"}}",
			 e, 0.5 + 0.1 * e);
		feed(&l, ev);
	}
	feed(&l, "{\"event\":\"trial_ended\",\"number\":3,\"status\":\"pruned\","
		 "\"objective\":0.2,\"diagnosis\":{\"verdict\":\"diverged\"}}");
	/* 3 of 10 done after 60 s: 140 s left at that rate; trial 3 was the
	 * one running at the reply, so no "more running" line */
	out = render(&l, T0 + 60, 100, 20, &n);
	CHECK(n == 6 && count_lines(out) == 6);
	CHECK_CONTAINS(out, "sweep 2 demo  running  objective val_acc (max)\n");
	CHECK_CONTAINS(out, "█████████░░░░░░░░░░░░░░░░░░░░░ 3/10 trials  30%  "
		       "elapsed 1m00s  ~2m20s left\n");
	CHECK_CONTAINS(out, "queued 6  running 1  completed 2  pruned 1\n");
	CHECK_CONTAINS(out, "  #4    epoch   3/10   val_acc 0.8       ▁▄█");
	CHECK_CONTAINS(out, "  underfitting\n");
	CHECK_CONTAINS(out, "best      #2  val_acc=0.75\n");
	CHECK_CONTAINS(out, "verdicts  diverged 1\n");
	CHECK(strchr(out, '\033') == NULL);
	free(out);
	live_free(&l);
}

static void
render_fits_the_terminal(void)
{
	struct live l;
	char *out, *p;
	int n;

	start(&l);
	strcpy(l.name, "a\033[2Jname that is far too long to fit on one line of "
		       "a narrow terminal window");
	for (int i = 10; i < 20; i++) {
		char ev[128];

		snprintf(ev, sizeof ev, "{\"event\":\"trial_started\",\"number\":%d,"
			 "\"attempt\":1,\"params\":{}}", i);
		feed(&l, ev);
	}
	out = render(&l, T0 + 1, 40, 9, &n);
	CHECK(n == 9 && count_lines(out) == 9);
	CHECK(strchr(out, '\033') == NULL);   /* control characters replaced */
	for (p = out; *p; ) {
		char *e = strchr(p, '\n');
		size_t cols = 0;

		for (char *q = p; q < e; q++)
			cols += ((unsigned char)*q & 0xc0) != 0x80;
		CHECK_MSG(cols <= 40, "%zu columns: %.*s", cols, (int)(e - p), p);
		p = e + 1;
	}
	/* 3 lines above, 2 below: 4 rows for 10 trials, the last says how
	 * many more */
	CHECK_CONTAINS(out, "  #12 ");
	CHECK(strstr(out, "  #13 ") == NULL);
	CHECK_CONTAINS(out, "  ... 8 more running\n");   /* 7 + the one no epoch showed yet */
	free(out);
	live_free(&l);
}

/* A verdicts line wider than the terminal drops whole verdicts and says
 * how many, never a name without its count (60 columns showed
 * "good_fit" with its 15 cut off). */
static void
render_cuts_verdicts_whole(void)
{
	static const char *names[] = { "overfitting", "underfitting", "pruned",
				       "good_fit", "diverged", "not_learning" };
	struct live l;
	char *out, *v;
	int n;

	start(&l);
	for (int i = 0; i < 6; i++) {
		snprintf(l.verdicts[i].name, sizeof l.verdicts[i].name, "%s", names[i]);
		l.verdicts[i].n = 10 + i;
	}
	l.n_verdicts = 6;
	out = render(&l, T0 + 1, 60, 20, &n);
	v = strstr(out, "verdicts  ");
	CHECK(v != NULL);
	if (v) {
		char *e = strchr(v, '\n');
		*e = '\0';
		CHECK_MSG(strlen(v) <= 60, "%zu columns: %s", strlen(v), v);
		CHECK_STR(v, "verdicts  overfitting 10  underfitting 11  +4 more");
	}
	free(out);
	/* wide enough: all of them, no "more" */
	out = render(&l, T0 + 1, 160, 20, &n);
	CHECK_CONTAINS(out, "verdicts  overfitting 10  underfitting 11  pruned 12  "
		       "good_fit 13  diverged 14  not_learning 15\n");
	free(out);
	live_free(&l);
}

static void
render_at_the_end(void)
{
	struct live l;
	cJSON *s = J("{\"name\":\"done\",\"status\":\"completed\",\"created_at\":1700000000,"
		     "\"ended_at\":1700000125,\"trials_total\":3,"
		     "\"counts\":{\"completed\":2,\"failed\":1},"
		     "\"objective\":{\"metric\":\"val_loss\",\"mode\":\"min\"},\"best\":null}");
	char *out;
	int n;

	live_init(&l, 5, s);
	cJSON_Delete(s);
	CHECK(l.ended && !l.mode_max);
	out = render(&l, T0 + 9999, 80, 20, &n);
	CHECK_CONTAINS(out, "3/3 trials  100%  elapsed 2m05s\n");   /* no "left" */
	CHECK_CONTAINS(out, "failed 1");
	CHECK_CONTAINS(out, "objective val_loss (min)");
	CHECK_CONTAINS(out, "best      none yet\n");
	CHECK_CONTAINS(out, "verdicts  none yet\n");
	free(out);
	live_free(&l);
}

/* Every line of out at most w columns; returns how many lines. */
static int
check_width(const char *out, int w)
{
	int n = 0;

	for (const char *p = out; *p; n++) {
		const char *e = strchr(p, '\n');
		int c = 0;

		for (const char *q = p; q < e; q++)
			c += ((unsigned char)*q & 0xc0) != 0x80;
		CHECK_MSG(c <= w, "%d columns: %.*s", c, (int)(e - p), p);
		p = e + 1;
	}
	return n;
}

/* A running trial with a curve and a long verdict, 3 of 10 done. */
static void
busy(struct live *l)
{
	start(l);
	strcpy(l->name, "a-sweep-name-long-enough-to-push-everything-else-off");
	feed(l, "{\"event\":\"trial_started\",\"number\":4,\"attempt\":1,"
		"\"params\":{\"epochs\":10}}");
	for (int e = 1; e <= 5; e++) {
		char ev[200];

		snprintf(ev, sizeof ev, "{\"event\":\"epoch\",\"number\":4,\"epoch\":%d,"
			 "\"objective\":%g,\"diagnosis\":{\"verdict\":"
			 "\"exploding_gradients\"}}", e, 0.5 + 0.01 * e);
		feed(l, ev);
	}
	feed(l, "{\"event\":\"trial_ended\",\"number\":3,\"status\":\"completed\","
		"\"objective\":0.2}");
}

static void
render_lays_out_for_60_columns(void)
{
	struct live l;
	char *out;
	int n;

	busy(&l);
	out = render(&l, T0 + 60, 60, 20, &n);
	check_width(out, 60);
	/* the name is cut, the status is not */
	CHECK_CONTAINS(out, "sweep 2 a-sweep-name");
	CHECK_CONTAINS(out, "…  running");
	/* the bar shrinks so the time left fits */
	CHECK_CONTAINS(out, " 3/10 trials  30%  elapsed 1m00s  ~2m20s left\n");
	/* the verdict column stays */
	CHECK_CONTAINS(out, "  #4 ");
	CHECK_CONTAINS(out, "exploding_gradients\n");
	free(out);
	/* at 120 columns everything fits uncut */
	out = render(&l, T0 + 60, 120, 20, &n);
	check_width(out, 120);
	CHECK_CONTAINS(out, "sweep 2 a-sweep-name-long-enough-to-push-everything-else-off"
		       "  running  objective val_acc (max)\n");
	CHECK_CONTAINS(out, "█████████░░░░░░░░░░░░░░░░░░░░░ 3/10");
	CHECK_CONTAINS(out, "val_acc 0.55 ");
	CHECK_CONTAINS(out, "  exploding_gradients\n");
	free(out);
	live_free(&l);
}

/* At 40 columns (a split tmux pane) nothing is cut inside a word or a
 * figure: the time left and the zero counts go whole, the remaining
 * counts are counted, and the trial line drops the word "epoch" before
 * its verdict would be cut. */
static void
render_lays_out_for_40_columns(void)
{
	struct live l;
	char *out;
	int n;

	busy(&l);   /* 3 of 10 done, one running */
	/* a second one, no epoch yet: its line would fit in the long form,
	 * but takes the short one with the other */
	feed(&l, "{\"event\":\"trial_started\",\"number\":5,\"attempt\":1,"
		 "\"params\":{\"epochs\":10}}");
	l.counts[LIVE_QUEUED] = 3;
	l.counts[LIVE_FAILED] = 1;
	l.counts[LIVE_PRUNED] = 2;
	out = render(&l, T0 + 60, 40, 20, &n);
	check_width(out, 40);
	/* "6/10 trials  60%  elapsed 1m00s  ~40s left" is 41 wide */
	CHECK_CONTAINS(out, " 6/10 trials  60%  elapsed 1m00s\n");
	CHECK(strstr(out, "left") == NULL);
	/* "queued 3  running 1  completed 3  failed 1  pruned 2": 52 */
	CHECK_CONTAINS(out, "\nqueued 3  running 2  +3 more\n");
	CHECK_CONTAINS(out, "  #4    5/10  0.55  exploding_gradients\n");
	CHECK_CONTAINS(out, "\n  #5    0/10  -\n");
	free(out);
	/* zero counts go before any other */
	l.counts[LIVE_QUEUED] = 0;
	l.counts[LIVE_FAILED] = 0;
	out = render(&l, T0 + 60, 40, 20, &n);
	check_width(out, 40);
	CHECK_CONTAINS(out, "\nrunning 2  completed 3  pruned 2\n");
	free(out);
	/* at 60 columns all of them, the zero ones too */
	out = render(&l, T0 + 60, 60, 20, &n);
	CHECK_CONTAINS(out, "\nqueued 0  running 2  completed 3  pruned 2\n");
	free(out);
	live_free(&l);
}

/* Verdicts are listed by name whatever order they come in, as `status`
 * lists them, so the line does not move about as trials end. */
static void
verdicts_in_name_order(void)
{
	struct live l;
	cJSON *trials = J("[{\"status\":\"completed\",\"diagnosis\":{\"verdict\":\"overfitting\"}},"
			  "{\"status\":\"pruned\",\"diagnosis\":{\"verdict\":\"pruned\"}},"
			  "{\"status\":\"completed\",\"diagnosis\":{\"verdict\":\"good_fit\"}},"
			  "{\"status\":\"completed\",\"diagnosis\":{\"verdict\":\"overfitting\"}},"
			  "{\"status\":\"failed\",\"diagnosis\":{\"verdict\":\"diverged\"}}]");
	char *out;
	int n;

	start(&l);
	CHECK(live_seed_verdicts(&l, trials) == 0);
	cJSON_Delete(trials);
	out = render(&l, T0 + 1, 120, 20, &n);
	CHECK_CONTAINS(out, "verdicts  diverged 1  good_fit 1  overfitting 2  pruned 1\n");
	free(out);
	live_free(&l);
}

static void
render_on_6_lines(void)
{
	struct live l;
	char *out;
	int n;

	busy(&l);
	for (int i = 10; i < 20; i++) {
		char ev[128];

		snprintf(ev, sizeof ev, "{\"event\":\"trial_started\",\"number\":%d,"
			 "\"attempt\":1,\"params\":{}}", i);
		feed(&l, ev);
	}
	out = render(&l, T0 + 60, 80, 6, &n);
	CHECK(n == 6 && check_width(out, 80) == 6);
	CHECK(strncmp(out, "sweep 2 ", 8) == 0);
	CHECK(strstr(out + 1, "\nsweep 2 ") == NULL);
	CHECK_CONTAINS(out, "  ... 11 more running\n");
	CHECK_CONTAINS(out, "best      #2");
	CHECK_CONTAINS(out, "verdicts  ");
	free(out);
	/* on 4 lines the last ones go, the header stays */
	out = render(&l, T0 + 60, 80, 4, &n);
	CHECK(n == 4 && strncmp(out, "sweep 2 ", 8) == 0);
	free(out);
	live_free(&l);
}

static void
pause_and_resume_show_in_the_header(void)
{
	struct live l;
	char *out;
	int n;

	start(&l);
	feed(&l, "{\"event\":\"sweep_paused\",\"sweep\":2,\"status\":\"paused\"}");
	CHECK_STR(l.status, "paused");
	out = render(&l, T0 + 1, 80, 20, &n);
	CHECK_CONTAINS(out, "sweep 2 demo  paused  objective");
	free(out);
	feed(&l, "{\"event\":\"sweep_resumed\",\"sweep\":2,\"status\":\"running\"}");
	CHECK_STR(l.status, "running");
	feed(&l, "{\"event\":\"sweep_ended\",\"sweep\":2,\"status\":\"cancelled\"}");
	feed(&l, "{\"event\":\"sweep_resumed\",\"sweep\":2}");
	CHECK_STR(l.status, "cancelled");   /* the end is the end */
	live_free(&l);
}

static void
failures_from_the_summary_and_the_events(void)
{
	struct live l;
	cJSON *s = J("{\"name\":\"f\",\"status\":\"running\",\"trials_total\":40,"
		     "\"counts\":{\"failed\":16},\"failures\":[{\"class\":\"exit\","
		     "\"message\":\"trainer exited with status 3\",\"count\":16}]}");
	char *out;
	int n;

	live_init(&l, 9, s);
	cJSON_Delete(s);
	feed(&l, "{\"event\":\"trial_ended\",\"number\":17,\"status\":\"failed\","
		 "\"error\":{\"class\":\"exit\",\"message\":\"trainer exited with "
		 "status 3\"}}");
	out = render(&l, T0, 100, 20, &n);
	CHECK_CONTAINS(out, "failures  17x exit: trainer exited with status 3\n");
	free(out);
	feed(&l, "{\"event\":\"trial_ended\",\"number\":18,\"status\":\"failed\","
		 "\"error\":{\"class\":\"signal\",\"message\":\"killed by SIGSEGV\"}}");
	out = render(&l, T0, 100, 20, &n);
	CHECK_CONTAINS(out, "failures  17x exit: trainer exited with status 3  "
		       "(and other kinds)\n");
	free(out);
	live_free(&l);
	/* no failure, no line; a summary without "failures" is fine */
	start(&l);
	out = render(&l, T0, 100, 20, &n);
	CHECK(strstr(out, "failures") == NULL);
	free(out);
	live_free(&l);
}

int
main(void)
{
	RUN(init_reads_the_summary);
	RUN(a_trial_runs_and_ends);
	RUN(best_follows_the_mode_and_only_completed_trials);
	RUN(a_new_attempt_restarts_the_curve);
	RUN(a_trial_seen_first_mid_way_is_seeded);
	RUN(verdicts_seeded_once_even_when_trials_end_meanwhile);
	RUN(sweep_ended_clears_the_running);
	RUN(sparkline_scales_between_min_and_max);
	RUN(render_shows_progress_trials_best_and_verdicts);
	RUN(render_fits_the_terminal);
	RUN(render_at_the_end);
	RUN(render_cuts_verdicts_whole);
	RUN(render_lays_out_for_60_columns);
	RUN(render_lays_out_for_40_columns);
	RUN(verdicts_in_name_order);
	RUN(render_on_6_lines);
	RUN(pause_and_resume_show_in_the_header);
	RUN(failures_from_the_summary_and_the_events);
	RUN(a_pending_trial_is_shown_pending_until_its_job_runs);
	return harness_done();
}
