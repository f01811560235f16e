/* mcastproxy — multicast memberships: reference-counted joins and the
 * policy that keeps them through interface changes. */
#ifndef __MCP_MEMBERSHIP_H__
#define __MCP_MEMBERSHIP_H__

#include <gio/gio.h>

#include "mcp-netlink.h"

G_BEGIN_DECLS

/* A table of memberships, each one reference-counted and keyed by
 * (socket, group, interface, source):
 *
 * - the socket is part of the key because the kernel keeps memberships per
 *   socket, and our sockets (bound to their group, IP_MULTICAST_ALL off)
 *   receive only what they joined themselves. One socket per group and
 *   port (mcastsrc-relay, a channel gateway's channels) and one socket
 *   with many groups (a raw socket of an IGMP-driven island) fit alike.
 *   The table never looks into a socket: it hands it to env->apply;
 * - the interface is a configured name, followed when it is removed and
 *   made anew, or NULL: the default one, which follows the route to the
 *   group;
 * - the source is NULL for any source, or one source of a source-specific
 *   join; a (socket, group, interface) is either any-source or SSM.
 *
 * The first reference joins; the last one leaves, after the linger unless
 * joined again meanwhile (then nothing happens: no leave, no re-join).
 *
 * It decides only: what it does goes out as actions to env->apply, and
 * what it needs to know of the host comes from env, so that tests drive
 * it with made-up interfaces and events. mcp_membership_driver_new()
 * gives it the real ones. Not thread-safe: one thread at a time. */
typedef struct _McpMembership McpMembership;

typedef enum
{
  /* join group on ifindex from source (NULL: any source) */
  MCP_MEMBERSHIP_JOIN,
  /* leave it; the result does not matter (the interface may be gone) */
  MCP_MEMBERSHIP_LEAVE,
  /* leave and at once join again group on ifindex, from every source in
   * sources (empty: any source), as mcp_mcast_rejoin() */
  MCP_MEMBERSHIP_REJOIN,
} McpMembershipActionType;

typedef struct
{
  McpMembershipActionType type;
  gpointer socket;
  GInetAddress *group;
  guint ifindex;                /* 0: let the kernel choose */
  GInetAddress *source;         /* JOIN, LEAVE */
  GPtrArray *sources;           /* REJOIN: GInetAddress */
  const gchar *where;           /* the interface, for logs */
  const gchar *reason;          /* why, for logs; NULL for a JOIN */
} McpMembershipAction;

typedef struct
{
  /* the interface the kernel routes group over; 0: none */
  guint (*route_interface) (GInetAddress * group, gpointer data);
  /* the interface named ifname; 0: none */
  guint (*link_index) (const gchar * ifname, gpointer data);
  gboolean (*link_is_up) (guint ifindex, gpointer data);
  /* for logs: the name of ifindex, NULL when not known */
  const gchar *(*link_name) (guint ifindex, gpointer data);
  /* does what the action says; FALSE with error set when a JOIN or a
   * REJOIN failed. It must not call into the table. */
  gboolean (*apply) (const McpMembershipAction * action, gpointer data,
      GError ** error);
  /* optional: the table holds a socket from its first membership until
   * its last one is left */
  void (*socket_ref) (gpointer socket, gpointer data);
  void (*socket_unref) (gpointer socket, gpointer data);
  /* optional: G_LOG_LEVEL_INFO or G_LOG_LEVEL_WARNING, one line */
  void (*log) (GLogLevelFlags level, const gchar * message, gpointer data);
  gpointer data;
} McpMembershipEnv;

/* linger: how long (ns) a membership nobody wants any more stays, in case
 * it is wanted again; 0 leaves at once. */
McpMembership *mcp_membership_new (const McpMembershipEnv * env,
    guint64 linger);
/* Forgets every membership without leaving it (closing a socket leaves
 * its memberships) and drops the sockets. */
void mcp_membership_free (McpMembership * mb);

/* Takes a reference; the first one joins. A named interface must exist.
 * FALSE with error set when the join failed, nothing changed then. A
 * reference taken while the membership waits for its interface (gone),
 * or after its re-join failed, joins with the next re-join. */
gboolean mcp_membership_join (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname, GInetAddress * source,
    GError ** error);
/* Drops a reference; with the last one, leaves at now + linger (ns,
 * monotonic, as mcp_membership_tick), or at once when linger is 0. FALSE
 * when there was no reference to drop. reason: why, for the log and the
 * notification of a leave at once (NULL: "no longer wanted"); a leave
 * after the linger says so instead. */
