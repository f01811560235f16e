/* mcastproxy — multicast memberships: reference-counted joins and the
 * policy that keeps them through interface changes. */
#include "config.h"

#include "mcp-membership.h"
#include "mcp-mcast.h"

#include <net/if.h>
#include <string.h>

/* One source's references (NULL: any source). */
typedef struct
{
  GInetAddress *source;
  guint refs;
  guint64 leave_at;             /* with refs 0: when the linger ends */
  gboolean held;                /* a join was tried on the member's ifindex
                                 * since the last leave: the socket may
                                 * hold it */
  gboolean told;                /* notified as joined, not yet as left */
} Ref;

/* The group's membership on one interface, for one socket. */
typedef struct
{
  gpointer socket;
  GInetAddress *group;
  gchar *ifname;                /* as configured; NULL: the default one */
  guint ifindex;                /* where it is; 0: gone, or not known */
  gboolean joined;              /* the last (re-)join there worked */
  gboolean went_down;           /* its link went down since the join */
  gboolean pending;             /* to re-join after the events at hand */
  gchar *reason;                /* why, for the log */
  GArray *refs;                 /* Ref */
} Member;

struct _McpMembership
{
  McpMembershipEnv env;
  guint64 linger;
  GPtrArray *members;           /* Member, in the order first joined */
  guint64 rejoin_interval;      /* the interval next_rejoin is set for */
  guint64 next_rejoin;
  guint64 rejoins;
  guint64 rejoin_failures;
  McpMembershipNotifyFunc notify;
  gpointer notify_data;
};

static guint64
deadline (guint64 now, guint64 delay)
{
  return delay > G_MAXUINT64 - now ? G_MAXUINT64 : now + delay;
}

/* *INDENT-OFF* */
static void say (McpMembership * mb, GLogLevelFlags level,
    const gchar * format, ...) G_GNUC_PRINTF (3, 4);
/* *INDENT-ON* */

static void
say (McpMembership * mb, GLogLevelFlags level, const gchar * format, ...)
{
  va_list args;
  gchar *message;

  if (!mb->env.log)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  mb->env.log (level, message, mb->env.data);
  g_free (message);
}

/* ---- the table --------------------------------------------------------- */

static void
clear_ref (gpointer data)
{
  Ref *r = data;

  g_clear_object (&r->source);
}

static void
member_free (McpMembership * mb, Member * m)
{
  if (mb->env.socket_unref)
    mb->env.socket_unref (m->socket, mb->env.data);
  g_object_unref (m->group);
  g_free (m->ifname);
  g_free (m->reason);
  g_array_unref (m->refs);
  g_free (m);
}

static Member *
find_member (McpMembership * mb, gpointer socket, GInetAddress * group,
    const gchar * ifname)
{
  guint i;

  for (i = 0; i < mb->members->len; i++) {
    Member *m = g_ptr_array_index (mb->members, i);

    if (m->socket == socket && g_inet_address_equal (m->group, group)
        && g_strcmp0 (m->ifname, ifname) == 0)
      return m;
  }
  return NULL;
}

static gboolean
same_source (GInetAddress * a, GInetAddress * b)
{
  return a == b || (a && b && g_inet_address_equal (a, b));
}

static Ref *
find_ref (Member * m, GInetAddress * source, guint * index)
{
  guint i;

  for (i = 0; i < m->refs->len; i++) {
    Ref *r = &g_array_index (m->refs, Ref, i);

    if (same_source (r->source, source)) {
      if (index)
        *index = i;
      return r;
    }
  }
  return NULL;
}

/* Notifies r of m as joined or left, unless it was told so already. */
static void
tell (McpMembership * mb, Member * m, Ref * r, gboolean joined,
    const gchar * reason)
{
  McpMembershipChange c = { joined, m->socket, m->group, r->source,
    m->ifname, m->ifindex, joined ? NULL : reason
  };

  if (r->told == joined)
    return;
  r->told = joined;
  if (mb->notify)
    mb->notify (&c, mb->notify_data);
}

