/*
 * conns.h - the server's open connections: who may connect, and how long a
 * request may take to arrive (listener.c admits and sweeps, http.c reports
 * each request's progress).
 *
 * libmicrohttpd's connection timeout is an idle timeout, so a client that
 * sends a byte every few seconds holds its connection for ever, and at its
 * connection limit libmicrohttpd stops accepting: new clients wait in the
 * listen queue.  So the server counts connections itself, by total and by
 * client address (oz_ratelimit_addr_hash: an IPv4 address, an IPv6 /64),
 * and gives every connection deadlines:
 *
 *   - headers: a request's headers must be whole within header_s of the
 *     connection's start, or of the end of the previous response on a
 *     kept-alive connection (idle time counts: a connection kept alive for
 *     longer is closed, and a client reconnects);
 *   - body: once the headers are in, the body must arrive at body_rate
 *     bytes a second on average, after header_s of grace (so a 4 MiB
 *     upload at 8 KiB/s may take 8.5 minutes, a trickle of a byte a second
 *     is cut after header_s);
 *   - none while the request is being handled or answered (a stalled reader
 *     meets libmicrohttpd's idle timeout).
 *
 * A connection is keyed by its socket descriptor from its admission to its
 * release.  One mutex guards the table; the sweep calls its callback with
 * the mutex held, so a descriptor it names cannot be closed and reused
 * meanwhile (libmicrohttpd tells the server a connection closed - which
 * releases it here - before it closes the socket).  Memory is allocated
 * once, for `total` connections.
 */
#ifndef OZ_SCHED_CONNS_H
#define OZ_SCHED_CONNS_H

#include <stddef.h>
#include <stdint.h>

typedef struct oz_conns oz_conns;

typedef struct oz_conns_limits {
    size_t total;     /* connections open at once, >= 1 */
    size_t per_addr;  /* from one client address; 0: no limit */
    double header_s;  /* headers within this many seconds, > 0 */
    double body_rate; /* body bytes a second on average, after header_s of grace; 0: none */
} oz_conns_limits;

/* What a connection is doing, for its deadline. */
typedef enum oz_conn_phase {
    OZ_CONN_HEADERS, /* waiting for a request's headers */
    OZ_CONN_BODY,    /* reading a request's body */
    OZ_CONN_BUSY,    /* handling or answering a request: no deadline */
} oz_conn_phase;

/* Why oz_conns_admit refused. */
#define OZ_CONNS_FULL 1      /* total open */
#define OZ_CONNS_ADDR_FULL 2 /* per_addr open from that address */

int oz_conns_new(const oz_conns_limits *l, oz_conns **out);
void oz_conns_free(oz_conns *c);

/* Counts a new connection on socket fd from addr_key at time now (seconds,
 * monotonic), in the headers phase: 0, or OZ_CONNS_FULL / OZ_CONNS_ADDR_FULL
 * when it must be turned away (nothing counted).  A descriptor still
 * counted from before was closed without its release (a connection that
 * libmicrohttpd dropped before it began): that one is released first. */
int oz_conns_admit(oz_conns *c, int fd, uint64_t addr_key, double now);
/* libmicrohttpd has begun serving fd: from now on the sweep may close it. */
void oz_conns_begun(oz_conns *c, int fd);
/* Uncounts fd (closed).  Unknown descriptors are ignored. */
void oz_conns_release(oz_conns *c, int fd);
/* fd enters phase p at time now (its deadline starts over). */
void oz_conns_phase(oz_conns *c, int fd, oz_conn_phase p, double now);
/* n more body bytes have arrived on fd. */
void oz_conns_body(oz_conns *c, int fd, size_t n);

/* Calls past(fd, arg) once for each begun connection past its deadline at
 * time now, with the table's mutex held (past must not call back into c);
 * returns how many.  A connection is named once: it is expected to close. */
size_t oz_conns_sweep(oz_conns *c, double now, void (*past)(int fd, void *arg), void *arg);
/* Connections counted now, in all and from addr_key. */
size_t oz_conns_open(oz_conns *c);
size_t oz_conns_open_from(oz_conns *c, uint64_t addr_key);

#endif
