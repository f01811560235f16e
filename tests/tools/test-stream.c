/* mcastproxy test tools — unit tests of mcp-stream.c, the cutter and the
 * checker that mcp-recv and mcp-fanout share.
 *
 * The cutter must give the same datagrams and the same reports (with the
 * same stream offsets) however the reads cut the stream: each stream here
 * is fed cut at every byte boundary, one byte at a time, and whole, in
 * every framing, with bad input among good. The checker's fast path must
 * agree with mcpt_verify() on every datagram, good or damaged.
 */
#include "mcp-stream.h"

#include <string.h>

#define SIZES "24,100,1316,200,9000"
#define STREAM_ID 7
#define READ_SIZE 16384
/* the most a cutter holds: an rfc4571 frame of 65535 bytes */
#define MAX_HEADROOM (2 + 65535)
#define JUNK 64

/* What the cutter gave, in order, as text: "D <len> <crc>" for a datagram
 * (its bytes checked against the expected ones too), "C <reason>" for a
 * report, "H"/"A"/"E" for mpx control messages, "X <reason>" for an error;
 * then "P <pending reason>" or "F <finish reason>" at the end. */
typedef struct
{
  McptSizes sizes;
  GPtrArray *expected;          /* GBytes of the datagrams, in order */
  guint next;                   /* the next one expected */
  GString *log;
  guint8 *rbuf;                 /* the read buffer */
} Run;

/* ---- building streams --------------------------------------------------- */

static GBytes *
make_datagram (const McptSizes * sizes, McptKind kind, guint64 seq)
{
  guint len = mcpt_size_for_seq (sizes, seq);
  guint8 *buf = g_malloc (len);

  mcpt_fill (buf, len, kind, STREAM_ID, seq, 1000000000 + seq);
  return g_bytes_new_take (buf, len);
}

/* @n stream datagrams, a warm-up before every fifth. */
static GPtrArray *
make_datagrams (const McptSizes * sizes, guint n)
{
  GPtrArray *d = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  guint i, w = 0;

  for (i = 0; i < n; i++) {
    if (i % 5 == 0)
      g_ptr_array_add (d, make_datagram (sizes, MCPT_KIND_WARMUP, w++));
    g_ptr_array_add (d, make_datagram (sizes, MCPT_KIND_STREAM, i));
  }
  return d;
}

static void
append_bytes (GByteArray * out, GBytes * b)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (b, &len);

  g_byte_array_append (out, p, len);
}

static void
append_frame (GByteArray * out, McpsFraming framing, GBytes * d, guint64 index)
{
  guint8 head[MCP_MPX_DATA_HEADER_LEN];
  gsize len = g_bytes_get_size (d);

  if (framing == MCPS_FRAMING_RFC4571) {
    mcp_rfc4571_write_header (head, len);
    g_byte_array_append (out, head, MCP_RFC4571_HEADER_LEN);
  } else if (framing == MCPS_FRAMING_MPX) {
    McpFrameMeta meta;

    memset (&meta, 0, sizeof (meta));
    meta.origin_id = 42;
    meta.seq = index;
    mcp_mpx_write_data_header (head, &meta, len);
    g_byte_array_append (out, head, MCP_MPX_DATA_HEADER_LEN);
  }
  append_bytes (out, d);
}

/* An mpx message header: type, flags, metadata and payload lengths. */
static void
append_mpx_header (GByteArray * out, guint8 type, guint8 flags, guint16 mlen,
    guint32 plen)
{
  guint8 h[MCP_MPX_MSG_HEADER_LEN] = { type, flags, mlen >> 8, mlen,
    plen >> 24, plen >> 16, plen >> 8, plen
  };

  g_byte_array_append (out, h, sizeof (h));
}

/* The server's side of an mpx stream: its HELLO, CAPS, then the datagrams
 * with a KEEPALIVE and an ignorable unknown message among them. */
