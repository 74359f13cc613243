/*
 * test_wu_sah.c - SETI@home work units (workunits/sah.c, sah_config.c and
 * the .sah branch of reader.c): SETI@home's reference unit reads with the
 * header's values; a unit written here by an independent encoder (following
 * SETI@home's x_setiathome_encode and bits_to_floats, db/xml_util.h and
 * client/s_util.cpp) holding a tone of known sign comes out of Ozma's search
 * at the frequency v8 reports for it, which pins the conjugation; damaged
 * copies are refused with one line naming the problem.
 *
 * The reference unit is read from OZ_TEST_SETI_DIR (../shared/seti beside
 * the source tree, tests/CMakeLists.txt); those cases are skipped, saying
 * so, when it is absent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "ozma_workunits.h"

#ifndef OZ_TEST_SETI_DIR
#define OZ_TEST_SETI_DIR "../shared/seti"
#endif
#define REFERENCE OZ_TEST_SETI_DIR "/reference_work_unit.sah"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/oz_sah_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static bool have_reference(void)
{
    if (access(REFERENCE, R_OK) == 0)
        return true;
    fprintf(stderr, "skipped: %s is not here\n", REFERENCE);
    return false;
}

/* ---- a test-side encoder ------------------------------------------------------------------ */

/* Packs v8-decoded samples (i[k], q[k] in {-1, +1}) into bytes as the
 * splitter does: sample k in logical byte k/4 at bits 2*(k%4) (I the higher
 * bit, 1 for +1), logical byte b stored at b ^ 1. */
static unsigned char *pack(const int *i, const int *q, size_t n)
{
    size_t nbytes = n / 4;
    unsigned char *raw = calloc(nbytes, 1);
    assert_non_null(raw);
    for (size_t k = 0; k < n; k++) {
        unsigned bits = (unsigned)(i[k] > 0) << 1 | (unsigned)(q[k] > 0);
        raw[(k / 4) ^ 1] |= (unsigned char)(bits << (2 * (k % 4)));
    }
    return raw;
}

/* SETI@home's x-setiathome text for nbytes bytes: "\n", then four
 * characters per 3 bytes (zero padded), a newline after every 64, a final
 * newline. */
static char *encode(const unsigned char *raw, size_t nbytes, size_t *len)
{
    size_t groups = (nbytes + 2) / 3;
    char *t = malloc(2 + groups * 4 + groups * 4 / 64 + 1);
    assert_non_null(t);
    size_t o = 0, count = 0;
    t[o++] = '\n';
    for (size_t g = 0; g < groups; g++) {
        unsigned b[3];
        for (size_t j = 0; j < 3; j++)
            b[j] = 3 * g + j < nbytes ? raw[3 * g + j] : 0;
        unsigned v[4] = {b[0] & 63, (b[0] >> 6 | b[1] << 2) & 63, (b[1] >> 4 | b[2] << 4) & 63,
                         b[2] >> 2};
        for (size_t j = 0; j < 4; j++)
            t[o++] = (char)(v[j] + 0x20);
        if ((count += 4) == 64) {
            count = 0;
            t[o++] = '\n';
        }
    }
    t[o++] = '\n';
    t[o] = '\0';
    *len = o;
    return t;
}

#define BASE_HZ 1420000000.0
#define NCOORDS 3
#define TWO_PI 6.283185307179586

