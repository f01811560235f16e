/* mcastproxy — unit tests of loop safety (mcp-loopguard): the hop rule,
 * dedup through the guard, its counters, and the election of one active
 * connection per peer id. */
#include "config.h"

#include "mcp-loopguard.h"

#include <string.h>

static void
make_meta (McpFrameMeta * meta, guint64 origin, guint64 seq, guint8 hops)
{
  memset (meta, 0, sizeof (*meta));
  meta->origin_id = origin;
  meta->seq = seq;
  meta->hops = hops;
  meta->family = 4;
  meta->group[0] = 239;
  meta->group[3] = 1;
  meta->port = 5004;
}

/* admit() with meta as it is; admit_received() of a copy with one hop
 * less gives the same. */
static McpLoopGuardVerdict
admit_hops (McpLoopGuard * g, guint64 seq, guint8 hops)
{
  McpFrameMeta meta;

  make_meta (&meta, 1, seq, hops);
  return mcp_loop_guard_admit (g, &meta, 0);
}

static void
assert_counts (McpLoopGuard * g, guint64 passed, guint64 hops_exceeded,
    guint64 duplicates)
{
  g_assert_cmpuint (mcp_loop_guard_get_passed (g), ==, passed);
  g_assert_cmpuint (mcp_loop_guard_get_hops_exceeded (g), ==, hops_exceeded);
  g_assert_cmpuint (mcp_loop_guard_get_duplicates (g), ==, duplicates);
}

/* ---- hops -------------------------------------------------------------- */

static void
test_hops_limit (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();

  g_assert_cmpuint (mcp_loop_guard_get_max_hops (g), ==,
      MCP_LOOP_GUARD_DEFAULT_MAX_HOPS);
  g_assert_cmpuint (MCP_LOOP_GUARD_DEFAULT_MAX_HOPS, ==, 16);
  mcp_loop_guard_start (g, FALSE);
  /* at the limit it goes on; one more and it is dropped */
  g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_PASS);
  g_assert_cmpint (admit_hops (g, 2, 16), ==, MCP_LOOP_GUARD_PASS);
  g_assert_cmpint (admit_hops (g, 3, 17), ==, MCP_LOOP_GUARD_HOPS_EXCEEDED);
  g_assert_cmpint (admit_hops (g, 4, 255), ==, MCP_LOOP_GUARD_HOPS_EXCEEDED);
  assert_counts (g, 2, 2, 0);

  /* a new limit applies to the next datagram */
  mcp_loop_guard_set_max_hops (g, 1);
  g_assert_cmpuint (mcp_loop_guard_get_max_hops (g), ==, 1);
  g_assert_cmpint (admit_hops (g, 5, 1), ==, MCP_LOOP_GUARD_PASS);
  g_assert_cmpint (admit_hops (g, 6, 2), ==, MCP_LOOP_GUARD_HOPS_EXCEEDED);
  mcp_loop_guard_set_max_hops (g, 255);
  g_assert_cmpint (admit_hops (g, 7, 255), ==, MCP_LOOP_GUARD_PASS);
  assert_counts (g, 4, 3, 0);
  mcp_loop_guard_free (g);
}

static void
test_hops_no_limit (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  guint h;

  mcp_loop_guard_set_max_hops (g, 0);
  mcp_loop_guard_start (g, FALSE);
  for (h = 0; h <= 255; h++)
    g_assert_cmpint (admit_hops (g, h, h), ==, MCP_LOOP_GUARD_PASS);
  assert_counts (g, 256, 0, 0);
  mcp_loop_guard_free (g);
}

