/*
 * host.c - what the worker knows about the machine it runs on: the facts it
 * registers (name, OS, cores, memory), the two probes behind the
 * volunteer's "only when idle" and "not on battery" preferences, and
 * whether the volunteer ruled out AVX2 (OZ_NO_AVX2).
 *
 * Idle detection.  logind's IdleHint would be the desktop's own answer, but a
 * system service (and any container) often has no session to ask, and it
 * needs D-Bus.  We use what BOINC's Linux client uses: the last access or
 * modification time of input device nodes.  The kernel updates them as
 * events are read from /dev/input/event*, so the newest of them is the last
 * time somebody touched a keyboard, mouse or touchpad.  `idle_watch` lists
 * the paths to look at (default /dev/input; a directory stands for its
 * entries), which also lets tests point it at a file they touch.  When none
 * can be read the host is treated as idle: a headless server has no user to
 * yield to.
 *
 * Battery: /sys/class/power_supply/NAME/{type,online}.  We are on battery
 * when some supply is a Battery and no other supply (Mains, USB, ...) says
 * online=1; a machine without a battery is on mains.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "worker.h"

/* Keeps printable ASCII other than quotes and backslashes (API.md: names are
 * 1..64 characters without control characters). */
static void clean(char *dst, size_t len, const char *src, const char *fallback)
{
    size_t j = 0;
    for (size_t i = 0; src[i] && j + 1 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            dst[j++] = (char)c;
    }
    dst[j] = '\0';
    if (j == 0)
        snprintf(dst, len, "%s", fallback);
}

int oz_wk_host_probe(oz_wk_host_info *h)
{
    memset(h, 0, sizeof *h);
    char name[256] = "";
    if (gethostname(name, sizeof name - 1) != 0)
        name[0] = '\0';
    clean(h->name, sizeof h->name, name, "host");
    struct utsname u;
    if (uname(&u) == 0) {
        char os[256];
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
        clean(h->os, sizeof h->os, os, "unknown");
    } else
        snprintf(h->os, sizeof h->os, "unknown");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    h->ncpus = n > 0 ? (unsigned)(n > 1024 ? 1024 : n) : 1;
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    h->memory_mb = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize >> 20 : 1;
    if (h->memory_mb == 0)
        h->memory_mb = 1;
    return OZ_WK_OK;
}

bool oz_wk_host_no_avx2(void)
{
    return getenv("OZ_NO_AVX2") != NULL;
}

static double newest(const struct stat *st)
{
    double a = (double)st->st_atim.tv_sec + 1e-9 * (double)st->st_atim.tv_nsec;
    double m = (double)st->st_mtim.tv_sec + 1e-9 * (double)st->st_mtim.tv_nsec;
    return a > m ? a : m;
}

/* The newest time of path or, for a directory, of its entries; 0 if none. */
static double last_touch(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return newest(&st);
    double best = 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[OZ_WK_PATH_MAX];
        if (oz_wk_path(sub, sizeof sub, "%s/%s", path, e->d_name) != OZ_WK_OK)
            continue;
        struct stat es;
        if (stat(sub, &es) == 0 && !S_ISDIR(es.st_mode) && newest(&es) > best)
            best = newest(&es);
    }
    closedir(d);
    return best;
}

int oz_wk_idle_seconds(const char *watch, double *idle_s)
{
    char list[OZ_WK_PATH_MAX];
    snprintf(list, sizeof list, "%s", watch);
    double best = 0;
    char *save = NULL;
    for (char *p = strtok_r(list, " \t", &save); p; p = strtok_r(NULL, " \t", &save)) {
        double t = last_touch(p);
        if (t > best)
            best = t;
    }
    if (best == 0)
        return OZ_WK_EIO;
    double idle = oz_wk_wall() - best;
    *idle_s = idle > 0 ? idle : 0;
    return OZ_WK_OK;
}

/* The first line of DIR/NAME/FILE into buf ("" when unreadable). */
static void read_attr(const char *dir, const char *name, const char *file, char *buf, size_t len)
{
    char p[OZ_WK_PATH_MAX];
    buf[0] = '\0';
    if (oz_wk_path(p, sizeof p, "%s/%s/%s", dir, name, file) != OZ_WK_OK)
        return;
    FILE *f = fopen(p, "r");
    if (!f)
        return;
    if (!fgets(buf, (int)len, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
}

bool oz_wk_on_battery(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool battery = false, mains = false;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char type[64], online[16];
        read_attr(dir, e->d_name, "type", type, sizeof type);
        if (strcmp(type, "Battery") == 0) {
            battery = true;
            continue;
        }
        read_attr(dir, e->d_name, "online", online, sizeof online);
        if (strcmp(online, "1") == 0)
            mains = true;
    }
    closedir(d);
    return battery && !mains;
}

uint64_t oz_wk_disk_usage(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    uint64_t total = 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[OZ_WK_PATH_MAX];
        if (oz_wk_path(sub, sizeof sub, "%s/%s", path, e->d_name) == OZ_WK_OK)
            total += oz_wk_disk_usage(sub);
    }
    closedir(d);
    return total;
}
