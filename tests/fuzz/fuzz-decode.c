/* mcastproxy fuzzing — decoding a stream into records (see fuzz-decode.h). */
#include "config.h"

#include "fuzz-decode.h"

#include <string.h>

typedef struct
{
  McpDecoder *dec;
  const guint8 *data;
  gsize fed;                    /* bytes given to the decoder */
  gsize consumed;               /* bytes of the messages returned */
  gboolean seen_hello;
  /* a HELLO, or something else that ends the handshake: an ERROR */
  gboolean settled;
  gboolean ended;               /* the peer's ERROR: nothing may follow */
  GPtrArray *records;
} Decoding;

static void
record_free (gpointer p)
{
  FuzzRecord *r = p;

  if (r->payload)
    g_bytes_unref (r->payload);
  g_free ((gchar *) r->hello.caps);
  g_free ((gchar *) r->hello.name);
  g_free (r->caps);
  g_free (r->reason);
  g_free (r);
}

static FuzzRecord *
record_add (Decoding * d, McpDecodeResult kind)
{
  FuzzRecord *r = g_new0 (FuzzRecord, 1);

  r->kind = kind;
  g_ptr_array_add (d->records, r);
  return r;
}

static void
assert_string (const gchar * s)
{
  g_assert_nonnull (s);
  g_assert_true (g_utf8_validate (s, -1, NULL));
}

static void
assert_error (GError * err)
{
  g_assert_nonnull (err);
  g_assert_true (err->domain == MCP_WIRE_ERROR);
  g_assert_nonnull (err->message);
  g_assert_cmpuint (strlen (err->message), >, 0);
}

/* A message just returned: check it against the stream and copy it. */
static void
take_message (Decoding * d, McpDecodeResult kind, const McpMessage * msg,
    gsize start)
{
  gsize msg_len = d->consumed - start;
  McpFraming framing = mcp_decoder_get_framing (d->dec);
  FuzzRecord *r;
  gsize i;

  /* every message moves the decoder on: no endless loop on any input */
  g_assert_cmpuint (msg_len, >, 0);
  r = record_add (d, kind);
  switch (kind) {
    case MCP_DECODE_DATA:
      /* the payload is the end of the message, bytes as sent */
      g_assert_cmpuint (msg->payload_len, <=, msg_len);
      g_assert_true (msg->payload_len == 0 || memcmp (msg->payload,
              d->data + d->consumed - msg->payload_len, msg->payload_len) == 0);
      if (framing == MCP_FRAMING_RAW) {
        g_assert_cmpuint (msg->payload_len, ==, msg_len);
      } else if (framing == MCP_FRAMING_RFC4571) {
        g_assert_cmpuint (msg->payload_len + MCP_RFC4571_HEADER_LEN, ==,
            msg_len);
      } else {
        g_assert_true (d->seen_hello && !d->ended);
        g_assert_cmpuint (msg->payload_len, <=, MCP_MAX_DATAGRAM);
        g_assert_cmpuint (msg->payload_len + MCP_MPX_DATA_HEADER_LEN, <=,
            msg_len);
        g_assert_true (msg->meta.family == 0 || msg->meta.family == 4
            || msg->meta.family == 6);
        /* a sender only with a group, and a port only with a sender */
        g_assert_true (mcp_frame_meta_has_source (&msg->meta)
            || msg->meta.source_port == 0);
        if (msg->meta.family == 4) {
          static const guint8 zero[12] = { 0 };
          g_assert_cmpmem (msg->meta.source + 4, 12, zero, 12);
        }
      }
      r->meta = msg->meta;
      r->payload = g_bytes_new (msg->payload, msg->payload_len);
      break;
    case MCP_DECODE_HELLO:
      g_assert_cmpint (framing, ==, MCP_FRAMING_MPX);
      g_assert_false (d->seen_hello || d->ended);
      g_assert_cmpuint (d->records->len, ==, 1);
      g_assert_cmpuint (msg->hello.version_major, ==, MCP_MPX_VERSION_MAJOR);
      g_assert_true (msg->hello.role == MCP_ROLE_SOURCE
          || msg->hello.role == MCP_ROLE_RECEIVER
          || msg->hello.role == MCP_ROLE_PEER);
      d->seen_hello = d->settled = TRUE;
      r->hello = msg->hello;
      if (msg->hello.caps)
        assert_string (msg->hello.caps);
      if (msg->hello.name)
        assert_string (msg->hello.name);
      r->hello.caps = g_strdup (msg->hello.caps);
      r->hello.name = g_strdup (msg->hello.name);
      break;
    case MCP_DECODE_CAPS:
      g_assert_true (d->seen_hello && !d->ended);
      assert_string (msg->caps);
      r->caps = g_strdup (msg->caps);
      break;
    case MCP_DECODE_AUTH:
      g_assert_true (d->seen_hello && !d->ended);
      memcpy (r->auth_proof, msg->auth_proof, sizeof (r->auth_proof));
      break;
    case MCP_DECODE_PEER_ERROR:
      /* the peer's text, made fit for a log line */
      assert_string (msg->reason);
      for (i = 0; msg->reason[i]; i++)
        g_assert_true ((guchar) msg->reason[i] >= 0x20
            && msg->reason[i] != 0x7f);
      r->reason = g_strdup (msg->reason);
      g_assert_false (d->ended);
      d->settled = d->ended = TRUE;
      break;
    case MCP_DECODE_KEEPALIVE:
      g_assert_true (d->seen_hello && !d->ended);
      break;
    default:
      /* kinds added later: mpx only */
      g_assert_cmpint (framing, ==, MCP_FRAMING_MPX);
      d->settled = TRUE;
      break;
  }
}

