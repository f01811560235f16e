/* mcastproxy — unit tests of the membership table and its policy
 * (mcp-membership).
 *
 * The host is made up: a table of links, a route, and a record of every
 * action the policy asks for. The events come in as rtnetlink would send
 * them (the host already changed when its event arrives), so each test
 * checks the exact actions, in order, for a sequence of events (and some
 * the notifications of joined and left memberships).
 */
#include "config.h"

#include "mcp-membership.h"

#include <string.h>

typedef const gchar *Line;

#define S1 GUINT_TO_POINTER (1)
#define S2 GUINT_TO_POINTER (2)
#define SECOND G_GUINT64_CONSTANT (1000000000)

typedef struct
{
  guint index;
  gchar name[IF_NAMESIZE];
  gboolean up;
} Link;

typedef struct
{
  GArray *links;                /* Link */
  guint route;                  /* where every group is routed; 0: nowhere */
  guint fail_on;                /* joins on this interface fail */
  GPtrArray *actions;           /* gchar *, as render() writes them */
  GPtrArray *logs;              /* gchar *: "I: ..." or "W: ..." */
  GPtrArray *notes;             /* gchar *, as on_notify() writes them */
  GHashTable *socket_refs;      /* socket -> references the table holds */
  McpMembership *mb;
} Host;

/* ---- the made-up host -------------------------------------------------- */

static Link *
host_link (Host * h, guint index)
{
  guint i;

  for (i = 0; i < h->links->len; i++)
    if (g_array_index (h->links, Link, i).index == index)
      return &g_array_index (h->links, Link, i);
  return NULL;
}

static guint
env_route_interface (GInetAddress * group, gpointer data)
{
  Host *h = data;

  return h->route;
}

static guint
env_link_index (const gchar * ifname, gpointer data)
{
  Host *h = data;
  guint i;

  for (i = 0; i < h->links->len; i++)
    if (strcmp (g_array_index (h->links, Link, i).name, ifname) == 0)
      return g_array_index (h->links, Link, i).index;
  return 0;
}

static gboolean
env_link_is_up (guint ifindex, gpointer data)
{
  Link *l = host_link (data, ifindex);

  return l && l->up;
}

static const gchar *
env_link_name (guint ifindex, gpointer data)
{
  Link *l = host_link (data, ifindex);

  return l ? l->name : NULL;
}

static gchar *
address_list (GPtrArray * sources)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < sources->len; i++) {
    gchar *a = g_inet_address_to_string (g_ptr_array_index (sources, i));

    g_string_append_printf (s, "%s%s", i ? "," : "", a);
    g_free (a);
  }
  return g_string_free (s, FALSE);
}

/* "join s1 239.1.1.1 #2", "leave s1 232.1.1.1 #2 from 10.0.0.1: why",
 * "rejoin s1 232.1.1.1 #2 from 10.0.0.1,10.0.0.2: why". */
static gchar *
render (const McpMembershipAction * a)
{
  static const gchar *types[] = { "join", "leave", "rejoin" };
  gchar *group = g_inet_address_to_string (a->group);
  gchar *from = NULL, *out;

  if (a->type == MCP_MEMBERSHIP_REJOIN && a->sources->len)
    from = address_list (a->sources);
  else if (a->type != MCP_MEMBERSHIP_REJOIN && a->source)
    from = g_inet_address_to_string (a->source);
  g_assert_true (a->type == MCP_MEMBERSHIP_REJOIN ? a->source == NULL :
      a->sources == NULL);
  g_assert_nonnull (a->where);
  out = g_strdup_printf ("%s s%u %s #%u%s%s%s%s", types[a->type],
      GPOINTER_TO_UINT (a->socket), group, a->ifindex, from ? " from " : "",
      from ? from : "", a->reason ? ": " : "", a->reason ? a->reason : "");
  g_free (group);
  g_free (from);
  return out;
}

static gboolean
env_apply (const McpMembershipAction * a, gpointer data, GError ** error)
{
  Host *h = data;
  gchar *text = render (a);
  gboolean fail = h->fail_on && a->ifindex == h->fail_on;

  g_ptr_array_add (h->actions, text);
  /* leaves never fail: what is gone is left */
  if (fail && a->type != MCP_MEMBERSHIP_LEAVE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "cannot join: %s",
        text);
    return FALSE;
  }
  return TRUE;
}

/* "joined s1 239.1.1.1 eth0 #2", "left s1 232.1.1.1 default #2 from
 * 10.0.0.1: why" */
static void
on_notify (const McpMembershipChange * c, gpointer data)
{
  Host *h = data;
  gchar *group = g_inet_address_to_string (c->group);
  gchar *from = c->source ? g_inet_address_to_string (c->source) : NULL;

  g_assert_true (c->joined == (c->reason == NULL));
  g_ptr_array_add (h->notes, g_strdup_printf ("%s s%u %s %s #%u%s%s%s%s",
          c->joined ? "joined" : "left", GPOINTER_TO_UINT (c->socket), group,
          c->ifname ? c->ifname : "default", c->ifindex, from ? " from " : "",
          from ? from : "", c->reason ? ": " : "", c->reason ? c->reason : ""));
  g_free (group);
  g_free (from);
}

static void
env_socket_ref (gpointer socket, gpointer data)
{
  Host *h = data;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (h->socket_refs, socket));

  g_hash_table_insert (h->socket_refs, socket, GUINT_TO_POINTER (n + 1));
}

static void
env_socket_unref (gpointer socket, gpointer data)
{
  Host *h = data;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (h->socket_refs, socket));

  g_assert_cmpuint (n, >, 0);
  g_hash_table_insert (h->socket_refs, socket, GUINT_TO_POINTER (n - 1));
}

static void
env_log (GLogLevelFlags level, const gchar * message, gpointer data)
{
  Host *h = data;

  g_assert_true (level == G_LOG_LEVEL_INFO || level == G_LOG_LEVEL_WARNING);
  g_ptr_array_add (h->logs, g_strdup_printf ("%s: %s",
          level == G_LOG_LEVEL_WARNING ? "W" : "I", message));
}

static guint
socket_refs (Host * h, gpointer socket)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (h->socket_refs, socket));
}

