/*
 * test_sci_seti_search.c - the seti mode's search (seti_search.c) as a user of
 * SETI@home v8 results sees it: v8's plan for its reference unit (the
 * smallest chirp step, the rates where v8 reported signals, the rates v8
 * skips, the number of steps); a drifting tone reported as spikes at its
 * chirp, frequency and time, both signs; the list cut at max_signals in v8's
 * order; pure noise quiet at v8's thresholds but with best-of signals; a
 * resumed search equal bit for bit to an uninterrupted one, and damaged
 * states refused; the FLOP count; and, in Ozma's own mode, what per-length
 * chirp limits do to the plan.
 *
 * Small units (2^16 samples, FFT 64..8192, a few Hz/s) keep every case well
 * under a second; only the reference plan is 2^20 samples, and only one of
 * its steps runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "seti.h"

#define N 65536u
#define FS OZ_TEST_FS
#define F0 OZ_TEST_F0

/* The chirp step at L of oz_test_config_seti_small: with no pulses every
 * length's analysis time is its own spectrum's, so the step is
 * chirp_resolution (fs/L)^2, as in Ozma's mode: 0.47 Hz/s at 8192, 1.9 at
 * 4096, 7.6 at 2048. */
static double step_at(const oz_sci_config *cfg, uint32_t L)
{
    return cfg->chirp_resolution * (FS / L) * (FS / L);
}

static oz_sci_search *new_search(const oz_sci_config *cfg, const float *iq, size_t n, double fs)
{
    char why[256] = "";
    oz_sci_search *s = NULL;
    int rc = oz_sci_search_new(cfg, iq, n, fs, F0, &s, why, sizeof why);
    if (rc)
        fail_msg("oz_sci_search_new: %s (%s)", oz_sci_strerror(rc), why);
    return s;
}

static void assert_same_result(const oz_sci_result *a, const oz_sci_result *b)
{
    assert_int_equal(a->nsignals, b->nsignals);
    assert_int_equal(a->overflow, b->overflow);
    for (size_t i = 0; i < a->nsignals; i++)
        assert_memory_equal(&a->signals[i], &b->signals[i], sizeof(oz_signal));
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        assert_int_equal(a->has_best[t], b->has_best[t]);
        if (a->has_best[t])
            assert_memory_equal(&a->best[t], &b->best[t], sizeof(oz_signal));
    }
    assert_true(a->flops == b->flops);
}

/* ---- v8's plan for its reference unit ---------------------------------------- */

/* SETI@home's reference unit as v8 reads it: 2^20 samples at 9765.62 Hz
 * (the header's rounding), FFT 8..131072, chirp resolution 0.333, limits
 * 50 Hz/s up to 32768 and 20 Hz/s at 65536 and 131072, the telescope
 * sweeping 0.775 degrees with v8's beam width scaled by receiver frequency
 * over subband centre, band flattening 8192 of 32768. */
#define REF_FS 9765.62
static void ref_config(oz_sci_config *cfg)
{
    oz_sci_config_default(cfg);
    cfg->mode = OZ_MODE_SETI;
    cfg->fft_min = 8;
    cfg->fft_max = 131072;
    cfg->chirp_max = 50.0;
    cfg->chirp_resolution = 0.333;
    cfg->chirp_limit[13] = 20.0; /* 65536 */
    cfg->chirp_limit[14] = 20.0; /* 131072 */
    cfg->spike_thresh = 22.0;
    cfg->bsmooth_boxcar = 8192;
    cfg->bsmooth_chunk = 32768;
    cfg->seti.angle_range = 0.775;
    cfg->seti.beam_width = 0.1 * 1420e6 / 1418920288.09;
}

/* The step arithmetic behind the numbers below, for the reference unit:
 * the smallest step is 131072's, 0.333 / T_fft^2 with T_fft = 13.42 s;
 * 65536 and 32768 (no Gaussians, pulses or triplets' long analysis time)
 * have 4 and 16 times it; 16384 and shorter fit Gaussians, so their
 * analysis time is two beam crossings and their steps are 3.872 times the
 * smallest at 16384, twice that at 8192, and so on.  131072 and 65536 stop
 * at 20 Hz/s (index 10819 and 10816); above that only multiples of 16 (up
 * to 27040) and the nearest integers to k * 3.872 (up to 27046) exist. */
