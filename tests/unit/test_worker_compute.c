/*
 * test_worker_compute.c - searching a task (worker/compute.c): a task
 * stopped part way and resumed from its checkpoint finishes with exactly the
 * result of an uninterrupted search and does not redo the steps before the
 * checkpoint; a damaged unit is never searched; a checkpoint of another
 * replica is not trusted; a stop request returns at once with a checkpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "worker.h"

#define N 65536u

typedef struct fixture {
    char dir[64];
    char a[128], b[128]; /* two task directories holding the same unit */
} fixture;

static void write_unit(const char *taskdir)
{
    oz_wu_header h;
    memset(&h, 0, sizeof h);
    snprintf(h.dataset, sizeof h.dataset, "test");
    snprintf(h.unit_id, sizeof h.unit_id, "test-000000");
    h.sample_rate = OZ_TEST_FS;
    h.center_hz = OZ_TEST_F0;
    h.format = OZ_WU_CF32;
    h.nsamples = N;
    oz_test_config_small(&h.config);
    h.config.chirp_max = 10; /* some dozens of steps */
    float *iq = oz_test_noise(N, 42, 1.0);
    oz_tone t = {.freq_hz = 1200, .chirp_hz_s = 0.5, .amp = 0.15};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &t);
    char path[160], why[512] = "";
    snprintf(path, sizeof path, "%s/unit.ozwu", taskdir);
    int rc = oz_wu_unit_write(path, &h, iq, NULL, why, sizeof why);
    if (rc)
        fail_msg("unit write: %s", why);
    free(iq);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/oz_compute_XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->a, sizeof f->a, "%s/1", f->dir);
    snprintf(f->b, sizeof f->b, "%s/2", f->dir);
    mkdir(f->a, 0700);
    mkdir(f->b, 0700);
    write_unit(f->a);
    write_unit(f->b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    oz_wk_remove_tree(f->dir);
    free(f);
    return 0;
}

static atomic_int no_stop, no_suspend;

static int run(const char *taskdir, int64_t replica, unsigned stop_after, oz_wk_compute *c)
{
    assert_int_equal(oz_wk_compute_init(c, taskdir, replica, &no_stop, &no_suspend), 0);
    atomic_store(&c->checkpoint_ms, 3600000); /* only the final checkpoint */
    c->stop_after_steps = stop_after;
    return oz_wk_compute_run(c);
}

static void read_result(const char *taskdir, oz_wu_result *r)
{
    char p[160], why[512] = "";
    snprintf(p, sizeof p, "%s/result.json", taskdir);
    int rc = oz_wu_result_read(p, r, why, sizeof why);
    if (rc)
        fail_msg("%s", why);
}

static bool exists(const char *taskdir, const char *name)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%s", taskdir, name);
    return access(p, F_OK) == 0;
}

/* Signals and best-of-type, bit for bit (cpu_s aside). */
static void assert_same_result(const oz_sci_result *x, const oz_sci_result *y)
{
    assert_int_equal(x->nsignals, y->nsignals);
    assert_true(x->nsignals > 0);
    assert_memory_equal(x->signals, y->signals, x->nsignals * sizeof *x->signals);
    assert_memory_equal(x->has_best, y->has_best, sizeof x->has_best);
    for (int t = 0; t < OZ_SIG_NTYPES; t++)
        if (x->has_best[t])
            assert_memory_equal(&x->best[t], &y->best[t], sizeof x->best[t]);
    assert_int_equal(x->flops, y->flops);
    assert_int_equal(x->overflow, y->overflow);
}