/* Links #1 lo, #2 eth0 and #3 eth1, all up; the route over eth0. */
static Host *
host_new (guint64 linger)
{
  static const Link links[] = { {1, "lo", TRUE}, {2, "eth0", TRUE},
  {3, "eth1", TRUE}
  };
  McpMembershipEnv env = { env_route_interface, env_link_index,
    env_link_is_up, env_link_name, env_apply, env_socket_ref,
    env_socket_unref, env_log
  };
  Host *h = g_new0 (Host, 1);

  h->links = g_array_new (FALSE, FALSE, sizeof (Link));
  g_array_append_vals (h->links, links, G_N_ELEMENTS (links));
  h->route = 2;
  h->actions = g_ptr_array_new_with_free_func (g_free);
  h->logs = g_ptr_array_new_with_free_func (g_free);
  h->notes = g_ptr_array_new_with_free_func (g_free);
  h->socket_refs = g_hash_table_new (NULL, NULL);
  env.data = h;
  h->mb = mcp_membership_new (&env, linger);
  mcp_membership_set_notify (h->mb, on_notify, h);
  return h;
}

static void
host_free (Host * h)
{
  mcp_membership_free (h->mb);
  g_assert_cmpuint (socket_refs (h, S1), ==, 0);
  g_assert_cmpuint (socket_refs (h, S2), ==, 0);
  g_array_unref (h->links);
  g_ptr_array_unref (h->actions);
  g_ptr_array_unref (h->logs);
  g_ptr_array_unref (h->notes);
  g_hash_table_unref (h->socket_refs);
  g_free (h);
}

/* Asserts that the lines recorded in lines were exactly these (args,
 * NULL-terminated), in this order, and forgets them. */
static void
expect_lines (GPtrArray * lines, va_list args)
{
  GPtrArray *want = g_ptr_array_new ();
  const gchar *s;
  guint i;

  while ((s = va_arg (args, Line)))
    g_ptr_array_add (want, (gpointer) s);
  for (i = 0; i < MAX (want->len, lines->len); i++) {
    const gchar *got = i < lines->len ?
        g_ptr_array_index (lines, i) : "(nothing)";
    const gchar *wanted = i < want->len ?
        g_ptr_array_index (want, i) : "(nothing)";

    g_assert_cmpstr (got, ==, wanted);
  }
  g_ptr_array_set_size (lines, 0);
  g_ptr_array_unref (want);
}

/* The actions since the last check. */
static void
expect (Host * h, ...)
{
  va_list args;

  va_start (args, h);
  expect_lines (h->actions, args);
  va_end (args);
}

/* The notifications since the last check. */
static void
expect_notes (Host * h, ...)
{
  va_list args;

  va_start (args, h);
  expect_lines (h->notes, args);
  va_end (args);
}

/* Asserts that a line logged since the last check was this one, and
 * forgets the logs. */
static void
expect_log (Host * h, const gchar * line)
{
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < h->logs->len; i++)
    found |= strcmp (g_ptr_array_index (h->logs, i), line) == 0;
  if (!found) {
    for (i = 0; i < h->logs->len; i++)
      g_test_message ("logged: %s", (gchar *) g_ptr_array_index (h->logs, i));
    g_error ("not logged: %s", line);
  }
  g_ptr_array_set_size (h->logs, 0);
}

static void
event (Host * h, McpNetlinkEventType type, guint ifindex,
    const gchar * ifname, GSocketFamily family, const gchar * address)
{
  McpNetlinkEvent ev;

  memset (&ev, 0, sizeof (ev));
  ev.type = type;
  ev.ifindex = ifindex;
  if (ifname)
    g_strlcpy (ev.ifname, ifname, sizeof (ev.ifname));
  ev.family = family;
  if (address)
    g_strlcpy (ev.address, address, sizeof (ev.address));
  mcp_membership_event (h->mb, &ev);
}

/* A new interface: there, not up yet (rtnetlink says so first). */
static void
link_add (Host * h, guint index, const gchar * name)
{
  Link l = { index };

  g_strlcpy (l.name, name, sizeof (l.name));
  g_array_append_val (h->links, l);
  event (h, MCP_NETLINK_LINK_ADDED, index, name, 0, NULL);
}

static void
link_rename (Host * h, guint index, const gchar * name)
{
  Link *l = host_link (h, index);

  g_strlcpy (l->name, name, sizeof (l->name));
  event (h, MCP_NETLINK_LINK_ADDED, index, name, 0, NULL);
}

static void
link_set_up (Host * h, guint index, gboolean up)
{
  Link *l = host_link (h, index);

  l->up = up;
  event (h, up ? MCP_NETLINK_LINK_UP : MCP_NETLINK_LINK_DOWN, index,
      l->name, 0, NULL);
}

static void
link_remove (Host * h, guint index)
{
  Link *l = host_link (h, index);
  gchar name[IF_NAMESIZE];
  guint i = l - &g_array_index (h->links, Link, 0);

  g_strlcpy (name, l->name, sizeof (name));
  g_array_remove_index (h->links, i);
  event (h, MCP_NETLINK_LINK_REMOVED, index, name, 0, NULL);
}

static void
address (Host * h, gboolean added, guint index, const gchar * text)
{
  GInetAddress *a = g_inet_address_new_from_string (text);

  event (h, added ? MCP_NETLINK_ADDRESS_ADDED : MCP_NETLINK_ADDRESS_REMOVED,
      index, host_link (h, index)->name, g_inet_address_get_family (a), text);
  g_object_unref (a);
}

static GInetAddress *
addr (const gchar * text)
{
  static GPtrArray *kept;
  GInetAddress *a = g_inet_address_new_from_string (text);

  g_assert_nonnull (a);
  /* the tests name addresses inline; they live as long as the program */
  if (!kept)
    kept = g_ptr_array_new ();
  g_ptr_array_add (kept, a);
  return a;
}

static void
join (Host * h, gpointer socket, const gchar * group, const gchar * ifname,
    const gchar * source)
{
  GError *err = NULL;

  g_assert_true (mcp_membership_join (h->mb, socket, addr (group), ifname,
          source ? addr (source) : NULL, &err));
  g_assert_no_error (err);
}

static gboolean
leave (Host * h, gpointer socket, const gchar * group, const gchar * ifname,
    const gchar * source, guint64 now)
{
  return mcp_membership_leave (h->mb, socket, addr (group), ifname,
      source ? addr (source) : NULL, now, NULL);
}

static guint
count (Host * h, gpointer socket, const gchar * group, const gchar * ifname,
    const gchar * source)
{
  return mcp_membership_count (h->mb, socket, addr (group), ifname,
      source ? addr (source) : NULL);
}

static void
assert_counts (Host * h, guint64 rejoins, guint64 failures)
{
  guint64 r, f;

  mcp_membership_take_counts (h->mb, &r, &f);
  g_assert_cmpuint (r, ==, rejoins);
  g_assert_cmpuint (f, ==, failures);
}