static void v8_plan_for_the_reference_unit(void **state)
{
    (void)state;
    const size_t n = 1u << 20;
    oz_sci_config cfg;
    ref_config(&cfg);
    float *iq = oz_test_noise(n, 20, 1.0);
    oz_sci_search *s = new_search(&cfg, iq, n, REF_FS);
    oz_seti_run *r = oz_sci_search_seti(s);
    assert_non_null(r);

    /* v8 prints 0.00184851944; its formula, 0.333 / T_fft^2 at 131072,
     * gives the digits beyond */
    double min_step = oz_seti_run_min_step(r);
    double t_fft = (double)n / REF_FS / 8.0;
    if (fabs(min_step / 0.00184851944 - 1) > 3e-9 ||
        fabs(min_step / (0.333 / (t_fft * t_fft)) - 1) > 1e-12)
        fail_msg("smallest chirp step %.15g Hz/s, v8's is 0.00184851944", min_step);

    size_t steps = oz_sci_search_steps(s);
    if (steps != 31523)
        fail_msg("the reference plan has %zu steps, v8's 31523", steps);

    /* where v8 reported the reference unit's signals */
    static const int32_t v8_rates[] = {496, 573, 575, 16851, 16603, 21192, 26752, -7170, 9559};
    for (size_t i = 0; i < sizeof v8_rates / sizeof v8_rates[0]; i++)
        if (oz_seti_run_find(r, v8_rates[i]) >= steps)
            fail_msg("chirp index %d (%.6f Hz/s), where v8 reported a signal, is not searched",
                     v8_rates[i], v8_rates[i] * min_step);
    /* every index within 131072's limit, both signs */
    for (int32_t ind = -10819; ind <= 10819; ind += 1231)
        assert_true(oz_seti_run_find(r, ind) < steps);
    assert_true(oz_seti_run_find(r, 10819) < steps);
    assert_true(oz_seti_run_find(r, -10819) < steps);
    /* skipped: beyond 131072's and 65536's limits, not a multiple of 16,
     * and at least 0.66 of an index from every k * 3.872, so that no
     * rounding of the shorter lengths' rates lands on them (10822, 0.39
     * from 2795 * 3.872, is searched) */
    static const int32_t skipped[] = {10820, -10820, 12345, -15001, 20001, 27100, -27100};
    assert_true(oz_seti_run_find(r, 10822) < steps);
    for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
        if (oz_seti_run_find(r, skipped[i]) != steps)
            fail_msg("chirp index %d is searched; v8's grid skips it", skipped[i]);
    /* the ends: 32768's last rate and 16384's */
    assert_true(oz_seti_run_find(r, 27040) < steps);
    assert_true(oz_seti_run_find(r, 27056) == steps);

    /* order: rate 0, then +1 before -1 */
    assert_int_equal(oz_seti_run_find(r, 0), 0);
    assert_int_equal(oz_seti_run_find(r, 1), 1);
    assert_int_equal(oz_seti_run_find(r, -1), 2);

    /* One step of the plan: index -1 is 131072's alone (65536's are
     * multiples of 4), and what it finds is at that rate and length. */
    assert_int_equal(oz_seti_run_goto(r, 2), 0);
    assert_int_equal(oz_sci_search_step(s), 0);
    assert_int_equal(oz_sci_search_done(s), 3);
    oz_sci_result res;
    assert_int_equal(oz_sci_search_result(s, &res), 0);
    assert_true(res.has_best[OZ_SIG_SPIKE]);
    assert_int_equal(res.best[OZ_SIG_SPIKE].fft_len, 131072);
    assert_true(res.best[OZ_SIG_SPIKE].chirp_hz_s == -min_step);
    assert_true(res.has_best[OZ_SIG_AUTOCORR]);
    assert_int_equal(oz_seti_run_goto(r, steps + 1), OZ_SCI_EINVAL);
    oz_sci_result_clear(&res);
    oz_sci_search_free(s);
    free(iq);
}

/* ---- a drifting tone ------------------------------------------------------------ */