static void
append_mpx_opening (GByteArray * out)
{
  GBytes *b = mcp_mpx_build_hello (MCP_ROLE_SOURCE, 0x0123456789abcdefULL,
      "application/x-test", "test-stream");

  append_bytes (out, b);
  g_bytes_unref (b);
  b = mcp_mpx_build_caps ("application/x-test, v=2");
  append_bytes (out, b);
  g_bytes_unref (b);
}

static GByteArray *
make_stream (McpsFraming framing, GPtrArray * d)
{
  GByteArray *out = g_byte_array_new ();
  guint i;

  if (framing == MCPS_FRAMING_MPX)
    append_mpx_opening (out);
  for (i = 0; i < d->len; i++) {
    if (framing == MCPS_FRAMING_MPX && i % 4 == 3) {
      GBytes *ka = mcp_mpx_build_keepalive ();

      append_bytes (out, ka);
      g_bytes_unref (ka);
      append_mpx_header (out, 'Z', MCP_MSG_FLAG_IGNORABLE, 2, 3);
      g_byte_array_append (out, (const guint8 *) "mmppp", 5);
    }
    append_frame (out, framing, g_ptr_array_index (d, i), i);
  }
  return out;
}

/* ---- cutting ------------------------------------------------------------ */

static void
run_init (Run * r, GPtrArray * expected)
{
  memset (r, 0, sizeof (*r));
  g_assert_true (mcpt_sizes_parse (SIZES, &r->sizes, NULL));
  r->expected = expected;
  r->log = g_string_new (NULL);
  r->rbuf = g_malloc (MAX_HEADROOM + READ_SIZE + JUNK);
}

static void
run_clear (Run * r)
{
  mcpt_sizes_clear (&r->sizes);
  g_string_free (r->log, TRUE);
  g_free (r->rbuf);
}

/* Everything the cutter has now, into the log. */
static void
drain (Run * r, McpsCutter * cut)
{
  McpsItem item;
  McpsCut k;

  while ((k = mcps_cutter_next (cut, &item)) != MCPS_CUT_NEED_MORE) {
    switch (k) {
      case MCPS_CUT_DATAGRAM:
        g_string_append_printf (r->log, "D %" G_GSIZE_FORMAT "\n", item.len);
        if (r->expected && r->next < r->expected->len) {
          GBytes *want = g_ptr_array_index (r->expected, r->next);
          gsize wlen;
          const guint8 *w = g_bytes_get_data (want, &wlen);

          g_assert_cmpmem (item.data, item.len, w, wlen);
        }
        r->next++;
        break;
      case MCPS_CUT_CORRUPT:
        g_string_append_printf (r->log, "C %s\n", item.reason);
        break;
      case MCPS_CUT_ERROR:
        g_string_append_printf (r->log, "X %s\n", item.reason);
        /* the stream is broken: nothing more is asked of the cutter */
        return;
      case MCPS_CUT_CONTROL:
        g_string_append_printf (r->log, "%c %s\n",
            item.control == MCP_DECODE_HELLO ? 'H' :
            item.control == MCP_DECODE_AUTH ? 'A' : 'E',
            item.control == MCP_DECODE_HELLO ? item.msg.hello.name :
            item.control == MCP_DECODE_PEER_ERROR ? item.msg.reason : "");
        break;
      case MCPS_CUT_NEED_MORE:
        g_assert_not_reached ();
    }
  }
}

/* Feeds @stream to a new cutter in reads that end at the offsets in
 * @cuts (ascending, then the end), through one read buffer as the tools
 * do; returns the log, with how the stream ended. */