/* A whole .sah (the reference's layout, trimmed) around the samples. */
static char *make_sah(const int *i, const int *q, size_t n, size_t *len)
{
    unsigned char *raw = pack(i, q, n);
    size_t tlen;
    char *text = encode(raw, n / 4, &tlen);
    free(raw);
    char *out = NULL;
    size_t olen = 0;
    FILE *f = open_memstream(&out, &olen);
    assert_non_null(f);
    fprintf(f,
            "<workunit>\n<app_name>setiathome_v8</app_name>\n<workunit_header>\n"
            "<name>test.wu</name>\n<group_info>\n  <name>g</name>\n  <data_desc>\n"
            "    <start_ra>1.5</start_ra>\n    <start_dec>-20.25</start_dec>\n"
            "    <true_angle_range>0.5</true_angle_range>\n"
            "    <time_recorded_jd>2451545.0</time_recorded_jd>\n"
            "    <nsamples>%zu</nsamples>\n    <coords>\n",
            n);
    for (int k = 0; k < NCOORDS; k++)
        fprintf(f,
                "      <coordinate_t>\n        <time>%.5f</time>\n        <ra>%.3f</ra>\n"
                "        <dec>-20.25</dec>\n      </coordinate_t>\n",
                2451545.0 + 1e-4 * k, 1.5 + 0.01 * k);
    fprintf(f, "    </coords>\n  </data_desc>\n"
               "  <receiver_cfg>\n    <name>test_rx</name>\n    <beam_width>0.1</beam_width>\n"
               "    <latitude>18.35</latitude>\n    <longitude>-66.75</longitude>\n"
               "    <elevation>497.0</elevation>\n  </receiver_cfg>\n"
               "  <recorder_cfg>\n    <sample_rate>2500000.0</sample_rate>\n  </recorder_cfg>\n"
               "  <splitter_cfg>\n    <data_type>encoded</data_type>\n"
               "    <fft_len>2048</fft_len>\n    <ifft_len>8</ifft_len>\n"
               "    <wu_bits_per_sample>2</wu_bits_per_sample>\n  </splitter_cfg>\n"
               "  <analysis_cfg>\n");
    static const char *const fields[] = {"spike_thresh>24.0",
                                         "spikes_per_spectrum>1",
                                         "autocorr_thresh>17.8",
                                         "autocorr_per_spectrum>1",
                                         "autocorr_fftlen>4096",
                                         "gauss_null_chi_sq_thresh>2.1",
                                         "gauss_chi_sq_thresh>1.42",
                                         "gauss_power_thresh>3.0",
                                         "gauss_peak_power_thresh>3.2",
                                         "gauss_pot_length>64",
                                         "pulse_thresh>20.0",
                                         "pulse_display_thresh>0.5",
                                         "pulse_max>4096",
                                         "pulse_min>16",
                                         "pulse_fft_max>1024",
                                         "pulse_pot_length>256",
                                         "triplet_thresh>8.25",
                                         "triplet_min>16",
                                         "triplet_max>4096",
                                         "triplet_pot_length>256",
                                         "pot_overlap_factor>0.5",
                                         "pot_t_offset>1",
                                         "pot_min_slew>0.0021",
                                         "pot_max_slew>0.0105",
                                         "chirp_resolution>0.333",
                                         "analysis_fft_lengths>8128", /* 64 .. 4096 */
                                         "bsmooth_boxcar_length>512",
                                         "bsmooth_chunk_size>2048",
                                         "pulse_beams>1",
                                         "max_signals>30"};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        const char *gt = strchr(fields[k], '>');
        fprintf(f, "    <%s</%.*s>\n", fields[k], (int)(gt - fields[k]), fields[k]);
    }
    fprintf(f, "    <chirps>\n"
               "      <chirp_parameter_t><chirp_limit>2.0</chirp_limit>"
               "<fft_len_flags>8128</fft_len_flags></chirp_parameter_t>\n"
               "      <chirp_parameter_t><chirp_limit>5.0</chirp_limit>"
               "<fft_len_flags>4032</fft_len_flags></chirp_parameter_t>\n"
               "    </chirps>\n  </analysis_cfg>\n</group_info>\n"
               "<subband_desc>\n  <number>7</number>\n  <center>1420004272.46</center>\n"
               "  <base>1420000000.0</base>\n  <sample_rate>9765.62</sample_rate>\n"
               "</subband_desc>\n</workunit_header>\n");
    fprintf(f, "<data length=%zu encoding=\"x-setiathome\">%s</data>\n</workunit>\n", tlen, text);
    assert_int_equal(fclose(f), 0);
    free(text);
    *len = olen;
    return out;
}

