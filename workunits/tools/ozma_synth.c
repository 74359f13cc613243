/*
 * ozma_synth.c - `ozma-synth`: write a synthetic SigMF recording of complex
 * Gaussian noise with injected signals, and a truth file listing them.
 *
 * Tests, the demo and the benchmarks build their recordings with it, so it
 * is exact and reproducible: a seed names the samples, every signal is given
 * as key=value pairs (frequency offset from the centre, drift, SNR, times,
 * period...), and the truth file (JSON) gives each injected signal's absolute
 * frequency at its reference time, its extent and SNR, for comparison with a
 * search result.  Samples are generated and written in chunks
 * (workunits/lib/synth.c), so a recording of any length takes constant memory.
 *
 * Exit status: 0 written; 1 a runtime failure (I/O, memory); 2 bad usage or
 * a bad signal description, with one line on stderr naming the flag.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ozma_workunits.h"
#include "ozma_cli.h"

#define PROG "ozma-synth"
#define MAX_SIGNALS 256

static const char usage_text[] =
    "NAME\n"
    "    ozma-synth - write a synthetic SigMF recording with injected signals\n"
    "\n"
    "SYNOPSIS\n"
    "    ozma-synth --out STEM [options] [--spike SPEC]... [--gaussian SPEC]...\n"
    "               [--pulse SPEC]... [--triplet SPEC]...\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes STEM.sigmf-meta and STEM.sigmf-data: complex Gaussian noise plus\n"
    "    the signals given, and STEM.truth.json listing them (absolute frequency\n"
    "    at the reference time time_s, drift, extent t_start..t_end, SNR).\n"
    "\n"
    "OPTIONS\n"
    "    --out STEM            recording name (required)\n"
    "    --samples N           length in samples, decimal or 2^k (default 2^20)\n"
    "    --sample-rate HZ      default 9765.625 (SETI@home)\n"
    "    --center-freq HZ      default 1420e6\n"
    "    --datatype T          ci8, ci16_le, ci16_be, cf32_le (default), cf32_be\n"
    "    --rms-lsb X           integer types: noise rms per component in LSBs\n"
    "                          (default full scale / 8: 16 for ci8, 4096 for ci16)\n"
    "    --noise-power P       E|z|^2 of the noise (default 1; 0 for none)\n"
    "    --seed N              random seed (default 1)\n"
    "    --datetime ISO        start time, e.g. 2024-05-01T12:00:00Z\n"
    "    --ra DEG --dec DEG    sky position (written as ozma:ra_deg/ozma:dec_deg)\n"
    "    --site LAT,LON,ALT_M  the observatory (written as core:geolocation)\n"
    "    --point T,RA,DEG      a pointing track: from T seconds on the beam points\n"
    "                          at RA, DEC (repeat; the first at T = 0; written as\n"
    "                          one capture per point)\n"
    "    --truth FILE          truth file (default STEM.truth.json)\n"
    "    -q, --quiet           no progress bar and no summary line\n"
    "    -h, --help            this text\n"
    "\n"
    "SIGNALS (SPEC is comma-separated key=value)\n"
    "    --spike f=HZ,drift=HZ_S,snr=S[,start=S,end=S]     drifting tone (also --tone;\n"
    "                                                      --line: the same, listed\n"
    "                                                      as a line in the truth)\n"
    "    --gaussian f=HZ,drift=HZ_S,snr=S,t=S[,sigma=S]    beam crossing centred at t\n"
    "                                                      (sigma default 4 s)\n"
    "    --pulse f=HZ,drift=HZ_S,snr=S,t=S,period=S,width=S[,end=S]\n"
    "                                                      pulses from t, every period\n"
    "    --triplet f=HZ,drift=HZ_S,snr=S,t=S,period=S,width=S   three pulses\n"
    "    A --spike with sky=1 is a transmitter fixed in the sky, at the\n"
    "    pointing (--ra/--dec or the first --point): f is its barycentric\n"
    "    frequency's offset from the centre, and the tone written is that\n"
    "    frequency Doppler-shifted to the site (--site, --datetime required) at\n"
    "    t = 0, drifting by drift plus the shift's own rate over the recording.\n"
    "    A terrestrial carrier is a plain --spike with drift=0.\n"
    "    f is the offset from the centre frequency at t = 0; snr is the signal's\n"
    "    per-sample power over the noise power (a tone stands snr * L above the\n"
    "    noise in an FFT of length L).\n"
    "\n"
    "OUTPUT\n"
    "    While writing, a progress bar on standard error when it is a terminal;\n"
    "    then one summary line on standard output: the files, the samples, the\n"
    "    duration, the signals injected and the time taken.\n"
    "\n"
    "EXAMPLE\n"
    "    ozma-synth --out rec --samples 2^20 --datatype ci16_le \\\n"
    "        --datetime 2024-05-01T12:00:00Z --spike f=1200,drift=0.5,snr=0.02\n";

/* The progress bar: at most ten redraws a second, on a terminal only. */
typedef struct bar {
    double t0, last;
} bar;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bar_draw(void *arg, uint64_t done, uint64_t total)
{
    bar *b = arg;
    double now = mono_s();
    if (done < total && now - b->last < 0.1)
        return;
    b->last = now;
    double f = total ? (double)done / (double)total : 1.0;
    int w = (int)(f * 30.0 + 0.5);
    fprintf(stderr, "\r" PROG ": [%-30.*s] %5.1f%% %.1f s", w, "##############################",
            100.0 * f, now - b->t0);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int parse_u64(const char *flag, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (text[0] == '2' && text[1] == '^') {
        unsigned long k = strtoul(text + 2, &end, 10);
        if (end == text + 2 || *end || errno || k > 62)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not 2^k with k <= 62", flag,
                                   text);
        *out = (uint64_t)1 << k;
        return EXIT_OK;
    }
    if (text[0] < '0' || text[0] > '9')
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not a whole number", flag, text);
    unsigned long long v = strtoull(text, &end, 10);
    if (*end || errno)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not a whole number", flag, text);
    *out = v;
    return EXIT_OK;
}

