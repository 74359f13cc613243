/*
 * test_wu_sahresult.c - SETI@home v8 result XML (workunits/sahresult.c):
 * v8's own reference result read into Ozma's conventions, what we write
 * matching what v8 wrote for the same signals, round trips, and a strict
 * parser for files from strangers.
 *
 * OZ_TEST_SETI_DIR (tests/CMakeLists.txt) is the folder holding
 * reference_result_unit.sah, the result v8's client reported for its
 * reference unit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "ozma_workunits.h"

#define REF_JD 2451606.85836     /* the reference unit's time_recorded_jd */
#define REF_CENTER 1418920288.09 /* its subband centre */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *p = malloc(1 << 20);
    assert_non_null(p);
    *len = fread(p, 1, (1 << 20) - 1, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

static char *reference(size_t *len)
{
    char *p = slurp(OZ_TEST_SETI_DIR "/reference_result_unit.sah", len);
    if (!p)
        fprintf(stderr, "cannot read %s\n", OZ_TEST_SETI_DIR "/reference_result_unit.sah");
    assert_non_null(p);
    return p;
}

/* The text of every <tag>...</tag> after the workunit header, as numbers,
 * in document order. */
static size_t values_of(const char *xml, const char *tag, double *out, size_t max)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *p = strstr(xml, "</workunit_header>");
    p = p ? p : xml;
    size_t n = 0;
    while ((p = strstr(p, open)) != NULL && n < max) {
        p += strlen(open);
        char *end;
        out[n++] = strtod(p, &end);
        assert_ptr_equal(strstr(end, close), end);
    }
    return n;
}

/* The track in the reference's <coords>. */
static size_t ref_coords(const char *xml, oz_wu_sah_coord *c, size_t max)
{
    size_t n = 0;
    const char *p = xml;
    while ((p = strstr(p, "<coordinate_t>")) != NULL && n < max) {
        const char *t = strstr(p, "<time>"), *r = strstr(p, "<ra>"), *d = strstr(p, "<dec>");
        assert_true(t && r && d);
        c[n].time_jd = strtod(t + 6, NULL);
        c[n].ra_hours = strtod(r + 4, NULL);
        c[n].dec_deg = strtod(d + 5, NULL);
        n++;
        p++;
    }
    return n;
}

static void near(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol))
        fail_msg("%.17g and %.17g differ by more than %g", a, b, tol);
}

static void near_rel(double a, double b)
{
    near(a, b, 1e-9 * fmax(fabs(a), fabs(b)) + 1e-300);
}

static double ref_time(double jd)
{
    return (jd - REF_JD) * 86400.0;
}

static void one_line(const char *why)
{
    assert_true(why[0] != '\0');
    assert_null(strchr(why, '\n'));
}

