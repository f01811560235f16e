/* mcastproxy fuzzing — the membership table and its policy (mcp-membership)
 * under random joins, leaves, interface changes and time, on a made-up
 * host, against these invariants:
 *
 * - the references are what the joins and leaves that worked add up to;
 *   a leave without a reference fails and changes nothing;
 * - nothing is left that was not joined (JOIN that worked, or REJOIN)
 *   since it was last left, on the same socket, group, index and source;
 * - at most one re-join per membership per flush, and per tick;
 * - a named interface is never re-joined on index 0;
 * - the notifications of a membership alternate, joined first, and one
 *   told as joined is held on the index it names;
 * - once every reference is dropped and the linger is over, the table is
 *   empty, holds no socket, and everything it joined it left and told as
 *   left.
 *
 * Input: byte 0 the linger (x 10 ms); then operations of 3 bytes:
 *   byte 0   which operation (below, modulo their number)
 *   1, 2     its arguments
 */
#include "config.h"

#include "mcp-membership.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define MS G_GUINT64_CONSTANT (1000000)
#define N_NAMES 3
#define MAX_LINKS 8

static const gchar *names[N_NAMES] = { "eth0", "eth1", "eth2" };
static const gchar *groups[] = { "239.1.1.1", "232.1.1.1", "ff3e::1" };

static const gchar *sources[] = { NULL, "10.0.0.1", "10.0.0.2",
  "2001:db8::1"
};

typedef struct
{
  guint index;
  gchar name[IF_NAMESIZE];
  gboolean up;
} Link;

typedef struct
{
  Link links[MAX_LINKS];
  guint n_links;
  guint next_index;
  guint route;
  guint fail_on;
  guint64 now;
  GHashTable *refs;             /* "socket group ifname source" -> refs */
  GHashTable *held;             /* held_key(): joined, not left since */
  GHashTable *rejoined;         /* "socket group where": in this flush */
  GHashTable *told;             /* "socket group ifname source": told as
                                 * joined, not yet as left */
  GHashTable *socket_refs;      /* socket -> references */
  GInetAddress *groups[G_N_ELEMENTS (groups)];
  GInetAddress *sources[G_N_ELEMENTS (sources)];
  McpMembership *mb;
} Host;

static Link *
find_link (Host * h, guint index)
{
  guint i;

  for (i = 0; i < h->n_links; i++)
    if (h->links[i].index == index)
      return &h->links[i];
  return NULL;
}

static Link *
find_name (Host * h, const gchar * name)
{
  guint i;

  for (i = 0; i < h->n_links; i++)
    if (strcmp (h->links[i].name, name) == 0)
      return &h->links[i];
  return NULL;
}

static guint
env_route_interface (GInetAddress * group, gpointer data)
{
  return ((Host *) data)->route;
}

static guint
env_link_index (const gchar * ifname, gpointer data)
{
  Link *l = find_name (data, ifname);

  return l ? l->index : 0;
}

static gboolean
env_link_is_up (guint ifindex, gpointer data)
{
  Link *l = find_link (data, ifindex);

  return l && l->up;
}

static const gchar *
env_link_name (guint ifindex, gpointer data)
{
  Link *l = find_link (data, ifindex);

  return l ? l->name : NULL;
}

static gchar *
key (gpointer socket, GInetAddress * group, const gchar * where,
    GInetAddress * source)
{
  gchar *g = g_inet_address_to_string (group);
  gchar *s = source ? g_inet_address_to_string (source) : NULL;
  gchar *k = g_strdup_printf ("%p %s %s %s", socket, g, where, s ? s : "*");

  g_free (g);
  g_free (s);
  return k;
}

/* Adds delta to what t counts for k (never below 0). */
static void
table_add (GHashTable * t, const gchar * k, gint delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (t, k));

  g_assert (delta > 0 || n >= (guint) - delta);
  n += delta;
  if (n)
    g_hash_table_insert (t, g_strdup (k), GUINT_TO_POINTER (n));
  else
    g_hash_table_remove (t, k);
}

/* What one membership (its interface as configured, or the default one)
 * holds on one index: "socket group eth0 #2 source". */
