/* mcastproxy — unit tests of the routing of subscriptions over a mesh
 * (mcp-subroute): best route per origin, split horizon, withdrawal, hop
 * limit, older neighbours; and simulated meshes (a line, a ring of 4, a
 * full mesh) converging in any order, with no stale state after a want is
 * withdrawn or a link is cut.
 */
#include "config.h"

#include "mcp-subroute.h"

#include <string.h>

static McpSubSet *
set_of (const gchar * text)
{
  GError *err = NULL;
  McpSubSet *set = mcp_sub_set_parse (text, &err);

  g_assert_no_error (err);
  return set;
}

static void
assert_set (const McpSubSet * set, const gchar * text)
{
  gchar *s = mcp_sub_set_to_string (set);

  g_assert_cmpstr (s, ==, text);
  g_free (s);
}

static void
test_best_route_and_split_horizon (void)
{
  McpSubRoute *r = mcp_sub_route_new (1);
  McpSubSet *g1 = set_of ("239.1.1.1:5000"), *g2 = set_of ("239.1.1.2:5000");
  McpSubSet *none = mcp_sub_set_new (), *fwd;
  McpSubRouteAdvert from2[] = { {0, 0, g1}, {9, 3, g2} };
  McpSubRouteAdvert from3[] = { {9, 1, g2}, {4, 0, g1} };
  GArray *routes, *adv;
  McpSubRouteEntry *e;
  McpSubRouteAdvert *a;

  mcp_sub_route_set_local (r, none);
  g_assert_true (mcp_sub_route_set_neighbour (r, 2, TRUE, from2, 2));
  g_assert_false (mcp_sub_route_set_neighbour (r, 2, TRUE, from2, 2));
  g_assert_true (mcp_sub_route_set_neighbour (r, 3, TRUE, from3, 2));
  routes = mcp_sub_route_get_routes (r);
  g_assert_cmpuint (routes->len, ==, 3);
  /* origin 0 from 2 is 2 itself */
  e = &g_array_index (routes, McpSubRouteEntry, 0);
  g_assert_cmpuint (e->origin, ==, 2);
  g_assert_cmpuint (e->next_hop, ==, 2);
  g_assert_cmpuint (e->distance, ==, 0);
  e = &g_array_index (routes, McpSubRouteEntry, 1);
  g_assert_cmpuint (e->origin, ==, 4);
  g_assert_cmpuint (e->next_hop, ==, 3);
  /* 9: nearer via 3 */
  e = &g_array_index (routes, McpSubRouteEntry, 2);
  g_assert_cmpuint (e->origin, ==, 9);
  g_assert_cmpuint (e->next_hop, ==, 3);
  g_assert_cmpuint (e->distance, ==, 1);
  g_array_unref (routes);

  /* to 2: 4 and 9 (next hop 3), not 2 itself; no local wants */
  adv = mcp_sub_route_advertise (r, 2);
  g_assert_cmpuint (adv->len, ==, 2);
  a = &g_array_index (adv, McpSubRouteAdvert, 0);
  g_assert_cmpuint (a->origin, ==, 4);
  g_assert_cmpuint (a->distance, ==, 1);
  a = &g_array_index (adv, McpSubRouteAdvert, 1);
  g_assert_cmpuint (a->origin, ==, 9);
  g_assert_cmpuint (a->distance, ==, 2);
  g_array_unref (adv);
  /* to 3: only 2 (poison: 4 and 9 route through 3) */
  adv = mcp_sub_route_advertise (r, 3);
  g_assert_cmpuint (adv->len, ==, 1);
  a = &g_array_index (adv, McpSubRouteAdvert, 0);
  g_assert_cmpuint (a->origin, ==, 2);
  g_assert_cmpuint (a->distance, ==, 1);
  g_array_unref (adv);

  fwd = mcp_sub_route_forward_set (r, 2);
  assert_set (fwd, "239.1.1.1:5000");
  mcp_sub_set_free (fwd);
  fwd = mcp_sub_route_forward_set (r, 3);
  assert_set (fwd, "239.1.1.1:5000 239.1.1.2:5000");
  mcp_sub_set_free (fwd);

  /* equal distance: the lower neighbour id */
  {
    McpSubRouteAdvert again[] = { {0, 0, g1}, {9, 1, g2} };

    mcp_sub_route_set_neighbour (r, 2, TRUE, again, 2);
    routes = mcp_sub_route_get_routes (r);
    e = &g_array_index (routes, McpSubRouteEntry, 2);
    g_assert_cmpuint (e->next_hop, ==, 2);
    g_array_unref (routes);
  }
  /* link lost: re-routed */
  g_assert_true (mcp_sub_route_remove_neighbour (r, 2));
  g_assert_false (mcp_sub_route_remove_neighbour (r, 2));
  routes = mcp_sub_route_get_routes (r);
  g_assert_cmpuint (routes->len, ==, 2);
  e = &g_array_index (routes, McpSubRouteEntry, 1);
  g_assert_cmpuint (e->next_hop, ==, 3);
  g_array_unref (routes);

  mcp_sub_route_free (r);
  mcp_sub_set_free (g1);
  mcp_sub_set_free (g2);
  mcp_sub_set_free (none);
}

