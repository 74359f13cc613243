/*
 * test_sched_canary.c - canaries (scheduler/canary.c) with the real
 * kernel: a canary of each kind (tone, Gaussian, pulses) hidden in noise
 * is reported by an honest search and found on its track; the same noise
 * without it, and an honest result with every signal moved by 137 Hz (the
 * cheat of issue 18), do not show it; the validator (validate.c) marks a
 * result that misses its canary invalid, even when two such results agree,
 * and lets a unit out alone validate on its one result that shows it; the
 * truth survives its JSON round trip and garbage is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "canary.h"
#include "validate.h"

#define N (1u << 15)

/* An honest search of noise (seed) with canary c hidden in it, or none. */
static void search_with(const oz_sci_config *cfg, const oz_canary *c, uint64_t seed,
                        oz_sci_result *r)
{
    float *iq = oz_test_noise(N, seed, 1.0);
    if (c)
        oz_canary_inject(c, iq, N, OZ_TEST_FS);
    oz_test_search(cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, r);
    free(iq);
}

static void moved(oz_sci_result *r, double hz)
{
    for (size_t i = 0; i < r->nsignals; i++)
        r->signals[i].freq_hz += hz;
}

static void each_kind_is_found_and_a_fabrication_misses_it(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    for (int kind = 0; kind < 3; kind++) {
        for (int k = 0; k < 3; k++) {
            double u[6] = {(kind + 0.5) / 3.0, 0.1 + 0.35 * k, 0.2 + 0.3 * k, 0.5, 0.4, 0.6};
            oz_canary c;
            oz_canary_draw(&cfg, N, OZ_TEST_FS, u, &c);
            assert_int_equal(c.env, kind);
            oz_sci_result r, plain;
            search_with(&cfg, &c, 100 + (uint64_t)(kind * 3 + k), &r);
            search_with(&cfg, NULL, 100 + (uint64_t)(kind * 3 + k), &plain);
            assert_true(oz_canary_found(&c, &r, OZ_TEST_F0, OZ_TEST_FS, &cfg));
            assert_false(oz_canary_found(&c, &plain, OZ_TEST_F0, OZ_TEST_FS, &cfg));
            moved(&r, 137.0);
            assert_false(oz_canary_found(&c, &r, OZ_TEST_F0, OZ_TEST_FS, &cfg));
            oz_sci_result_clear(&r);
            oz_sci_result_clear(&plain);
        }
    }
}

static void truth_round_trips_and_garbage_is_refused(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    double u[6] = {0.9, 0.3, 0.7, 0.2, 0.5, 0.5};
    oz_canary c, back;
    oz_canary_draw(&cfg, N, OZ_TEST_FS, u, &c);
    char text[OZ_CANARY_JSON_MAX + 1], why[256];
    assert_int_equal(oz_canary_to_text(&c, text, sizeof text), 0);
    assert_int_equal(oz_canary_parse(text, &back, why, sizeof why), 0);
    assert_memory_equal(&c, &back, sizeof c);
    char small[16];
    assert_int_equal(oz_canary_to_text(&c, small, sizeof small), OZ_SCHED_ELIMIT);
    assert_int_not_equal(oz_canary_parse("{\"kind\":\"tone\"}", &back, why, sizeof why), 0);
    assert_int_not_equal(oz_canary_parse("[1,2]", &back, why, sizeof why), 0);
    const char *unknown = "{\"kind\":\"chirp\",\"offset_hz\":1,\"chirp_hz_s\":0,\"snr\":1,"
                          "\"t0\":0,\"sigma_s\":0,\"period_s\":0,\"width_s\":0}";
    assert_int_not_equal(oz_canary_parse(unknown, &back, why, sizeof why), 0);
    assert_non_null(strstr(why, "kind"));
}

static void validator_needs_the_canary_even_from_a_quorum(void **state)
{
    (void)state;
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    double u[6] = {0.1, 0.7, 0.6, 0.5, 0.5, 0.5};
    oz_canary c;
    oz_canary_draw(&cfg, N, OZ_TEST_FS, u, &c);
    char truth[OZ_CANARY_JSON_MAX + 1];
    assert_int_equal(oz_canary_to_text(&c, truth, sizeof truth), 0);
    oz_sci_result r;
    search_with(&cfg, &c, 7, &r);
    char *honest = oz_test_result_text(&r);
    moved(&r, 137.0);
    char *fake = oz_test_result_text(&r);
    oz_sci_result_clear(&r);
    json_t *cj = oz_sci_config_to_json(&cfg);
    char *config_json = json_dumps(cj, JSON_COMPACT);
    json_decref(cj);

    /* two colluders agree on the same fabrication: no quorum for it */
    oz_validate_replica reps[3] = {{.replica_id = 1, .json = fake},
                                   {.replica_id = 2, .json = fake},
                                   {.replica_id = 3, .json = honest}};
    oz_validate_unit v = {.unit_rowid = 1,
                          .min_quorum = 2,
                          .sample_rate = OZ_TEST_FS,
                          .center_hz = OZ_TEST_F0,
                          .config_json = config_json,
                          .canary_json = truth,
                          .replicas = reps,
                          .nreplicas = 2};
    int states[3];
    int64_t canonical;
    int found, missed;
    assert_int_equal(oz_validate_decide(&v, states, &canonical, &found, &missed), 0);
    assert_int_equal(canonical, 0);
    assert_int_equal(states[0], OZ_VALIDATE_INVALID);
    assert_int_equal(states[1], OZ_VALIDATE_INVALID);
    assert_int_equal(found, 0);
    assert_int_equal(missed, 2);

    /* a unit out alone: its one honest result validates it; a fake does not */
    v.min_quorum = 1;
    v.replicas = &reps[2];
    v.nreplicas = 1;
    assert_int_equal(oz_validate_decide(&v, states, &canonical, &found, &missed), 0);
    assert_int_equal(canonical, 3);
    assert_int_equal(states[0], OZ_VALIDATE_VALID);
    assert_int_equal(found, 1);
    v.replicas = &reps[0];
    assert_int_equal(oz_validate_decide(&v, states, &canonical, &found, &missed), 0);
    assert_int_equal(canonical, 0);
    assert_int_equal(states[0], OZ_VALIDATE_INVALID);
    assert_int_equal(missed, 1);
    free(honest);
    free(fake);
    free(config_json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_kind_is_found_and_a_fabrication_misses_it),
        cmocka_unit_test(truth_round_trips_and_garbage_is_refused),
        cmocka_unit_test(validator_needs_the_canary_even_from_a_quorum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