/* Parses "f=1200,drift=0.5,snr=0.02,..." into *in for type t. */
static int parse_spec(const char *flag, oz_sig_type t, const char *spec, oz_wu_inject *in,
                      bool *sky)
{
    memset(in, 0, sizeof *in);
    double skyv = 0;
    if (sky)
        *sky = false;
    in->type = t;
    /* spikes and persistent lines are both drifting tones */
    bool tone = t != OZ_SIG_GAUSSIAN && t != OZ_SIG_PULSE && t != OZ_SIG_TRIPLET;
    in->sigma_s = 4.0;
    bool have_f = false, have_snr = false, have_t = false, have_period = false, have_width = false;
    char buf[512];
    if (strlen(spec) >= sizeof buf)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: description too long", flag);
    memcpy(buf, spec, strlen(spec) + 1);
    char *save = NULL;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: \"%s\" is not key=value", flag, kv);
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        char what[64];
        snprintf(what, sizeof what, "%s %s", flag, k);
        double *dst = NULL;
        if (strcmp(k, "f") == 0) {
            dst = &in->offset_hz;
            have_f = true;
        } else if (strcmp(k, "drift") == 0) {
            dst = &in->chirp_hz_s;
        } else if (strcmp(k, "sky") == 0 && t == OZ_SIG_SPIKE && sky) {
            dst = &skyv;
        } else if (strcmp(k, "snr") == 0) {
            dst = &in->snr;
            have_snr = true;
        } else if (strcmp(k, "t") == 0 && !tone) {
            dst = &in->t0;
            have_t = true;
        } else if (strcmp(k, "start") == 0 && tone) {
            dst = &in->t_start;
        } else if (strcmp(k, "end") == 0 && (tone || t == OZ_SIG_PULSE)) {
            dst = &in->t_end;
        } else if (strcmp(k, "sigma") == 0 && t == OZ_SIG_GAUSSIAN) {
            dst = &in->sigma_s;
        } else if (strcmp(k, "period") == 0 && (t == OZ_SIG_PULSE || t == OZ_SIG_TRIPLET)) {
            dst = &in->period_s;
            have_period = true;
        } else if (strcmp(k, "width") == 0 && (t == OZ_SIG_PULSE || t == OZ_SIG_TRIPLET)) {
            dst = &in->width_s;
            have_width = true;
        } else {
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: unknown key \"%s\" for a %s", flag, k,
                                   oz_sig_type_name(t));
        }
        int rc = oz_cli_parse_double(PROG, what, v, dst);
        if (rc != EXIT_OK)
            return rc;
    }
    if (!have_f || !have_snr)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: f= and snr= are required", flag);
    if (skyv != 0 && skyv != 1)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: sky= is 0 or 1", flag);
    if (sky)
        *sky = skyv == 1;
    if (!tone && !have_t)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: t= is required", flag);
    if (t == OZ_SIG_PULSE && in->t_end > 0)
        in->t_start = in->t0;
    if ((t == OZ_SIG_PULSE || t == OZ_SIG_TRIPLET) && (!have_period || !have_width))
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s: period= and width= are required", flag);
    return EXIT_OK;
}

/* A sky-fixed transmitter's tone as the site sees it: in->offset_hz holds
 * its barycentric offset from the centre; it becomes the topocentric
 * offset at t = 0, and the Doppler factor's change over the recording is
 * added to its drift (linear: over minutes the change is a straight line to
 * far better than a bin). */