static gchar *
cut_stream (Run * r, McpsFraming framing, gboolean skip_long,
    const GByteArray * stream, const gsize * cuts, guint n_cuts)
{
  McpsCutter cut;
  gchar reason[160];
  guint8 *rbuf;
  gsize from = 0;
  guint i;

  g_string_truncate (r->log, 0);
  r->next = 0;
  mcps_cutter_init (&cut, framing, &r->sizes, skip_long);
  g_assert_cmpuint (mcps_cutter_headroom (&cut), <=, MAX_HEADROOM);
  rbuf = r->rbuf;
  for (i = 0; i <= n_cuts && !strstr (r->log->str, "X "); i++) {
    gsize to = i < n_cuts ? cuts[i] : stream->len;

    /* a read is at most READ_SIZE bytes */
    while (from < to) {
      gsize n = MIN (to - from, READ_SIZE);

      guint8 *dst = mcps_cutter_load (&cut, rbuf);

      /* junk after the bytes read: the cutter must not look at it */
      memcpy (dst, stream->data + from, n);
      memset (dst + n, 0xa5, JUNK);
      mcps_cutter_feed (&cut, rbuf, n);
      from += n;
      drain (r, &cut);
      if (strstr (r->log->str, "X "))
        break;
    }
  }
  if (!strstr (r->log->str, "X ")) {
    if (!mcps_cutter_finish (&cut, reason, sizeof (reason)))
      g_string_append_printf (r->log, "F %s\n", reason);
    else if (mcps_cutter_pending (&cut, reason, sizeof (reason)) > 0)
      g_string_append_printf (r->log, "P %s\n", reason);
  }
  g_assert_cmpuint (cut.bytes, ==, from);
  mcps_cutter_clear (&cut);
  return g_strdup (r->log->str);
}

/* The log of @stream fed whole must come out the same cut at every byte
 * boundary, and fed one byte at a time; returns it. */
static gchar *
cut_every_way (Run * r, McpsFraming framing, gboolean skip_long,
    const GByteArray * stream)
{
  gchar *whole = cut_stream (r, framing, skip_long, stream, NULL, 0);
  gsize *bytes = g_new (gsize, stream->len);
  gsize k;
  gchar *log;

  for (k = 1; k < stream->len; k++) {
    log = cut_stream (r, framing, skip_long, stream, &k, 1);
    if (g_strcmp0 (log, whole) != 0)
      g_error ("cut at byte %" G_GSIZE_FORMAT " of %u:\n%s\nwhole:\n%s", k,
          stream->len, log, whole);
    g_free (log);
  }
  for (k = 0; k < stream->len; k++)
    bytes[k] = k + 1;
  log = cut_stream (r, framing, skip_long, stream, bytes, stream->len - 1);
  g_assert_cmpstr (log, ==, whole);
  g_free (log);
  g_free (bytes);
  return whole;
}

/* The log must be the one wanted; frees both. */
static void
expect_log (gchar * log, GString * want)
{
  g_assert_cmpstr (log, ==, want->str);
  g_free (log);
  g_string_free (want, TRUE);
}

/* The expected log of @d cut cleanly: one D line per datagram. */
static GString *
datagram_lines (GPtrArray * d, guint from, guint to)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = from; i < to; i++)
    g_string_append_printf (s, "D %" G_GSIZE_FORMAT "\n",
        g_bytes_get_size (g_ptr_array_index (d, i)));
  return s;
}