/* A v8-decoded tone exp(+2 pi i f t), hard-limited to the 2-bit code. */
static char *make_tone(size_t n, double f, size_t *len)
{
    int *i = malloc(n * sizeof *i), *q = malloc(n * sizeof *q);
    assert_non_null(i);
    assert_non_null(q);
    for (size_t k = 0; k < n; k++) {
        double ph = TWO_PI * f * (double)k / OZ_TEST_FS + 0.3;
        i[k] = cos(ph) >= 0 ? 1 : -1;
        q[k] = sin(ph) >= 0 ? 1 : -1;
    }
    char *s = make_sah(i, q, n, len);
    free(i);
    free(q);
    return s;
}

/* ---- the reference unit ------------------------------------------------------------------ */

static void reference_unit_reads_with_its_header_values(void **state)
{
    (void)state;
    if (!have_reference())
        skip();
    char why[512] = "";
    oz_wu_reader *r = NULL;
    int rc = oz_wu_open(REFERENCE, NULL, &r, why, sizeof why);
    if (rc != OZ_WU_OK)
        fail_msg("%s", why);
    const oz_wu_info *info = oz_wu_reader_info(r);
    const oz_wu_sah *h = oz_wu_reader_sah(r);
    assert_non_null(h);
    assert_int_equal(info->format, OZ_WU_CI8);
    assert_int_equal(info->nsamples, 1048576);
    /* the header's printed rate, which v8 computes everything from (sah.c) */
    assert_true(info->sample_rate == 9765.62); /* as v8 reads it */
    assert_true(h->subband_sample_rate == 9765.62);
    assert_true(info->center_hz == 1418916015.62); /* subband_base, not center */
    assert_true(h->subband_center == 1418920288.09);
    assert_int_equal(h->subband_number, 145);
    assert_true(info->has_time);
    int64_t t; /* JD 2451606.85836, to the double's precision */
    assert_int_equal(oz_wu_time_parse("2000-03-03T08:36:02.304Z", &t, why, sizeof why), 0);
    assert_true(llabs(info->start_ns - t) < 100000);
    assert_string_equal(h->name, "reference.wu");
    assert_true(h->true_angle_range == 0.775);
    assert_int_equal(h->ncoords, 22);
    assert_true(h->coords[0].time_jd == 2451606.85836);
    assert_true(h->coords[0].ra_hours == 14.853);
    assert_true(h->coords[0].dec_deg == 28.55);
    assert_true(h->coords[21].time_jd == 2451606.85957);
    assert_true(h->coords[21].ra_hours == 14.911);
    assert_true(h->coords[21].dec_deg == 28.58);
    assert_true(info->has_sky && fabs(info->ra_deg - 14.853 * 15) < 1e-9);
    assert_string_equal(h->receiver, "ao_1420");
    assert_true(h->beam_width == 0.1 && h->latitude == 18.3538056);
    assert_true(h->longitude == -66.7552222 && h->elevation == 497.0);
    assert_int_equal(h->wu_bits_per_sample, 2);

    const oz_wu_sah_analysis *a = &h->analysis;
    assert_true(a->spike_thresh == 22.0);
    assert_int_equal(a->spikes_per_spectrum, 1);
    assert_true(a->autocorr_thresh == 17.8);
    assert_int_equal(a->autocorr_fftlen, 131072);
    assert_true(a->gauss_null_chi_sq_thresh == 2.1 && a->gauss_chi_sq_thresh == 1.42);
    assert_true(a->gauss_power_thresh == 3.0 && a->gauss_peak_power_thresh == 3.2);
    assert_int_equal(a->gauss_pot_length, 64);
    assert_true(a->pulse_thresh == 20.0 && a->pulse_display_thresh == 0.5);
    assert_int_equal(a->pulse_max, 40960);
    assert_int_equal(a->pulse_min, 16);
    assert_int_equal(a->pulse_fft_max, 8192);
    assert_int_equal(a->pulse_pot_length, 256);
    assert_true(a->triplet_thresh == 8.25);
    assert_int_equal(a->triplet_min, 16);
    assert_int_equal(a->triplet_max, 131072);
    assert_int_equal(a->triplet_pot_length, 256);
    assert_true(a->pot_overlap_factor == 0.5 && a->pot_t_offset == 1);
    assert_true(a->pot_min_slew == 0.0021 && a->pot_max_slew == 0.0105);
    assert_true(a->chirp_resolution == 0.333);
    assert_int_equal(a->analysis_fft_lengths, 262136);
    assert_int_equal(a->bsmooth_boxcar_length, 8192);
    assert_int_equal(a->bsmooth_chunk_size, 32768);
    assert_true(a->pulse_beams == 1);
    assert_int_equal(a->max_signals, 30);
    assert_int_equal(a->nchirps, 2);
    assert_true(a->chirps[0].chirp_limit == 20.0);
    assert_int_equal(a->chirps[0].fft_len_flags, 262136);
    assert_true(a->chirps[1].chirp_limit == 50.0);
    assert_int_equal(a->chirps[1].fft_len_flags, 65528);

    /* the samples: only (±1, ±1)/128, every sample of power 2/128^2, and
     * the noise the recorder digitised is balanced */
    size_t n = (size_t)info->nsamples, got;
    float *iq = malloc(2 * n * sizeof *iq);
    assert_non_null(iq);
    assert_int_equal(oz_wu_reader_read(r, iq, n, &got, why, sizeof why), 0);
    assert_int_equal(got, n);
    double p = 0, mi = 0, mq = 0;
    size_t count[4] = {0};
    for (size_t k = 0; k < n; k++) {
        float x = iq[2 * k], y = iq[2 * k + 1];
        assert_true(fabsf(x) == 1.0f / 128 && fabsf(y) == 1.0f / 128);
        count[(x > 0) * 2 + (y > 0)]++;
        p += (double)x * x + (double)y * y;
        mi += x;
        mq += y;
    }
    assert_true(fabs(p / (double)n - 2.0 / 16384) < 1e-12);
    assert_true(fabs(mi / (double)n) < 0.01 / 128 && fabs(mq / (double)n) < 0.01 / 128);
    for (int k = 0; k < 4; k++)
        assert_true(count[k] > n / 5);
    free(iq);

    /* its configuration: v8's, read as v8 reads it */
    oz_sci_config cfg;
    assert_int_equal(oz_wu_sah_config(h, &cfg, why, sizeof why), 0);
    assert_int_equal(cfg.mode, OZ_MODE_SETI);
    assert_int_equal(cfg.fft_min, 8);
    assert_int_equal(cfg.fft_max, 131072);
    assert_true(cfg.chirp_max == 50.0 && cfg.spike_thresh == 22.0);
    /* <chirps>: 20 Hz/s for every length (262136), 50 for 8..32768 (65528) */
    assert_true(oz_sci_chirp_limit(&cfg, 32768) == 50.0);
    assert_true(oz_sci_chirp_limit(&cfg, 8) == 50.0);
    assert_true(oz_sci_chirp_limit(&cfg, 65536) == 20.0);
    assert_true(oz_sci_chirp_limit(&cfg, 131072) == 20.0);
    assert_true(cfg.chirp_resolution == 0.333);
    assert_int_equal(cfg.max_signals, 30);
    assert_int_equal(cfg.planner, OZ_FFT_MEASURE);
    assert_int_equal(cfg.bsmooth_boxcar, 8192);
    assert_int_equal(cfg.bsmooth_chunk, 32768);
    /* v8 scales the beam by receiver / subband frequency (seti_header.cpp) */
    assert_true(fabs(cfg.seti.beam_width - 0.1 * 1420e6 / 1418920288.09) < 1e-15);
    assert_true(cfg.seti.angle_range == 0.775);
    assert_int_equal(cfg.seti.ifft_len, 8);
    assert_true(fabs(cfg.seti.center_offset_hz - (1418920288.09 - 1418916015.62)) < 1e-6);
    assert_true(cfg.seti.pulse_thresh == 20 && cfg.seti.triplet_thresh == 8.25);
    assert_int_equal(cfg.seti.autocorr_fftlen, 131072);
    assert_true(cfg.seti.pot_min_slew == 0.0021 && cfg.seti.pot_max_slew == 0.0105);

    /* what Ozma's seti mode cannot do is refused, not searched otherwise */
    oz_wu_sah bad = *h;
    bad.analysis.analysis_fft_lengths = 262136 & ~(1u << 10);
    assert_int_equal(oz_wu_sah_config(&bad, &cfg, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "skips lengths"));
    bad = *h;
    bad.analysis.spikes_per_spectrum = 2;
    assert_int_equal(oz_wu_sah_config(&bad, &cfg, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "spikes_per_spectrum"));
    bad = *h;
    bad.analysis.nchirps = 1;
    bad.analysis.chirps[0].fft_len_flags = 65528;
    assert_int_equal(oz_wu_sah_config(&bad, &cfg, why, sizeof why), OZ_WU_EFORMAT);
    assert_non_null(strstr(why, "no row in <chirps>"));
    oz_wu_reader_close(r);
}

