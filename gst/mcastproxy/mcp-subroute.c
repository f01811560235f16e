/* mcastproxy — routing of subscriptions over a mesh (see mcp-subroute.h). */
#include "config.h"

#include "mcp-subroute.h"

typedef struct
{
  guint64 origin;
  guint distance;
  McpSubSet *set;
} Advert;

typedef struct
{
  guint64 id;
  gboolean takes_part;
  GArray *adverts;              /* Advert, sorted by origin, distinct */
} Neighbour;

struct _McpSubRoute
{
  guint64 self_id;
  guint max_hops;
  McpSubSet *local;             /* NULL: everything */
  McpSubSet *everything;
  GHashTable *neighbours;       /* guint64 id -> Neighbour */
  GArray *routes;               /* McpSubRouteEntry, sorted; NULL: stale */
};

static void
advert_clear (gpointer data)
{
  mcp_sub_set_free (((Advert *) data)->set);
}

static GArray *
adverts_new (void)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (Advert));

  g_array_set_clear_func (a, advert_clear);
  return a;
}

static void
neighbour_free (gpointer data)
{
  Neighbour *n = data;

  g_array_unref (n->adverts);
  g_free (n);
}

static gint
cmp_origin (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : x > y;
}

McpSubRoute *
mcp_sub_route_new (guint64 self_id)
{
  McpSubRoute *r = g_new0 (McpSubRoute, 1);

  r->self_id = self_id;
  r->everything = mcp_sub_set_new ();
  mcp_sub_set_add_everything (r->everything);
  r->neighbours = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
      neighbour_free);
  return r;
}

void
mcp_sub_route_free (McpSubRoute * r)
{
  if (!r)
    return;
  mcp_sub_set_free (r->local);
  mcp_sub_set_free (r->everything);
  g_hash_table_unref (r->neighbours);
  if (r->routes)
    g_array_unref (r->routes);
  g_free (r);
}

static void
invalidate (McpSubRoute * r)
{
  g_clear_pointer (&r->routes, g_array_unref);
}

/* Advertisements at this distance or beyond count for nothing. */
static guint
limit (McpSubRoute * r)
{
  return r->max_hops && r->max_hops < MCP_SUB_ROUTE_MAX_DISTANCE ?
      r->max_hops : MCP_SUB_ROUTE_MAX_DISTANCE;
}

void
mcp_sub_route_set_max_hops (McpSubRoute * r, guint max_hops)
{
  r->max_hops = max_hops;
  invalidate (r);
}

void
mcp_sub_route_set_local (McpSubRoute * r, const McpSubSet * set)
{
  mcp_sub_set_free (r->local);
  r->local = set ? mcp_sub_set_copy (set) : NULL;
}

static gboolean
adverts_equal (GArray * a, GArray * b)
{
  guint i;

  if (a->len != b->len)
    return FALSE;
  for (i = 0; i < a->len; i++) {
    Advert *x = &g_array_index (a, Advert, i);
    Advert *y = &g_array_index (b, Advert, i);

    if (x->origin != y->origin || x->distance != y->distance
        || !mcp_sub_set_equal (x->set, y->set))
      return FALSE;
  }
  return TRUE;
}

gboolean
mcp_sub_route_set_neighbour (McpSubRoute * r, guint64 neighbour,
    gboolean takes_part, const McpSubRouteAdvert * adverts, guint n_adverts)
{
  Neighbour *old = g_hash_table_lookup (r->neighbours, &neighbour);
  Neighbour *n = g_new0 (Neighbour, 1);
  guint i;

  n->id = neighbour;
  n->takes_part = takes_part;
  n->adverts = adverts_new ();
  for (i = 0; takes_part && i < n_adverts; i++) {
    Advert a;
    guint j;

    if (!adverts[i].set || mcp_sub_set_is_empty (adverts[i].set))
      continue;
    a.origin = adverts[i].origin ? adverts[i].origin : neighbour;
    a.distance = adverts[i].distance;
    /* an origin named twice: one state, the nearer distance */
    for (j = 0; j < n->adverts->len; j++) {
      Advert *b = &g_array_index (n->adverts, Advert, j);

      if (b->origin == a.origin) {
        mcp_sub_set_add_all (b->set, adverts[i].set);
        b->distance = MIN (b->distance, a.distance);
        break;
      }
    }
    if (j < n->adverts->len)
      continue;
    a.set = mcp_sub_set_copy (adverts[i].set);
    g_array_append_val (n->adverts, a);
  }
  g_array_sort (n->adverts, cmp_origin);

  if (old && old->takes_part == n->takes_part
      && adverts_equal (old->adverts, n->adverts)) {
    neighbour_free (n);
    return FALSE;
  }
  g_hash_table_replace (r->neighbours, &n->id, n);
  invalidate (r);
  return TRUE;
}