static void
test_clean (gconstpointer data)
{
  McpsFraming framing = GPOINTER_TO_INT (data);
  Run r;
  GPtrArray *d;
  GByteArray *stream;
  GString *want;
  gsize last;
  gchar *log;

  run_init (&r, NULL);
  d = make_datagrams (&r.sizes, 8);
  r.expected = d;
  stream = make_stream (framing, d);
  want = datagram_lines (d, 0, d->len);
  if (framing == MCPS_FRAMING_MPX)
    g_string_prepend (want, "H test-stream\n");
  log = cut_every_way (&r, framing, TRUE, stream);
  g_assert_cmpuint (r.next, ==, d->len);
  expect_log (log, want);

  /* cut short inside the last datagram: the rest is pending (for mpx the
   * end breaks the framing) */
  g_byte_array_set_size (stream, stream->len - 10);
  log = cut_every_way (&r, framing, TRUE, stream);
  want = datagram_lines (d, 0, d->len - 1);
  last = g_bytes_get_size (g_ptr_array_index (d, d->len - 1));
  if (framing == MCPS_FRAMING_MPX) {
    g_string_prepend (want, "H test-stream\n");
    g_string_append_printf (want, "F mpx decode error: connection closed "
        "inside a message (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
        " bytes)\n", MCP_MPX_DATA_HEADER_LEN + last - 10,
        MCP_MPX_DATA_HEADER_LEN + last);
  } else {
    g_string_append_printf (want, "P %" G_GSIZE_FORMAT " bytes of an "
        "incomplete datagram at the end of the stream\n",
        (framing == MCPS_FRAMING_RFC4571 ? 2 : 0) + last - 10);
  }
  expect_log (log, want);

  g_byte_array_unref (stream);
  g_ptr_array_unref (d);
  run_clear (&r);
}

/* raw: the cutter follows the headers; bytes that are no datagram are
 * reported once, at their offset, and skipped up to the next magic. */
static void
test_raw_resync (void)
{
  Run r;
  GPtrArray *d = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  GByteArray *stream = g_byte_array_new ();
  GString *want = g_string_new (NULL);
  GBytes *s3, *s4, *s7;
  gsize at;
  gchar *log;
  guint i;

  run_init (&r, NULL);
  /* 24 and 100 bytes, then 7 bytes of junk with "MCP" in it */
  for (i = 0; i < 2; i++) {
    g_ptr_array_add (d, make_datagram (&r.sizes, MCPT_KIND_STREAM, i));
    append_bytes (stream, g_ptr_array_index (d, i));
  }
  g_string_append (want, "D 24\nD 100\n");
  g_byte_array_append (stream, (const guint8 *) "xyMCPzz", 7);
  g_string_append (want, "C bad magic at stream offset 124; "
      "resynchronising\n");
  g_ptr_array_add (d, make_datagram (&r.sizes, MCPT_KIND_STREAM, 2));
  append_bytes (stream, g_ptr_array_index (d, 2));
  g_string_append (want, "D 1316\n");

  /* the first 30 of the 200 bytes of seq 3, 5 zeros, seq 4 (9000): the
   * header of seq 3 says 200 bytes, so those are cut; then the rest of
   * seq 4 is no datagram, up to seq 5 */
  s3 = make_datagram (&r.sizes, MCPT_KIND_STREAM, 3);
  s4 = make_datagram (&r.sizes, MCPT_KIND_STREAM, 4);
  at = stream->len;
  g_byte_array_append (stream, g_bytes_get_data (s3, NULL), 30);
  g_byte_array_append (stream, (const guint8 *) "\0\0\0\0\0", 5);
  append_bytes (stream, s4);
  g_ptr_array_add (d, g_bytes_new (stream->data + at, 200));
  g_string_append_printf (want, "D 200\nC bad magic at stream offset %"
      G_GSIZE_FORMAT "; resynchronising\n", at + 200);

  /* seq 5, a warm-up, seq 6: in step again */
  g_ptr_array_add (d, make_datagram (&r.sizes, MCPT_KIND_STREAM, 5));
  g_ptr_array_add (d, make_datagram (&r.sizes, MCPT_KIND_WARMUP, 0));
  g_ptr_array_add (d, make_datagram (&r.sizes, MCPT_KIND_STREAM, 6));
  for (i = d->len - 3; i < d->len; i++)
    append_bytes (stream, g_ptr_array_index (d, i));
  g_string_append (want, "D 24\nD 24\nD 100\n");

  /* the first 50 of the 1316 bytes of seq 7 at the end */
  s7 = make_datagram (&r.sizes, MCPT_KIND_STREAM, 7);
  g_byte_array_append (stream, g_bytes_get_data (s7, NULL), 50);
  g_string_append (want, "P 50 bytes of an incomplete datagram at the end "
      "of the stream\n");

  r.expected = d;
  log = cut_every_way (&r, MCPS_FRAMING_RAW, FALSE, stream);
  g_assert_cmpuint (r.next, ==, d->len);
  expect_log (log, want);

  g_bytes_unref (s3);
  g_bytes_unref (s4);
  g_bytes_unref (s7);
  g_ptr_array_unref (d);
  g_byte_array_unref (stream);
  run_clear (&r);
}