/* A tone of amplitude 0.2 in unit noise (a^2 L = 330 over the mean of a
 * whole 8192-point spectrum) on between t_on and t_off.  At 2048, 4096 and
 * 8192 points it is reported at the searched rate nearest its chirp, at its
 * absolute frequency at the spike's time (within a bin); every spike, at
 * whatever rate, lies on the tone's track and inside its time, over
 * threshold with v8's mean power 1, and the best spike is the strongest.
 * (The strongest need not be at the nearest rate: a rate a step or two
 * away can move the tone onto a bin's centre for a spectrum.) */
static void check_tone(double offset, double chirp, uint64_t seed)
{
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    const double t_on = 2.0, t_off = 5.0;
    float *iq = oz_test_noise(N, seed, 1.0);
    oz_tone tone = {
        .freq_hz = offset, .chirp_hz_s = chirp, .amp = 0.2, .t_start = t_on, .t_end = t_off};
    oz_sci_add_tone(iq, N, FS, &tone);
    oz_sci_result r;
    oz_test_search(&cfg, iq, N, FS, F0, &r);
    assert_false(r.overflow);

    const oz_signal *top = NULL;
    bool at_rate[3] = {false, false, false}; /* 2048, 4096, 8192 */
    for (size_t i = 0; i < r.nsignals; i++) {
        const oz_signal *s = &r.signals[i];
        if (s->type != OZ_SIG_SPIKE)
            continue;
        double t_fft = s->fft_len / FS, bin = FS / s->fft_len;
        double truth = F0 + offset + chirp * s->time_s;
        /* a bin, and the residual drift over the spectrum when found at
         * another rate than the tone's */
        double tol = bin + fabs(s->chirp_hz_s - chirp) * t_fft;
        double spectra = s->time_s / t_fft - 0.5;
        if (fabs(s->freq_hz - truth) > tol || s->time_s < t_on - t_fft ||
            s->time_s > t_off + t_fft || fabs(spectra - round(spectra)) > 1e-9 ||
            !(s->power > cfg.spike_thresh) || s->mean_power != 1.0) {
            oz_test_dump(&r);
            fail_msg("tone %+.1f Hz, %+.2f Hz/s: spike %zu at %.4f Hz (truth %.4f, tol %.4f), "
                     "%.4f Hz/s, L %u, t %.4f s, power %.2f over mean %.2f",
                     offset, chirp, i, s->freq_hz, truth, tol, s->chirp_hz_s, s->fft_len, s->time_s,
                     s->power, s->mean_power);
        }
        if (s->fft_len >= 2048 && fabs(s->chirp_hz_s - chirp) <= 0.5 * step_at(&cfg, s->fft_len) &&
            fabs(s->freq_hz - truth) <= bin && s->time_s > t_on && s->time_s < t_off)
            at_rate[s->fft_len == 2048 ? 0 : s->fft_len == 4096 ? 1 : 2] = true;
        if (!top || s->power > top->power)
            top = s;
    }
    if (!top || !at_rate[0] || !at_rate[1] || !at_rate[2]) {
        oz_test_dump(&r);
        fail_msg("tone %+.1f Hz, %+.2f Hz/s: not found at its chirp at 2048 (%d), 4096 (%d), "
                 "8192 points (%d)",
                 offset, chirp, at_rate[0], at_rate[1], at_rate[2]);
    }
    /* the best spike is the strongest reported one */
    assert_true(r.has_best[OZ_SIG_SPIKE]);
    assert_memory_equal(&r.best[OZ_SIG_SPIKE], top, sizeof *top);
    oz_sci_result_clear(&r);
    free(iq);
}

static void a_drifting_tone_is_reported_at_its_chirp_frequency_and_time(void **state)
{
    (void)state;
    check_tone(1234.5, 1.3, 1);
    check_tone(300.0, 0.0, 2);
}

static void negative_offsets_and_chirps_keep_their_sign(void **state)
{
    (void)state;
    check_tone(-1234.5, 1.3, 3);
    check_tone(2000.0, -2.2, 4);
    check_tone(-3500.0, -3.1, 5);
}

/* ---- reporting order and overflow ------------------------------------------------ */

/* At spike threshold 4 most spectra of noise report a spike (the strongest
 * of 63 exponentials passes 4 times the mean 69% of the time), so the list
 * fills at rate 0: at 64 points in time order (about 700 of its 1024
 * spectra), then 128 from the unit's start.  The list is cut at
 * max_signals, and a shorter cap gives a prefix of a longer one's list, as
 * v8's does. */
