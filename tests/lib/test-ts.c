/* mcastproxy — unit tests of the MPEG-TS analysis (mcp-ts).
 *
 * The streams are built here, packet by packet, after ISO/IEC 13818-1 (a
 * small multiplexer with its own CRC), and once from real encoders: ffmpeg
 * makes H.264, MPEG-2 and HEVC streams at test time, and what the tracker
 * cuts from them must decode.
 */
#include "config.h"

#include "mcp-ts.h"

#include <glib/gstdio.h>
#include <string.h>

#define PKT MCP_TS_PACKET_SIZE
#define PMT_PID 0x0100
#define VIDEO_PID 0x0101
#define AUDIO_PID 0x0102
#define PROGRAM 7

/* ---- a small multiplexer ----------------------------------------------- */

typedef struct
{
  GByteArray *ts;
  guint8 cc[0x2000];
} Mux;

static Mux *
mux_new (void)
{
  Mux *m = g_new0 (Mux, 1);

  m->ts = g_byte_array_new ();
  return m;
}

static void
mux_free (Mux * m)
{
  g_byte_array_unref (m->ts);
  g_free (m);
}

static guint
mux_n_packets (Mux * m)
{
  return m->ts->len / PKT;
}

/* One packet: an adaptation field (flags af_flags, stuffing) when af_flags
 * >= 0 or the payload is shorter than 184 bytes. */
static void
mux_packet (Mux * m, guint pid, gboolean pusi, gint af_flags,
    const guint8 * payload, guint len)
{
  guint8 p[PKT];
  guint pos = 4;

  p[0] = 0x47;
  p[1] = (pusi ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xFF;
  p[3] = m->cc[pid];
  if (af_flags < 0 && len == PKT - 4) {
    p[3] |= 0x10;
  } else {
    guint af_len = PKT - 5 - len;

    g_assert_cmpuint (len, <=, PKT - 5 - (af_flags >= 0));
    p[3] |= len ? 0x30 : 0x20;
    p[4] = af_len;
    if (af_len > 0) {
      p[5] = af_flags < 0 ? 0 : af_flags;
      memset (p + 6, 0xFF, MIN (af_len - 1, PKT - 6));
    }
    pos = 5 + af_len;
  }
  if (len > 0) {
    memcpy (p + pos, payload, len);
    m->cc[pid] = (m->cc[pid] + 1) & 0x0F;
  }
  g_byte_array_append (m->ts, p, PKT);
}

/* data in as many packets as it takes, the first one with PUSI set and
 * af_flags, the others with payload only (stuffed at the end). */
static void
mux_unit (Mux * m, guint pid, gint af_flags, const guint8 * data, guint len)
{
  guint off = 0;
  gboolean first = TRUE;

  while (off < len || first) {
    guint room = first && af_flags >= 0 ? PKT - 6 : PKT - 4;
    guint n = MIN (room, len - off);

    mux_packet (m, pid, first, first ? af_flags : -1, data + off, n);
    off += n;
    first = FALSE;
  }
}

/* A section with pointer_field 0. */
static void
mux_section (Mux * m, guint pid, GByteArray * section)
{
  GByteArray *b = g_byte_array_new ();
  guint8 zero = 0;

  g_byte_array_append (b, &zero, 1);
  g_byte_array_append (b, section->data, section->len);
  mux_unit (m, pid, -1, b->data, b->len);
  g_byte_array_unref (b);
}

/* A PES packet of video stream_id 0xE0 with a PTS. */
static void
mux_pes (Mux * m, guint pid, gint af_flags, const guint8 * es, guint len)
{
  static const guint8 head[] = { 0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 5,
    0x21, 0, 1, 0, 1
  };
  GByteArray *b = g_byte_array_new ();

  g_byte_array_append (b, head, sizeof (head));
  g_byte_array_append (b, es, len);
  mux_unit (m, pid, af_flags, b->data, b->len);
  g_byte_array_unref (b);
}

/* CRC32/MPEG-2, table-driven, written apart from the library's. */
static guint32
crc32_mpeg2 (const guint8 * data, gsize len)
{
  static guint32 table[256];
  guint32 crc = 0xFFFFFFFF;
  gsize i;

  if (table[1] == 0) {
    guint n, k;

    for (n = 0; n < 256; n++) {
      guint32 c = (guint32) n << 24;

      for (k = 0; k < 8; k++)
        c = (c << 1) ^ ((c >> 31) ? 0x04C11DB7 : 0);
      table[n] = c;
    }
  }
  for (i = 0; i < len; i++)
    crc = (crc << 8) ^ table[((crc >> 24) ^ data[i]) & 0xFF];
  return crc;
}

static GByteArray *
section_begin (guint8 table_id, guint16 id_ext, guint8 version)
{
  GByteArray *s = g_byte_array_new ();
  guint8 head[8] = { table_id, 0xB0, 0, id_ext >> 8, id_ext & 0xFF,
    0xC1 | (version << 1), 0, 0
  };

  g_byte_array_append (s, head, sizeof (head));
  return s;
}

static void
put_u16 (GByteArray * s, guint v)
{
  guint8 b[2] = { v >> 8, v & 0xFF };

  g_byte_array_append (s, b, 2);
}

/* Sets section_length and appends the CRC_32. */
static GByteArray *
section_end (GByteArray * s)
{
  guint32 crc;
  guint8 b[4];
  guint length = s->len + 4 - 3;

  s->data[1] = 0xB0 | (length >> 8);
  s->data[2] = length & 0xFF;
  crc = crc32_mpeg2 (s->data, s->len);
  b[0] = crc >> 24;
  b[1] = crc >> 16;
  b[2] = crc >> 8;
  b[3] = crc;
  g_byte_array_append (s, b, 4);
  return s;
}

/* programs: pairs of program_number, PMT PID, ending with -1. */
static GByteArray *
pat_section_v (guint8 version, const gint * programs)
{
  GByteArray *s = section_begin (0x00, 1, version);

  for (; *programs >= 0; programs += 2) {
    put_u16 (s, programs[0]);
    put_u16 (s, 0xE000 | programs[1]);
  }
  return section_end (s);
}

static GByteArray *
pat_section (guint program, guint pmt_pid)
{
  gint programs[] = { program, pmt_pid, -1 };

  return pat_section_v (0, programs);
}

/* streams: pairs of stream_type, PID, ending with -1; each stream gets
 * es_info bytes of descriptors (a registration descriptor padded). */
static GByteArray *
pmt_section_full (guint program, const gint * streams, guint es_info)
{
  GByteArray *s = section_begin (0x02, program, 0);
  guint8 info[1024];

  g_assert_cmpuint (es_info, <=, sizeof (info));
  memset (info, 0x5A, es_info);
  if (es_info >= 2) {
    info[0] = 0x05;
    info[1] = es_info - 2;
  }
  put_u16 (s, 0xE000 | (streams[0] >= 0 ? streams[1] : 0x1FFF));
  put_u16 (s, 0xF000);
  for (; *streams >= 0; streams += 2) {
    guint8 type = streams[0];

    g_byte_array_append (s, &type, 1);
    put_u16 (s, 0xE000 | streams[1]);
    put_u16 (s, 0xF000 | es_info);
    g_byte_array_append (s, info, es_info);
  }
  return section_end (s);
}

static GByteArray *
pmt_section (guint program, guint8 video_type, guint video_pid)
{
  gint streams[] = { video_type, video_pid, 0x0F, AUDIO_PID, -1 };

  return pmt_section_full (program, streams, 0);
}

static void
mux_take_section (Mux * m, guint pid, GByteArray * section)
{
  mux_section (m, pid, section);
  g_byte_array_unref (section);
}

/* PAT (program PROGRAM on PMT_PID) and PMT (video of video_type on
 * VIDEO_PID, AAC on AUDIO_PID). */
static void
mux_psi (Mux * m, guint8 video_type)
{
  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));
  mux_take_section (m, PMT_PID, pmt_section (PROGRAM, video_type, VIDEO_PID));
}