static void
test_local_hops_and_old_neighbours (void)
{
  McpSubRoute *r = mcp_sub_route_new (7);
  McpSubSet *g1 = set_of ("239.1.1.1:5000"), *fwd;
  McpSubRouteAdvert far[] = { {5, 3, g1}, {7, 0, g1} };
  GArray *adv, *routes;
  McpSubRouteAdvert *a;

  /* local wants unknown: everything, at distance 0 */
  adv = mcp_sub_route_advertise (r, 2);
  g_assert_cmpuint (adv->len, ==, 1);
  a = &g_array_index (adv, McpSubRouteAdvert, 0);
  g_assert_cmpuint (a->origin, ==, 7);
  g_assert_cmpuint (a->distance, ==, 0);
  assert_set (a->set, "0.0.0.0/0:1-65535 [::]/0:1-65535");
  g_array_unref (adv);

  /* hop limit 3: distance 3 is ignored; our own origin never routed */
  mcp_sub_route_set_max_hops (r, 3);
  mcp_sub_route_set_neighbour (r, 2, TRUE, far, 2);
  routes = mcp_sub_route_get_routes (r);
  g_assert_cmpuint (routes->len, ==, 0);
  g_array_unref (routes);
  g_assert_false (mcp_sub_route_any (r));
  mcp_sub_route_set_max_hops (r, 4);
  routes = mcp_sub_route_get_routes (r);
  g_assert_cmpuint (routes->len, ==, 1);
  g_array_unref (routes);
  /* ... but not passed on at 4 */
  adv = mcp_sub_route_advertise (r, 3);
  g_assert_cmpuint (adv->len, ==, 1);   /* ours only */
  g_array_unref (adv);

  /* an older neighbour wants everything */
  mcp_sub_route_set_neighbour (r, 3, FALSE, NULL, 0);
  fwd = mcp_sub_route_forward_set (r, 3);
  assert_set (fwd, "0.0.0.0/0:1-65535 [::]/0:1-65535");
  mcp_sub_set_free (fwd);
  adv = mcp_sub_route_advertise (r, 2);
  g_assert_cmpuint (adv->len, ==, 2);
  a = &g_array_index (adv, McpSubRouteAdvert, 1);
  g_assert_cmpuint (a->origin, ==, 3);
  g_assert_cmpuint (a->distance, ==, 1);
  g_array_unref (adv);

  mcp_sub_route_free (r);
  mcp_sub_set_free (g1);
}

/* ---- simulated meshes ------------------------------------------------- */

#define MAX_NODES 8

typedef struct
{
  guint n;
  gboolean link[MAX_NODES][MAX_NODES];
  McpSubRoute *node[MAX_NODES];
  McpSubSet *local[MAX_NODES];
  GRand *rand;
} Mesh;

static void
mesh_init (Mesh * m, guint n, guint32 seed)
{
  McpSubSet *none = mcp_sub_set_new ();
  guint i;

  memset (m, 0, sizeof (*m));
  m->n = n;
  m->rand = g_rand_new_with_seed (seed);
  for (i = 0; i < n; i++) {
    m->node[i] = mcp_sub_route_new (i + 1);
    mcp_sub_route_set_max_hops (m->node[i], 8);
    mcp_sub_route_set_local (m->node[i], none);
  }
  mcp_sub_set_free (none);
}