static void the_reference_result_reads_as_v8_reported_it(void **state)
{
    (void)state;
    size_t len;
    char *xml = reference(&len), why[256] = "";
    oz_sci_result r;
    int err = oz_wu_sah_result_parse(xml, len, NULL, &r, why, sizeof why);
    if (err)
        fail_msg("%s", why);
    assert_int_equal(r.nsignals, 22);
    assert_int_equal(oz_test_count(&r, OZ_SIG_SPIKE), 13);
    assert_int_equal(oz_test_count(&r, OZ_SIG_AUTOCORR), 1);
    assert_int_equal(oz_test_count(&r, OZ_SIG_GAUSSIAN), 6);
    assert_int_equal(oz_test_count(&r, OZ_SIG_TRIPLET), 2);
    assert_int_equal(oz_test_count(&r, OZ_SIG_PULSE), 0);
    assert_true(r.has_best[OZ_SIG_SPIKE] && r.has_best[OZ_SIG_AUTOCORR] &&
                r.has_best[OZ_SIG_GAUSSIAN] && r.has_best[OZ_SIG_PULSE] &&
                r.has_best[OZ_SIG_TRIPLET]);
    assert_false(r.has_best[OZ_SIG_LINE]);
    assert_string_equal(r.kernel_version, "");

    /* The first signal is a triplet. */
    const oz_signal *s = &r.signals[0];
    assert_int_equal(s->type, OZ_SIG_TRIPLET);
    assert_int_equal(s->fft_len, 128);
    assert_true(s->freq_hz == 1418924863.1228);
    assert_true(s->chirp_hz_s == 0.9168656437853);
    near(s->time_s, ref_time(2451606.8592904), 1e-3);
    assert_true(s->power == 8.6426544189453);
    assert_true(s->mean_power == 0.0078867627307773);
    assert_true(s->period_s == 0.54394906759262);

    /* The first spike: time from the unit's start, freq_hz = detection_freq. */
    s = &r.signals[1];
    assert_int_equal(s->type, OZ_SIG_SPIKE);
    assert_int_equal(s->fft_len, 131072);
    near(s->time_s, (2451606.8595251 - 2451606.85836) * 86400, 1e-3);
    assert_true(s->freq_hz == 1418919461.2933);
    assert_true(s->chirp_hz_s == 1.0592016409052);
    assert_true(s->power == 22.395553588867);
    assert_true(s->mean_power == 1);
    assert_true(s->score == 0);
    /* v8's <freq> is the detection dechirped to the unit's start. */
    near(s->freq_hz - s->chirp_hz_s * s->time_s, 1418919354.6705, 0.01);

    s = &r.signals[13];
    assert_int_equal(s->type, OZ_SIG_AUTOCORR);
    assert_int_equal(s->fft_len, 131072);
    assert_true(s->freq_hz == 1418920199.1446);
    assert_true(s->chirp_hz_s == -13.253884407138);
    assert_true(s->delay_s == 2.6451981543415);
    assert_true(s->power == 17.814907073975);
    near(s->time_s, ref_time(2451606.8584377), 1e-3);

    s = &r.signals[16];
    assert_int_equal(s->type, OZ_SIG_GAUSSIAN);
    assert_int_equal(s->fft_len, 16384);
    assert_true(s->freq_hz == 1418917957.8961);
    assert_true(s->chirp_hz_s == 39.173824038504);
    assert_true(s->power == 3.1083626747131);
    assert_true(s->mean_power == 0.57625639438629);
    assert_true(s->sigma_s == 3.5095455646515);
    assert_true(s->chisq == 1.4116749763489);
    assert_true(s->null_chisq == 2.1085500717163);
    assert_true(s->max_power == 9.5103559494019);
    assert_true(s->score == 0); /* v8's client writes 0 there */

    s = &r.best[OZ_SIG_PULSE];
    assert_int_equal(s->type, OZ_SIG_PULSE);
    assert_int_equal(s->fft_len, 512);
    assert_true(s->freq_hz == 1418918839.5513);
    assert_true(s->chirp_hz_s == -30.690968314047);
    assert_true(s->power == 5.9889302253723);
    assert_true(s->period_s == 2.3592972755432);
    assert_true(s->snr == 13.391654968262);
    assert_true(s->thresh == 13.4002161026);
    assert_true(s->len_prof == 45);
    near(s->time_s, ref_time(2451606.8594817), 1e-3);

    s = &r.best[OZ_SIG_TRIPLET];
    assert_int_equal(s->fft_len, 64);
    assert_true(s->period_s == 4.2041363716125);
    assert_true(r.best[OZ_SIG_SPIKE].power == 23.786548614502);
    assert_true(r.best[OZ_SIG_GAUSSIAN].max_power == 9.5516929626465);
    assert_true(r.best[OZ_SIG_AUTOCORR].delay_s == 2.6451981543415);

    /* The unit's start can come from the caller instead of the header. */
    oz_sci_result r2;
    oz_wu_sah_result_info info = {.start_jd = REF_JD - 1.0};
    assert_int_equal(oz_wu_sah_result_parse(xml, len, &info, &r2, why, sizeof why), 0);
    near(r2.signals[1].time_s, r.signals[1].time_s + 86400, 1e-3);
    oz_sci_result_clear(&r2);
    oz_sci_result_clear(&r);
    free(xml);
}

/* Reading v8's reference and writing it back with the unit's start, centre
 * and track gives the numbers v8 wrote: <freq>, <ra>, <decl> computed by us. */
