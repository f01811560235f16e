/* mcastproxy fuzzing — the MPEG-TS tracker (mcp-ts).
 *
 * Input: byte 0 the options, then the stream:
 *   bits 0-2  TS packets a datagram, 1 to 8
 *   bit 3     raw: the stream is fed as it is, in datagrams of that many
 *             188-byte packets (the last one shorter), sync bytes and all;
 *             otherwise it is 187-byte packets without their sync byte,
 *             which the harness puts in front (a shorter rest is dropped)
 *   bit 4     reset the trackers halfway through
 *   bit 5     CRC: a section that starts and ends in one packet gets its
 *             CRC_32 made right, so that the fuzzer reaches past the check
 *
 * The same stream also goes packet by packet through a second tracker: the
 * random-access points, counters and PSI must be the same. Every offset
 * returned is -1 or a packet with its sync byte and PUSI set on the
 * random-access PID; the PSI is NULL or whole packets, the PAT's (PID 0)
 * first and the PMT's last, within the bounds.
 */
#include "config.h"

#include "mcp-ts.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define PKT MCP_TS_PACKET_SIZE

static guint
pid_of (const guint8 * p)
{
  return ((p[1] & 0x1F) << 8) | p[2];
}

/* The CRC_32 of a section wholly inside the payload of packet p made right. */
static void
fix_crc (guint8 * p)
{
  guint afc = (p[3] >> 4) & 3, pos = 4, len;
  guint32 crc;

  if (!(p[1] & 0x40) || !(afc & 1))
    return;
  if (afc & 2)
    pos = 5 + p[4];
  if (pos >= PKT)
    return;
  pos += 1 + p[pos];
  if (pos + 3 > PKT)
    return;
  len = 3 + (((p[pos + 1] & 0x0F) << 8) | p[pos + 2]);
  if (len < 7 || pos + len > PKT)
    return;
  crc = mcp_ts_crc32 (p + pos, len - 4);
  p[pos + len - 4] = crc >> 24;
  p[pos + len - 3] = crc >> 16;
  p[pos + len - 2] = crc >> 8;
  p[pos + len - 1] = crc;
}

static void
check_psi (McpTsTracker * t, McpTsTracker * each)
{
  GBytes *psi = mcp_ts_tracker_get_psi (t);
  GBytes *psi_each = mcp_ts_tracker_get_psi (each);
  const guint8 *d;
  gsize len, off;

  if (psi == NULL) {
    g_assert_null (psi_each);
    return;
  }
  g_assert_nonnull (psi_each);
  g_assert_true (g_bytes_equal (psi, psi_each));
  d = g_bytes_get_data (psi, &len);
  g_assert_cmpuint (len, >=, 2 * PKT);
  g_assert_cmpuint (len, <=, 2 * MCP_TS_MAX_SECTION_PACKETS * PKT);
  g_assert_cmpuint (len % PKT, ==, 0);
  for (off = 0; off < len; off += PKT)
    g_assert_cmphex (d[off], ==, 0x47);
  g_assert_cmpuint (pid_of (d), ==, 0);
  g_assert_cmpint (pid_of (d + len - PKT), ==, mcp_ts_tracker_get_pmt_pid (t));
  g_bytes_unref (psi);
  g_bytes_unref (psi_each);
}

static void
check_state (McpTsTracker * t, McpTsTracker * each)
{
  McpTsStats a, b;
  gint pmt_pid = mcp_ts_tracker_get_pmt_pid (t);
  gint rap_pid = mcp_ts_tracker_get_rap_pid (t, NULL);
  guint8 type_a, type_b;

  mcp_ts_tracker_get_stats (t, &a);
  mcp_ts_tracker_get_stats (each, &b);
  g_assert_cmpuint (a.packets, ==, b.packets);
  g_assert_cmpuint (a.raps, ==, b.raps);
  g_assert_cmpuint (a.pats, ==, b.pats);
  g_assert_cmpuint (a.pmts, ==, b.pmts);
  g_assert_cmpuint (a.bad_sections, ==, b.bad_sections);
  g_assert_cmpuint (a.not_ts, ==, b.not_ts);
  g_assert_cmpint (pmt_pid, ==, mcp_ts_tracker_get_pmt_pid (each));
  g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==,
      mcp_ts_tracker_get_program_number (each));
  g_assert_cmpint (rap_pid, ==, mcp_ts_tracker_get_rap_pid (t, &type_a));
  g_assert_cmpint (rap_pid, ==, mcp_ts_tracker_get_rap_pid (each, &type_b));
  g_assert_cmpuint (type_a, ==, type_b);
  g_assert_cmpint (mcp_ts_tracker_rap_is_video (t), ==,
      mcp_ts_tracker_rap_is_video (each));

  if (pmt_pid < 0) {
    g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==, -1);
    g_assert_cmpint (rap_pid, ==, -1);
  } else {
    g_assert_cmpint (pmt_pid, >=, 0x10);
    g_assert_cmpint (pmt_pid, <, 0x1FFF);
    g_assert_cmpint (mcp_ts_tracker_get_program_number (t), >, 0);
  }
  if (rap_pid >= 0) {
    g_assert_cmpint (rap_pid, >=, 0x10);
    g_assert_cmpint (rap_pid, <, 0x1FFF);
    g_assert_cmpint (rap_pid, !=, pmt_pid);
  } else {
    g_assert_false (mcp_ts_tracker_rap_is_video (t));
  }
  check_psi (t, each);
}

