/* mcastproxy — unit tests of the duplicate-suppression window (mcp-dedup).
 *
 * Time is whatever the test passes as now_us, so expiry is exact.
 */
#include "config.h"

#include "mcp-dedup.h"

#include <string.h>

#define ORIGIN G_GUINT64_CONSTANT (0x0123456789abcdef)
#define BIG_WINDOW 1024

/* ---- helpers ----------------------------------------------------------- */

/* 239.1.1.<last>:port from ORIGIN. */
static void
meta_init_v4 (McpFrameMeta * meta, guint8 last, guint16 port)
{
  memset (meta, 0, sizeof (*meta));
  meta->origin_id = ORIGIN;
  meta->family = 4;
  meta->port = port;
  meta->group[0] = 239;
  meta->group[1] = 1;
  meta->group[2] = 1;
  meta->group[3] = last;
}

static McpDedupResult
check (McpDedup * d, McpFrameMeta * meta, guint64 seq, gint64 now_us)
{
  meta->seq = seq;
  return mcp_dedup_check (d, meta, now_us);
}

/* Sends from..to (inclusive) in order, each expected NEW. */
static void
send_range (McpDedup * d, McpFrameMeta * meta, guint64 from, guint64 to)
{
  guint64 seq = from;

  while (TRUE) {
    g_assert_cmpint (check (d, meta, seq, 0), ==, MCP_DEDUP_NEW);
    if (seq == to)
      break;
    seq++;
  }
}

/* With every sequence number up to highest seen, a duplicate is recognised
 * exactly window - 1 back and is TOO_OLD window back. */
static void
assert_window_edge (guint window_arg, guint64 window)
{
  McpDedup *d = mcp_dedup_new (window_arg, 16, 0);
  McpFrameMeta meta;
  guint64 highest = 5000, seq;

  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, highest - window - 10, highest);
  for (seq = highest - window + 1; seq <= highest; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, highest - window, 0), ==,
      MCP_DEDUP_TOO_OLD);
  g_assert_cmpint (check (d, &meta, highest - window - 1, 0), ==,
      MCP_DEDUP_TOO_OLD);
  /* TOO_OLD changes nothing */
  g_assert_cmpint (check (d, &meta, highest, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, highest - window + 1, 0), ==,
      MCP_DEDUP_DUPLICATE);
  mcp_dedup_free (d);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_in_order (void)
{
  McpDedup *d = mcp_dedup_new (64, 16, 0);
  McpFrameMeta meta;
  guint64 seq;

  meta_init_v4 (&meta, 1, 5000);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 0);
  for (seq = 0; seq < 1000; seq++)
    g_assert_cmpint (check (d, &meta, seq, seq), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 1);

  /* a stream may begin anywhere, also at 0 of an epoch and at the top */
  meta_init_v4 (&meta, 2, 5000);
  g_assert_cmpint (check (d, &meta, G_GUINT64_CONSTANT (7) << 40, 0), ==,
      MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, (G_GUINT64_CONSTANT (7) << 40) + 1, 0),
      ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 2);
  mcp_dedup_free (d);
}

static void
test_duplicate (void)
{
  McpDedup *d = mcp_dedup_new (64, 16, 0);
  McpFrameMeta meta;
  guint64 seq;

  meta_init_v4 (&meta, 1, 5000);
  /* the very first datagram, repeated */
  g_assert_cmpint (check (d, &meta, 100, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 100, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, 100, 0), ==, MCP_DEDUP_DUPLICATE);

  /* each datagram sent twice in a row */
  for (seq = 101; seq < 300; seq++) {
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  }
  /* a replay of the recent past, as after a reconnect */
  for (seq = 299 - 63; seq < 300; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, 300, 0), ==, MCP_DEDUP_NEW);
  mcp_dedup_free (d);
}