static gchar *
held_key (const McpMembershipAction * a, GInetAddress * source)
{
  gchar *member = g_str_has_prefix (a->where, "the default interface") ?
      g_strdup ("default") : g_strdup (a->where);
  gchar *where = g_strdup_printf ("%s #%u", member, a->ifindex);
  gchar *k = key (a->socket, a->group, where, source);

  g_free (member);
  g_free (where);
  return k;
}

static gboolean
env_apply (const McpMembershipAction * a, gpointer data, GError ** error)
{
  Host *h = data;
  gboolean ok = !(h->fail_on && a->ifindex == h->fail_on);
  gchar *k = NULL;
  guint i;

  g_assert (a->where != NULL);
  switch (a->type) {
    case MCP_MEMBERSHIP_JOIN:
      g_assert (a->reason == NULL && a->sources == NULL);
      k = held_key (a, a->source);
      g_assert (!g_hash_table_contains (h->held, k));
      if (ok)
        g_hash_table_add (h->held, g_steal_pointer (&k));
      break;
    case MCP_MEMBERSHIP_LEAVE:
      g_assert (a->reason != NULL && a->sources == NULL);
      /* never a leave without a join */
      k = held_key (a, a->source);
      g_assert (g_hash_table_remove (h->held, k));
      ok = TRUE;
      break;
    case MCP_MEMBERSHIP_REJOIN:
      g_assert (a->reason != NULL && a->source == NULL);
      /* a named interface has an index */
      g_assert (a->ifindex != 0 || g_str_has_prefix (a->where,
              "the default interface"));
      /* once per membership per flush or tick */
      g_assert (g_hash_table_add (h->rejoined, key (a->socket, a->group,
                  a->where, NULL)));
      /* what it left it joins again, what it did not it joins now; what
       * fails may still be held (an earlier source of several) */
      for (i = 0; i < MAX (a->sources->len, 1); i++)
        g_hash_table_add (h->held, held_key (a, a->sources->len ?
                g_ptr_array_index (a->sources, i) : NULL));
      break;
  }
  g_free (k);
  if (!ok)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no");
  return ok;
}

static void
on_notify (const McpMembershipChange * c, gpointer data)
{
  Host *h = data;
  gchar *k = key (c->socket, c->group, c->ifname ? c->ifname : "default",
      c->source);

  if (c->joined) {
    gchar *where = g_strdup_printf ("%s #%u", c->ifname ? c->ifname :
        "default", c->ifindex);
    gchar *held = key (c->socket, c->group, where, c->source);

    g_assert (c->reason == NULL);
    g_assert (g_hash_table_contains (h->held, held));
    g_assert (g_hash_table_add (h->told, g_steal_pointer (&k)));
    g_free (held);
    g_free (where);
  } else {
    g_assert (c->reason != NULL);
    g_assert (g_hash_table_remove (h->told, k));
  }
  g_free (k);
}

static void
env_socket_ref (gpointer socket, gpointer data)
{
  Host *h = data;

  g_hash_table_insert (h->socket_refs, socket,
      GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup
              (h->socket_refs, socket)) + 1));
}

static void
env_socket_unref (gpointer socket, gpointer data)
{
  Host *h = data;
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (h->socket_refs, socket));

  g_assert (n > 0);
  if (n == 1)
    g_hash_table_remove (h->socket_refs, socket);
  else
    g_hash_table_insert (h->socket_refs, socket, GUINT_TO_POINTER (n - 1));
}

static void
send_event (Host * h, McpNetlinkEventType type, guint index,
    const gchar * name, GSocketFamily family, const gchar * address)
{
  McpNetlinkEvent ev;

  memset (&ev, 0, sizeof (ev));
  ev.type = type;
  ev.ifindex = index;
  if (name)
    g_strlcpy (ev.ifname, name, sizeof (ev.ifname));
  ev.family = family;
  if (address)
    g_strlcpy (ev.address, address, sizeof (ev.address));
  mcp_membership_event (h->mb, &ev);
}

static void
remove_link (Host * h, Link * l, gboolean silently)
{
  Link gone = *l;

  *l = h->links[--h->n_links];
  if (!silently)
    send_event (h, MCP_NETLINK_LINK_REMOVED, gone.index, gone.name, 0, NULL);
}