/* For logs: "eth0", "the default interface (eth0)", "the default
 * interface". */
static gchar *
member_where (McpMembership * mb, Member * m)
{
  const gchar *name = NULL;

  if (m->ifname)
    return g_strdup (m->ifname);
  if (m->ifindex)
    name = mb->env.link_name (m->ifindex, mb->env.data);
  if (name)
    return g_strdup_printf ("the default interface (%s)", name);
  return g_strdup ("the default interface");
}

/* Leaves from source (NULL: any) on m's interface. */
static void
apply_leave (McpMembership * mb, Member * m, GInetAddress * source,
    const gchar * where, const gchar * reason)
{
  McpMembershipAction a = { MCP_MEMBERSHIP_LEAVE, m->socket, m->group,
    m->ifindex, source, NULL, where, reason
  };

  mb->env.apply (&a, mb->env.data, NULL);
}

/* Our membership on m's interface is gone, or going: drop what the socket
 * still records of it. */
static void
member_lost (McpMembership * mb, Member * m, const gchar * reason)
{
  gchar *where = member_where (mb, m);
  guint j;

  for (j = 0; j < m->refs->len; j++) {
    Ref *r = &g_array_index (m->refs, Ref, j);

    if (r->held)
      apply_leave (mb, m, r->source, where, reason);
    r->held = FALSE;
    tell (mb, m, r, FALSE, reason);
  }
  g_free (where);
  m->joined = FALSE;
  m->ifindex = 0;
}

/* Leaves one source's membership that nobody wants any more; the last one
 * takes m with it (then FALSE). */
static gboolean
drop_ref (McpMembership * mb, Member * m, guint index, const gchar * reason)
{
  Ref *r = &g_array_index (m->refs, Ref, index);

  if (r->held) {
    gchar *where = member_where (mb, m);
    gchar *group = g_inet_address_to_string (m->group);

    apply_leave (mb, m, r->source, where, reason);
    say (mb, G_LOG_LEVEL_INFO, "left %s on %s: %s", group, where, reason);
    g_free (group);
    g_free (where);
  }
  tell (mb, m, r, FALSE, reason);
  g_array_remove_index (m->refs, index);
  if (m->refs->len > 0)
    return TRUE;
  g_ptr_array_remove (mb->members, m);
  member_free (mb, m);
  return FALSE;
}

McpMembership *
mcp_membership_new (const McpMembershipEnv * env, guint64 linger)
{
  McpMembership *mb = g_new0 (McpMembership, 1);

  mb->env = *env;
  mb->linger = linger;
  mb->members = g_ptr_array_new ();
  return mb;
}

void
mcp_membership_free (McpMembership * mb)
{
  guint i;

  if (!mb)
    return;
  for (i = 0; i < mb->members->len; i++)
    member_free (mb, g_ptr_array_index (mb->members, i));
  g_ptr_array_unref (mb->members);
  g_free (mb);
}

/* The first reference of a new member: joins, or fails. */
static Member *
member_new (McpMembership * mb, gpointer socket, GInetAddress * group,
    const gchar * ifname, GInetAddress * source, GError ** error)
{
  McpMembershipAction a = { MCP_MEMBERSHIP_JOIN, socket, group };
  Ref r = { source ? g_object_ref (source) : NULL, 1, 0, TRUE, FALSE };
  Member *m;
  gchar *where;
  gboolean ok;

  if (ifname) {
    a.ifindex = mb->env.link_index (ifname, mb->env.data);
    if (a.ifindex == 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "no network interface named '%s'", ifname);
      g_clear_object (&r.source);
      return NULL;
    }
  } else {
    a.ifindex = mb->env.route_interface (group, mb->env.data);
  }

  m = g_new0 (Member, 1);
  m->socket = socket;
  m->group = g_object_ref (group);
  m->ifname = g_strdup (ifname);
  m->ifindex = a.ifindex;
  m->refs = g_array_new (FALSE, FALSE, sizeof (Ref));
  g_array_set_clear_func (m->refs, clear_ref);
  g_array_append_val (m->refs, r);
  if (mb->env.socket_ref)
    mb->env.socket_ref (socket, mb->env.data);

  where = member_where (mb, m);
  a.source = source;
  a.where = where;
  ok = mb->env.apply (&a, mb->env.data, error);
  g_free (where);
  if (!ok) {
    member_free (mb, m);
    return NULL;
  }
  m->joined = TRUE;
  g_ptr_array_add (mb->members, m);
  tell (mb, m, &g_array_index (m->refs, Ref, 0), TRUE, NULL);
  return m;
}