static void
test_reorder (void)
{
  McpDedup *d = mcp_dedup_new (128, 16, 0);
  McpFrameMeta meta;
  static const guint64 order[] = { 10, 12, 11, 15, 13, 14, 20, 16, 19, 17, 18 };
  guint i;
  guint64 seq;

  meta_init_v4 (&meta, 1, 5000);
  for (i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpint (check (d, &meta, order[i], 0), ==, MCP_DEDUP_NEW);
  for (i = 0; i < G_N_ELEMENTS (order); i++)
    g_assert_cmpint (check (d, &meta, order[i], 0), ==, MCP_DEDUP_DUPLICATE);

  /* every other one first, the gaps late: each NEW once, then DUPLICATE;
   * crosses 64-bit word boundaries of the bitmap */
  for (seq = 22; seq <= 140; seq += 2)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
  for (seq = 21; seq <= 139; seq += 2) {
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  }
  for (seq = 21; seq <= 140; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);

  /* a late one at the very edge of the window, never seen */
  g_assert_cmpint (check (d, &meta, 140 - 127 - 1, 0), ==, MCP_DEDUP_TOO_OLD);
  mcp_dedup_free (d);
}

static void
test_window_edge (void)
{
  McpDedup *d;
  McpFrameMeta meta;

  assert_window_edge (64, 64);
  assert_window_edge (128, 128);
  assert_window_edge (192, 192);        /* not a power of two */
  assert_window_edge (BIG_WINDOW, BIG_WINDOW);

  /* a gap exactly window - 1 back, filled late, then duplicate */
  d = mcp_dedup_new (64, 16, 0);
  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, 0, 9);
  send_range (d, &meta, 11, 73);
  g_assert_cmpint (check (d, &meta, 10, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 10, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, 9, 0), ==, MCP_DEDUP_TOO_OLD);
  /* one more and 10 falls out */
  g_assert_cmpint (check (d, &meta, 74, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 10, 0), ==, MCP_DEDUP_TOO_OLD);
  mcp_dedup_free (d);
}

static void
test_window_rounding (void)
{
  McpDedup *d;
  McpFrameMeta meta;

  assert_window_edge (0, 64);
  assert_window_edge (1, 64);
  assert_window_edge (63, 64);
  assert_window_edge (65, 128);
  assert_window_edge (100, 128);
  assert_window_edge (1000, 1024);

  /* 100 really is 128: a gap 110 back is still recognised */
  d = mcp_dedup_new (100, 16, 0);
  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, 1, 1000);
  g_assert_cmpint (check (d, &meta, 1000 - 110, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, 1000 - 127, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, 1000 - 128, 0), ==, MCP_DEDUP_TOO_OLD);
  mcp_dedup_free (d);
}

static void
test_forward_jump (void)
{
  McpDedup *d = mcp_dedup_new (64, 16, 0);
  McpFrameMeta meta;
  guint64 seq, h;

  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, 0, 9);
  g_assert_cmpint (check (d, &meta, 1000, 0), ==, MCP_DEDUP_NEW);
  for (seq = 0; seq < 10; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_TOO_OLD);
  g_assert_cmpint (check (d, &meta, 1000, 0), ==, MCP_DEDUP_DUPLICATE);
  /* the skipped ones inside the window arrive late */
  for (seq = 1000 - 63; seq < 1000; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 1000 - 64, 0), ==, MCP_DEDUP_TOO_OLD);

  /* The whole window is seen (937..1000). A jump of exactly window lands
   * on the same bits: all of them must be cleared. */
  h = 1000 + 64;
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_NEW);
  for (seq = h - 63; seq < h; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 1000, 0), ==, MCP_DEDUP_TOO_OLD);

  /* A jump of window - 1 keeps the old highest and clears the rest. */
  g_assert_cmpint (check (d, &meta, h + 63, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, h - 1, 0), ==, MCP_DEDUP_TOO_OLD);
  for (seq = h + 1; seq < h + 63; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
  for (seq = h; seq <= h + 63; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);

  /* A jump of more than 2^32: what lies behind it is a restart. */
  h = h + 63;
  g_assert_cmpint (check (d, &meta, h + (G_GUINT64_CONSTANT (1) << 33), 0),
      ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, h + 1, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, h - 1, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, h - 1, 0), ==, MCP_DEDUP_DUPLICATE);


  /* exactly 2^32 behind is still only TOO_OLD, one more is a restart */
  meta_init_v4 (&meta, 2, 5000);
  h = G_GUINT64_CONSTANT (1) << 40;
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, h - (G_GUINT64_CONSTANT (1) << 32), 0),
      ==, MCP_DEDUP_TOO_OLD);
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta,
          h - (G_GUINT64_CONSTANT (1) << 32) - 1, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta,
          h - (G_GUINT64_CONSTANT (1) << 32) - 1, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, h, 0), ==, MCP_DEDUP_NEW);
  mcp_dedup_free (d);
}

