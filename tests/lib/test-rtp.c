/* mcastproxy — unit tests of RTP header parsing and the reorder window
 * (mcp-rtp).
 *
 * Items are numbers (tag << 17 | seq + 1) cast to pointers; the destroy
 * function records the ones dropped. Time is whatever the test passes.
 */
#include "config.h"

#include "mcp-rtp.h"

#include <string.h>

#define ITEM(seq, tag) GUINT_TO_POINTER (((guint) (tag) << 17) | ((seq) + 1))
#define ITEM_SEQ(p) ((GPOINTER_TO_UINT (p) & 0x1ffff) - 1)
#define ITEM_TAG(p) (GPOINTER_TO_UINT (p) >> 17)
#define END -1

static GArray *destroyed;

static void
record_destroy (gpointer item)
{
  guint v = GPOINTER_TO_UINT (item);

  g_array_append_val (destroyed, v);
}

static McpRtpReorder *
reorder_new (guint window, guint64 max_delay)
{
  if (destroyed)
    g_array_set_size (destroyed, 0);
  else
    destroyed = g_array_new (FALSE, FALSE, sizeof (guint));
  return mcp_rtp_reorder_new (window, max_delay, record_destroy);
}

/* out holds the items of these sequence numbers (..., END), and is
 * emptied. */
static void
assert_out (GPtrArray * out, ...)
{
  va_list args;
  guint i = 0;
  gint seq;

  va_start (args, out);
  while ((seq = va_arg (args, gint)) != END) {
    g_assert_cmpuint (i, <, out->len);
    g_assert_cmpint (ITEM_SEQ (g_ptr_array_index (out, i)), ==, seq);
    i++;
  }
  va_end (args);
  g_assert_cmpuint (out->len, ==, i);
  g_ptr_array_set_size (out, 0);
}

static void
push (McpRtpReorder * r, guint16 seq, guint32 ssrc, guint64 now,
    GPtrArray * out)
{
  mcp_rtp_reorder_push (r, seq, ssrc, ITEM (seq, 0), now, out);
}

static void
assert_stats (McpRtpReorder * r, guint64 duplicates, guint64 late,
    guint64 reordered, guint64 lost)
{
  McpRtpReorderStats stats;

  mcp_rtp_reorder_get_stats (r, &stats);
  g_assert_cmpuint (stats.duplicates, ==, duplicates);
  g_assert_cmpuint (stats.late, ==, late);
  g_assert_cmpuint (stats.reordered, ==, reordered);
  g_assert_cmpuint (stats.lost, ==, lost);
}

static void
assert_destroyed (guint n, ...)
{
  va_list args;
  guint i;

  g_assert_cmpuint (destroyed->len, ==, n);
  va_start (args, n);
  for (i = 0; i < n; i++) {
    guint item = va_arg (args, guint);

    g_assert_cmphex (g_array_index (destroyed, guint, i), ==, item);
  }
  va_end (args);
}

/* ---- parsing ----------------------------------------------------------- */

static void
assert_parse_error (const guint8 * data, gsize len, const gchar * message)
{
  McpRtpHeader hdr;
  GError *err = NULL;

  memset (&hdr, 0x5a, sizeof (hdr));
  g_assert_false (mcp_rtp_parse (data, len, &hdr, &err));
  g_assert_error (err, MCP_RTP_ERROR, MCP_RTP_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, message);
  g_error_free (err);
}