static void what_we_write_for_the_reference_matches_v8(void **state)
{
    (void)state;
    size_t len, olen;
    char *xml = reference(&len), *out = NULL, why[256] = "";
    oz_sci_result r;
    assert_int_equal(oz_wu_sah_result_parse(xml, len, NULL, &r, why, sizeof why), 0);
    oz_wu_sah_coord coords[64];
    size_t nc = ref_coords(xml, coords, 64);
    assert_int_equal(nc, 22);
    const char *h0 = strstr(xml, "<workunit_header>"), *h1 = strstr(xml, "</workunit_header>");
    assert_true(h0 && h1);
    h1 += strlen("</workunit_header>");
    oz_wu_sah_result_info info = {.start_jd = REF_JD,
                                  .subband_hz = REF_CENTER,
                                  .coords = coords,
                                  .ncoords = nc,
                                  .workunit_header = h0,
                                  .workunit_header_len = (size_t)(h1 - h0)};
    int n = oz_wu_sah_result_write(&r, &info, &out, &olen, why, sizeof why);
    if (n < 0)
        fail_msg("%s", why);
    assert_int_equal(n, 0);
    assert_int_equal(strlen(out), olen);
    assert_non_null(strstr(out, "<setiathome_version>8.00</setiathome_version>\n</result>\n"));
    /* The header is copied verbatim. */
    assert_memory_equal(out + strlen("<result>\n"), h0, (size_t)(h1 - h0));

    static const struct {
        const char *tag;
        double tol;
    } cmp[] = {
        {"time", 1e-7},           /* v8 printed the JD to 1e-7 days */
        {"detection_freq", 1e-4}, /* and frequencies to 1e-4 Hz */
        {"freq", 0.25},           /* chirp (up to 50 Hz/s) times v8's time rounding (4 ms) */
        {"ra", 1e-5},             /* the track moves 6e-4 h/s: 4 ms is 2e-6 h */
        {"decl", 1e-4},
        {"peak_power", 0},
        {"chirp_rate", 0},
        {"fft_len", 0},
        {"period", 0},
        {"sigma", 0},
        {"delay", 0},
    };
    for (size_t k = 0; k < sizeof cmp / sizeof cmp[0]; k++) {
        double a[64], b[64];
        size_t na = values_of(xml, cmp[k].tag, a, 64), nb = values_of(out, cmp[k].tag, b, 64);
        assert_int_equal(na, nb);
        assert_true(na >= 2);
        for (size_t i = 0; i < na; i++)
            if (!(fabs(a[i] - b[i]) <= cmp[k].tol))
                fail_msg("<%s> #%zu: v8 wrote %.17g, we write %.17g", cmp[k].tag, i, a[i], b[i]);
    }
    /* No <pot>: Ozma keeps none. */
    assert_null(strstr(strstr(out, "</workunit_header>"), "<pot"));
    free(out);
    oz_sci_result_clear(&r);
    free(xml);
}

static void same_signal(const oz_signal *a, const oz_signal *b, bool has_score)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->fft_len, b->fft_len);
    near_rel(a->freq_hz, b->freq_hz);
    near_rel(a->chirp_hz_s, b->chirp_hz_s);
    near(a->time_s, b->time_s, 1e-3);
    near_rel(a->power, b->power);
    near_rel(a->mean_power, b->mean_power);
    near_rel(a->period_s, b->period_s);
    near_rel(a->sigma_s, b->sigma_s);
    near_rel(a->chisq, b->chisq);
    near_rel(a->null_chisq, b->null_chisq);
    near_rel(a->max_power, b->max_power);
    near_rel(a->delay_s, b->delay_s);
    near_rel(a->snr, b->snr);
    near_rel(a->thresh, b->thresh);
    near_rel(a->len_prof, b->len_prof);
    if (has_score)
        near_rel(a->score, b->score);
}

static bool carries_score(oz_sig_type t)
{
    return t == OZ_SIG_GAUSSIAN || t == OZ_SIG_PULSE;
}

