/* mcastproxy — unit tests of the TCP-leg wire formats (mcp-wire).
 *
 * Streams for malformed input are built by hand here, big-endian, after
 * docs/protocol.md, so that the tests check the format and not only that
 * the encoder and the decoder agree with each other.
 */
#include "config.h"

#include "mcp-wire.h"

#include <string.h>

#define HELLO_CAPS "application/x-rtp, media=(string)video, encoding-name=(string)H264"
#define HELLO_NAME "relay-a \xc3\xa9"   /* UTF-8 on purpose */
#define PEER_ID G_GUINT64_CONSTANT (0x0123456789abcdef)

static const gsize sizes[] = { 0, 1, 1316, 9000, 65507, 65535 };

/* ---- helpers: hand-built streams --------------------------------------- */

static void
append_be16 (GByteArray * a, guint16 v)
{
  guint8 b[2];

  b[0] = v >> 8;
  b[1] = v;
  g_byte_array_append (a, b, sizeof (b));
}

static void
append_be32 (GByteArray * a, guint32 v)
{
  append_be16 (a, v >> 16);
  append_be16 (a, v);
}

static void
append_be64 (GByteArray * a, guint64 v)
{
  append_be32 (a, v >> 32);
  append_be32 (a, v);
}

static void
append_u8 (GByteArray * a, guint8 v)
{
  g_byte_array_append (a, &v, 1);
}

static void
append_zeros (GByteArray * a, gsize n)
{
  guint oldlen = a->len;

  g_byte_array_set_size (a, a->len + n);
  memset (a->data + oldlen, 0, n);
}

/* Takes ownership of b. */
static void
append_gbytes (GByteArray * a, GBytes * b)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (b, &len);

  g_byte_array_append (a, p, len);
  g_bytes_unref (b);
}

static void
append_preamble (GByteArray * a, guint8 major, guint8 minor)
{
  g_byte_array_append (a, (const guint8 *) MCP_MPX_MAGIC, MCP_MPX_MAGIC_LEN);
  append_u8 (a, major);
  append_u8 (a, minor);
  append_be16 (a, 0);
}

static void
append_header (GByteArray * a, guint8 type, guint8 flags, guint16 meta_len,
    guint32 payload_len)
{
  append_u8 (a, type);
  append_u8 (a, flags);
  append_be16 (a, meta_len);
  append_be32 (a, payload_len);
}

static void
append_tlv (GByteArray * a, guint16 type, const void *value, guint16 len)
{
  append_be16 (a, type);
  append_be16 (a, len);
  g_byte_array_append (a, value, len);
}

/* A HELLO message (no preamble) with a meta block of meta_len bytes: the 12
 * bytes of version 1.0 if there is room for them, zero padding after. */
static void
append_hello_msg (GByteArray * a, guint8 role, guint16 meta_len,
    guint64 peer_id, const guint8 * tlvs, guint32 tlvs_len)
{
  append_header (a, MCP_MSG_HELLO, 0, meta_len, tlvs_len);
  if (meta_len >= MCP_MPX_HELLO_META_LEN) {
    append_u8 (a, role);
    append_u8 (a, 0);
    append_be16 (a, 0);
    append_be64 (a, peer_id);
    append_zeros (a, meta_len - MCP_MPX_HELLO_META_LEN);
  } else {
    append_zeros (a, meta_len);
  }
  if (tlvs_len)
    g_byte_array_append (a, tlvs, tlvs_len);
}

/* The usual start of an mpx stream: preamble and a plain HELLO. */
static void
append_start (GByteArray * a)
{
  append_gbytes (a, mcp_mpx_build_hello (MCP_ROLE_SOURCE, PEER_ID, NULL, NULL));
}

static void
append_data (GByteArray * a, const McpFrameMeta * meta, const guint8 * payload,
    gsize len)
{
  guint oldlen = a->len;
  gsize hdr_len;

  g_byte_array_set_size (a, a->len + MCP_MPX_DATA_HEADER_MAX_LEN);
  hdr_len = mcp_mpx_write_data_header (a->data + oldlen, meta, len);
  g_assert_cmpuint (hdr_len, ==, mcp_frame_meta_has_source (meta) ?
      MCP_MPX_DATA_HEADER_MAX_LEN : MCP_MPX_DATA_HEADER_LEN);
  g_byte_array_set_size (a, oldlen + hdr_len);
  if (len)
    g_byte_array_append (a, payload, len);
}

static void
append_rfc4571 (GByteArray * a, const guint8 * payload, gsize len)
{
  guint oldlen = a->len;

  g_byte_array_set_size (a, a->len + MCP_RFC4571_HEADER_LEN);
  mcp_rfc4571_write_header (a->data + oldlen, len);
  if (len)
    g_byte_array_append (a, payload, len);
}

/* Distinctive metadata: every field differs between frames and uses the
 * high bits of its type. */
static void
fill_meta (McpFrameMeta * m, guint i, gboolean ipv6)
{
  guint j;

  memset (m, 0, sizeof (*m));
  m->origin_id = G_GUINT64_CONSTANT (0xa1b2c3d4e5f60718) ^ i;
  m->seq = G_GUINT64_CONSTANT (0x8000000000000001) + i;
  m->capture_time = G_GUINT64_CONSTANT (1700000000123456789) + i * 1000;
  m->hops = 250 - i;
  m->port = 0xfedc - i;
  if (ipv6) {
    m->family = 6;
    m->group[0] = 0xff;
    m->group[1] = 0x3e;
    for (j = 2; j < 16; j++)
      m->group[j] = j * 17 + i;
  } else {
    m->family = 4;
    m->group[0] = 239;
    m->group[1] = 1;
    m->group[2] = 2;
    m->group[3] = i;
  }
  /* odd frames name their sender (the source extension) */
  if (i % 2) {
    if (ipv6) {
      m->source[0] = 0xfd;
      for (j = 1; j < 16; j++)
        m->source[j] = j * 13 + i;
    } else {
      m->source[0] = 10;
      m->source[1] = 20;
      m->source[2] = 30;
      m->source[3] = i;
    }
    m->source_port = 0x1234 + i;
  }
}

static guint8 *
make_payload (gsize len, guint salt)
{
  guint8 *p = g_malloc (MAX (len, 1));
  gsize i;

  for (i = 0; i < len; i++)
    p[i] = (i * 131 + salt * 7 + (i >> 8)) & 0xff;
  return p;
}

static void
assert_meta_equal (const McpFrameMeta * a, const McpFrameMeta * b)
{
  g_assert_cmphex (a->origin_id, ==, b->origin_id);
  g_assert_cmphex (a->seq, ==, b->seq);
  g_assert_cmpuint (a->capture_time, ==, b->capture_time);
  g_assert_cmpuint (a->hops, ==, b->hops);
  g_assert_cmpuint (a->family, ==, b->family);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpmem (a->group, 16, b->group, 16);
  g_assert_cmpmem (a->source, 16, b->source, 16);
  g_assert_cmpuint (a->source_port, ==, b->source_port);
}

static void
assert_meta_zero (const McpFrameMeta * m)
{
  McpFrameMeta zero;

  memset (&zero, 0, sizeof (zero));
  assert_meta_equal (m, &zero);
}

static McpDecoder *
decoder_with (McpFraming framing, GByteArray * a)
{
  McpDecoder *dec = mcp_decoder_new (framing);

  mcp_decoder_push (dec, a->data, a->len);
  return dec;
}

static McpDecodeResult
next_ok (McpDecoder * dec, McpMessage * msg)
{
  GError *err = NULL;
  McpDecodeResult r = mcp_decoder_next (dec, msg, &err);

  g_assert_no_error (err);
  g_assert_cmpint (r, !=, MCP_DECODE_ERROR);
  return r;
}

static void
expect_hello (McpDecoder * dec, McpRole role)
{
  McpMessage msg;

  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmpint (msg.hello.role, ==, role);
}

static void
expect_need_more (McpDecoder * dec)
{
  McpMessage msg;

  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_NEED_MORE);
}

/* The next call fails with code; the decoder stays failed afterwards, even
 * when fed more valid input. Returns the message of the first error. */
static gchar *
expect_error (McpDecoder * dec, gint code)
{
  McpMessage msg;
  GError *err = NULL;
  gchar *message;
  GByteArray *more = g_byte_array_new ();

  g_assert_cmpint (mcp_decoder_next (dec, &msg, &err), ==, MCP_DECODE_ERROR);
  g_assert_error (err, MCP_WIRE_ERROR, code);
  g_assert_nonnull (err->message);
  g_assert_cmpuint (strlen (err->message), >, 0);
  message = g_strdup (err->message);
  g_clear_error (&err);

  /* a NULL GError is allowed */
  g_assert_cmpint (mcp_decoder_next (dec, &msg, NULL), ==, MCP_DECODE_ERROR);

  append_start (more);
  append_gbytes (more, mcp_mpx_build_keepalive ());
  mcp_decoder_push (dec, more->data, more->len);
  g_byte_array_unref (more);
  g_assert_cmpint (mcp_decoder_next (dec, &msg, &err), ==, MCP_DECODE_ERROR);
  g_assert_error (err, MCP_WIRE_ERROR, MCP_WIRE_ERROR_PROTOCOL);
  g_assert_cmpuint (strlen (err->message), >, 0);
  g_clear_error (&err);

  g_assert_false (mcp_decoder_finish (dec, &err));
  g_assert_nonnull (err);
  g_assert_cmpuint (strlen (err->message), >, 0);
  g_clear_error (&err);

  return message;
}

/* Feeds a to a fresh decoder of the framing, and expects exactly one
 * HELLO first when mpx, then the error. */
static gchar *
expect_stream_error (McpFraming framing, GByteArray * a, gboolean hello_first,
    gint code)
{
  McpDecoder *dec = decoder_with (framing, a);
  gchar *message;

  if (hello_first)
    expect_hello (dec, MCP_ROLE_SOURCE);
  message = expect_error (dec, code);
  mcp_decoder_free (dec);
  return message;
}