static void
test_parse_minimal (void)
{
  static const guint8 pkt[] = { 0x80, 0xa1, 0xbe, 0xef, 0x01, 0x02, 0x03,
    0x04, 0xfe, 0xdc, 0xba, 0x98, 'a', 'b', 'c'
  };
  McpRtpHeader hdr;
  GError *err = NULL;

  g_assert_true (mcp_rtp_parse (pkt, sizeof (pkt), &hdr, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (hdr.payload_type, ==, 0x21);
  g_assert_true (hdr.marker);
  g_assert_cmpuint (hdr.seq, ==, 0xbeef);
  g_assert_cmphex (hdr.timestamp, ==, 0x01020304);
  g_assert_cmphex (hdr.ssrc, ==, 0xfedcba98);
  g_assert_cmpuint (hdr.payload_offset, ==, 12);
  g_assert_cmpuint (hdr.payload_len, ==, 3);

  /* a header alone: an empty payload; MP2T (33), no marker */
  g_assert_true (mcp_rtp_parse (pkt, 12, &hdr, NULL));
  g_assert_cmpuint (hdr.payload_len, ==, 0);
  {
    guint8 ts[12 + 188];

    memset (ts, 0x47, sizeof (ts));
    memcpy (ts, pkt, 12);
    ts[1] = 33;
    g_assert_true (mcp_rtp_parse (ts, sizeof (ts), &hdr, NULL));
    g_assert_false (hdr.marker);
    g_assert_cmpuint (hdr.payload_type, ==, 33);
    g_assert_cmpuint (hdr.payload_offset, ==, 12);
    g_assert_cmpuint (hdr.payload_len, ==, 188);
  }
}

static void
test_parse_csrc_extension_padding (void)
{
  guint8 pkt[12 + 8 + 4 + 8 + 5 + 3];
  McpRtpHeader hdr;
  gsize i;

  for (i = 0; i < sizeof (pkt); i++)
    pkt[i] = i;
  /* V=2 P X CC=2 */
  pkt[0] = 0x80 | 0x20 | 0x10 | 2;
  pkt[1] = 96;
  /* extension at 20: profile 0xbede, 2 words */
  pkt[20] = 0xbe;
  pkt[21] = 0xde;
  pkt[22] = 0;
  pkt[23] = 2;
  /* payload 5 bytes at 32, then 3 bytes of padding */
  pkt[sizeof (pkt) - 1] = 3;
  g_assert_true (mcp_rtp_parse (pkt, sizeof (pkt), &hdr, NULL));
  g_assert_cmpuint (hdr.payload_offset, ==, 32);
  g_assert_cmpuint (hdr.payload_len, ==, 5);
  g_assert_cmpuint (hdr.seq, ==, 0x0203);

  /* padding that takes the whole rest: empty payload */
  pkt[sizeof (pkt) - 1] = 8;
  g_assert_true (mcp_rtp_parse (pkt, sizeof (pkt), &hdr, NULL));
  g_assert_cmpuint (hdr.payload_offset, ==, 32);
  g_assert_cmpuint (hdr.payload_len, ==, 0);

  /* CSRCs only: 15 of them */
  {
    guint8 big[12 + 60 + 1];

    memset (big, 0, sizeof (big));
    big[0] = 0x8f;
    g_assert_true (mcp_rtp_parse (big, sizeof (big), &hdr, NULL));
    g_assert_cmpuint (hdr.payload_offset, ==, 72);
    g_assert_cmpuint (hdr.payload_len, ==, 1);
    assert_parse_error (big, 71, "RTP CSRC list (15) beyond the packet "
        "(71 bytes)");
  }
}

static void
test_parse_errors (void)
{
  guint8 pkt[40];

  memset (pkt, 0, sizeof (pkt));
  pkt[0] = 0x80;
  assert_parse_error (pkt, 0, "RTP packet too short: 0 bytes, the header "
      "alone is 12");
  assert_parse_error (pkt, 11, "RTP packet too short: 11 bytes, the header "
      "alone is 12");
  pkt[0] = 0x40;
  assert_parse_error (pkt, 40, "not RTP: version 1, expected 2");
  pkt[0] = 0x00;
  assert_parse_error (pkt, 40, "not RTP: version 0, expected 2");
  pkt[0] = 0xc0;
  assert_parse_error (pkt, 40, "not RTP: version 3, expected 2");
  pkt[0] = 0x47;                /* MPEG-TS sync byte: version 1 */
  assert_parse_error (pkt, 40, "not RTP: version 1, expected 2");

  pkt[0] = 0x80 | 8;
  assert_parse_error (pkt, 40, "RTP CSRC list (8) beyond the packet "
      "(40 bytes)");
  pkt[0] = 0x80 | 0x10;
  assert_parse_error (pkt, 15, "RTP header extension beyond the packet "
      "(15 bytes)");
  pkt[14] = 0;
  pkt[15] = 7;
  assert_parse_error (pkt, 40, "RTP header extension (32 bytes) beyond the "
      "packet (40 bytes)");
  pkt[15] = 6;
  {
    McpRtpHeader hdr;

    g_assert_true (mcp_rtp_parse (pkt, 40, &hdr, NULL));
    g_assert_cmpuint (hdr.payload_offset, ==, 40);
    g_assert_cmpuint (hdr.payload_len, ==, 0);
  }

  pkt[0] = 0x80 | 0x20;
  pkt[39] = 0;
  assert_parse_error (pkt, 40, "RTP padding count 0 (it counts itself)");
  pkt[39] = 29;
  assert_parse_error (pkt, 40, "RTP padding (29 bytes) beyond the packet "
      "(28 bytes after the header)");
  pkt[0] = 0x80 | 0x20 | 0x10;
  pkt[39] = 1;
  assert_parse_error (pkt, 40, "RTP padding (1 bytes) beyond the packet "
      "(0 bytes after the header)");
  pkt[0] = 0x80 | 0x20;
  pkt[11] = 1;
  assert_parse_error (pkt, 12, "RTP padding (1 bytes) beyond the packet "
      "(0 bytes after the header)");
}

/* ---- the reorder window ------------------------------------------------ */

static void
test_in_order_wrap (void)
{
  McpRtpReorder *r = reorder_new (32, 100);
  GPtrArray *out = g_ptr_array_new ();
  guint i;

  for (i = 0; i < 70000; i++) {
    guint16 seq = 65500 + i;

    push (r, seq, 7, i, out);
    g_assert_cmpuint (out->len, ==, 1);
    g_assert_cmpuint (ITEM_SEQ (out->pdata[0]), ==, seq);
    g_ptr_array_set_size (out, 0);
  }
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 1000000, out), ==, G_MAXUINT64);
  assert_out (out, END);
  assert_stats (r, 0, 0, 0, 0);
  mcp_rtp_reorder_free (r);
  assert_destroyed (0);
  g_ptr_array_unref (out);
}

