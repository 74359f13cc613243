/*
 * bench_split.c - how fast a recording becomes work units, against how fast
 * the machine can merely read it.
 *
 *   bench_split [--mb N] [--dir DIR] [--out DIR] [--unit-samples 2^k]
 *
 * Writes an N MB (default 512) SigMF ci16_le recording into DIR (default
 * /tmp), reads it once to warm the page cache, then times on the same file
 * in the same run:
 *   cat       `cat FILE > /dev/null` (best of three): the read rate to beat;
 *   iterate   reader + splitter only (every unit's samples in memory, no
 *             writes);
 *   no-hash   iterate + each unit written durably (temporary file, fsync,
 *             rename) with a dummy header: everything but SHA-256;
 *   split     oz_wu_split_write: the real thing (payload and file hashes),
 *             with one thread and with one per CPU;
 *   disk      the same bytes written to one file in --out and fsynced: the
 *             disk's durable write rate, which bounds no-hash and split;
 *   sha256    SHA-256 alone on a 64 MiB buffer: workunits' own (libcrypto,
 *             SHA-NI where the CPU has it) and libsodium's, for reference.
 * Rates are MB/s of input (10^6 bytes); units go to --out (default: a fresh
 * directory under DIR; pass /dev/shm to leave the disk out of it).  The
 * target is split >= 50% of cat.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ozma_workunits.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_split: %s: %s\n", what, why);
    exit(1);
}

/* snprintf that refuses to truncate. */
static void fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, len, f, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        die("path too long", f);
}

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        die("command failed", cmd);
}

/* N MB of cheap pseudo-random ci16 samples (content does not matter here). */
static void make_recording(const char *stem, uint64_t bytes)
{
    char path[512], why[512];
    fmt(path, sizeof path, "%s.sigmf-meta", stem);
    const char *meta = "{\"global\": {\"core:datatype\": \"ci16_le\", \"core:version\": "
                       "\"1.0.0\", \"core:sample_rate\": 9765.625}, \"captures\": "
                       "[{\"core:sample_start\": 0, \"core:frequency\": 1420e6, "
                       "\"core:datetime\": \"2024-05-01T00:00:00Z\"}], \"annotations\": []}\n";
    if (oz_wu_write_file(path, meta, strlen(meta), why, sizeof why))
        die(path, why);
    fmt(path, sizeof path, "%s.sigmf-data", stem);
    oz_wu_dfile *f;
    if (oz_wu_dfile_open(path, &f, why, sizeof why))
        die(path, why);
    size_t chunk = 4u << 20;
    uint64_t *buf = malloc(chunk), x = 0x9e3779b97f4a7c15ULL;
    if (!buf)
        die("recording", "out of memory");
    for (uint64_t done = 0; done < bytes; done += chunk) {
        for (size_t i = 0; i < chunk / 8; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = x;
        }
        size_t n = bytes - done < chunk ? (size_t)(bytes - done) : chunk;
        if (oz_wu_dfile_write(f, buf, n, why, sizeof why))
            die(path, why);
    }
    free(buf);
    if (oz_wu_dfile_commit(f, why, sizeof why))
        die(path, why);
}

static oz_wu_reader *open_rec(const char *stem)
{
    oz_wu_reader *r;
    char why[512];
    if (oz_wu_open(stem, NULL, &r, why, sizeof why))
        die(stem, why);
    return r;
}

/* Reader + splitter only. */
static double time_iterate(const char *stem, uint64_t unit)
{
    oz_wu_reader *r = open_rec(stem);
    char why[512];
    oz_wu_plan p;
    if (oz_wu_plan_make(oz_wu_reader_info(r)->nsamples, unit, 0.125, &p, why, sizeof why))
        die("plan", why);
    double t0 = now_s();
    oz_wu_units *u;
    if (oz_wu_units_new(r, &p, &u, why, sizeof why))
        die("units", why);
    oz_wu_unit_view v;
    unsigned sum = 0;
    int rc;
    while ((rc = oz_wu_units_next(u, &v, why, sizeof why)) == 1)
        sum += ((const unsigned char *)v.native)[v.native_bytes - 1];
    if (rc < 0)
        die("units", why);
    double t = now_s() - t0;
    oz_wu_units_free(u);
    oz_wu_reader_close(r);
    return sum == 0xffffffffu ? -1 : t;
}

