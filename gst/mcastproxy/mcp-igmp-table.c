/* mcastproxy — the router side of IGMPv3 and MLDv2: membership state. */
#include "config.h"

#include "mcp-igmp-table.h"

#include <string.h>

typedef struct
{
  GInetAddress *addr;
  /* Absolute expiry; 0 when not running, which in EXCLUDE mode puts the
   * source in the exclude list (RFC 3376 6.2.1's Y), else the requested
   * list (X). */
  gint64 timer;
  guint retransmissions;        /* of Q(G,S) still to send */
} Source;

typedef struct
{
  GInetAddress *addr;
  gboolean exclude;
  gint64 timer;                 /* group timer; 0 in INCLUDE mode */
  gint64 since;
  GHashTable *sources;          /* address string -> Source */
  guint retransmissions;        /* of Q(G) still to send */
  gint64 next_query;            /* 0: none pending */
  gint64 v1_hosts_until;        /* older host present timers */
  gint64 v2_hosts_until;
} Group;

struct _McpIgmpTable
{
  GInetAddress *self;
  GSocketFamily family;
  guint max_groups;
  guint max_sources;

  guint robustness;
  gint64 query_interval;
  gint64 query_response_interval;
  gint64 lmqi;

  gboolean querier;
  gint64 other_querier_until;

  GHashTable *groups;           /* address string -> Group */
  guint64 dropped_groups;
  guint64 dropped_sources;

  McpIgmpTableChangedFunc changed;
  gpointer changed_data;
  GDestroyNotify changed_notify;
};

static void
source_free (Source * s)
{
  g_object_unref (s->addr);
  g_free (s);
}

static void
group_free (Group * g)
{
  g_object_unref (g->addr);
  g_hash_table_unref (g->sources);
  g_free (g);
}

McpIgmpTable *
mcp_igmp_table_new (GInetAddress * self, guint max_groups, guint max_sources)
{
  McpIgmpTable *t;

  g_return_val_if_fail (G_IS_INET_ADDRESS (self), NULL);

  t = g_new0 (McpIgmpTable, 1);
  t->self = g_object_ref (self);
  t->family = g_inet_address_get_family (self);
  t->max_groups = max_groups;
  t->max_sources = max_sources;
  t->robustness = MCP_IGMP_TABLE_DEFAULT_ROBUSTNESS;
  t->query_interval = MCP_IGMP_TABLE_DEFAULT_QUERY_INTERVAL;
  t->query_response_interval = MCP_IGMP_TABLE_DEFAULT_QUERY_RESPONSE_INTERVAL;
  t->lmqi = MCP_IGMP_TABLE_DEFAULT_LAST_MEMBER_QUERY_INTERVAL;
  t->querier = TRUE;
  t->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) group_free);
  return t;
}

void
mcp_igmp_table_free (McpIgmpTable * table)
{
  if (table == NULL)
    return;
  if (table->changed_notify)
    table->changed_notify (table->changed_data);
  g_hash_table_unref (table->groups);
  g_object_unref (table->self);
  g_free (table);
}

void
mcp_igmp_table_set_timers (McpIgmpTable * table, guint robustness,
    gint64 query_interval, gint64 query_response_interval,
    gint64 last_member_query_interval)
{
  g_return_if_fail (robustness > 0);
  table->robustness = robustness;
  table->query_interval = query_interval;
  table->query_response_interval = query_response_interval;
  table->lmqi = last_member_query_interval;
}

gint64
mcp_igmp_table_group_membership_interval (McpIgmpTable * table)
{
  return table->robustness * table->query_interval +
      table->query_response_interval;
}

gint64
mcp_igmp_table_last_member_query_time (McpIgmpTable * table)
{
  return table->robustness * table->lmqi;
}