/* elementary stream units */
static const guint8 H264_IDR[] = { 0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x65,
  0x88, 0x84, 0x00
};

static const guint8 H264_SPS[] = { 0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x67,
  0x64, 0x00, 0x0C, 0, 0, 0, 1, 0x68, 0xEB, 0, 0, 1, 0x65, 0x88
};

static const guint8 H264_P[] = { 0, 0, 0, 1, 0x09, 0x30, 0, 0, 1, 0x06, 0x05,
  0x01, 0, 0, 1, 0x41, 0x9A, 0x21
};

/* ---- feeding ----------------------------------------------------------- */

/* Feeds the packets of m one by one; returns the indices of the ones that
 * were random-access points, as "3,7". */
static gchar *
feed_each (McpTsTracker * t, Mux * m, guint from)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = from; i < mux_n_packets (m); i++) {
    gssize r = mcp_ts_tracker_feed (t, m->ts->data + i * PKT, PKT);

    g_assert_true (r == -1 || r == 0);
    if (r == 0)
      g_string_append_printf (s, "%s%u", s->len ? "," : "", i);
  }
  return g_string_free (s, FALSE);
}

static void
assert_raps (McpTsTracker * t, Mux * m, guint from, const gchar * want)
{
  gchar *got = feed_each (t, m, from);

  g_assert_cmpstr (got, ==, want);
  g_free (got);
}

/* The PSI is exactly packets [first, first + n) of m, then [first2, first2
 * + n2). */
static void
assert_psi (McpTsTracker * t, Mux * m, guint first, guint n, guint first2,
    guint n2)
{
  GBytes *psi = mcp_ts_tracker_get_psi (t);
  gsize len;
  const guint8 *data;

  g_assert_nonnull (psi);
  data = g_bytes_get_data (psi, &len);
  g_assert_cmpuint (len, ==, (n + n2) * PKT);
  g_assert_cmpmem (data, n * PKT, m->ts->data + first * PKT, n * PKT);
  g_assert_cmpmem (data + n * PKT, n2 * PKT, m->ts->data + first2 * PKT,
      n2 * PKT);
  g_bytes_unref (psi);
}

static McpTsStats
stats_of (McpTsTracker * t)
{
  McpTsStats s;

  mcp_ts_tracker_get_stats (t, &s);
  return s;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_is_ts (void)
{
  guint8 buf[3 * PKT];

  memset (buf, 0, sizeof (buf));
  buf[0] = buf[PKT] = buf[2 * PKT] = 0x47;
  g_assert_true (mcp_ts_is_ts (buf, PKT));
  g_assert_true (mcp_ts_is_ts (buf, 3 * PKT));
  g_assert_false (mcp_ts_is_ts (buf, 0));
  g_assert_false (mcp_ts_is_ts (NULL, 0));
  g_assert_false (mcp_ts_is_ts (buf, 1));
  g_assert_false (mcp_ts_is_ts (buf, PKT - 1));
  g_assert_false (mcp_ts_is_ts (buf, PKT + 1));
  g_assert_false (mcp_ts_is_ts (buf, 3 * PKT - 1));
  buf[2 * PKT] = 0x48;
  g_assert_true (mcp_ts_is_ts (buf, 2 * PKT));
  g_assert_false (mcp_ts_is_ts (buf, 3 * PKT));
  /* a sync byte elsewhere does not help */
  buf[2 * PKT + 1] = 0x47;
  g_assert_false (mcp_ts_is_ts (buf, 3 * PKT));
}

static void
test_crc32 (void)
{
  GByteArray *pat = pat_section (1, 0x1000);

  /* the check value of CRC-32/MPEG-2 */
  g_assert_cmphex (mcp_ts_crc32 ((const guint8 *) "123456789", 9), ==,
      0x0376E6E7);
  g_assert_cmphex (mcp_ts_crc32 (NULL, 0), ==, 0xFFFFFFFF);
  /* ffmpeg's PAT for program 1 on PMT PID 0x1000 ends in 2A B1 04 B2 */
  g_assert_cmphex (mcp_ts_crc32 (pat->data, pat->len - 4), ==, 0x2AB104B2);
  g_assert_cmphex (mcp_ts_crc32 (pat->data, pat->len), ==, 0);
  g_byte_array_unref (pat);
}

static void
test_h264 (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  McpTsStats st;
  guint8 type;

  g_assert_null (mcp_ts_tracker_get_psi (t));
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, &type), ==, -1);
  g_assert_cmpuint (type, ==, 0);
  g_assert_false (mcp_ts_tracker_rap_is_video (t));

  /* 0: an IDR before any PSI */
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));
  /* 1: PAT; 2: an IDR with a PAT only */
  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));
  /* 3: PMT */
  mux_take_section (m, PMT_PID, pmt_section (PROGRAM, 0x1B, VIDEO_PID));
  /* 4: P; 5: IDR; 6: audio; 7: SPS, PPS, IDR; 8: P with RAI; 9: P */
  mux_pes (m, VIDEO_PID, -1, H264_P, sizeof (H264_P));
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));
  mux_pes (m, AUDIO_PID, 0x40, (const guint8 *) "\xff\xf1", 2);
  mux_pes (m, VIDEO_PID, -1, H264_SPS, sizeof (H264_SPS));
  mux_pes (m, VIDEO_PID, 0x40, H264_P, sizeof (H264_P));
  mux_pes (m, VIDEO_PID, -1, H264_P, sizeof (H264_P));
  /* 10: RAI without PUSI; 11: a null packet with PUSI and RAI */
  mux_packet (m, VIDEO_PID, FALSE, 0x40, H264_IDR, sizeof (H264_IDR));
  mux_packet (m, 0x1FFF, TRUE, 0x40, H264_IDR, sizeof (H264_IDR));
  /* 12: PUSI and RAI, no payload */
  mux_packet (m, VIDEO_PID, TRUE, 0x40, NULL, 0);

  assert_raps (t, m, 0, "5,7,8");
  assert_psi (t, m, 1, 1, 3, 1);
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, PMT_PID);
  g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==, PROGRAM);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, &type), ==, VIDEO_PID);
  g_assert_cmpuint (type, ==, 0x1B);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, NULL), ==, VIDEO_PID);
  g_assert_true (mcp_ts_tracker_rap_is_video (t));
  st = stats_of (t);
  g_assert_cmpuint (st.packets, ==, 13);
  g_assert_cmpuint (st.raps, ==, 3);
  g_assert_cmpuint (st.pats, ==, 1);
  g_assert_cmpuint (st.pmts, ==, 1);
  g_assert_cmpuint (st.bad_sections, ==, 0);
  g_assert_cmpuint (st.not_ts, ==, 0);

  /* reset: as new */
  mcp_ts_tracker_reset (t);
  g_assert_null (mcp_ts_tracker_get_psi (t));
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, NULL), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, -1);
  st = stats_of (t);
  g_assert_cmpuint (st.packets + st.raps + st.pats + st.pmts, ==, 0);
  assert_raps (t, m, 4, "");
  assert_raps (t, m, 1, "5,7,8");

  mux_free (m);
  mcp_ts_tracker_free (t);
  mcp_ts_tracker_free (NULL);
}

