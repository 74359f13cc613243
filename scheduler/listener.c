/*
 * listener.c - the accept thread: admission, the 503 at the door, and the
 * sweep of connections past their deadlines (listener.h).
 *
 * One thread polls three kinds of descriptor: an eventfd that wakes it (to
 * pause or stop), the listening socket (unless paused, or for a moment
 * after the process ran out of descriptors, when accepting would only
 * spin), and the refused connections that are lingering: their 503 has
 * been written and their write side shut, and the thread reads and drops
 * what the client still sends until it closes or LINGER_S pass.  Closing
 * at once would leave the client's unread request in our receive queue,
 * and the kernel would answer it with a reset that can destroy the 503
 * before the client reads it.  At most LINGER_MAX linger; beyond that a
 * refused connection is closed at once.
 *
 * Refusals and deadline closes are not logged one by one (an attack would
 * flood the log); they are counted in the metrics.
 *
 * _GNU_SOURCE: accept4 (a socket accepted non-blocking and close-on-exec
 * in one call) is a Linux extension.
 */
#define _GNU_SOURCE
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "sched_errors.h"

#define SWEEP_S 0.25    /* how often deadlines are checked */
#define LINGER_MAX 64   /* refused connections draining at once */
#define LINGER_S 2.0    /* how long one may drain */
#define ACCEPTS_MAX 256 /* connections accepted per wake-up */
#define STARVED_S 0.1   /* no accepting for this long after EMFILE */
#define RETRY_AFTER "5" /* seconds, in the 503 */

struct lingering {
    int fd;
    double until;
};

struct oz_listener {
    int fd;          /* listening */
    int placeholder; /* for libmicrohttpd, until quiesced; -1 after */
    int wake;        /* eventfd */
    int port;
    struct MHD_Daemon *daemon;
    oz_conns *conns;
    oz_metrics *metrics;
    pthread_t thread;
    bool started;
    atomic_bool paused, stop;
    /* the thread's own */
    struct lingering linger[LINGER_MAX];
    size_t nlinger;
    double starved_until;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int oz_listener_open(const struct sockaddr *sa, socklen_t len, oz_listener **out, char *why,
                     size_t whylen)
{
    *out = NULL;
    int rc = 0;
    oz_listener *l = calloc(1, sizeof *l);
    if (!l)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "out of memory");
    l->fd = l->placeholder = l->wake = -1;
    atomic_init(&l->paused, false);
    atomic_init(&l->stop, false);
    int one = 1;
    l->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(l->fd, sa, len) != 0 || listen(l->fd, 1024) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "cannot listen: %s", strerror(errno));
        goto fail;
    }
    struct sockaddr_storage got;
    socklen_t glen = sizeof got;
    if (getsockname(l->fd, (struct sockaddr *)&got, &glen) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "getsockname: %s", strerror(errno));
        goto fail;
    }
    l->port = got.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&got)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&got)->sin_port);
    /* The placeholder: a Unix socket bound with a bare family, which makes
     * Linux choose it a unique abstract name (no file anywhere). */
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    l->placeholder = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->placeholder < 0 || bind(l->placeholder, (struct sockaddr *)&un, sizeof(sa_family_t)) ||
        listen(l->placeholder, 1) != 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "placeholder socket: %s", strerror(errno));
        goto fail;
    }
    l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->wake < 0) {
        rc = oz_sched_fail(OZ_SCHED_EIO, why, whylen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    *out = l;
    return 0;
fail:
    if (l->fd >= 0)
        close(l->fd);
    if (l->placeholder >= 0)
        close(l->placeholder);
    free(l);
    return rc;
}

int oz_listener_port(const oz_listener *l)
{
    return l->port;
}

int oz_listener_placeholder(const oz_listener *l)
{
    return l->placeholder;
}

void oz_listener_quiesce(oz_listener *l, struct MHD_Daemon *d)
{
    MHD_socket s = d ? MHD_quiesce_daemon(d) : MHD_INVALID_SOCKET;
    if (s != MHD_INVALID_SOCKET)
        close(s);
    l->placeholder = -1;
}

/* The 503 for a refusal of kind why (conns.h). */
static void refuse(oz_listener *l, int fd, int why, double now)
{
    static const char addr_body[] =
        "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections from your "
        "address; close some, or retry after the Retry-After seconds\"}}";
    static const char full_body[] =
        "{\"error\":{\"code\":\"unavailable\",\"message\":\"the server has all the connections "
        "it takes; retry after the Retry-After seconds\"}}";
    const char *body = why == OZ_CONNS_ADDR_FULL ? addr_body : full_body;
    size_t blen = why == OZ_CONNS_ADDR_FULL ? sizeof addr_body - 1 : sizeof full_body - 1;
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                     "Retry-After: " RETRY_AFTER "\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     blen);
    struct iovec iov[2] = {{head, (size_t)n}, {(void *)(uintptr_t)body, blen}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    (void)sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); /* a fresh socket's buffer takes it */
    shutdown(fd, SHUT_WR);
    if (l->metrics)
        oz_metrics_connection(l->metrics, why == OZ_CONNS_ADDR_FULL ? OZ_CONN_REFUSED_ADDR
                                                                    : OZ_CONN_REFUSED_FULL);
    if (l->nlinger < LINGER_MAX)
        l->linger[l->nlinger++] = (struct lingering){fd, now + LINGER_S};
    else
        close(fd);
}

static void accept_some(oz_listener *l, double now)
{
    for (int i = 0; i < ACCEPTS_MAX; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                l->starved_until = now + STARVED_S;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN: none left */
        }
        int why = oz_conns_admit(l->conns, fd, oz_ratelimit_addr_hash((struct sockaddr *)&ss), now);
        if (why) {
            refuse(l, fd, why, now);
            continue;
        }
        if (MHD_add_connection(l->daemon, fd, (struct sockaddr *)&ss, len) != MHD_YES)
            oz_conns_release(l->conns, fd); /* libmicrohttpd closed it */
    }
}

