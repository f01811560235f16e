/* mcastproxy fuzzing — the mpx builders (mcp-wire) against the decoder.
 *
 * Input: byte 0 picks the decoder's framing (bit 0: auto or mpx) and the
 * chunk size for the second pass (bits 1-7, 0: one piece); the rest is a
 * stream. Whatever the decoder takes from it (up to an error) is encoded
 * again with mcp_mpx_build_hello_full(), mcp_mpx_write_data_header(),
 * mcp_mpx_build_caps(), mcp_mpx_build_keepalive(), mcp_mpx_build_auth()
 * and mcp_mpx_build_error(); that encoding must decode to the same
 * messages, as the builders normalise them, and encode to the same bytes
 * once more.
 */
#include "config.h"

#include "fuzz-decode.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* mcp_mpx_build_hello() leaves out empty strings and longer ones than
 * this (see append_tlv in mcp-wire.c). */
#define HELLO_STRING_MAX 16384

static void
append_bytes (GByteArray * out, GBytes * bytes)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);

  g_byte_array_append (out, p, len);
  g_bytes_unref (bytes);
}

static void
append_data (GByteArray * out, const FuzzRecord * r)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (r->payload, &len);
  guint old = out->len;

  g_byte_array_set_size (out, out->len + MCP_MPX_DATA_HEADER_MAX_LEN);
  g_byte_array_set_size (out, old + mcp_mpx_write_data_header (out->data + old,
          &r->meta, len));
  g_byte_array_append (out, p, len);
}

/* The mpx stream for the records of an mpx decoding that began with a
 * HELLO or an ERROR (a refusal). Kinds without a builder here (decoding
 * errors, kinds added later) are left out. */
static GByteArray *
encode (GPtrArray * records)
{
  GByteArray *out = g_byte_array_new ();
  FuzzRecord *first = g_ptr_array_index (records, 0);
  guint i;

  if (first->kind == MCP_DECODE_HELLO) {
    append_bytes (out, mcp_mpx_build_hello_full (first->hello.role,
            first->hello.peer_id, first->hello.caps, first->hello.name,
            first->hello.has_auth_nonce ? first->hello.auth_nonce : NULL,
            first->hello.features));
  } else {
    g_assert_cmpint (first->kind, ==, MCP_DECODE_PEER_ERROR);
    append_bytes (out, mcp_mpx_build_error (first->reason, TRUE));
  }
  for (i = 1; i < records->len; i++) {
    FuzzRecord *r = g_ptr_array_index (records, i);

    switch (r->kind) {
      case MCP_DECODE_AUTH:
        append_bytes (out, mcp_mpx_build_auth (r->auth_proof));
        break;
      case MCP_DECODE_PEER_ERROR:
        append_bytes (out, mcp_mpx_build_error (r->reason, FALSE));
        break;
      case MCP_DECODE_DATA:
        append_data (out, r);
        break;
      case MCP_DECODE_CAPS:
        append_bytes (out, mcp_mpx_build_caps (r->caps));
        break;
      case MCP_DECODE_KEEPALIVE:
        append_bytes (out, mcp_mpx_build_keepalive ());
        break;
      default:
        break;
    }
  }
  return out;
}

static void
normalise_hello_string (const gchar ** s)
{
  if (*s && (**s == '\0' || strlen (*s) > HELLO_STRING_MAX)) {
    g_free ((gchar *) * s);
    *s = NULL;
  }
}

/* mcp_mpx_build_error() sends at most MCP_MPX_MAX_ERROR_LEN bytes, cut
 * at a character boundary; the decoder may have made the reason longer
 * (each invalid byte became U+FFFD). */
static void
normalise_reason (gchar * reason)
{
  const gchar *end;

  if (strlen (reason) > MCP_MPX_MAX_ERROR_LEN) {
    g_utf8_validate (reason, MCP_MPX_MAX_ERROR_LEN, &end);
    reason[end - reason] = '\0';
  }
}

/* What decoding encode (records) must give: the records the builders
 * can express, as they express them. */
static void
normalise (GPtrArray * records)
{
  guint i = 0;

  while (i < records->len) {
    FuzzRecord *r = g_ptr_array_index (records, i);

    switch (r->kind) {
      case MCP_DECODE_HELLO:
        r->hello.version_minor = MCP_MPX_VERSION_MINOR;
        r->hello.flags = 0;
        normalise_hello_string (&r->hello.caps);
        normalise_hello_string (&r->hello.name);
        break;
      case MCP_DECODE_PEER_ERROR:
        normalise_reason (r->reason);
        break;
      case MCP_DECODE_DATA:
      case MCP_DECODE_CAPS:
      case MCP_DECODE_KEEPALIVE:
      case MCP_DECODE_AUTH:
        break;
      default:
        g_ptr_array_remove_index (records, i);
        continue;
    }
    i++;
  }
}

static GPtrArray *
decode (McpFraming framing, GByteArray * stream, gsize chunk)
{
  const FuzzFeed feed = { &chunk, 1, FALSE, G_MAXUINT32 };
  McpFraming settled;
  GPtrArray *records = fuzz_decode (framing, stream->data, stream->len,
      &feed, &settled);

  g_assert_cmpint (settled, ==, MCP_FRAMING_MPX);
  return records;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  static const gsize whole = 0;
  const FuzzFeed one_piece = { &whole, 1, FALSE, G_MAXUINT32 };
  McpFraming framing, settled;
  GPtrArray *first, *second, *third;
  GByteArray *stream, *again;
  gsize chunk;
  FuzzRecord *r;

  if (size < 1)
    return 0;
  framing = (data[0] & 1) ? MCP_FRAMING_MPX : MCP_FRAMING_AUTO;
  chunk = data[0] >> 1;

  first = fuzz_decode (framing, data + 1, size - 1, &one_piece, &settled);
  r = first->len > 0 ? g_ptr_array_index (first, 0) : NULL;
  if (settled != MCP_FRAMING_MPX || !r || (r->kind != MCP_DECODE_HELLO
          && r->kind != MCP_DECODE_PEER_ERROR)) {
    g_ptr_array_unref (first);
    return 0;
  }

  stream = encode (first);
  normalise (first);
  second = decode (MCP_FRAMING_MPX, stream, chunk);
  fuzz_records_assert_equal (second, first);
  /* a listener with framing=auto tells our own stream for mpx */
  third = decode (MCP_FRAMING_AUTO, stream, chunk);
  fuzz_records_assert_equal (third, first);

  again = encode (second);
  g_assert_cmpmem (again->data, again->len, stream->data, stream->len);

  g_byte_array_unref (again);
  g_byte_array_unref (stream);
  g_ptr_array_unref (third);
  g_ptr_array_unref (second);
  g_ptr_array_unref (first);
  return 0;
}