/* Several packets a datagram: the offset of the first random-access point,
 * and PSI learnt earlier in the same datagram counts. */
static void
test_offsets (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  guint8 junk[PKT * 2];

  mux_psi (m, 0x1B);            /* 0, 1 */
  mux_pes (m, VIDEO_PID, -1, H264_P, sizeof (H264_P));  /* 2 */
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));      /* 3 */
  mux_pes (m, VIDEO_PID, -1, H264_P, sizeof (H264_P));  /* 4 */
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));      /* 5 */
  mux_pes (m, VIDEO_PID, -1, H264_P, sizeof (H264_P));  /* 6 */

  g_assert_cmpint (mcp_ts_tracker_feed (t, m->ts->data, 7 * PKT), ==, 3 * PKT);
  g_assert_cmpuint (stats_of (t).raps, ==, 2);
  g_assert_cmpint (mcp_ts_tracker_feed (t, m->ts->data + 4 * PKT, 3 * PKT),
      ==, PKT);
  g_assert_cmpint (mcp_ts_tracker_feed (t, m->ts->data + 6 * PKT, PKT), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_feed (t, m->ts->data + 5 * PKT, PKT), ==, 0);

  /* not TS: ignored */
  memcpy (junk, m->ts->data + 5 * PKT, PKT);
  memcpy (junk + PKT, m->ts->data + 5 * PKT, PKT);
  g_assert_cmpint (mcp_ts_tracker_feed (t, junk, PKT - 1), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_feed (t, junk, PKT + 1), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_feed (t, junk, 0), ==, -1);
  junk[PKT] = 0x00;
  g_assert_cmpint (mcp_ts_tracker_feed (t, junk, 2 * PKT), ==, -1);
  g_assert_cmpuint (stats_of (t).not_ts, ==, 4);
  g_assert_cmpuint (stats_of (t).packets, ==, 12);
  g_assert_cmpuint (stats_of (t).raps, ==, 4);

  mux_free (m);
  mcp_ts_tracker_free (t);
}

typedef struct
{
  guint8 stream_type;
  const gchar *es;              /* hex */
  gboolean key;
} CodecCase;

static const CodecCase codec_cases[] = {
  /* H.264: IDR; SPS; after AUD and SEI; a P slice first; PPS only */
  {0x1B, "0000000165888400", TRUE},
  {0x1B, "00000001676400", TRUE},
  {0x1B, "000000010910000001060501000001658884", TRUE},
  {0x1B, "00000001419a0000000165", FALSE},
  {0x1B, "0000000168eb", FALSE},
  {0x1B, "00000000", FALSE},
  /* the start code split at the end of the packet's payload */
  {0x1B, "000001", FALSE},
  /* SVC and MVC streams as H.264 */
  {0x1F, "0000000165", TRUE},
  {0x20, "0000000141", FALSE},
  /* HEVC: IDR_W_RADL, IDR_N_LP, CRA, BLA_W_LP, VPS (after an AUD); TRAIL_R,
   * RASL_N, SPS only */
  {0x24, "000000012601af", TRUE},
  {0x24, "000000012801af", TRUE},
  {0x24, "000000012a01af", TRUE},
  {0x24, "000000012001af", TRUE},
  {0x24, "00000001460150000000014001", TRUE},
  {0x24, "000000010201d0", FALSE},
  {0x24, "000000011001d0", FALSE},
  {0x24, "00000001420101", FALSE},
  /* MPEG-2 and MPEG-1: sequence header; GOP header then picture; picture */
  {0x02, "000001b30a0078", TRUE},
  {0x01, "000001b30a0078", TRUE},
  {0x02, "000001b800080000000100000f", FALSE},
  {0x02, "000001000057", FALSE},
  /* MPEG-4 part 2: VOS; VOL; I-VOP; P-VOP; a VOP cut after its code */
  {0x10, "000001b001", TRUE},
  {0x10, "0000012000", TRUE},
  {0x10, "000001b61234", TRUE},
  {0x10, "000001b65234", FALSE},
  {0x10, "000001b6", FALSE},
  /* AVS: sequence header; I picture; PB picture */
  {0x42, "000001b020", TRUE},
  {0x42, "000001b300", TRUE},
  {0x42, "000001b600", FALSE},
  /* VC-1: sequence header; entry point; frame */
  {0xEA, "0000010fca", TRUE},
  {0xEA, "0000010e48", TRUE},
  {0xEA, "0000010d00", FALSE},
};