static void
mesh_clear (Mesh * m)
{
  guint i;

  for (i = 0; i < m->n; i++)
    mcp_sub_route_free (m->node[i]);
  g_rand_free (m->rand);
}

static void
mesh_link (Mesh * m, guint a, guint b, gboolean up)
{
  m->link[a][b] = m->link[b][a] = up;
  if (!up) {
    mcp_sub_route_remove_neighbour (m->node[a], b + 1);
    mcp_sub_route_remove_neighbour (m->node[b], a + 1);
  }
}

/* One link direction a -> b: b takes what a advertises now. */
static gboolean
mesh_send (Mesh * m, guint a, guint b)
{
  GArray *adv = mcp_sub_route_advertise (m->node[a], b + 1);
  gboolean changed;

  changed = mcp_sub_route_set_neighbour (m->node[b], a + 1, TRUE,
      (McpSubRouteAdvert *) adv->data, adv->len);
  g_array_unref (adv);
  return changed;
}

/* Delivers advertisements one link direction at a time, in a random
 * order, until nothing changes; returns the rounds it took. */
static guint
mesh_converge (Mesh * m)
{
  guint rounds;

  for (rounds = 0; rounds < 1000; rounds++) {
    gboolean changed = FALSE;
    guint k;

    for (k = 0; k < m->n * m->n; k++) {
      guint a = g_rand_int_range (m->rand, 0, m->n);
      guint b = g_rand_int_range (m->rand, 0, m->n);

      if (m->link[a][b] && mesh_send (m, a, b))
        changed = TRUE;
    }
    /* and every direction once, so that a quiet round means converged */
    for (k = 0; k < m->n * m->n; k++)
      if (m->link[k / m->n][k % m->n] && mesh_send (m, k / m->n, k % m->n))
        changed = TRUE;
    if (!changed)
      return rounds;
  }
  g_assert_not_reached ();
  return rounds;
}

/* How many links a datagram of group:port from src crosses, following
 * each node's forward sets with dedup (each node forwards once); sets
 * got[] to how many copies each node received. */
static guint
mesh_flood (Mesh * m, guint src, guint8 last, guint got[MAX_NODES])
{
  guint8 group[16] = { 239, 1, 1, last };
  gboolean seen[MAX_NODES] = { FALSE };
  guint queue[MAX_NODES * MAX_NODES], head = 0, tail = 0, crossings = 0;
  guint i;

  memset (got, 0, sizeof (guint) * MAX_NODES);
  queue[tail++] = src;
  seen[src] = TRUE;
  while (head < tail) {
    guint a = queue[head++];

    for (i = 0; i < m->n; i++) {
      McpSubSet *fwd;

      if (!m->link[a][i])
        continue;
      fwd = mcp_sub_route_forward_set (m->node[a], i + 1);
      if (mcp_sub_set_matches (fwd, 4, group, 5000, NULL)) {
        crossings++;
        got[i]++;
        if (!seen[i]) {
          seen[i] = TRUE;
          queue[tail++] = i;
        }
      }
      mcp_sub_set_free (fwd);
    }
  }
  return crossings;
}

static guint
mesh_n_routes (Mesh * m)
{
  guint i, total = 0;

  for (i = 0; i < m->n; i++) {
    GArray *r = mcp_sub_route_get_routes (m->node[i]);

    total += r->len;
    g_array_unref (r);
  }
  return total;
}

static void
mesh_want (Mesh * m, guint node, const gchar * text)
{
  McpSubSet *set = set_of (text);

  mcp_sub_route_set_local (m->node[node], set);
  mcp_sub_set_free (set);
}