static void
test_swap (void)
{
  McpRtpReorder *r = reorder_new (32, 100);
  GPtrArray *out = g_ptr_array_new ();

  push (r, 1, 7, 0, out);
  assert_out (out, 1, END);
  push (r, 3, 7, 0, out);
  assert_out (out, END);
  push (r, 4, 7, 0, out);
  assert_out (out, END);
  push (r, 2, 7, 0, out);
  assert_out (out, 2, 3, 4, END);
  assert_stats (r, 0, 0, 1, 0);
  /* across the wrap */
  push (r, 65534, 7, 0, out);
  assert_out (out, END);
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);

  r = reorder_new (8, 100);
  out = g_ptr_array_new ();
  push (r, 65533, 7, 0, out);
  push (r, 1, 7, 0, out);
  push (r, 65535, 7, 0, out);
  push (r, 0, 7, 0, out);
  assert_out (out, 65533, END);
  push (r, 65534, 7, 0, out);
  assert_out (out, 65534, 65535, 0, 1, END);
  assert_stats (r, 0, 0, 3, 0);
  mcp_rtp_reorder_free (r);
  assert_destroyed (0);
  g_ptr_array_unref (out);
}

static void
test_duplicates (void)
{
  McpRtpReorder *r = reorder_new (4, 100);
  GPtrArray *out = g_ptr_array_new ();
  guint i;

  push (r, 10, 7, 0, out);
  push (r, 12, 7, 0, out);
  assert_out (out, 10, END);
  /* a copy of a held one, of one put out */
  mcp_rtp_reorder_push (r, 12, 7, ITEM (12, 1), 0, out);
  mcp_rtp_reorder_push (r, 10, 7, ITEM (10, 2), 0, out);
  assert_out (out, END);
  assert_stats (r, 2, 0, 0, 0);
  assert_destroyed (2, GPOINTER_TO_UINT (ITEM (12, 1)),
      GPOINTER_TO_UINT (ITEM (10, 2)));
  push (r, 11, 7, 0, out);
  assert_out (out, 11, 12, END);

  /* window 4: the last 8 put out are remembered, older ones are late */
  for (i = 13; i <= 30; i++)
    push (r, i, 7, 0, out);
  g_ptr_array_set_size (out, 0);
  mcp_rtp_reorder_push (r, 23, 7, ITEM (23, 3), 0, out);
  mcp_rtp_reorder_push (r, 22, 7, ITEM (22, 3), 0, out);
  mcp_rtp_reorder_push (r, 2, 7, ITEM (2, 3), 0, out);
  assert_out (out, END);
  assert_stats (r, 3, 2, 1, 0);
  assert_destroyed (5, GPOINTER_TO_UINT (ITEM (12, 1)),
      GPOINTER_TO_UINT (ITEM (10, 2)), GPOINTER_TO_UINT (ITEM (23, 3)),
      GPOINTER_TO_UINT (ITEM (22, 3)), GPOINTER_TO_UINT (ITEM (2, 3)));
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);
}