/* rfc4571: a frame longer than any datagram is skipped without being held
 * (mcp-fanout), or cut like any other (mcp-recv). */
static void
test_rfc4571_long (void)
{
  Run r;
  GPtrArray *d;
  GByteArray *stream = g_byte_array_new ();
  guint8 *junk = g_malloc0 (20000);
  GBytes *long_frame = g_bytes_new_static (junk, 20000);
  GString *head, *tail, *want;
  gsize off = 0;
  gchar *log;
  guint i;

  run_init (&r, NULL);
  d = make_datagrams (&r.sizes, 4);
  for (i = 0; i < d->len; i++) {
    if (i == 2) {
      off = stream->len;
      append_frame (stream, MCPS_FRAMING_RFC4571, long_frame, 0);
    }
    append_frame (stream, MCPS_FRAMING_RFC4571, g_ptr_array_index (d, i), i);
  }
  r.expected = d;
  log = cut_every_way (&r, MCPS_FRAMING_RFC4571, TRUE, stream);
  head = datagram_lines (d, 0, 2);
  tail = datagram_lines (d, 2, d->len);
  want = g_string_new (head->str);
  g_string_append_printf (want, "C frame of 20000 bytes at stream offset %"
      G_GSIZE_FORMAT ", longer than any of --sizes\n%s", off, tail->str);
  expect_log (log, want);

  /* held and cut, no check of what is inside */
  r.expected = NULL;
  log = cut_stream (&r, MCPS_FRAMING_RFC4571, FALSE, stream, NULL, 0);
  want = g_string_new (head->str);
  g_string_append_printf (want, "D 20000\n%s", tail->str);
  expect_log (log, want);
  g_string_free (head, TRUE);
  g_string_free (tail, TRUE);

  g_bytes_unref (long_frame);
  g_free (junk);
  g_ptr_array_unref (d);
  g_byte_array_unref (stream);
  run_clear (&r);
}

/* mpx: the server's control messages come out as such; a message that
 * breaks the protocol ends the stream with the decoder's reason. */
static void
test_mpx_control (void)
{
  Run r;
  GPtrArray *d;
  GByteArray *stream;
  GBytes *b;
  GString *want;
  gchar *log;

  run_init (&r, NULL);
  d = make_datagrams (&r.sizes, 3);
  r.expected = d;

  /* an ERROR from the server after two datagrams */
  stream = g_byte_array_new ();
  append_mpx_opening (stream);
  append_frame (stream, MCPS_FRAMING_MPX, g_ptr_array_index (d, 0), 0);
  append_frame (stream, MCPS_FRAMING_MPX, g_ptr_array_index (d, 1), 1);
  b = mcp_mpx_build_error ("go away", FALSE);
  append_bytes (stream, b);
  g_bytes_unref (b);
  log = cut_every_way (&r, MCPS_FRAMING_MPX, FALSE, stream);
  want = datagram_lines (d, 0, 2);
  g_string_prepend (want, "H test-stream\n");
  g_string_append (want, "E go away\n");
  expect_log (log, want);

  /* a message of an unknown type that may not be skipped */
  g_byte_array_set_size (stream, 0);
  append_mpx_opening (stream);
  append_frame (stream, MCPS_FRAMING_MPX, g_ptr_array_index (d, 0), 0);
  append_mpx_header (stream, 'Z', 0, 0, 4);
  g_byte_array_append (stream, (const guint8 *) "zzzz", 4);
  append_frame (stream, MCPS_FRAMING_MPX, g_ptr_array_index (d, 1), 1);
  log = cut_every_way (&r, MCPS_FRAMING_MPX, FALSE, stream);
  want = datagram_lines (d, 0, 1);
  g_string_prepend (want, "H test-stream\n");
  g_string_append (want, "X mpx decode error: unknown message type 0x5a\n");
  expect_log (log, want);

  g_byte_array_unref (stream);
  g_ptr_array_unref (d);
  run_clear (&r);
}