static void the_list_is_cut_at_max_signals_in_v8_order(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    cfg.spike_thresh = 4.0;
    float *iq = oz_test_noise(N, 7, 1.0);

    oz_sci_result many, five;
    cfg.max_signals = OZ_SCI_SIGNALS_MAX;
    oz_test_search(&cfg, iq, N, FS, F0, &many);
    cfg.max_signals = 5;
    oz_sci_search *s = new_search(&cfg, iq, N, FS);
    assert_int_equal(oz_sci_search_run(s, NULL, NULL), 0);
    assert_true(oz_sci_search_finished(s));
    assert_int_equal(oz_sci_search_done(s), 1);
    assert_true(oz_sci_search_steps(s) > 1);
    assert_int_equal(oz_sci_search_result(s, &five), 0);
    oz_sci_search_free(s);

    assert_true(five.overflow);
    assert_int_equal(five.nsignals, 5);
    assert_true(many.overflow);
    assert_int_equal(many.nsignals, OZ_SCI_SIGNALS_MAX);
    for (size_t i = 0; i < five.nsignals; i++)
        assert_memory_equal(&five.signals[i], &many.signals[i], sizeof(oz_signal));

    /* rate 0, lengths ascending, spikes of one length in time order */
    bool saw[2] = {false, false};
    for (size_t i = 0; i < many.nsignals; i++) {
        const oz_signal *g = &many.signals[i], *p = i ? &many.signals[i - 1] : NULL;
        assert_true(g->chirp_hz_s == 0.0);
        assert_true(g->fft_len == 64 || g->fft_len == 128);
        saw[g->fft_len == 128] = true;
        if (p && g->fft_len < p->fft_len)
            fail_msg("signal %zu at %u points after one at %u", i, g->fft_len, p->fft_len);
        for (size_t j = i; j-- > 0;)
            if (many.signals[j].type == OZ_SIG_SPIKE && g->type == OZ_SIG_SPIKE &&
                many.signals[j].fft_len == g->fft_len) {
                if (!(g->time_s > many.signals[j].time_s))
                    fail_msg("spike %zu at %.4f s after one at %.4f s", i, g->time_s,
                             many.signals[j].time_s);
                break;
            }
    }
    assert_true(saw[0] && saw[1]);
    assert_int_equal(many.signals[0].type, OZ_SIG_SPIKE);
    oz_sci_result_clear(&many);
    oz_sci_result_clear(&five);
    free(iq);
}

/* ---- pure noise ------------------------------------------------------------------ */

/* v8's thresholds, pulses and triplets on, autocorrelation at fft_max:
 * noise reports nothing, but the best spike and autocorrelation are kept,
 * below their thresholds, at a searched length and rate. */
static void pure_noise_reports_nothing_but_keeps_best_of(void **state)
{
    (void)state;
    for (uint64_t seed = 31; seed <= 32; seed++) {
        oz_sci_config cfg;
        oz_sci_config_default(&cfg);
        cfg.mode = OZ_MODE_SETI;
        cfg.fft_min = 64;
        cfg.fft_max = 8192;
        cfg.chirp_max = 1.0;
        cfg.chirp_resolution = 0.333;
        cfg.spike_thresh = 22.0;
        cfg.seti.autocorr_fftlen = 8192;
        float *iq = oz_test_noise(N, seed, 1.0);
        oz_sci_result r;
        oz_test_search(&cfg, iq, N, FS, F0, &r);
        if (r.nsignals) {
            oz_test_dump(&r);
            fail_msg("seed %llu: noise reported %zu signals", (unsigned long long)seed, r.nsignals);
        }
        assert_false(r.overflow);
        assert_true(r.has_best[OZ_SIG_SPIKE]);
        const oz_signal *b = &r.best[OZ_SIG_SPIKE];
        assert_true(b->power > 1.0 && b->power < cfg.spike_thresh);
        assert_true(b->fft_len >= 64 && b->fft_len <= 8192);
        assert_true(fabs(b->chirp_hz_s) <= cfg.chirp_max);
        assert_true(fabs(b->freq_hz - F0) <= FS / 2);
        assert_true(r.has_best[OZ_SIG_AUTOCORR]);
        b = &r.best[OZ_SIG_AUTOCORR];
        assert_true(b->power > 0.0 && b->power < cfg.seti.autocorr_thresh);
        assert_int_equal(b->fft_len, 8192);
        assert_true(b->delay_s > 0.0 && b->delay_s < 8192 / FS);
        oz_sci_result_clear(&r);
        free(iq);
    }
}