/* Returns FALSE once the decoder failed. */
static gboolean
drain (Decoding * d)
{
  for (;;) {
    McpMessage msg;
    GError *err = NULL;
    gsize start = d->consumed;
    McpDecodeResult kind = mcp_decoder_next (d->dec, &msg, &err);
    gsize pending = mcp_decoder_pending (d->dec);

    g_assert_cmpuint (pending, <=, d->fed);
    d->consumed = d->fed - pending;
    g_assert_cmpuint (d->consumed, >=, start);
    if (kind == MCP_DECODE_NEED_MORE) {
      g_assert_no_error (err);
      /* nothing taken, but for an mpx preamble or skipped messages */
      if (d->consumed != start)
        g_assert_cmpint (mcp_decoder_get_framing (d->dec), ==, MCP_FRAMING_MPX);
      return TRUE;
    }
    if (kind == MCP_DECODE_ERROR) {
      FuzzRecord *r = record_add (d, kind);

      assert_error (err);
      r->error_code = err->code;
      g_clear_error (&err);
      /* and it stays failed */
      g_assert_cmpint (mcp_decoder_next (d->dec, &msg, NULL), ==,
          MCP_DECODE_ERROR);
      g_assert_false (mcp_decoder_finish (d->dec, NULL));
      return FALSE;
    }
    g_assert_no_error (err);
    take_message (d, kind, &msg, start);
  }
}

static void
feed_bytes (Decoding * d, const FuzzFeed * feed, gsize n)
{
  if (feed->reserve) {
    gsize avail = 0;
    guint8 *p = mcp_decoder_reserve (d->dec, n, &avail);

    g_assert_cmpuint (avail, >=, n);
    memcpy (p, d->data + d->fed, n);
    mcp_decoder_commit (d->dec, n);
  } else {
    mcp_decoder_push (d->dec, d->data + d->fed, n);
  }
  d->fed += n;
}

static void
finish (Decoding * d)
{
  GError *err = NULL;
  gboolean ok = mcp_decoder_finish (d->dec, &err);
  gboolean clean = mcp_decoder_pending (d->dec) == 0
      && (d->settled || mcp_decoder_get_framing (d->dec) != MCP_FRAMING_MPX);

  g_assert_cmpint (ok, ==, clean);
  if (!ok) {
    FuzzRecord *r = record_add (d, MCP_DECODE_ERROR);

    assert_error (err);
    g_assert_cmpint (err->code, ==, MCP_WIRE_ERROR_TRUNCATED);
    r->error_code = err->code;
    r->at_finish = TRUE;
    g_clear_error (&err);
  } else {
    g_assert_no_error (err);
  }
}

/* Raw pieces are cut where the chunks were: one record per run. */
static void
join_raw (GPtrArray * records)
{
  GByteArray *all = g_byte_array_new ();
  FuzzRecord *r;
  guint i;

  for (i = 0; i < records->len; i++) {
    gsize len;
    const guint8 *p;

    r = g_ptr_array_index (records, i);
    g_assert_cmpint (r->kind, ==, MCP_DECODE_DATA);
    p = g_bytes_get_data (r->payload, &len);
    g_byte_array_append (all, p, len);
  }
  g_ptr_array_set_size (records, 0);
  if (all->len > 0) {
    r = g_new0 (FuzzRecord, 1);
    r->kind = MCP_DECODE_DATA;
    r->payload = g_byte_array_free_to_bytes (all);
    g_ptr_array_add (records, r);
  } else {
    g_byte_array_unref (all);
  }
}