#define G "239.1.1.1"
#define SSM "232.1.1.1"
#define SRC_A "10.0.0.1"
#define SRC_B "10.0.0.2"
#define SRC_C "10.0.0.3"

/* ---- reference counting ------------------------------------------------ */

static void
test_refcount (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  g_assert_cmpuint (socket_refs (h, S1), ==, 1);
  join (h, S1, G, "eth0", NULL);
  expect (h, NULL);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 2);

  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  expect (h, NULL);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 1);
  g_assert_false (mcp_membership_is_empty (h->mb));

  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  expect (h, "leave s1 239.1.1.1 #2: no longer wanted", NULL);
  expect_log (h, "I: left 239.1.1.1 on eth0: no longer wanted");
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 0);
  g_assert_true (mcp_membership_is_empty (h->mb));
  g_assert_cmpuint (socket_refs (h, S1), ==, 0);

  /* never below zero */
  g_assert_false (leave (h, S1, G, "eth0", NULL, 0));
  g_assert_false (leave (h, S1, G, NULL, NULL, 0));
  expect (h, NULL);
  host_free (h);
}

/* join_each: every interface times every source, all or nothing;
 * leave_each drops what it took. */
static void
test_join_each (void)
{
  Host *h = host_new (0);
  GPtrArray *ifnames = g_ptr_array_new (), *sources = g_ptr_array_new ();
  GError *err = NULL;

  g_ptr_array_add (ifnames, (gpointer) "eth0");
  g_ptr_array_add (ifnames, (gpointer) "eth1");
  g_ptr_array_add (sources, addr (SRC_A));
  g_ptr_array_add (sources, addr (SRC_B));
  g_assert_true (mcp_membership_join_each (h->mb, S1, addr (G), ifnames,
          sources, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (count (h, S1, G, "eth0", SRC_A), ==, 1);
  g_assert_cmpuint (count (h, S1, G, "eth0", SRC_B), ==, 1);
  g_assert_cmpuint (count (h, S1, G, "eth1", SRC_A), ==, 1);
  g_assert_cmpuint (count (h, S1, G, "eth1", SRC_B), ==, 1);
  mcp_membership_leave_each (h->mb, S1, addr (G), ifnames, sources, 0, NULL);
  g_assert_true (mcp_membership_is_empty (h->mb));

  /* a failure on eth1 leaves what was joined on eth0 again */
  h->fail_on = 3;
  g_assert_false (mcp_membership_join_each (h->mb, S1, addr (G), ifnames,
          sources, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  g_assert_true (mcp_membership_is_empty (h->mb));

  /* no interface, no source: the default one, any source */
  h->fail_on = 0;
  g_assert_true (mcp_membership_join_each (h->mb, S1, addr (G), NULL, NULL,
          &err));
  g_assert_cmpuint (count (h, S1, G, NULL, NULL), ==, 1);
  mcp_membership_leave_each (h->mb, S1, addr (G), NULL, NULL, 0, NULL);
  g_assert_true (mcp_membership_is_empty (h->mb));
  g_ptr_array_unref (ifnames);
  g_ptr_array_unref (sources);
  host_free (h);
}

static void
test_linger (void)
{
  Host *h = host_new (2 * SECOND);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth0", NULL);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 0), ==, G_MAXUINT64);

  g_assert_true (leave (h, S1, G, "eth0", NULL, 10 * SECOND));
  g_assert_cmpuint (mcp_membership_tick (h->mb, 10 * SECOND), ==, G_MAXUINT64);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 11 * SECOND));
  expect (h, NULL);
  /* lingering: no reference, still a member, until 13 s */
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 0);
  g_assert_false (leave (h, S1, G, "eth0", NULL, 11 * SECOND));
  g_assert_false (mcp_membership_is_empty (h->mb));
  g_assert_cmpuint (mcp_membership_tick (h->mb, 11 * SECOND), ==, 13 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 13 * SECOND - 1), ==,
      13 * SECOND);
  expect (h, NULL);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 13 * SECOND), ==, G_MAXUINT64);
  expect (h, "leave s1 239.1.1.1 #2: nobody wanted it for the linger", NULL);
  g_assert_true (mcp_membership_is_empty (h->mb));
  g_assert_cmpuint (socket_refs (h, S1), ==, 0);
  host_free (h);
}

/* Wanted again while lingering: it never left, so neither a leave nor a
 * re-join. */
static void
test_join_during_linger (void)
{
  Host *h = host_new (2 * SECOND);

  join (h, S1, G, "eth0", NULL);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 10 * SECOND));
  g_assert_cmpuint (mcp_membership_tick (h->mb, 11 * SECOND), ==, 12 * SECOND);
  join (h, S1, G, "eth0", NULL);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 1);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 20 * SECOND), ==, G_MAXUINT64);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  assert_counts (h, 0, 0);

  /* and it lingers anew from its next last leave */
  g_assert_true (leave (h, S1, G, "eth0", NULL, 30 * SECOND));
  g_assert_cmpuint (mcp_membership_tick (h->mb, 31 * SECOND), ==, 32 * SECOND);
  mcp_membership_tick (h->mb, 32 * SECOND);
  expect (h, "leave s1 239.1.1.1 #2: nobody wanted it for the linger", NULL);
  host_free (h);
}

/* A linger of "forever" never overflows into the past. */
static void
test_linger_forever (void)
{
  Host *h = host_new (G_MAXUINT64);

  join (h, S1, G, "eth0", NULL);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 5 * SECOND));
  g_assert_cmpuint (mcp_membership_tick (h->mb, G_MAXUINT64 - 1), ==,
      G_MAXUINT64);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  g_assert_false (mcp_membership_is_empty (h->mb));
  host_free (h);
}

/* A failed first join takes no reference; an unknown interface is an
 * error; a failed join of one more source leaves the others alone. */