/* Reads and drops what a lingering connection still sends; true when it
 * is done with (closed by the client, failed, or out of time). */
static bool drain(struct lingering *g, double now)
{
    char buf[4096];
    for (int k = 0; k < 16; k++) {
        ssize_t n = recv(g->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return true;
        if (n < 0)
            break;
    }
    return now >= g->until;
}

static void cut(int fd, void *arg)
{
    oz_listener *l = arg;
    shutdown(fd, SHUT_RDWR);
    if (l->metrics)
        oz_metrics_connection(l->metrics, OZ_CONN_DEADLINE);
}

static void *run(void *arg)
{
    oz_listener *l = arg;
    double next_sweep = 0;
    struct pollfd p[2 + LINGER_MAX];
    while (!atomic_load(&l->stop)) {
        double now = mono_now();
        bool listening = !atomic_load(&l->paused) && now >= l->starved_until;
        p[0] = (struct pollfd){.fd = l->wake, .events = POLLIN};
        p[1] = (struct pollfd){.fd = listening ? l->fd : -1, .events = POLLIN};
        for (size_t i = 0; i < l->nlinger; i++)
            p[2 + i] = (struct pollfd){.fd = l->linger[i].fd, .events = POLLIN};
        int timeout_ms = (int)(SWEEP_S * 1000 / 2);
        if (poll(p, 2 + l->nlinger, timeout_ms) < 0 && errno != EINTR)
            break;
        now = mono_now();
        if (p[0].revents & POLLIN) {
            uint64_t v;
            (void)!read(l->wake, &v, sizeof v);
        }
        for (size_t i = 0; i < l->nlinger;) { /* each was polled: none added since */
            if ((p[2 + i].revents || now >= l->linger[i].until) && drain(&l->linger[i], now)) {
                close(l->linger[i].fd);
                l->linger[i] = l->linger[--l->nlinger];
                p[2 + i] = p[2 + l->nlinger];
                continue;
            }
            i++;
        }
        if (listening && (p[1].revents & POLLIN))
            accept_some(l, now);
        if (now >= next_sweep) {
            oz_conns_sweep(l->conns, now, cut, l);
            next_sweep = now + SWEEP_S;
        }
    }
    for (size_t i = 0; i < l->nlinger; i++)
        close(l->linger[i].fd);
    l->nlinger = 0;
    return NULL;
}

int oz_listener_start(oz_listener *l, struct MHD_Daemon *d, oz_conns *c, oz_metrics *m, char *why,
                      size_t whylen)
{
    l->daemon = d;
    l->conns = c;
    l->metrics = m;
    if (pthread_create(&l->thread, NULL, run, l) != 0)
        return oz_sched_fail(OZ_SCHED_ENOMEM, why, whylen, "cannot start the accept thread");
    l->started = true;
    return 0;
}

static void wake(oz_listener *l)
{
    uint64_t one = 1;
    (void)!write(l->wake, &one, sizeof one);
}

void oz_listener_pause(oz_listener *l)
{
    atomic_store(&l->paused, true);
    wake(l);
}

void oz_listener_close(oz_listener *l)
{
    if (!l)
        return;
    if (l->started) {
        atomic_store(&l->stop, true);
        wake(l);
        pthread_join(l->thread, NULL);
    }
    close(l->fd);
    if (l->placeholder >= 0)
        close(l->placeholder);
    close(l->wake);
    free(l);
}
