/*
 * test_sched_spot.c - spot checks (scheduler/spot.c) against the real
 * kernel: an honest result passes whatever steps are drawn (no honest host
 * is ever blamed); a result with its signals moved by 137 Hz (issue 18's
 * cheat), one with a signal edited at the re-run step, and an empty one
 * for a unit with a strong signal fail, as does one claiming an overflow
 * its list does not show; a pass costs a few per cent of the
 * whole search at most with this small plan, and about 2/N of it for a
 * plan of N steps (the benchmark, tests/bench/bench_adaptive.py, measures
 * the fraction on realistic units).
 */
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "spot.h"

#define N (1u << 15)

typedef struct fixture {
    oz_sci_config cfg;
    float *iq;
    oz_sci_result honest;
    double search_cpu_s;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    oz_test_config_small(&f->cfg);
    f->cfg.chirp_max = 60.0; /* a plan of ~130 steps */
    f->cfg.line_pfa = 0;     /* lines off: their many tracks would fill the list */
    f->iq = oz_test_noise(N, 5, 1.0);
    oz_tone a = {.freq_hz = 812.0, .chirp_hz_s = 0.0, .amp = 0.5};
    oz_tone b = {.freq_hz = -1500.0, .chirp_hz_s = 20.0, .amp = 0.5};
    oz_tone c = {.freq_hz = 2500.0,
                 .chirp_hz_s = -7.0,
                 .amp = 2.0,
                 .env = OZ_ENV_PULSES,
                 .t0 = 0.1,
                 .period_s = 0.7,
                 .width_s = 0.05};
    oz_sci_add_tone(f->iq, N, OZ_TEST_FS, &a);
    oz_sci_add_tone(f->iq, N, OZ_TEST_FS, &b);
    oz_sci_add_tone(f->iq, N, OZ_TEST_FS, &c);
    oz_test_search(&f->cfg, f->iq, N, OZ_TEST_FS, OZ_TEST_F0, &f->honest);
    f->search_cpu_s = f->honest.cpu_s;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    oz_sci_result_clear(&f->honest);
    free(f->iq);
    free(f);
    return 0;
}

static oz_spot spot(const fixture *f, const oz_sci_result *r, double u0)
{
    oz_spot out;
    char why[256];
    assert_int_equal(
        oz_spot_check(&f->cfg, f->iq, N, OZ_TEST_FS, OZ_TEST_F0, r, u0, &out, why, sizeof why), 0);
    return out;
}

static void honest_result_passes_every_draw(void **state)
{
    fixture *f = *state;
    assert_true(f->honest.nsignals >= 3);
    double cpu = 0;
    for (int i = 0; i < 24; i++) {
        oz_spot s = spot(f, &f->honest, (i + 0.5) / 24.0);
        if (!s.pass)
            print_message("honest result failed: %s\n", s.why);
        assert_true(s.pass);
        assert_true(s.nsteps >= 1 && s.nsteps <= OZ_SPOT_STEPS);
        assert_true(s.plan_steps > 100);
        cpu += s.cpu_s;
    }
    /* two steps of ~130 and the plans (which the kernel's cpu_s leaves out):
     * a few per cent; the benchmark measures it on larger plans */
    print_message("spot check: %.2f %% of the search's CPU\n", 100 * cpu / 24 / f->search_cpu_s);
    assert_true(cpu / 24 < 0.2 * f->search_cpu_s);
}

static void moved_signals_fail(void **state)
{
    fixture *f = *state;
    oz_sci_result r;
    memset(&r, 0, sizeof r);
    r = f->honest;
    r.signals = malloc(f->honest.nsignals * sizeof *r.signals);
    assert_non_null(r.signals);
    memcpy(r.signals, f->honest.signals, f->honest.nsignals * sizeof *r.signals);
    for (size_t i = 0; i < r.nsignals; i++)
        r.signals[i].freq_hz += 137.0;
    for (int i = 0; i < 8; i++) {
        oz_spot s = spot(f, &r, (i + 0.5) / 8.0);
        assert_false(s.pass);
        assert_true(strlen(s.why) > 0);
    }
    /* one signal moved: the step of that claim catches it */
    memcpy(r.signals, f->honest.signals, f->honest.nsignals * sizeof *r.signals);
    size_t nclaims = 0;
    for (size_t i = 0; i < r.nsignals; i++)
        nclaims += r.signals[i].type == OZ_SIG_SPIKE || r.signals[i].type == OZ_SIG_GAUSSIAN ||
                   r.signals[i].type == OZ_SIG_PULSE || r.signals[i].type == OZ_SIG_TRIPLET;
    assert_true(nclaims > 0);
    r.signals[0].freq_hz += 137.0;
    assert_true(r.signals[0].type != OZ_SIG_LINE);
    oz_spot s = spot(f, &r, 0.0);
    assert_false(s.pass);
    free(r.signals);
}

static void empty_result_fails(void **state)
{
    fixture *f = *state;
    oz_sci_result r = f->honest;
    r.signals = NULL;
    r.nsignals = 0;
    /* no claims: the strongest spike's step, where the tone is */
    assert_false(f->honest.overflow);
    oz_spot s = spot(f, &r, 0.5);
    assert_false(s.pass);
    r.overflow = true; /* "my list overflowed": with an empty list */
    s = spot(f, &r, 0.5);
    assert_false(s.pass);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(honest_result_passes_every_draw),
        cmocka_unit_test(moved_signals_fail),
        cmocka_unit_test(empty_result_fails),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
