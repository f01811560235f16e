/* mcastproxy — what one AMT gateway wants (see mcp-amt-membership.h). */
#include "config.h"

#include "mcp-amt-membership.h"

#include <stdlib.h>
#include <string.h>

typedef struct
{
  guint8 a[16];
} Addr;

typedef struct
{
  guint8 family;
  guint8 group[16];
  gboolean exclude;
  GArray *sources;              /* Addr, distinct */
} Group;

struct _McpAmtMembership
{
  guint max_groups;
  guint max_sources;
  GPtrArray *groups;            /* Group */
};

static void
group_free (gpointer p)
{
  Group *g = p;

  g_array_unref (g->sources);
  g_free (g);
}

McpAmtMembership *
mcp_amt_membership_new (guint max_groups, guint max_sources)
{
  McpAmtMembership *m = g_new0 (McpAmtMembership, 1);

  m->max_groups = max_groups;
  m->max_sources = MIN (max_sources, MCP_SUB_MAX_SOURCES);
  m->groups = g_ptr_array_new_with_free_func (group_free);
  return m;
}

void
mcp_amt_membership_free (McpAmtMembership * m)
{
  if (!m)
    return;
  g_ptr_array_unref (m->groups);
  g_free (m);
}

void
mcp_amt_membership_set_limits (McpAmtMembership * m, guint max_groups,
    guint max_sources)
{
  m->max_groups = max_groups;
  m->max_sources = MIN (max_sources, MCP_SUB_MAX_SOURCES);
}

/* The raw bytes of addr, IPv4 in the first 4 of 16; its family. */
static guint8
addr_bytes (GInetAddress * addr, guint8 * out)
{
  gboolean v4 = g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV4;

  memset (out, 0, 16);
  memcpy (out, g_inet_address_to_bytes (addr), v4 ? 4 : 16);
  return v4 ? 4 : 6;
}

static Group *
find_group (McpAmtMembership * m, guint8 family, const guint8 * group,
    guint * index)
{
  guint i;

  for (i = 0; i < m->groups->len; i++) {
    Group *g = m->groups->pdata[i];

    if (g->family == family && memcmp (g->group, group, 16) == 0) {
      if (index)
        *index = i;
      return g;
    }
  }
  return NULL;
}

static gint
find_source (GArray * sources, const Addr * s)
{
  guint i;

  for (i = 0; i < sources->len; i++)
    if (memcmp (&g_array_index (sources, Addr, i), s, 16) == 0)
      return i;
  return -1;
}

typedef struct
{
  Addr addr;
  guint index;
} Indexed;

static gint
compare_indexed (gconstpointer a, gconstpointer b)
{
  const Indexed *x = a, *y = b;
  gint c = memcmp (&x->addr, &y->addr, sizeof (Addr));

  if (c != 0)
    return c;
  return x->index < y->index ? -1 : x->index > y->index;
}

static gint
compare_index (gconstpointer a, gconstpointer b)
{
  const Indexed *x = a, *y = b;

  return x->index < y->index ? -1 : x->index > y->index;
}

/* The sources of a record, distinct, as Addr, in the record's order (the
 * first of each). Sorted to find duplicates: a report of 16 KiB lists
 * thousands, and a search of each in the others would cost millions of
 * comparisons per record. */
static GArray *
record_sources (const McpIgmpRecord * r)
{
  guint n = r->sources->len, i, kept = 0;
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (Addr), n);
  Indexed *v;

  if (n == 0)
    return out;
  v = g_new (Indexed, n);
  for (i = 0; i < n; i++) {
    addr_bytes (g_ptr_array_index (r->sources, i), v[i].addr.a);
    v[i].index = i;
  }
  qsort (v, n, sizeof (Indexed), compare_indexed);
  for (i = 0; i < n; i++)
    if (kept == 0 || memcmp (&v[i].addr, &v[kept - 1].addr, sizeof (Addr)))
      v[kept++] = v[i];
  qsort (v, kept, sizeof (Indexed), compare_index);
  for (i = 0; i < kept; i++)
    g_array_append_val (out, v[i].addr);
  g_free (v);
  return out;
}

static gboolean
same_sources (GArray * a, GArray * b)
{
  guint i;

  if (a->len != b->len)
    return FALSE;
  for (i = 0; i < a->len; i++)
    if (find_source (b, &g_array_index (a, Addr, i)) < 0)
      return FALSE;
  return TRUE;
}

/* Adds the sources of add to to, up to max; the rest are counted in
 * refused. Returns whether to grew. */
static gboolean
add_sources (GArray * to, GArray * add, guint max, guint * refused)
{
  gboolean changed = FALSE;
  guint i;

  for (i = 0; i < add->len; i++) {
    const Addr *s = &g_array_index (add, Addr, i);

    if (find_source (to, s) >= 0)
      continue;
    if (to->len >= max) {
      (*refused)++;
      continue;
    }
    g_array_append_vals (to, s, 1);
    changed = TRUE;
  }
  return changed;
}

static gboolean
remove_sources (GArray * from, GArray * remove)
{
  gboolean changed = FALSE;
  guint i;

  for (i = 0; i < remove->len; i++) {
    gint at = find_source (from, &g_array_index (remove, Addr, i));

    if (at >= 0) {
      g_array_remove_index_fast (from, at);
      changed = TRUE;
    }
  }
  return changed;
}