static void a_resumed_task_equals_an_uninterrupted_one(void **state)
{
    fixture *f = *state;
    oz_wk_compute c;
    /* uninterrupted, in task a */
    assert_int_equal(run(f->a, 1, 0, &c), OZ_WK_OK);
    size_t steps = c.steps;
    assert_true(steps > 10);
    assert_int_equal(c.resumed_at, 0);
    oz_wk_compute_destroy(&c);
    assert_true(exists(f->a, "result.json"));
    assert_false(exists(f->a, "checkpoint.json"));

    /* task b: stopped twice, resumed each time */
    assert_int_equal(run(f->b, 2, 4, &c), OZ_WK_ESTOPPED);
    assert_int_equal(c.done, 4);
    oz_wk_compute_destroy(&c);
    assert_true(exists(f->b, "checkpoint.json"));
    assert_false(exists(f->b, "result.json"));
    size_t done, total;
    double el;
    assert_int_equal(oz_wk_checkpoint_progress(f->b, &done, &total, &el), 0);
    assert_int_equal(done, 4);
    assert_int_equal(total, steps);

    assert_int_equal(run(f->b, 2, 5, &c), OZ_WK_ESTOPPED);
    assert_int_equal(c.resumed_at, 4); /* not redone */
    assert_int_equal(c.done, 9);
    oz_wk_compute_destroy(&c);

    assert_int_equal(run(f->b, 2, 0, &c), OZ_WK_OK);
    assert_int_equal(c.resumed_at, 9);
    assert_int_equal(c.done, steps);
    oz_wk_compute_destroy(&c);

    oz_wu_result ra, rb;
    read_result(f->a, &ra);
    read_result(f->b, &rb);
    assert_string_equal(ra.unit_id, "test-000000");
    assert_memory_equal(ra.unit_sha256, rb.unit_sha256, 32);
    assert_same_result(&ra.result, &rb.result);
    /* and it is the kernel's own result for these samples */
    oz_wu_unit *u;
    char p[160], why[256];
    snprintf(p, sizeof p, "%s/unit.ozwu", f->a);
    assert_int_equal(oz_wu_unit_load(p, &u, why, sizeof why), 0);
    oz_sci_result direct;
    const oz_wu_header *h = oz_wu_unit_header(u);
    oz_test_search(&h->config, oz_wu_unit_samples(u), N, h->sample_rate, h->center_hz, &direct);
    assert_same_result(&ra.result, &direct);
    assert_non_null(oz_test_find(&direct, OZ_SIG_SPIKE, OZ_TEST_F0 + 1200, 5));
    oz_sci_result_clear(&direct);
    oz_wu_unit_free(u);
    oz_wu_result_clear(&ra);
    oz_wu_result_clear(&rb);
}

static void a_damaged_unit_is_never_searched(void **state)
{
    fixture *f = *state;
    char p[160];
    snprintf(p, sizeof p, "%s/unit.ozwu", f->a);
    FILE *fp = fopen(p, "r+b");
    assert_non_null(fp);
    fseek(fp, -100, SEEK_END); /* a payload byte */
    int ch = fgetc(fp);
    fseek(fp, -100, SEEK_END);
    fputc(ch ^ 0x40, fp);
    fclose(fp);
    oz_wk_compute c;
    assert_int_equal(run(f->a, 1, 0, &c), OZ_WK_ESCIENCE);
    assert_int_equal(c.rc, OZ_WK_ESCIENCE);
    assert_int_equal(c.done, 0);
    assert_non_null(strstr(c.why, "unit.ozwu"));
    assert_true(atomic_load(&c.finished));
    oz_wk_compute_destroy(&c);
    assert_false(exists(f->a, "result.json"));
    assert_false(exists(f->a, "checkpoint.json"));
}

static void another_replicas_checkpoint_is_not_trusted(void **state)
{
    fixture *f = *state;
    oz_wk_compute c;
    assert_int_equal(run(f->a, 1, 6, &c), OZ_WK_ESTOPPED);
    oz_wk_compute_destroy(&c);
    /* b's task gets a's checkpoint: same unit, other replica */
    char from[160], to[160], cmd[400];
    snprintf(from, sizeof from, "%s/checkpoint.json", f->a);
    snprintf(to, sizeof to, "%s/checkpoint.json", f->b);
    snprintf(cmd, sizeof cmd, "cp %s %s", from, to);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run(f->b, 2, 1, &c), OZ_WK_ESTOPPED);
    assert_int_equal(c.resumed_at, 0);
    oz_wk_compute_destroy(&c);
    /* garbage is not trusted either */
    FILE *fp = fopen(to, "w");
    fputs("{\"version\": 1, \"search\": 7}", fp);
    fclose(fp);
    assert_int_equal(run(f->b, 2, 1, &c), OZ_WK_ESTOPPED);
    assert_int_equal(c.resumed_at, 0);
    oz_wk_compute_destroy(&c);
}

static void a_stop_request_returns_with_a_checkpoint(void **state)
{
    fixture *f = *state;
    atomic_int stop;
    atomic_init(&stop, 1);
    oz_wk_compute c;
    assert_int_equal(oz_wk_compute_init(&c, f->a, 1, &stop, &no_suspend), 0);
    assert_int_equal(oz_wk_compute_run(&c), OZ_WK_ESTOPPED);
    oz_wk_compute_destroy(&c);
    assert_true(exists(f->a, "checkpoint.json"));
    assert_false(exists(f->a, "result.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_resumed_task_equals_an_uninterrupted_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_damaged_unit_is_never_searched, setup, teardown),
        cmocka_unit_test_setup_teardown(another_replicas_checkpoint_is_not_trusted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_stop_request_returns_with_a_checkpoint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
