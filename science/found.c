/*
 * found.c - the list of found signals: best of each type, merged
 * near-duplicates, and the cap that ends a unit drowned in interference.
 *
 * One physical signal is seen many times by the search: in every spectrum it
 * spans, at neighbouring chirp rates and at every FFT length.  All those
 * detections lie on the signal's frequency track, because reported
 * frequencies are absolute at the detection's own time (dechirped bin plus
 * chirp * t).  Two detections are the same signal when one lies on the
 * other's track, extrapolated with the chirp of the finer-resolution one
 * (longer FFT), within the bin widths involved, plus the smear of a detection
 * made at another chirp (half the chirp difference times its duration: one
 * spectrum, or a line's span), plus the chirp uncertainty of a single spectrum, (fs/L)^2 / 2,
 * times the time between them.
 *
 * Lines carry their span (start_s..end_s): two lines whose spans overlap
 * are decided inside the overlap.  A strong line leaks into lines beside it
 * (window sidelobes, falling as 1/k^2 over k bins) and into every path that
 * crosses its track at another drift (an echo holding about a bin's worth of
 * the crossing); the weaker of two is the stronger's when it lies within
 * the leakage envelope (wider the weaker it is) at the stronger's chirp, or
 * is no more than an echo at a clearly different chirp.  Two crossing tracks
 * each with power of its own are two signals (lines_cross).
 *
 * A single spectrum cannot tell neighbouring chirp steps apart (the drift
 * over one spectrum differs by a tenth of a bin, far below the noise and the
 * scalloping of a rectangular window), so the strongest spike's own chirp is
 * only good to a few steps.  The spike's track is: every detection merged
 * into a listed spike adds its (time, frequency) point to a weighted
 * least-squares line, and once the points span more than one spectrum the
 * line's slope is the spike's reported chirp.  That slope is a smooth
 * function of the data, so replicas on different machines agree on it.  A
 * spike also joins a track when it continues it from its latest point in
 * the next spectrum, moved by no more than the chirp range allows: that is
 * how the detections of a strong tone at chirps far from its own come
 * together before the search reaches the tone's chirp.
 *
 * Merging is online and greedy in the search's fixed step order, so it is
 * deterministic: a candidate that matches a listed signal replaces it when
 * stronger (and then absorbs any other listed signal it now matches);
 * otherwise it is appended.  A strong drifting tone is seen at chirps far
 * from its own, smeared, before the search reaches its chirp; those
 * detections do not line up and stay apart until the tone's true detection
 * absorbs them.  So the list keeps OZ_FOUND_SLACK times max_signals; only
 * when that fills is the unit drowned in interference: the overflow flag is
 * set and the search ends (SETI@home's behaviour).  The result reports the
 * strongest max_signals, flagged as overflow when there were more.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int oz_found_init(oz_found *f, const oz_sci_config *cfg, double fs)
{
    memset(f, 0, sizeof *f);
    /* room for the detections a strong signal leaves at wrong chirps before
     * the search reaches its own chirp and they are absorbed */
    f->cap = (size_t)cfg->max_signals * OZ_FOUND_SLACK;
    if (f->cap > OZ_SCI_SIGNALS_MAX)
        f->cap =
            cfg->max_signals > OZ_SCI_SIGNALS_MAX / OZ_FOUND_SLACK ? OZ_SCI_SIGNALS_MAX : f->cap;
    if (f->cap < cfg->max_signals)
        f->cap = cfg->max_signals;
    f->fs = fs;
    f->chirp_resolution = cfg->chirp_resolution;
    f->chirp_max = cfg->chirp_max;
    f->list = calloc(f->cap ? f->cap : 1, sizeof *f->list);
    f->tracks = calloc(f->cap ? f->cap : 1, sizeof *f->tracks);
    if (!f->list || !f->tracks) {
        oz_found_free(f);
        return OZ_SCI_ENOMEM;
    }
    return OZ_SCI_OK;
}

void oz_found_free(oz_found *f)
{
    free(f->list);
    free(f->tracks);
    memset(f, 0, sizeof *f);
}

/* Is a the finer-resolution reference of the pair?  Longer FFT first, then
 * the stronger, then the lower frequency, so the choice does not depend on
 * argument order. */
static bool is_reference(const oz_signal *a, const oz_signal *b)
{
    if (a->fft_len != b->fft_len)
        return a->fft_len > b->fft_len;
    if (a->score != b->score)
        return a->score > b->score;
    return a->freq_hz <= b->freq_hz;
}

/* Sidelobe power of a rectangular window k bins from a tone is at most about
 * 1 / (pi k)^2 of its main lobe (2.5 / (pi k)^2 against a tone half-way
 * between bins, whose main lobe scallops): a weaker detection within
 * sqrt(OZ_LEAK_MARGIN * ratio) / pi bins of a stronger one's track may be
 * its leakage, ratio being their score ratio. */
