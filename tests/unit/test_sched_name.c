/*
 * test_sched_name.c - names people see (scheduler/name.c): account and
 * team names are normalised to NFKC, with runs of spaces made one and
 * trimmed, and refused when they hold an invisible, format, direction or
 * control character or nothing but spaces; team names are compared on the
 * case-folded form.  Each impersonation of issue 21 (hole 6) is a case
 * here, and so are honest names outside ASCII.
 */
#include <string.h>

#include "support.h"
#include "name.h"
#include "sched_errors.h"

/* s normalised, which must succeed, equals want. */
static void normal(const char *s, const char *want)
{
    char out[OZ_NAME_BYTES], why[256] = "";
    int rc = oz_name_normalize(s, out, sizeof out, why, sizeof why);
    if (rc != 0)
        fail_msg("\"%s\" refused: %s", s, why);
    if (strcmp(out, want) != 0)
        fail_msg("\"%s\" became \"%s\", not \"%s\"", s, out, want);
}

/* s is refused, with a reason that mentions `says`. */
static void refused(const char *s, const char *says)
{
    char out[OZ_NAME_BYTES], why[256] = "";
    int rc = oz_name_normalize(s, out, sizeof out, why, sizeof why);
    if (rc == 0)
        fail_msg("\"%s\" accepted as \"%s\"", s, out);
    assert_int_equal(rc, OZ_SCHED_EINVAL);
    if (!strstr(why, says))
        fail_msg("\"%s\": reason \"%s\" does not say \"%s\"", s, why, says);
}

static void key(const char *name, char out[OZ_NAME_KEY_BYTES])
{
    char norm[OZ_NAME_BYTES], why[256] = "";
    if (oz_name_normalize(name, norm, sizeof norm, why, sizeof why) != 0)
        fail_msg("\"%s\" refused: %s", name, why);
    assert_int_equal(oz_name_key(norm, out, OZ_NAME_KEY_BYTES), 0);
}

static void fullwidth_letters_become_ascii(void **state)
{
    (void)state;
    normal("\xef\xbc\xaf\xef\xbd\x9a\xef\xbd\x8d\xef\xbd\x81 Team", "Ozma Team"); /* Ｏｚｍａ */
    normal("\xef\xbc\xaf\xef\xbd\x9a\xef\xbd\x8d\xef\xbd\x81\xe3\x80\x80Team", "Ozma Team");
    normal("\xe2\x84\xab", "\xc3\x85");    /* ANGSTROM SIGN: Å */
    normal("\xef\xac\x81le", "file");      /* the fi ligature */
    normal("\xf0\x9d\x90\x8ezma", "Ozma"); /* MATHEMATICAL BOLD CAPITAL O */
    normal("Zoe\xcc\x88", "Zo\xc3\xab");   /* e + combining diaeresis: ë */
}

static void zero_width_characters_are_refused(void **state)
{
    (void)state;
    refused("Ozma\xe2\x80\x8dTeam", "U+200D");  /* ZERO WIDTH JOINER inside */
    refused("Ozma\xe2\x80\x8bTeam", "U+200B");  /* ZERO WIDTH SPACE */
    refused("Ozma\xe2\x80\x8cTeam", "U+200C");  /* ZERO WIDTH NON-JOINER */
    refused("Ozma Team\xe2\x80\x8e", "U+200E"); /* LEFT-TO-RIGHT MARK */
    refused("Ozma Team\xe2\x80\x8f", "U+200F"); /* RIGHT-TO-LEFT MARK */
    refused("Oz\xc2\xadma", "U+00AD");          /* SOFT HYPHEN */
    refused("Ozma\xe2\x81\xa0", "U+2060");      /* WORD JOINER */
    refused("\xe3\x85\xa4", "U+3164");          /* HANGUL FILLER: a blank letter */
    refused("\xe2\xa0\x80", "U+2800");          /* BRAILLE PATTERN BLANK */
    refused("Ozma\xf3\xa0\x81\x81", "U+E0041"); /* TAG LATIN CAPITAL LETTER A */
    refused("Ozma\xef\xb8\x8f", "U+FE0F");      /* VARIATION SELECTOR-16 */
}

static void direction_controls_are_refused(void **state)
{
    (void)state;
    refused("\xe2\x80\xae"
            "maeT amzO",
            "U+202E");                                  /* RIGHT-TO-LEFT OVERRIDE */
    refused("Ozma\xe2\x80\xaa", "U+202A");              /* LEFT-TO-RIGHT EMBEDDING */
    refused("Ozma\xe2\x80\xac", "U+202C");              /* POP DIRECTIONAL FORMATTING */
    refused("Ozma\xe2\x81\xa6x\xe2\x81\xa9", "U+2066"); /* LEFT-TO-RIGHT ISOLATE */
    refused("Ozma\xe2\x81\xa9", "U+2069");              /* POP DIRECTIONAL ISOLATE */
    /* and the message names the character */
    char out[OZ_NAME_BYTES], why[256] = "";
    oz_name_normalize("\xe2\x80\xae"
                      "x",
                      out, sizeof out, why, sizeof why);
    assert_non_null(strstr(why, "RIGHT-TO-LEFT OVERRIDE"));
}