static void
test_framing_parse (void)
{
  McpsFraming f = MCPS_FRAMING_RAW;

  g_assert_true (mcps_framing_parse ("rfc4571", &f));
  g_assert_cmpint (f, ==, MCPS_FRAMING_RFC4571);
  g_assert_true (mcps_framing_parse ("mpx", &f));
  g_assert_cmpint (f, ==, MCPS_FRAMING_MPX);
  g_assert_true (mcps_framing_parse ("raw", &f));
  g_assert_cmpint (f, ==, MCPS_FRAMING_RAW);
  g_assert_false (mcps_framing_parse ("auto", &f));
  g_assert_false (mcps_framing_parse ("RAW", &f));
  g_assert_false (mcps_framing_parse ("", &f));
  g_assert_cmpint (f, ==, MCPS_FRAMING_RAW);
}

/* ---- the checker -------------------------------------------------------- */

/* The fast path and mcpt_verify() agree on good datagrams and on every
 * damaged one: a byte changed anywhere, a wrong length, another stream. */
static void
test_checker (void)
{
  McptSizes sizes;
  McpsChecker k;
  gchar r1[160], r2[160];
  guint64 seq;
  guint kind;

  g_assert_true (mcpt_sizes_parse (SIZES, &sizes, NULL));
  mcps_checker_init (&k, &sizes);
  g_assert_true (k.fast);
  for (kind = MCPT_KIND_STREAM; kind <= MCPT_KIND_WARMUP; kind++) {
    for (seq = 0; seq < 600; seq += 7) {
      guint len = mcpt_size_for_seq (&sizes, seq);
      guint8 *buf = g_malloc (len + 1);
      gsize o;

      mcpt_fill (buf, len, kind, STREAM_ID, seq, 12345);
      g_assert_null (mcps_checker_verify (&k, buf, len, STREAM_ID, r1,
              sizeof (r1)));
      /* another stream's id expected */
      g_assert_nonnull (mcps_checker_verify (&k, buf, len, STREAM_ID + 1, r1,
              sizeof (r1)));
      g_assert_cmpstr (r1, ==, mcpt_verify (buf, len, STREAM_ID + 1, &sizes,
              r2, sizeof (r2)));
      /* one byte longer or shorter */
      g_assert_nonnull (mcps_checker_verify (&k, buf, len - 1, STREAM_ID, r1,
              sizeof (r1)));
      g_assert_cmpstr (r1, ==, mcpt_verify (buf, len - 1, STREAM_ID, &sizes,
              r2, sizeof (r2)));
      g_assert_nonnull (mcps_checker_verify (&k, buf, len + 1, STREAM_ID, r1,
              sizeof (r1)));
      /* a bit flipped, outside the send time (which is not checked) */
      for (o = 0; o < len; o += (o < 64 ? 1 : 97)) {
        if (o >= 16 && o < 24)
          continue;
        buf[o] ^= 0x10;
        g_assert_nonnull (mcps_checker_verify (&k, buf, len, STREAM_ID, r1,
                sizeof (r1)));
        g_assert_cmpstr (r1, ==, mcpt_verify (buf, len, STREAM_ID, &sizes,
                r2, sizeof (r2)));
        buf[o] ^= 0x10;
      }
      g_free (buf);
    }
  }
  /* too short for a header */
  g_assert_cmpstr (mcps_checker_verify (&k, (const guint8 *) "MCPT", 4,
          STREAM_ID, r1, sizeof (r1)), ==, "too short: 4 bytes, a header "
      "needs 24");
  mcps_checker_clear (&k);
  mcpt_sizes_clear (&sizes);
}