/* Everything but hashing: each unit written durably with a dummy header. */
static double time_nohash(const char *stem, const char *out, uint64_t unit)
{
    oz_wu_reader *r = open_rec(stem);
    char why[512], path[600];
    oz_wu_plan p;
    if (oz_wu_plan_make(oz_wu_reader_info(r)->nsamples, unit, 0.125, &p, why, sizeof why))
        die("plan", why);
    static const unsigned char header[1024];
    double t0 = now_s();
    oz_wu_units *u;
    if (oz_wu_units_new(r, &p, &u, why, sizeof why))
        die("units", why);
    oz_wu_unit_view v;
    int rc;
    while ((rc = oz_wu_units_next(u, &v, why, sizeof why)) == 1) {
        fmt(path, sizeof path, "%s/nohash-%06llu.ozwu", out, (unsigned long long)v.index);
        oz_wu_dfile *f;
        if (oz_wu_dfile_open(path, &f, why, sizeof why) ||
            oz_wu_dfile_write(f, header, sizeof header, why, sizeof why) ||
            oz_wu_dfile_write(f, v.native, v.native_bytes, why, sizeof why) ||
            oz_wu_dfile_commit(f, why, sizeof why))
            die(path, why);
    }
    if (rc < 0)
        die("units", why);
    double t = now_s() - t0;
    oz_wu_units_free(u);
    oz_wu_reader_close(r);
    return t;
}

/* The disk alone: `bytes` written to one file under out in 4 MiB writes,
 * then fsynced, as the durable writer does. */
static double time_disk(const char *out, uint64_t bytes)
{
    char why[512], path[600];
    fmt(path, sizeof path, "%s/disk.bin", out);
    size_t chunk = 4u << 20;
    unsigned char *buf = calloc(1, chunk);
    if (!buf)
        die("disk", "out of memory");
    double t0 = now_s();
    oz_wu_dfile *f;
    if (oz_wu_dfile_open(path, &f, why, sizeof why))
        die(path, why);
    for (uint64_t done = 0; done < bytes; done += chunk) {
        size_t n = bytes - done < chunk ? (size_t)(bytes - done) : chunk;
        if (oz_wu_dfile_write(f, buf, n, why, sizeof why))
            die(path, why);
    }
    if (oz_wu_dfile_commit(f, why, sizeof why))
        die(path, why);
    double t = now_s() - t0;
    free(buf);
    remove(path);
    return t;
}

static double time_split(const char *stem, const char *out, uint64_t unit, unsigned threads,
                         uint64_t *nunits)
{
    oz_wu_reader *r = open_rec(stem);
    char why[512];
    oz_sci_config cfg;
    oz_sci_config_default(&cfg);
    if (cfg.fft_max > unit)
        cfg.fft_max = (uint32_t)unit;
    oz_wu_split_opts o = {
        .out_dir = out, .unit_samples = unit, .overlap = 0.125, .config = &cfg, .threads = threads};
    double t0 = now_s();
    if (oz_wu_split_write(r, &o, nunits, why, sizeof why))
        die("split", why);
    double t = now_s() - t0;
    oz_wu_reader_close(r);
    return t;
}

