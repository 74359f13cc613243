/*
 * test_sched_cache.c - the cache of public answers (scheduler/cache.c) that
 * keeps GET /api/v1/status and /throughput from being computed for every
 * client (issue 21, hole 4): an answer is served as kept while younger than
 * max_age and made again after; while one caller makes it again the others
 * get the older one, and a claim nobody settles lapses; keys are separate;
 * the oldest answer makes way for a new key; max_age 0 keeps nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "cache.h"

/* get, expecting a hit with text (NULL: a miss). */
static void expect(oz_cache *c, const char *key, double now, const char *text)
{
    char *body = NULL;
    size_t len = 0;
    int rc = oz_cache_get(c, key, now, &body, &len);
    if (!text) {
        assert_int_equal(rc, OZ_CACHE_MISS);
        assert_null(body);
        return;
    }
    assert_int_equal(rc, OZ_CACHE_HIT);
    assert_non_null(body);
    assert_int_equal(len, strlen(text));
    assert_string_equal(body, text);
    free(body);
}

static void put(oz_cache *c, const char *key, const char *text, double now)
{
    oz_cache_put(c, key, text, strlen(text), now);
}

static void fresh_within_max_age_made_again_after(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(8, 1.0, &c), 0);
    expect(c, "status", 100.0, NULL); /* nothing yet: make it */
    put(c, "status", "{\"a\":1}", 100.0);
    expect(c, "status", 100.0, "{\"a\":1}");
    expect(c, "status", 100.99, "{\"a\":1}");
    /* a second old: the first caller makes it again */
    expect(c, "status", 101.0, NULL);
    put(c, "status", "{\"a\":2}", 101.0);
    expect(c, "status", 101.5, "{\"a\":2}");
    oz_cache_free(c);
}

static void others_get_the_old_answer_while_one_makes_it(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(8, 1.0, &c), 0);
    expect(c, "status", 0.0, NULL);
    put(c, "status", "old", 0.0);
    expect(c, "status", 2.0, NULL);  /* this caller makes it... */
    expect(c, "status", 2.1, "old"); /* ...and the others do not wait for it */
    expect(c, "status", 2.2, "old");
    put(c, "status", "new", 2.0);
    expect(c, "status", 2.3, "new");
    oz_cache_free(c);
}

static void a_claim_abandoned_or_lapsed_passes_on(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(8, 1.0, &c), 0);
    expect(c, "k", 0.0, NULL);
    put(c, "k", "v1", 0.0);
    expect(c, "k", 5.0, NULL); /* claimed... */
    oz_cache_abandon(c, "k");  /* ...and given up: the next caller makes it */
    expect(c, "k", 5.1, NULL);
    expect(c, "k", 5.2, "v1"); /* claimed again: the old answer meanwhile */
    /* that caller vanished: after OZ_CACHE_CLAIM_S another may make it */
    expect(c, "k", 5.1 + OZ_CACHE_CLAIM_S + 0.1, NULL);
    oz_cache_free(c);
}

static void keys_are_separate_and_the_oldest_makes_way(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(2, 10.0, &c), 0);
    expect(c, "throughput?bucket=60&n=5", 0.0, NULL);
    put(c, "throughput?bucket=60&n=5", "A", 0.0);
    expect(c, "throughput?bucket=3600&n=48", 1.0, NULL);
    put(c, "throughput?bucket=3600&n=48", "B", 1.0);
    expect(c, "throughput?bucket=60&n=5", 2.0, "A");
    expect(c, "throughput?bucket=3600&n=48", 2.0, "B");
    /* a third key: A, made longest ago, makes way */
    expect(c, "status", 3.0, NULL);
    put(c, "status", "C", 3.0);
    expect(c, "throughput?bucket=3600&n=48", 3.0, "B");
    expect(c, "status", 3.0, "C");
    expect(c, "throughput?bucket=60&n=5", 3.0, NULL);
    oz_cache_free(c);
}

static void max_age_zero_keeps_nothing(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(4, 0.0, &c), 0);
    expect(c, "status", 0.0, NULL);
    put(c, "status", "x", 0.0);
    expect(c, "status", 0.0, NULL);
    oz_cache_free(c);
}

static void an_older_answer_never_replaces_a_newer(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(4, 1.0, &c), 0);
    put(c, "status", "new", 10.0);
    put(c, "status", "late and old", 9.0);
    expect(c, "status", 10.5, "new");
    oz_cache_free(c);
}

static void long_keys_are_never_kept(void **state)
{
    (void)state;
    oz_cache *c = NULL;
    assert_int_equal(oz_cache_new(4, 1.0, &c), 0);
    char key[OZ_CACHE_KEY_MAX + 8];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    expect(c, key, 0.0, NULL);
    put(c, key, "x", 0.0);
    expect(c, key, 0.0, NULL);
    oz_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_within_max_age_made_again_after),
        cmocka_unit_test(others_get_the_old_answer_while_one_makes_it),
        cmocka_unit_test(a_claim_abandoned_or_lapsed_passes_on),
        cmocka_unit_test(keys_are_separate_and_the_oldest_makes_way),
        cmocka_unit_test(max_age_zero_keeps_nothing),
        cmocka_unit_test(an_older_answer_never_replaces_a_newer),
        cmocka_unit_test(long_keys_are_never_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