static void
test_join_failures (void)
{
  Host *h = host_new (0);
  GError *err = NULL;

  h->fail_on = 2;
  g_assert_false (mcp_membership_join (h->mb, S1, addr (G), "eth0", NULL,
          &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_clear_error (&err);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 0);
  g_assert_true (mcp_membership_is_empty (h->mb));
  g_assert_cmpuint (socket_refs (h, S1), ==, 0);
  /* nothing to leave on, nothing to re-join */
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, NULL);

  g_assert_false (mcp_membership_join (h->mb, S1, addr (G), "eth7", NULL,
          &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (err->message, ==, "no network interface named 'eth7'");
  g_clear_error (&err);
  expect (h, NULL);

  h->fail_on = 0;
  join (h, S1, SSM, "eth1", SRC_A);
  h->fail_on = 3;
  g_assert_false (mcp_membership_join (h->mb, S1, addr (SSM), "eth1",
          addr (SRC_B), &err));
  g_clear_error (&err);
  expect (h, "join s1 232.1.1.1 #3 from 10.0.0.1",
      "join s1 232.1.1.1 #3 from 10.0.0.2", NULL);
  g_assert_cmpuint (count (h, S1, SSM, "eth1", SRC_A), ==, 1);
  g_assert_cmpuint (count (h, S1, SSM, "eth1", SRC_B), ==, 0);
  g_assert_false (leave (h, S1, SSM, "eth1", SRC_B, 0));
  h->fail_on = 0;
  mcp_membership_set_rejoin_interval (h->mb, SECOND, 0);
  mcp_membership_tick (h->mb, SECOND);
  expect (h, "rejoin s1 232.1.1.1 #3 from 10.0.0.1: rejoin-interval", NULL);
  g_assert_true (leave (h, S1, SSM, "eth1", SRC_A, 0));
  expect (h, "leave s1 232.1.1.1 #3 from 10.0.0.1: no longer wanted", NULL);
  host_free (h);
}

/* The table holds a socket from its first membership to its last. */
static void
test_socket_references (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth1", NULL);
  join (h, S2, G, "eth0", NULL);
  g_assert_cmpuint (socket_refs (h, S1), ==, 2);
  g_assert_cmpuint (socket_refs (h, S2), ==, 1);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  g_assert_cmpuint (socket_refs (h, S1), ==, 1);
  g_assert_true (leave (h, S1, G, "eth1", NULL, 0));
  g_assert_cmpuint (socket_refs (h, S1), ==, 0);
  expect (h, "join s1 239.1.1.1 #2", "join s1 239.1.1.1 #3",
      "join s2 239.1.1.1 #2", "leave s1 239.1.1.1 #2: no longer wanted",
      "leave s1 239.1.1.1 #3: no longer wanted", NULL);
  /* freed with its memberships: dropped without leaving (closing the
   * socket leaves) */
  host_free (h);
}

/* ---- the rules of interface changes ------------------------------------ */

/* A link that only gained its carrier after a good join (a new link
 * settling) keeps its membership: such a re-join cost a datagram on CI. */
static void
test_carrier_after_join_keeps_membership (void)
{
  Host *h = host_new (0);

  host_link (h, 3)->up = FALSE;
  join (h, S1, G, "eth1", NULL);
  link_set_up (h, 3, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #3", NULL);
  assert_counts (h, 0, 0);
  host_free (h);
}

/* Down marks went_down: coming up again re-joins, once; another carrier
 * without a down before it does not. */
static void
test_link_down_then_up_rejoins (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  link_set_up (h, 2, FALSE);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  expect_log (h, "I: link eth0 went down: re-joining when it comes up");
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #2: link eth0 came up", NULL);
  expect_log (h, "I: re-joined 239.1.1.1 on eth0: link eth0 came up");
  assert_counts (h, 1, 0);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  /* another interface's flaps are none of its business */
  link_set_up (h, 3, FALSE);
  link_set_up (h, 3, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  host_free (h);
}

/* A removed link takes the membership with it (what the socket records
 * of it is dropped at once); nothing is re-joined until an interface of
 * that name is there and up. */
static void
test_link_removed_and_recreated (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  link_set_up (h, 2, FALSE);
  link_remove (h, 2);
  expect (h, "join s1 239.1.1.1 #2",
      "leave s1 239.1.1.1 #2: its interface was removed", NULL);
  expect_log (h, "W: interface eth0 was removed, and the membership with "
      "it: re-joining when an interface of that name appears");
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  /* other interfaces coming and going: still waiting */
  link_set_up (h, 3, FALSE);
  link_set_up (h, 3, TRUE);
  address (h, TRUE, 3, "10.0.3.1");
  mcp_membership_flush (h->mb);
  expect (h, NULL);

  /* made anew, down: joined when it comes up */
  link_add (h, 5, "eth0");
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  expect_log (h, "I: interface eth0 is there (again), as #5: joining when "
      "it comes up");
  address (h, TRUE, 5, "10.0.0.9");
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  expect_log (h, "I: address 10.0.0.9 added to eth0, which is down");
  link_set_up (h, 5, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #5: link eth0 came up", NULL);
  expect_log (h, "I: joined 239.1.1.1 on eth0: link eth0 came up");
  assert_counts (h, 1, 0);

  /* and it is followed there */
  link_set_up (h, 5, FALSE);
  link_set_up (h, 5, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #5: link eth0 came up", NULL);
  host_free (h);
}

/* An interface that takes the configured name while up (a rename) is
 * joined at once; one renamed away from it stays joined. */
static void
test_interface_appears_up_under_its_name (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  link_remove (h, 2);
  link_rename (h, 3, "eth0");
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2",
      "leave s1 239.1.1.1 #2: its interface was removed",
      "rejoin s1 239.1.1.1 #3: interface eth0 appeared, up, as #3", NULL);

  link_rename (h, 3, "wan0");
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  expect_log (h, "I: interface eth0 was renamed wan0; staying joined on it");
  host_free (h);
}

/* Our name at a new index while the old one was never seen going: the
 * membership on the old one is dropped first. */
static void
test_recreated_unseen_leaves_old_index (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  g_strlcpy (host_link (h, 2)->name, "old0", IF_NAMESIZE);
  link_add (h, 6, "eth0");
  link_set_up (h, 6, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2",
      "leave s1 239.1.1.1 #2: its interface was made anew",
      "rejoin s1 239.1.1.1 #6: link eth0 came up", NULL);
  host_free (h);
}

/* An address added re-joins on its interface, unless the link is down;
 * one of the other family, or on another interface, does not. */
static void
test_address_added (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  address (h, TRUE, 2, "10.0.0.1");
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2",
      "rejoin s1 239.1.1.1 #2: address 10.0.0.1 added to eth0", NULL);

  address (h, TRUE, 2, "fe80::1");
  address (h, TRUE, 3, "10.0.3.1");
  mcp_membership_flush (h->mb);
  expect (h, NULL);

  address (h, FALSE, 2, "10.0.0.1");
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  expect_log (h, "I: address 10.0.0.1 removed from eth0");

  link_set_up (h, 2, FALSE);
  address (h, TRUE, 2, "10.0.0.1");
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  expect_log (h, "I: address 10.0.0.1 added to eth0, which is down");
  assert_counts (h, 1, 0);
  host_free (h);
}

/* IPv6: only IPv6 addresses count. */
static void
test_address_added_ipv6 (void)
{
  Host *h = host_new (0);

  join (h, S1, "ff3e::1", "eth0", NULL);
  address (h, TRUE, 2, "10.0.0.1");
  mcp_membership_flush (h->mb);
  expect (h, "join s1 ff3e::1 #2", NULL);
  address (h, TRUE, 2, "2001:db8::1");
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 ff3e::1 #2: address 2001:db8::1 added to eth0", NULL);
  host_free (h);
}

/* The default interface is where the route to the group goes: joined
 * there, and followed when the route moves (a link coming up, or an
 * address added, elsewhere). */
static void
test_default_interface_follows_route (void)
{
  Host *h = host_new (0);

  join (h, S1, G, NULL, NULL);
  expect (h, "join s1 239.1.1.1 #2", NULL);
  {
    gchar *where = mcp_membership_where (h->mb, S1, addr (G), NULL);

    g_assert_cmpstr (where, ==, "the default interface (eth0)");
    g_free (where);
  }

  /* eth1 comes up, but the route stays */
  link_set_up (h, 3, FALSE);
  link_set_up (h, 3, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, NULL);

  /* eth1 comes up, and the route moves there */
  link_set_up (h, 3, FALSE);
  h->route = 3;
  link_set_up (h, 3, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "leave s1 239.1.1.1 #2: the route to the group moved",
      "rejoin s1 239.1.1.1 #3: the route to the group moved to eth1", NULL);
  expect_log (h, "I: joined 239.1.1.1 on the default interface (eth1): "
      "the route to the group moved to eth1");

  /* an address on eth0 brings the route back */
  h->route = 2;
  address (h, TRUE, 2, "10.0.0.1");
  mcp_membership_flush (h->mb);
  expect (h, "leave s1 239.1.1.1 #3: the route to the group moved",
      "rejoin s1 239.1.1.1 #2: the route to the group moved to eth0", NULL);

  /* its own link flapping: down marks it, up re-joins */
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #2: link eth0 came up", NULL);
  assert_counts (h, 3, 0);
  host_free (h);
}

/* The default interface removed: any link coming up, or any address,
 * re-joins wherever the route goes then. */
static void
test_default_interface_removed (void)
{
  Host *h = host_new (0);

  join (h, S1, G, NULL, NULL);
  h->route = 0;
  link_remove (h, 2);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2",
      "leave s1 239.1.1.1 #2: its interface was removed", NULL);
  /* (gone: its name with it) */
  expect_log (h, "W: interface the default interface was removed, and the "
      "membership with it: re-joining when a route to the group comes up");

  /* no route known: joined where the kernel chooses */
  link_set_up (h, 3, FALSE);
  link_set_up (h, 3, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #0: link eth1 came up", NULL);
  expect_log (h, "I: joined 239.1.1.1 on the default interface: link eth1 "
      "came up");

  h->route = 3;
  address (h, TRUE, 3, "10.0.3.1");
  mcp_membership_flush (h->mb);
  expect (h, "leave s1 239.1.1.1 #0: the route to the group moved",
      "rejoin s1 239.1.1.1 #3: the route to the group moved to eth1", NULL);
  host_free (h);
}

/* Netlink lost notifications: everything is re-joined, named interfaces
 * looked up anew. */
static void
test_resync_rejoins_everywhere (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth1", NULL);
  join (h, S2, G, NULL, NULL);
  event (h, MCP_NETLINK_RESYNC, 0, NULL, 0, NULL);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2", "join s1 239.1.1.1 #3",
      "join s2 239.1.1.1 #2",
      "rejoin s1 239.1.1.1 #2: interface notifications were lost",
      "rejoin s1 239.1.1.1 #3: interface notifications were lost",
      "rejoin s2 239.1.1.1 #2: interface notifications were lost", NULL);
  expect_log (h, "W: interface notifications were lost (netlink overrun): "
      "re-joining everywhere");
  assert_counts (h, 3, 0);

  /* meanwhile eth0 was made anew as #7 and eth1 removed, unseen */
  g_array_remove_index (h->links, 1);
  g_array_remove_index (h->links, 1);
  {
    Link l = { 7, "eth0", TRUE };

    g_array_append_val (h->links, l);
  }
  event (h, MCP_NETLINK_RESYNC, 0, NULL, 0, NULL);
  mcp_membership_flush (h->mb);
  expect (h, "leave s1 239.1.1.1 #2: interface notifications were lost",
      "leave s1 239.1.1.1 #3: interface notifications were lost",
      "rejoin s1 239.1.1.1 #7: interface notifications were lost",
      "rejoin s2 239.1.1.1 #2: interface notifications were lost", NULL);
  host_free (h);
}

/* However many events for an interface, one re-join, for the first
 * reason. */
static void
test_burst_rejoins_once (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth1", NULL);
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  address (h, TRUE, 2, "10.0.0.1");
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  address (h, TRUE, 3, "10.0.3.1");
  address (h, TRUE, 2, "10.0.0.2");
  event (h, MCP_NETLINK_RESYNC, 0, NULL, 0, NULL);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2", "join s1 239.1.1.1 #3",
      "rejoin s1 239.1.1.1 #2: link eth0 came up",
      "rejoin s1 239.1.1.1 #3: address 10.0.3.1 added to eth1", NULL);
  mcp_membership_flush (h->mb);
  expect (h, NULL);
  assert_counts (h, 2, 0);
  host_free (h);
}

/* A re-join that fails is counted, and tried again when the interface
 * comes up or gets an address, even without a down before. */
static void
test_failed_rejoin_retried (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  h->fail_on = 2;
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2",
      "rejoin s1 239.1.1.1 #2: link eth0 came up", NULL);
  expect_log (h, "W: could not join 239.1.1.1 on eth0 again (link eth0 came "
      "up): cannot join: rejoin s1 239.1.1.1 #2: link eth0 came up; trying "
      "again when an interface comes up or gets an address");
  assert_counts (h, 0, 1);

  h->fail_on = 0;
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #2: link eth0 came up", NULL);
  expect_log (h, "I: joined 239.1.1.1 on eth0: link eth0 came up");
  assert_counts (h, 1, 0);

  /* a failed re-join keeps the references; more are counted */
  h->fail_on = 2;
  address (h, TRUE, 2, "10.0.0.1");
  mcp_membership_flush (h->mb);
  join (h, S1, G, "eth0", NULL);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 2);
  h->fail_on = 0;
  address (h, TRUE, 2, "10.0.0.2");
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 239.1.1.1 #2: address 10.0.0.1 added to eth0",
      "rejoin s1 239.1.1.1 #2: address 10.0.0.2 added to eth0", NULL);
  assert_counts (h, 1, 1);
  host_free (h);
}