static void
expect_finish_truncated (McpDecoder * dec)
{
  GError *err = NULL;

  g_assert_false (mcp_decoder_finish (dec, &err));
  g_assert_error (err, MCP_WIRE_ERROR, MCP_WIRE_ERROR_TRUNCATED);
  g_assert_cmpuint (strlen (err->message), >, 0);
  g_clear_error (&err);
}

static void
expect_finish_clean (McpDecoder * dec)
{
  GError *err = NULL;

  g_assert_true (mcp_decoder_finish (dec, &err));
  g_assert_no_error (err);
}

/* ---- names ------------------------------------------------------------- */

static void
test_names (void)
{
  g_assert_cmpstr (mcp_framing_to_string (MCP_FRAMING_AUTO), ==, "auto");
  g_assert_cmpstr (mcp_framing_to_string (MCP_FRAMING_MPX), ==, "mpx");
  g_assert_cmpstr (mcp_framing_to_string (MCP_FRAMING_RFC4571), ==, "rfc4571");
  g_assert_cmpstr (mcp_framing_to_string (MCP_FRAMING_RAW), ==, "raw");
  g_assert_cmpstr (mcp_framing_to_string ((McpFraming) 42), ==, "unknown");
  g_assert_cmpstr (mcp_role_to_string (MCP_ROLE_SOURCE), ==, "source");
  g_assert_cmpstr (mcp_role_to_string (MCP_ROLE_RECEIVER), ==, "receiver");
  g_assert_cmpstr (mcp_role_to_string (MCP_ROLE_PEER), ==, "peer");
  g_assert_cmpstr (mcp_role_to_string ((McpRole) 7), ==, "unknown");
}

/* ---- HELLO ------------------------------------------------------------- */

/* The exact bytes of docs/protocol.md's example. */
static void
test_hello_bytes (void)
{
  static const guint8 expected[] = {
    0x89, 'M', 'P', 'X', 1, 0, 0, 0,    /* preamble */
    'H', 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x0d,      /* header */
    0x02, 0x00, 0x00, 0x00,     /* role receiver, flags, reserved */
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,     /* peer id */
    0x00, 0x02, 0x00, 0x09, 'r', 'e', 'c', 'e', 'i', 'v', 'e', 'r', '1',
  };
  GBytes *b = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, PEER_ID, NULL,
      "receiver1");
  gsize len;
  const guint8 *p = g_bytes_get_data (b, &len);

  g_assert_cmpmem (p, len, expected, sizeof (expected));
  g_bytes_unref (b);

  /* caps come first, then the name */
  b = mcp_mpx_build_hello (MCP_ROLE_SOURCE, 1, "x/y", "n");
  p = g_bytes_get_data (b, &len);
  g_assert_cmpuint (len, ==, 8 + 8 + 12 + 4 + 3 + 4 + 1);
  g_assert_cmpuint (p[16], ==, MCP_ROLE_SOURCE);
  g_assert_cmpmem (p + 28, 7, "\x00\x01\x00\x03x/y", 7);
  g_assert_cmpmem (p + 35, 5, "\x00\x02\x00\x01n", 5);
  g_bytes_unref (b);
}

static void
check_hello_round_trip (McpFraming framing, McpRole role)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;

  append_gbytes (a, mcp_mpx_build_hello (role, PEER_ID, HELLO_CAPS,
          HELLO_NAME));
  dec = decoder_with (framing, a);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, framing);

  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_MPX);
  g_assert_cmpuint (msg.hello.version_major, ==, MCP_MPX_VERSION_MAJOR);
  g_assert_cmpuint (msg.hello.version_major, ==, 1);
  g_assert_cmpuint (msg.hello.version_minor, ==, MCP_MPX_VERSION_MINOR);
  g_assert_cmpuint (msg.hello.version_minor, ==, 0);
  g_assert_cmpint (msg.hello.role, ==, role);
  g_assert_cmpuint (msg.hello.flags, ==, 0);
  g_assert_cmphex (msg.hello.peer_id, ==, PEER_ID);
  g_assert_cmpstr (msg.hello.caps, ==, HELLO_CAPS);
  g_assert_cmpstr (msg.hello.name, ==, HELLO_NAME);
  g_assert_null (msg.payload);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  g_assert_null (msg.caps);
  assert_meta_zero (&msg.meta);

  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  expect_need_more (dec);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

static void
test_hello_source_mpx (void)
{
  check_hello_round_trip (MCP_FRAMING_MPX, MCP_ROLE_SOURCE);
}

static void
test_hello_receiver_mpx (void)
{
  check_hello_round_trip (MCP_FRAMING_MPX, MCP_ROLE_RECEIVER);
}

static void
test_hello_source_auto (void)
{
  check_hello_round_trip (MCP_FRAMING_AUTO, MCP_ROLE_SOURCE);
}

static void
test_hello_receiver_auto (void)
{
  check_hello_round_trip (MCP_FRAMING_AUTO, MCP_ROLE_RECEIVER);
  check_hello_round_trip (MCP_FRAMING_MPX, MCP_ROLE_PEER);
}

static void
test_hello_no_caps_no_name (void)
{
  const gchar *empty[] = { NULL, "" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (empty); i++) {
    GByteArray *a = g_byte_array_new ();
    GBytes *b = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, 0, empty[i],
        empty[i]);
    McpDecoder *dec;
    McpMessage msg;

    /* preamble, header and meta only: no TLVs at all */
    g_assert_cmpuint (g_bytes_get_size (b), ==, 8 + 8 + 12);
    append_gbytes (a, b);
    dec = decoder_with (MCP_FRAMING_AUTO, a);
    g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
    g_assert_cmpint (msg.hello.role, ==, MCP_ROLE_RECEIVER);
    g_assert_cmphex (msg.hello.peer_id, ==, 0);
    g_assert_null (msg.hello.caps);
    g_assert_null (msg.hello.name);
    mcp_decoder_free (dec);
    g_byte_array_unref (a);
  }
}

/* TLVs of unknown types are skipped, wherever they are; an empty caps TLV
 * is an empty string, not NULL. */
static void
test_hello_unknown_tlv (void)
{
  GByteArray *a = g_byte_array_new ();
  GByteArray *tlv = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;

  append_tlv (tlv, 0x7777, "ignore me", 9);
  append_tlv (tlv, MCP_HELLO_TLV_CAPS, "", 0);
  append_tlv (tlv, 0, NULL, 0);
  append_tlv (tlv, MCP_HELLO_TLV_NAME, "n1", 2);
  append_tlv (tlv, 0xffff, "\x00\xff\xfe", 3);
  append_preamble (a, 1, 0);
  append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 99,
      tlv->data, tlv->len);

  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmphex (msg.hello.peer_id, ==, 99);
  g_assert_cmpstr (msg.hello.caps, ==, "");
  g_assert_cmpstr (msg.hello.name, ==, "n1");
  expect_need_more (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (tlv);
  g_byte_array_unref (a);
}

/* ---- DATA -------------------------------------------------------------- */

static void
test_data_header_bytes (void)
{
  static const guint8 expected[MCP_MPX_DATA_HEADER_LEN] = {
    'D', 0x00, 0x00, 0x2c, 0x00, 0x00, 0x05, 0x24,      /* 44 meta, 1316 */
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,     /* origin id */
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,     /* seq */
    0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,     /* capture time */
    0x03, 0x04, 0x13, 0x88,     /* hops, family, port 5000 */
    239, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* group */
  };
  McpFrameMeta m = { 0 };
  guint8 out[MCP_MPX_DATA_HEADER_LEN];

  m.origin_id = G_GUINT64_CONSTANT (0x1112131415161718);
  m.seq = G_GUINT64_CONSTANT (0x2122232425262728);
  m.capture_time = G_GUINT64_CONSTANT (0x3132333435363738);
  m.hops = 3;
  m.family = 4;
  m.port = 5000;
  m.group[0] = 239;
  m.group[1] = 1;
  m.group[2] = 2;
  m.group[3] = 3;
  memset (out, 0xaa, sizeof (out));
  mcp_mpx_write_data_header (out, &m, 1316);
  g_assert_cmpmem (out, sizeof (out), expected, sizeof (expected));
}

static void
check_data_round_trip (gboolean ipv6)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;
  guint i;

  append_start (a);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    McpFrameMeta m;
    guint8 *payload = make_payload (sizes[i], i);

    fill_meta (&m, i, ipv6);
    append_data (a, &m, payload, sizes[i]);
    g_free (payload);
  }
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    McpFrameMeta m;
    guint8 *payload = make_payload (sizes[i], i);

    fill_meta (&m, i, ipv6);
    g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
    assert_meta_equal (&msg.meta, &m);
    g_assert_cmpuint (msg.payload_len, ==, sizes[i]);
    g_assert_nonnull (msg.payload);
    g_assert_cmpmem (msg.payload, msg.payload_len, payload, sizes[i]);
    g_free (payload);
  }
  expect_need_more (dec);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

static void
test_data_ipv4 (void)
{
  check_data_round_trip (FALSE);
}

static void
test_data_ipv6 (void)
{
  check_data_round_trip (TRUE);
}

/* Family 0 (no group) with an all-zero meta block. */
static void
test_data_no_group (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m = { 0 };
  McpDecoder *dec;
  McpMessage msg;

  append_start (a);
  append_data (a, &m, (const guint8 *) "abcd", 4);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  assert_meta_zero (&msg.meta);
  g_assert_cmpmem (msg.payload, msg.payload_len, "abcd", 4);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* A newer minor version may append fields to the DATA meta block: a
 * decoder reads the 64 bytes it knows (44, and the source extension) and
 * skips the rest. */
static void
test_data_meta_extension (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m;
  guint8 hdr[MCP_MPX_DATA_HEADER_MAX_LEN];
  guint8 *payload = make_payload (1316, 5);
  McpDecoder *dec;
  McpMessage msg;

  fill_meta (&m, 5, TRUE);
  g_assert_cmpuint (mcp_mpx_write_data_header (hdr, &m, 1316), ==,
      MCP_MPX_DATA_HEADER_MAX_LEN);
  append_preamble (a, 1, 3);
  append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 1, NULL, 0);
  /* 64 known bytes + 20 extension bytes that look like a header */
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_DATA_SOURCE_META_LEN + 20, 1316);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN,
      MCP_MPX_DATA_SOURCE_META_LEN);
  g_byte_array_append (a, hdr, 20);
  g_byte_array_append (a, payload, 1316);
  /* and the largest meta block allowed, with an empty payload */
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_MAX_META_LEN, 0);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN,
      MCP_MPX_DATA_SOURCE_META_LEN);
  append_zeros (a, MCP_MPX_MAX_META_LEN - MCP_MPX_DATA_SOURCE_META_LEN);

  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmpuint (msg.hello.version_minor, ==, 3);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  assert_meta_equal (&msg.meta, &m);
  g_assert_cmpmem (msg.payload, msg.payload_len, payload, 1316);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  assert_meta_equal (&msg.meta, &m);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  expect_need_more (dec);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  mcp_decoder_free (dec);
  g_free (payload);
  g_byte_array_unref (a);
}