/* Crossing a link adds one hop; 255 stays 255 (a byte on the wire). */
static void
test_hops_saturate (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  McpFrameMeta meta;

  make_meta (&meta, 1, 1, 0);
  mcp_loop_guard_cross_link (&meta);
  g_assert_cmpuint (meta.hops, ==, 1);
  meta.hops = 254;
  mcp_loop_guard_cross_link (&meta);
  g_assert_cmpuint (meta.hops, ==, 255);
  mcp_loop_guard_cross_link (&meta);
  g_assert_cmpuint (meta.hops, ==, 255);

  /* received: counted after the crossing */
  mcp_loop_guard_start (g, FALSE);
  make_meta (&meta, 1, 1, 15);
  g_assert_cmpint (mcp_loop_guard_admit_received (g, &meta, 0), ==,
      MCP_LOOP_GUARD_PASS);
  g_assert_cmpuint (meta.hops, ==, 16);
  make_meta (&meta, 1, 2, 16);
  g_assert_cmpint (mcp_loop_guard_admit_received (g, &meta, 0), ==,
      MCP_LOOP_GUARD_HOPS_EXCEEDED);
  g_assert_cmpuint (meta.hops, ==, 17);

  /* without a limit a saturated datagram still goes on, once */
  mcp_loop_guard_set_max_hops (g, 0);
  mcp_loop_guard_start (g, TRUE);
  make_meta (&meta, 1, 3, 255);
  g_assert_cmpint (mcp_loop_guard_admit_received (g, &meta, 0), ==,
      MCP_LOOP_GUARD_PASS);
  g_assert_cmpuint (meta.hops, ==, 255);
  g_assert_cmpint (mcp_loop_guard_admit_received (g, &meta, 0), ==,
      MCP_LOOP_GUARD_DUPLICATE);
  g_assert_cmpuint (meta.hops, ==, 255);
  /* with the largest limit too */
  mcp_loop_guard_set_max_hops (g, MCP_LOOP_GUARD_MAX_HOPS);
  make_meta (&meta, 1, 4, 255);
  g_assert_cmpint (mcp_loop_guard_admit_received (g, &meta, 0), ==,
      MCP_LOOP_GUARD_PASS);
  assert_counts (g, 2, 0, 1);
  mcp_loop_guard_free (g);
}

/* ---- dedup ------------------------------------------------------------- */

static void
test_dedup (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  McpFrameMeta meta, other;

  mcp_loop_guard_start (g, TRUE);
  make_meta (&meta, 7, 100, 0);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==, MCP_LOOP_GUARD_PASS);
  /* the same datagram again, over another path (more hops) */
  meta.hops = 3;
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 1), ==,
      MCP_LOOP_GUARD_DUPLICATE);
  g_assert_cmpint (mcp_loop_guard_admit_received (g, &meta, 2), ==,
      MCP_LOOP_GUARD_DUPLICATE);
  /* another sequence number, origin, group or port is another datagram */
  other = meta;
  other.seq = 101;
  g_assert_cmpint (mcp_loop_guard_admit (g, &other, 3), ==,
      MCP_LOOP_GUARD_PASS);
  other = meta;
  other.origin_id = 8;
  g_assert_cmpint (mcp_loop_guard_admit (g, &other, 3), ==,
      MCP_LOOP_GUARD_PASS);
  other = meta;
  other.group[3] = 2;
  g_assert_cmpint (mcp_loop_guard_admit (g, &other, 3), ==,
      MCP_LOOP_GUARD_PASS);
  other = meta;
  other.port = 5006;
  g_assert_cmpint (mcp_loop_guard_admit (g, &other, 3), ==,
      MCP_LOOP_GUARD_PASS);
  assert_counts (g, 5, 0, 2);
  mcp_loop_guard_free (g);
}

/* The window reaches MCP_LOOP_GUARD_WINDOW sequence numbers back; older
 * ones cannot be told from duplicates and are dropped as such. */
static void
test_dedup_window (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  McpFrameMeta meta;

  g_assert_cmpuint (MCP_LOOP_GUARD_WINDOW, ==, 8192);
  mcp_loop_guard_start (g, TRUE);
  make_meta (&meta, 1, 100000, 0);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==, MCP_LOOP_GUARD_PASS);
  meta.seq = 100000 - (MCP_LOOP_GUARD_WINDOW - 1);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==, MCP_LOOP_GUARD_PASS);
  meta.seq = 100000 - MCP_LOOP_GUARD_WINDOW;
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==,
      MCP_LOOP_GUARD_DUPLICATE);
  assert_counts (g, 2, 0, 1);
  mcp_loop_guard_free (g);
}

/* A stream idle for longer than MCP_LOOP_GUARD_EXPIRY_US is forgotten. */
static void
test_dedup_expiry (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  McpFrameMeta meta;

  mcp_loop_guard_start (g, TRUE);
  make_meta (&meta, 1, 5, 0);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==, MCP_LOOP_GUARD_PASS);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta,
          MCP_LOOP_GUARD_EXPIRY_US), ==, MCP_LOOP_GUARD_DUPLICATE);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta,
          2 * MCP_LOOP_GUARD_EXPIRY_US + 1), ==, MCP_LOOP_GUARD_PASS);
  mcp_loop_guard_free (g);
}

/* The hop limit comes first: a datagram dropped for it is not remembered,
 * so that a copy over a shorter path still goes on. */