static void
test_codecs (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (codec_cases); i++) {
    const CodecCase *c = &codec_cases[i];
    McpTsTracker *t = mcp_ts_tracker_new ();
    Mux *m = mux_new ();
    guint8 *es, type;
    gsize len;

    es = g_malloc (strlen (c->es) / 2 + 1);
    for (len = 0; c->es[2 * len]; len++)
      es[len] = g_ascii_xdigit_value (c->es[2 * len]) << 4 |
          g_ascii_xdigit_value (c->es[2 * len + 1]);
    mux_psi (m, c->stream_type);
    mux_pes (m, VIDEO_PID, -1, es, len);
    /* the same with RAI: always a random-access point */
    mux_pes (m, VIDEO_PID, 0x40, es, len);
    g_test_message ("case %u: %02x %s", i, c->stream_type, c->es);
    assert_raps (t, m, 0, c->key ? "2,3" : "3");
    g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, &type), ==, VIDEO_PID);
    g_assert_cmpuint (type, ==, c->stream_type);
    g_assert_true (mcp_ts_tracker_rap_is_video (t));
    g_free (es);
    mux_free (m);
    mcp_ts_tracker_free (t);
  }
}

/* Without video, every PES start of the first stream that carries PES. */
static void
test_no_video (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  gint streams[] = { 0x86, 0x0200, 0x05, 0x0201, 0x03, AUDIO_PID, 0x0F,
    0x0202, -1
  };
  guint8 type;

  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));
  mux_take_section (m, PMT_PID, pmt_section_full (PROGRAM, streams, 0));
  mux_pes (m, 0x0200, -1, (const guint8 *) "\xfc", 1);  /* 2 */
  mux_pes (m, 0x0201, -1, (const guint8 *) "\x00", 1);  /* 3 */
  mux_pes (m, AUDIO_PID, -1, (const guint8 *) "\xff\xfb", 2);   /* 4 */
  mux_packet (m, AUDIO_PID, FALSE, -1, (const guint8 *) "ab", 2);       /* 5 */
  mux_pes (m, 0x0202, -1, (const guint8 *) "\xff\xf1", 2);      /* 6 */
  mux_pes (m, AUDIO_PID, -1, (const guint8 *) "\xff\xfb", 2);   /* 7 */
  /* the start of a PES is not looked at */
  mux_packet (m, AUDIO_PID, TRUE, -1, (const guint8 *) "xy", 2);        /* 8 */

  assert_raps (t, m, 0, "4,7,8");
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, &type), ==, AUDIO_PID);
  g_assert_cmpuint (type, ==, 0x03);
  g_assert_false (mcp_ts_tracker_rap_is_video (t));
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* A PMT with nothing usable: PSI, but no random-access point. */
static void
test_no_streams (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  /* reserved PIDs, the PMT's own PID, sections only */
  gint streams[] = { 0x1B, 0x0001, 0x1B, 0x1FFF, 0x1B, PMT_PID, 0x86, 0x0200,
    -1
  };
  gint none[] = { -1 };

  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));
  mux_take_section (m, PMT_PID, pmt_section_full (PROGRAM, streams, 0));
  mux_pes (m, 0x0200, 0x40, H264_IDR, sizeof (H264_IDR));
  mux_pes (m, 0x1FFF, 0x40, H264_IDR, sizeof (H264_IDR));
  mux_pes (m, 0x0001, 0x40, H264_IDR, sizeof (H264_IDR));
  assert_raps (t, m, 0, "");
  assert_psi (t, m, 0, 1, 1, 1);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, NULL), ==, -1);
  g_assert_false (mcp_ts_tracker_rap_is_video (t));

  /* an empty PMT */
  mux_take_section (m, PMT_PID, pmt_section_full (PROGRAM, none, 0));
  assert_raps (t, m, 5, "");
  assert_psi (t, m, 0, 1, 5, 1);
  g_assert_cmpuint (stats_of (t).pmts, ==, 2);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* Program 0 (the network PID) and reserved PIDs are skipped; the first
 * program listed after them is followed. */
static void
test_pat_programs (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  gint programs[] = { 0, 0x0010, 3, 0x000F, 4, 0x1FFF, PROGRAM, PMT_PID,
    9, 0x0300, -1
  };
  gint none[] = { 0, 0x0010, -1 };

  mux_take_section (m, 0, pat_section_v (0, programs));
  mux_take_section (m, 0x0300, pmt_section (9, 0x1B, 0x0301));
  mux_take_section (m, 0x0010, pmt_section (0, 0x1B, 0x0301));
  mux_pes (m, 0x0301, 0x40, H264_IDR, sizeof (H264_IDR));
  assert_raps (t, m, 0, "");
  g_assert_null (mcp_ts_tracker_get_psi (t));
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, PMT_PID);
  g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==, PROGRAM);
  g_assert_cmpuint (stats_of (t).pats, ==, 1);
  g_assert_cmpuint (stats_of (t).pmts, ==, 0);

  /* a PMT of another program on our PMT PID is not ours */
  mux_take_section (m, PMT_PID, pmt_section (9, 0x1B, 0x0301)); /* 4 */
  mux_take_section (m, PMT_PID, pmt_section (PROGRAM, 0x1B, VIDEO_PID));
  mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));    /* 6 */
  assert_raps (t, m, 4, "6");
  assert_psi (t, m, 0, 1, 5, 1);
  g_assert_cmpuint (stats_of (t).pmts, ==, 1);

  /* a PAT without programs: the PMT goes */
  mux_take_section (m, 0, pat_section_v (1, none));     /* 7 */
  mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));
  mux_take_section (m, PMT_PID, pmt_section (PROGRAM, 0x1B, VIDEO_PID));
  assert_raps (t, m, 7, "");
  g_assert_null (mcp_ts_tracker_get_psi (t));
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==, -1);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, NULL), ==, -1);
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 0);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* A new PAT moving the PMT, a new PMT moving the video: both take effect;
 * the latest PSI is what get_psi returns. */