static void
test_window_full (void)
{
  McpRtpReorder *r = reorder_new (4, 1000);
  GPtrArray *out = g_ptr_array_new ();

  push (r, 1, 7, 0, out);
  assert_out (out, 1, END);
  push (r, 3, 7, 0, out);
  push (r, 4, 7, 0, out);
  push (r, 5, 7, 0, out);
  push (r, 6, 7, 0, out);
  /* 4 held, waiting for 2 */
  assert_out (out, END);
  push (r, 7, 7, 0, out);
  assert_out (out, 3, 4, 5, 6, 7, END);
  assert_stats (r, 0, 0, 0, 1);
  /* 2 comes after all: late */
  push (r, 2, 7, 0, out);
  assert_out (out, END);
  assert_stats (r, 0, 1, 0, 1);
  assert_destroyed (1, GPOINTER_TO_UINT (ITEM (2, 0)));

  /* several gaps: each given up as the window moves */
  push (r, 9, 7, 0, out);
  push (r, 11, 7, 0, out);
  push (r, 12, 7, 0, out);
  assert_out (out, END);
  push (r, 13, 7, 0, out);
  assert_out (out, 9, END);
  push (r, 16, 7, 0, out);
  assert_out (out, 11, 12, 13, END);
  assert_stats (r, 0, 1, 0, 3);
  /* far ahead, but not a restart: every gap given up */
  push (r, 16 + 900, 7, 0, out);
  assert_out (out, 16, END);
  assert_stats (r, 0, 1, 0, 3 + 2 + 895);
  push (r, 16 + 897, 7, 0, out);
  assert_out (out, END);
  mcp_rtp_reorder_drain (r, out);
  assert_out (out, 913, 916, END);
  assert_stats (r, 0, 1, 1, 3 + 2 + 895 + 3);
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);
}