gboolean
mcp_membership_join (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname, GInetAddress * source,
    GError ** error)
{
  Member *m = find_member (mb, socket, group, ifname);
  Ref *r, added = { NULL, 1, 0, FALSE, FALSE };
  gchar *where;
  gboolean ok = TRUE;

  if (!m)
    return member_new (mb, socket, group, ifname, source, error) != NULL;

  r = find_ref (m, source, NULL);
  if (r) {
    /* wanted again while lingering: it never left */
    r->refs++;
    return TRUE;
  }
  if ((source == NULL) != (g_array_index (m->refs, Ref, 0).source == NULL)) {
    gchar *g = g_inet_address_to_string (group);

    where = member_where (mb, m);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "cannot join %s on %s both from any source and from given sources",
        g, where);
    g_free (where);
    g_free (g);
    return FALSE;
  }
  if (m->joined) {
    McpMembershipAction a = { MCP_MEMBERSHIP_JOIN, socket, group,
      m->ifindex, source
    };

    where = member_where (mb, m);
    a.where = where;
    ok = mb->env.apply (&a, mb->env.data, error);
    g_free (where);
    added.held = TRUE;
  }
  if (ok) {
    added.source = g_object_ref (source);
    g_array_append_val (m->refs, added);
    /* not joined on m's interface (gone, or a re-join failed): told with
     * the re-join that joins it */
    if (added.held)
      tell (mb, m, &g_array_index (m->refs, Ref, m->refs->len - 1), TRUE, NULL);
  }
  return ok;
}

/* The i-th of a list that may be NULL or empty (then one NULL item). */
static gpointer
each_item (GPtrArray * list, guint i)
{
  return list && list->len ? g_ptr_array_index (list, i) : NULL;
}

static guint
each_len (GPtrArray * list)
{
  return list && list->len ? list->len : 1;
}

static void
leave_first (McpMembership * mb, gpointer socket, GInetAddress * group,
    GPtrArray * ifnames, GPtrArray * sources, guint n, guint64 now)
{
  guint n_src = each_len (sources), k;
  guint64 linger = mb->linger;

  mb->linger = 0;
  for (k = 0; k < n; k++)
    mcp_membership_leave (mb, socket, group, each_item (ifnames, k / n_src),
        each_item (sources, k % n_src), now, "a join failed");
  mb->linger = linger;
}

gboolean
mcp_membership_join_each (McpMembership * mb, gpointer socket,
    GInetAddress * group, GPtrArray * ifnames, GPtrArray * sources,
    GError ** error)
{
  guint n_src = each_len (sources), n = each_len (ifnames) * n_src, k;

  for (k = 0; k < n; k++) {
    if (!mcp_membership_join (mb, socket, group,
            each_item (ifnames, k / n_src), each_item (sources, k % n_src),
            error)) {
      leave_first (mb, socket, group, ifnames, sources, k, 0);
      return FALSE;
    }
  }
  return TRUE;
}

void
mcp_membership_leave_each (McpMembership * mb, gpointer socket,
    GInetAddress * group, GPtrArray * ifnames, GPtrArray * sources,
    guint64 now, const gchar * reason)
{
  guint n_src = each_len (sources), k;

  for (k = 0; k < each_len (ifnames) * n_src; k++)
    mcp_membership_leave (mb, socket, group, each_item (ifnames, k / n_src),
        each_item (sources, k % n_src), now, reason);
}