static void
test_changes (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();

  mux_psi (m, 0x1B);            /* 0, 1 */
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));      /* 2 */
  /* the same PAT and PMT again: the latest are kept */
  mux_psi (m, 0x1B);            /* 3, 4 */
  assert_raps (t, m, 0, "2");
  assert_psi (t, m, 3, 1, 4, 1);

  /* the video moves to 0x0400 and becomes HEVC */
  mux_take_section (m, PMT_PID, pmt_section (PROGRAM, 0x24, 0x0400));   /* 5 */
  mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));    /* 6 */
  mux_pes (m, 0x0400, -1, H264_IDR, sizeof (H264_IDR)); /* 7: not HEVC key */
  mux_pes (m, 0x0400, -1, (const guint8 *) "\0\0\1\x26\1", 5);  /* 8 */
  assert_raps (t, m, 5, "8");
  assert_psi (t, m, 3, 1, 5, 1);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, NULL), ==, 0x0400);

  /* the PMT moves to 0x0500 (program 8): nothing until its PMT comes */
  mux_take_section (m, 0, pat_section (8, 0x0500));     /* 9 */
  mux_pes (m, 0x0400, 0x40, H264_IDR, sizeof (H264_IDR));       /* 10 */
  mux_take_section (m, PMT_PID, pmt_section (PROGRAM, 0x1B, VIDEO_PID));        /* 11 */
  mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));    /* 12 */
  assert_raps (t, m, 9, "");
  g_assert_null (mcp_ts_tracker_get_psi (t));
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, 0x0500);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, NULL), ==, -1);
  mux_take_section (m, 0x0500, pmt_section (8, 0x02, 0x0501));  /* 13 */
  mux_pes (m, 0x0501, -1, (const guint8 *) "\0\0\1\xb3", 4);    /* 14 */
  mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));    /* 15 */
  assert_raps (t, m, 13, "14");
  assert_psi (t, m, 9, 1, 13, 1);

  /* the same PMT PID, another program number: the PMT goes too */
  mux_take_section (m, 0, pat_section (9, 0x0500));     /* 16 */
  assert_raps (t, m, 16, "");
  g_assert_null (mcp_ts_tracker_get_psi (t));
  g_assert_cmpint (mcp_ts_tracker_get_program_number (t), ==, 9);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* A PMT over three packets, kept as received; a gap in the continuity
 * counter, a missing start, a section too long in packets. */
static void
test_long_sections (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  gint streams[] = { 0x1B, VIDEO_PID, 0x0F, AUDIO_PID, -1 };
  GByteArray *big = pmt_section_full (PROGRAM, streams, 200);
  GByteArray *b;
  guint i;
  guint8 zero = 0;

  g_assert_cmpuint (big->len, >, 2 * 184);
  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));
  mux_section (m, PMT_PID, big);        /* 1, 2, 3 */
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));      /* 4 */
  assert_raps (t, m, 0, "4");
  assert_psi (t, m, 0, 1, 1, 3);

  /* the middle packet lost: the PMT before stays */
  mux_section (m, PMT_PID, big);        /* 5, 6, 7 */
  g_byte_array_remove_range (m->ts, 6 * PKT, PKT);
  assert_raps (t, m, 5, "");
  assert_psi (t, m, 0, 1, 1, 3);
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 1);
  g_assert_cmpuint (stats_of (t).pmts, ==, 1);

  /* the middle packet twice: a duplicate is skipped */
  b = g_byte_array_new ();
  g_byte_array_append (b, m->ts->data, m->ts->len);
  g_byte_array_set_size (m->ts, 4 * PKT);
  for (i = 1; i <= 3; i++) {
    g_assert_cmpint (mcp_ts_tracker_feed (t, b->data + i * PKT, PKT), ==, -1);
    if (i == 2)
      g_assert_cmpint (mcp_ts_tracker_feed (t, b->data + i * PKT, PKT), ==, -1);
  }
  g_assert_cmpuint (stats_of (t).pmts, ==, 2);
  assert_psi (t, m, 0, 1, 1, 3);
  g_byte_array_unref (b);

  /* the tail alone: ignored, not an error */
  g_byte_array_set_size (m->ts, 0);
  mux_section (m, PMT_PID, big);
  assert_raps (t, m, 1, "");
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 1);

  /* one byte a packet (the pointer_field and one at first): too many */
  g_byte_array_set_size (m->ts, 0);
  g_byte_array_unref (big);
  big = pmt_section (PROGRAM, 0x1B, VIDEO_PID);
  g_byte_array_prepend (big, &zero, 1);
  g_assert_cmpuint (big->len, >, MCP_TS_MAX_SECTION_PACKETS + 1);
  mux_packet (m, PMT_PID, TRUE, -1, big->data, 2);
  for (i = 2; i < big->len; i++)
    mux_packet (m, PMT_PID, FALSE, -1, big->data + i, 1);
  assert_raps (t, m, 0, "");
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 2);
  g_assert_cmpuint (stats_of (t).pmts, ==, 2);
  /* in 16 it is fine */
  g_byte_array_set_size (m->ts, 0);
  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));
  mux_packet (m, PMT_PID, TRUE, -1, big->data, big->len - 15);
  for (i = big->len - 15; i < big->len; i++)
    mux_packet (m, PMT_PID, FALSE, -1, big->data + i, 1);
  assert_raps (t, m, 0, "");
  g_assert_cmpuint (stats_of (t).pmts, ==, 3);
  g_assert_cmpuint (stats_of (t).pats, ==, 2);
  assert_psi (t, m, 0, 1, 1, 16);
  g_byte_array_unref (big);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* pointer_field: a section that ends in the packet where the next starts,
 * two sections in one packet, stuffing, a pointer beyond the payload. */