static void sample(oz_sci_result *r)
{
    memset(r, 0, sizeof *r);
    r->nsignals = 6;
    r->signals = calloc(6, sizeof(oz_signal));
    assert_non_null(r->signals);
    r->signals[0] = (oz_signal){.type = OZ_SIG_SPIKE,
                                .fft_len = 131072,
                                .freq_hz = 1420405751.7861234,
                                .chirp_hz_s = -0.123456789012345,
                                .time_s = 53.687091,
                                .power = 31.25,
                                .mean_power = 1,
                                .score = 31.25 / 24};
    r->signals[1] = (oz_signal){.type = OZ_SIG_GAUSSIAN,
                                .fft_len = 16384,
                                .freq_hz = 1420000000.1,
                                .chirp_hz_s = 12.5,
                                .time_s = 40.000123,
                                .power = 3.7,
                                .mean_power = 0.51,
                                .score = 1.17,
                                .sigma_s = 3.5095455646515,
                                .chisq = 1.3,
                                .null_chisq = 2.4,
                                .max_power = 9.9};
    r->signals[2] = (oz_signal){.type = OZ_SIG_LINE,
                                .fft_len = 131072,
                                .freq_hz = 1420000100,
                                .time_s = 50,
                                .power = 9,
                                .score = 2,
                                .end_s = 100};
    r->signals[3] = (oz_signal){.type = OZ_SIG_PULSE,
                                .fft_len = 512,
                                .freq_hz = 1419999000.5,
                                .chirp_hz_s = -30.690968314047,
                                .time_s = 0.0625,
                                .power = 5.98,
                                .mean_power = 0.0332,
                                .score = 1.0001,
                                .period_s = 2.3592972755432,
                                .snr = 13.4,
                                .thresh = 13.39,
                                .len_prof = 45};
    r->signals[4] = (oz_signal){.type = OZ_SIG_TRIPLET,
                                .fft_len = 64,
                                .freq_hz = 1418918701.9642,
                                .chirp_hz_s = 0,
                                .time_s = 107.3,
                                .power = 10.88,
                                .mean_power = 0.0038,
                                .period_s = 4.2041363716125};
    r->signals[5] = (oz_signal){.type = OZ_SIG_AUTOCORR,
                                .fft_len = 131072,
                                .freq_hz = 1420001234.0,
                                .chirp_hz_s = 99.999,
                                .time_s = 13.4,
                                .power = 17.9,
                                .mean_power = 1,
                                .delay_s = 2.6451981543415};
    r->has_best[OZ_SIG_SPIKE] = true;
    r->best[OZ_SIG_SPIKE] = r->signals[0];
    r->has_best[OZ_SIG_PULSE] = true;
    r->best[OZ_SIG_PULSE] = r->signals[3];
    r->best[OZ_SIG_PULSE].score = 0.7;
    r->has_best[OZ_SIG_LINE] = true;
    r->best[OZ_SIG_LINE] = r->signals[2];
    snprintf(r->kernel_version, sizeof r->kernel_version, "%s", OZ_SCI_KERNEL_VERSION);
}

static const oz_wu_sah_coord track[] = {
    {2460000.5, 23.99, 10.0},
    {2460000.5005, 0.01, 10.2},
    {2460000.501, 0.03, 10.4},
};

static const oz_wu_sah_result_info sample_info = {
    .start_jd = 2460000.5, .subband_hz = 1420e6, .coords = track, .ncoords = 3};

static char *sample_xml(size_t *len)
{
    oz_sci_result r;
    char *out = NULL, why[256] = "";
    sample(&r);
    int n = oz_wu_sah_result_write(&r, &sample_info, &out, len, why, sizeof why);
    if (n < 0)
        fail_msg("%s", why);
    oz_sci_result_clear(&r);
    return out;
}