static void
test_hops_before_dedup (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  McpFrameMeta meta;

  mcp_loop_guard_set_max_hops (g, 2);
  mcp_loop_guard_start (g, TRUE);
  make_meta (&meta, 1, 9, 3);
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==,
      MCP_LOOP_GUARD_HOPS_EXCEEDED);
  meta.hops = 1;
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==, MCP_LOOP_GUARD_PASS);
  meta.hops = 3;
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==,
      MCP_LOOP_GUARD_HOPS_EXCEEDED);
  meta.hops = 2;
  g_assert_cmpint (mcp_loop_guard_admit (g, &meta, 0), ==,
      MCP_LOOP_GUARD_DUPLICATE);
  assert_counts (g, 1, 2, 1);
  mcp_loop_guard_free (g);
}

/* Without dedup, or before the first start, everything within the hop
 * limit goes on; a start resets the counters and the window, a stop
 * forgets the window and keeps the counters. */
static void
test_start_stop (void)
{
  McpLoopGuard *g = mcp_loop_guard_new ();
  guint i;

  for (i = 0; i < 3; i++)
    g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_PASS);
  g_assert_cmpint (admit_hops (g, 1, 17), ==, MCP_LOOP_GUARD_HOPS_EXCEEDED);
  assert_counts (g, 3, 1, 0);

  mcp_loop_guard_start (g, FALSE);
  assert_counts (g, 0, 0, 0);
  for (i = 0; i < 3; i++)
    g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_PASS);

  mcp_loop_guard_start (g, TRUE);
  assert_counts (g, 0, 0, 0);
  g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_PASS);
  g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_DUPLICATE);
  mcp_loop_guard_stop (g);
  assert_counts (g, 1, 0, 1);
  /* the window is gone: nothing is a duplicate now */
  g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_PASS);
  mcp_loop_guard_stop (g);
  /* a new run, a new window */
  mcp_loop_guard_start (g, TRUE);
  g_assert_cmpint (admit_hops (g, 1, 0), ==, MCP_LOOP_GUARD_PASS);
  assert_counts (g, 1, 0, 0);
  mcp_loop_guard_free (g);
  mcp_loop_guard_free (NULL);
}

/* ---- election ---------------------------------------------------------- */

/* Members are the addresses of these. */
static gint m[8];

static void
test_election_first_wins (void)
{
  McpElection *e = mcp_election_new ();

  g_assert_null (mcp_election_get_active (e, 5));
  g_assert_true (mcp_election_join (e, 5, &m[0]));
  g_assert_true (mcp_election_get_active (e, 5) == &m[0]);
  g_assert_cmpuint (mcp_election_get_n_standby (e, 5), ==, 0);
  /* the second of the peer id stands by, and so does the third */
  g_assert_false (mcp_election_join (e, 5, &m[1]));
  g_assert_false (mcp_election_join (e, 5, &m[2]));
  g_assert_true (mcp_election_get_active (e, 5) == &m[0]);
  g_assert_cmpuint (mcp_election_get_n_standby (e, 5), ==, 2);
  mcp_election_free (e);
  mcp_election_free (NULL);
}

/* The active one leaves: the oldest standing by takes over, then the next
 * oldest; the last to leave leaves nobody. */
static void
test_election_oldest_takes_over (void)
{
  McpElection *e = mcp_election_new ();

  g_assert_true (mcp_election_join (e, 5, &m[0]));
  g_assert_false (mcp_election_join (e, 5, &m[1]));
  g_assert_false (mcp_election_join (e, 5, &m[2]));
  g_assert_false (mcp_election_join (e, 5, &m[3]));

  g_assert_true (mcp_election_leave (e, 5, &m[0]) == &m[1]);
  g_assert_true (mcp_election_get_active (e, 5) == &m[1]);
  g_assert_cmpuint (mcp_election_get_n_standby (e, 5), ==, 2);
  /* one that left may join again: behind the others */
  g_assert_false (mcp_election_join (e, 5, &m[0]));
  g_assert_true (mcp_election_leave (e, 5, &m[1]) == &m[2]);
  g_assert_true (mcp_election_leave (e, 5, &m[2]) == &m[3]);
  g_assert_true (mcp_election_leave (e, 5, &m[3]) == &m[0]);
  g_assert_null (mcp_election_leave (e, 5, &m[0]));
  g_assert_null (mcp_election_get_active (e, 5));
  g_assert_cmpuint (mcp_election_get_n_standby (e, 5), ==, 0);
  /* the peer id starts afresh */
  g_assert_true (mcp_election_join (e, 5, &m[2]));
  mcp_election_free (e);
}