GPtrArray *
fuzz_decode (McpFraming framing, const guint8 * data, gsize len,
    const FuzzFeed * feed, McpFraming * framing_out)
{
  Decoding d = { 0 };
  gboolean ok = TRUE;
  guint i = 0;

  g_assert_cmpuint (feed->n_sizes, >, 0);
  d.dec = mcp_decoder_new (framing);
  d.data = data;
  d.records = g_ptr_array_new_with_free_func (record_free);

  ok = drain (&d);
  while (ok && d.fed < len) {
    gsize n = feed->sizes[i % feed->n_sizes];

    if (n == 0 || n > len - d.fed)
      n = len - d.fed;
    feed_bytes (&d, feed, n);
    if (d.fed == len || (feed->drain_mask >> (i % 32)) & 1)
      ok = drain (&d);
    i++;
  }
  if (ok)
    finish (&d);

  if (framing_out)
    *framing_out = mcp_decoder_get_framing (d.dec);
  if (mcp_decoder_get_framing (d.dec) == MCP_FRAMING_RAW)
    join_raw (d.records);
  mcp_decoder_free (d.dec);
  return d.records;
}

static void
assert_meta_equal (const McpFrameMeta * a, const McpFrameMeta * b)
{
  g_assert_cmpuint (a->origin_id, ==, b->origin_id);
  g_assert_cmpuint (a->seq, ==, b->seq);
  g_assert_cmpuint (a->capture_time, ==, b->capture_time);
  g_assert_cmpuint (a->hops, ==, b->hops);
  g_assert_cmpuint (a->family, ==, b->family);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpmem (a->group, sizeof (a->group), b->group, sizeof (b->group));
  g_assert_cmpmem (a->source, sizeof (a->source), b->source,
      sizeof (b->source));
  g_assert_cmpuint (a->source_port, ==, b->source_port);
}

void
fuzz_records_assert_equal (GPtrArray * a, GPtrArray * b)
{
  guint i;

  g_assert_cmpuint (a->len, ==, b->len);
  for (i = 0; i < a->len; i++) {
    FuzzRecord *x = g_ptr_array_index (a, i);
    FuzzRecord *y = g_ptr_array_index (b, i);

    g_assert_cmpint (x->kind, ==, y->kind);
    switch (x->kind) {
      case MCP_DECODE_DATA:
        assert_meta_equal (&x->meta, &y->meta);
        g_assert_true (g_bytes_equal (x->payload, y->payload));
        break;
      case MCP_DECODE_HELLO:
        g_assert_cmpuint (x->hello.version_major, ==, y->hello.version_major);
        g_assert_cmpuint (x->hello.version_minor, ==, y->hello.version_minor);
        g_assert_cmpint (x->hello.role, ==, y->hello.role);
        g_assert_cmpuint (x->hello.flags, ==, y->hello.flags);
        g_assert_cmpuint (x->hello.peer_id, ==, y->hello.peer_id);
        g_assert_cmpstr (x->hello.caps, ==, y->hello.caps);
        g_assert_cmpstr (x->hello.name, ==, y->hello.name);
        g_assert_cmpint (x->hello.has_auth_nonce, ==, y->hello.has_auth_nonce);
        g_assert_cmpmem (x->hello.auth_nonce, sizeof (x->hello.auth_nonce),
            y->hello.auth_nonce, sizeof (y->hello.auth_nonce));
        g_assert_cmphex (x->hello.features, ==, y->hello.features);
        break;
      case MCP_DECODE_AUTH:
        g_assert_cmpmem (x->auth_proof, sizeof (x->auth_proof),
            y->auth_proof, sizeof (y->auth_proof));
        break;
      case MCP_DECODE_PEER_ERROR:
        g_assert_cmpstr (x->reason, ==, y->reason);
        break;
      case MCP_DECODE_CAPS:
        g_assert_cmpstr (x->caps, ==, y->caps);
        break;
      case MCP_DECODE_ERROR:
        g_assert_cmpint (x->error_code, ==, y->error_code);
        g_assert_cmpint (x->at_finish, ==, y->at_finish);
        break;
      default:
        break;
    }
  }
}
