/* mcastproxy — wire formats of the TCP leg (see docs/protocol.md). */
#include "config.h"

#include "mcp-wire.h"
#include "mcp-bytes.h"

#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-wire-error-quark, mcp_wire_error);
/* *INDENT-ON* */

typedef enum
{
  STATE_DETECT,                 /* AUTO: mpx or raw? */
  STATE_PREAMBLE,               /* mpx: magic and version */
  STATE_EXPECT_HELLO,           /* mpx: the first message must be HELLO */
  STATE_MESSAGES,               /* mpx: anything but a second HELLO */
  STATE_ENDED,                  /* mpx: the peer sent ERROR; nothing follows */
  STATE_RFC4571,
  STATE_RAW,
  STATE_FAILED,
} DecoderState;

struct _McpDecoder
{
  DecoderState state;
  guint8 *buf;
  gsize cap;
  gsize start;                  /* first byte not yet returned */
  gsize end;                    /* one past the last byte received */
  guint8 peer_minor;            /* from the peer's preamble */
  GPtrArray *strings;           /* handed out since the last reserve */
};

#define INITIAL_CAPACITY (128 * 1024)

const gchar *
mcp_framing_to_string (McpFraming framing)
{
  switch (framing) {
    case MCP_FRAMING_AUTO:
      return "auto";
    case MCP_FRAMING_MPX:
      return "mpx";
    case MCP_FRAMING_RFC4571:
      return "rfc4571";
    case MCP_FRAMING_RAW:
      return "raw";
  }
  return "unknown";
}

const gchar *
mcp_role_to_string (McpRole role)
{
  switch (role) {
    case MCP_ROLE_SOURCE:
      return "source";
    case MCP_ROLE_RECEIVER:
      return "receiver";
    case MCP_ROLE_PEER:
      return "peer";
  }
  return "unknown";
}

/* ---- encoding ---------------------------------------------------------- */

static void
append_msg_header (GByteArray * out, guint8 type, guint8 flags,
    guint16 meta_len, guint32 payload_len)
{
  guint8 h[MCP_MPX_MSG_HEADER_LEN];

  h[0] = type;
  h[1] = flags;
  mcp_put_u16 (h + 2, meta_len);
  mcp_put_u32 (h + 4, payload_len);
  g_byte_array_append (out, h, sizeof (h));
}

static void
append_tlv (GByteArray * out, guint16 type, const gchar * value)
{
  guint8 h[4];
  gsize len = strlen (value);

  /* The whole HELLO payload is bounded; a longer value is not sent. */
  if (len > 16384)
    return;
  mcp_put_u16 (h, type);
  mcp_put_u16 (h + 2, len);
  g_byte_array_append (out, h, sizeof (h));
  g_byte_array_append (out, (const guint8 *) value, len);
}

static void
append_preamble (GByteArray * out)
{
  guint8 pre[MCP_MPX_PREAMBLE_LEN] = { 0 };

  memcpy (pre, MCP_MPX_MAGIC, MCP_MPX_MAGIC_LEN);
  pre[4] = MCP_MPX_VERSION_MAJOR;
  pre[5] = MCP_MPX_VERSION_MINOR;
  g_byte_array_append (out, pre, sizeof (pre));
}

GBytes *
mcp_mpx_build_hello (McpRole role, guint64 peer_id, const gchar * caps,
    const gchar * name)
{
  return mcp_mpx_build_hello_full (role, peer_id, caps, name, NULL, 0);
}

GBytes *
mcp_mpx_build_hello_full (McpRole role, guint64 peer_id, const gchar * caps,
    const gchar * name, const guint8 * auth_nonce, guint32 features)
{
  GByteArray *out = g_byte_array_sized_new (128);
  GByteArray *tlv = g_byte_array_new ();
  guint8 meta[MCP_MPX_HELLO_META_LEN] = { 0 };

  append_preamble (out);
  if (caps && *caps)
    append_tlv (tlv, MCP_HELLO_TLV_CAPS, caps);
  if (name && *name)
    append_tlv (tlv, MCP_HELLO_TLV_NAME, name);
  if (auth_nonce) {
    guint8 h[4];

    mcp_put_u16 (h, MCP_HELLO_TLV_AUTH_NONCE);
    mcp_put_u16 (h + 2, MCP_AUTH_NONCE_LEN);
    g_byte_array_append (tlv, h, sizeof (h));
    g_byte_array_append (tlv, auth_nonce, MCP_AUTH_NONCE_LEN);
  }
  if (features) {
    guint8 h[8];

    mcp_put_u16 (h, MCP_HELLO_TLV_FEATURES);
    mcp_put_u16 (h + 2, 4);
    mcp_put_u32 (h + 4, features);
    g_byte_array_append (tlv, h, sizeof (h));
  }

  meta[0] = role;
  mcp_put_u64 (meta + 4, peer_id);
  append_msg_header (out, MCP_MSG_HELLO, 0, sizeof (meta), tlv->len);
  g_byte_array_append (out, meta, sizeof (meta));
  g_byte_array_append (out, tlv->data, tlv->len);
  g_byte_array_unref (tlv);

  return g_byte_array_free_to_bytes (out);
}