/* A source whose membership was never tried (taken while its interface's
 * re-join had failed) is not left; the others are. */
static void
test_leave_only_what_was_joined (void)
{
  Host *h = host_new (0);

  join (h, S1, SSM, "eth0", SRC_A);
  h->fail_on = 2;
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  join (h, S1, SSM, "eth0", SRC_B);
  g_assert_true (leave (h, S1, SSM, "eth0", SRC_B, 0));
  g_assert_true (leave (h, S1, SSM, "eth0", SRC_A, 0));
  expect (h, "join s1 232.1.1.1 #2 from 10.0.0.1",
      "rejoin s1 232.1.1.1 #2 from 10.0.0.1: link eth0 came up",
      "leave s1 232.1.1.1 #2 from 10.0.0.1: no longer wanted", NULL);
  g_assert_true (mcp_membership_is_empty (h->mb));
  host_free (h);
}

/* rejoin-interval: every membership, every interval, counted from the
 * tick that set it; after a stall, once. */
static void
test_rejoin_interval (void)
{
  Host *h = host_new (SECOND);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, NULL, NULL);
  expect (h, "join s1 239.1.1.1 #2", "join s1 239.1.1.1 #2", NULL);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 0), ==, G_MAXUINT64);
  mcp_membership_set_rejoin_interval (h->mb, 3 * SECOND, 10 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 10 * SECOND), ==, 13 * SECOND);
  /* the same again changes nothing */
  mcp_membership_set_rejoin_interval (h->mb, 3 * SECOND, 12 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 13 * SECOND - 1), ==,
      13 * SECOND);
  expect (h, NULL);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 13 * SECOND), ==, 16 * SECOND);
  expect (h, "rejoin s1 239.1.1.1 #2: rejoin-interval",
      "rejoin s1 239.1.1.1 #2: rejoin-interval", NULL);
  expect_log (h, "I: re-joined 239.1.1.1 on the default interface (eth0): "
      "rejoin-interval");
  /* a stall: one re-join */
  g_assert_cmpuint (mcp_membership_tick (h->mb, 30 * SECOND), ==, 33 * SECOND);
  expect (h, "rejoin s1 239.1.1.1 #2: rejoin-interval",
      "rejoin s1 239.1.1.1 #2: rejoin-interval", NULL);
  assert_counts (h, 4, 0);

  /* a lingering membership is re-joined too, and its linger still ends
   * on time, before the linger's deadline is handed back */
  g_assert_true (leave (h, S1, G, NULL, NULL, 31 * SECOND));
  g_assert_cmpuint (mcp_membership_tick (h->mb, 31 * SECOND), ==, 32 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 32 * SECOND), ==, 33 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 33 * SECOND), ==, 36 * SECOND);
  expect (h, "leave s1 239.1.1.1 #2: nobody wanted it for the linger",
      "rejoin s1 239.1.1.1 #2: rejoin-interval", NULL);

  /* the default interface's route is looked up at each re-join */
  h->route = 3;
  join (h, S1, G, NULL, NULL);
  mcp_membership_tick (h->mb, 36 * SECOND);
  expect (h, "join s1 239.1.1.1 #3", "rejoin s1 239.1.1.1 #2: "
      "rejoin-interval", "rejoin s1 239.1.1.1 #3: rejoin-interval", NULL);

  /* off; then on again counts from its own tick */
  mcp_membership_set_rejoin_interval (h->mb, 0, 37 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 100 * SECOND), ==, G_MAXUINT64);
  mcp_membership_set_rejoin_interval (h->mb, SECOND, 100 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 100 * SECOND), ==,
      101 * SECOND);
  expect (h, NULL);
  /* "never" in practice */
  mcp_membership_set_rejoin_interval (h->mb, G_MAXUINT64, 100 * SECOND);
  g_assert_cmpuint (mcp_membership_tick (h->mb, G_MAXUINT64 - 1), ==,
      G_MAXUINT64);
  expect (h, NULL);
  host_free (h);
}