void
mcp_membership_leave_all (McpMembership * mb, const gchar * reason)
{
  while (mb->members->len > 0) {
    Member *m = g_ptr_array_index (mb->members, 0);

    /* the last reference takes m with it */
    while (drop_ref (mb, m, 0, reason));
  }
}

void
mcp_membership_set_notify (McpMembership * mb, McpMembershipNotifyFunc func,
    gpointer data)
{
  mb->notify = func;
  mb->notify_data = data;
}

gboolean
mcp_membership_leave (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname, GInetAddress * source,
    guint64 now, const gchar * reason)
{
  Member *m = find_member (mb, socket, group, ifname);
  Ref *r;
  guint index;

  if (!m || !(r = find_ref (m, source, &index)) || r->refs == 0)
    return FALSE;
  if (--r->refs > 0)
    return TRUE;
  if (mb->linger == 0)
    drop_ref (mb, m, index, reason ? reason : "no longer wanted");
  else
    r->leave_at = deadline (now, mb->linger);
  return TRUE;
}

guint
mcp_membership_count (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname, GInetAddress * source)
{
  Member *m = find_member (mb, socket, group, ifname);
  Ref *r = m ? find_ref (m, source, NULL) : NULL;

  return r ? r->refs : 0;
}

gboolean
mcp_membership_is_empty (McpMembership * mb)
{
  return mb->members->len == 0;
}

gchar *
mcp_membership_where (McpMembership * mb, gpointer socket,
    GInetAddress * group, const gchar * ifname)
{
  Member *m = find_member (mb, socket, group, ifname);
  Member none = { NULL };

  none.ifname = (gchar *) ifname;
  return member_where (mb, m ? m : &none);
}

void
mcp_membership_take_counts (McpMembership * mb, guint64 * rejoins,
    guint64 * failures)
{
  *rejoins = mb->rejoins;
  *failures = mb->rejoin_failures;
  mb->rejoins = mb->rejoin_failures = 0;
}

/* ---- the policy -------------------------------------------------------- */

static void
mark_pending (Member * m, gchar * reason)
{
  if (m->pending) {
    g_free (reason);
    return;
  }
  m->pending = TRUE;
  g_free (m->reason);
  m->reason = reason;
}

/* Leaves and joins again on m's interface (just joins when m is not
 * joined). The default interface is looked up anew: the route may have
 * moved. */
static void
rejoin_member (McpMembership * mb, Member * m, const gchar * reason)
{
  McpMembershipAction a = { MCP_MEMBERSHIP_REJOIN, m->socket, m->group };
  GError *err = NULL;
  gchar *where, *group;
  gboolean ok;
  guint j;

  if (m->ifname && m->ifindex == 0)
    return;                     /* waiting for the interface to appear */
  if (!m->ifname) {
    guint oif = mb->env.route_interface (m->group, mb->env.data);

    if (oif && oif != m->ifindex) {
      member_lost (mb, m, "the route to the group moved");
      m->ifindex = oif;
    }
  }

  where = member_where (mb, m);
  group = g_inet_address_to_string (m->group);
  a.ifindex = m->ifindex;
  a.sources = g_ptr_array_sized_new (m->refs->len);
  for (j = 0; j < m->refs->len; j++) {
    Ref *r = &g_array_index (m->refs, Ref, j);

    if (r->source)
      g_ptr_array_add (a.sources, r->source);
    r->held = TRUE;
  }
  a.where = where;
  a.reason = reason;
  ok = mb->env.apply (&a, mb->env.data, &err);
  g_ptr_array_unref (a.sources);
  if (ok) {
    mb->rejoins++;
    say (mb, G_LOG_LEVEL_INFO, "%s %s on %s: %s", m->joined ? "re-joined" :
        "joined", group, where, reason);
  } else {
    mb->rejoin_failures++;
    say (mb, G_LOG_LEVEL_WARNING, "could not join %s on %s again (%s): %s; "
        "trying again when an interface comes up or gets an address",
        group, where, reason, err->message);
  }
  m->joined = ok;
  if (ok)
    m->went_down = FALSE;
  /* joined again after a loss, or lost now: a re-join of what was held
   * is no change */
  for (j = 0; j < m->refs->len; j++)
    tell (mb, m, &g_array_index (m->refs, Ref, j), ok, "a re-join failed");
  g_free (where);
  g_free (group);
  g_clear_error (&err);
}

