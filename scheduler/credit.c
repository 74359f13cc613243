/*
 * credit.c - cobblestones from FLOPs and the recent-average-credit decay
 * (credit.h).  Pure arithmetic: the store calls these inside its
 * transactions so every grant and every reading uses the same formulas.
 */
#include "credit.h"

#include <math.h>

#define LN2 0.693147180559945309417 /* LN2 is not in C11 */

double oz_credit_from_flops(uint64_t flops)
{
    return (double)flops / 1e9 / 86400.0 * OZ_CREDIT_PER_GFLOPS_DAY;
}

double oz_credit_decay(double rac, int64_t then, int64_t now)
{
    if (now <= then)
        return rac;
    return rac * exp(-(double)(now - then) * LN2 / OZ_CREDIT_HALF_LIFE_S);
}

double oz_credit_rac_add(double rac, int64_t then, int64_t now, double credit)
{
    return oz_credit_decay(rac, then, now) + credit * LN2 * 86400.0 / OZ_CREDIT_HALF_LIFE_S;
}