/* The source extension is read only when it is whole and there is a
 * group: a 1.0 block (44 bytes) and a shorter one name no sender, nor does
 * one of family 0; an IPv4 sender is its first 4 bytes. */
static void
test_data_source_extension_edges (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m, want;
  guint8 hdr[MCP_MPX_DATA_HEADER_MAX_LEN];
  guint8 junk[16];
  McpDecoder *dec;
  McpMessage msg;
  guint i;

  fill_meta (&m, 3, FALSE);
  g_assert_true (mcp_frame_meta_has_source (&m));
  mcp_mpx_write_data_header (hdr, &m, 0);
  append_start (a);
  /* the first 44 bytes only, then 60 */
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_DATA_META_LEN, 0);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN, MCP_MPX_DATA_META_LEN);
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_DATA_SOURCE_META_LEN - 4, 0);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN,
      MCP_MPX_DATA_SOURCE_META_LEN - 4);
  /* IPv4 with bytes after the address set */
  for (i = 0; i < 16; i++)
    junk[i] = 0xa0 + i;
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_DATA_SOURCE_META_LEN, 0);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN, 44);
  g_byte_array_append (a, junk, 16);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN + 60, 4);
  /* family 0 with a sender */
  memset (hdr + MCP_MPX_MSG_HEADER_LEN + 25, 0, 19);
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_DATA_SOURCE_META_LEN, 0);
  g_byte_array_append (a, hdr + MCP_MPX_MSG_HEADER_LEN,
      MCP_MPX_DATA_SOURCE_META_LEN);

  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  want = m;
  memset (want.source, 0, 16);
  want.source_port = 0;
  for (i = 0; i < 2; i++) {
    g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
    assert_meta_equal (&msg.meta, &want);
    g_assert_false (mcp_frame_meta_has_source (&msg.meta));
  }
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  want = m;
  memcpy (want.source, junk, 4);
  assert_meta_equal (&msg.meta, &want);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpuint (msg.meta.family, ==, 0);
  g_assert_false (mcp_frame_meta_has_source (&msg.meta));
  g_assert_cmpuint (msg.meta.source_port, ==, 0);
  expect_need_more (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* ---- CAPS and KEEPALIVE ------------------------------------------------ */

static void
test_caps_keepalive (void)
{
  GByteArray *a = g_byte_array_new ();
  GBytes *b;
  McpDecoder *dec;
  McpMessage msg;

  b = mcp_mpx_build_keepalive ();
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
      "K\x01\x00\x00\x00\x00\x00\x00", 8);
  g_bytes_unref (b);
  b = mcp_mpx_build_caps ("video/mpegts");
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
      "C\x00\x00\x00\x00\x00\x00\x0cvideo/mpegts", 20);
  g_bytes_unref (b);

  append_start (a);
  append_gbytes (a, mcp_mpx_build_caps ("video/mpegts, systemstream=true"));
  append_gbytes (a, mcp_mpx_build_keepalive ());
  append_gbytes (a, mcp_mpx_build_caps (""));
  append_gbytes (a, mcp_mpx_build_caps (NULL));
  append_gbytes (a, mcp_mpx_build_keepalive ());

  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_CAPS);
  g_assert_cmpstr (msg.caps, ==, "video/mpegts, systemstream=true");
  g_assert_null (msg.payload);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_KEEPALIVE);
  g_assert_null (msg.caps);
  g_assert_null (msg.payload);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_CAPS);
  g_assert_cmpstr (msg.caps, ==, "");
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_CAPS);
  g_assert_cmpstr (msg.caps, ==, "");
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_KEEPALIVE);
  expect_need_more (dec);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* Strings of several messages decoded in one go stay valid until the next
 * push (mcp-wire.h promises this). */
static void
test_string_lifetime (void)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage m1, m2, m3, m4;

  append_gbytes (a, mcp_mpx_build_hello (MCP_ROLE_SOURCE, 1, "caps/one",
          "name-one"));
  append_gbytes (a, mcp_mpx_build_caps ("caps/two"));
  append_gbytes (a, mcp_mpx_build_caps ("caps/three"));
  append_gbytes (a, mcp_mpx_build_caps ("caps/four"));
  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &m1), ==, MCP_DECODE_HELLO);
  g_assert_cmpint (next_ok (dec, &m2), ==, MCP_DECODE_CAPS);
  g_assert_cmpint (next_ok (dec, &m3), ==, MCP_DECODE_CAPS);
  g_assert_cmpint (next_ok (dec, &m4), ==, MCP_DECODE_CAPS);
  g_assert_cmpstr (m1.hello.caps, ==, "caps/one");
  g_assert_cmpstr (m1.hello.name, ==, "name-one");
  g_assert_cmpstr (m2.caps, ==, "caps/two");
  g_assert_cmpstr (m3.caps, ==, "caps/three");
  g_assert_cmpstr (m4.caps, ==, "caps/four");
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* ---- rfc4571 and raw --------------------------------------------------- */

static void
test_rfc4571 (void)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;
  guint8 hdr[2];
  guint i;

  mcp_rfc4571_write_header (hdr, 1316);
  g_assert_cmpmem (hdr, 2, "\x05\x24", 2);
  mcp_rfc4571_write_header (hdr, 65535);
  g_assert_cmpmem (hdr, 2, "\xff\xff", 2);

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint8 *payload = make_payload (sizes[i], i);

    append_rfc4571 (a, payload, sizes[i]);
    g_free (payload);
  }
  dec = decoder_with (MCP_FRAMING_RFC4571, a);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_RFC4571);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint8 *payload = make_payload (sizes[i], i);

    g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
    g_assert_cmpuint (msg.payload_len, ==, sizes[i]);
    g_assert_cmpmem (msg.payload, msg.payload_len, payload, sizes[i]);
    assert_meta_zero (&msg.meta);
    g_free (payload);
  }
  expect_need_more (dec);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* An rfc4571 decoder does not look for the mpx magic: a HELLO is just a
 * datagram of 0x894d bytes here. */
static void
test_rfc4571_no_detection (void)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;

  append_start (a);
  dec = decoder_with (MCP_FRAMING_RFC4571, a);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_RFC4571);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, a->len);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* Raw has no boundaries: whatever arrived comes back, in order, exactly. */
static void
test_raw (void)
{
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_RAW);
  GByteArray *in = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();
  McpMessage msg;
  guint i;

  expect_need_more (dec);
  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint8 *payload = make_payload (sizes[i], i);

    mcp_decoder_push (dec, payload, sizes[i]);
    g_byte_array_append (in, payload, sizes[i]);
    /* two pushes in a row may come back as one chunk */
    if (i % 2 == 1) {
      while (next_ok (dec, &msg) == MCP_DECODE_DATA) {
        g_assert_cmpuint (msg.payload_len, >, 0);
        assert_meta_zero (&msg.meta);
        g_byte_array_append (out, msg.payload, msg.payload_len);
      }
    }
    g_free (payload);
  }
  /* including the magic: raw never interprets bytes */
  mcp_decoder_push (dec, (const guint8 *) MCP_MPX_MAGIC, 4);
  g_byte_array_append (in, (const guint8 *) MCP_MPX_MAGIC, 4);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpmem (msg.payload, msg.payload_len, MCP_MPX_MAGIC, 4);
  g_byte_array_append (out, msg.payload, msg.payload_len);

  g_assert_cmpmem (out->data, out->len, in->data, in->len);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_RAW);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (in);
  g_byte_array_unref (out);
}

static void
test_auto_raw (void)
{
  const gchar *starts[] = { "GET / HTTP/1.0\r\n\r\n", "\x89", "\x89MPY",
    "\x47\x40\x11\x10", "M"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (starts); i++) {
    McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_AUTO);
    const guint8 *s = (const guint8 *) starts[i];
    gsize len = strlen (starts[i]);
    McpMessage msg;

    g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_AUTO);
    expect_need_more (dec);
    /* "\x89" alone could still be mpx: it takes a second byte to tell */
    if (len == 1 && s[0] == 0x89) {
      mcp_decoder_push (dec, s, 1);
      expect_need_more (dec);
      g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_AUTO);
      s = (const guint8 *) "\x89Z";
      len = 2;
      mcp_decoder_push (dec, s + 1, 1);
    } else {
      mcp_decoder_push (dec, s, len);
    }
    g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
    g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_RAW);
    g_assert_cmpmem (msg.payload, msg.payload_len, s, len);
    assert_meta_zero (&msg.meta);
    expect_need_more (dec);
    expect_finish_clean (dec);
    mcp_decoder_free (dec);
  }
}

static void
test_auto_magic_prefix (void)
{
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  McpMessage msg;

  mcp_decoder_push (dec, (const guint8 *) "\x89M", 2);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_AUTO);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 2);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_AUTO);

  /* the detect timeout fires: a silent client is a raw client */
  mcp_decoder_set_framing (dec, MCP_FRAMING_RAW);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_RAW);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpmem (msg.payload, msg.payload_len, "\x89M", 2);
  mcp_decoder_push (dec, (const guint8 *) "PX\x01", 3);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpmem (msg.payload, msg.payload_len, "PX\x01", 3);
  expect_need_more (dec);
  mcp_decoder_free (dec);

  /* the rest of the magic decides for mpx */
  dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  mcp_decoder_push (dec, (const guint8 *) "\x89MP", 3);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_AUTO);
  mcp_decoder_push (dec, (const guint8 *) "X", 1);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_MPX);
  mcp_decoder_free (dec);
}