static void
test_expire (void)
{
  McpRtpReorder *r = reorder_new (32, 100);
  GPtrArray *out = g_ptr_array_new ();

  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 0, out), ==, G_MAXUINT64);
  push (r, 1, 7, 1000, out);
  assert_out (out, 1, END);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 1000, out), ==, G_MAXUINT64);
  push (r, 3, 7, 1010, out);
  push (r, 4, 7, 1020, out);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 1050, out), ==, 1110);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 1109, out), ==, 1110);
  assert_out (out, END);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 1110, out), ==, G_MAXUINT64);
  assert_out (out, 3, 4, END);
  assert_stats (r, 0, 0, 0, 1);

  /* the one that arrived first decides, and what precedes it goes too */
  push (r, 7, 7, 2000, out);
  push (r, 9, 7, 2010, out);
  push (r, 6, 7, 2050, out);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 2099, out), ==, 2100);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 2100, out), ==, 2110);
  assert_out (out, 6, 7, END);
  assert_stats (r, 0, 0, 1, 2);
  /* put out meanwhile: 8 closes the gap, nothing waits */
  push (r, 8, 7, 2105, out);
  assert_out (out, 8, 9, END);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 2105, out), ==, G_MAXUINT64);
  assert_stats (r, 0, 0, 2, 2);

  /* a clock that has not reached the arrival is not a reason */
  push (r, 11, 7, 5000, out);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 4000, out), ==, 5100);
  assert_out (out, END);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, 1000000, out), ==, G_MAXUINT64);
  assert_out (out, 11, END);
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);

  /* a delay that never ends */
  r = reorder_new (32, G_MAXUINT64);
  out = g_ptr_array_new ();
  push (r, 1, 7, 5, out);
  push (r, 3, 7, 6, out);
  g_assert_cmpuint (mcp_rtp_reorder_expire (r, G_MAXUINT64 - 1, out), ==,
      G_MAXUINT64);
  assert_out (out, 1, END);
  mcp_rtp_reorder_free (r);
  assert_destroyed (1, GPOINTER_TO_UINT (ITEM (3, 0)));
  g_ptr_array_unref (out);
}

static void
test_ssrc_change (void)
{
  McpRtpReorder *r = reorder_new (32, 100);
  GPtrArray *out = g_ptr_array_new ();

  push (r, 100, 7, 0, out);
  push (r, 102, 7, 0, out);
  push (r, 104, 7, 0, out);
  assert_out (out, 100, END);
  /* a new source: what was held goes first, then the new one starts */
  push (r, 5000, 8, 0, out);
  assert_out (out, 102, 104, 5000, END);
  assert_stats (r, 0, 0, 0, 2);
  /* an old packet of the new SSRC is late; of the old SSRC, a restart */
  push (r, 4999, 8, 0, out);
  assert_out (out, END);
  push (r, 101, 7, 0, out);
  assert_out (out, 101, END);
  push (r, 102, 7, 0, out);
  assert_out (out, 102, END);
  assert_stats (r, 0, 1, 0, 2);
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);
}

static void
test_restart_jump (void)
{
  McpRtpReorder *r = reorder_new (32, 100);
  GPtrArray *out = g_ptr_array_new ();

  push (r, 100, 7, 0, out);
  push (r, 102, 7, 0, out);
  assert_out (out, 100, END);
  /* 1000 ahead of the highest: a gap, given up */
  push (r, 1102, 7, 0, out);
  assert_out (out, 102, END);
  assert_stats (r, 0, 0, 0, 1 + 967);
  /* 1001 ahead: a restart; the gap before what was held is given up */
  push (r, 2103, 7, 0, out);
  assert_out (out, 1102, 2103, END);
  assert_stats (r, 0, 0, 0, 1 + 967 + 32);
  /* 1001 back: a restart too, then it goes on from there */
  push (r, 1102, 7, 0, out);
  assert_out (out, 1102, END);
  push (r, 1103, 7, 0, out);
  assert_out (out, 1103, END);
  /* and across the wrap */
  push (r, 65535, 7, 0, out);
  assert_out (out, 65535, END);
  push (r, 0, 7, 0, out);
  assert_out (out, 0, END);
  /* 1000 back is just late */
  push (r, 65536 - 1000, 7, 0, out);
  assert_out (out, END);
  assert_stats (r, 0, 1, 0, 1 + 967 + 32);
  push (r, 65536 - 1001, 7, 0, out);
  assert_out (out, 65536 - 1001, END);
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);
}