/* The length of the longest prefix of s of at most max bytes that ends
 * at a character boundary (s is UTF-8; NULL: 0). */
static gsize
utf8_prefix_len (const gchar * s, gsize max)
{
  gsize len = s ? strlen (s) : 0;
  const gchar *end;

  if (len <= max)
    return len;
  g_utf8_validate (s, max, &end);
  return end - s;
}

GBytes *
mcp_mpx_build_auth (const guint8 * proof)
{
  GByteArray *out = g_byte_array_new ();

  append_msg_header (out, MCP_MSG_AUTH, 0, 0, MCP_AUTH_PROOF_LEN);
  g_byte_array_append (out, proof, MCP_AUTH_PROOF_LEN);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
mcp_mpx_build_error (const gchar * reason, gboolean with_preamble)
{
  GByteArray *out = g_byte_array_new ();
  gsize len = utf8_prefix_len (reason, MCP_MPX_MAX_ERROR_LEN);
  if (with_preamble)
    append_preamble (out);
  append_msg_header (out, MCP_MSG_ERROR, MCP_MSG_FLAG_IGNORABLE, 0, len);
  if (len)
    g_byte_array_append (out, (const guint8 *) reason, len);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
mcp_mpx_build_caps (const gchar * caps)
{
  GByteArray *out = g_byte_array_new ();
  gsize len = utf8_prefix_len (caps, MCP_MPX_MAX_CONTROL_LEN);

  append_msg_header (out, MCP_MSG_CAPS, 0, 0, len);
  if (len)
    g_byte_array_append (out, (const guint8 *) caps, len);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
mcp_mpx_build_keepalive (void)
{
  GByteArray *out = g_byte_array_new ();

  append_msg_header (out, MCP_MSG_KEEPALIVE, MCP_MSG_FLAG_IGNORABLE, 0, 0);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
build_subscribe (const McpSubSet * set, gboolean unsubscribe,
    gboolean replace, gboolean with_origin, guint64 origin, guint8 distance)
{
  GByteArray *out = g_byte_array_new ();
  GByteArray *payload = g_byte_array_new ();
  guint i = 0, n = mcp_sub_set_size (set);
  gboolean first = TRUE;
  gsize meta_len = with_origin ? MCP_MPX_SUB_ORIGIN_META_LEN :
      MCP_MPX_SUB_META_LEN;

  while (i < n || (first && replace && !unsubscribe)) {
    guint8 meta[MCP_MPX_SUB_ORIGIN_META_LEN] = { 0 };

    g_byte_array_set_size (payload, 0);
    i = mcp_sub_set_encode (set, i, payload, MCP_MPX_MAX_CONTROL_LEN);
    if (first && replace && !unsubscribe)
      meta[0] = MCP_SUB_FLAG_REPLACE;
    if (with_origin) {
      mcp_put_u64 (meta + 4, origin);
      meta[12] = distance;
    }
    append_msg_header (out, unsubscribe ? MCP_MSG_UNSUBSCRIBE :
        MCP_MSG_SUBSCRIBE, MCP_MSG_FLAG_IGNORABLE, meta_len, payload->len);
    g_byte_array_append (out, meta, meta_len);
    g_byte_array_append (out, payload->data, payload->len);
    first = FALSE;
  }
  g_byte_array_unref (payload);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
mcp_mpx_build_subscribe (const McpSubSet * set, gboolean unsubscribe,
    gboolean replace)
{
  return build_subscribe (set, unsubscribe, replace, FALSE, 0, 0);
}

GBytes *
mcp_mpx_build_subscribe_origin (const McpSubSet * set, gboolean unsubscribe,
    gboolean replace, guint64 origin, guint8 distance)
{
  return build_subscribe (set, unsubscribe, replace, TRUE, origin, distance);
}

gboolean
mcp_frame_meta_has_source (const McpFrameMeta * meta)
{
  static const guint8 zero[16] = { 0 };

  return meta->family != 0 && memcmp (meta->source, zero, 16) != 0;
}

gsize
mcp_mpx_write_data_header (guint8 * out, const McpFrameMeta * meta,
    gsize payload_len)
{
  guint8 *m = out + MCP_MPX_MSG_HEADER_LEN;
  gboolean source = mcp_frame_meta_has_source (meta);

  g_assert (payload_len <= MCP_MAX_DATAGRAM);
  out[0] = MCP_MSG_DATA;
  out[1] = 0;
  mcp_put_u16 (out + 2, source ? MCP_MPX_DATA_SOURCE_META_LEN :
      MCP_MPX_DATA_META_LEN);
  mcp_put_u32 (out + 4, payload_len);
  mcp_put_u64 (m, meta->origin_id);
  mcp_put_u64 (m + 8, meta->seq);
  mcp_put_u64 (m + 16, meta->capture_time);
  m[24] = meta->hops;
  m[25] = meta->family;
  mcp_put_u16 (m + 26, meta->port);
  memcpy (m + 28, meta->group, 16);
  if (!source)
    return MCP_MPX_DATA_HEADER_LEN;
  memcpy (m + 44, meta->source, 16);
  mcp_put_u16 (m + 60, meta->source_port);
  mcp_put_u16 (m + 62, 0);
  return MCP_MPX_DATA_HEADER_MAX_LEN;
}

void
mcp_rfc4571_write_header (guint8 * out, gsize payload_len)
{
  g_assert (payload_len <= MCP_MAX_DATAGRAM);
  mcp_put_u16 (out, payload_len);
}

/* ---- decoding ---------------------------------------------------------- */

McpDecoder *
mcp_decoder_new (McpFraming framing)
{
  McpDecoder *dec = g_new0 (McpDecoder, 1);

  dec->cap = INITIAL_CAPACITY;
  dec->buf = g_malloc (dec->cap);
  dec->strings = g_ptr_array_new_with_free_func (g_free);
  mcp_decoder_set_framing (dec, framing);
  return dec;
}

void
mcp_decoder_free (McpDecoder * dec)
{
  if (!dec)
    return;
  g_ptr_array_unref (dec->strings);
  g_free (dec->buf);
  g_free (dec);
}

McpFraming
mcp_decoder_get_framing (McpDecoder * dec)
{
  switch (dec->state) {
    case STATE_DETECT:
      return MCP_FRAMING_AUTO;
    case STATE_RFC4571:
      return MCP_FRAMING_RFC4571;
    case STATE_RAW:
      return MCP_FRAMING_RAW;
    default:
      return MCP_FRAMING_MPX;
  }
}

void
mcp_decoder_set_framing (McpDecoder * dec, McpFraming framing)
{
  g_ptr_array_set_size (dec->strings, 0);
  switch (framing) {
    case MCP_FRAMING_AUTO:
      dec->state = STATE_DETECT;
      break;
    case MCP_FRAMING_MPX:
      dec->state = STATE_PREAMBLE;
      break;
    case MCP_FRAMING_RFC4571:
      dec->state = STATE_RFC4571;
      break;
    case MCP_FRAMING_RAW:
      dec->state = STATE_RAW;
      break;
  }
}

guint8 *
mcp_decoder_reserve (McpDecoder * dec, gsize min_len, gsize * avail)
{
  g_ptr_array_set_size (dec->strings, 0);
  if (dec->cap - dec->end < min_len) {
    gsize used = dec->end - dec->start;

    if (dec->start > 0) {
      memmove (dec->buf, dec->buf + dec->start, used);
      dec->start = 0;
      dec->end = used;
    }
    if (dec->cap - dec->end < min_len) {
      dec->cap = MAX (dec->cap * 2, dec->end + min_len);
      dec->buf = g_realloc (dec->buf, dec->cap);
    }
  }
  if (avail)
    *avail = dec->cap - dec->end;
  return dec->buf + dec->end;
}

void
mcp_decoder_commit (McpDecoder * dec, gsize len)
{
  g_assert (dec->end + len <= dec->cap);
  dec->end += len;
}

void
mcp_decoder_push (McpDecoder * dec, const guint8 * data, gsize len)
{
  memcpy (mcp_decoder_reserve (dec, len, NULL), data, len);
  mcp_decoder_commit (dec, len);
}

gsize
mcp_decoder_pending (McpDecoder * dec)
{
  return dec->end - dec->start;
}

const guint8 *
mcp_decoder_peek (McpDecoder * dec, gsize * len)
{
  *len = dec->end - dec->start;
  return dec->buf + dec->start;
}

void
mcp_decoder_skip (McpDecoder * dec, gsize len)
{
  g_return_if_fail (len <= dec->end - dec->start);
  dec->start += len;
}

/* *INDENT-OFF* */
static McpDecodeResult fail (McpDecoder * dec, GError ** error,
    McpWireError code, const gchar * format, ...) G_GNUC_PRINTF (4, 5);
/* *INDENT-ON* */

static McpDecodeResult
fail (McpDecoder * dec, GError ** error, McpWireError code,
    const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  if (error)
    *error = g_error_new_valist (MCP_WIRE_ERROR, code, format, args);
  va_end (args);
  dec->state = STATE_FAILED;
  return MCP_DECODE_ERROR;
}

static gchar *
hex_dump (const guint8 * p, gsize len)
{
  GString *s = g_string_new (NULL);
  gsize i;

  for (i = 0; i < len; i++)
    g_string_append_printf (s, "%s%02x", i ? " " : "", p[i]);
  return g_string_free (s, FALSE);
}

/* Copies a wire string into a NUL-terminated one owned by the decoder,
 * valid as long as the message's other pointers (see mcp-wire.h). */
static const gchar *
keep_string (McpDecoder * dec, const guint8 * p, gsize len)
{
  gchar *s = g_strndup ((const gchar *) p, len);

  if (strlen (s) != len || !g_utf8_validate (s, -1, NULL)) {
    g_free (s);
    return NULL;
  }
  g_ptr_array_add (dec->strings, s);
  return s;
}

/* A peer's free text for a log line: control characters become '?',
 * invalid UTF-8 and NUL bytes U+FFFD; at most MCP_MPX_MAX_ERROR_LEN bytes
 * are looked at. */
static const gchar *
keep_printable (McpDecoder * dec, const guint8 * p, gsize len)
{
  gchar *s = g_utf8_make_valid ((const gchar *) p,
      MIN (len, MCP_MPX_MAX_ERROR_LEN));
  gchar *c;

  for (c = s; *c; c++)
    if ((guchar) * c < 0x20 || *c == 0x7f)
      *c = '?';
  g_ptr_array_add (dec->strings, s);
  return s;
}

static McpDecodeResult
parse_hello (McpDecoder * dec, const guint8 * meta, const guint8 * payload,
    guint32 payload_len, McpMessage * msg, GError ** error)
{
  guint32 off = 0;

  msg->hello.version_major = MCP_MPX_VERSION_MAJOR;
  msg->hello.version_minor = dec->peer_minor;
  msg->hello.role = meta[0];
  msg->hello.flags = meta[1];
  msg->hello.peer_id = mcp_get_u64 (meta + 4);
  msg->hello.caps = NULL;
  msg->hello.name = NULL;
  msg->hello.has_auth_nonce = FALSE;
  msg->hello.features = 0;
  if (msg->hello.role != MCP_ROLE_SOURCE
      && msg->hello.role != MCP_ROLE_RECEIVER
      && msg->hello.role != MCP_ROLE_PEER)
    return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
        "HELLO names unknown role %u", meta[0]);

  while (off < payload_len) {
    guint16 type, len;

    if (payload_len - off < 4)
      return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
          "HELLO field header truncated at byte %u of %u", off, payload_len);
    type = mcp_get_u16 (payload + off);
    len = mcp_get_u16 (payload + off + 2);
    off += 4;
    if (len > payload_len - off)
      return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
          "HELLO field %u claims %u bytes, only %u left", type, len,
          payload_len - off);
    if (type == MCP_HELLO_TLV_CAPS) {
      msg->hello.caps = keep_string (dec, payload + off, len);
      if (!msg->hello.caps)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "HELLO caps are not a UTF-8 string");
    } else if (type == MCP_HELLO_TLV_NAME) {
      msg->hello.name = keep_string (dec, payload + off, len);
      if (!msg->hello.name)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "HELLO name is not a UTF-8 string");
    } else if (type == MCP_HELLO_TLV_AUTH_NONCE) {
      if (len != MCP_AUTH_NONCE_LEN)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "HELLO authentication nonce is %u bytes, not %u", len,
            MCP_AUTH_NONCE_LEN);
      msg->hello.has_auth_nonce = TRUE;
      memcpy (msg->hello.auth_nonce, payload + off, len);
    } else if (type == MCP_HELLO_TLV_FEATURES) {
      /* a longer value may carry more bits later: the first 4 count */
      if (len < 4)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "HELLO features field is %u bytes, needs 4", len);
      msg->hello.features = mcp_get_u32 (payload + off);
    }
    off += len;
  }
  return MCP_DECODE_HELLO;
}