void
mcp_igmp_table_set_changed_func (McpIgmpTable * table,
    McpIgmpTableChangedFunc func, gpointer user_data, GDestroyNotify notify)
{
  if (table->changed_notify)
    table->changed_notify (table->changed_data);
  table->changed = func;
  table->changed_data = user_data;
  table->changed_notify = notify;
}

/* ---- state helpers ----------------------------------------------------- */

static Group *
lookup_group (McpIgmpTable * t, GInetAddress * addr)
{
  gchar *key = g_inet_address_to_string (addr);
  Group *g = g_hash_table_lookup (t->groups, key);

  g_free (key);
  return g;
}

static gboolean
group_listened (Group * g)
{
  GHashTableIter it;
  Source *s;

  if (g == NULL)
    return FALSE;
  if (g->exclude)
    return TRUE;
  g_hash_table_iter_init (&it, g->sources);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & s))
    if (s->timer != 0)
      return TRUE;
  return FALSE;
}

/* The compatibility level of a group (RFC 3376 7.3.2) in IGMP's numbers;
 * MLDv1 hosts count as IGMPv2 ones, as RFC 3810 8.3.2 treats them. */
static guint
group_compat (Group * g, gint64 now)
{
  if (g->v1_hosts_until > now)
    return 1;
  if (g->v2_hosts_until > now)
    return 2;
  return 3;
}

/* The source in g, added with timer 0 when new and the limit allows;
 * NULL (counted) when it does not. */
static Source *
get_source (McpIgmpTable * t, Group * g, GInetAddress * addr, gboolean * added)
{
  gchar *key = g_inet_address_to_string (addr);
  Source *s = g_hash_table_lookup (g->sources, key);

  *added = FALSE;
  if (s != NULL) {
    g_free (key);
    return s;
  }
  if (g_hash_table_size (g->sources) >= t->max_sources) {
    t->dropped_sources++;
    g_free (key);
    return NULL;
  }
  s = g_new0 (Source, 1);
  s->addr = g_object_ref (addr);
  g_hash_table_insert (g->sources, key, s);
  *added = TRUE;
  return s;
}

static gboolean
in_set (GHashTable * set, const gchar * key)
{
  return g_hash_table_contains (set, key);
}

/* "Send Q(G,S)" for s: by the querier only; the timer is lowered now, as
 * the first transmission goes out at once (RFC 3376 6.6.3.2). */
static void
ask_source (McpIgmpTable * t, Group * g, Source * s, gint64 now)
{
  gint64 lmqt = mcp_igmp_table_last_member_query_time (t);

  if (!t->querier || s->timer == 0)
    return;
  if (s->timer > now + lmqt)
    s->timer = now + lmqt;
  s->retransmissions = t->robustness;
  if (g->next_query == 0 || g->next_query > now)
    g->next_query = now;
}

/* "Send Q(G)" (RFC 3376 6.6.3.1). */
static void
ask_group (McpIgmpTable * t, Group * g, gint64 now)
{
  gint64 lmqt = mcp_igmp_table_last_member_query_time (t);

  if (!t->querier)
    return;
  if (g->timer > now + lmqt)
    g->timer = now + lmqt;
  g->retransmissions = t->robustness;
  if (g->next_query == 0 || g->next_query > now)
    g->next_query = now;
}

/* Deletes the sources of g that are not in keep. */
static void
delete_sources_not_in (Group * g, GHashTable * keep)
{
  GHashTableIter it;
  const gchar *key;

  g_hash_table_iter_init (&it, g->sources);
  while (g_hash_table_iter_next (&it, (gpointer *) & key, NULL))
    if (!in_set (keep, key))
      g_hash_table_iter_remove (&it);
}

/* ---- records: RFC 3376 6.4.1 and 6.4.2 --------------------------------- */