/* Several interfaces: each one's events are its own. */
static void
test_several_interfaces (void)
{
  Host *h = host_new (0);
  gchar *where;

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth1", NULL);
  join (h, S1, G, "lo", NULL);
  link_set_up (h, 3, FALSE);
  address (h, TRUE, 1, "127.0.0.2");
  mcp_membership_flush (h->mb);
  link_remove (h, 2);
  link_set_up (h, 3, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2", "join s1 239.1.1.1 #3",
      "join s1 239.1.1.1 #1",
      "rejoin s1 239.1.1.1 #1: address 127.0.0.2 added to lo",
      "leave s1 239.1.1.1 #2: its interface was removed",
      "rejoin s1 239.1.1.1 #3: link eth1 came up", NULL);
  where = mcp_membership_where (h->mb, S1, addr (G), "eth0");
  g_assert_cmpstr (where, ==, "eth0");
  g_free (where);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 1);
  /* a leave of a membership whose interface is gone has nothing to leave */
  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  expect (h, NULL);
  host_free (h);
}

/* Source-specific: one join per source, one re-join for them all, and
 * each source left on its own. */
static void
test_source_specific (void)
{
  Host *h = host_new (0);
  GError *err = NULL;

  join (h, S1, SSM, "eth0", SRC_A);
  join (h, S1, SSM, "eth0", SRC_B);
  join (h, S1, SSM, "eth0", SRC_B);
  expect (h, "join s1 232.1.1.1 #2 from 10.0.0.1",
      "join s1 232.1.1.1 #2 from 10.0.0.2", NULL);
  g_assert_cmpuint (count (h, S1, SSM, "eth0", SRC_B), ==, 2);

  /* any source and given sources do not mix on one interface */
  g_assert_false (mcp_membership_join (h->mb, S1, addr (SSM), "eth0", NULL,
          &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (err->message, ==, "cannot join 232.1.1.1 on eth0 both "
      "from any source and from given sources");
  g_clear_error (&err);
  join (h, S1, G, "eth0", NULL);
  g_assert_false (mcp_membership_join (h->mb, S1, addr (G), "eth0",
          addr (SRC_A), &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  expect (h, "join s1 239.1.1.1 #2", "leave s1 239.1.1.1 #2: no longer "
      "wanted", NULL);

  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 232.1.1.1 #2 from 10.0.0.1,10.0.0.2: link eth0 "
      "came up", NULL);
  assert_counts (h, 1, 0);

  g_assert_true (leave (h, S1, SSM, "eth0", SRC_A, 0));
  g_assert_true (leave (h, S1, SSM, "eth0", SRC_B, 0));
  expect (h, "leave s1 232.1.1.1 #2 from 10.0.0.1: no longer wanted", NULL);

  /* the interface gone: every source's membership dropped; a source
   * added meanwhile joins with the others when it is back */
  join (h, S1, SSM, "eth0", SRC_A);
  expect (h, "join s1 232.1.1.1 #2 from 10.0.0.1", NULL);
  link_remove (h, 2);
  expect (h, "leave s1 232.1.1.1 #2 from 10.0.0.2: its interface was "
      "removed", "leave s1 232.1.1.1 #2 from 10.0.0.1: its interface was "
      "removed", NULL);
  join (h, S1, SSM, "eth0", SRC_C);
  expect (h, NULL);
  link_add (h, 8, "eth0");
  link_set_up (h, 8, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "rejoin s1 232.1.1.1 #8 from 10.0.0.2,10.0.0.1,10.0.0.3: link "
      "eth0 came up", NULL);
  host_free (h);
}

/* Memberships of two sockets (a channel gateway's channels) and of two
 * groups on one socket are apart. */
static void
test_sockets_and_groups (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  join (h, S2, G, "eth0", NULL);
  join (h, S2, "239.2.2.2", "eth0", NULL);
  g_assert_cmpuint (count (h, S1, G, "eth0", NULL), ==, 1);
  g_assert_cmpuint (count (h, S2, "239.2.2.2", "eth0", NULL), ==, 1);
  g_assert_cmpuint (count (h, S1, "239.2.2.2", "eth0", NULL), ==, 0);
  g_assert_true (leave (h, S2, G, "eth0", NULL, 0));
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect (h, "join s1 239.1.1.1 #2", "join s2 239.1.1.1 #2",
      "join s2 239.2.2.2 #2", "leave s2 239.1.1.1 #2: no longer wanted",
      "rejoin s1 239.1.1.1 #2: link eth0 came up",
      "rejoin s2 239.2.2.2 #2: link eth0 came up", NULL);
  assert_counts (h, 2, 0);
  assert_counts (h, 0, 0);
  host_free (h);
}

/* ---- notifications ----------------------------------------------------- */

/* Once per membership taken and dropped, however many references; with
 * the caller's reason, or the linger's. */
static void
test_notify_join_and_leave (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth0", NULL);
  join (h, S2, G, NULL, NULL);
  expect_notes (h, "joined s1 239.1.1.1 eth0 #2",
      "joined s2 239.1.1.1 default #2", NULL);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  expect_notes (h, NULL);
  g_assert_true (mcp_membership_leave (h->mb, S1, addr (G), "eth0", NULL, 0,
          "no client left"));
  expect_notes (h, "left s1 239.1.1.1 eth0 #2: no client left", NULL);
  g_assert_true (leave (h, S2, G, NULL, NULL, 0));
  expect_notes (h, "left s2 239.1.1.1 default #2: no longer wanted", NULL);

  /* source-specific: one each */
  join (h, S1, SSM, "eth1", SRC_A);
  join (h, S1, SSM, "eth1", SRC_B);
  g_assert_true (leave (h, S1, SSM, "eth1", SRC_A, 0));
  expect_notes (h, "joined s1 232.1.1.1 eth1 #3 from 10.0.0.1",
      "joined s1 232.1.1.1 eth1 #3 from 10.0.0.2",
      "left s1 232.1.1.1 eth1 #3 from 10.0.0.1: no longer wanted", NULL);
  g_assert_true (leave (h, S1, SSM, "eth1", SRC_B, 0));
  expect_notes (h, "left s1 232.1.1.1 eth1 #3 from 10.0.0.2: no longer "
      "wanted", NULL);
  expect (h, "join s1 239.1.1.1 #2", "join s2 239.1.1.1 #2",
      "leave s1 239.1.1.1 #2: no client left",
      "leave s2 239.1.1.1 #2: no longer wanted",
      "join s1 232.1.1.1 #3 from 10.0.0.1",
      "join s1 232.1.1.1 #3 from 10.0.0.2",
      "leave s1 232.1.1.1 #3 from 10.0.0.1: no longer wanted",
      "leave s1 232.1.1.1 #3 from 10.0.0.2: no longer wanted", NULL);

  /* wanted again while lingering: no change */
  host_free (h);
  h = host_new (2 * SECOND);
  join (h, S1, G, "eth0", NULL);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  join (h, S1, G, "eth0", NULL);
  g_assert_true (leave (h, S1, G, "eth0", NULL, SECOND));
  g_assert_cmpuint (mcp_membership_tick (h->mb, 2 * SECOND), ==, 3 * SECOND);
  expect_notes (h, "joined s1 239.1.1.1 eth0 #2", NULL);
  mcp_membership_tick (h->mb, 3 * SECOND);
  expect_notes (h, "left s1 239.1.1.1 eth0 #2: nobody wanted it for the "
      "linger", NULL);
  host_free (h);
}

/* join_each that fails half-way tells what it joined and left again. */
static void
test_notify_join_each_failure (void)
{
  Host *h = host_new (0);
  GPtrArray *ifnames = g_ptr_array_new ();
  GError *err = NULL;

  g_ptr_array_add (ifnames, (gpointer) "eth0");
  g_ptr_array_add (ifnames, (gpointer) "eth1");
  h->fail_on = 3;
  g_assert_false (mcp_membership_join_each (h->mb, S1, addr (G), ifnames,
          NULL, &err));
  g_clear_error (&err);
  expect_notes (h, "joined s1 239.1.1.1 eth0 #2",
      "left s1 239.1.1.1 eth0 #2: a join failed", NULL);
  g_ptr_array_unref (ifnames);
  host_free (h);
}

/* A membership lost with its interface is told as left, and as joined
 * again when it is re-joined; re-joins of what is held (a link down and
 * up, rejoin-interval) are no change. */
static void
test_notify_interface_changes (void)
{
  Host *h = host_new (0);

  join (h, S1, G, "eth0", NULL);
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  mcp_membership_set_rejoin_interval (h->mb, SECOND, 0);
  mcp_membership_tick (h->mb, SECOND);
  expect (h, "join s1 239.1.1.1 #2",
      "rejoin s1 239.1.1.1 #2: link eth0 came up",
      "rejoin s1 239.1.1.1 #2: rejoin-interval", NULL);
  expect_notes (h, "joined s1 239.1.1.1 eth0 #2", NULL);

  link_remove (h, 2);
  expect_notes (h, "left s1 239.1.1.1 eth0 #2: its interface was removed",
      NULL);
  link_add (h, 5, "eth0");
  link_set_up (h, 5, TRUE);
  mcp_membership_flush (h->mb);
  expect_notes (h, "joined s1 239.1.1.1 eth0 #5", NULL);

  /* the default interface: the route moved */
  join (h, S2, G, NULL, NULL);
  h->route = 3;
  address (h, TRUE, 3, "10.0.3.1");
  mcp_membership_flush (h->mb);
  expect_notes (h, "joined s2 239.1.1.1 default #2",
      "left s2 239.1.1.1 default #2: the route to the group moved",
      "joined s2 239.1.1.1 default #3", NULL);
  g_assert_true (leave (h, S1, G, "eth0", NULL, 0));
  g_assert_true (leave (h, S2, G, NULL, NULL, 0));
  expect_notes (h, "left s1 239.1.1.1 eth0 #5: no longer wanted",
      "left s2 239.1.1.1 default #3: no longer wanted", NULL);
  host_free (h);
}

/* A failed re-join loses the membership: told as left, then as joined
 * when a re-join works. A source taken meanwhile is told with it. */
static void
test_notify_failed_rejoin (void)
{
  Host *h = host_new (0);

  join (h, S1, SSM, "eth0", SRC_A);
  h->fail_on = 2;
  link_set_up (h, 2, FALSE);
  link_set_up (h, 2, TRUE);
  mcp_membership_flush (h->mb);
  expect_notes (h, "joined s1 232.1.1.1 eth0 #2 from 10.0.0.1",
      "left s1 232.1.1.1 eth0 #2 from 10.0.0.1: a re-join failed", NULL);
  mcp_membership_set_rejoin_interval (h->mb, SECOND, 0);
  mcp_membership_tick (h->mb, SECOND);
  expect_notes (h, NULL);
  join (h, S1, SSM, "eth0", SRC_B);
  expect_notes (h, NULL);
  h->fail_on = 0;
  mcp_membership_tick (h->mb, 2 * SECOND);
  expect_notes (h, "joined s1 232.1.1.1 eth0 #2 from 10.0.0.1",
      "joined s1 232.1.1.1 eth0 #2 from 10.0.0.2", NULL);
  mcp_membership_leave_all (h->mb, "stopping");
  expect_notes (h, "left s1 232.1.1.1 eth0 #2 from 10.0.0.1: stopping",
      "left s1 232.1.1.1 eth0 #2 from 10.0.0.2: stopping", NULL);
  host_free (h);
}

/* leave_all: every membership, whatever its references and linger, with
 * the reason; the sockets let go. */
static void
test_leave_all (void)
{
  Host *h = host_new (5 * SECOND);

  join (h, S1, G, "eth0", NULL);
  join (h, S1, G, "eth0", NULL);
  join (h, S2, SSM, NULL, SRC_A);
  join (h, S2, G, "eth1", NULL);
  g_assert_true (leave (h, S2, G, "eth1", NULL, 0));
  expect (h, "join s1 239.1.1.1 #2", "join s2 232.1.1.1 #2 from 10.0.0.1",
      "join s2 239.1.1.1 #3", NULL);
  expect_notes (h, "joined s1 239.1.1.1 eth0 #2",
      "joined s2 232.1.1.1 default #2 from 10.0.0.1",
      "joined s2 239.1.1.1 eth1 #3", NULL);
  mcp_membership_leave_all (h->mb, "stopping");
  expect (h, "leave s1 239.1.1.1 #2: stopping",
      "leave s2 232.1.1.1 #2 from 10.0.0.1: stopping",
      "leave s2 239.1.1.1 #3: stopping", NULL);
  expect_notes (h, "left s1 239.1.1.1 eth0 #2: stopping",
      "left s2 232.1.1.1 default #2 from 10.0.0.1: stopping",
      "left s2 239.1.1.1 eth1 #3: stopping", NULL);
  g_assert_true (mcp_membership_is_empty (h->mb));
  g_assert_cmpuint (socket_refs (h, S1), ==, 0);
  g_assert_cmpuint (socket_refs (h, S2), ==, 0);
  g_assert_cmpuint (mcp_membership_tick (h->mb, 10 * SECOND), ==, G_MAXUINT64);
  expect (h, NULL);
  host_free (h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/membership/refcount", test_refcount);
  g_test_add_func ("/membership/linger", test_linger);
  g_test_add_func ("/membership/join-each", test_join_each);
  g_test_add_func ("/membership/join-during-linger", test_join_during_linger);
  g_test_add_func ("/membership/linger-forever", test_linger_forever);
  g_test_add_func ("/membership/join-failures", test_join_failures);
  g_test_add_func ("/membership/socket-references", test_socket_references);
  g_test_add_func ("/membership/carrier-after-join",
      test_carrier_after_join_keeps_membership);
  g_test_add_func ("/membership/link-down-up", test_link_down_then_up_rejoins);
  g_test_add_func ("/membership/link-removed-recreated",
      test_link_removed_and_recreated);
  g_test_add_func ("/membership/appears-up-under-its-name",
      test_interface_appears_up_under_its_name);
  g_test_add_func ("/membership/recreated-unseen",
      test_recreated_unseen_leaves_old_index);
  g_test_add_func ("/membership/address-added", test_address_added);
  g_test_add_func ("/membership/address-added-ipv6", test_address_added_ipv6);
  g_test_add_func ("/membership/default-follows-route",
      test_default_interface_follows_route);
  g_test_add_func ("/membership/default-removed",
      test_default_interface_removed);
  g_test_add_func ("/membership/resync", test_resync_rejoins_everywhere);
  g_test_add_func ("/membership/burst-once", test_burst_rejoins_once);
  g_test_add_func ("/membership/failed-rejoin", test_failed_rejoin_retried);
  g_test_add_func ("/membership/leave-only-what-was-joined",
      test_leave_only_what_was_joined);
  g_test_add_func ("/membership/rejoin-interval", test_rejoin_interval);
  g_test_add_func ("/membership/several-interfaces", test_several_interfaces);
  g_test_add_func ("/membership/source-specific", test_source_specific);
  g_test_add_func ("/membership/sockets-and-groups", test_sockets_and_groups);
  g_test_add_func ("/membership/notify-join-leave", test_notify_join_and_leave);
  g_test_add_func ("/membership/notify-join-each-failure",
      test_notify_join_each_failure);
  g_test_add_func ("/membership/notify-interface-changes",
      test_notify_interface_changes);
  g_test_add_func ("/membership/notify-failed-rejoin",
      test_notify_failed_rejoin);
  g_test_add_func ("/membership/leave-all", test_leave_all);

  return g_test_run ();
}
