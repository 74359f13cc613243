/*
 * test_sched_validate.c - the validator's rule (scheduler/validate.c)
 * without a database, on results the real kernel made: two honest replicas
 * agree and the first becomes canonical; an honest and a fabricated one
 * (every signal moved by 137 Hz) are inconclusive, and a third honest one
 * makes the fabrication invalid; bytes that do not parse are invalid; once
 * a unit has a canonical result, a late result is compared with it alone
 * and earlier verdicts stand; a configuration that does not parse is an
 * error, not a verdict.  The same verdicts come from the results' packed
 * forms (result_bin.h: what the store keeps from the upload's parse), alone
 * or beside results stored as JSON only, so a packed form that lost what
 * the comparison reads would show here.
 */
#include <stdlib.h>
#include <string.h>

#include "result_bin.h"
#include "support.h"
#include "validate.h"

#define N (1u << 16)

typedef struct fixture {
    oz_sci_config cfg;
    char *config_json;
    char *honest, *moved; /* result files' JSON texts */
    int packed;           /* decide: 0 texts, 1 packed forms, 2 every other one packed */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    oz_test_config_small(&f->cfg);
    float *iq = oz_test_noise(N, 41, 1.0);
    oz_tone tone = {.freq_hz = 812.0, .chirp_hz_s = 0.0, .amp = 0.6};
    oz_sci_add_tone(iq, N, OZ_TEST_FS, &tone);
    oz_sci_result r;
    oz_test_search(&f->cfg, iq, N, OZ_TEST_FS, OZ_TEST_F0, &r);
    free(iq);
    assert_true(r.nsignals > 0);
    f->honest = oz_test_result_text(&r);
    for (size_t i = 0; i < r.nsignals; i++)
        r.signals[i].freq_hz += 137.0;
    for (int t = 0; t < OZ_SIG_NTYPES; t++)
        r.best[t].freq_hz += r.has_best[t] ? 137.0 : 0.0;
    f->moved = oz_test_result_text(&r);
    oz_sci_result_clear(&r);
    json_t *cj = oz_sci_config_to_json(&f->cfg);
    assert_non_null(cj);
    f->config_json = json_dumps(cj, JSON_COMPACT);
    json_decref(cj);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->config_json);
    free(f->honest);
    free(f->moved);
    free(f);
    return 0;
}

/* Decides a unit of replicas 1.. with these texts and earlier states. */
static int decide(const fixture *f, const char *const *texts, const int *before, size_t n,
                  int64_t canonical_before, int *states, int64_t *canonical)
{
    oz_validate_replica reps[8];
    for (size_t i = 0; i < n; i++) {
        reps[i] = (oz_validate_replica){.replica_id = (int64_t)i + 1,
                                        .validate_state = before ? before[i] : OZ_VALIDATE_INIT,
                                        .json = (char *)texts[i]};
        oz_wu_result r;
        char why[256];
        if ((f->packed == 1 || (f->packed == 2 && i % 2 == 0)) &&
            oz_wu_result_parse(texts[i], strlen(texts[i]), &r, why, sizeof why) == OZ_WU_OK) {
            /* as the store keeps it: the packed form alone (result_bin.h) */
            assert_int_equal(oz_result_bin_pack(&r, &reps[i].bin, &reps[i].binlen), OZ_SCHED_OK);
            reps[i].json = NULL;
            oz_wu_result_clear(&r);
        }
    }
    oz_validate_unit v = {.unit_rowid = 7,
                          .min_quorum = 2,
                          .flops = 1,
                          .sample_rate = OZ_TEST_FS,
                          .config_json = f->config_json,
                          .canonical = canonical_before,
                          .replicas = reps,
                          .nreplicas = n};
    int found, missed;
    int rc = oz_validate_decide(&v, states, canonical, &found, &missed);
    assert_int_equal(found + missed, 0); /* no canary */
    for (size_t i = 0; i < n; i++)
        free(reps[i].bin);
    return rc;
}

static void two_honest_replicas_agree(void **state)
{
    fixture *f = *state;
    const char *t[] = {f->honest, f->honest};
    int st[2];
    int64_t canon;
    assert_int_equal(decide(f, t, NULL, 2, 0, st, &canon), OZ_SCHED_OK);
    assert_int_equal(canon, 1);
    assert_int_equal(st[0], OZ_VALIDATE_VALID);
    assert_int_equal(st[1], OZ_VALIDATE_VALID);
}

static void a_fabrication_is_inconclusive_then_invalid(void **state)
{
    fixture *f = *state;
    const char *two[] = {f->honest, f->moved};
    int st[3];
    int64_t canon;
    assert_int_equal(decide(f, two, NULL, 2, 0, st, &canon), OZ_SCHED_OK);
    assert_int_equal(canon, 0);
    assert_int_equal(st[0], OZ_VALIDATE_INCONCLUSIVE);
    assert_int_equal(st[1], OZ_VALIDATE_INCONCLUSIVE);

    const char *three[] = {f->moved, f->honest, f->honest};
    assert_int_equal(decide(f, three, NULL, 3, 0, st, &canon), OZ_SCHED_OK);
    assert_int_equal(canon, 2);
    assert_int_equal(st[0], OZ_VALIDATE_INVALID);
    assert_int_equal(st[1], OZ_VALIDATE_VALID);
    assert_int_equal(st[2], OZ_VALIDATE_VALID);
}