static void
apply_record (McpIgmpTable * t, Group * g, McpIgmpRecordType type,
    GPtrArray * sources, GHashTable * set, gint64 now)
{
  gint64 gmi = mcp_igmp_table_group_membership_interval (t);
  GHashTableIter it;
  const gchar *key;
  Source *s;
  gboolean added;
  guint i;

  if (!g->exclude) {
    switch (type) {
      case MCP_IGMP_MODE_IS_INCLUDE:
      case MCP_IGMP_ALLOW_NEW_SOURCES:
      case MCP_IGMP_CHANGE_TO_INCLUDE:
        /* INCLUDE (A+B); (B)=GMI */
        for (i = 0; i < sources->len; i++)
          if ((s = get_source (t, g, sources->pdata[i], &added)))
            s->timer = now + gmi;
        if (type == MCP_IGMP_CHANGE_TO_INCLUDE) {
          /* Send Q(G,A-B) */
          g_hash_table_iter_init (&it, g->sources);
          while (g_hash_table_iter_next (&it, (gpointer *) & key,
                  (gpointer *) & s))
            if (!in_set (set, key))
              ask_source (t, g, s, now);
        }
        break;
      case MCP_IGMP_BLOCK_OLD_SOURCES:
        /* INCLUDE (A); Send Q(G,A*B) */
        g_hash_table_iter_init (&it, g->sources);
        while (g_hash_table_iter_next (&it, (gpointer *) & key,
                (gpointer *) & s))
          if (in_set (set, key))
            ask_source (t, g, s, now);
        break;
      case MCP_IGMP_MODE_IS_EXCLUDE:
      case MCP_IGMP_CHANGE_TO_EXCLUDE:
        /* EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Group Timer=GMI;
         * TO_EX also Send Q(G,A*B) */
        delete_sources_not_in (g, set);
        g->exclude = TRUE;
        g->timer = now + gmi;
        /* what is left is A*B, asked before B-A joins it */
        if (type == MCP_IGMP_CHANGE_TO_EXCLUDE) {
          g_hash_table_iter_init (&it, g->sources);
          while (g_hash_table_iter_next (&it, NULL, (gpointer *) & s))
            ask_source (t, g, s, now);
        }
        for (i = 0; i < sources->len; i++)
          if ((s = get_source (t, g, sources->pdata[i], &added)) && added)
            s->timer = 0;
        break;
    }
  } else {
    switch (type) {
      case MCP_IGMP_MODE_IS_INCLUDE:
      case MCP_IGMP_ALLOW_NEW_SOURCES:
      case MCP_IGMP_CHANGE_TO_INCLUDE:
        /* EXCLUDE (X+A, Y-A); (A)=GMI */
        for (i = 0; i < sources->len; i++)
          if ((s = get_source (t, g, sources->pdata[i], &added)))
            s->timer = now + gmi;
        if (type == MCP_IGMP_CHANGE_TO_INCLUDE) {
          /* Send Q(G,X-A): the sources still running that A left out */
          g_hash_table_iter_init (&it, g->sources);
          while (g_hash_table_iter_next (&it, (gpointer *) & key,
                  (gpointer *) & s))
            if (!in_set (set, key))
              ask_source (t, g, s, now);
          /* Send Q(G) */
          ask_group (t, g, now);
        }
        break;
      case MCP_IGMP_BLOCK_OLD_SOURCES:
        /* EXCLUDE (X+(A-Y), Y); (A-X-Y)=Group Timer; Send Q(G,A-Y) */
        for (i = 0; i < sources->len; i++) {
          if ((s = get_source (t, g, sources->pdata[i], &added)) == NULL)
            continue;
          if (added)
            s->timer = g->timer;
          ask_source (t, g, s, now);
        }
        break;
      case MCP_IGMP_MODE_IS_EXCLUDE:
      case MCP_IGMP_CHANGE_TO_EXCLUDE:
        /* EXCLUDE (A-Y, Y*A); Delete (X-A); Delete (Y-A); Group Timer=GMI;
         * (A-X-Y)=GMI for IS_EX, =Group Timer for TO_EX, which also sends
         * Q(G,A-Y) */
        delete_sources_not_in (g, set);
        for (i = 0; i < sources->len; i++)
          if ((s = get_source (t, g, sources->pdata[i], &added)) && added)
            s->timer = type == MCP_IGMP_MODE_IS_EXCLUDE ? now + gmi : g->timer;
        g->timer = now + gmi;
        if (type == MCP_IGMP_CHANGE_TO_EXCLUDE) {
          g_hash_table_iter_init (&it, g->sources);
          while (g_hash_table_iter_next (&it, NULL, (gpointer *) & s))
            ask_source (t, g, s, now);
        }
        break;
    }
  }
}