/* ---- incremental feeding ----------------------------------------------- */

typedef struct
{
  McpDecodeResult kind;
  McpFrameMeta meta;
  GBytes *payload;
  McpHello hello;               /* strings below, not these */
  gchar *hello_caps;
  gchar *hello_name;
  gchar *caps;
} Rec;

static void
rec_free (gpointer data)
{
  Rec *r = data;

  if (r->payload)
    g_bytes_unref (r->payload);
  g_free (r->hello_caps);
  g_free (r->hello_name);
  g_free (r->caps);
  g_free (r);
}

static Rec *
rec_new (McpDecodeResult kind)
{
  Rec *r = g_new0 (Rec, 1);

  r->kind = kind;
  return r;
}

static void
record (GPtrArray * recs, McpDecodeResult kind, const McpMessage * msg)
{
  Rec *r = rec_new (kind);

  r->meta = msg->meta;
  if (kind == MCP_DECODE_DATA)
    r->payload = g_bytes_new (msg->payload, msg->payload_len);
  r->hello = msg->hello;
  r->hello_caps = g_strdup (msg->hello.caps);
  r->hello_name = g_strdup (msg->hello.name);
  r->caps = g_strdup (msg->caps);
  g_ptr_array_add (recs, r);
}

static void
drain (McpDecoder * dec, GPtrArray * recs)
{
  McpMessage msg;
  McpDecodeResult r;

  while ((r = next_ok (dec, &msg)) != MCP_DECODE_NEED_MORE)
    record (recs, r, &msg);
}

static void
assert_recs_equal (GPtrArray * got, GPtrArray * want)
{
  guint i;

  g_assert_cmpuint (got->len, ==, want->len);
  for (i = 0; i < got->len; i++) {
    Rec *g = g_ptr_array_index (got, i);
    Rec *w = g_ptr_array_index (want, i);

    g_assert_cmpint (g->kind, ==, w->kind);
    switch (w->kind) {
      case MCP_DECODE_HELLO:
        g_assert_cmpuint (g->hello.version_major, ==, w->hello.version_major);
        g_assert_cmpuint (g->hello.version_minor, ==, w->hello.version_minor);
        g_assert_cmpint (g->hello.role, ==, w->hello.role);
        g_assert_cmpuint (g->hello.flags, ==, w->hello.flags);
        g_assert_cmphex (g->hello.peer_id, ==, w->hello.peer_id);
        g_assert_cmpstr (g->hello_caps, ==, w->hello_caps);
        g_assert_cmpstr (g->hello_name, ==, w->hello_name);
        break;
      case MCP_DECODE_DATA:
        assert_meta_equal (&g->meta, &w->meta);
        g_assert_true (g_bytes_equal (g->payload, w->payload));
        break;
      case MCP_DECODE_CAPS:
        g_assert_cmpstr (g->caps, ==, w->caps);
        break;
      case MCP_DECODE_KEEPALIVE:
        break;
      default:
        g_assert_not_reached ();
    }
  }
}

/* A stream of every message kind and the messages a decoder must return
 * for it. Sizes straddle the header lengths and reach the maximum. */
static GByteArray *
build_mixed_stream (GPtrArray * want)
{
  static const gsize data_sizes[] = { 0, 1, 2, 7, 8, 9, 43, 44, 45, 52, 53,
    1316, 1500, 9000, 65507, 65535, 3
  };
  GByteArray *a = g_byte_array_new ();
  Rec *r;
  guint i;

  append_gbytes (a, mcp_mpx_build_hello (MCP_ROLE_SOURCE, PEER_ID,
          HELLO_CAPS, HELLO_NAME));
  r = rec_new (MCP_DECODE_HELLO);
  r->hello.version_major = 1;
  r->hello.version_minor = 0;
  r->hello.role = MCP_ROLE_SOURCE;
  r->hello.peer_id = PEER_ID;
  r->hello_caps = g_strdup (HELLO_CAPS);
  r->hello_name = g_strdup (HELLO_NAME);
  g_ptr_array_add (want, r);

  for (i = 0; i < G_N_ELEMENTS (data_sizes); i++) {
    guint8 *payload = make_payload (data_sizes[i], i + 100);

    r = rec_new (MCP_DECODE_DATA);
    fill_meta (&r->meta, i, i % 2);
    r->payload = g_bytes_new (payload, data_sizes[i]);
    append_data (a, &r->meta, payload, data_sizes[i]);
    g_ptr_array_add (want, r);
    g_free (payload);

    if (i == 4) {
      append_gbytes (a, mcp_mpx_build_keepalive ());
      g_ptr_array_add (want, rec_new (MCP_DECODE_KEEPALIVE));
    } else if (i == 7) {
      /* skipped without a trace */
      append_header (a, 'z', MCP_MSG_FLAG_IGNORABLE, 3, 5);
      g_byte_array_append (a, (const guint8 *) "metapayld", 8);
    } else if (i == 10) {
      r = rec_new (MCP_DECODE_CAPS);
      r->caps = g_strdup ("video/x-h264, stream-format=byte-stream");
      append_gbytes (a, mcp_mpx_build_caps (r->caps));
      g_ptr_array_add (want, r);
    }
  }
  r = rec_new (MCP_DECODE_CAPS);
  r->caps = g_strdup ("video/mpegts, systemstream=(boolean)true");
  append_gbytes (a, mcp_mpx_build_caps (r->caps));
  g_ptr_array_add (want, r);
  return a;
}

static void
test_incremental_whole (void)
{
  GPtrArray *want = g_ptr_array_new_with_free_func (rec_free);
  GPtrArray *got = g_ptr_array_new_with_free_func (rec_free);
  GByteArray *a = build_mixed_stream (want);
  McpDecoder *dec = decoder_with (MCP_FRAMING_AUTO, a);

  drain (dec, got);
  assert_recs_equal (got, want);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
  g_ptr_array_unref (got);
  g_ptr_array_unref (want);
}

static void
test_incremental_bytewise (void)
{
  McpFraming framings[] = { MCP_FRAMING_MPX, MCP_FRAMING_AUTO };
  guint f;

  for (f = 0; f < G_N_ELEMENTS (framings); f++) {
    GPtrArray *want = g_ptr_array_new_with_free_func (rec_free);
    GPtrArray *got = g_ptr_array_new_with_free_func (rec_free);
    GByteArray *a = build_mixed_stream (want);
    McpDecoder *dec = mcp_decoder_new (framings[f]);
    guint i;

    for (i = 0; i < a->len; i++) {
      mcp_decoder_push (dec, a->data + i, 1);
      drain (dec, got);
      /* ending here is clean exactly at a message boundary after HELLO */
      if (i < 64 || i % 997 == 0) {
        McpDecoder *copy = mcp_decoder_new (framings[f]);
        gboolean boundary = got->len > 0 && mcp_decoder_pending (dec) == 0;
        GPtrArray *scratch = g_ptr_array_new_with_free_func (rec_free);
        GError *err = NULL;

        mcp_decoder_push (copy, a->data, i + 1);
        drain (copy, scratch);
        g_assert_cmpuint (scratch->len, ==, got->len);
        if (boundary) {
          g_assert_true (mcp_decoder_finish (copy, &err));
          g_assert_no_error (err);
        } else {
          g_assert_false (mcp_decoder_finish (copy, &err));
          g_assert_error (err, MCP_WIRE_ERROR, MCP_WIRE_ERROR_TRUNCATED);
          g_clear_error (&err);
        }
        g_ptr_array_unref (scratch);
        mcp_decoder_free (copy);
      }
    }
    assert_recs_equal (got, want);
    expect_finish_clean (dec);
    mcp_decoder_free (dec);
    g_byte_array_unref (a);
    g_ptr_array_unref (got);
    g_ptr_array_unref (want);
  }
}

static void
test_incremental_random_chunks (void)
{
  guint32 seed;

  for (seed = 1; seed <= 8; seed++) {
    GPtrArray *want = g_ptr_array_new_with_free_func (rec_free);
    GPtrArray *got = g_ptr_array_new_with_free_func (rec_free);
    GByteArray *a = build_mixed_stream (want);
    McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_AUTO);
    GRand *rand = g_rand_new_with_seed (seed);
    guint off = 0;

    while (off < a->len) {
      /* mostly small chunks, sometimes big ones */
      guint max = g_rand_boolean (rand) ? 64 : 70000;
      guint n = g_rand_int_range (rand, 1, max + 1);

      n = MIN (n, a->len - off);

      mcp_decoder_push (dec, a->data + off, n);
      off += n;
      /* sometimes let data pile up before decoding */
      if (g_rand_int_range (rand, 0, 4) != 0 || off == a->len)
        drain (dec, got);
    }
    assert_recs_equal (got, want);
    expect_finish_clean (dec);
    g_rand_free (rand);
    mcp_decoder_free (dec);
    g_byte_array_unref (a);
    g_ptr_array_unref (got);
    g_ptr_array_unref (want);
  }
}

static void
test_incremental_reserve_commit (void)
{
  guint32 seed;

  for (seed = 1; seed <= 8; seed++) {
    GPtrArray *want = g_ptr_array_new_with_free_func (rec_free);
    GPtrArray *got = g_ptr_array_new_with_free_func (rec_free);
    GByteArray *a = build_mixed_stream (want);
    McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_MPX);
    GRand *rand = g_rand_new_with_seed (seed * 7919);
    guint off = 0;
    guint round = 0;

    while (off < a->len) {
      gsize min_len, avail = 0, n;
      guint8 *p;

      /* now and then ask for far more than the initial capacity */
      if (round++ % 10 == 3)
        min_len = g_rand_int_range (rand, 200000, 400000);
      else
        min_len = g_rand_int_range (rand, 1, 4096);
      p = mcp_decoder_reserve (dec, min_len, &avail);
      g_assert_nonnull (p);
      g_assert_cmpuint (avail, >=, min_len);
      /* a reader takes what the socket has, up to the space given */
      n = g_rand_int_range (rand, 1, 20000);
      n = MIN (n, avail);
      n = MIN (n, a->len - off);
      memcpy (p, a->data + off, n);
      mcp_decoder_commit (dec, n);
      off += n;
      drain (dec, got);
    }
    /* reserving without committing adds nothing */
    mcp_decoder_reserve (dec, 100, NULL);
    mcp_decoder_commit (dec, 0);
    g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
    expect_need_more (dec);
    assert_recs_equal (got, want);
    expect_finish_clean (dec);
    g_rand_free (rand);
    mcp_decoder_free (dec);
    g_byte_array_unref (a);
    g_ptr_array_unref (got);
    g_ptr_array_unref (want);
  }
}