/* ---- sequence numbers --------------------------------------------------- */

typedef struct
{
  guint64 seq;
  McpsSeqResult result;
  guint64 skipped;
} SeqStep;

static void
run_seq (McpsSeq * s, const SeqStep * steps, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    guint64 skipped = G_MAXUINT64;
    McpsSeqResult res = mcps_seq_add (s, steps[i].seq, &skipped);

    if (res != steps[i].result)
      g_error ("step %u (seq %" G_GUINT64_FORMAT "): %d, expected %d", i,
          steps[i].seq, res, steps[i].result);
    if (res == MCPS_SEQ_NEXT)
      g_assert_cmpuint (skipped, ==, steps[i].skipped);
  }
}

/* The counts of @s after its steps. */
static void
expect_counts (const McpsSeq * s, gboolean complete, gint64 first_seq,
    gint64 last_seq, guint64 received, guint64 duplicates, guint64 reordered,
    guint64 lost)
{
  g_assert_cmpint (s->complete, ==, complete);
  g_assert_cmpint (s->first_seq, ==, first_seq);
  g_assert_cmpint (s->last_seq, ==, last_seq);
  g_assert_cmpuint (s->received, ==, received);
  g_assert_cmpuint (s->duplicates, ==, duplicates);
  g_assert_cmpuint (s->reordered, ==, reordered);
  g_assert_cmpuint (s->lost, ==, lost);
}

/* Ends @s: @rest more are lost, @lost in all; then clears it. */
static void
expect_finish (McpsSeq * s, guint64 rest, guint64 lost)
{
  g_assert_cmpuint (mcps_seq_finish (s), ==, rest);
  g_assert_cmpuint (s->lost, ==, lost);
  mcps_seq_clear (s);
}

/* From seq 0 (mcp-recv): what is missing at the start counts as lost. */
static void
test_seq_from_zero (void)
{
  static const SeqStep steps[] = {
    {2, MCPS_SEQ_NEXT, 2}, {3, MCPS_SEQ_NEXT, 0}, {0, MCPS_SEQ_LATE},
    {3, MCPS_SEQ_DUPLICATE}, {0, MCPS_SEQ_DUPLICATE}, {7, MCPS_SEQ_NEXT, 3},
    {10, MCPS_SEQ_BEYOND}, {5, MCPS_SEQ_LATE}, {5, MCPS_SEQ_DUPLICATE},
    {9, MCPS_SEQ_NEXT, 1},
  };
  McpsSeq s;

  mcps_seq_init (&s, 10, 0, FALSE);
  run_seq (&s, steps, G_N_ELEMENTS (steps));
  /* lost: 1, 4, 6, 8 */
  expect_counts (&s, TRUE, 2, 9, 6, 3, 2, 4);
  expect_finish (&s, 0, 4);

  /* nothing arrived: all lost */
  mcps_seq_init (&s, 10, 0, FALSE);
  expect_finish (&s, 10, 10);
}

/* From the first seq (mcp-fanout's clients join mid-stream), with a window
 * of 64 seqs to tell duplicates from late ones. */