static void
test_pointer_field (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  gint streams[] = { 0x1B, VIDEO_PID, -1 };
  GByteArray *pmt = pmt_section_full (PROGRAM, streams, 170);
  GByteArray *pmt2 = pmt_section (PROGRAM, 0x1B, 0x0600);
  GByteArray *pat = pat_section (PROGRAM, PMT_PID);
  GByteArray *b = g_byte_array_new ();
  guint tail, first_len;
  guint8 byte;

  mux_take_section (m, 0, pat_section (PROGRAM, PMT_PID));      /* 0 */
  /* 1: pointer 0, the first 183 bytes of pmt */
  first_len = PKT - 5;
  tail = pmt->len - first_len;
  byte = 0;
  g_byte_array_append (b, &byte, 1);
  g_byte_array_append (b, pmt->data, first_len);
  mux_packet (m, PMT_PID, TRUE, -1, b->data, b->len);
  /* 2: pointer to after the tail of pmt, then pmt2, then stuffing */
  g_byte_array_set_size (b, 0);
  byte = tail;
  g_byte_array_append (b, &byte, 1);
  g_byte_array_append (b, pmt->data + first_len, tail);
  g_byte_array_append (b, pmt2->data, pmt2->len);
  byte = 0xFF;
  g_byte_array_append (b, &byte, 1);
  g_byte_array_append (b, &byte, 1);
  mux_packet (m, PMT_PID, TRUE, -1, b->data, b->len);
  mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));    /* 3 */
  mux_pes (m, 0x0600, 0x40, H264_IDR, sizeof (H264_IDR));       /* 4 */
  assert_raps (t, m, 0, "4");
  g_assert_cmpuint (stats_of (t).pmts, ==, 2);
  /* pmt2 lies in packet 2 alone */
  assert_psi (t, m, 0, 1, 2, 1);

  /* a PAT and a PMT of one PID in one packet, and the PAT twice */
  g_byte_array_set_size (m->ts, 0);
  g_byte_array_set_size (b, 0);
  byte = 0;
  g_byte_array_append (b, &byte, 1);
  g_byte_array_append (b, pat->data, pat->len);
  g_byte_array_append (b, pat->data, pat->len);
  mux_packet (m, 0, TRUE, -1, b->data, b->len);
  assert_raps (t, m, 0, "");
  g_assert_cmpuint (stats_of (t).pats, ==, 3);

  /* pointer_field beyond the payload; the tail of a section never begun */
  g_byte_array_set_size (m->ts, 0);
  g_byte_array_set_size (b, 0);
  byte = PKT - 5;
  g_byte_array_append (b, &byte, 1);
  g_byte_array_append (b, pmt2->data, pmt2->len);
  mux_packet (m, PMT_PID, TRUE, -1, b->data, b->len);
  g_byte_array_set_size (b, 0);
  g_byte_array_append (b, (const guint8 *) "\3\xaa\xbb\xcc", 4);
  g_byte_array_append (b, pmt2->data, pmt2->len);
  mux_packet (m, PMT_PID, TRUE, -1, b->data, b->len);
  assert_raps (t, m, 0, "");
  g_assert_cmpuint (stats_of (t).pmts, ==, 3);
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 1);

  /* a section that is not complete where the next one starts */
  g_byte_array_set_size (m->ts, 0);
  g_byte_array_set_size (b, 0);
  byte = 0;
  g_byte_array_append (b, &byte, 1);
  g_byte_array_append (b, pmt->data, first_len);
  mux_packet (m, PMT_PID, TRUE, -1, b->data, b->len);
  b->data[0] = 1;
  b->data[1] = 0xEE;
  g_byte_array_append (b, pmt->data, first_len - 1);
  g_byte_array_remove_range (b, 2, first_len - 1);
  mux_packet (m, PMT_PID, TRUE, -1, b->data, b->len);
  assert_raps (t, m, 0, "");
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 2);
  g_assert_cmpuint (stats_of (t).pmts, ==, 3);

  g_byte_array_unref (b);
  g_byte_array_unref (pat);
  g_byte_array_unref (pmt);
  g_byte_array_unref (pmt2);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* Feeds section s (taken) on pid and checks that it was dropped, counted
 * n_bad times; recrc: its CRC_32 made anew first. */
static void
feed_bad (McpTsTracker * t, guint pid, GByteArray * s, gboolean recrc,
    guint n_bad)
{
  Mux *m = mux_new ();
  McpTsStats before = stats_of (t), after;

  if (recrc) {
    g_byte_array_set_size (s, s->len - 4);
    section_end (s);
  }
  mux_take_section (m, pid, s);
  assert_raps (t, m, 0, "");
  after = stats_of (t);
  g_assert_cmpuint (after.bad_sections - before.bad_sections, ==, n_bad);
  g_assert_cmpuint (after.pats, ==, before.pats);
  g_assert_cmpuint (after.pmts, ==, before.pmts);
  mux_free (m);
}

/* Broken sections are ignored, and the PSI before them stays. */
static void
test_bad_sections (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  GByteArray *s;
  guint8 *p;
  gint one_stream[] = { 0x1B, 0x0700, -1 };

  mux_psi (m, 0x1B);            /* 0, 1 */
  assert_raps (t, m, 0, "");

  /* each a PMT that would move the video to 0x0700 */
#define BAD_PMT(edit) G_STMT_START { \
    s = pmt_section_full (PROGRAM, one_stream, 0); \
    p = s->data; \
    edit; \
  } G_STMT_END
  /* the CRC wrong */
  BAD_PMT (p[s->len - 1] ^= 1);
  feed_bad (t, PMT_PID, s, FALSE, 1);
  /* a byte of the body changed */
  BAD_PMT (p[12] ^= 0x10);
  feed_bad (t, PMT_PID, s, FALSE, 1);
  /* section_syntax_indicator 0 */
  BAD_PMT (p[1] &= 0x7F);
  feed_bad (t, PMT_PID, s, FALSE, 1);
  /* section_length beyond the 1021 allowed */
  BAD_PMT (p[1] |= 0x0F);
  feed_bad (t, PMT_PID, s, FALSE, 1);
  /* section_length too short for a header and a CRC: what follows it in
   * the packet is taken for another section (table_id 0x0F) and fails too */
  BAD_PMT ((p[1] &= 0xF0, p[2] = 8));
  feed_bad (t, PMT_PID, s, FALSE, 2);
  /* section_number not 0 */
  BAD_PMT (p[6] = 1);
  feed_bad (t, PMT_PID, s, TRUE, 1);
  /* program_info_length beyond the section */
  BAD_PMT ((p[10] = 0xF0, p[11] = 0x20));
  feed_bad (t, PMT_PID, s, TRUE, 1);
  /* ES_info_length beyond the section */
  BAD_PMT (p[16] = 0x06);
  feed_bad (t, PMT_PID, s, TRUE, 1);
  /* a stream entry cut short */
  BAD_PMT (g_byte_array_set_size (s, s->len - 1));
  feed_bad (t, PMT_PID, s, TRUE, 1);
  /* a PAT whose program loop is not a multiple of 4 */
  s = pat_section (PROGRAM, 0x0800);
  g_byte_array_set_size (s, s->len - 1);
  feed_bad (t, 0, s, TRUE, 1);