/* ---- checkpoints ----------------------------------------------------------------- */

/* Two tones (one found at rate 0, one at -2.2 Hz/s, searched late): saving
 * anywhere, restoring into a fresh search and finishing gives the
 * uninterrupted result bit for bit. */
static float *two_tones(uint64_t seed)
{
    float *iq = oz_test_noise(N, seed, 1.0);
    oz_tone a = {.freq_hz = 700.0, .amp = 0.2};
    oz_tone b = {.freq_hz = -1500.0, .chirp_hz_s = -2.2, .amp = 0.2};
    oz_sci_add_tone(iq, N, FS, &a);
    oz_sci_add_tone(iq, N, FS, &b);
    return iq;
}

static void resume_is_bit_identical(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    cfg.seti.autocorr_fftlen = 8192;
    float *iq = two_tones(40);
    oz_sci_result whole;
    oz_test_search(&cfg, iq, N, FS, F0, &whole);
    assert_true(whole.nsignals >= 2);
    assert_true(whole.signals[whole.nsignals - 1].chirp_hz_s < -1.0);

    oz_sci_search *a = new_search(&cfg, iq, N, FS);
    const size_t total = oz_sci_search_steps(a);
    oz_sci_search_free(a);
    const size_t at[] = {0, 1, total / 2, total - 1, total};
    char why[256];
    for (size_t t = 0; t < sizeof at / sizeof at[0]; t++) {
        a = new_search(&cfg, iq, N, FS);
        for (size_t i = 0; i < at[t]; i++)
            assert_int_equal(oz_sci_search_step(a), 0);
        char *saved = NULL;
        assert_int_equal(oz_sci_search_save(a, &saved), 0);
        oz_sci_search_free(a);

        oz_sci_search *b = new_search(&cfg, iq, N, FS);
        if (oz_sci_search_restore(b, saved, why, sizeof why))
            fail_msg("restore after step %zu: %s", at[t], why);
        assert_int_equal(oz_sci_search_done(b), at[t]);
        assert_int_equal(oz_sci_search_run(b, NULL, NULL), 0);
        oz_sci_result r;
        assert_int_equal(oz_sci_search_result(b, &r), 0);
        assert_same_result(&whole, &r);
        oz_sci_result_clear(&r);
        oz_sci_search_free(b);
        free(saved);
    }
    oz_sci_result_clear(&whole);
    free(iq);
}

/* The configuration's no_avx2 reaches the seti mode's dechirp, spectra and
 * autocorrelation: the portable code gives the AVX2 result bit for bit. */
static void the_portable_path_gives_the_same_result(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    cfg.seti.autocorr_fftlen = 8192;
    float *iq = two_tones(41);
    oz_sci_result fast, portable;
    oz_test_search(&cfg, iq, N, FS, F0, &fast);
    cfg.no_avx2 = true;
    oz_test_search(&cfg, iq, N, FS, F0, &portable);
    assert_true(fast.nsignals >= 2);
    assert_same_result(&fast, &portable);
    oz_sci_result_clear(&fast);
    oz_sci_result_clear(&portable);
    free(iq);
}

/* The saved state with one field of its seti part replaced. */
static char *edit_state(const char *saved, const char *key, json_t *value)
{
    json_error_t err;
    json_t *o = json_loads(saved, 0, &err);
    assert_non_null(o);
    json_t *seti = json_object_get(o, "seti");
    assert_non_null(seti);
    if (strcmp(key, "overflow") == 0)
        assert_int_equal(json_object_set_new(json_object_get(seti, "result"), key, value), 0);
    else
        assert_int_equal(json_object_set_new(seti, key, value), 0);
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    assert_non_null(text);
    json_decref(o);
    return text;
}

/* A refused state leaves the search as it was: nothing done, and it
 * finishes with the uninterrupted result. */