/* ---- the conjugation, pinned --------------------------------------------------------------- */

/*
 * v8 transforms with FFTW_BACKWARD and names bin k (k < L/2) base + k fs/L,
 * bin k >= L/2 base + (k - L) fs/L (client/seti_header.cpp).  A tone that
 * v8 decodes as exp(+2 pi i f t) lands in its bin L - f L/fs: v8 reports it
 * at base - f.  Ozma's forward FFT of the reader's (conjugated) samples
 * must find it there too, and nothing at base + f.
 */
static void a_tone_comes_out_where_v8_reports_it(void **state)
{
    (void)state;
    size_t n = 16384, len;
    double f = OZ_TEST_FS * 1000.0 / 4096; /* on a bin of every length up to 4096 */
    char *text = make_tone(n, f, &len);
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/tone.dat", dir); /* found by its content */
    put_file(path, text, len);
    free(text);
    oz_wu_reader *r = NULL;
    int rc = oz_wu_open(path, NULL, &r, why, sizeof why);
    if (rc != OZ_WU_OK)
        fail_msg("%s", why);
    assert_non_null(oz_wu_reader_sah(r));
    const oz_wu_info *info = oz_wu_reader_info(r);
    assert_true(info->sample_rate == 9765.62);
    assert_true(info->center_hz == BASE_HZ);
    assert_string_equal(info->name, "tone");
    float *iq = malloc(2 * n * sizeof *iq);
    size_t got;
    assert_int_equal(oz_wu_reader_read(r, iq, n, &got, why, sizeof why), 0);
    assert_int_equal(got, n);

    /* the plain transform at the two frequencies (Ozma's forward sign) */
    double re[2] = {0}, im[2] = {0};
    for (size_t k = 0; k < n; k++)
        for (int s = 0; s < 2; s++) {
            double ph = -TWO_PI * (s ? f : -f) * (double)k / OZ_TEST_FS;
            re[s] += iq[2 * k] * cos(ph) - iq[2 * k + 1] * sin(ph);
            im[s] += iq[2 * k] * sin(ph) + iq[2 * k + 1] * cos(ph);
        }
    double p_neg = re[0] * re[0] + im[0] * im[0], p_pos = re[1] * re[1] + im[1] * im[1];
    assert_true(p_neg > 1000 * p_pos);

    /* and the search */
    oz_sci_config cfg;
    oz_test_config_small(&cfg);
    oz_sci_result res;
    oz_test_search(&cfg, iq, n, info->sample_rate, info->center_hz, &res);
    double bin = OZ_TEST_FS / 4096;
    const oz_signal *s = oz_test_find(&res, OZ_SIG_SPIKE, BASE_HZ - f, 1.5 * bin);
    if (!s)
        oz_test_dump(&res);
    assert_non_null(s);
    assert_null(oz_test_find(&res, OZ_SIG_SPIKE, BASE_HZ + f, 3 * bin));
    oz_sci_result_clear(&res);
    free(iq);
    oz_wu_reader_close(r);
}