static McpDecodeResult
next_mpx_message (McpDecoder * dec, McpMessage * msg, GError ** error)
{
  const guint8 *h;
  gsize avail;
  guint8 type, flags;
  guint16 meta_len;
  guint32 payload_len;
  gsize total;
  const guint8 *meta, *payload;

  /* A loop, not recursion: a peer may send any number of skippable
   * messages in a row. */
again:
  h = dec->buf + dec->start;
  avail = dec->end - dec->start;
  if (avail < MCP_MPX_MSG_HEADER_LEN)
    return MCP_DECODE_NEED_MORE;

  type = h[0];
  flags = h[1];
  meta_len = mcp_get_u16 (h + 2);
  payload_len = mcp_get_u32 (h + 4);

  if (meta_len > MCP_MPX_MAX_META_LEN)
    return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
        "message type 0x%02x has a %u-byte metadata block (at most %u)",
        type, meta_len, MCP_MPX_MAX_META_LEN);
  if (payload_len > MCP_MAX_DATAGRAM)
    return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
        "message type 0x%02x claims a %u-byte payload (at most %u)",
        type, payload_len, MCP_MAX_DATAGRAM);

  switch (type) {
    case MCP_MSG_HELLO:
      if (meta_len < MCP_MPX_HELLO_META_LEN)
        return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
            "HELLO metadata is %u bytes, needs %u", meta_len,
            MCP_MPX_HELLO_META_LEN);
      if (dec->state != STATE_EXPECT_HELLO)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "second HELLO on one connection");
      break;
    case MCP_MSG_DATA:
      if (meta_len < MCP_MPX_DATA_META_LEN)
        return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
            "DATA metadata is %u bytes, needs %u", meta_len,
            MCP_MPX_DATA_META_LEN);
      break;
    case MCP_MSG_AUTH:
      if (payload_len != MCP_AUTH_PROOF_LEN)
        return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
            "AUTH proof is %u bytes, not %u", payload_len, MCP_AUTH_PROOF_LEN);
      break;
    case MCP_MSG_SUBSCRIBE:
    case MCP_MSG_UNSUBSCRIBE:
      if (meta_len < MCP_MPX_SUB_META_LEN)
        return fail (dec, error, MCP_WIRE_ERROR_BAD_LENGTH,
            "%sSUBSCRIBE metadata is %u bytes, needs %u",
            type == MCP_MSG_UNSUBSCRIBE ? "UN" : "", meta_len,
            MCP_MPX_SUB_META_LEN);
      break;
    case MCP_MSG_CAPS:
    case MCP_MSG_KEEPALIVE:
    case MCP_MSG_ERROR:
      break;
    default:
      if (!(flags & MCP_MSG_FLAG_IGNORABLE))
        return fail (dec, error, MCP_WIRE_ERROR_UNKNOWN_TYPE,
            "unknown message type 0x%02x", type);
      break;
  }
  /* an ERROR may come instead of the HELLO: a refusal */
  if (dec->state == STATE_EXPECT_HELLO && type != MCP_MSG_HELLO
      && type != MCP_MSG_ERROR)
    return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
        "first message is type 0x%02x, not HELLO", type);

  total = MCP_MPX_MSG_HEADER_LEN + (gsize) meta_len + payload_len;
  if (avail < total)
    return MCP_DECODE_NEED_MORE;

  meta = h + MCP_MPX_MSG_HEADER_LEN;
  payload = meta + meta_len;
  dec->start += total;

  switch (type) {
    case MCP_MSG_HELLO:
      dec->state = STATE_MESSAGES;
      return parse_hello (dec, meta, payload, payload_len, msg, error);
    case MCP_MSG_DATA:
      msg->meta.origin_id = mcp_get_u64 (meta);
      msg->meta.seq = mcp_get_u64 (meta + 8);
      msg->meta.capture_time = mcp_get_u64 (meta + 16);
      msg->meta.hops = meta[24];
      msg->meta.family = meta[25];
      msg->meta.port = mcp_get_u16 (meta + 26);
      memcpy (msg->meta.group, meta + 28, 16);
      if (msg->meta.family != 0 && msg->meta.family != 4
          && msg->meta.family != 6)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "DATA names unknown address family %u", msg->meta.family);
      /* the source extension; without a group it means nothing */
      if (meta_len >= MCP_MPX_DATA_SOURCE_META_LEN && msg->meta.family != 0) {
        memcpy (msg->meta.source, meta + 44, 16);
        if (msg->meta.family == 4)
          memset (msg->meta.source + 4, 0, 12);
        /* no sender without an address */
        msg->meta.source_port = mcp_frame_meta_has_source (&msg->meta) ?
            mcp_get_u16 (meta + 60) : 0;
      } else {
        memset (msg->meta.source, 0, 16);
        msg->meta.source_port = 0;
      }
      msg->payload = payload;
      msg->payload_len = payload_len;
      return MCP_DECODE_DATA;
    case MCP_MSG_CAPS:
      msg->caps = keep_string (dec, payload, payload_len);
      if (!msg->caps)
        return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
            "CAPS is not a UTF-8 string");
      return MCP_DECODE_CAPS;
    case MCP_MSG_KEEPALIVE:
      return MCP_DECODE_KEEPALIVE;
    case MCP_MSG_AUTH:
      memcpy (msg->auth_proof, payload, MCP_AUTH_PROOF_LEN);
      return MCP_DECODE_AUTH;
    case MCP_MSG_ERROR:
      /* whatever it says, the peer is leaving: make it printable */
      msg->reason = keep_printable (dec, payload, payload_len);
      dec->state = STATE_ENDED;
      return MCP_DECODE_PEER_ERROR;
    case MCP_MSG_SUBSCRIBE:
    case MCP_MSG_UNSUBSCRIBE:
      /* the entries are checked by whoever applies them
       * (mcp_sub_set_apply_wire) */
      msg->sub_replace = type == MCP_MSG_SUBSCRIBE
          && (meta[0] & MCP_SUB_FLAG_REPLACE);
      /* the per-origin extension; a shorter block has none */
      if (meta_len >= MCP_MPX_SUB_ORIGIN_META_LEN) {
        msg->sub_origin = mcp_get_u64 (meta + 4);
        msg->sub_distance = meta[12];
      } else {
        msg->sub_origin = 0;
        msg->sub_distance = 0;
      }
      msg->payload = payload;
      msg->payload_len = payload_len;
      return type == MCP_MSG_SUBSCRIBE ? MCP_DECODE_SUBSCRIBE :
          MCP_DECODE_UNSUBSCRIBE;
    default:
      /* ignorable and unknown: skip it and look at the next one */
      goto again;
  }
}