static void
flush (Host * h)
{
  mcp_membership_flush (h->mb);
  g_hash_table_remove_all (h->rejoined);
}

static guint64
tick (Host * h)
{
  guint64 next = mcp_membership_tick (h->mb, h->now);

  g_hash_table_remove_all (h->rejoined);
  g_assert (next > h->now);
  return next;
}

/* One join or leave: socket, group, interface and source from a and b. */
static void
join_or_leave (Host * h, gboolean join, guint8 a, guint8 b)
{
  gpointer socket = GUINT_TO_POINTER (1 + (a & 1));
  GInetAddress *group = h->groups[(a >> 1) % G_N_ELEMENTS (groups)];
  const gchar *ifname = b % 4 ? names[b % 4 - 1] : NULL;
  GInetAddress *source = h->sources[(b >> 2) % G_N_ELEMENTS (sources)];
  gchar *k = key (socket, group, ifname ? ifname : "default", source);
  guint refs = GPOINTER_TO_UINT (g_hash_table_lookup (h->refs, k));

  if (join) {
    if (mcp_membership_join (h->mb, socket, group, ifname, source, NULL))
      table_add (h->refs, k, 1);
  } else {
    gboolean ok = mcp_membership_leave (h->mb, socket, group, ifname,
        source, h->now, NULL);

    /* never below zero */
    g_assert (ok == (refs > 0));
    if (ok)
      table_add (h->refs, k, -1);
  }
  g_free (k);
  g_hash_table_remove_all (h->rejoined);
}

static void
check_refs (Host * h)
{
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, h->refs);
  while (g_hash_table_iter_next (&iter, &k, &v)) {
    gchar **f = g_strsplit (k, " ", 4);
    gpointer socket = GUINT_TO_POINTER (f[0][strlen (f[0]) - 1] - '0');
    GInetAddress *group = g_inet_address_new_from_string (f[1]);
    GInetAddress *source = strcmp (f[3], "*") ?
        g_inet_address_new_from_string (f[3]) : NULL;

    g_assert (mcp_membership_count (h->mb, socket, group,
            strcmp (f[2], "default") ? f[2] : NULL, source) ==
        GPOINTER_TO_UINT (v));
    g_object_unref (group);
    g_clear_object (&source);
    g_strfreev (f);
  }
}

static void
operate (Host * h, guint8 op, guint8 a, guint8 b)
{
  Link *l = h->n_links ? &h->links[a % h->n_links] : NULL;

  switch (op % 14) {
    case 0:
    case 1:
      join_or_leave (h, TRUE, a, b);
      break;
    case 2:
      join_or_leave (h, FALSE, a, b);
      break;
    case 3:                    /* a new interface, down; a name is unique */
      if (find_name (h, names[b % N_NAMES]))
        remove_link (h, find_name (h, names[b % N_NAMES]), a & 1);
      if (h->n_links < MAX_LINKS) {
        Link n = { h->next_index++ };

        g_strlcpy (n.name, names[b % N_NAMES], sizeof (n.name));
        h->links[h->n_links++] = n;
        send_event (h, MCP_NETLINK_LINK_ADDED, n.index, n.name, 0, NULL);
      }
      break;
    case 4:
      if (l) {
        l->up = !l->up;
        send_event (h, l->up ? MCP_NETLINK_LINK_UP : MCP_NETLINK_LINK_DOWN,
            l->index, l->name, 0, NULL);
      }
      break;
    case 5:                    /* b: silently, as during an overrun */
      if (l)
        remove_link (h, l, b & 1);
      break;
    case 6:                    /* renamed to a free name, or a new one */
      if (l) {
        const gchar *name = names[b % N_NAMES];

        if (find_name (h, name))
          name = "wan0";
        g_strlcpy (l->name, name, sizeof (l->name));
        if (!(b & 0x80))
          send_event (h, MCP_NETLINK_LINK_ADDED, l->index, l->name, 0, NULL);
      }
      break;
    case 7:
    case 8:
      send_event (h, op % 14 == 7 ? MCP_NETLINK_ADDRESS_ADDED :
          MCP_NETLINK_ADDRESS_REMOVED, l ? l->index : b, l ? l->name : NULL,
          b & 1 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4,
          b & 1 ? "2001:db8::9" : "10.9.9.9");
      break;
    case 9:
      send_event (h, MCP_NETLINK_RESYNC, 0, NULL, 0, NULL);
      break;
    case 10:
      flush (h);
      break;
    case 11:
      h->now += (guint64) a *10 * MS;
      tick (h);
      break;
    case 12:
      h->route = b % 3 == 0 ? 0 : l ? l->index : 0;
      h->fail_on = b % 5 == 1 && l ? l->index : 0;
      break;
    case 13:
      mcp_membership_set_rejoin_interval (h->mb, (guint64) a * 10 * MS, h->now);
      break;
  }
  check_refs (h);
}