/* ---- damage ------------------------------------------------------------------------------ */

/* Parses text in memory; expects a refusal whose one-line message holds
 * `want`. */
static void refused(const char *text, size_t len, const char *want)
{
    char why[512] = "";
    oz_wu_sah *h = malloc(sizeof *h);
    int8_t *iq = NULL;
    assert_non_null(h);
    int rc = oz_wu_sah_parse(text, len, "bad.sah", h, &iq, why, sizeof why);
    if (rc == OZ_WU_OK || !strstr(why, want) || strchr(why, '\n') ||
        strncmp(why, "bad.sah: ", 9) != 0)
        fail_msg("rc %d, message \"%s\", wanted \"%s\"", rc, why, want);
    assert_null(iq);
    free(h);
}

/* The text with [at, at + cut) replaced by ins. */
static char *splice(const char *text, size_t len, size_t at, size_t cut, const char *ins,
                    size_t *out_len)
{
    size_t m = strlen(ins);
    char *s = malloc(len - cut + m + 1);
    assert_non_null(s);
    memcpy(s, text, at);
    memcpy(s + at, ins, m);
    memcpy(s + at + m, text + at + cut, len - at - cut);
    *out_len = len - cut + m;
    s[*out_len] = '\0';
    return s;
}

static size_t offset_of(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    assert_non_null(p);
    return (size_t)(p - text);
}