static void
test_seq_from_first (void)
{
  static const SeqStep steps[] = {
    {100, MCPS_SEQ_NEXT, 0}, {99, MCPS_SEQ_LATE}, {102, MCPS_SEQ_NEXT, 1},
    {101, MCPS_SEQ_LATE}, {101, MCPS_SEQ_DUPLICATE},
    /* a jump larger than the window forgets everything below */
    {300, MCPS_SEQ_NEXT, 197}, {250, MCPS_SEQ_LATE},
    /* older than the window (235 is where 299, never seen, would be) */
    {235, MCPS_SEQ_DUPLICATE}, {236, MCPS_SEQ_DUPLICATE},
    {237, MCPS_SEQ_LATE}, {301, MCPS_SEQ_NEXT, 0},
  };
  McpsSeq s;
  gchar reason[160];

  mcps_seq_init (&s, 1000, 64, TRUE);
  g_assert_cmpuint (s.window_bits, ==, 64);
  run_seq (&s, steps, G_N_ELEMENTS (steps));
  /* lost: 198 skipped, 3 of them came (99 was before the first) */
  expect_counts (&s, FALSE, 100, 301, 8, 3, 4, 195);
  mcps_seq_beyond_reason (&s, 1000, reason, sizeof (reason));
  g_assert_cmpstr (reason, ==, "seq 1000 is beyond the 1000 datagrams "
      "expected");
  expect_finish (&s, 698, 195 + 698);

  /* nothing arrived: counting never started */
  mcps_seq_init (&s, 1000, 64, TRUE);
  expect_finish (&s, 0, 0);
}

/* With a window of all seqs (mcp-recv), none is ever too old. */
static void
test_seq_whole_window (void)
{
  McpsSeq s;
  guint64 skipped = 0, q;

  mcps_seq_init (&s, 5000, 0, FALSE);
  g_assert_cmpuint (s.window_bits, >=, 5000);
  g_assert_cmpint (mcps_seq_add (&s, 4999, &skipped), ==, MCPS_SEQ_NEXT);
  g_assert_cmpuint (skipped, ==, 4999);
  for (q = 0; q < 4999; q++)
    g_assert_cmpint (mcps_seq_add (&s, q, &skipped), ==, MCPS_SEQ_LATE);
  for (q = 0; q < 5000; q++)
    g_assert_cmpint (mcps_seq_add (&s, q, &skipped), ==, MCPS_SEQ_DUPLICATE);
  g_assert_cmpuint (s.lost, ==, 0);
  g_assert_cmpuint (s.received, ==, 5000);
  g_assert_true (s.complete);
  mcps_seq_clear (&s);
}

static void
test_rank (void)
{
  g_assert_cmpuint (mcps_rank (0, 50), ==, 0);
  g_assert_cmpuint (mcps_rank (1, 0), ==, 1);
  g_assert_cmpuint (mcps_rank (1, 99), ==, 1);
  g_assert_cmpuint (mcps_rank (10, 50), ==, 5);
  g_assert_cmpuint (mcps_rank (10, 99), ==, 10);
  g_assert_cmpuint (mcps_rank (200, 99), ==, 198);
  g_assert_cmpuint (mcps_rank (200, 100), ==, 200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/stream/cut/raw", GINT_TO_POINTER (MCPS_FRAMING_RAW),
      test_clean);
  g_test_add_data_func ("/stream/cut/rfc4571",
      GINT_TO_POINTER (MCPS_FRAMING_RFC4571), test_clean);
  g_test_add_data_func ("/stream/cut/mpx", GINT_TO_POINTER (MCPS_FRAMING_MPX),
      test_clean);
  g_test_add_func ("/stream/cut/raw-resync", test_raw_resync);
  g_test_add_func ("/stream/cut/rfc4571-long", test_rfc4571_long);
  g_test_add_func ("/stream/cut/mpx-control", test_mpx_control);
  g_test_add_func ("/stream/framing-parse", test_framing_parse);
  g_test_add_func ("/stream/checker", test_checker);
  g_test_add_func ("/stream/seq/from-zero", test_seq_from_zero);
  g_test_add_func ("/stream/seq/from-first", test_seq_from_first);
  g_test_add_func ("/stream/seq/whole-window", test_seq_whole_window);
  g_test_add_func ("/stream/rank", test_rank);
  return g_test_run ();
}