static void
test_drain_and_free (void)
{
  McpRtpReorder *r = reorder_new (16, 100);
  GPtrArray *out = g_ptr_array_new ();

  mcp_rtp_reorder_drain (r, out);
  assert_out (out, END);
  push (r, 10, 7, 0, out);
  push (r, 13, 7, 0, out);
  push (r, 12, 7, 0, out);
  push (r, 16, 7, 0, out);
  assert_out (out, 10, END);
  mcp_rtp_reorder_drain (r, out);
  assert_out (out, 12, 13, 16, END);
  assert_stats (r, 0, 0, 1, 3);
  /* the sequence goes on after the drain */
  push (r, 15, 7, 0, out);
  push (r, 17, 7, 0, out);
  assert_out (out, 17, END);
  push (r, 19, 7, 0, out);
  push (r, 20, 7, 0, out);
  assert_out (out, END);
  /* free gives the held ones to destroy */
  mcp_rtp_reorder_free (r);
  assert_destroyed (3, GPOINTER_TO_UINT (ITEM (15, 0)),
      GPOINTER_TO_UINT (ITEM (19, 0)), GPOINTER_TO_UINT (ITEM (20, 0)));
  g_ptr_array_unref (out);

  /* without destroy */
  r = mcp_rtp_reorder_new (1, 0, NULL);
  out = g_ptr_array_new ();
  push (r, 1, 7, 0, out);
  push (r, 1, 7, 0, out);
  push (r, 3, 7, 0, out);
  assert_out (out, 1, END);
  push (r, 4, 7, 0, out);
  assert_out (out, 3, 4, END);
  assert_stats (r, 1, 0, 0, 1);
  push (r, 6, 7, 0, out);
  mcp_rtp_reorder_free (r);
  mcp_rtp_reorder_free (NULL);
  g_ptr_array_unref (out);
}

/* A window of 1: a packet may wait only for the one just before it. */
static void
test_window_one (void)
{
  McpRtpReorder *r = reorder_new (1, 100);
  GPtrArray *out = g_ptr_array_new ();

  push (r, 1, 7, 0, out);
  push (r, 3, 7, 0, out);
  assert_out (out, 1, END);
  push (r, 2, 7, 0, out);
  assert_out (out, 2, 3, END);
  push (r, 5, 7, 0, out);
  push (r, 7, 7, 0, out);
  assert_out (out, 5, END);
  push (r, 6, 7, 0, out);
  assert_out (out, 6, 7, END);
  assert_stats (r, 0, 0, 2, 1);
  mcp_rtp_reorder_free (r);
  g_ptr_array_unref (out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rtp/parse/minimal", test_parse_minimal);
  g_test_add_func ("/rtp/parse/csrc-extension-padding",
      test_parse_csrc_extension_padding);
  g_test_add_func ("/rtp/parse/errors", test_parse_errors);
  g_test_add_func ("/rtp/reorder/in-order-wrap", test_in_order_wrap);
  g_test_add_func ("/rtp/reorder/swap", test_swap);
  g_test_add_func ("/rtp/reorder/duplicates", test_duplicates);
  g_test_add_func ("/rtp/reorder/window-full", test_window_full);
  g_test_add_func ("/rtp/reorder/window-one", test_window_one);
  g_test_add_func ("/rtp/reorder/expire", test_expire);
  g_test_add_func ("/rtp/reorder/ssrc-change", test_ssrc_change);
  g_test_add_func ("/rtp/reorder/restart-jump", test_restart_jump);
  g_test_add_func ("/rtp/reorder/drain-and-free", test_drain_and_free);

  return g_test_run ();
}