/* A jump smaller than the window but over several bitmap words. */
static void
test_partial_slide (void)
{
  McpDedup *d = mcp_dedup_new (256, 16, 0);
  McpFrameMeta meta;
  guint64 seq;

  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, 1000, 1255);
  /* 1255 + 150: keeps 1150..1255, clears the bits of 1256..1405 */
  g_assert_cmpint (check (d, &meta, 1405, 0), ==, MCP_DEDUP_NEW);
  for (seq = 1150; seq <= 1255; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, 1149, 0), ==, MCP_DEDUP_TOO_OLD);
  for (seq = 1256; seq < 1405; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 1405, 0), ==, MCP_DEDUP_DUPLICATE);
  mcp_dedup_free (d);
}

static void
test_top_of_range (void)
{
  McpDedup *d = mcp_dedup_new (64, 16, 0);
  McpFrameMeta meta;
  guint64 seq;

  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, G_MAXUINT64 - 100, G_MAXUINT64 - 10);
  g_assert_cmpint (check (d, &meta, G_MAXUINT64, 0), ==, MCP_DEDUP_NEW);
  for (seq = G_MAXUINT64 - 9; seq < G_MAXUINT64; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_NEW);
  for (seq = G_MAXUINT64 - 63; seq < G_MAXUINT64; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, G_MAXUINT64, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, G_MAXUINT64 - 64, 0), ==,
      MCP_DEDUP_TOO_OLD);
  /* an origin that starts again at 0 */
  g_assert_cmpint (check (d, &meta, 0, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, 0, 0), ==, MCP_DEDUP_DUPLICATE);
  mcp_dedup_free (d);
}

static void
assert_restart (guint64 old_epoch, guint64 new_epoch)
{
  McpDedup *d = mcp_dedup_new (64, 16, 0);
  McpFrameMeta meta;
  guint64 seq;

  g_assert_cmpuint (old_epoch, !=, new_epoch);
  meta_init_v4 (&meta, 1, 5000);
  send_range (d, &meta, old_epoch, old_epoch + 99);
  g_assert_cmpint (check (d, &meta, old_epoch + 99, 0), ==,
      MCP_DEDUP_DUPLICATE);

  /* the origin restarts and counts again from its new epoch */
  g_assert_cmpint (check (d, &meta, new_epoch, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, new_epoch, 0), ==, MCP_DEDUP_DUPLICATE);
  send_range (d, &meta, new_epoch + 1, new_epoch + 99);
  for (seq = new_epoch + 99 - 63; seq <= new_epoch + 99; seq++)
    g_assert_cmpint (check (d, &meta, seq, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, new_epoch + 102, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, new_epoch + 100, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, new_epoch + 101, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &meta, new_epoch + 101, 0), ==,
      MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &meta, new_epoch + 102 - 64, 0), ==,
      MCP_DEDUP_TOO_OLD);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 1);
  mcp_dedup_free (d);
}

static void
test_restart (void)
{
  guint64 a, b;

  /* hand-made epochs 2^40 apart, both directions */
  assert_restart (G_GUINT64_CONSTANT (5) << 40, G_GUINT64_CONSTANT (4) << 40);
  assert_restart (G_GUINT64_CONSTANT (4) << 40, G_GUINT64_CONSTANT (5) << 40);
  /* the lowest and the highest epoch */
  assert_restart (G_GUINT64_CONSTANT (0xffffff) << 40, 0);
  assert_restart (0, G_GUINT64_CONSTANT (0xffffff) << 40);

  /* real epochs */
  a = mcp_seq_new_epoch ();
  do
    b = mcp_seq_new_epoch ();
  while (b == a);
  assert_restart (a, b);
  assert_restart (b, a);
}