static void assert_refused(const oz_sci_config *cfg, const float *iq, const char *state_text,
                           int want, const oz_sci_result *whole)
{
    char why[256] = "";
    oz_sci_search *s = new_search(cfg, iq, N, FS);
    int rc = oz_sci_search_restore(s, state_text, why, sizeof why);
    if (rc != want)
        fail_msg("restore gave %d (%s), expected %d", rc, why, want);
    assert_true(strlen(why) > 10);
    assert_int_equal(oz_sci_search_done(s), 0);
    assert_int_equal(oz_sci_search_run(s, NULL, NULL), 0);
    oz_sci_result r;
    assert_int_equal(oz_sci_search_result(s, &r), 0);
    assert_same_result(whole, &r);
    oz_sci_result_clear(&r);
    oz_sci_search_free(s);
}

static void damaged_or_foreign_states_are_refused(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    float *iq = two_tones(41), *other = two_tones(42);
    oz_sci_result whole;
    oz_test_search(&cfg, iq, N, FS, F0, &whole);

    oz_sci_search *a = new_search(&cfg, other, N, FS);
    for (int i = 0; i < 6; i++)
        assert_int_equal(oz_sci_search_step(a), 0);
    char *foreign = NULL;
    assert_int_equal(oz_sci_search_save(a, &foreign), 0);
    oz_sci_search_free(a);
    assert_refused(&cfg, iq, foreign, OZ_SCI_EMISMATCH, &whole);

    a = new_search(&cfg, iq, N, FS);
    for (int i = 0; i < 6; i++)
        assert_int_equal(oz_sci_search_step(a), 0);
    char *saved = NULL;
    assert_int_equal(oz_sci_search_save(a, &saved), 0);
    size_t steps = oz_sci_search_steps(a);
    oz_sci_search_free(a);

    /* another configuration */
    oz_sci_config wider = cfg;
    wider.spike_thresh = 21.0;
    a = new_search(&wider, iq, N, FS);
    char why[256] = "";
    assert_int_equal(oz_sci_search_restore(a, saved, why, sizeof why), OZ_SCI_EMISMATCH);
    assert_int_equal(oz_sci_search_done(a), 0);
    oz_sci_search_free(a);

    /* truncated, more steps than the plan has, a malformed rank */
    char *cut = strdup(saved);
    assert_non_null(cut);
    cut[strlen(cut) / 2] = '\0';
    assert_refused(&cfg, iq, cut, OZ_SCI_EPARSE, &whole);
    char *too_far = edit_state(saved, "done", json_integer((json_int_t)steps + 1));
    assert_refused(&cfg, iq, too_far, OZ_SCI_EPARSE, &whole);
    char *bad_rank = edit_state(saved, "rank", json_string("high"));
    assert_refused(&cfg, iq, bad_rank, OZ_SCI_EPARSE, &whole);
    free(cut);
    free(too_far);
    free(bad_rank);
    free(saved);
    free(foreign);
    oz_sci_result_clear(&whole);
    free(iq);
    free(other);
}

/* A state whose list is full (max_signals signals) but says it did not
 * overflow cannot come from a search: the next reported signal would be
 * written past the list.  It is refused like any other damaged state. */
static void a_full_list_without_overflow_is_refused(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    cfg.spike_thresh = 3.0;
    cfg.max_signals = 5;
    float *iq = oz_test_noise(N, 43, 1.0);
    oz_sci_search *a = new_search(&cfg, iq, N, FS);
    assert_int_equal(oz_sci_search_step(a), 0);
    assert_true(oz_sci_search_finished(a));
    char *saved = NULL;
    assert_int_equal(oz_sci_search_save(a, &saved), 0);
    oz_sci_search_free(a);

    char *forged = edit_state(saved, "overflow", json_false());
    char why[256] = "";
    oz_sci_search *b = new_search(&cfg, iq, N, FS);
    int rc = oz_sci_search_restore(b, forged, why, sizeof why);
    if (rc == 0) /* running on would write past the list */
        fail_msg("a full list of %u signals without overflow was restored", cfg.max_signals);
    assert_int_equal(rc, OZ_SCI_EPARSE);
    assert_int_equal(oz_sci_search_done(b), 0);
    oz_sci_search_free(b);
    free(forged);
    free(saved);
    free(iq);
}

/* ---- FLOPs ----------------------------------------------------------------------- */