static int sky_fixed(const oz_wu_synth *s, const char *datetime, oz_wu_inject *in)
{
    char why[256];
    int64_t t0;
    if (!s->has_site || !datetime || !(s->has_sky || s->ntrack > 0))
        return oz_cli_complain(PROG, EXIT_BADINPUT,
                               "a sky=1 tone needs --site, --datetime and --ra/--dec or --point");
    if (oz_wu_time_parse(datetime, &t0, why, sizeof why) != OZ_WU_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--datetime: %s", why);
    double ra = s->ntrack ? s->track[0].ra_deg : s->ra_deg;
    double dec = s->ntrack ? s->track[0].dec_deg : s->dec_deg;
    double T = (double)s->nsamples / s->sample_rate, z0, z1;
    if (oz_wu_sky_doppler(&s->site, NULL, t0, ra, dec, &z0) != OZ_WU_OK ||
        oz_wu_sky_doppler(&s->site, NULL, oz_wu_time_add(t0, T), ra, dec, &z1) != OZ_WU_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--datetime %s: no Doppler shift for it",
                               datetime);
    double f_bary = s->center_hz + in->offset_hz;
    in->offset_hz = f_bary * z0 - s->center_hz;
    in->chirp_hz_s += f_bary * (z1 - z0) / T;
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    static oz_wu_inject inj[MAX_SIGNALS];
    static bool skyfixed[MAX_SIGNALS];
    static oz_wu_pointing track[OZ_WU_POINTING_MAX];
    oz_wu_synth s = {.sample_rate = 9765.625,
                     .center_hz = 1420e6,
                     .nsamples = 1u << 20,
                     .seed = 1,
                     .noise_power = 1.0,
                     .inj = inj,
                     .track = track};
    const char *out = NULL, *datatype = "cf32_le", *datetime = NULL, *truth = NULL;
    double rms_lsb = 0;
    bool have_ra = false, have_dec = false, quiet = false;
    int rc;
    bar pb = {.t0 = mono_s()};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
            continue;
        }
        if (a[0] != '-' || a[1] != '-')
            return oz_cli_complain(PROG, EXIT_BADINPUT, "unexpected argument \"%s\" (see --help)",
                                   a);
        if (i + 1 >= argc)
            return oz_cli_complain(PROG, EXIT_BADINPUT, "%s needs a value", a);
        const char *v = argv[++i];
        oz_sig_type t;
        if (strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--samples") == 0) {
            if ((rc = parse_u64(a, v, &s.nsamples)) != EXIT_OK)
                return rc;
        } else if (strcmp(a, "--sample-rate") == 0) {
            if ((rc = oz_cli_parse_double(PROG, a, v, &s.sample_rate)) != EXIT_OK)
                return rc;
        } else if (strcmp(a, "--center-freq") == 0) {
            if ((rc = oz_cli_parse_double(PROG, a, v, &s.center_hz)) != EXIT_OK)
                return rc;
        } else if (strcmp(a, "--noise-power") == 0) {
            if ((rc = oz_cli_parse_double(PROG, a, v, &s.noise_power)) != EXIT_OK)
                return rc;
        } else if (strcmp(a, "--rms-lsb") == 0) {
            if ((rc = oz_cli_parse_double(PROG, a, v, &rms_lsb)) != EXIT_OK)
                return rc;
            if (!(rms_lsb > 0))
                return oz_cli_complain(PROG, EXIT_BADINPUT, "--rms-lsb: must be > 0");
        } else if (strcmp(a, "--seed") == 0) {
            if ((rc = parse_u64(a, v, &s.seed)) != EXIT_OK)
                return rc;
        } else if (strcmp(a, "--datatype") == 0) {
            datatype = v;
        } else if (strcmp(a, "--datetime") == 0) {
            datetime = v;
        } else if (strcmp(a, "--truth") == 0) {
            truth = v;
        } else if (strcmp(a, "--ra") == 0) {
            if ((rc = oz_cli_parse_double(PROG, a, v, &s.ra_deg)) != EXIT_OK)
                return rc;
            have_ra = true;
        } else if (strcmp(a, "--dec") == 0) {
            if ((rc = oz_cli_parse_double(PROG, a, v, &s.dec_deg)) != EXIT_OK)
                return rc;
            have_dec = true;
        } else if ((strcmp(a, "--spike") == 0 || strcmp(a, "--tone") == 0 ||
                    strcmp(a, "--gaussian") == 0 || strcmp(a, "--pulse") == 0 ||
                    strcmp(a, "--triplet") == 0 || strcmp(a, "--line") == 0) &&
                   oz_sig_type_parse(strcmp(a, "--tone") == 0 ? "spike" : a + 2, &t) == 0) {
            if (s.ninj == MAX_SIGNALS)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "more than %d signals", MAX_SIGNALS);
            if ((rc = parse_spec(a, t, v, &inj[s.ninj], &skyfixed[s.ninj])) != EXIT_OK)
                return rc;
            s.ninj++;
        } else if (strcmp(a, "--site") == 0) {
            char why[256];
            if (oz_wu_site_parse(v, &s.site, why, sizeof why) != OZ_WU_OK)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "--site: %s", why);
            s.has_site = true;
        } else if (strcmp(a, "--point") == 0) {
            oz_wu_pointing *p = &track[s.ntrack];
            char extra;
            if (s.ntrack == OZ_WU_POINTING_MAX)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "more than %u --point",
                                       OZ_WU_POINTING_MAX);
            if (sscanf(v, "%lf,%lf,%lf%c", &p->t_s, &p->ra_deg, &p->dec_deg, &extra) != 3)
                return oz_cli_complain(PROG, EXIT_BADINPUT, "--point: \"%s\" is not T,RA,DEC", v);
            s.ntrack++;
        } else {
            return oz_cli_complain(PROG, EXIT_BADINPUT, "unknown option %s (see --help)", a);
        }
    }
    if (!out)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "--out STEM is required (see --help)");
    if (have_ra != have_dec)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "give both --ra and --dec");
    s.has_sky = have_ra;
    for (size_t k = 0; k < s.ninj; k++)
        if (skyfixed[k] && (rc = sky_fixed(&s, datetime, &inj[k])) != EXIT_OK)
            return rc;

    char why[512] = "";
    if (oz_wu_synth_check(&s, why, sizeof why) != OZ_WU_OK)
        return oz_cli_complain(PROG, EXIT_BADINPUT, "%s", why);
    char *truth_path = NULL;
    if (!truth) {
        size_t n = strlen(out) + sizeof ".truth.json";
        truth_path = malloc(n);
        if (!truth_path)
            return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
        snprintf(truth_path, n, "%s.truth.json", out);
        truth = truth_path;
    }
    /* A truth path that cannot be written is refused before the recording. */
    if ((rc = oz_cli_out_file_check(PROG, "--truth", truth)) != EXIT_OK) {
        free(truth_path);
        return rc;
    }
    uint64_t clipped = 0;
    if (!quiet && isatty(STDERR_FILENO)) {
        s.progress = bar_draw;
        s.progress_arg = &pb;
    }
    rc = oz_wu_synth_write(&s, out, datatype, rms_lsb, datetime, &clipped, why, sizeof why);
    if (rc != OZ_WU_OK) {
        free(truth_path);
        return oz_cli_complain(
            PROG, rc == OZ_WU_EIO || rc == OZ_WU_ENOMEM ? EXIT_RUNTIME : EXIT_BADINPUT, "%s", why);
    }
    json_t *tj = oz_wu_synth_truth(&s, datatype, datetime);
    char *text = NULL;
    if (tj) {
        json_object_set_new(tj, "rms_lsb",
                            json_real(oz_wu_synth_scale(&s, datatype, rms_lsb) *
                                      sqrt((s.noise_power > 0 ? s.noise_power : 1.0) / 2) *
                                      (strcmp(datatype, "ci8") == 0 ? 128.0 : 32768.0)));
        json_object_set_new(tj, "clipped_values", json_integer((json_int_t)clipped));
        if (strncmp(datatype, "cf32", 4) == 0)
            json_object_del(tj, "rms_lsb");
        text = json_dumps(tj, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    }
    json_decref(tj);
    if (!text) {
        free(truth_path);
        return oz_cli_complain(PROG, EXIT_RUNTIME, "out of memory");
    }
    size_t len = strlen(text);
    char *nl = realloc(text, len + 2);
    if (nl) {
        text = nl;
        text[len++] = '\n';
        text[len] = '\0';
    }
    rc = oz_wu_write_file(truth, text, len, why, sizeof why);
    free(text);
    const char *truth_shown = truth;
    if (rc != OZ_WU_OK) {
        free(truth_path);
        return oz_cli_complain(PROG, EXIT_RUNTIME, "%s", why);
    }
    if (clipped > 0)
        fprintf(stderr, PROG ": warning: %llu values clipped by quantisation to %s\n",
                (unsigned long long)clipped, datatype);
    if (!quiet)
        printf("wrote %s.sigmf-data: %llu %s samples (%.1f s at %.9g Hz), %zu signal%s injected, "
               "truth in %s, in %.2f s\n",
               out, (unsigned long long)s.nsamples, datatype, (double)s.nsamples / s.sample_rate,
               s.sample_rate, s.ninj, s.ninj == 1 ? "" : "s", truth_shown, mono_s() - pb.t0);
    free(truth_path);
    return fflush(stdout) == 0 ? EXIT_OK
                               : oz_cli_complain(PROG, EXIT_RUNTIME, "standard output: %s",
                                                 strerror(errno));
}