static void the_test_unit_itself_reads(void **state)
{
    (void)state;
    size_t len;
    char *text = make_tone(4096, 100.0, &len);
    char why[512] = "";
    oz_wu_sah *h = malloc(sizeof *h);
    int8_t *iq = NULL;
    int rc = oz_wu_sah_parse(text, len, "ok.sah", h, &iq, why, sizeof why);
    if (rc != OZ_WU_OK)
        fail_msg("%s", why);
    assert_int_equal(h->ncoords, NCOORDS);
    assert_true(h->sample_rate == 9765.62);
    assert_non_null(iq);
    free(iq);
    free(h);
    free(text);
}

static void damaged_units_are_refused_with_one_line(void **state)
{
    (void)state;
    size_t len, n;
    char *text = make_tone(4096, 100.0, &len);
    size_t data = offset_of(text, "encoding=\"x-setiathome\">") + 24;
    char *bad;

    /* a flipped character, outside the alphabet */
    bad = splice(text, len, data + 70, 1, "a", &n);
    refused(bad, n, "outside the x-setiathome alphabet");
    refused(bad, n, "column");
    free(bad);
    bad = splice(text, len, data + 70, 1, "\r", &n);
    refused(bad, n, "(0x0d)");
    free(bad);
    /* a line structure that breaks: a character moved to the next line */
    bad = splice(text, len, data + 64, 2, "\nA", &n);
    refused(bad, n, "a short payload line");
    free(bad);
    bad = splice(text, len, data + 1, 1, "", &n); /* 63 then 64 */
    refused(bad, n, "payload line");
    free(bad);
    /* a payload with one line fewer: length= and nsamples disagree */
    bad = splice(text, len, data + 1, 65, "", &n);
    refused(bad, n, "but the payload holds");
    free(bad);
    /* a truncated file */
    refused(text, data + 500, "has no </data>");
    /* length= that lies */
    {
        char num[32];
        size_t at = offset_of(text, "<data length=") + 13;
        size_t digits = strspn(text + at, "0123456789");
        unsigned long v = strtoul(text + at, NULL, 10);
        snprintf(num, sizeof num, "%lu", v + 1);
        bad = splice(text, len, at, digits, num, &n);
        refused(bad, n, "but the payload holds");
        free(bad);
        snprintf(num, sizeof num, "\"%lu\"", v);
        bad = splice(text, len, at, digits, num, &n);
        char why[512] = "";
        oz_wu_sah *h = malloc(sizeof *h);
        assert_int_equal(oz_wu_sah_parse(bad, n, "q.sah", h, NULL, why, sizeof why), 0);
        free(h);
        free(bad);
    }
    /* nsamples that lies, or is no power of two, or too large */
    bad = splice(text, len, offset_of(text, "<nsamples>4096"), 14, "<nsamples>8192", &n);
    refused(bad, n, "nsamples 8192 needs");
    free(bad);
    bad = splice(text, len, offset_of(text, "<nsamples>4096"), 14, "<nsamples>4000", &n);
    refused(bad, n, "not a power of two");
    free(bad);
    bad = splice(text, len, offset_of(text, "<nsamples>4096"), 14, "<nsamples>8388608", &n);
    refused(bad, n, "not a power of two in");
    free(bad);
    /* a missing </data> */
    bad = splice(text, len, offset_of(text, "</data>"), 7, "", &n);
    refused(bad, n, "<data> has no </data>");
    free(bad);
    /* the header: numbers, required fields, repeats, encodings */
    bad = splice(text, len, offset_of(text, "24.0</spike"), 4, "24x", &n);
    refused(bad, n, "<spike_thresh> \"24x\" is not a finite number");
    free(bad);
    bad = splice(text, len, offset_of(text, "24.0</spike"), 4, "nan", &n);
    refused(bad, n, "is not a finite number");
    free(bad);
    bad = splice(text, len, offset_of(text, "<max_signals>"), 29, "", &n);
    refused(bad, n, "<analysis_cfg> has no <max_signals>");
    free(bad);
    bad = splice(text, len, offset_of(text, "<number>"), 0, "<base>1</base>", &n);
    refused(bad, n, "<base> appears twice");
    free(bad);
    bad = splice(text, len, offset_of(text, "x-setiathome\""), 12, "x-base64", &n);
    refused(bad, n, "is not x-setiathome");
    free(bad);
    bad = splice(text, len, offset_of(text, "<wu_bits_per_sample>2"), 21, "<wu_bits_per_sample>4",
                 &n);
    refused(bad, n, "wu_bits_per_sample 4 is not supported");
    free(bad);
    bad = splice(text, len, offset_of(text, "<ra>1.510"), 9, "<ra>24.5", &n);
    refused(bad, n, "is outside 1900..2200");
    free(bad);
    bad = splice(text, len, offset_of(text, "</workunit>"), 0, "junk", &n);
    refused(bad, n, "text outside any element");
    free(bad);
    refused(text, 0, "no <workunit_header>");
    free(text);
}