static void
test_independent_streams (void)
{
  McpDedup *d = mcp_dedup_new (64, 16, 0);
  McpFrameMeta metas[7];
  McpFrameMeta alias;
  guint i;

  meta_init_v4 (&metas[0], 1, 5000);
  meta_init_v4 (&metas[1], 2, 5000);    /* other group */
  meta_init_v4 (&metas[2], 1, 5001);    /* other port */
  meta_init_v4 (&metas[3], 1, 5000);
  metas[3].family = 6;          /* same bytes, IPv6 */
  meta_init_v4 (&metas[4], 1, 5000);
  metas[4].family = 0;          /* no group */
  meta_init_v4 (&metas[5], 1, 5000);
  metas[5].origin_id = ORIGIN + 1;      /* other origin */
  meta_init_v4 (&metas[6], 1, 5000);
  metas[6].family = 6;
  metas[6].group[15] = 1;       /* IPv6, differs only in the last byte */

  for (i = 0; i < G_N_ELEMENTS (metas); i++) {
    g_assert_cmpint (check (d, &metas[i], 1, 0), ==, MCP_DEDUP_NEW);
    g_assert_cmpint (check (d, &metas[i], 2, 0), ==, MCP_DEDUP_NEW);
  }
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, G_N_ELEMENTS (metas));
  for (i = 0; i < G_N_ELEMENTS (metas); i++) {
    g_assert_cmpint (check (d, &metas[i], 1, 0), ==, MCP_DEDUP_DUPLICATE);
    g_assert_cmpint (check (d, &metas[i], 2, 0), ==, MCP_DEDUP_DUPLICATE);
  }
  /* one stream moving far ahead leaves the others alone */
  g_assert_cmpint (check (d, &metas[0], 1000, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &metas[0], 3, 0), ==, MCP_DEDUP_TOO_OLD);
  for (i = 1; i < G_N_ELEMENTS (metas); i++)
    g_assert_cmpint (check (d, &metas[i], 3, 0), ==, MCP_DEDUP_NEW);

  /* bytes after an IPv4 group are not part of it; capture time and hops
   * never are */
  alias = metas[1];
  memset (alias.group + 4, 0xaa, 12);
  alias.capture_time = 12345;
  alias.hops = 3;
  g_assert_cmpint (check (d, &alias, 3, 0), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, G_N_ELEMENTS (metas));
  mcp_dedup_free (d);
}

static void
test_eviction (void)
{
  McpDedup *d = mcp_dedup_new (64, 3, 0);
  McpFrameMeta a, b, c, e;

  meta_init_v4 (&a, 1, 5000);
  meta_init_v4 (&b, 2, 5000);
  meta_init_v4 (&c, 3, 5000);
  meta_init_v4 (&e, 4, 5000);

  g_assert_cmpint (check (d, &a, 1, 1), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &b, 1, 2), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &c, 1, 3), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &a, 1, 4), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 3);

  /* full: e pushes out b, idle since 2 */
  g_assert_cmpint (check (d, &e, 1, 5), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 3);
  g_assert_cmpint (check (d, &a, 1, 6), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &e, 1, 7), ==, MCP_DEDUP_DUPLICATE);
  /* idle longest now: c (3), then a (6), then e (7) */

  /* b was forgotten: its old datagram is NEW again, and pushes out c */
  g_assert_cmpint (check (d, &b, 1, 8), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 3);
  /* c was forgotten, pushes out a */
  g_assert_cmpint (check (d, &c, 1, 9), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &e, 1, 10), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &b, 1, 11), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &c, 1, 12), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 3);
  /* a was forgotten */
  g_assert_cmpint (check (d, &a, 1, 13), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 3);
  mcp_dedup_free (d);

  /* a single slot: two streams take turns and forget each other */
  d = mcp_dedup_new (64, 1, 0);
  g_assert_cmpint (check (d, &a, 1, 1), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &a, 1, 2), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &b, 1, 3), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &a, 1, 4), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &b, 1, 5), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 1);
  mcp_dedup_free (d);
}