static void
test_pending (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m;
  guint8 *payload = make_payload (100, 1);
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_MPX);
  McpMessage msg;

  fill_meta (&m, 2, FALSE);     /* no sender: a 44-byte block */
  append_start (a);
  append_data (a, &m, payload, 100);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  mcp_decoder_push (dec, a->data, a->len - 1);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, a->len - 1);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==,
      MCP_MPX_DATA_HEADER_LEN + 99);
  expect_need_more (dec);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==,
      MCP_MPX_DATA_HEADER_LEN + 99);
  mcp_decoder_push (dec, a->data + a->len - 1, 1);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpmem (msg.payload, msg.payload_len, payload, 100);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  mcp_decoder_free (dec);
  g_free (payload);
  g_byte_array_unref (a);
}

/* ---- malformed input --------------------------------------------------- */

static void
test_error_bad_magic (void)
{
  GByteArray *a = g_byte_array_new ();
  gchar *message;
  McpDecoder *dec;

  g_byte_array_append (a, (const guint8 *) "GET / HTTP/1.0\r\n\r\n", 18);
  message = expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
      MCP_WIRE_ERROR_BAD_MAGIC);
  /* the reason shows what the peer sent */
  g_assert_nonnull (strstr (message, "47 45 54 20 2f 20 48 54"));
  g_free (message);

  /* a wrong magic fails as soon as it shows, before the preamble is full */
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_decoder_push (dec, (const guint8 *) "\x89M", 2);
  expect_need_more (dec);
  mcp_decoder_push (dec, (const guint8 *) "Q", 1);
  g_free (expect_error (dec, MCP_WIRE_ERROR_BAD_MAGIC));
  mcp_decoder_free (dec);

  /* the magic of another version of the format is not ours either */
  g_byte_array_set_size (a, 0);
  g_byte_array_append (a, (const guint8 *) "\x89MPY\x01\x00\x00\x00", 8);
  g_free (expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
          MCP_WIRE_ERROR_BAD_MAGIC));
  g_byte_array_unref (a);
}

static void
test_error_major_version (void)
{
  McpFraming framings[] = { MCP_FRAMING_MPX, MCP_FRAMING_AUTO };
  guint8 majors[] = { 2, 0, 255 };
  guint i, f;

  for (f = 0; f < G_N_ELEMENTS (framings); f++) {
    for (i = 0; i < G_N_ELEMENTS (majors); i++) {
      GByteArray *a = g_byte_array_new ();
      gchar *message;

      append_preamble (a, majors[i], 0);
      append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 1, NULL, 0);
      message = expect_stream_error (framings[f], a, FALSE,
          MCP_WIRE_ERROR_BAD_VERSION);
      if (majors[i] == 2)
        g_assert_nonnull (strstr (message, "2.0"));
      g_free (message);
      g_byte_array_unref (a);
    }
  }
}

/* A newer minor version is compatible; the reserved preamble bytes are
 * ignored, and so is a longer HELLO meta block. */
static void
test_minor_version_newer (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m;
  McpDecoder *dec;
  McpMessage msg;

  fill_meta (&m, 9, FALSE);
  g_byte_array_append (a, (const guint8 *) "\x89MPX\x01\x07\xab\xcd", 8);
  append_hello_msg (a, MCP_ROLE_RECEIVER, MCP_MPX_HELLO_META_LEN + 16, 77,
      (const guint8 *) "\x00\x02\x00\x03new", 7);
  append_data (a, &m, (const guint8 *) "xyz", 3);
  dec = decoder_with (MCP_FRAMING_AUTO, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmpuint (msg.hello.version_major, ==, 1);
  g_assert_cmpuint (msg.hello.version_minor, ==, 7);
  g_assert_cmpint (msg.hello.role, ==, MCP_ROLE_RECEIVER);
  g_assert_cmphex (msg.hello.peer_id, ==, 77);
  g_assert_null (msg.hello.caps);
  g_assert_cmpstr (msg.hello.name, ==, "new");
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  assert_meta_equal (&msg.meta, &m);
  g_assert_cmpmem (msg.payload, msg.payload_len, "xyz", 3);
  expect_need_more (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

static void
test_error_meta_too_long (void)
{
  GByteArray *a = g_byte_array_new ();

  append_start (a);
  append_header (a, MCP_MSG_DATA, 0, MCP_MPX_MAX_META_LEN + 1, 10);
  /* no need to wait for the body */
  g_free (expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
          MCP_WIRE_ERROR_BAD_LENGTH));

  /* the limit holds for ignorable messages too */
  g_byte_array_set_size (a, 0);
  append_start (a);
  append_header (a, 'x', MCP_MSG_FLAG_IGNORABLE, 0xffff, 0);
  g_free (expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
          MCP_WIRE_ERROR_BAD_LENGTH));
  g_byte_array_unref (a);
}

static void
test_error_payload_too_long (void)
{
  guint32 lengths[] = { MCP_MAX_DATAGRAM + 1, 0x00100000, 0xffffffff };
  guint8 types[] = { MCP_MSG_DATA, MCP_MSG_CAPS, MCP_MSG_KEEPALIVE };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lengths); i++) {
    GByteArray *a = g_byte_array_new ();
    gchar *message;

    append_start (a);
    append_header (a, types[i],
        types[i] == MCP_MSG_KEEPALIVE ? MCP_MSG_FLAG_IGNORABLE : 0,
        types[i] == MCP_MSG_DATA ? MCP_MPX_DATA_META_LEN : 0, lengths[i]);
    message = expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
        MCP_WIRE_ERROR_BAD_LENGTH);
    g_free (message);
    g_byte_array_unref (a);
  }
}

static void
test_error_data_meta_short (void)
{
  guint16 lens[] = { 0, 1, MCP_MPX_DATA_META_LEN - 1 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lens); i++) {
    GByteArray *a = g_byte_array_new ();

    append_start (a);
    append_header (a, MCP_MSG_DATA, 0, lens[i], 4);
    append_zeros (a, lens[i] + 4);
    g_free (expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
            MCP_WIRE_ERROR_BAD_LENGTH));
    g_byte_array_unref (a);
  }
}

static void
test_error_hello_meta_short (void)
{
  guint16 lens[] = { 0, 8, MCP_MPX_HELLO_META_LEN - 1 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (lens); i++) {
    GByteArray *a = g_byte_array_new ();

    append_preamble (a, 1, 0);
    append_hello_msg (a, MCP_ROLE_SOURCE, lens[i], 1, NULL, 0);
    g_free (expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
            MCP_WIRE_ERROR_BAD_LENGTH));
    g_byte_array_unref (a);
  }
}

static void
test_error_unknown_type (void)
{
  guint8 flags[] = { 0x00, 0x02, 0x80, 0xfe };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (flags); i++) {
    GByteArray *a = g_byte_array_new ();
    gchar *message;

    append_start (a);
    append_header (a, 'Q', flags[i], 0, 0);
    message = expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
        MCP_WIRE_ERROR_UNKNOWN_TYPE);
    g_assert_nonnull (strstr (message, "0x51"));
    g_free (message);
    g_byte_array_unref (a);
  }
}

/* Unknown types flagged ignorable are skipped, however many and however
 * big (within the limits), and the next message comes out. */
static void
test_ignorable_skipped (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m;
  McpDecoder *dec;
  McpMessage msg;
  guint i;

  fill_meta (&m, 3, TRUE);
  append_start (a);
  append_header (a, 'Q', MCP_MSG_FLAG_IGNORABLE, 0, 0);
  append_header (a, 0x00, MCP_MSG_FLAG_IGNORABLE | 0x80, 5, 7);
  append_zeros (a, 12);
  append_header (a, 0xff, MCP_MSG_FLAG_IGNORABLE, MCP_MPX_MAX_META_LEN,
      MCP_MAX_DATAGRAM);
  append_zeros (a, MCP_MPX_MAX_META_LEN + MCP_MAX_DATAGRAM);
  for (i = 0; i < 1000; i++)
    append_header (a, 'a' + i % 26, MCP_MSG_FLAG_IGNORABLE, 0, 0);
  append_data (a, &m, (const guint8 *) "after", 5);

  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  assert_meta_equal (&msg.meta, &m);
  g_assert_cmpmem (msg.payload, msg.payload_len, "after", 5);
  expect_need_more (dec);
  mcp_decoder_free (dec);

  /* a flood of them costs no stack (decoded in one call) */
  g_byte_array_set_size (a, 0);
  append_start (a);
  for (i = 0; i < 300000; i++)
    append_header (a, 'f', MCP_MSG_FLAG_IGNORABLE, 0, 0);
  append_gbytes (a, mcp_mpx_build_keepalive ());
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_KEEPALIVE);
  expect_need_more (dec);
  mcp_decoder_free (dec);

  /* an incomplete ignorable message is waited for, not skipped early */
  g_byte_array_set_size (a, 0);
  append_start (a);
  append_header (a, 'w', MCP_MSG_FLAG_IGNORABLE, 2, 2);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  mcp_decoder_push (dec, (const guint8 *) "abc", 3);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);

  /* known types ignore unknown flags */
  g_byte_array_set_size (a, 0);
  append_start (a);
  append_header (a, MCP_MSG_CAPS, 0xfe, 0, 3);
  g_byte_array_append (a, (const guint8 *) "a/b", 3);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_CAPS);
  g_assert_cmpstr (msg.caps, ==, "a/b");
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