/* Whether the default interface m is joined on is no longer the one the
 * group is routed over, but ifindex. */
static gboolean
route_moved_to (McpMembership * mb, Member * m, guint ifindex)
{
  return !m->ifname && ifindex != m->ifindex
      && mb->env.route_interface (m->group, mb->env.data) == ifindex;
}

static gboolean
link_is_up (McpMembership * mb, guint ifindex)
{
  return mb->env.link_is_up (ifindex, mb->env.data);
}

static void
on_resync (McpMembership * mb)
{
  guint i;

  say (mb, G_LOG_LEVEL_WARNING, "interface notifications were lost "
      "(netlink overrun): re-joining everywhere");
  for (i = 0; i < mb->members->len; i++) {
    Member *m = g_ptr_array_index (mb->members, i);

    if (m->ifname) {
      guint ifindex = mb->env.link_index (m->ifname, mb->env.data);

      /* made anew (or gone) unseen: what the socket holds is of the old */
      if (ifindex != m->ifindex)
        member_lost (mb, m, "interface notifications were lost");
      m->ifindex = ifindex;
    }
    mark_pending (m, g_strdup ("interface notifications were lost"));
  }
}

/* What one event means for one membership. */
static void
on_member_event (McpMembership * mb, Member * m, const McpNetlinkEvent * ev)
{
  gboolean ours = m->ifindex != 0 && ev->ifindex == m->ifindex;
  gchar *where = member_where (mb, m);

  switch (ev->type) {
    case MCP_NETLINK_LINK_ADDED:
      if (m->ifname && strcmp (ev->ifname, m->ifname) == 0 && !ours) {
        member_lost (mb, m, "its interface was made anew");
        m->ifindex = ev->ifindex;
        /* joining on a link that is down gains nothing: its coming up
         * re-joins anyway */
        if (link_is_up (mb, ev->ifindex))
          mark_pending (m, g_strdup_printf ("interface %s appeared, up, "
                  "as #%u", ev->ifname, ev->ifindex));
        else
          say (mb, G_LOG_LEVEL_INFO, "interface %s is there (again), as "
              "#%u: joining when it comes up", ev->ifname, ev->ifindex);
      } else if (m->ifname && ours) {
        say (mb, G_LOG_LEVEL_INFO, "interface %s was renamed %s; staying "
            "joined on it", m->ifname, ev->ifname);
      }
      break;
    case MCP_NETLINK_LINK_UP:
      /* A link that only gained its carrier after a good join (a new
       * link settling) keeps the membership: a re-join there would only
       * risk the datagrams of its instant. */
      if ((ours && (m->went_down || !m->joined))
          || (!m->ifname && !m->joined))
        mark_pending (m, g_strdup_printf ("link %s came up", ev->ifname));
      else if (route_moved_to (mb, m, ev->ifindex))
        mark_pending (m, g_strdup_printf ("the route to the group moved "
                "to %s", ev->ifname));
      break;
    case MCP_NETLINK_LINK_DOWN:
      if (ours) {
        m->went_down = TRUE;
        say (mb, G_LOG_LEVEL_INFO, "link %s went down: re-joining when it "
            "comes up", where);
      }
      break;
    case MCP_NETLINK_LINK_REMOVED:
      if (ours) {
        say (mb, G_LOG_LEVEL_WARNING, "interface %s was removed, and the "
            "membership with it: re-joining when %s", where, m->ifname ?
            "an interface of that name appears" : "a route to the group "
            "comes up");
        member_lost (mb, m, "its interface was removed");
      }
      break;
    case MCP_NETLINK_ADDRESS_ADDED:
      if (ev->family != g_inet_address_get_family (m->group))
        break;
      /* a link coming up re-joins anyway */
      if (ours && !link_is_up (mb, m->ifindex))
        say (mb, G_LOG_LEVEL_INFO, "address %s added to %s, which is down",
            ev->address, where);
      else if (ours || (!m->ifname && !m->joined))
        mark_pending (m, g_strdup_printf ("address %s added to %s",
                ev->address, ev->ifname));
      else if (route_moved_to (mb, m, ev->ifindex))
        mark_pending (m, g_strdup_printf ("the route to the group moved "
                "to %s", ev->ifname));
      break;
    case MCP_NETLINK_ADDRESS_REMOVED:
      if (ours && ev->family == g_inet_address_get_family (m->group))
        say (mb, G_LOG_LEVEL_INFO, "address %s removed from %s",
            ev->address, where);
      break;
    default:
      break;
  }
  g_free (where);
}