#undef BAD_PMT

  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));
  mux_pes (m, 0x0700, 0x40, H264_IDR, sizeof (H264_IDR));
  assert_raps (t, m, 2, "2");
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 11);
  g_assert_cmpuint (stats_of (t).pmts, ==, 1);
  g_assert_cmpuint (stats_of (t).pats, ==, 1);
  assert_psi (t, m, 0, 1, 1, 1);

  /* not applicable yet (current_next_indicator 0), or another table: not
   * taken, not an error */
  g_byte_array_set_size (m->ts, 0);
  s = pmt_section_full (PROGRAM, one_stream, 0);
  s->data[5] &= ~1;
  g_byte_array_set_size (s, s->len - 4);
  mux_take_section (m, PMT_PID, section_end (s));
  s = pmt_section_full (PROGRAM, one_stream, 0);
  s->data[0] = 0x03;
  g_byte_array_set_size (s, s->len - 4);
  mux_take_section (m, PMT_PID, section_end (s));
  s = pat_section (PROGRAM, 0x0800);
  s->data[0] = 0x01;
  g_byte_array_set_size (s, s->len - 4);
  mux_take_section (m, 0, section_end (s));
  /* a PAT's section 1: only section 0 is used */
  s = pat_section (PROGRAM, 0x0800);
  s->data[6] = 1;
  s->data[7] = 1;
  g_byte_array_set_size (s, s->len - 4);
  mux_take_section (m, 0, section_end (s));
  mux_pes (m, VIDEO_PID, -1, H264_IDR, sizeof (H264_IDR));
  assert_raps (t, m, 0, "4");
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 11);
  g_assert_cmpuint (stats_of (t).pmts, ==, 1);
  g_assert_cmpuint (stats_of (t).pats, ==, 1);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* Broken packets: ignored. */
static void
test_bad_packets (void)
{
  McpTsTracker *t = mcp_ts_tracker_new ();
  Mux *m = mux_new ();
  guint8 *p;
  guint i;

  mux_psi (m, 0x1B);            /* 0, 1 */
  for (i = 0; i < 7; i++)
    mux_pes (m, VIDEO_PID, 0x40, H264_IDR, sizeof (H264_IDR));  /* 2-8 */
  /* 2: adaptation_field_length 183 with a payload */
  p = m->ts->data + 2 * PKT;
  p[4] = 183;
  /* 3: adaptation_field_length 184 without one */
  p = m->ts->data + 3 * PKT;
  p[3] = (p[3] & 0xCF) | 0x20;
  p[4] = 184;
  /* 4: transport_error_indicator */
  m->ts->data[4 * PKT + 1] |= 0x80;
  /* 5: adaptation_field_control 0 (reserved) */
  m->ts->data[5 * PKT + 3] &= 0xCF;
  /* 6: scrambled with RAI: still one */
  m->ts->data[6 * PKT + 3] |= 0x80;
  /* 7: scrambled without RAI: the payload is not read */
  m->ts->data[7 * PKT + 3] |= 0xC0;
  m->ts->data[7 * PKT + 5] = 0;
  /* 8: adaptation field of length 0, RAI not there */
  p = m->ts->data + 8 * PKT;
  mux_pes (m, VIDEO_PID, -1, H264_P, sizeof (H264_P));  /* 9 */
  memmove (p + 5, m->ts->data + 9 * PKT + 5, PKT - 5);
  p[4] = 0;
  /* 10: a PES header cut short; 11: PES_header_data_length too long;
   * 12: not a PES start code; 13: no optional header (padding stream) */
  mux_packet (m, VIDEO_PID, TRUE, -1, (const guint8 *) "\0\0\1\xe0\0\0\x80", 7);
  mux_packet (m, VIDEO_PID, TRUE, -1,
      (const guint8 *) "\0\0\1\xe0\0\0\x80\x80\xff\0\0\0\1\x65", 14);
  mux_packet (m, VIDEO_PID, TRUE, -1,
      (const guint8 *) "\0\1\1\xe0\0\0\x80\x80\0\0\0\0\1\x65", 14);
  mux_packet (m, VIDEO_PID, TRUE, -1,
      (const guint8 *) "\0\0\1\xbe\0\0\0\0\0\1\x65", 11);
  /* 14: the marker bits of the PES header wrong */
  mux_packet (m, VIDEO_PID, TRUE, -1,
      (const guint8 *) "\0\0\1\xe0\0\0\x40\x80\0\0\0\0\1\x65", 14);
  assert_raps (t, m, 0, "6,13");
  g_assert_cmpuint (stats_of (t).packets, ==, 15);
  mux_free (m);
  mcp_ts_tracker_free (t);
}

/* ---- streams from ffmpeg ---------------------------------------------- */

static gboolean
have_program (const gchar * name)
{
  gchar *path = g_find_program_in_path (name);
  gboolean found = path != NULL;

  g_free (path);
  return found;
}

/* Runs argv; TRUE when it exited 0 with nothing on stderr. */
static gboolean
run (const gchar * const *argv, gchar ** out)
{
  GError *err = NULL;
  gchar *errout = NULL;
  gint status;
  gboolean ok;

  ok = g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
      NULL, out, &errout, &status, &err);
  g_assert_no_error (err);
  if (errout && *errout)
    g_test_message ("%s: %s", argv[0], errout);
  ok = ok && g_spawn_check_wait_status (status, NULL) && !(errout && *errout);
  g_free (errout);
  return ok;
}

typedef struct
{
  const gchar *codec;
  guint8 stream_type;
  /* frames decoded from the second random-access point to the end */
  gint frames_after_cut;
} FfmpegCase;