/* Drops every reference left and lets the linger pass. */
static void
leave_all (Host * h)
{
  GList *keys = g_hash_table_get_keys (h->refs), *k;

  for (k = keys; k; k = k->next) {
    gchar **f = g_strsplit (k->data, " ", 4);
    gpointer socket = GUINT_TO_POINTER (f[0][strlen (f[0]) - 1] - '0');
    GInetAddress *group = g_inet_address_new_from_string (f[1]);
    GInetAddress *source = strcmp (f[3], "*") ?
        g_inet_address_new_from_string (f[3]) : NULL;
    const gchar *ifname = strcmp (f[2], "default") ? f[2] : NULL;
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (h->refs, k->data));

    while (n--)
      g_assert (mcp_membership_leave (h->mb, socket, group, ifname, source,
              h->now, NULL));
    g_assert (!mcp_membership_leave (h->mb, socket, group, ifname, source,
            h->now, NULL));
    g_object_unref (group);
    g_clear_object (&source);
    g_strfreev (f);
  }
  g_list_free (keys);
  g_hash_table_remove_all (h->refs);
  mcp_membership_set_rejoin_interval (h->mb, 0, h->now);
  h->now += 3000 * MS;
  g_assert (tick (h) == G_MAXUINT64);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  McpMembershipEnv env = { env_route_interface, env_link_index,
    env_link_is_up, env_link_name, env_apply, env_socket_ref,
    env_socket_unref, NULL
  };
  Host h;
  gsize i;

  if (size < 1)
    return 0;
  memset (&h, 0, sizeof (h));
  h.next_index = 2;
  for (i = 0; i < N_NAMES; i++) {
    Link l = { h.next_index++, "", TRUE };

    g_strlcpy (l.name, names[i], sizeof (l.name));
    h.links[h.n_links++] = l;
  }
  h.route = 2;
  h.refs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h.held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h.rejoined = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h.told = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h.socket_refs = g_hash_table_new (NULL, NULL);
  for (i = 0; i < G_N_ELEMENTS (groups); i++)
    h.groups[i] = g_inet_address_new_from_string (groups[i]);
  for (i = 0; i < G_N_ELEMENTS (sources); i++)
    h.sources[i] = sources[i] ?
        g_inet_address_new_from_string (sources[i]) : NULL;
  env.data = &h;
  h.mb = mcp_membership_new (&env, (guint64) data[0] * 10 * MS);
  mcp_membership_set_notify (h.mb, on_notify, &h);

  for (i = 1; i + 3 <= size; i += 3)
    operate (&h, data[i], data[i + 1], data[i + 2]);

  flush (&h);
  leave_all (&h);
  g_assert (mcp_membership_is_empty (h.mb));
  g_assert (g_hash_table_size (h.socket_refs) == 0);
  g_assert (g_hash_table_size (h.held) == 0);
  g_assert (g_hash_table_size (h.told) == 0);

  mcp_membership_free (h.mb);
  for (i = 0; i < G_N_ELEMENTS (groups); i++)
    g_object_unref (h.groups[i]);
  for (i = 0; i < G_N_ELEMENTS (sources); i++)
    g_clear_object (&h.sources[i]);
  g_hash_table_unref (h.refs);
  g_hash_table_unref (h.held);
  g_hash_table_unref (h.rejoined);
  g_hash_table_unref (h.told);
  g_hash_table_unref (h.socket_refs);
  return 0;
}