void
mcp_membership_event (McpMembership * mb, const McpNetlinkEvent * ev)
{
  guint i;

  if (ev->type == MCP_NETLINK_RESYNC) {
    on_resync (mb);
    return;
  }
  for (i = 0; i < mb->members->len; i++)
    on_member_event (mb, g_ptr_array_index (mb->members, i), ev);
}

void
mcp_membership_flush (McpMembership * mb)
{
  guint i;

  for (i = 0; i < mb->members->len; i++) {
    Member *m = g_ptr_array_index (mb->members, i);

    if (!m->pending)
      continue;
    m->pending = FALSE;
    rejoin_member (mb, m, m->reason);
  }
}

void
mcp_membership_set_rejoin_interval (McpMembership * mb, guint64 interval,
    guint64 now)
{
  if (interval == mb->rejoin_interval)
    return;
  mb->rejoin_interval = interval;
  mb->next_rejoin = deadline (now, interval);
}

guint64
mcp_membership_tick (McpMembership * mb, guint64 now)
{
  guint64 next = G_MAXUINT64;
  guint i, j;

  for (i = 0; i < mb->members->len;) {
    Member *m = g_ptr_array_index (mb->members, i);
    gboolean alive = TRUE;

    for (j = 0; alive && j < m->refs->len;) {
      Ref *r = &g_array_index (m->refs, Ref, j);

      if (r->refs > 0) {
        j++;
      } else if (r->leave_at <= now) {
        alive = drop_ref (mb, m, j, "nobody wanted it for the linger");
      } else {
        next = MIN (next, r->leave_at);
        j++;
      }
    }
    /* a dropped member's place went to the next one */
    if (alive)
      i++;
  }

  if (mb->rejoin_interval > 0) {
    if (now >= mb->next_rejoin) {
      for (i = 0; i < mb->members->len; i++)
        rejoin_member (mb, g_ptr_array_index (mb->members, i),
            "rejoin-interval");
      /* not caught up after a stall: one re-join is as good as many */
      mb->next_rejoin = deadline (now, mb->rejoin_interval);
    }
    next = MIN (next, mb->next_rejoin);
  }
  return next;
}

/* ---- the driver -------------------------------------------------------- */

struct _McpMembershipDriver
{
  McpMembership *table;
  McpNetlink *netlink;          /* NULL: interfaces are not watched */
  McpMembershipLogFunc log;
  gpointer log_data;
  gchar name[IF_NAMESIZE];      /* link_name's answer when netlink has none */
};

static guint
driver_route_interface (GInetAddress * group, gpointer data)
{
  return mcp_netlink_route_interface (group, NULL);
}

