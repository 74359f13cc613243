/*
 * candidates.h - from canonical signals to candidates: the rules, in plain
 * C, that the assimilator's store code (store_candidates.c) applies.
 *
 * A candidate is one physical signal: the connected component of the
 * canonical signals under the link relation below.  Links are symmetric and
 * depend only on the two signals, and a component is the same whatever
 * order its members arrived in, so grouping is a deterministic function of
 * the set of signals assimilated (union-find: an arriving signal merges the
 * candidates of every signal it links to).  Two signals link when
 *  - track: they are of one dataset, within link_gap_units unit lengths in
 *    time, and their drift lines cross within half a unit length T of one
 *    of them: |f_b - f_a - c_a (t_b - t_a)| or |f_a - f_b - c_b (t_a -
 *    t_b)| is at most link_bins bins of the coarser of their two FFT
 *    lengths plus |c_a - c_b| T / 2.  This joins a tone seen in overlapping
 *    units, at neighbouring FFT lengths, and the weaker wrong-chirp echoes
 *    of a stronger detection (their lines cross its line in the unit that
 *    saw both);
 *  - persistence: they are of different datasets, in the same HEALPix
 *    pixel, and their barycentric frequencies differ by at most
 *    bary_tol_hz.  A candidate with members in several datasets is a
 *    multiplet; its "observations" count those datasets.
 * A candidate's identity (its key) and its summary are those of its
 * strongest member (highest power; ties by the key itself), recomputed
 * from all its members whenever it changes.
 *
 * RFI, evaluated from everything stored each time a candidate or a
 * neighbour in frequency changes (rfi rule names as the API shows them):
 *  - "band": the candidate's topocentric frequency lies in a band the
 *    operator lists (rfi_bands);
 *  - "many_pixels": signals within rfi_freq_tol_hz of its topocentric
 *    frequency were seen in at least rfi_min_pixels distinct sky pixels;
 *  - "zero_drift": it does not drift (|chirp| <= rfi_zero_drift_hz_s) and
 *    non-drifting signals within rfi_freq_tol_hz of its topocentric
 *    frequency were seen in at least two distinct sky pixels.
 * The score (README, "Candidates"):
 *   score = s_max * (1 + ln d) * N^2 / (1 + e) * (0.01 if flagged)
 * s_max the best detection's score (statistic over threshold), d the
 * detections, N the observations (distinct datasets), e the RFI evidence:
 * the distinct sky pixels beyond the first in which its topocentric
 * frequency was seen.
 */
#ifndef OZ_SCHED_CANDIDATES_H
#define OZ_SCHED_CANDIDATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OZ_CAND_BANDS_MAX 64
#define OZ_CAND_KEY_MAX 96

typedef struct oz_cand_config {
    int nside;                  /* HEALPix resolution, a power of two; 256 (~0.23 deg) */
    double link_bins;           /* track link tolerance, bins of the coarser FFT; 2 */
    double link_gap_units;      /* track links within this many unit lengths; 1.5 */
    double bary_tol_hz;         /* persistence tolerance in barycentric frequency; 5 */
    double rfi_freq_tol_hz;     /* "the same topocentric frequency"; 5 */
    int rfi_min_pixels;         /* many_pixels: this many distinct pixels; 3 */
    double rfi_zero_drift_hz_s; /* zero_drift: |chirp| at most this; 0.001 */
    size_t nbands;              /* known interference bands, [lo, hi] Hz */
    double bands[OZ_CAND_BANDS_MAX][2];
} oz_cand_config;

void oz_cand_config_default(oz_cand_config *c);

/* One signal as the rules see it. */
typedef struct oz_cand_sig {
    int64_t dataset_id;
    double freq_hz, chirp_hz_s, time_s, power, score;
    double bin_hz; /* sample rate / FFT length */
} oz_cand_sig;

/* The track link (same dataset; gap_s the largest time apart, span_s the
 * unit length). */
bool oz_cand_track_link(const oz_cand_config *c, const oz_cand_sig *a, const oz_cand_sig *b,
                        double gap_s, double span_s);

/* The facts the RFI rules and the score are made from. */
typedef struct oz_cand_facts {
    double freq_hz, chirp_hz_s; /* the strongest detection's */
    double best_score;          /* s_max */
    int64_t detections, observations;
    int64_t pixels;       /* distinct pixels of signals at its frequency (all drifts) */
    int64_t still_pixels; /* ... of those not drifting */
} oz_cand_facts;

/* The RFI rule that flags it, or NULL. */
const char *oz_cand_rfi_rule(const oz_cand_config *c, const oz_cand_facts *f);
double oz_cand_score(const oz_cand_facts *f, bool flagged);

#endif
