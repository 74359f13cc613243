/*
 * candidates.c - the candidate rules (candidates.h): links, RFI, score.
 */
#include "candidates.h"

#include <math.h>

void oz_cand_config_default(oz_cand_config *c)
{
    *c = (oz_cand_config){.nside = 256,
                          .link_bins = 2,
                          .link_gap_units = 1.5,
                          .bary_tol_hz = 5,
                          .rfi_freq_tol_hz = 5,
                          .rfi_min_pixels = 3,
                          .rfi_zero_drift_hz_s = 0.001};
}

bool oz_cand_track_link(const oz_cand_config *c, const oz_cand_sig *a, const oz_cand_sig *b,
                        double gap_s, double span_s)
{
    double dt = b->time_s - a->time_s;
    if (a->dataset_id != b->dataset_id || fabs(dt) > gap_s)
        return false;
    /* one's line crosses the other's (within the tolerance) inside the
     * span around the detection: a wrong-chirp echo's line crosses the
     * stronger detection's inside the unit that saw both */
    double tol = c->link_bins * fmax(a->bin_hz, b->bin_hz);
    double cross = fabs(b->chirp_hz_s - a->chirp_hz_s) * span_s / 2;
    return fabs(b->freq_hz - a->freq_hz - a->chirp_hz_s * dt) <= tol + cross ||
           fabs(a->freq_hz - b->freq_hz + b->chirp_hz_s * dt) <= tol + cross;
}

const char *oz_cand_rfi_rule(const oz_cand_config *c, const oz_cand_facts *f)
{
    for (size_t i = 0; i < c->nbands; i++)
        if (f->freq_hz >= c->bands[i][0] && f->freq_hz <= c->bands[i][1])
            return "band";
    if (f->pixels >= c->rfi_min_pixels)
        return "many_pixels";
    if (fabs(f->chirp_hz_s) <= c->rfi_zero_drift_hz_s && f->still_pixels >= 2)
        return "zero_drift";
    return NULL;
}

double oz_cand_score(const oz_cand_facts *f, bool flagged)
{
    double d = f->detections > 0 ? (double)f->detections : 1;
    double n = f->observations > 0 ? (double)f->observations : 1;
    double e = f->pixels > 1 ? (double)(f->pixels - 1) : 0;
    double s = f->best_score * (1 + log(d)) * n * n / (1 + e);
    return flagged ? s * 0.01 : s;
}