static void bytes_that_do_not_parse_are_invalid(void **state)
{
    fixture *f = *state;
    const char *t[] = {f->honest, "{\"version\": 1, \"unit_id\": "};
    int st[2];
    int64_t canon;
    assert_int_equal(decide(f, t, NULL, 2, 0, st, &canon), OZ_SCHED_OK);
    assert_int_equal(canon, 0);
    assert_int_equal(st[0], OZ_VALIDATE_INCONCLUSIVE);
    assert_int_equal(st[1], OZ_VALIDATE_INVALID);
}

static void late_results_meet_the_canonical_alone(void **state)
{
    fixture *f = *state;
    /* replica 1 canonical, 2 judged VALID before; 3 honest and 4 moved arrive late */
    const char *t[] = {f->honest, f->honest, f->honest, f->moved};
    int before[] = {OZ_VALIDATE_VALID, OZ_VALIDATE_VALID, OZ_VALIDATE_INIT, OZ_VALIDATE_INIT};
    int st[4];
    int64_t canon;
    assert_int_equal(decide(f, t, before, 4, 1, st, &canon), OZ_SCHED_OK);
    assert_int_equal(canon, 1);
    assert_int_equal(st[0], OZ_VALIDATE_VALID);
    assert_int_equal(st[1], OZ_VALIDATE_VALID);
    assert_int_equal(st[2], OZ_VALIDATE_VALID);
    assert_int_equal(st[3], OZ_VALIDATE_INVALID);

    /* a verdict given before stands, even if it disagrees with a re-check */
    int judged[] = {OZ_VALIDATE_VALID, OZ_VALIDATE_INVALID, OZ_VALIDATE_INIT, OZ_VALIDATE_INIT};
    assert_int_equal(decide(f, t, judged, 4, 1, st, &canon), OZ_SCHED_OK);
    assert_int_equal(st[1], OZ_VALIDATE_INVALID);
}

static void a_bad_configuration_is_an_error(void **state)
{
    fixture *f = *state;
    char *saved = f->config_json;
    f->config_json = "{\"fft_min\": \"sixty-four\"}";
    const char *t[] = {f->honest, f->honest};
    int st[2];
    int64_t canon;
    assert_int_equal(decide(f, t, NULL, 2, 0, st, &canon), OZ_SCHED_EINVAL);
    f->config_json = saved;
}

/* The verdicts above again, on the packed forms the store keeps, and on
 * packed forms beside results kept as JSON only (rows from before them). */
static void packed_results_get_the_same_verdicts(void **state)
{
    fixture *f = *state;
    for (f->packed = 1; f->packed <= 2; f->packed++) {
        two_honest_replicas_agree(state);
        a_fabrication_is_inconclusive_then_invalid(state);
        bytes_that_do_not_parse_are_invalid(state);
        late_results_meet_the_canonical_alone(state);
    }
    f->packed = 0;
}

/* The quorum rule around the verdict (no database: the store asks these). */
static void a_unit_out_alone_waits_for_one_result_and_others_for_their_quorum(void **state)
{
    (void)state;
    assert_int_equal(oz_validate_quorum(2, 0), 2);
    assert_int_equal(oz_validate_quorum(3, 2), 3); /* replicated for good */
    assert_int_equal(oz_validate_quorum(2, 1), 1); /* out alone */
    assert_false(oz_validate_due(false, 1, 2));
    assert_true(oz_validate_due(false, 2, 2));
    assert_true(oz_validate_due(false, 1, oz_validate_quorum(2, 1)));
    /* a late result of a validated unit meets the canonical one */
    assert_true(oz_validate_due(true, 1, 2));
}

static void no_consensus_asks_for_one_result_more(void **state)
{
    (void)state;
    int64_t target;
    int single;
    oz_validate_unit v = {.target = 2, .target_nresults = 2, .single = 0};
    oz_validate_retry(&v, 2, &target, &single);
    assert_int_equal(target, 3);
    assert_int_equal(single, 0);
    /* never lowers what the unit already asks for */
    v.target = 5;
    oz_validate_retry(&v, 2, &target, &single);
    assert_int_equal(target, 5);
    /* a unit out alone whose result failed: replicated for good, at least
     * its dataset's number of replicas */
    v = (oz_validate_unit){.target = 1, .target_nresults = 3, .single = 1};
    oz_validate_retry(&v, 1, &target, &single);
    assert_int_equal(target, 3);
    assert_int_equal(single, 2);
    v = (oz_validate_unit){.target = 1, .target_nresults = 2, .single = 1};
    oz_validate_retry(&v, 2, &target, &single);
    assert_int_equal(target, 3);
    assert_int_equal(single, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_honest_replicas_agree),
        cmocka_unit_test(a_fabrication_is_inconclusive_then_invalid),
        cmocka_unit_test(bytes_that_do_not_parse_are_invalid),
        cmocka_unit_test(late_results_meet_the_canonical_alone),
        cmocka_unit_test(a_bad_configuration_is_an_error),
        cmocka_unit_test(packed_results_get_the_same_verdicts),
        cmocka_unit_test(a_unit_out_alone_waits_for_one_result_and_others_for_their_quorum),
        cmocka_unit_test(no_consensus_asks_for_one_result_more),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