static gboolean
apply_record (McpAmtMembership * m, const McpIgmpRecord * r,
    McpAmtRefused * refused)
{
  guint8 family, group[16];
  GArray *b;
  Group *g;
  guint index = 0;
  gboolean changed = FALSE, include_to, exclude_to;

  family = addr_bytes (r->group, group);
  g = find_group (m, family, group, &index);
  b = record_sources (r);
  include_to = r->type == MCP_IGMP_MODE_IS_INCLUDE
      || r->type == MCP_IGMP_CHANGE_TO_INCLUDE;
  exclude_to = r->type == MCP_IGMP_MODE_IS_EXCLUDE
      || r->type == MCP_IGMP_CHANGE_TO_EXCLUDE;

  if ((include_to && b->len == 0)
      || (r->type == MCP_IGMP_BLOCK_OLD_SOURCES && !g)) {
    /* leave, or nothing to block */
    if (include_to && g) {
      g_ptr_array_remove_index (m->groups, index);
      changed = TRUE;
    }
    g_array_unref (b);
    return changed;
  }
  if (r->type == MCP_IGMP_ALLOW_NEW_SOURCES && b->len == 0) {
    g_array_unref (b);
    return FALSE;
  }

  if (!g) {
    if (m->groups->len >= m->max_groups) {
      refused->groups++;
      g_array_unref (b);
      return FALSE;
    }
    g = g_new0 (Group, 1);
    g->family = family;
    memcpy (g->group, group, 16);
    g->exclude = exclude_to;
    g->sources = g_array_new (FALSE, FALSE, sizeof (Addr));
    add_sources (g->sources, b, m->max_sources, &refused->sources);
    if (!g->exclude && g->sources->len == 0) {
      /* every source refused */
      group_free (g);
      g_array_unref (b);
      return FALSE;
    }
    g_ptr_array_add (m->groups, g);
    g_array_unref (b);
    return TRUE;
  }

  if (include_to || exclude_to) {
    GArray *s = g_array_new (FALSE, FALSE, sizeof (Addr));

    add_sources (s, b, m->max_sources, &refused->sources);
    if (!exclude_to && s->len == 0) {
      /* every source refused: the old state stays */
      g_array_unref (s);
    } else {
      changed = g->exclude != exclude_to || !same_sources (s, g->sources);
      g->exclude = exclude_to;
      g_array_unref (g->sources);
      g->sources = s;
    }
  } else if (r->type == MCP_IGMP_ALLOW_NEW_SOURCES) {
    changed = g->exclude ? remove_sources (g->sources, b) :
        add_sources (g->sources, b, m->max_sources, &refused->sources);
  } else if (r->type == MCP_IGMP_BLOCK_OLD_SOURCES) {
    if (g->exclude) {
      changed = add_sources (g->sources, b, m->max_sources, &refused->sources);
    } else {
      changed = remove_sources (g->sources, b);
      if (g->sources->len == 0)
        g_ptr_array_remove_index (m->groups, index);
    }
  }
  g_array_unref (b);
  return changed;
}

gboolean
mcp_amt_membership_apply (McpAmtMembership * m, const McpIgmpMessage * msg,
    McpAmtRefused * refused)
{
  McpAmtRefused dummy;
  gboolean changed = FALSE;
  guint i;

  if (!refused)
    refused = &dummy;
  memset (refused, 0, sizeof (*refused));
  if (msg->kind != MCP_IGMP_REPORT && msg->kind != MCP_IGMP_LEAVE)
    return FALSE;
  for (i = 0; i < msg->records->len; i++) {
    const McpIgmpRecord *r = &g_array_index (msg->records, McpIgmpRecord, i);

    if (r->type < MCP_IGMP_MODE_IS_INCLUDE
        || r->type > MCP_IGMP_BLOCK_OLD_SOURCES)
      continue;
    changed |= apply_record (m, r, refused);
  }
  return changed;
}

guint
mcp_amt_membership_get_n_groups (const McpAmtMembership * m)
{
  return m->groups->len;
}

McpSubSet *
mcp_amt_membership_to_set (const McpAmtMembership * m)
{
  McpSubSet *set = mcp_sub_set_new ();
  guint i;

  for (i = 0; i < m->groups->len; i++) {
    const Group *g = m->groups->pdata[i];
    McpSubEntry e = { 0 };

    e.family = g->family;
    e.prefix_len = g->family == 4 ? 32 : 128;
    e.port_lo = 1;
    e.port_hi = 65535;
    memcpy (e.group, g->group, 16);
    if (g->sources->len == 0) {
      e.mode = MCP_SUB_ANY;
    } else {
      e.mode = g->exclude ? MCP_SUB_EXCLUDE : MCP_SUB_INCLUDE;
      e.n_sources = g->sources->len;
      e.sources = (guint8 (*)[16]) g->sources->data;
    }
    /* valid by construction: multicast groups, unicast sources */
    mcp_sub_set_add (set, &e, NULL);
  }
  return set;
}

void
mcp_token_bucket_init (McpTokenBucket * b, guint rate, guint burst, gint64 now)
{
  b->rate = rate;
  b->burst = MAX (burst, 1);
  b->tokens = b->burst;
  b->last = now;
}

void
mcp_token_bucket_set_rate (McpTokenBucket * b, guint rate, guint burst)
{
  b->rate = rate;
  b->burst = MAX (burst, 1);
  b->tokens = MIN (b->tokens, b->burst);
}

gboolean
mcp_token_bucket_take (McpTokenBucket * b, gint64 now)
{
  if (b->rate == 0)
    return TRUE;
  if (now > b->last) {
    b->tokens += (gdouble) (now - b->last) * b->rate / G_USEC_PER_SEC;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
  }
  b->last = MAX (b->last, now);
  if (b->tokens < 1.0)
    return FALSE;
  b->tokens -= 1.0;
  return TRUE;
}