static void
test_ffmpeg (gconstpointer data)
{
  const FfmpegCase *c = data;
  gchar *dir, *in, *cut, *contents, *out = NULL;
  gsize len, off, cut_at = 0;
  McpTsTracker *t;
  GBytes *psi;
  const guint8 *psi_data;
  gsize psi_len, i;
  guint n_raps = 0, first_video = G_MAXUINT;
  GByteArray *b;
  guint8 type;
  GError *err = NULL;

  if (!have_program ("ffmpeg") || !have_program ("ffprobe")) {
    g_test_skip ("ffmpeg is not installed");
    return;
  }
  dir = g_dir_make_tmp ("test-ts-XXXXXX", &err);
  g_assert_no_error (err);
  in = g_build_filename (dir, "in.ts", NULL);
  cut = g_build_filename (dir, "cut.ts", NULL);
  {
    const gchar *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-f",
      "lavfi", "-i", "testsrc=size=160x120:rate=25", "-frames:v", "100",
      "-c:v", c->codec, "-g", "25", "-sc_threshold", "0", "-f", "mpegts",
      /* x265 logs at info level otherwise */
      "-x265-params", "log-level=error", NULL, NULL
    };
    guint last = G_N_ELEMENTS (argv) - 2;

    if (strcmp (c->codec, "libx265") != 0)
      last -= 2;
    argv[last] = in;
    argv[last + 1] = NULL;
    g_assert_true (run (argv, NULL));
  }
  g_assert_true (g_file_get_contents (in, &contents, &len, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (len % PKT, ==, 0);

  /* as over UDP: 7 packets a datagram (the last one shorter) */
  t = mcp_ts_tracker_new ();
  for (off = 0; off < len; off += 7 * PKT) {
    gsize n = MIN (7 * PKT, len - off);
    gssize r = mcp_ts_tracker_feed (t, (guint8 *) contents + off, n);

    if (first_video == G_MAXUINT && mcp_ts_tracker_get_rap_pid (t, NULL) > 0)
      for (i = off; i < off + n && first_video == G_MAXUINT; i += PKT)
        if ((((contents[i + 1] & 0x1F) << 8) | (guint8) contents[i + 2]) ==
            mcp_ts_tracker_get_rap_pid (t, NULL))
          first_video = i;
    if (r < 0)
      continue;
    g_assert_cmpint (r % PKT, ==, 0);
    g_assert_cmpint (r, <, n);
    n_raps++;
    if (n_raps == 1)
      g_assert_cmpuint (off + r, ==, first_video);
    if (n_raps == 2)
      cut_at = off + r;
  }
  /* 100 frames, a key frame every 25 */
  g_assert_cmpuint (n_raps, ==, 4);
  g_assert_cmpuint (stats_of (t).raps, ==, 4);
  g_assert_cmpuint (stats_of (t).bad_sections, ==, 0);
  g_assert_cmpint (mcp_ts_tracker_get_rap_pid (t, &type), ==, 0x0100);
  g_assert_cmpuint (type, ==, c->stream_type);

  /* ffmpeg's PSI: a PAT of one packet, a PMT of one on 0x1000 */
  psi = mcp_ts_tracker_get_psi (t);
  g_assert_nonnull (psi);
  psi_data = g_bytes_get_data (psi, &psi_len);
  g_assert_cmpuint (psi_len, ==, 2 * PKT);
  g_assert_cmphex (psi_data[0], ==, 0x47);
  g_assert_cmphex (((psi_data[1] & 0x1F) << 8) | psi_data[2], ==, 0);
  g_assert_cmphex (psi_data[PKT], ==, 0x47);
  g_assert_cmphex (((psi_data[PKT + 1] & 0x1F) << 8) | psi_data[PKT + 2], ==,
      0x1000);
  g_assert_cmpint (mcp_ts_tracker_get_pmt_pid (t), ==, 0x1000);

  /* what a client joining then gets decodes, from a key frame on */
  b = g_byte_array_new ();
  g_byte_array_append (b, psi_data, psi_len);
  g_byte_array_append (b, (guint8 *) contents + cut_at, len - cut_at);
  g_assert_true (g_file_set_contents (cut, (gchar *) b->data, b->len, &err));
  g_assert_no_error (err);
  {
    const gchar *argv[] = { "ffprobe", "-v", "error", "-select_streams",
      "v:0", "-show_entries", "frame=pict_type", "-of", "csv=p=0", cut, NULL
    };
    gchar **lines;
    GString *types = g_string_new (NULL);

    g_assert_true (run (argv, &out));
    /* "I," or "P" a frame; blank lines for side data */
    lines = g_strsplit (out, "\n", -1);
    for (i = 0; lines[i]; i++)
      if (strchr ("IPB", lines[i][0]) && lines[i][0])
        g_string_append_c (types, lines[i][0]);
    g_test_message ("decoded: %s", types->str);
    g_assert_cmpint (types->len, ==, c->frames_after_cut);
    g_assert_cmpint (types->str[0], ==, 'I');
    g_string_free (types, TRUE);
    g_strfreev (lines);
  }

  g_byte_array_unref (b);
  g_bytes_unref (psi);
  mcp_ts_tracker_free (t);
  g_unlink (in);
  g_unlink (cut);
  g_rmdir (dir);
  g_free (out);
  g_free (contents);
  g_free (in);
  g_free (cut);
  g_free (dir);
}

static const FfmpegCase ffmpeg_h264 = { "libx264", 0x1B, 75 };
static const FfmpegCase ffmpeg_mpeg2 = { "mpeg2video", 0x02, 75 };
static const FfmpegCase ffmpeg_hevc = { "libx265", 0x24, 75 };

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ts/is-ts", test_is_ts);
  g_test_add_func ("/ts/crc32", test_crc32);
  g_test_add_func ("/ts/h264", test_h264);
  g_test_add_func ("/ts/offsets", test_offsets);
  g_test_add_func ("/ts/codecs", test_codecs);
  g_test_add_func ("/ts/no-video", test_no_video);
  g_test_add_func ("/ts/no-streams", test_no_streams);
  g_test_add_func ("/ts/pat-programs", test_pat_programs);
  g_test_add_func ("/ts/changes", test_changes);
  g_test_add_func ("/ts/long-sections", test_long_sections);
  g_test_add_func ("/ts/pointer-field", test_pointer_field);
  g_test_add_func ("/ts/bad-sections", test_bad_sections);
  g_test_add_func ("/ts/bad-packets", test_bad_packets);
  g_test_add_data_func ("/ts/ffmpeg-h264", &ffmpeg_h264, test_ffmpeg);
  g_test_add_data_func ("/ts/ffmpeg-mpeg2", &ffmpeg_mpeg2, test_ffmpeg);
  g_test_add_data_func ("/ts/ffmpeg-hevc", &ffmpeg_hevc, test_ffmpeg);

  return g_test_run ();
}