McpDecodeResult
mcp_decoder_next (McpDecoder * dec, McpMessage * msg, GError ** error)
{
  gsize avail = dec->end - dec->start;
  const guint8 *p = dec->buf + dec->start;

  memset (msg, 0, sizeof (*msg));

  switch (dec->state) {
    case STATE_DETECT:
      if (avail == 0)
        return MCP_DECODE_NEED_MORE;
      if (memcmp (p, MCP_MPX_MAGIC, MIN (avail, MCP_MPX_MAGIC_LEN)) != 0) {
        dec->state = STATE_RAW;
        return mcp_decoder_next (dec, msg, error);
      }
      if (avail < MCP_MPX_MAGIC_LEN)
        return MCP_DECODE_NEED_MORE;
      dec->state = STATE_PREAMBLE;
      return mcp_decoder_next (dec, msg, error);

    case STATE_PREAMBLE:
      /* Fail on a wrong magic as soon as it shows. */
      if (memcmp (p, MCP_MPX_MAGIC, MIN (avail, MCP_MPX_MAGIC_LEN)) != 0) {
        gchar *dump = hex_dump (p, MIN (avail, 8));
        McpDecodeResult r = fail (dec, error, MCP_WIRE_ERROR_BAD_MAGIC,
            "not an mpx peer: stream starts with %s", dump);
        g_free (dump);
        return r;
      }
      if (avail < MCP_MPX_PREAMBLE_LEN)
        return MCP_DECODE_NEED_MORE;
      if (p[4] != MCP_MPX_VERSION_MAJOR)
        return fail (dec, error, MCP_WIRE_ERROR_BAD_VERSION,
            "peer speaks mpx version %u.%u, this end speaks %u.x",
            p[4], p[5], MCP_MPX_VERSION_MAJOR);
      dec->peer_minor = p[5];
      dec->start += MCP_MPX_PREAMBLE_LEN;
      dec->state = STATE_EXPECT_HELLO;
      return next_mpx_message (dec, msg, error);

    case STATE_EXPECT_HELLO:
    case STATE_MESSAGES:
      return next_mpx_message (dec, msg, error);

    case STATE_ENDED:
      if (avail == 0)
        return MCP_DECODE_NEED_MORE;
      return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
          "%" G_GSIZE_FORMAT " more bytes after the peer's ERROR", avail);

    case STATE_RFC4571:{
      guint16 len;

      if (avail < MCP_RFC4571_HEADER_LEN)
        return MCP_DECODE_NEED_MORE;
      len = mcp_get_u16 (p);
      if (avail < (gsize) MCP_RFC4571_HEADER_LEN + len)
        return MCP_DECODE_NEED_MORE;
      msg->payload = p + MCP_RFC4571_HEADER_LEN;
      msg->payload_len = len;
      dec->start += MCP_RFC4571_HEADER_LEN + len;
      return MCP_DECODE_DATA;
    }

    case STATE_RAW:
      if (avail == 0)
        return MCP_DECODE_NEED_MORE;
      msg->payload = p;
      msg->payload_len = avail;
      dec->start = dec->end;
      return MCP_DECODE_DATA;

    case STATE_FAILED:
      return fail (dec, error, MCP_WIRE_ERROR_PROTOCOL,
          "decoder used after an error");
  }
  g_assert_not_reached ();
  return MCP_DECODE_ERROR;
}