static uint64_t flops_of(const oz_sci_config *cfg, const float *iq)
{
    oz_sci_search *s = new_search(cfg, iq, N, FS);
    uint64_t f = oz_sci_search_flops(s);
    oz_sci_search_free(s);
    return f;
}

/* The count comes from the plan: the same for two searches (and for
 * other samples), reported in the result, and larger when more rates are
 * searched. */
static void flops_are_deterministic_and_grow_with_the_chirp_range(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_seti_small(&cfg);
    cfg.seti.autocorr_fftlen = 8192;
    float *iq = oz_test_noise(N, 50, 1.0), *other = oz_test_noise(N, 51, 1.0);
    uint64_t f = flops_of(&cfg, iq);
    assert_true(f > 0);
    assert_true(flops_of(&cfg, iq) == f);
    assert_true(flops_of(&cfg, other) == f);
    oz_sci_result r;
    oz_test_search(&cfg, iq, N, FS, F0, &r);
    assert_true(r.flops == f);
    oz_sci_result_clear(&r);

    oz_sci_config wide = cfg;
    wide.chirp_max = 8.0;
    uint64_t fw = flops_of(&wide, iq);
    assert_true(fw > f);
    /* a per-length limit widens only its length's range */
    oz_sci_config one = cfg;
    one.chirp_limit[10] = 8.0; /* 8192 */
    uint64_t fo = flops_of(&one, iq);
    assert_true(fo > f && fo < fw);
    /* band flattening costs its two transforms */
    oz_sci_config flat = cfg;
    flat.bsmooth_boxcar = 512;
    flat.bsmooth_chunk = 8192;
    assert_true(flops_of(&flat, iq) > f);
    free(iq);
    free(other);
}

/* ---- per-length chirp limits in Ozma's own mode -------------------------------- */

/* Ozma's small configuration (FFT 64..4096, +-5 Hz/s): 2048's chirp step
 * is 3.8 Hz/s, so it runs at rates 0 and +-3.8; a limit of 1 Hz/s at 2048
 * leaves it rate 0 alone and the plan is cheaper.  A limit at 2048 wider
 * than fft_max's is refused (Ozma's plan needs fft_max at every rate),
 * where the seti mode takes it. */
static void ozma_mode_per_length_limits_shrink_the_plan(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    float *iq = oz_test_noise(N, 60, 1.0);
    uint64_t f = flops_of(&cfg, iq);
    oz_sci_config lim = cfg;
    lim.chirp_limit[8] = 1.0; /* 2048 */
    uint64_t fl = flops_of(&lim, iq);
    assert_true(fl < f);
    assert_true(flops_of(&lim, iq) == fl);
    /* a limit at least fft_max's own changes nothing */
    lim.chirp_limit[8] = 5.0;
    assert_true(flops_of(&lim, iq) == f);

    oz_sci_config wide = cfg;
    wide.chirp_limit[8] = 10.0;
    char why[256] = "";
    oz_sci_search *s = NULL;
    assert_int_equal(oz_sci_search_new(&wide, iq, N, FS, F0, &s, why, sizeof why), OZ_SCI_EINVAL);
    assert_null(s);
    assert_non_null(strstr(why, "chirp_limit"));
    assert_non_null(strstr(why, "2048"));
    wide.mode = OZ_MODE_SETI;
    wide.fft_min = 64;
    s = new_search(&wide, iq, N, FS);
    oz_sci_search_free(s);
    free(iq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v8_plan_for_the_reference_unit),
        cmocka_unit_test(a_drifting_tone_is_reported_at_its_chirp_frequency_and_time),
        cmocka_unit_test(negative_offsets_and_chirps_keep_their_sign),
        cmocka_unit_test(the_list_is_cut_at_max_signals_in_v8_order),
        cmocka_unit_test(pure_noise_reports_nothing_but_keeps_best_of),
        cmocka_unit_test(resume_is_bit_identical),
        cmocka_unit_test(the_portable_path_gives_the_same_result),
        cmocka_unit_test(damaged_or_foreign_states_are_refused),
        cmocka_unit_test(a_full_list_without_overflow_is_refused),
        cmocka_unit_test(flops_are_deterministic_and_grow_with_the_chirp_range),
        cmocka_unit_test(ozma_mode_per_length_limits_shrink_the_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