gboolean mcp_membership_leave (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname, GInetAddress * source,
    guint64 now, const gchar * reason);
/* Joins group on each interface of ifnames (names; NULL or empty: the
 * default one) from each source of sources (GInetAddress; NULL or empty:
 * any source). All or nothing: when one join fails, those made are left
 * again (at once) and error says which failed. */
gboolean mcp_membership_join_each (McpMembership * mb, gpointer socket,
    GInetAddress * group, GPtrArray * ifnames, GPtrArray * sources,
    GError ** error);
/* Drops what mcp_membership_join_each() took. */
void mcp_membership_leave_each (McpMembership * mb, gpointer socket,
    GInetAddress * group, GPtrArray * ifnames, GPtrArray * sources,
    guint64 now, const gchar * reason);
/* Leaves every membership at once, whatever its references and linger,
 * for reason, and lets go of the sockets. */
void mcp_membership_leave_all (McpMembership * mb, const gchar * reason);

/* A membership the socket took or lost (mcp_membership_set_notify). */
typedef struct
{
  gboolean joined;              /* TRUE: joined; FALSE: left */
  gpointer socket;
  GInetAddress *group;
  GInetAddress *source;         /* NULL: any source */
  const gchar *ifname;          /* as configured; NULL: the default one */
  guint ifindex;                /* where; 0: not known */
  const gchar *reason;          /* left: why; NULL when joined */
} McpMembershipChange;

typedef void (*McpMembershipNotifyFunc) (const McpMembershipChange * change,
    gpointer data);

/* Tells func when each membership (socket, group, interface, source)
 * starts and ends, once each, so that the owner can report them: joined
 * when a join worked, or a re-join after the membership was lost; left
 * when it is left, lost with its interface or its route, or when a re-join
 * failed. A re-join of a membership that is held (rejoin-interval, a link
 * back up) changes nothing and is not told. func must not call into the
 * table. */
void mcp_membership_set_notify (McpMembership * mb,
    McpMembershipNotifyFunc func, gpointer data);

/* References held (0 while lingering, or when not a member). */
guint mcp_membership_count (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname, GInetAddress * source);
gboolean mcp_membership_is_empty (McpMembership * mb);

/* Interface changes, in the order they happened, each handled when the
 * host is as it was just after it (env tells). They may lose memberships
 * at once; re-joins wait for mcp_membership_flush(), so that a burst of
 * events re-joins once per membership. */
void mcp_membership_event (McpMembership * mb, const McpNetlinkEvent * ev);
void mcp_membership_flush (McpMembership * mb);

/* Every interval ns (0: never), counted from the first tick after a
 * change, every membership is re-joined (so that switches that forget
 * members hear of it again). Setting the same interval changes nothing. */
void mcp_membership_set_rejoin_interval (McpMembership * mb,
    guint64 interval, guint64 now);
/* Leaves what lingered long enough and re-joins when rejoin-interval says
 * so. Returns when to tick next, G_MAXUINT64 for never. */
guint64 mcp_membership_tick (McpMembership * mb, guint64 now);

/* The re-joins that worked and that failed since the last call. */
void mcp_membership_take_counts (McpMembership * mb, guint64 * rejoins,
    guint64 * failures);

/* For logs: "eth0", or "the default interface (eth0)" when the group's
 * route is known. */
gchar *mcp_membership_where (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname);

/* ---- the driver: the real host --------------------------------------- */

typedef struct _McpMembershipDriver McpMembershipDriver;

typedef void (*McpMembershipLogFunc) (GLogLevelFlags level,
    const gchar * message, gpointer data);

/* A table whose sockets are GSockets (referenced while they have a
 * membership), joined with mcp_mcast_join/leave/rejoin, and whose
 * interfaces are watched with rtnetlink from now on: create it before the
 * first join so that no change after that goes unseen. When interfaces
 * cannot be watched it says so through log and works without. */
McpMembershipDriver *mcp_membership_driver_new (guint64 linger,
    McpMembershipLogFunc log, gpointer data);
void mcp_membership_driver_free (McpMembershipDriver * d);
McpMembership *mcp_membership_driver_get_table (McpMembershipDriver * d);

/* The watch's fd to poll for reading; -1 when interfaces are not watched
 * (or no longer: a failed read stops the watch, with a warning). */
gint mcp_membership_driver_get_fd (McpMembershipDriver * d);
/* Reads what changed on the interfaces and re-joins where that calls for
 * it. Never blocks. */
void mcp_membership_driver_dispatch (McpMembershipDriver * d);

G_END_DECLS

#endif /* __MCP_MEMBERSHIP_H__ */