static void
test_error_first_not_hello (void)
{
  McpFrameMeta m;
  guint kind;

  fill_meta (&m, 0, FALSE);
  for (kind = 0; kind < 4; kind++) {
    GByteArray *a = g_byte_array_new ();

    append_preamble (a, 1, 0);
    switch (kind) {
      case 0:
        append_data (a, &m, (const guint8 *) "x", 1);
        break;
      case 1:
        append_gbytes (a, mcp_mpx_build_caps ("a/b"));
        break;
      case 2:
        append_gbytes (a, mcp_mpx_build_keepalive ());
        break;
      case 3:
        /* not even an ignorable message may come first */
        append_header (a, 'x', MCP_MSG_FLAG_IGNORABLE, 0, 0);
        break;
    }
    g_free (expect_stream_error (MCP_FRAMING_AUTO, a, FALSE,
            MCP_WIRE_ERROR_PROTOCOL));
    g_byte_array_unref (a);
  }
}

static void
test_error_second_hello (void)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;

  append_start (a);
  append_gbytes (a, mcp_mpx_build_caps ("a/b"));
  /* the second HELLO without its preamble */
  append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 2, NULL, 0);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_CAPS);
  g_free (expect_error (dec, MCP_WIRE_ERROR_PROTOCOL));
  mcp_decoder_free (dec);

  /* and with a preamble: read as a message header, the magic is type 0x89
   * with flags 'M' (ignorable) and a meta block of 0x5058 bytes */
  g_byte_array_set_size (a, 0);
  append_start (a);
  append_start (a);
  g_free (expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
          MCP_WIRE_ERROR_BAD_LENGTH));
  g_byte_array_unref (a);
}

static void
test_error_data_family (void)
{
  guint8 families[] = { 5, 1, 2, 10, 255 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (families); i++) {
    GByteArray *a = g_byte_array_new ();
    McpFrameMeta m;
    gchar *message;

    fill_meta (&m, 0, FALSE);
    m.family = families[i];
    append_start (a);
    append_data (a, &m, (const guint8 *) "abcd", 4);
    message = expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
        MCP_WIRE_ERROR_PROTOCOL);
    if (families[i] == 5)
      g_assert_nonnull (strstr (message, "family 5"));
    g_free (message);
    g_byte_array_unref (a);
  }
}

static void
test_error_hello_role (void)
{
  guint8 roles[] = { 0, 4, 7, 255 };    /* 1-3 are source, receiver, peer */
  guint i;

  for (i = 0; i < G_N_ELEMENTS (roles); i++) {
    GByteArray *a = g_byte_array_new ();
    gchar *message;

    append_preamble (a, 1, 0);
    append_hello_msg (a, roles[i], MCP_MPX_HELLO_META_LEN, 1, NULL, 0);
    message = expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
        MCP_WIRE_ERROR_PROTOCOL);
    if (roles[i] == 7)
      g_assert_nonnull (strstr (message, "role 7"));
    g_free (message);
    g_byte_array_unref (a);
  }
}

static void
test_error_hello_tlv_truncated (void)
{
  /* TLV header cut short; value longer than what is left; a valid TLV and
   * then a stray byte */
  static const struct
  {
    const gchar *tlvs;
    guint32 len;
  } cases[] = {
    {"\x00\x01\x00", 3},
    {"\x00", 1},
    {"\x00\x01\x00\x05" "abcd", 8},
    {"\x00\x02\xff\xff" "abcd", 8},
    {"\x00\x02\x00\x01" "a" "\x00", 6},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GByteArray *a = g_byte_array_new ();

    append_preamble (a, 1, 0);
    append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 1,
        (const guint8 *) cases[i].tlvs, cases[i].len);
    g_free (expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
            MCP_WIRE_ERROR_BAD_LENGTH));
    g_byte_array_unref (a);
  }
}

static void
test_error_not_utf8 (void)
{
  static const struct
  {
    guint16 tlv_type;           /* 0: a CAPS message instead */
    const gchar *value;
    guint16 len;
  } cases[] = {
    {MCP_HELLO_TLV_CAPS, "video/\xff", 7},
    {MCP_HELLO_TLV_CAPS, "a\0b", 3},
    {MCP_HELLO_TLV_NAME, "\xc3", 1},
    {MCP_HELLO_TLV_NAME, "n\0", 2},
    {0, "video/\xc3\x28", 8},
    {0, "a/b\0", 4},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GByteArray *a = g_byte_array_new ();

    if (cases[i].tlv_type) {
      GByteArray *tlv = g_byte_array_new ();

      append_tlv (tlv, cases[i].tlv_type, cases[i].value, cases[i].len);
      append_preamble (a, 1, 0);
      append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 1,
          tlv->data, tlv->len);
      g_byte_array_unref (tlv);
      g_free (expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
              MCP_WIRE_ERROR_PROTOCOL));
    } else {
      append_start (a);
      append_header (a, MCP_MSG_CAPS, 0, 0, cases[i].len);
      g_byte_array_append (a, (const guint8 *) cases[i].value, cases[i].len);
      g_free (expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
              MCP_WIRE_ERROR_PROTOCOL));
    }
    g_byte_array_unref (a);
  }
}

/* ---- end of stream ----------------------------------------------------- */

static void
test_finish_clean (void)
{
  GByteArray *a = g_byte_array_new ();
  McpFrameMeta m;
  McpDecoder *dec;
  McpMessage msg;

  fill_meta (&m, 0, FALSE);
  append_start (a);
  append_data (a, &m, (const guint8 *) "abc", 3);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  expect_need_more (dec);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);

  /* right after the HELLO */
  g_byte_array_set_size (a, 0);
  append_start (a);
  dec = decoder_with (MCP_FRAMING_AUTO, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);

  /* a silent peer on auto, an empty rfc4571 or raw stream */
  dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  expect_need_more (dec);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_RFC4571);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_RAW);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);

  /* complete rfc4571 datagrams */
  g_byte_array_set_size (a, 0);
  append_rfc4571 (a, (const guint8 *) "abc", 3);
  append_rfc4571 (a, NULL, 0);
  dec = decoder_with (MCP_FRAMING_RFC4571, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  expect_need_more (dec);
  expect_finish_clean (dec);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

static void
test_finish_truncated (void)
{
  GByteArray *a = g_byte_array_new ();
  GByteArray *b = g_byte_array_new ();
  McpFrameMeta m;
  McpDecoder *dec;

  fill_meta (&m, 0, FALSE);

  /* inside a message header */
  append_start (a);
  append_data (a, &m, (const guint8 *) "abcdef", 6);
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_decoder_push (dec, a->data, 8 + 8 + 12 + 5);
  expect_hello (dec, MCP_ROLE_SOURCE);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);

  /* inside the DATA meta block, and inside its payload */
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_decoder_push (dec, a->data, 8 + 8 + 12 + 8 + 20);
  expect_hello (dec, MCP_ROLE_SOURCE);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_decoder_push (dec, a->data, a->len - 1);
  expect_hello (dec, MCP_ROLE_SOURCE);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);

  /* inside the preamble, for mpx and auto */
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_decoder_push (dec, a->data, 5);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  mcp_decoder_push (dec, a->data, 2);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  mcp_decoder_push (dec, a->data, 7);
  expect_need_more (dec);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_MPX);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);

  /* before the HELLO: nothing at all, or the preamble only */
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_decoder_push (dec, a->data, MCP_MPX_PREAMBLE_LEN);
  expect_need_more (dec);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  /* inside the HELLO */
  dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  mcp_decoder_push (dec, a->data, MCP_MPX_PREAMBLE_LEN + 10);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);

  /* inside an rfc4571 length prefix, and inside its datagram */
  append_rfc4571 (b, (const guint8 *) "abcdef", 6);
  dec = mcp_decoder_new (MCP_FRAMING_RFC4571);
  mcp_decoder_push (dec, b->data, 1);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_RFC4571);
  mcp_decoder_push (dec, b->data, 2);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_RFC4571);
  mcp_decoder_push (dec, b->data, b->len - 1);
  expect_need_more (dec);
  expect_finish_truncated (dec);
  mcp_decoder_free (dec);

  g_byte_array_unref (a);
  g_byte_array_unref (b);
}

/* A failed decoder cannot end cleanly, and says why. */
static void
test_finish_after_error (void)
{
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_MPX);
  McpMessage msg;
  GError *err = NULL;

  mcp_decoder_push (dec, (const guint8 *) "nonsense", 8);
  g_assert_cmpint (mcp_decoder_next (dec, &msg, NULL), ==, MCP_DECODE_ERROR);
  g_assert_false (mcp_decoder_finish (dec, &err));
  g_assert_error (err, MCP_WIRE_ERROR, MCP_WIRE_ERROR_PROTOCOL);
  g_assert_cmpuint (strlen (err->message), >, 0);
  g_clear_error (&err);
  g_assert_false (mcp_decoder_finish (dec, NULL));
  mcp_decoder_free (dec);
}

/* ---- set_framing ------------------------------------------------------- */

static void
test_set_framing (void)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_RAW);
  McpMessage msg;

  /* a caller that knows better than detection */
  append_rfc4571 (a, (const guint8 *) "\x89MPX", 4);
  mcp_decoder_set_framing (dec, MCP_FRAMING_RFC4571);
  mcp_decoder_push (dec, a->data, a->len);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_DATA);
  g_assert_cmpmem (msg.payload, msg.payload_len, "\x89MPX", 4);

  /* auto settled to mpx by hand, fed before the framing was set */
  g_byte_array_set_size (a, 0);
  append_start (a);
  mcp_decoder_free (dec);
  dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  mcp_decoder_push (dec, a->data, a->len);
  mcp_decoder_set_framing (dec, MCP_FRAMING_MPX);
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_MPX);
  expect_hello (dec, MCP_ROLE_SOURCE);
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
}

/* A HELLO that offers authentication carries its nonce through; a nonce of
 * the wrong size is refused. */