gboolean
mcp_sub_route_remove_neighbour (McpSubRoute * r, guint64 neighbour)
{
  if (!g_hash_table_remove (r->neighbours, &neighbour))
    return FALSE;
  invalidate (r);
  return TRUE;
}

gboolean
mcp_sub_route_has_neighbour (McpSubRoute * r, guint64 neighbour)
{
  return g_hash_table_contains (r->neighbours, &neighbour);
}

/* Better: nearer, then the lower neighbour id. */
static gboolean
better (guint dist, guint64 hop, const McpSubRouteEntry * than)
{
  return dist < than->distance || (dist == than->distance
      && hop < than->next_hop);
}

static void
consider (McpSubRoute * r, GHashTable * best, guint64 origin, guint dist,
    guint64 hop, const McpSubSet * set)
{
  McpSubRouteEntry *e;

  /* never a route to ourselves: our wants are ours to say */
  if (origin == r->self_id || dist >= limit (r))
    return;
  e = g_hash_table_lookup (best, &origin);
  if (!e) {
    e = g_new0 (McpSubRouteEntry, 1);
    e->origin = origin;
    g_hash_table_insert (best, &e->origin, e);
  } else if (!better (dist, hop, e)) {
    return;
  }
  e->next_hop = hop;
  e->distance = dist;
  e->set = set;
}

static GArray *
routes (McpSubRoute * r)
{
  GHashTable *best;
  GHashTableIter it;
  Neighbour *n;
  McpSubRouteEntry *e;
  guint i;

  if (r->routes)
    return r->routes;
  best = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  g_hash_table_iter_init (&it, r->neighbours);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & n)) {
    if (!n->takes_part) {
      consider (r, best, n->id, 0, n->id, r->everything);
      continue;
    }
    for (i = 0; i < n->adverts->len; i++) {
      Advert *a = &g_array_index (n->adverts, Advert, i);

      consider (r, best, a->origin, a->distance, n->id, a->set);
    }
  }
  r->routes = g_array_new (FALSE, FALSE, sizeof (McpSubRouteEntry));
  g_hash_table_iter_init (&it, best);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & e))
    g_array_append_val (r->routes, *e);
  g_array_sort (r->routes, cmp_origin);
  g_hash_table_unref (best);
  return r->routes;
}

GArray *
mcp_sub_route_get_routes (McpSubRoute * r)
{
  return g_array_copy (routes (r));
}

GArray *
mcp_sub_route_advertise (McpSubRoute * r, guint64 neighbour)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (McpSubRouteAdvert));
  GArray *all = routes (r);
  const McpSubSet *local = r->local ? r->local : r->everything;
  guint i;

  if (!mcp_sub_set_is_empty (local)) {
    McpSubRouteAdvert a = { r->self_id, 0, local };

    g_array_append_val (out, a);
  }
  for (i = 0; i < all->len; i++) {
    McpSubRouteEntry *e = &g_array_index (all, McpSubRouteEntry, i);
    McpSubRouteAdvert a;

    /* split horizon: nothing for X to the next hop toward X (what was
     * sent before is withdrawn by its absence), nor to X itself */
    if (e->next_hop == neighbour || e->origin == neighbour)
      continue;
    if (e->distance + 1 >= limit (r))
      continue;
    a.origin = e->origin;
    a.distance = e->distance + 1;
    a.set = e->set;
    g_array_append_val (out, a);
  }
  return out;
}

McpSubSet *
mcp_sub_route_forward_set (McpSubRoute * r, guint64 neighbour)
{
  McpSubSet *out = mcp_sub_set_new ();
  GArray *all = routes (r);
  guint i;

  for (i = 0; i < all->len; i++) {
    McpSubRouteEntry *e = &g_array_index (all, McpSubRouteEntry, i);

    if (e->next_hop == neighbour)
      mcp_sub_set_add_all (out, e->set);
  }
  return out;
}

gboolean
mcp_sub_route_any (McpSubRoute * r)
{
  return routes (r)->len > 0;
}
