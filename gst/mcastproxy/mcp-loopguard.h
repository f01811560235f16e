/* mcastproxy — loop safety of forwarded datagrams, the rules in one place.
 *
 * A datagram that crosses TCP links can come back: over a redundant path,
 * round a ring, or from a second connection of the same peer. Two pieces
 * keep that in check:
 *
 * - McpLoopGuard decides whether a datagram goes on. Each link crossed adds
 *   one to its hop count (saturating at 255); one beyond max-hops is
 *   dropped; then one already seen (same origin, family, group, port and
 *   sequence number, within the dedup window) is dropped. It counts what it
 *   lets through and what it drops, and why.
 * - McpElection keeps, of several connections with the same nonzero peer id
 *   (gateways of one island, two nodes that both call each other), one
 *   active; the others stand by, and when the active one leaves the oldest
 *   standing by takes over.
 *
 * Locking: neither is thread-safe. Each has one owner, which makes every
 * call on it (the getters too) under one lock of its own, or from one
 * thread only.
 *
 * Pure code: no sockets, no GStreamer.
 */
#ifndef __MCP_LOOPGUARD_H__
#define __MCP_LOOPGUARD_H__

#include <glib.h>

#include "mcp-wire.h"

G_BEGIN_DECLS

/* The dedup window of every forwarding element: how many sequence numbers
 * back a duplicate is recognised per stream, how many streams are tracked
 * at once, and when an idle stream is forgotten (µs). */
#define MCP_LOOP_GUARD_WINDOW 8192
#define MCP_LOOP_GUARD_MAX_STREAMS 1024
#define MCP_LOOP_GUARD_EXPIRY_US (60 * G_TIME_SPAN_SECOND)

/* The hop limit of a new guard, and the largest there is (a hop count is
 * one byte). */
#define MCP_LOOP_GUARD_DEFAULT_MAX_HOPS 16
#define MCP_LOOP_GUARD_MAX_HOPS G_MAXUINT8

typedef enum
{
  MCP_LOOP_GUARD_PASS,          /* goes on; now remembered */
  MCP_LOOP_GUARD_HOPS_EXCEEDED, /* crossed more links than max-hops */
  MCP_LOOP_GUARD_DUPLICATE,     /* seen before, or too old to tell */
} McpLoopGuardVerdict;

typedef struct _McpLoopGuard McpLoopGuard;

/* A guard with MCP_LOOP_GUARD_DEFAULT_MAX_HOPS, no dedup window and its
 * counters at 0; it lets everything within the hop limit through until
 * mcp_loop_guard_start(). */
McpLoopGuard *mcp_loop_guard_new (void);
void mcp_loop_guard_free (McpLoopGuard * guard);

/* 0: no limit; at most MCP_LOOP_GUARD_MAX_HOPS. Takes effect with the next
 * datagram. */
void mcp_loop_guard_set_max_hops (McpLoopGuard * guard, guint max_hops);
guint mcp_loop_guard_get_max_hops (McpLoopGuard * guard);

/* A new run: the counters back to 0, and a new, empty dedup window (with
 * dedup) or none (every datagram within the hop limit goes on). */
void mcp_loop_guard_start (McpLoopGuard * guard, gboolean dedup);
/* Forgets the window; the counters stay as they are until the next start. */
void mcp_loop_guard_stop (McpLoopGuard * guard);

/* A datagram that crossed one more link: its hop count plus one, at most
 * MCP_LOOP_GUARD_MAX_HOPS. */
void mcp_loop_guard_cross_link (McpFrameMeta * meta);

/* Whether a datagram goes on, meta as it is (a datagram of this node's own:
 * it crossed no link yet). The hop limit first, then the window; what
 * passes is remembered, so that it is dropped when it comes back. now_us: a
 * monotonic time in µs. */
McpLoopGuardVerdict mcp_loop_guard_admit (McpLoopGuard * guard,
    const McpFrameMeta * meta, gint64 now_us);
/* The same for a datagram just received over a link: crosses it first
 * (meta's hop count goes up, to be sent on as it is now). */
McpLoopGuardVerdict mcp_loop_guard_admit_received (McpLoopGuard * guard,
    McpFrameMeta * meta, gint64 now_us);

/* Since the last start: datagrams let through, and dropped for each
 * reason. Every mcp_loop_guard_admit*() call counts in exactly one. */
guint64 mcp_loop_guard_get_passed (McpLoopGuard * guard);
guint64 mcp_loop_guard_get_hops_exceeded (McpLoopGuard * guard);
guint64 mcp_loop_guard_get_duplicates (McpLoopGuard * guard);

/* ---- one active connection per peer id ------------------------------- */

typedef struct _McpElection McpElection;

McpElection *mcp_election_new (void);
/* Forgets every member. */
void mcp_election_free (McpElection * election);

/* member (any pointer, not NULL; once until it leaves) is ready to serve
 * peer_id. Returns TRUE when it is active: the first of its peer id, or of
 * peer id 0, which is never elected (no peer id: every such connection is
 * active and none is recorded). FALSE: it stands by, behind those who
 * joined before it. */
gboolean mcp_election_join (McpElection * election, guint64 peer_id,
    gpointer member);
/* member of peer_id leaves. When it was the active one, the oldest member
 * standing by (the first to join of those left) becomes active and is
 * returned; otherwise (it stood by, or never joined: peer id 0, say)
 * nothing changes and NULL is returned. */
gpointer mcp_election_leave (McpElection * election, guint64 peer_id,
    gpointer member);
/* The active member of peer_id, or NULL (nobody, or peer id 0). */
gpointer mcp_election_get_active (McpElection * election, guint64 peer_id);
/* Members standing by for peer_id. */
guint mcp_election_get_n_standby (McpElection * election, guint64 peer_id);

G_END_DECLS

#endif /* __MCP_LOOPGUARD_H__ */