/* Feeds one datagram to t, and packet by packet to each. */
static void
feed (McpTsTracker * t, McpTsTracker * each, const guint8 * d, gsize len)
{
  McpTsStats before, after;
  gint rap_pid = mcp_ts_tracker_get_rap_pid (t, NULL);
  gssize r, first_each = -1;
  gsize off;

  mcp_ts_tracker_get_stats (t, &before);
  r = mcp_ts_tracker_feed (t, d, len);
  mcp_ts_tracker_get_stats (t, &after);
  if (!mcp_ts_is_ts (d, len)) {
    g_assert_cmpint (r, ==, -1);
    g_assert_cmpuint (after.not_ts, ==, before.not_ts + 1);
    g_assert_cmpuint (after.packets, ==, before.packets);
    g_assert_cmpint (mcp_ts_tracker_feed (each, d, len), ==, -1);
    return;
  }
  g_assert_cmpuint (after.packets, ==, before.packets + len / PKT);
  g_assert_cmpuint (after.raps - before.raps, <=, len / PKT);
  for (off = 0; off < len; off += PKT) {
    gssize one = mcp_ts_tracker_feed (each, d + off, PKT);

    g_assert_true (one == -1 || one == 0);
    if (one == 0 && first_each < 0)
      first_each = off;
  }
  g_assert_cmpint (r, ==, first_each);
  if (r < 0) {
    g_assert_cmpuint (after.raps, ==, before.raps);
    return;
  }
  g_assert_cmpuint (after.raps, >, before.raps);
  g_assert_cmpint (r % PKT, ==, 0);
  g_assert_cmpint (r, <, (gssize) len);
  g_assert_cmphex (d[r], ==, 0x47);
  g_assert_true (d[r + 1] & 0x40);
  g_assert_false (d[r + 1] & 0x80);
  /* the PID of the program then, unless a PMT came in between */
  if (after.pmts == before.pmts && after.pats == before.pats)
    g_assert_cmpint (pid_of (d + r), ==, rap_pid);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  McpTsTracker *t, *each;
  guint per_datagram;
  gboolean raw, reset, crc;
  GByteArray *stream;
  gsize off, half;
  McpTsStats st;

  if (size < 1)
    return 0;
  per_datagram = (data[0] & 7) + 1;
  raw = (data[0] & 0x08) != 0;
  reset = (data[0] & 0x10) != 0;
  crc = (data[0] & 0x20) != 0;
  data++;
  size--;

  stream = g_byte_array_new ();
  if (raw) {
    g_byte_array_append (stream, data, size);
  } else {
    for (off = 0; off + PKT - 1 <= size; off += PKT - 1) {
      guint8 p[PKT];

      p[0] = 0x47;
      memcpy (p + 1, data + off, PKT - 1);
      g_byte_array_append (stream, p, PKT);
    }
  }
  if (crc)
    for (off = 0; off + PKT <= stream->len; off += PKT)
      fix_crc (stream->data + off);

  t = mcp_ts_tracker_new ();
  each = mcp_ts_tracker_new ();
  check_state (t, each);
  half = stream->len / 2;
  for (off = 0; off < stream->len; off += per_datagram * PKT) {
    gsize n = MIN (per_datagram * PKT, stream->len - off);

    if (reset && off >= half) {
      mcp_ts_tracker_reset (t);
      mcp_ts_tracker_reset (each);
      mcp_ts_tracker_get_stats (t, &st);
      g_assert_cmpuint (st.packets + st.raps + st.pats + st.pmts
          + st.not_ts + st.bad_sections, ==, 0);
      g_assert_null (mcp_ts_tracker_get_psi (t));
      g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, -1);
      reset = FALSE;
    }
    feed (t, each, stream->data + off, n);
    check_state (t, each);
  }

  mcp_ts_tracker_free (t);
  mcp_ts_tracker_free (each);
  g_byte_array_unref (stream);
  return 0;
}