typedef struct
{
  GInetAddress *group;
  gboolean listened;
} Change;

static void
notify_changes (McpIgmpTable * t, GArray * changes)
{
  guint i;

  for (i = 0; i < changes->len; i++) {
    Change *c = &g_array_index (changes, Change, i);

    if (t->changed)
      t->changed (t, c->group, c->listened, t->changed_data);
    g_object_unref (c->group);
  }
  g_array_unref (changes);
}

static void
note_change (GArray * changes, GInetAddress * group, gboolean before,
    gboolean after)
{
  Change c;

  if (before == after)
    return;
  c.group = g_object_ref (group);
  c.listened = after;
  g_array_append_val (changes, c);
}

/* Deletes g when it has nothing left to forward (RFC 3376 6.5); FALSE
 * then. */
static gboolean
keep_or_delete (McpIgmpTable * t, Group * g)
{
  gchar *key;

  if (g->exclude || g_hash_table_size (g->sources) > 0)
    return TRUE;
  key = g_inet_address_to_string (g->addr);
  g_hash_table_remove (t->groups, key);
  g_free (key);
  return FALSE;
}

static void
handle_record (McpIgmpTable * t, const McpIgmpRecord * rec, guint version,
    McpIgmpKind kind, gint64 now, GArray * changes)
{
  gint64 ohpi = mcp_igmp_table_group_membership_interval (t);
  McpIgmpRecordType type = rec->type;
  GPtrArray *sources = rec->sources;
  GPtrArray *none = NULL;
  GHashTable *set;
  Group *g;
  gboolean before;
  guint compat, i;

  if (g_inet_address_get_family (rec->group) != t->family)
    return;
  if (type < MCP_IGMP_MODE_IS_INCLUDE || type > MCP_IGMP_BLOCK_OLD_SOURCES)
    return;

  g = lookup_group (t, rec->group);
  before = group_listened (g);
  if (g == NULL) {
    /* A record that asks for nothing does not make a group (RFC 3376
     * 6.4: INCLUDE ({}) is no state). */
    if ((type == MCP_IGMP_MODE_IS_INCLUDE || type == MCP_IGMP_ALLOW_NEW_SOURCES
            || type == MCP_IGMP_CHANGE_TO_INCLUDE) && sources->len == 0)
      return;
    if (type == MCP_IGMP_BLOCK_OLD_SOURCES)
      return;
    if (g_hash_table_size (t->groups) >= t->max_groups) {
      t->dropped_groups++;
      return;
    }
    g = g_new0 (Group, 1);
    g->addr = g_object_ref (rec->group);
    g->since = now;
    g->sources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        (GDestroyNotify) source_free);
    g_hash_table_insert (t->groups, g_inet_address_to_string (rec->group), g);
  }

  /* Older hosts: their reports start the timers, and while those run the
   * records older hosts could not understand are toned down, lest a v3
   * host's BLOCK or TO_EX(x) cut off an older host that asked for all
   * sources (RFC 3376 7.3.2). */
  if (kind == MCP_IGMP_REPORT && version == 1)
    g->v1_hosts_until = now + ohpi;
  else if (kind == MCP_IGMP_REPORT && version == 2)
    g->v2_hosts_until = now + ohpi;
  compat = group_compat (g, now);
  if (compat < 3 && type == MCP_IGMP_BLOCK_OLD_SOURCES)
    goto done;
  if (compat == 1 && kind == MCP_IGMP_LEAVE)
    goto done;
  if (compat < 3 && type == MCP_IGMP_CHANGE_TO_EXCLUDE)
    sources = none = g_ptr_array_new ();

  set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (i = 0; i < sources->len; i++)
    g_hash_table_add (set, g_inet_address_to_string (sources->pdata[i]));
  apply_record (t, g, type, sources, set, now);
  g_hash_table_unref (set);
  if (none)
    g_ptr_array_unref (none);

