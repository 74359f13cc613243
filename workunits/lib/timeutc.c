/*
 * timeutc.c - UTC timestamps as SigMF writes them (RFC 3339 with the only
 * offset "Z") to and from nanoseconds since 1970.
 *
 * Unit start times are the recording's start plus start_sample / fs, and a
 * signal's time_utc is its unit's start plus time_s; carrying integer
 * nanoseconds keeps those sums exact for centuries where a double of epoch
 * seconds would keep only about a quarter of a microsecond.  The calendar
 * arithmetic is Howard Hinnant's days_from_civil / civil_from_days (public
 * domain algorithms), so no timegm() (not POSIX) and no time zone state.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define NS_PER_S 1000000000LL
#define YEAR_MIN 1900
#define YEAR_MAX 2200

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly `width` digits at *p into *v. */
static bool digits(const char **p, int width, int *v)
{
    int x = 0;
    for (int i = 0; i < width; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        x = x * 10 + (c - '0');
    }
    *p += width;
    *v = x;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    ++*p;
    return true;
}

int oz_wu_time_parse(const char *iso, int64_t *ns, char *why, size_t whylen)
{
    if (!iso)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "no time given");
    const char *p = iso;
    int y, mo, d, h, mi, s;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d) || !(expect(&p, 'T') || expect(&p, 't')) || !digits(&p, 2, &h) ||
        !expect(&p, ':') || !digits(&p, 2, &mi) || !expect(&p, ':') || !digits(&p, 2, &s))
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "\"%.40s\" is not an ISO 8601 UTC time like 2024-05-01T12:00:00Z", iso);
    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 9) {
                frac = frac * 10 + (*p - '0');
            }
            n++;
            p++;
            if (n > 30)
                return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                                  "\"%.40s\": too many fractional digits", iso);
        }
        if (n == 0)
            return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "\"%.40s\": empty fraction", iso);
        for (; n < 9; n++)
            frac *= 10;
    }
    if (!(expect(&p, 'Z') || expect(&p, 'z')) || *p != '\0')
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen,
                          "\"%.40s\": a UTC time must end in Z (no other offsets)", iso);
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < YEAR_MIN || y > YEAR_MAX)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "\"%.40s\": year %d is outside %d..%d", iso,
                          y, YEAR_MIN, YEAR_MAX);
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
        h > 23 || mi > 59 || s > 60)
        return oz_wu_fail(OZ_WU_EFORMAT, why, whylen, "\"%.40s\": no such date or time", iso);
    if (s == 60)
        s = 59; /* a leap second reads as the second before it ends */
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ns = ((days * 24 + h) * 60 + mi) * 60 * NS_PER_S + (int64_t)s * NS_PER_S + frac;
    return OZ_WU_OK;
}

int oz_wu_time_format(int64_t ns, int digits_, char *buf, size_t len)
{
    if (digits_ < 0 || digits_ > 9)
        return OZ_WU_EINVAL;
    int64_t secs = ns / NS_PER_S, sub = ns % NS_PER_S;
    if (sub < 0) {
        sub += NS_PER_S;
        secs -= 1;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    char frac[24] = "";
    if (digits_ > 0) {
        int64_t f = sub;
        for (int i = digits_; i < 9; i++)
            f /= 10;
        snprintf(frac, sizeof frac, ".%0*lld", digits_, (long long)f);
    }
    int n = snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d%sZ", (long long)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), frac);
    return n < 0 || (size_t)n >= len ? OZ_WU_EINVAL : OZ_WU_OK;
}

int64_t oz_wu_time_add(int64_t start_ns, double offset_s)
{
    /* Offsets beyond ±100 years are nonsense; clamp rather than overflow. */
    if (!isfinite(offset_s))
        return start_ns;
    if (offset_s > 3.2e9)
        offset_s = 3.2e9;
    if (offset_s < -3.2e9)
        offset_s = -3.2e9;
    int64_t add = (int64_t)llround(offset_s * 1e9), sum;
    if (__builtin_add_overflow(start_ns, add, &sum))
        sum = add > 0 ? INT64_MAX : INT64_MIN;
    return sum;
}

/* JD 2440587.5 is 1970-01-01T00:00:00Z.  The subtraction is exact for
 * dates near the epoch, so the day fraction keeps the double's precision
 * (tens of microseconds for a JD near 2.45e6). */
int oz_wu_time_from_jd(double jd, int64_t *ns)
{
    if (!isfinite(jd))
        return OZ_WU_EINVAL;
    double s = (jd - 2440587.5) * 86400.0;
    if (!(s * 1e9 >= (double)OZ_WU_TIME_MIN_NS && s * 1e9 <= (double)OZ_WU_TIME_MAX_NS))
        return OZ_WU_EINVAL;
    *ns = (int64_t)llround(s * 1e9);
    return OZ_WU_OK;
}
