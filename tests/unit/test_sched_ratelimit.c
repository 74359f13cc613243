/*
 * test_sched_ratelimit.c - the token buckets (scheduler/ratelimit.c): a
 * bucket gives its burst and then refuses with the seconds until a token is
 * back; peeking takes nothing; and the key of a client address, which is
 * the whole address for IPv4 (an IPv4-mapped IPv6 address counting as its
 * IPv4 address) and the /64 for IPv6, since one IPv6 subscriber holds a
 * /64 at least and could otherwise make a bucket per address (issue 21).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "support.h"
#include "ratelimit.h"

static uint64_t key_of(const char *text)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, text, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(1234);
        return oz_ratelimit_addr_hash((const struct sockaddr *)&a4);
    }
    if (inet_pton(AF_INET6, text, &a6.sin6_addr) != 1)
        fail_msg("%s is not an address", text);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(4321);
    return oz_ratelimit_addr_hash((const struct sockaddr *)&a6);
}

static void ipv6_addresses_of_one_64_share_a_key(void **state)
{
    (void)state;
    uint64_t k = key_of("2001:db8:1:2::1");
    assert_true(k == key_of("2001:db8:1:2::2"));
    assert_true(k == key_of("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assert_true(k == key_of("2001:db8:1:2:dead:beef:0:1"));
    assert_true(k != key_of("2001:db8:1:3::1"));
    assert_true(k != key_of("2001:db8:2:2::1"));
    assert_true(key_of("::1") == key_of("::2")); /* the same /64 too */
}

static void ipv4_keys_on_the_whole_address(void **state)
{
    (void)state;
    assert_true(key_of("192.0.2.1") != key_of("192.0.2.2"));
    assert_true(key_of("192.0.2.1") != key_of("198.51.100.1"));
    assert_true(key_of("192.0.2.1") == key_of("192.0.2.1"));
    assert_true(key_of("127.0.0.1") != key_of("::1"));
}

static void ipv4_mapped_ipv6_is_its_ipv4_address(void **state)
{
    (void)state;
    assert_true(key_of("::ffff:192.0.2.1") == key_of("192.0.2.1"));
    assert_true(key_of("::ffff:192.0.2.2") == key_of("192.0.2.2"));
    /* all of ::ffff:0:0/96 is one /64, yet its addresses are not one client */
    assert_true(key_of("::ffff:192.0.2.1") != key_of("::ffff:192.0.2.2"));
}

static void other_families_share_one_key(void **state)
{
    (void)state;
    struct sockaddr sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_family = AF_UNIX;
    assert_true(oz_ratelimit_addr_hash(&sa) == oz_ratelimit_addr_hash(NULL));
    /* a key fits beside the key space's two bits */
    assert_true(key_of("2001:db8::1") >> 62 == 0 && key_of("192.0.2.1") >> 62 == 0);
}

static void a_bucket_gives_its_burst_then_says_when(void **state)
{
    (void)state;
    oz_ratelimit *rl;
    assert_int_equal(oz_ratelimit_new(0.5, 3, 64, &rl), 0);
    int retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(oz_ratelimit_take(rl, 7, 100.0, &retry));
    assert_false(oz_ratelimit_take(rl, 7, 100.0, &retry));
    assert_int_equal(retry, 2);                           /* 0.5 a second */
    assert_true(oz_ratelimit_take(rl, 8, 100.0, &retry)); /* another key: its own bucket */
    assert_true(oz_ratelimit_take(rl, 7, 102.0, &retry));
    oz_ratelimit_free(rl);
}

static void peeking_takes_nothing(void **state)
{
    (void)state;
    oz_ratelimit *rl;
    assert_int_equal(oz_ratelimit_new(0.25, 2, 64, &rl), 0);
    int retry = 0;
    for (int i = 0; i < 10; i++)
        assert_true(oz_ratelimit_peek(rl, 9, 50.0, &retry)); /* unknown key: full */
    assert_true(oz_ratelimit_take(rl, 9, 50.0, &retry));
    assert_true(oz_ratelimit_peek(rl, 9, 50.0, &retry));
    assert_true(oz_ratelimit_take(rl, 9, 50.0, &retry));
    retry = 0;
    assert_false(oz_ratelimit_peek(rl, 9, 50.0, &retry));
    assert_int_equal(retry, 4);
    assert_false(oz_ratelimit_peek(rl, 9, 52.0, &retry));
    assert_int_equal(retry, 2);
    assert_true(oz_ratelimit_peek(rl, 9, 54.0, &retry));
    assert_true(oz_ratelimit_take(rl, 9, 54.0, &retry));
    assert_false(oz_ratelimit_take(rl, 9, 54.0, &retry));
    oz_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv6_addresses_of_one_64_share_a_key),
        cmocka_unit_test(ipv4_keys_on_the_whole_address),
        cmocka_unit_test(ipv4_mapped_ipv6_is_its_ipv4_address),
        cmocka_unit_test(other_families_share_one_key),
        cmocka_unit_test(a_bucket_gives_its_burst_then_says_when),
        cmocka_unit_test(peeking_takes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