done:
  if (!keep_or_delete (t, g))
    g = NULL;
  note_change (changes, rec->group, before, group_listened (g));
}

gboolean
mcp_igmp_table_handle_report (McpIgmpTable * table,
    const McpIgmpMessage * msg, gint64 now)
{
  GArray *changes;
  guint version, i;

  if (msg->family != table->family || msg->kind == MCP_IGMP_QUERY)
    return FALSE;

  /* In IGMP's numbers, so that MLDv1 is handled as IGMPv2 */
  version = msg->version;
  if (msg->family == G_SOCKET_FAMILY_IPV6)
    version++;

  changes = g_array_new (FALSE, FALSE, sizeof (Change));
  for (i = 0; i < msg->records->len; i++)
    handle_record (table, &g_array_index (msg->records, McpIgmpRecord, i),
        version, msg->kind, now, changes);
  notify_changes (table, changes);
  return TRUE;
}

/* ---- querier ----------------------------------------------------------- */

static void
cancel_queries (McpIgmpTable * t)
{
  GHashTableIter it, sit;
  Group *g;
  Source *s;

  g_hash_table_iter_init (&it, t->groups);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
    g->retransmissions = 0;
    g->next_query = 0;
    g_hash_table_iter_init (&sit, g->sources);
    while (g_hash_table_iter_next (&sit, NULL, (gpointer *) & s))
      s->retransmissions = 0;
  }
}

static gint
compare_addresses (GInetAddress * a, GInetAddress * b)
{
  return memcmp (g_inet_address_to_bytes (a), g_inet_address_to_bytes (b),
      g_inet_address_get_native_size (a));
}

void
mcp_igmp_table_handle_query (McpIgmpTable * table,
    const McpIgmpMessage * msg, GInetAddress * from, gint64 now)
{
  gint64 lmqt = mcp_igmp_table_last_member_query_time (table);
  Group *g;
  guint i;

  if (msg->kind != MCP_IGMP_QUERY || msg->family != table->family ||
      g_inet_address_get_family (from) != table->family)
    return;
  if (g_inet_address_equal (from, table->self))
    return;

  if (compare_addresses (from, table->self) < 0) {
    /* Only the querier retransmits; the other one asks now. */
    if (table->querier)
      cancel_queries (table);
    table->querier = FALSE;
    table->other_querier_until = now + table->robustness *
        table->query_interval + table->query_response_interval / 2;
  }

  if (msg->group == NULL || msg->s_flag)
    return;
  g = lookup_group (table, msg->group);
  if (g == NULL)
    return;
  if (msg->sources->len == 0) {
    if (g->exclude && g->timer > now + lmqt)
      g->timer = now + lmqt;
    return;
  }
  for (i = 0; i < msg->sources->len; i++) {
    gchar *key = g_inet_address_to_string (msg->sources->pdata[i]);
    Source *s = g_hash_table_lookup (g->sources, key);

    g_free (key);
    if (s && s->timer != 0 && s->timer > now + lmqt)
      s->timer = now + lmqt;
  }
}

gboolean
mcp_igmp_table_is_querier (McpIgmpTable * table, gint64 now)
{
  if (!table->querier && now >= table->other_querier_until)
    table->querier = TRUE;
  return table->querier;
}