#define OZ_LEAK_MARGIN 8.0
/* A line at a chirp clearly off a stronger one's crosses its track and picks
 * up its power for about one bin's worth of that crossing: bin / (dchirp *
 * span) of the stronger's integrated power in theory (the crossing share),
 * measured 2.4 to 2.8 times that (the stronger's own line loses to
 * scalloping and its residual drift; the crossing path gets sidelobes too).
 * A weaker line holding more than OZ_ECHO_MARGIN crossing shares has power
 * of its own; one holding at most a share, plus the threshold's worth noise
 * may add, is an echo (near threshold its span is noise's); in between, its span tells: an echo's
 * power, so its span, is where the tracks meet, a crossing track's lasts beyond. */
#define OZ_ECHO_MARGIN 4.0

/* Two lines whose spans overlap: decided (*decided) by their tracks inside
 * the overlap.  The weaker w is the stronger r's when its track comes
 * within r's leakage envelope (a few bins, more the weaker it is) and either
 * follows r's chirp within the lines' chirp resolution (r's sidelobes and
 * its detections at neighbouring drifts) or, at a clearly different chirp,
 * is what crossing r's track gives a path (a wrong-drift echo).  Two tracks
 * with clearly different chirps each carrying power of their own are two
 * signals, even where they cross. */
static bool lines_cross(const oz_signal *a, const oz_signal *b, double fs, bool *decided)
{
    double t0 = a->start_s > b->start_s ? a->start_s : b->start_s;
    double t1 = a->end_s < b->end_s ? a->end_s : b->end_s;
    *decided = t1 > t0;
    if (!*decided)
        return false;
    const oz_signal *r = a->score >= b->score ? a : b;
    const oz_signal *w = r == a ? b : a;
    double d0 = (r->freq_hz + r->chirp_hz_s * (t0 - r->time_s)) -
                (w->freq_hz + w->chirp_hz_s * (t0 - w->time_s));
    double d1 = (r->freq_hz + r->chirp_hz_s * (t1 - r->time_s)) -
                (w->freq_hz + w->chirp_hz_s * (t1 - w->time_s));
    double gap = (d0 > 0) != (d1 > 0) ? 0 : fmin(fabs(d0), fabs(d1));
    double bin_r = fs / r->fft_len, bin_w = fs / w->fft_len;
    /* a wideband burst lights neighbouring paths a bin or two apart */
    double near = 1.5 * (bin_r + bin_w);
    double ratio = w->score > 0 ? r->score / w->score : HUGE_VAL;
    double envelope = fmax(near, bin_r * sqrt(OZ_LEAK_MARGIN * ratio) / OZ_PI);
    if (gap > envelope)
        return false;
    double span_r = fmax(r->end_s - r->start_s, r->fft_len / fs);
    double span_w = fmax(w->end_s - w->start_s, w->fft_len / fs);
    double dchirp = fabs(r->chirp_hz_s - w->chirp_hz_s);
    if (dchirp <= bin_r / span_r + bin_w / span_w)
        return true;
    double share = fmin(1.0, 0.5 * (bin_r + bin_w) / (dchirp * span_r)) * r->score;
    if (w->score > OZ_ECHO_MARGIN * share)
        return false;
    if (w->score <= share + 1.0) /* noise adds up to a threshold's worth */
        return true;
    /* the tracks' closest approach in the overlap, and how long they stay
     * within a wideband burst's reach of it */
    double slope = (d1 - d0) / (t1 - t0);
    double tx = slope != 0 ? t0 - d0 / slope : t0;
    tx = fmin(t1, fmax(t0, tx));
    double reach = (gap + near) / dchirp + 2.0 * w->fft_len / fs; /* spans are whole spectra */
    return w->start_s >= tx - reach && w->end_s <= tx + reach;
}

bool oz_sci_signal_same(const oz_signal *a, const oz_signal *b, double fs, double chirp_resolution)
{
    (void)chirp_resolution;
    if (a->type != b->type)
        return false;
    if (a->type == OZ_SIG_LINE) {
        bool decided;
        bool same = lines_cross(a, b, fs, &decided);
        if (decided)
            return same;
    }
    const oz_signal *r = is_reference(a, b) ? a : b;
    const oz_signal *o = r == a ? b : a;
    double bin_r = fs / r->fft_len, bin_o = fs / o->fft_len;
    double chirp_unc = 0.5 * bin_r * bin_r;
    /* a detection made at a chirp off the reference's is smeared over the
     * difference times its duration: one spectrum, or a line's span */
    double dur = o->fft_len / fs;
    if (o->type == OZ_SIG_LINE && o->end_s - o->start_s > dur)
        dur = o->end_s - o->start_s;
    double smear = 0.5 * fabs(r->chirp_hz_s - o->chirp_hz_s) * dur;
    double dt = o->time_s - r->time_s;
    double predicted = r->freq_hz + r->chirp_hz_s * dt;
    return fabs(o->freq_hz - predicted) <= bin_r + bin_o + smear + fabs(dt) * chirp_unc;
}

static void track_add_point(oz_found *f, oz_track *tr, const oz_signal *s)
{
    double w = ((double)s->fft_len / f->fs) * ((double)s->fft_len / f->fs);
    double df = s->freq_hz - f->fref;
    tr->w += w;
    tr->t += w * s->time_s;
    tr->f += w * df;
    tr->tt += w * s->time_s * s->time_s;
    tr->tf += w * s->time_s * df;
    tr->t_last = s->time_s;
    tr->f_last = s->freq_hz;
    tr->len_last = s->fft_len;
}