static void
test_auth_hello_nonce (void)
{
  GByteArray *a = g_byte_array_new ();
  guint8 nonce[MCP_AUTH_NONCE_LEN], tlvs[4 + MCP_AUTH_NONCE_LEN + 1];
  McpDecoder *dec;
  McpMessage msg;
  guint i;

  for (i = 0; i < sizeof (nonce); i++)
    nonce[i] = 0xc0 + i;
  append_gbytes (a, mcp_mpx_build_hello_full (MCP_ROLE_PEER, PEER_ID,
          "a/b", "n", nonce, 0));
  dec = decoder_with (MCP_FRAMING_AUTO, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmpint (msg.hello.role, ==, MCP_ROLE_PEER);
  g_assert_cmpstr (msg.hello.caps, ==, "a/b");
  g_assert_cmpstr (msg.hello.name, ==, "n");
  g_assert_true (msg.hello.has_auth_nonce);
  g_assert_cmpmem (msg.hello.auth_nonce, MCP_AUTH_NONCE_LEN, nonce,
      sizeof (nonce));
  mcp_decoder_free (dec);

  /* without: not offered */
  g_byte_array_set_size (a, 0);
  append_start (a);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_false (msg.hello.has_auth_nonce);
  mcp_decoder_free (dec);

  /* 31 and 33 bytes */
  for (i = 0; i < 2; i++) {
    guint16 len = i ? MCP_AUTH_NONCE_LEN + 1 : MCP_AUTH_NONCE_LEN - 1;

    g_byte_array_set_size (a, 0);
    tlvs[0] = 0;
    tlvs[1] = MCP_HELLO_TLV_AUTH_NONCE;
    tlvs[2] = 0;
    tlvs[3] = len;
    memset (tlvs + 4, 7, len);
    append_preamble (a, 1, 0);
    append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, 1, tlvs,
        4 + len);
    g_free (expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
            MCP_WIRE_ERROR_PROTOCOL));
  }
  g_byte_array_unref (a);
}

/* AUTH carries exactly one proof. */
static void
test_auth_message (void)
{
  GByteArray *a = g_byte_array_new ();
  guint8 proof[MCP_AUTH_PROOF_LEN];
  McpDecoder *dec;
  McpMessage msg;
  guint i;

  for (i = 0; i < sizeof (proof); i++)
    proof[i] = 255 - i;
  append_start (a);
  append_gbytes (a, mcp_mpx_build_auth (proof));
  g_assert_cmpuint (a->len, ==, 55 - 27 + 0 + 8 + MCP_AUTH_PROOF_LEN);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_AUTH);
  g_assert_cmpmem (msg.auth_proof, MCP_AUTH_PROOF_LEN, proof, sizeof (proof));
  expect_need_more (dec);
  mcp_decoder_free (dec);

  /* a proof of another size is a length error, even flagged ignorable */
  for (i = 0; i < 3; i++) {
    guint32 len = i == 0 ? 0 : i == 1 ? 31 : 33;

    g_byte_array_set_size (a, 0);
    append_start (a);
    append_header (a, MCP_MSG_AUTH, i == 2 ? MCP_MSG_FLAG_IGNORABLE : 0, 0,
        len);
    append_zeros (a, len);
    g_free (expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
            MCP_WIRE_ERROR_BAD_LENGTH));
  }
  g_byte_array_unref (a);
}

/* ERROR tells why the sender closes: instead of a HELLO (a refusal) or
 * after it. What it says is cleaned for a log line. */
static void
test_error_message (void)
{
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;
  GString *longer = g_string_new (NULL);
  guint i;

  append_gbytes (a, mcp_mpx_build_error ("authentication required", TRUE));
  dec = decoder_with (MCP_FRAMING_AUTO, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_PEER_ERROR);
  g_assert_cmpstr (msg.reason, ==, "authentication required");
  g_assert_cmpint (mcp_decoder_get_framing (dec), ==, MCP_FRAMING_MPX);
  mcp_decoder_free (dec);

  g_byte_array_set_size (a, 0);
  append_start (a);
  append_gbytes (a, mcp_mpx_build_error ("", FALSE));
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_PEER_ERROR);
  g_assert_cmpstr (msg.reason, ==, "");
  mcp_decoder_free (dec);

  /* nothing may follow an ERROR; the stream may end right after it */
  g_byte_array_set_size (a, 0);
  append_gbytes (a, mcp_mpx_build_error ("bye", TRUE));
  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_PEER_ERROR);
  expect_need_more (dec);
  g_assert_true (mcp_decoder_finish (dec, NULL));
  mcp_decoder_free (dec);
  for (i = 0; i < 2; i++) {
    g_byte_array_set_size (a, 0);
    append_gbytes (a, mcp_mpx_build_error ("bye", TRUE));
    if (i == 0)
      append_gbytes (a, mcp_mpx_build_keepalive ());
    else
      append_start (a);
    dec = decoder_with (i == 0 ? MCP_FRAMING_MPX : MCP_FRAMING_AUTO, a);
    g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_PEER_ERROR);
    g_free (expect_error (dec, MCP_WIRE_ERROR_PROTOCOL));
    mcp_decoder_free (dec);
  }

  /* control characters, broken UTF-8 and a NUL from a hostile peer */
  g_byte_array_set_size (a, 0);
  append_start (a);
  append_header (a, MCP_MSG_ERROR, 0, 0, 9);
  g_byte_array_append (a, (const guint8 *) "a\nb\x1b[\xffz\x7f", 9);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_PEER_ERROR);
  g_assert_cmpstr (msg.reason, ==, "a?b?[\xef\xbf\xbdz?\xef\xbf\xbd");
  mcp_decoder_free (dec);

  /* the encoder cuts a long reason at a character boundary */
  for (i = 0; i < MCP_MPX_MAX_ERROR_LEN; i++)
    g_string_append (longer, i == MCP_MPX_MAX_ERROR_LEN - 1 ? "\xc3\xa9" : "x");
  g_byte_array_set_size (a, 0);
  append_gbytes (a, mcp_mpx_build_error (longer->str, TRUE));
  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_PEER_ERROR);
  g_assert_cmpuint (strlen (msg.reason), ==, MCP_MPX_MAX_ERROR_LEN - 1);
  g_assert_true (g_utf8_validate (msg.reason, -1, NULL));
  mcp_decoder_free (dec);
  g_string_free (longer, TRUE);
  g_byte_array_unref (a);
}

/* Caps longer than a CAPS message holds are cut at a character boundary,
 * so that the receiver still takes them as UTF-8. */
static void
test_caps_cut_whole_characters (void)
{
  GString *caps = g_string_new (NULL);
  GByteArray *a = g_byte_array_new ();
  McpDecoder *dec;
  McpMessage msg;

  while (caps->len < MCP_MPX_MAX_CONTROL_LEN - 1)
    g_string_append_c (caps, 'c');
  /* a 2-byte character across the limit */
  g_string_append (caps, "\xc3\xa9tail");
  append_start (a);
  append_gbytes (a, mcp_mpx_build_caps (caps->str));
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_CAPS);
  g_assert_cmpuint (strlen (msg.caps), ==, MCP_MPX_MAX_CONTROL_LEN - 1);
  g_assert_true (g_utf8_validate (msg.caps, -1, NULL));
  mcp_decoder_free (dec);
  g_byte_array_unref (a);
  g_string_free (caps, TRUE);
}

/* SUBSCRIBE and UNSUBSCRIBE: built, split over messages, decoded, applied;
 * the HELLO features field. */
static void
test_subscribe (void)
{
  GByteArray *a = g_byte_array_new ();
  McpSubSet *set = mcp_sub_set_new (), *back = mcp_sub_set_new ();
  McpSubEntry e = { 4, 32, MCP_SUB_ANY, 5000, 5000, {239, 0, 0, 0}, 0,
  NULL
  };
  McpDecoder *dec;
  McpMessage msg;
  guint i, n_msgs = 0;
  guint8 features[4] = { 0x80, 0, 0, 0x01 };

  /* 3000 entries of 28 bytes: two messages of at most 65535 bytes */
  for (i = 0; i < 3000; i++) {
    e.group[2] = i >> 8;
    e.group[3] = i & 0xff;
    g_assert_true (mcp_sub_set_add (set, &e, NULL));
  }
  append_gbytes (a, mcp_mpx_build_hello_full (MCP_ROLE_RECEIVER, PEER_ID,
          NULL, NULL, NULL, MCP_FEATURE_SUBSCRIPTIONS));
  append_gbytes (a, mcp_mpx_build_subscribe (set, FALSE, TRUE));
  /* exact bytes of the header of the first SUBSCRIBE */
  g_assert_cmpuint (a->data[MCP_MPX_PREAMBLE_LEN + MCP_MPX_MSG_HEADER_LEN +
          MCP_MPX_HELLO_META_LEN + 8 + 0], ==, 'S');
  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmphex (msg.hello.features, ==, MCP_FEATURE_SUBSCRIPTIONS);
  while (next_ok (dec, &msg) == MCP_DECODE_SUBSCRIBE) {
    g_assert_cmpint (msg.sub_replace, ==, n_msgs == 0);
    g_assert_cmpuint (msg.payload_len, <=, MCP_MPX_MAX_CONTROL_LEN);
    g_assert_true (mcp_sub_set_apply_wire (back, msg.payload,
            msg.payload_len, FALSE, NULL));
    n_msgs++;
  }
  g_assert_cmpuint (n_msgs, ==, 2);
  g_assert_true (mcp_sub_set_equal (set, back));
  mcp_decoder_free (dec);

  /* an empty whole state is one message; UNSUBSCRIBE is never REPLACE */
  g_byte_array_set_size (a, 0);
  append_start (a);
  mcp_sub_set_clear (set);
  append_gbytes (a, mcp_mpx_build_subscribe (set, FALSE, TRUE));
  g_assert_true (mcp_sub_set_add (set, &e, NULL));
  append_gbytes (a, mcp_mpx_build_subscribe (set, TRUE, TRUE));
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_SUBSCRIBE);
  g_assert_true (msg.sub_replace);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_UNSUBSCRIBE);
  g_assert_false (msg.sub_replace);
  g_assert_cmpuint (msg.payload_len, ==, MCP_SUB_ENTRY_LEN);
  expect_need_more (dec);
  mcp_decoder_free (dec);

  /* a features field of more than 4 bytes: the first 4 count */
  g_byte_array_set_size (a, 0);
  {
    GByteArray *tlv = g_byte_array_new ();
    guint8 five[5] = { 0, 0, 0, 1, 0xff };

    append_tlv (tlv, MCP_HELLO_TLV_FEATURES, five, 5);
    append_preamble (a, MCP_MPX_VERSION_MAJOR, 3);
    append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, PEER_ID,
        tlv->data, tlv->len);
    g_byte_array_unref (tlv);
  }
  dec = decoder_with (MCP_FRAMING_MPX, a);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_HELLO);
  g_assert_cmphex (msg.hello.features, ==, 1);
  mcp_decoder_free (dec);

  /* a shorter one is a protocol error */
  g_byte_array_set_size (a, 0);
  {
    GByteArray *tlv = g_byte_array_new ();
    gchar *message;

    append_tlv (tlv, MCP_HELLO_TLV_FEATURES, features, 3);
    append_preamble (a, MCP_MPX_VERSION_MAJOR, 0);
    append_hello_msg (a, MCP_ROLE_SOURCE, MCP_MPX_HELLO_META_LEN, PEER_ID,
        tlv->data, tlv->len);
    g_byte_array_unref (tlv);
    message = expect_stream_error (MCP_FRAMING_MPX, a, FALSE,
        MCP_WIRE_ERROR_PROTOCOL);
    g_assert_cmpstr (message, ==, "HELLO features field is 3 bytes, needs 4");
    g_free (message);
  }

  /* SUBSCRIBE metadata shorter than 4 bytes */
  g_byte_array_set_size (a, 0);
  append_start (a);
  append_header (a, MCP_MSG_SUBSCRIBE, MCP_MSG_FLAG_IGNORABLE, 2, 0);
  append_zeros (a, 2);
  {
    gchar *message = expect_stream_error (MCP_FRAMING_MPX, a, TRUE,
        MCP_WIRE_ERROR_BAD_LENGTH);

    g_assert_cmpstr (message, ==, "SUBSCRIBE metadata is 2 bytes, needs 4");
    g_free (message);
  }

  mcp_sub_set_free (set);
  mcp_sub_set_free (back);
  g_byte_array_unref (a);
}