/* One standing by leaves: nothing changes for the others. */
static void
test_election_standby_leaves (void)
{
  McpElection *e = mcp_election_new ();

  g_assert_true (mcp_election_join (e, 9, &m[0]));
  g_assert_false (mcp_election_join (e, 9, &m[1]));
  g_assert_false (mcp_election_join (e, 9, &m[2]));
  g_assert_null (mcp_election_leave (e, 9, &m[1]));
  g_assert_true (mcp_election_get_active (e, 9) == &m[0]);
  g_assert_cmpuint (mcp_election_get_n_standby (e, 9), ==, 1);
  /* the one left standing by is next */
  g_assert_true (mcp_election_leave (e, 9, &m[0]) == &m[2]);
  /* leaving twice, or under another peer id, or never joined: nothing */
  g_assert_null (mcp_election_leave (e, 9, &m[0]));
  g_assert_null (mcp_election_leave (e, 8, &m[2]));
  g_assert_null (mcp_election_leave (e, 9, &m[5]));
  g_assert_true (mcp_election_get_active (e, 9) == &m[2]);
  mcp_election_free (e);
}

/* Peer id 0 is no peer id: never elected, never standing by. */
static void
test_election_peer_id_0 (void)
{
  McpElection *e = mcp_election_new ();

  g_assert_true (mcp_election_join (e, 0, &m[0]));
  g_assert_true (mcp_election_join (e, 0, &m[1]));
  g_assert_true (mcp_election_join (e, 0, &m[2]));
  g_assert_null (mcp_election_get_active (e, 0));
  g_assert_cmpuint (mcp_election_get_n_standby (e, 0), ==, 0);
  g_assert_null (mcp_election_leave (e, 0, &m[0]));
  g_assert_null (mcp_election_leave (e, 0, &m[1]));
  /* nor is a member of peer id 0 one of another peer id */
  g_assert_true (mcp_election_join (e, 3, &m[3]));
  g_assert_null (mcp_election_leave (e, 3, &m[2]));
  g_assert_true (mcp_election_get_active (e, 3) == &m[3]);
  mcp_election_free (e);
}

/* Each peer id has its own election. */
static void
test_election_peers_independent (void)
{
  McpElection *e = mcp_election_new ();
  const guint64 big = G_MAXUINT64;

  g_assert_true (mcp_election_join (e, 1, &m[0]));
  g_assert_true (mcp_election_join (e, 2, &m[1]));
  g_assert_true (mcp_election_join (e, big, &m[2]));
  g_assert_false (mcp_election_join (e, 1, &m[3]));
  g_assert_false (mcp_election_join (e, 2, &m[4]));
  g_assert_false (mcp_election_join (e, big, &m[5]));
  g_assert_true (mcp_election_join (e, 0, &m[6]));

  g_assert_true (mcp_election_leave (e, 2, &m[1]) == &m[4]);
  g_assert_true (mcp_election_get_active (e, 1) == &m[0]);
  g_assert_true (mcp_election_get_active (e, big) == &m[2]);
  g_assert_cmpuint (mcp_election_get_n_standby (e, 1), ==, 1);
  g_assert_cmpuint (mcp_election_get_n_standby (e, 2), ==, 0);
  g_assert_cmpuint (mcp_election_get_n_standby (e, big), ==, 1);
  g_assert_null (mcp_election_leave (e, big, &m[5]));
  g_assert_null (mcp_election_leave (e, big, &m[2]));
  g_assert_null (mcp_election_get_active (e, big));
  g_assert_true (mcp_election_get_active (e, 1) == &m[0]);
  g_assert_true (mcp_election_leave (e, 1, &m[0]) == &m[3]);
  g_assert_true (mcp_election_get_active (e, 2) == &m[4]);
  /* freed with members still in */
  mcp_election_free (e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/loopguard/hops/limit", test_hops_limit);
  g_test_add_func ("/loopguard/hops/no-limit", test_hops_no_limit);
  g_test_add_func ("/loopguard/hops/saturate", test_hops_saturate);
  g_test_add_func ("/loopguard/hops/before-dedup", test_hops_before_dedup);
  g_test_add_func ("/loopguard/dedup", test_dedup);
  g_test_add_func ("/loopguard/dedup/window", test_dedup_window);
  g_test_add_func ("/loopguard/dedup/expiry", test_dedup_expiry);
  g_test_add_func ("/loopguard/start-stop", test_start_stop);
  g_test_add_func ("/loopguard/election/first-wins", test_election_first_wins);
  g_test_add_func ("/loopguard/election/oldest-takes-over",
      test_election_oldest_takes_over);
  g_test_add_func ("/loopguard/election/standby-leaves",
      test_election_standby_leaves);
  g_test_add_func ("/loopguard/election/peer-id-0", test_election_peer_id_0);
  g_test_add_func ("/loopguard/election/peers-independent",
      test_election_peers_independent);

  return g_test_run ();
}