static void
test_line (void)
{
  Mesh m;
  guint got[MAX_NODES];

  /* A(0) - B(1) - C(2); C wants .1 */
  mesh_init (&m, 3, 1);
  mesh_link (&m, 0, 1, TRUE);
  mesh_link (&m, 1, 2, TRUE);
  mesh_want (&m, 2, "239.1.1.1:5000");
  mesh_converge (&m);
  g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 2);
  g_assert_cmpuint (got[2], ==, 1);
  g_assert_cmpuint (mesh_flood (&m, 0, 2, got), ==, 0);
  mesh_want (&m, 2, "");
  mesh_converge (&m);
  g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 0);
  g_assert_cmpuint (mesh_n_routes (&m), ==, 0);
  mesh_clear (&m);
}

/* Ring A(0)-B(1)-C(2)-D(3)-A: C wants the group, A sends. */
static void
test_ring_of_4 (void)
{
  guint32 seed;

  for (seed = 1; seed <= 200; seed++) {
    Mesh m;
    guint got[MAX_NODES];

    mesh_init (&m, 4, seed);
    mesh_link (&m, 0, 1, TRUE);
    mesh_link (&m, 1, 2, TRUE);
    mesh_link (&m, 2, 3, TRUE);
    mesh_link (&m, 3, 0, TRUE);
    mesh_want (&m, 2, "239.1.1.1:5000");
    mesh_converge (&m);
    /* A: both ways 2 links, the lower id (B) wins: A-B, B-C */
    g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 2);
    g_assert_cmpuint (got[2], ==, 1);
    g_assert_cmpuint (got[3], ==, 0);
    /* from D: one link */
    g_assert_cmpuint (mesh_flood (&m, 3, 1, got), ==, 1);
    /* cut B-C: re-routed over D */
    mesh_link (&m, 1, 2, FALSE);
    mesh_converge (&m);
    g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 2);
    g_assert_cmpuint (got[2], ==, 1);
    g_assert_cmpuint (got[1], ==, 0);
    /* B reaches it over A and D */
    g_assert_cmpuint (mesh_flood (&m, 1, 1, got), ==, 3);
    /* withdrawn: nothing left anywhere, the cycle keeps no stale state */
    mesh_link (&m, 1, 2, TRUE);
    mesh_converge (&m);
    mesh_want (&m, 2, "");
    mesh_converge (&m);
    g_assert_cmpuint (mesh_n_routes (&m), ==, 0);
    g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 0);
    g_assert_cmpuint (mesh_flood (&m, 1, 1, got), ==, 0);
    g_assert_cmpuint (mesh_flood (&m, 3, 1, got), ==, 0);
    mesh_clear (&m);
  }
}

/* A full mesh of 6: withdrawals in the middle of convergence leave nothing
 * (count-to-infinity ends at the hop limit). */
static void
test_full_mesh_withdraw (void)
{
  guint32 seed;

  for (seed = 1; seed <= 50; seed++) {
    Mesh m;
    guint got[MAX_NODES], a, b;

    mesh_init (&m, 6, seed);
    for (a = 0; a < 6; a++)
      for (b = a + 1; b < 6; b++)
        mesh_link (&m, a, b, TRUE);
    mesh_want (&m, 5, "239.1.1.1:5000");
    mesh_want (&m, 4, "239.1.1.2:5000");
    mesh_converge (&m);
    g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 1);
    g_assert_cmpuint (got[5], ==, 1);
    /* a few partial rounds, then the withdrawal and a cut */
    mesh_send (&m, 5, 1);
    mesh_want (&m, 5, "");
    mesh_send (&m, 5, 2);
    mesh_link (&m, 0, 5, FALSE);
    mesh_converge (&m);
    g_assert_cmpuint (mesh_flood (&m, 0, 1, got), ==, 0);
    g_assert_cmpuint (mesh_flood (&m, 0, 2, got), ==, 1);
    mesh_want (&m, 4, "");
    mesh_converge (&m);
    g_assert_cmpuint (mesh_n_routes (&m), ==, 0);
    mesh_clear (&m);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/subroute/best-route-split-horizon",
      test_best_route_and_split_horizon);
  g_test_add_func ("/subroute/local-hops-old-neighbours",
      test_local_hops_and_old_neighbours);
  g_test_add_func ("/subroute/line", test_line);
  g_test_add_func ("/subroute/ring-of-4", test_ring_of_4);
  g_test_add_func ("/subroute/full-mesh-withdraw", test_full_mesh_withdraw);
  return g_test_run ();
}