/* The per-origin extension of SUBSCRIBE: 16 bytes of metadata, origin at
 * 4 (BE64), distance at 12; read when the block is that long, origin 0
 * and distance 0 otherwise (and for the plain 4-byte block). */
static void
test_subscribe_origin (void)
{
  GByteArray *a = g_byte_array_new ();
  McpSubSet *set = mcp_sub_set_new (), *empty = mcp_sub_set_new ();
  McpSubEntry e = { 4, 32, MCP_SUB_ANY, 5000, 5000, {239, 1, 1, 1}, 0,
  NULL
  };
  McpDecoder *dec;
  McpMessage msg;
  GBytes *b;
  const guint8 *d;
  gsize len;
  static const guint8 want_meta[16] = { MCP_SUB_FLAG_REPLACE, 0, 0, 0,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 3, 0, 0, 0
  };

  g_assert_true (mcp_sub_set_add (set, &e, NULL));
  b = mcp_mpx_build_subscribe_origin (set, FALSE, TRUE, 0x0102030405060708, 3);
  d = g_bytes_get_data (b, &len);
  g_assert_cmpuint (len, ==, MCP_MPX_MSG_HEADER_LEN + 16 + MCP_SUB_ENTRY_LEN);
  g_assert_cmpint (d[0], ==, 'S');
  g_assert_cmpint (d[1], ==, MCP_MSG_FLAG_IGNORABLE);
  g_assert_cmpint (d[2], ==, 0);
  g_assert_cmpint (d[3], ==, 16);
  g_assert_cmpmem (d + MCP_MPX_MSG_HEADER_LEN, 16, want_meta, 16);
  g_bytes_unref (b);

  append_start (a);
  append_gbytes (a, mcp_mpx_build_subscribe_origin (set, FALSE, TRUE,
          0x0102030405060708, 3));
  append_gbytes (a, mcp_mpx_build_subscribe_origin (set, TRUE, FALSE, 42, 7));
  /* a withdrawn origin: an empty REPLACE */
  append_gbytes (a, mcp_mpx_build_subscribe_origin (empty, FALSE, TRUE, 42, 7));
  append_gbytes (a, mcp_mpx_build_subscribe (set, FALSE, FALSE));
  /* 13 bytes: too short for the extension, read as without it */
  append_header (a, MCP_MSG_SUBSCRIBE, MCP_MSG_FLAG_IGNORABLE, 13, 0);
  append_zeros (a, 4);
  g_byte_array_append (a, want_meta + 4, 9);
  dec = decoder_with (MCP_FRAMING_MPX, a);
  expect_hello (dec, MCP_ROLE_SOURCE);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_SUBSCRIBE);
  g_assert_true (msg.sub_replace);
  g_assert_cmphex (msg.sub_origin, ==, 0x0102030405060708);
  g_assert_cmpuint (msg.sub_distance, ==, 3);
  g_assert_cmpuint (msg.payload_len, ==, MCP_SUB_ENTRY_LEN);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_UNSUBSCRIBE);
  g_assert_false (msg.sub_replace);
  g_assert_cmpuint (msg.sub_origin, ==, 42);
  g_assert_cmpuint (msg.sub_distance, ==, 7);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_SUBSCRIBE);
  g_assert_true (msg.sub_replace);
  g_assert_cmpuint (msg.sub_origin, ==, 42);
  g_assert_cmpuint (msg.payload_len, ==, 0);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_SUBSCRIBE);
  g_assert_false (msg.sub_replace);
  g_assert_cmpuint (msg.sub_origin, ==, 0);
  g_assert_cmpuint (msg.sub_distance, ==, 0);
  g_assert_cmpint (next_ok (dec, &msg), ==, MCP_DECODE_SUBSCRIBE);
  g_assert_cmpuint (msg.sub_origin, ==, 0);
  g_assert_cmpuint (msg.sub_distance, ==, 0);
  expect_need_more (dec);
  mcp_decoder_free (dec);

  mcp_sub_set_free (set);
  mcp_sub_set_free (empty);
  g_byte_array_unref (a);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/wire/names", test_names);
  g_test_add_func ("/wire/hello/bytes", test_hello_bytes);
  g_test_add_func ("/wire/hello/source-mpx", test_hello_source_mpx);
  g_test_add_func ("/wire/hello/receiver-mpx", test_hello_receiver_mpx);
  g_test_add_func ("/wire/hello/source-auto", test_hello_source_auto);
  g_test_add_func ("/wire/hello/receiver-auto", test_hello_receiver_auto);
  g_test_add_func ("/wire/hello/no-caps-no-name", test_hello_no_caps_no_name);
  g_test_add_func ("/wire/hello/unknown-tlv", test_hello_unknown_tlv);
  g_test_add_func ("/wire/data/header-bytes", test_data_header_bytes);
  g_test_add_func ("/wire/data/ipv4", test_data_ipv4);
  g_test_add_func ("/wire/data/ipv6", test_data_ipv6);
  g_test_add_func ("/wire/data/no-group", test_data_no_group);
  g_test_add_func ("/wire/data/meta-extension", test_data_meta_extension);
  g_test_add_func ("/wire/data/source-extension-edges",
      test_data_source_extension_edges);
  g_test_add_func ("/wire/caps-keepalive", test_caps_keepalive);
  g_test_add_func ("/wire/string-lifetime", test_string_lifetime);
  g_test_add_func ("/wire/rfc4571/round-trip", test_rfc4571);
  g_test_add_func ("/wire/rfc4571/no-detection", test_rfc4571_no_detection);
  g_test_add_func ("/wire/raw/round-trip", test_raw);
  g_test_add_func ("/wire/auto/raw", test_auto_raw);
  g_test_add_func ("/wire/auto/magic-prefix", test_auto_magic_prefix);
  g_test_add_func ("/wire/set-framing", test_set_framing);
  g_test_add_func ("/wire/incremental/whole", test_incremental_whole);
  g_test_add_func ("/wire/incremental/bytewise", test_incremental_bytewise);
  g_test_add_func ("/wire/incremental/random-chunks",
      test_incremental_random_chunks);
  g_test_add_func ("/wire/incremental/reserve-commit",
      test_incremental_reserve_commit);
  g_test_add_func ("/wire/incremental/pending", test_pending);
  g_test_add_func ("/wire/version/minor-newer", test_minor_version_newer);
  g_test_add_func ("/wire/error/bad-magic", test_error_bad_magic);
  g_test_add_func ("/wire/error/major-version", test_error_major_version);
  g_test_add_func ("/wire/error/meta-too-long", test_error_meta_too_long);
  g_test_add_func ("/wire/error/payload-too-long", test_error_payload_too_long);
  g_test_add_func ("/wire/error/data-meta-short", test_error_data_meta_short);
  g_test_add_func ("/wire/error/hello-meta-short", test_error_hello_meta_short);
  g_test_add_func ("/wire/error/unknown-type", test_error_unknown_type);
  g_test_add_func ("/wire/error/first-not-hello", test_error_first_not_hello);
  g_test_add_func ("/wire/error/second-hello", test_error_second_hello);
  g_test_add_func ("/wire/error/data-family", test_error_data_family);
  g_test_add_func ("/wire/error/hello-role", test_error_hello_role);
  g_test_add_func ("/wire/error/hello-tlv-truncated",
      test_error_hello_tlv_truncated);
  g_test_add_func ("/wire/error/not-utf8", test_error_not_utf8);
  g_test_add_func ("/wire/ignorable-skipped", test_ignorable_skipped);
  g_test_add_func ("/wire/auth/hello-nonce", test_auth_hello_nonce);
  g_test_add_func ("/wire/auth/message", test_auth_message);
  g_test_add_func ("/wire/error-message", test_error_message);
  g_test_add_func ("/wire/caps-cut", test_caps_cut_whole_characters);
  g_test_add_func ("/wire/finish/clean", test_finish_clean);
  g_test_add_func ("/wire/finish/truncated", test_finish_truncated);
  g_test_add_func ("/wire/finish/after-error", test_finish_after_error);
  g_test_add_func ("/wire/subscribe", test_subscribe);
  g_test_add_func ("/wire/subscribe-origin", test_subscribe_origin);

  return g_test_run ();
}