/* Does spike s continue the track from its latest point: the next spectrum
 * or so, moved by no more than the searched chirp range allows?  Detections
 * of a strong tone at a chirp far from its own move by (c - c_tone) * T per
 * spectrum, beyond what a listed signal's own chirp predicts, and would
 * otherwise each be listed apart until the search reaches the tone's chirp. */
static bool continues(const oz_found *f, const oz_signal *listed, const oz_track *tr,
                      const oz_signal *s)
{
    if (s->type != OZ_SIG_SPIKE || listed->type != OZ_SIG_SPIKE || !(tr->len_last > 0))
        return false;
    double t_s = s->fft_len / f->fs, t_l = tr->len_last / f->fs;
    double dt = fabs(s->time_s - tr->t_last);
    if (dt > 1.5 * (t_s > t_l ? t_s : t_l))
        return false;
    double bin_s = f->fs / s->fft_len, bin_l = f->fs / tr->len_last;
    double step = f->chirp_resolution * bin_s * bin_s;
    return fabs(s->freq_hz - tr->f_last) <= bin_s + bin_l + dt * (f->chirp_max + step);
}

static void track_merge(oz_track *into, const oz_track *from)
{
    into->w += from->w;
    into->t += from->t;
    into->f += from->f;
    into->tt += from->tt;
    into->tf += from->tf;
    if (from->t_last > into->t_last) {
        into->t_last = from->t_last;
        into->f_last = from->f_last;
        into->len_last = from->len_last;
    }
}

/* A spike's chirp from its track, once the points span more than one
 * spectrum of the spike's own length (the time spread is then resolvable). */
static void track_apply(const oz_found *f, const oz_track *tr, oz_signal *s)
{
    if (s->type != OZ_SIG_SPIKE || !(tr->w > 0))
        return;
    double tm = tr->t / tr->w;
    double var_t = tr->tt / tr->w - tm * tm;
    double tfft = (double)s->fft_len / f->fs;
    if (!(var_t > tfft * tfft))
        return;
    double cov = tr->tf / tr->w - tm * (tr->f / tr->w);
    double slope = cov / var_t;
    /* a slope outside the searched range is bin-centre bias, not a drift */
    double bin = f->fs / s->fft_len, limit = f->chirp_max + f->chirp_resolution * bin * bin;
    if (limit > OZ_SCI_CHIRP_MAX)
        limit = OZ_SCI_CHIRP_MAX;
    if (isfinite(slope) && fabs(slope) <= limit)
        s->chirp_hz_s = slope;
}

/* After list[i] was replaced by a stronger signal, fold in any other entry
 * that now matches it, so that no two listed signals match. */
static void absorb(oz_found *f, size_t i)
{
    for (size_t j = 0; j < f->n;) {
        if (j != i && oz_sci_signal_same(&f->list[i], &f->list[j], f->fs, f->chirp_resolution)) {
            if (f->list[j].score > f->list[i].score)
                f->list[i] = f->list[j];
            track_merge(&f->tracks[i], &f->tracks[j]);
            track_apply(f, &f->tracks[i], &f->list[i]);
            f->list[j] = f->list[f->n - 1];
            f->tracks[j] = f->tracks[f->n - 1];
            if (i == f->n - 1)
                i = j;
            f->n--;
            j = 0; /* list[i] may have changed: check everything again */
            continue;
        }
        j++;
    }
}

void oz_found_offer(oz_found *f, const oz_signal *s)
{
    oz_sig_type t = s->type;
    if (!isfinite(s->score) || !isfinite(s->power) || !isfinite(s->freq_hz))
        return;
    if (!f->has_best[t] || s->score > f->best[t].score) {
        f->best[t] = *s;
        f->has_best[t] = true;
    }
    if (!(s->score >= 1.0) || f->overflow)
        return;
    if (!f->has_fref) {
        f->fref = s->freq_hz;
        f->has_fref = true;
    }
    for (size_t i = 0; i < f->n; i++) {
        if (oz_sci_signal_same(&f->list[i], s, f->fs, f->chirp_resolution) ||
            continues(f, &f->list[i], &f->tracks[i], s)) {
            track_add_point(f, &f->tracks[i], s);
            double chirp = f->list[i].chirp_hz_s;
            bool stronger = s->score > f->list[i].score;
            if (stronger)
                f->list[i] = *s;
            track_apply(f, &f->tracks[i], &f->list[i]);
            /* a new representative or a refitted chirp moves the track: fold
             * in whatever it now meets, keeping no two listed signals alike */
            if (stronger || f->list[i].chirp_hz_s != chirp)
                absorb(f, i);
            return;
        }
    }
    if (f->n == f->cap) {
        f->overflow = true;
        return;
    }
    memset(&f->tracks[f->n], 0, sizeof f->tracks[f->n]);
    track_add_point(f, &f->tracks[f->n], s);
    f->list[f->n++] = *s;
}