static void
test_idle_expiry (void)
{
  McpDedup *d = mcp_dedup_new (64, 16, 1000);
  McpFrameMeta a, b;

  meta_init_v4 (&a, 1, 5000);
  meta_init_v4 (&b, 2, 5000);

  g_assert_cmpint (check (d, &a, 1, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &b, 1, 500), ==, MCP_DEDUP_NEW);
  /* idle exactly the expiry time: kept */
  g_assert_cmpint (check (d, &a, 1, 1000), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 2);
  /* b idle 1001 µs: forgotten by the next check of anything */
  g_assert_cmpint (check (d, &a, 2, 1501), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 1);
  g_assert_cmpint (check (d, &b, 1, 1600), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 2);
  g_assert_cmpint (check (d, &b, 1, 1601), ==, MCP_DEDUP_DUPLICATE);

  /* a stream that comes back after being idle too long starts afresh,
   * even below its old highest */
  g_assert_cmpint (check (d, &a, 1, 2502), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &a, 1, 2503), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpint (check (d, &a, 2, 2504), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 2);
  /* b (1601) goes, a stays */
  g_assert_cmpint (check (d, &a, 3, 2602), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 1);
  /* everything gone */
  g_assert_cmpint (check (d, &b, 1, 10000), ==, MCP_DEDUP_NEW);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 1);
  mcp_dedup_free (d);

  /* 0: never */
  d = mcp_dedup_new (64, 16, 0);
  g_assert_cmpint (check (d, &a, 1, 0), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &b, 1, 1), ==, MCP_DEDUP_NEW);
  g_assert_cmpint (check (d, &a, 1, G_MAXINT64 / 2), ==, MCP_DEDUP_DUPLICATE);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 2);
  mcp_dedup_free (d);
}

static void
test_epoch (void)
{
  guint64 first = mcp_seq_new_epoch ();
  gboolean varies = FALSE;
  guint i;

  for (i = 0; i < 32; i++) {
    guint64 e = mcp_seq_new_epoch ();

    g_assert_cmpuint (e & ((G_GUINT64_CONSTANT (1) << 40) - 1), ==, 0);
    g_assert_cmpuint (e >> 40, <=, 0xffffff);
    if (e != first)
      varies = TRUE;
  }
  /* 33 equal draws of 24 random bits: never in practice */
  g_assert_true (varies);
}

/* The rules, the slow way: every seen sequence number in a set. */
typedef struct
{
  gboolean started;
  guint64 highest;
  GHashTable *seen;
} Model;

static McpDedupResult
model_check (Model * m, guint64 window, guint64 seq)
{
  guint64 diff;

  if (!m->started || seq > m->highest) {
    m->started = TRUE;
    m->highest = seq;
    g_hash_table_add (m->seen, g_memdup2 (&seq, sizeof (seq)));
    return MCP_DEDUP_NEW;
  }
  diff = m->highest - seq;
  if (diff < window) {
    if (g_hash_table_contains (m->seen, &seq))
      return MCP_DEDUP_DUPLICATE;
    g_hash_table_add (m->seen, g_memdup2 (&seq, sizeof (seq)));
    return MCP_DEDUP_NEW;
  }
  if (diff > (G_GUINT64_CONSTANT (1) << 32)) {
    g_hash_table_remove_all (m->seen);
    m->highest = seq;
    g_hash_table_add (m->seen, g_memdup2 (&seq, sizeof (seq)));
    return MCP_DEDUP_NEW;
  }
  return MCP_DEDUP_TOO_OLD;
}

static void
assert_like_model (guint window_arg, guint64 window, guint32 seed)
{
  McpDedup *d = mcp_dedup_new (window_arg, 16, 0);
  GRand *rng = g_rand_new_with_seed (seed);
  McpFrameMeta meta;
  Model m = { FALSE, 0, NULL };
  guint64 next = G_GUINT64_CONSTANT (3) << 40, seq;
  guint counts[3] = { 0, 0, 0 };
  guint i;

  m.seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  meta_init_v4 (&meta, 1, 5000);
  for (i = 0; i < 200000; i++) {
    gint r = g_rand_int_range (rng, 0, 1000);
    McpDedupResult expected;

    if (r < 700) {              /* in order */
      seq = next++;
    } else if (r < 900) {       /* late: duplicate, gap filled or too old */
      seq = next - 1 - g_rand_int_range (rng, 0, (gint32) window + 64);
    } else if (r < 980) {       /* skip ahead a little */
      next += g_rand_int_range (rng, 1, 80);
      seq = next++;
    } else if (r < 994) {       /* skip ahead around the window size */
      next += window - 3 + g_rand_int_range (rng, 0, 6);
      seq = next++;
    } else if (r < 998) {       /* skip ahead far */
      next += window * g_rand_int_range (rng, 2, 5);
      seq = next++;
    } else {                    /* the origin restarts in another epoch */
      next = (guint64) g_rand_int_range (rng, 1, 1 << 24) << 40;
      seq = next++;
    }
    expected = model_check (&m, window, seq);
    g_assert_cmpint (check (d, &meta, seq, 0), ==, expected);
    counts[expected]++;
  }
  /* the mix exercised every outcome */
  g_assert_cmpuint (counts[MCP_DEDUP_NEW], >, 0);
  g_assert_cmpuint (counts[MCP_DEDUP_DUPLICATE], >, 0);
  g_assert_cmpuint (counts[MCP_DEDUP_TOO_OLD], >, 0);

  g_hash_table_unref (m.seen);
  g_rand_free (rng);
  mcp_dedup_free (d);
}