static guint
driver_link_index (const gchar * ifname, gpointer data)
{
  McpMembershipDriver *d = data;
  guint ifindex = d->netlink ? mcp_netlink_lookup_index (d->netlink,
      ifname) : 0;

  return ifindex ? ifindex : if_nametoindex (ifname);
}

static gboolean
driver_link_is_up (guint ifindex, gpointer data)
{
  McpMembershipDriver *d = data;

  return d->netlink && mcp_netlink_is_up (d->netlink, ifindex);
}

static const gchar *
driver_link_name (guint ifindex, gpointer data)
{
  McpMembershipDriver *d = data;
  const gchar *name = NULL;

  if (d->netlink)
    name = mcp_netlink_lookup_name (d->netlink, ifindex);
  if (!name)
    name = if_indextoname (ifindex, d->name);
  return name;
}

static gboolean
driver_apply (const McpMembershipAction * a, gpointer data, GError ** error)
{
  switch (a->type) {
    case MCP_MEMBERSHIP_JOIN:
      return mcp_mcast_join (a->socket, a->group, a->ifindex, a->source, error);
    case MCP_MEMBERSHIP_LEAVE:
      mcp_mcast_leave (a->socket, a->group, a->ifindex, a->source, NULL);
      return TRUE;
    case MCP_MEMBERSHIP_REJOIN:
      return mcp_mcast_rejoin (a->socket, a->group, a->ifindex, a->sources,
          error);
  }
  g_return_val_if_reached (FALSE);
}

static void
driver_socket_ref (gpointer socket, gpointer data)
{
  g_object_ref (socket);
}

static void
driver_socket_unref (gpointer socket, gpointer data)
{
  g_object_unref (socket);
}

static void
driver_log (GLogLevelFlags level, const gchar * message, gpointer data)
{
  McpMembershipDriver *d = data;

  if (d->log)
    d->log (level, message, d->log_data);
}

McpMembershipDriver *
mcp_membership_driver_new (guint64 linger, McpMembershipLogFunc log,
    gpointer data)
{
  McpMembershipDriver *d = g_new0 (McpMembershipDriver, 1);
  McpMembershipEnv env = {
    driver_route_interface, driver_link_index, driver_link_is_up,
    driver_link_name, driver_apply, driver_socket_ref, driver_socket_unref,
    driver_log, d
  };
  GError *err = NULL;

  d->log = log;
  d->log_data = data;
  d->table = mcp_membership_new (&env, linger);
  d->netlink = mcp_netlink_new (&err);
  if (!d->netlink) {
    say (d->table, G_LOG_LEVEL_WARNING, "cannot watch interfaces: %s; a "
        "membership lost to an interface change will not be re-joined",
        err->message);
    g_clear_error (&err);
  }
  return d;
}

void
mcp_membership_driver_free (McpMembershipDriver * d)
{
  if (!d)
    return;
  mcp_membership_free (d->table);
  mcp_netlink_free (d->netlink);
  g_free (d);
}

McpMembership *
mcp_membership_driver_get_table (McpMembershipDriver * d)
{
  return d->table;
}

gint
mcp_membership_driver_get_fd (McpMembershipDriver * d)
{
  return d->netlink ? mcp_netlink_get_fd (d->netlink) : -1;
}

static void
driver_on_event (const McpNetlinkEvent * ev, gpointer data)
{
  McpMembershipDriver *d = data;

  mcp_membership_event (d->table, ev);
}

void
mcp_membership_driver_dispatch (McpMembershipDriver * d)
{
  GError *err = NULL;

  if (!d->netlink)
    return;
  if (!mcp_netlink_dispatch (d->netlink, driver_on_event, d, &err)) {
    say (d->table, G_LOG_LEVEL_WARNING, "stopped watching interfaces: %s; "
        "a membership lost to an interface change is not re-joined",
        err->message);
    g_clear_error (&err);
    g_clear_pointer (&d->netlink, mcp_netlink_free);
  }
  mcp_membership_flush (d->table);
}