static void too_many_coordinates_are_refused(void **state)
{
    (void)state;
    size_t len, n;
    char *text = make_tone(4096, 100.0, &len);
    size_t at = offset_of(text, "    </coords>");
    const char *one = "<coordinate_t><time>2451545.1</time><ra>1</ra><dec>2</dec></coordinate_t>";
    size_t m = strlen(one) * (OZ_WU_TRACK_MAX + 1) + 1;
    char *many = malloc(m);
    assert_non_null(many);
    many[0] = '\0';
    for (unsigned k = 0; k <= OZ_WU_TRACK_MAX; k++)
        strcat(many, one);
    char *bad = splice(text, len, at, 0, many, &n);
    refused(bad, n, "more than 512 <coordinate_t>");
    free(bad);
    free(many);
    free(text);
}

static void a_damaged_file_is_named_in_the_message(void **state)
{
    (void)state;
    size_t len, n;
    char *text = make_tone(4096, 100.0, &len);
    char *bad = splice(text, len, offset_of(text, "</data>") - 10, 1, "z", &n);
    char path[128], why[512] = "";
    snprintf(path, sizeof path, "%s/damaged.sah", dir);
    put_file(path, bad, n);
    oz_wu_reader *r = NULL;
    assert_int_equal(oz_wu_open(path, NULL, &r, why, sizeof why), OZ_WU_EFORMAT);
    assert_null(r);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, ": line "));
    assert_null(strchr(why, '\n'));
    free(bad);
    free(text);
}

static void other_readers_have_no_sah_header(void **state)
{
    (void)state;
    char path[128], why[256] = "";
    snprintf(path, sizeof path, "%s/plain.cf32", dir);
    float z[16] = {0};
    put_file(path, (const char *)z, sizeof z);
    oz_wu_raw_params p = {.format = OZ_WU_CF32, .sample_rate = 1000, .center_hz = 0};
    oz_wu_reader *r = NULL;
    assert_int_equal(oz_wu_open(path, &p, &r, why, sizeof why), 0);
    assert_null(oz_wu_reader_sah(r));
    oz_wu_reader_close(r);
    assert_null(oz_wu_reader_sah(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_unit_reads_with_its_header_values),
        cmocka_unit_test(a_tone_comes_out_where_v8_reports_it),
        cmocka_unit_test(the_test_unit_itself_reads),
        cmocka_unit_test(damaged_units_are_refused_with_one_line),
        cmocka_unit_test(too_many_coordinates_are_refused),
        cmocka_unit_test(a_damaged_file_is_named_in_the_message),
        cmocka_unit_test(other_readers_have_no_sah_header),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