gboolean
mcp_decoder_finish (McpDecoder * dec, GError ** error)
{
  gsize avail = dec->end - dec->start;
  const guint8 *p = dec->buf + dec->start;

  if (dec->state == STATE_FAILED) {
    fail (dec, error, MCP_WIRE_ERROR_PROTOCOL, "decoder used after an error");
    return FALSE;
  }
  if (avail == 0) {
    if (dec->state == STATE_PREAMBLE || dec->state == STATE_EXPECT_HELLO) {
      fail (dec, error, MCP_WIRE_ERROR_TRUNCATED,
          "connection closed before the mpx HELLO");
      return FALSE;
    }
    return TRUE;
  }

  switch (dec->state) {
    case STATE_RFC4571:
      if (avail < MCP_RFC4571_HEADER_LEN)
        fail (dec, error, MCP_WIRE_ERROR_TRUNCATED,
            "connection closed inside a length prefix (%" G_GSIZE_FORMAT
            " of 2 bytes)", avail);
      else
        fail (dec, error, MCP_WIRE_ERROR_TRUNCATED,
            "connection closed inside a datagram (%" G_GSIZE_FORMAT
            " of %u bytes)", avail - MCP_RFC4571_HEADER_LEN, mcp_get_u16 (p));
      return FALSE;
    case STATE_MESSAGES:
    case STATE_EXPECT_HELLO:
      if (avail < MCP_MPX_MSG_HEADER_LEN)
        fail (dec, error, MCP_WIRE_ERROR_TRUNCATED,
            "connection closed inside a message header (%" G_GSIZE_FORMAT
            " of %u bytes)", avail, MCP_MPX_MSG_HEADER_LEN);
      else
        fail (dec, error, MCP_WIRE_ERROR_TRUNCATED,
            "connection closed inside a message (%" G_GSIZE_FORMAT
            " of %" G_GSIZE_FORMAT " bytes)", avail,
            (gsize) MCP_MPX_MSG_HEADER_LEN + mcp_get_u16 (p + 2) +
            mcp_get_u32 (p + 4));
      return FALSE;
    case STATE_PREAMBLE:
    case STATE_DETECT:
      fail (dec, error, MCP_WIRE_ERROR_TRUNCATED,
          "connection closed inside the mpx preamble (%" G_GSIZE_FORMAT
          " of %u bytes)", avail, MCP_MPX_PREAMBLE_LEN);
      return FALSE;
    default:
      return TRUE;
  }
}