static void a_written_result_reads_back_the_same(void **state)
{
    (void)state;
    oz_sci_result a, b;
    char *out = NULL, why[256] = "";
    size_t len;
    sample(&a);
    /* One line signal and the best line are left out, and say so. */
    assert_int_equal(oz_wu_sah_result_write(&a, &sample_info, &out, &len, why, sizeof why), 2);
    assert_non_null(strstr(out, "<!-- 2 line signals left out"));
    assert_non_null(strstr(out, "<ozma_kernel_version>" OZ_SCI_KERNEL_VERSION "<"));
    /* v8's validator reads lines of at most 255 characters, one element each. */
    for (const char *p = out, *e; *p; p = e + 1) {
        e = strchr(p, '\n');
        assert_non_null(e);
        assert_true(e - p < 255);
    }
    /* <freq> is the frequency dechirped to the unit's start; autocorr's is the centre. */
    double f[8];
    assert_int_equal(values_of(out, "freq", f, 8), 7);
    near_rel(f[0], 1420405751.7861234 + 0.123456789012345 * 53.687091);
    near_rel(f[4], 1420e6);
    /* RA is interpolated in the track's segment, across 0 h, clamped at its end. */
    double ra[8], dec[8];
    assert_int_equal(values_of(out, "ra", ra, 8), 7);
    assert_int_equal(values_of(out, "decl", dec, 8), 7);
    near(ra[0], 0.01 + 0.02 * (53.687091 / 86400 - 0.0005) / 0.0005, 1e-7);
    near(dec[0], 10.2 + 0.2 * (53.687091 / 86400 - 0.0005) / 0.0005, 1e-6);
    near(ra[1], 23.99 + 0.02 * (40.000123 / 86400) / 0.0005 - 24, 1e-7);
    near(ra[2], 23.99 + 0.02 * (0.0625 / 86400) / 0.0005, 1e-7);
    near(ra[3], 0.03, 1e-12);
    near(dec[3], 10.4, 1e-12);

    int err = oz_wu_sah_result_parse(out, len, &sample_info, &b, why, sizeof why);
    if (err)
        fail_msg("%s", why);
    assert_int_equal(b.nsignals, 5);
    for (size_t i = 0, j = 0; i < a.nsignals; i++) {
        if (a.signals[i].type == OZ_SIG_LINE)
            continue;
        same_signal(&a.signals[i], &b.signals[j], carries_score(a.signals[i].type));
        j++;
    }
    assert_true(b.has_best[OZ_SIG_SPIKE] && b.has_best[OZ_SIG_PULSE]);
    assert_false(b.has_best[OZ_SIG_LINE] || b.has_best[OZ_SIG_GAUSSIAN]);
    same_signal(&a.best[OZ_SIG_SPIKE], &b.best[OZ_SIG_SPIKE], false);
    same_signal(&a.best[OZ_SIG_PULSE], &b.best[OZ_SIG_PULSE], true);
    assert_string_equal(b.kernel_version, OZ_SCI_KERNEL_VERSION);
    /* Only the JD costs precision: everything else reads back exactly. */
    assert_true(b.signals[0].freq_hz == a.signals[0].freq_hz);
    assert_true(b.signals[0].chirp_hz_s == a.signals[0].chirp_hz_s);
    near(b.signals[0].time_s, a.signals[0].time_s, 1e-4);
    oz_sci_result_clear(&b);
    free(out);

    /* With the unit's header copied in, no info is needed to read it back. */
    static const char header[] = "<workunit_header>\n<time_recorded_jd>2460000.5"
                                 "</time_recorded_jd>\n</workunit_header>";
    oz_wu_sah_result_info hinfo = sample_info;
    hinfo.workunit_header = header;
    hinfo.workunit_header_len = strlen(header);
    assert_int_equal(oz_wu_sah_result_write(&a, &hinfo, &out, &len, why, sizeof why), 2);
    assert_int_equal(oz_wu_sah_result_parse(out, len, NULL, &b, why, sizeof why), 0);
    same_signal(&a.signals[0], &b.signals[0], false);
    oz_sci_result_clear(&b);
    free(out);
    oz_sci_result_clear(&a);

    /* The reference, read, written and read again, is what it was. */
    size_t rlen;
    char *xml = reference(&rlen);
    assert_int_equal(oz_wu_sah_result_parse(xml, rlen, NULL, &a, why, sizeof why), 0);
    oz_wu_sah_result_info rinfo = {.start_jd = REF_JD, .subband_hz = REF_CENTER};
    assert_int_equal(oz_wu_sah_result_write(&a, &rinfo, &out, &len, why, sizeof why), 0);
    assert_int_equal(oz_wu_sah_result_parse(out, len, &rinfo, &b, why, sizeof why), 0);
    assert_int_equal(a.nsignals, b.nsignals);
    for (size_t i = 0; i < a.nsignals; i++)
        same_signal(&a.signals[i], &b.signals[i], true);
    for (int t = 0; t < OZ_SIG_NTYPES; t++) {
        assert_int_equal(a.has_best[t], b.has_best[t]);
        if (a.has_best[t])
            same_signal(&a.best[t], &b.best[t], true);
    }
    oz_sci_result_clear(&a);
    oz_sci_result_clear(&b);
    free(out);
    free(xml);
}