void
mcp_igmp_table_query_free (McpIgmpTableQuery * query)
{
  if (query == NULL)
    return;
  g_object_unref (query->group);
  g_ptr_array_unref (query->sources);
  g_free (query);
}

static McpIgmpTableQuery *
query_new (McpIgmpTable * t, Group * g, gboolean s_flag, guint version)
{
  McpIgmpTableQuery *q = g_new0 (McpIgmpTableQuery, 1);

  q->group = g_object_ref (g->addr);
  q->sources = g_ptr_array_new_with_free_func (g_object_unref);
  q->s_flag = s_flag;
  /* IGMPv1 hosts ignore group-specific queries; v2 ones answer v2 */
  if (t->family == G_SOCKET_FAMILY_IPV6)
    q->version = version < 3 ? 1 : 2;
  else
    q->version = version < 3 ? 2 : 3;
  return q;
}

GPtrArray *
mcp_igmp_table_queries_due (McpIgmpTable * table, gint64 now,
    gint64 * next_event)
{
  gint64 lmqt = mcp_igmp_table_last_member_query_time (table);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mcp_igmp_table_query_free);
  GHashTableIter it, sit;
  Group *g;
  Source *s;

  if (mcp_igmp_table_is_querier (table, now)) {
    g_hash_table_iter_init (&it, table->groups);
    while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
      McpIgmpTableQuery *raised = NULL, *low = NULL;
      gboolean more = FALSE, group_asked = FALSE;

      if (g->next_query == 0 || g->next_query > now)
        continue;
      if (g->retransmissions > 0) {
        g_ptr_array_add (out, query_new (table, g, g->timer > now + lmqt,
                group_compat (g, now)));
        more |= --g->retransmissions > 0;
        group_asked = TRUE;
      }
      g_hash_table_iter_init (&sit, g->sources);
      while (g_hash_table_iter_next (&sit, NULL, (gpointer *) & s)) {
        McpIgmpTableQuery **q;

        if (s->retransmissions == 0)
          continue;
        /* a report since raised the timer: the other hosts need not
         * answer for it, but still hear the question (6.6.3.2) */
        q = s->timer > now + lmqt ? &raised : &low;
        if (*q == NULL)
          *q = query_new (table, g, q == &raised, 3);
        g_ptr_array_add ((*q)->sources, g_object_ref (s->addr));
        more |= --s->retransmissions > 0;
      }
      /* the S flag one says nothing a group-specific query sent with it
       * does not (6.6.3.1) */
      if (raised && group_asked)
        mcp_igmp_table_query_free (raised);
      else if (raised)
        g_ptr_array_add (out, raised);
      if (low)
        g_ptr_array_add (out, low);
      g->next_query = more ? now + table->lmqi : 0;
    }
  }
  if (next_event)
    *next_event = mcp_igmp_table_next_event (table);
  return out;
}

/* ---- expiry ------------------------------------------------------------ */

GPtrArray *
mcp_igmp_table_expire (McpIgmpTable * table, gint64 now)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  GArray *changes = g_array_new (FALSE, FALSE, sizeof (Change));
  GHashTableIter it, sit;
  Group *g;
  Source *s;

  mcp_igmp_table_is_querier (table, now);

  g_hash_table_iter_init (&it, table->groups);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
    gboolean before = group_listened (g), changed = FALSE;

    /* sources first: one that runs out with the group timer is not one
     * of those the group keeps when it turns to INCLUDE */
    g_hash_table_iter_init (&sit, g->sources);
    while (g_hash_table_iter_next (&sit, NULL, (gpointer *) & s)) {
      if (s->timer == 0 || s->timer > now)
        continue;
      changed = TRUE;
      if (g->exclude) {
        /* not forwarded any more, but remembered as excluded */
        s->timer = 0;
        s->retransmissions = 0;
      } else {
        g_hash_table_iter_remove (&sit);
      }
    }
    if (g->exclude && g->timer <= now) {
      changed = TRUE;
      g->exclude = FALSE;
      g->timer = 0;
      g->retransmissions = 0;
      g_hash_table_iter_init (&sit, g->sources);
      while (g_hash_table_iter_next (&sit, NULL, (gpointer *) & s))
        if (s->timer == 0)
          g_hash_table_iter_remove (&sit);
    }
    if (!changed)
      continue;
    g_ptr_array_add (out, g_object_ref (g->addr));
    if (!g->exclude && g_hash_table_size (g->sources) == 0) {
      note_change (changes, g->addr, before, FALSE);
      g_hash_table_iter_remove (&it);
    } else {
      note_change (changes, g->addr, before, group_listened (g));
    }
  }
  notify_changes (table, changes);
  return out;
}

