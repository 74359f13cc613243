/*
 * listener.h - the server's listening socket, accepted by a thread of its
 * own rather than by libmicrohttpd (http.c), so that a connection the
 * server will not serve is told so at once.
 *
 * libmicrohttpd at its connection limit stops accepting: the next clients
 * wait in the kernel's listen queue until a slot frees, which under a
 * slow-client attack is never; past its per-address limit it closes the
 * connection without a word.  The listener instead accepts every
 * connection and asks the connection table (conns.h) whether to serve it:
 * if so it hands it to libmicrohttpd's pool (MHD_add_connection), and if
 * not it writes a 503 with Retry-After itself, closes its side and lets
 * the client's request drain for a moment (so the answer is not lost to a
 * reset).  Every SWEEP seconds it also closes the connections past their
 * header or body deadline (conns.h), by shutting their sockets down:
 * libmicrohttpd then reads the end of the stream and closes them as it
 * would a client that went away.
 *
 * libmicrohttpd is started with a placeholder listening socket (a Unix
 * socket with an abstract name no client is told) and quiesced at once
 * (oz_listener_quiesce), so that it never accepts anything itself.
 */
#ifndef OZ_SCHED_LISTENER_H
#define OZ_SCHED_LISTENER_H

#include <sys/socket.h>

#include <microhttpd.h>

#include "conns.h"
#include "metrics.h"

typedef struct oz_listener oz_listener;

/* Binds and listens on sa (port 0: a free port), and makes the placeholder
 * socket for libmicrohttpd.  Nothing is accepted until oz_listener_start. */
int oz_listener_open(const struct sockaddr *sa, socklen_t len, oz_listener **out, char *why,
                     size_t whylen);
/* The port bound. */
int oz_listener_port(const oz_listener *l);
/* The socket to give libmicrohttpd as MHD_OPTION_LISTEN_SOCKET (it owns it
 * from then on, until oz_listener_quiesce takes it back). */
int oz_listener_placeholder(const oz_listener *l);
/* Quiesces d (so it never accepts) and closes the placeholder it returns.
 * d NULL: libmicrohttpd failed to start and may have closed the placeholder
 * itself; it is forgotten (not closed twice). */
void oz_listener_quiesce(oz_listener *l, struct MHD_Daemon *d);
/* Starts the thread: connections go to d when c admits them.  d, c and m
 * (may be NULL: nothing counted) are borrowed and must outlive
 * oz_listener_close. */
int oz_listener_start(oz_listener *l, struct MHD_Daemon *d, oz_conns *c, oz_metrics *m, char *why,
                      size_t whylen);
/* Stops accepting (new clients wait in the listen queue until close); the
 * sweep goes on. */
void oz_listener_pause(oz_listener *l);
/* Stops the thread and closes the sockets; call before stopping d. */
void oz_listener_close(oz_listener *l);

#endif