static void a_byte_order_mark_is_refused(void **state)
{
    (void)state;
    refused("\xef\xbb\xbfOzma Team", "U+FEFF");
    refused("Ozma\xef\xbb\xbfTeam", "U+FEFF");
}

static void controls_and_separators_are_refused(void **state)
{
    (void)state;
    refused("a\tb", "U+0009");
    refused("a\xc2\x85"
            "b",
            "U+0085"); /* NEXT LINE */
    refused("a\xe2\x80\xa8"
            "b",
            "U+2028"); /* LINE SEPARATOR */
    refused("a\xe2\x80\xa9"
            "b",
            "U+2029");                 /* PARAGRAPH SEPARATOR */
    refused("\xee\x80\x80", "U+E000"); /* private use */
    refused("a\xff", "UTF-8");
    refused("\xed\xa0\x80", "UTF-8"); /* a surrogate */
}

static void whitespace_only_names_are_refused(void **state)
{
    (void)state;
    refused("", "empty");
    refused(" ", "empty");
    refused("     ", "empty");
    refused("\xe3\x80\x80", "empty");                     /* IDEOGRAPHIC SPACE */
    refused("\xc2\xa0\xe2\x80\x83\xe2\x80\xaf", "empty"); /* NBSP, EM SPACE, NNBSP */
}

static void spaces_are_trimmed_and_runs_made_one(void **state)
{
    (void)state;
    normal("  Ozma   Team  ", "Ozma Team");
    normal("\xc2\xa0Ozma\xc2\xa0\xc2\xa0Team\xe2\x80\x83", "Ozma Team");
    normal("x", "x");
}

static void honest_names_outside_ascii_are_kept(void **state)
{
    (void)state;
    normal("Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m");
    normal("\xe5\xb1\xb1\xe7\x94\xb0", "\xe5\xb1\xb1\xe7\x94\xb0");                 /* 山田 */
    normal("\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd"); /* Иван */
    normal("\xd8\xb3\xd8\xa7\xd8\xb1\xd8\xa9", "\xd8\xb3\xd8\xa7\xd8\xb1\xd8\xa9"); /* سارة */
    normal("\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xae\xe0\xa4\xa8", /* सुमन: combining vowel signs */
           "\xe0\xa4\xb8\xe0\xa5\x81\xe0\xa4\xae\xe0\xa4\xa8");
    normal("SETI \xe2\x98\x86 fan \xf0\x9f\x93\xa1", "SETI \xe2\x98\x86 fan \xf0\x9f\x93\xa1");
}

static void length_is_counted_once_normalised(void **state)
{
    (void)state;
    char s[200];
    memset(s, 'x', 64);
    s[64] = '\0';
    normal(s, s);
    /* 30 SQUARE MHZ are 30 characters sent, 90 once normalised */
    s[0] = '\0';
    for (int i = 0; i < 30; i++)
        strcat(s, "\xe3\x8e\x92");
    refused(s, "64");
}

static void team_names_compare_case_folded(void **state)
{
    (void)state;
    char a[OZ_NAME_KEY_BYTES], b[OZ_NAME_KEY_BYTES];
    key("Ozma Team", a);
    key("ozma team", b);
    assert_string_equal(a, b);
    key("\xef\xbc\xaf\xef\xbd\x9a\xef\xbd\x8d\xef\xbd\x81 \xef\xbc\xb4\xef\xbc\xa5\xef\xbc\xa1"
        "\xef\xbc\xad",
        b); /* Ｏｚｍａ ＴＥＡＭ */
    assert_string_equal(a, b);
    key("  OZMA    TEAM ", b);
    assert_string_equal(a, b);
    key("Stra\xc3\x9f"
        "e",
        a); /* Straße */
    key("STRASSE", b);
    assert_string_equal(a, b);
    key("Zo\xc3\xab", a);
    key("Zoe", b);
    assert_string_not_equal(a, b); /* a diaeresis is not a look-alike */
    key("\xe5\xb1\xb1\xe7\x94\xb0", a);
    assert_string_equal(a, "\xe5\xb1\xb1\xe7\x94\xb0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fullwidth_letters_become_ascii),
        cmocka_unit_test(zero_width_characters_are_refused),
        cmocka_unit_test(direction_controls_are_refused),
        cmocka_unit_test(a_byte_order_mark_is_refused),
        cmocka_unit_test(controls_and_separators_are_refused),
        cmocka_unit_test(whitespace_only_names_are_refused),
        cmocka_unit_test(spaces_are_trimmed_and_runs_made_one),
        cmocka_unit_test(honest_names_outside_ascii_are_kept),
        cmocka_unit_test(length_is_counted_once_normalised),
        cmocka_unit_test(team_names_compare_case_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