static void
earliest (gint64 * next, gint64 t)
{
  if (t != 0 && (*next < 0 || t < *next))
    *next = t;
}

gint64
mcp_igmp_table_next_event (McpIgmpTable * table)
{
  GHashTableIter it, sit;
  Group *g;
  Source *s;
  gint64 next = -1;

  if (!table->querier)
    earliest (&next, table->other_querier_until);
  g_hash_table_iter_init (&it, table->groups);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
    if (g->exclude)
      earliest (&next, g->timer);
    if (table->querier)
      earliest (&next, g->next_query);
    g_hash_table_iter_init (&sit, g->sources);
    while (g_hash_table_iter_next (&sit, NULL, (gpointer *) & s))
      earliest (&next, s->timer);
  }
  return next;
}

/* ---- what callers read ------------------------------------------------- */

gboolean
mcp_igmp_table_has_listeners (McpIgmpTable * table, GInetAddress * group)
{
  return group_listened (lookup_group (table, group));
}

gboolean
mcp_igmp_table_forwards (McpIgmpTable * table, GInetAddress * group,
    GInetAddress * source)
{
  Group *g = lookup_group (table, group);
  gchar *key;
  Source *s;

  if (g == NULL)
    return FALSE;
  key = g_inet_address_to_string (source);
  s = g_hash_table_lookup (g->sources, key);
  g_free (key);
  if (g->exclude)
    return s == NULL || s->timer != 0;
  return s != NULL && s->timer != 0;
}

void
mcp_igmp_table_group_free (McpIgmpTableGroup * group)
{
  guint i;

  if (group == NULL)
    return;
  g_object_unref (group->group);
  for (i = 0; i < group->sources->len; i++)
    g_object_unref (g_array_index (group->sources, McpIgmpTableSource,
            i).source);
  g_array_unref (group->sources);
  g_free (group);
}

GPtrArray *
mcp_igmp_table_list (McpIgmpTable * table, gint64 now)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mcp_igmp_table_group_free);
  GHashTableIter it, sit;
  Group *g;
  Source *s;

  g_hash_table_iter_init (&it, table->groups);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
    McpIgmpTableGroup *info = g_new0 (McpIgmpTableGroup, 1);

    info->group = g_object_ref (g->addr);
    info->exclude = g->exclude;
    info->since = g->since;
    info->expires = g->exclude ? g->timer : 0;
    info->compat = group_compat (g, now);
    info->sources = g_array_new (FALSE, FALSE, sizeof (McpIgmpTableSource));
    g_hash_table_iter_init (&sit, g->sources);
    while (g_hash_table_iter_next (&sit, NULL, (gpointer *) & s)) {
      McpIgmpTableSource si = { g_object_ref (s->addr), s->timer };

      g_array_append_val (info->sources, si);
    }
    g_ptr_array_add (out, info);
  }
  return out;
}

guint
mcp_igmp_table_get_n_groups (McpIgmpTable * table)
{
  return g_hash_table_size (table->groups);
}

void
mcp_igmp_table_get_dropped (McpIgmpTable * table, guint64 * groups,
    guint64 * sources)
{
  if (groups)
    *groups = table->dropped_groups;
  if (sources)
    *sources = table->dropped_sources;
}