int main(int argc, char **argv)
{
    uint64_t mb = 512, unit = 1u << 20;
    const char *dir = "/tmp", *out = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        char why[256];
        if (strcmp(argv[i], "--mb") == 0)
            mb = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--out") == 0)
            out = argv[i + 1];
        else if (strcmp(argv[i], "--unit-samples") == 0) {
            if (oz_wu_parse_unit_samples(argv[i + 1], &unit, why, sizeof why))
                die("--unit-samples", why);
        } else
            die("usage", "bench_split [--mb N] [--dir DIR] [--out DIR] [--unit-samples 2^k]");
    }
    if (mb == 0 || sodium_init() < 0)
        die("setup", "bad --mb or libsodium");
    uint64_t bytes = mb * 1000000 / 4 * 4;

    char stem[512], data[600], outdir[600], cmd[1400];
    fmt(stem, sizeof stem, "%s/bench_split_%ld", dir, (long)getpid());
    fmt(data, sizeof data, "%s.sigmf-data", stem);
    if (out)
        fmt(outdir, sizeof outdir, "%s/bench_split_units_%ld", out, (long)getpid());
    else
        fmt(outdir, sizeof outdir, "%s_units", stem);
    if (mkdir(outdir, 0755) != 0)
        die(outdir, strerror(errno));
    make_recording(stem, bytes);
    fmt(cmd, sizeof cmd, "cat '%s' > /dev/null", data);
    run(cmd); /* warm the page cache */

    double cat = 1e30;
    for (int k = 0; k < 3; k++) {
        double t0 = now_s();
        run(cmd);
        double t = now_s() - t0;
        cat = t < cat ? t : cat;
    }
    double iter = time_iterate(stem, unit);
    double nohash = time_nohash(stem, outdir, unit);
    fmt(cmd, sizeof cmd, "rm -f '%s'/*.ozwu", outdir);
    run(cmd);
    uint64_t nunits = 0;
    double split1 = time_split(stem, outdir, unit, 1, &nunits);
    run(cmd);
    double split = time_split(stem, outdir, unit, 0, &nunits);

    double disk = time_disk(outdir, bytes);
    size_t hb = 64u << 20;
    unsigned char *buf = calloc(1, hb), sha[32];
    if (!buf)
        die("sha256", "out of memory");
    double t0 = now_s();
    if (oz_wu_sha256(buf, hb, sha) != OZ_WU_OK)
        die("sha256", "libcrypto failed");
    double tsha = now_s() - t0;
    t0 = now_s();
    crypto_hash_sha256(sha, buf, hb);
    double tsodium = now_s() - t0;
    free(buf);

    double in_mb = (double)bytes / 1e6;
    printf("bench_split: %.0f MB ci16 recording in %s, %llu units of %llu samples, units in %s\n",
           in_mb, dir, (unsigned long long)nunits, (unsigned long long)unit, outdir);
    printf("  %-9s %8.0f MB/s\n", "cat", in_mb / cat);
    printf("  %-9s %8.0f MB/s  %5.1f%% of cat   (reader + splitter, no writes)\n", "iterate",
           in_mb / iter, 100 * cat / iter);
    printf("  %-9s %8.0f MB/s  %5.1f%% of cat   (durable unit files, no hashing)\n", "no-hash",
           in_mb / nohash, 100 * cat / nohash);
    printf("  %-9s %8.0f MB/s  %5.1f%% of cat   (oz_wu_split_write, with SHA-256, 1 thread)\n",
           "split/1", in_mb / split1, 100 * cat / split1);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("  %-9s %8.0f MB/s  %5.1f%% of cat   (oz_wu_split_write, with SHA-256, %ld threads)\n",
           "split", in_mb / split, 100 * cat / split, ncpu);
    printf("  %-9s %8.0f MB/s  %5.1f%% of cat   (one file of the same bytes, fsynced: the disk)\n",
           "disk", in_mb / disk, 100 * cat / disk);
    printf("  %-9s %8.0f MB/s               (workunits' SHA-256 alone: libcrypto)\n", "sha256",
           (double)hb / 1e6 / tsha);
    printf("  %-9s %8.0f MB/s               (libsodium's SHA-256, for reference)\n", "sodium",
           (double)hb / 1e6 / tsodium);

    fmt(cmd, sizeof cmd, "rm -rf '%s' '%s.sigmf-meta' '%s'", outdir, stem, data);
    run(cmd);
    return 0;
}