/* Replaces the first `from` in text with `to` (a new string). */
static char *edit(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    assert_non_null(p);
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t k = (size_t)(p - text);
    memcpy(out, text, k);
    memcpy(out + k, to, strlen(to));
    memcpy(out + k + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
    return out;
}

static void refused(const char *xml, size_t len, int code, const char *needle)
{
    oz_sci_result r;
    char why[256] = "";
    int err = oz_wu_sah_result_parse(xml, len, NULL, &r, why, sizeof why);
    if (err != code)
        fail_msg("expected %d for \"%s\", got %d (%s)", code, needle, err, why);
    one_line(why);
    if (!strstr(why, needle))
        fail_msg("\"%s\" does not mention \"%s\"", why, needle);
    assert_null(r.signals);
    assert_int_equal(r.nsignals, 0);
}

static void the_parser_refuses_what_a_stranger_might_send(void **state)
{
    (void)state;
    size_t len;
    char *xml = reference(&len);

    /* Edits of v8's reference, each breaking one rule. */
    static const struct {
        const char *from, *to, *needle;
    } lies[] = {
        {"  <chirp_rate>0.9168656437853</chirp_rate>\n",
         "  <chirp_rate>0.9168656437853</chirp_rate>\n  <colour>red</colour>\n",
         "unknown element <colour>"},
        {"<peak_power>22.395553588867<", "<peak_power>abc<", "not a number"},
        {"<peak_power>22.395553588867<", "<peak_power>22.4x<", "not a number"},
        {"<peak_power>22.395553588867<", "<peak_power>nan<", "not a number"},
        {"<peak_power>22.395553588867<", "<peak_power>1e999<", "not a finite number"},
        {"<peak_power>22.395553588867<", "<peak_power>1.2.3<", "not a finite number"},
        {"<peak_power>22.395553588867<", "<peak_power><", "no number"},
        {"  <detection_freq>1418919461.2933</detection_freq>\n", "", "lacks <detection_freq>"},
        {"  <period>0.54394906759262</period>\n", "", "lacks <period>"},
        {"<fft_len>128</fft_len>", "<fft_len>128</fft_len><fft_len>128</fft_len>",
         "<fft_len> twice"},
        {"<fft_len>128<", "<fft_len>100<", "power of two"},
        {"<fft_len>128<", "<fft_len>12.5<", "not an integer"},
        {"<time>2451606.8595251<", "<time>1234<", "Julian date"},
        /* A stranger's text in a message is shown on one line. */
        {"<time>2451606.8595251<", "<time>245160\n6.8595251<", "\"245160?6.8595251\""},
        {"<delay>2.6451981543415</delay>", "", "lacks <delay>"},
        {"<sigma>", "<sigma x=\"1\">", "takes no attributes"},
        {"<pot length=183 encoding=\"x-csv\">\n    7,9,", "<pot length=183>\n    7,<b>9,",
         "not a byte value"},
        {"</spike>", "</spik>", "expected </spike>"},
        {"<best_triplet>", "<best_quartet>", "unknown element <best_quartet>"},
        {"<best_triplet>", "<best_spike>", "a second <best_spike>"},
        {"<setiathome_version>8.00</setiathome_version>", "", "lacks <setiathome_version>"},
        {"<setiathome_version>8.00<", "<setiathome_version>v8<", "not a number"},
        {"</result>", "</result><result>", "text after </result>"},
        {"<time_recorded_jd>2451606.85836<", "<time_recorded_jd>soon<", "not a number"},
        {"<result>", "<resalt>", "expected <result>"},
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        char *bad = edit(xml, lies[i].from, lies[i].to);
        refused(bad, strlen(bad), OZ_WU_EFORMAT, lies[i].needle);
        free(bad);
    }

    /* Truncated anywhere: refused, never read past the end. */
    for (size_t cut = 0; cut < len; cut += 97)
        refused(xml, cut, OZ_WU_EFORMAT, "line");
    free(xml);
    size_t slen;
    char *small = sample_xml(&slen);
    for (size_t cut = 0; cut + 1 < slen; cut++) { /* all but the last newline */
        oz_sci_result r;
        char why[256] = "";
        assert_int_equal(oz_wu_sah_result_parse(small, cut, &sample_info, &r, why, sizeof why),
                         OZ_WU_EFORMAT);
        one_line(why);
    }
    free(small);

    /* 1001 signals. */
    static const char spike[] = "<spike>\n<peak_power>30</peak_power>\n<mean_power>1</mean_power>\n"
                                "<time>2451606.86</time>\n<freq>1420e6</freq>\n"
                                "<detection_freq>1420e6</detection_freq>\n<fft_len>8</fft_len>\n"
                                "<chirp_rate>0</chirp_rate>\n</spike>\n";
    static const char head[] = "<result>\n<workunit_header><time_recorded_jd>2451606.85"
                               "</time_recorded_jd></workunit_header>\n";
    static const char tail[] = "<setiathome_version>8.00</setiathome_version>\n</result>\n";
    size_t cap = sizeof head + 1001 * sizeof spike + sizeof tail, n = 0;
    char *many = malloc(cap);
    assert_non_null(many);
    n += (size_t)snprintf(many + n, cap - n, "%s", head);
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(many + n, cap - n, "%s", spike);
    n += (size_t)snprintf(many + n, cap - n, "%s", tail);
    oz_sci_result r;
    char why[256] = "";
    assert_int_equal(oz_wu_sah_result_parse(many, n, NULL, &r, why, sizeof why), 0);
    assert_int_equal(r.nsignals, 1000);
    near(r.signals[999].time_s, 0.01 * 86400, 1e-3);
    oz_sci_result_clear(&r);
    n -= strlen(tail);
    n += (size_t)snprintf(many + n, cap - n, "%s%s", spike, tail);
    refused(many, n, OZ_WU_ELIMIT, "more than 1000 signals");
    free(many);

    /* Too long to be a result; no header and no info; NUL inside. */
    static const char nohead[] = "<result>\n<setiathome_version>8</setiathome_version>\n"
                                 "</result>\n";
    assert_int_equal(oz_wu_sah_result_parse(nohead, strlen(nohead), NULL, &r, why, sizeof why), 0);
    refused(nohead, OZ_WU_RESULT_MAX + 1u, OZ_WU_ELIMIT, "more than");
    char withnul[] = "<result>\n<spike>\0</spike></result>";
    refused(withnul, sizeof withnul - 1, OZ_WU_EFORMAT, "expected an element");
    char *nojd = edit(head, "<time_recorded_jd>2451606.85</time_recorded_jd>", "");
    size_t dcap = strlen(nojd) + sizeof spike + sizeof tail;
    char *doc = malloc(dcap);
    assert_non_null(doc);
    snprintf(doc, dcap, "%s%s%s", nojd, spike, tail);
    refused(doc, strlen(doc), OZ_WU_EFORMAT, "no <time_recorded_jd>");
    free(doc);
    free(nojd);
}

static void the_writer_refuses_what_it_cannot_say(void **state)
{
    (void)state;
    oz_sci_result r;
    char *out = NULL, why[256] = "";
    size_t len = 7;
    sample(&r);
    oz_wu_sah_result_info info = sample_info;

    info.start_jd = 0;
    assert_int_equal(oz_wu_sah_result_write(&r, &info, &out, &len, why, sizeof why), OZ_WU_EINVAL);
    assert_null(out);
    assert_int_equal(len, 0);
    one_line(why);
    assert_non_null(strstr(why, "start_jd"));
    info = sample_info;

    r.signals[3].snr = NAN;
    assert_int_equal(oz_wu_sah_result_write(&r, &info, &out, &len, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "signals[3]: <snr>"));
    r.signals[3].snr = 1;
    r.best[OZ_SIG_SPIKE].time_s = INFINITY;
    assert_int_equal(oz_wu_sah_result_write(&r, &info, &out, &len, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "best.spike"));
    r.best[OZ_SIG_SPIKE].time_s = 1;

    oz_wu_sah_coord backwards[] = {{2460000.6, 1, 1}, {2460000.5, 1, 1}};
    info.coords = backwards;
    info.ncoords = 2;
    assert_int_equal(oz_wu_sah_result_write(&r, &info, &out, &len, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "coords[1]"));
    info = sample_info;

    info.workunit_header = "<workunit_header></workunit_header></result>";
    info.workunit_header_len = strlen(info.workunit_header);
    assert_int_equal(oz_wu_sah_result_write(&r, &info, &out, &len, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "workunit_header"));
    info = sample_info;

    snprintf(r.kernel_version, sizeof r.kernel_version, "a<b");
    assert_int_equal(oz_wu_sah_result_write(&r, &info, &out, &len, why, sizeof why), OZ_WU_EINVAL);
    assert_non_null(strstr(why, "kernel_version"));
    oz_sci_result_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_reference_result_reads_as_v8_reported_it),
        cmocka_unit_test(what_we_write_for_the_reference_matches_v8),
        cmocka_unit_test(a_written_result_reads_back_the_same),
        cmocka_unit_test(the_parser_refuses_what_a_stranger_might_send),
        cmocka_unit_test(the_writer_refuses_what_it_cannot_say),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