static void
test_model (void)
{
  assert_like_model (1, 64, 1);
  assert_like_model (100, 128, 2);
  assert_like_model (192, 192, 3);
  assert_like_model (320, 320, 4);
  assert_like_model (BIG_WINDOW, BIG_WINDOW, 5);
}

static void
test_performance (void)
{
  McpDedup *d = mcp_dedup_new (BIG_WINDOW, 1024, 5 * G_USEC_PER_SEC);
  McpFrameMeta meta, metas[16];
  guint counts[3] = { 0, 0, 0 };
  guint64 n = 1000000, seq, calls = 0;
  gint64 start, elapsed;
  guint i;

  meta_init_v4 (&meta, 1, 5000);
  start = g_get_monotonic_time ();
  for (seq = 0; seq < n; seq++) {
    meta.seq = seq;
    counts[mcp_dedup_check (d, &meta, (gint64) seq)]++;
    calls++;
    /* a duplicate of every 10th, a little late */
    if (seq % 10 == 9) {
      meta.seq = seq - 7;
      counts[mcp_dedup_check (d, &meta, (gint64) seq)]++;
      calls++;
    }
  }
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpuint (counts[MCP_DEDUP_NEW], ==, n);
  g_assert_cmpuint (counts[MCP_DEDUP_DUPLICATE], ==, n / 10);
  g_assert_cmpuint (counts[MCP_DEDUP_TOO_OLD], ==, 0);
  g_test_message ("one stream: %" G_GUINT64_FORMAT " checks in %"
      G_GINT64_FORMAT " us, %.1f ns per check", calls, elapsed,
      elapsed * 1000.0 / calls);

  /* the same with 16 interleaved streams */
  memset (counts, 0, sizeof (counts));
  for (i = 0; i < G_N_ELEMENTS (metas); i++)
    meta_init_v4 (&metas[i], 10 + i, 5000);
  calls = 0;
  start = g_get_monotonic_time ();
  for (seq = 0; seq < n; seq++) {
    McpFrameMeta *mt = &metas[seq % G_N_ELEMENTS (metas)];

    mt->seq = seq / G_N_ELEMENTS (metas);
    counts[mcp_dedup_check (d, mt, (gint64) seq)]++;
    calls++;
    if (seq % 10 == 9) {
      counts[mcp_dedup_check (d, mt, (gint64) seq)]++;
      calls++;
    }
  }
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpuint (counts[MCP_DEDUP_NEW], ==, n);
  g_assert_cmpuint (counts[MCP_DEDUP_DUPLICATE], ==, n / 10);
  g_assert_cmpuint (mcp_dedup_get_n_streams (d), ==, 17);
  g_test_message ("16 streams: %" G_GUINT64_FORMAT " checks in %"
      G_GINT64_FORMAT " us, %.1f ns per check", calls, elapsed,
      elapsed * 1000.0 / calls);
  mcp_dedup_free (d);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dedup/in-order", test_in_order);
  g_test_add_func ("/dedup/duplicate", test_duplicate);
  g_test_add_func ("/dedup/reorder", test_reorder);
  g_test_add_func ("/dedup/window-edge", test_window_edge);
  g_test_add_func ("/dedup/window-rounding", test_window_rounding);
  g_test_add_func ("/dedup/forward-jump", test_forward_jump);
  g_test_add_func ("/dedup/partial-slide", test_partial_slide);
  g_test_add_func ("/dedup/top-of-range", test_top_of_range);
  g_test_add_func ("/dedup/restart", test_restart);
  g_test_add_func ("/dedup/independent-streams", test_independent_streams);
  g_test_add_func ("/dedup/eviction", test_eviction);
  g_test_add_func ("/dedup/idle-expiry", test_idle_expiry);
  g_test_add_func ("/dedup/epoch", test_epoch);
  g_test_add_func ("/dedup/model", test_model);
  g_test_add_func ("/dedup/performance", test_performance);

  return g_test_run ();
}
