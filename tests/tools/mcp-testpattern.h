/* mcastproxy test tools — the numbered test stream shared by mcp-send and
 * mcp-recv.
 *
 * Every datagram is at least MCPT_HEADER_SIZE (24) bytes:
 *
 *   0..3    magic: "MCPT" for a stream datagram, "MCPW" for a warm-up one
 *   4..7    stream id (u32, big-endian)
 *   8..15   sequence number (u64, big-endian); the real stream counts from 0,
 *           warm-up datagrams count their own sequence from 0
 *   16..23  send time (u64, big-endian, nanoseconds of CLOCK_REALTIME)
 *   24..    pattern: byte at offset o = (seq * 131 + o * 7 + stream_id) & 0xff
 *
 * The length of datagram seq is sizes[seq % nsizes] from a size list such as
 * "1316" or "24,100,1316,1500,9000,200" (each 24..65507), for stream and
 * warm-up datagrams alike, so that a stream of datagrams concatenated without
 * framing can be cut apart again from the headers alone.
 *
 * Everything here is static inline so that both tools share one definition.
 */
#ifndef MCP_TESTPATTERN_H
#define MCP_TESTPATTERN_H

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MCPT_HEADER_SIZE 24
#define MCPT_MIN_SIZE 24
#define MCPT_MAX_SIZE 65507
#define MCPT_MAGIC_STREAM "MCPT"
#define MCPT_MAGIC_WARMUP "MCPW"
#define MCPT_DEFAULT_SIZES "1316"

typedef enum
{
  MCPT_KIND_INVALID = 0,
  MCPT_KIND_STREAM,
  MCPT_KIND_WARMUP
} McptKind;

/* The size list: parsed once, looked up per datagram. */
typedef struct
{
  guint *sizes;
  guint n;
  guint max;
} McptSizes;

/* Parses a comma-separated list of datagram sizes into @out (free it with
 * mcpt_sizes_clear()). On failure returns FALSE and sets @error. */
static inline gboolean
mcpt_sizes_parse (const gchar * list, McptSizes * out, GError ** error)
{
  gchar **parts;
  guint i, n = 0;

  memset (out, 0, sizeof (*out));
  if (list == NULL)
    list = MCPT_DEFAULT_SIZES;
  parts = g_strsplit (list, ",", -1);
  out->sizes = g_new0 (guint, g_strv_length (parts) + 1);
  for (i = 0; parts[i]; i++) {
    gchar *p = g_strstrip (parts[i]);
    gchar *end = NULL;
    guint64 v;

    if (*p == '\0' && parts[i + 1] == NULL && i > 0)
      break;                    /* tolerate a trailing comma */
    if (*p == '\0' || !g_ascii_isdigit (*p)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "bad size list '%s': '%s' is not a number", list, p);
      goto fail;
    }
    v = g_ascii_strtoull (p, &end, 10);
    if (*end != '\0' || v < MCPT_MIN_SIZE || v > MCPT_MAX_SIZE) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "bad size list '%s': every size must be a number from %d to %d",
          list, MCPT_MIN_SIZE, MCPT_MAX_SIZE);
      goto fail;
    }
    out->sizes[n++] = (guint) v;
    if (v > out->max)
      out->max = (guint) v;
  }
  if (n == 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "empty size list");
    goto fail;
  }
  out->n = n;
  g_strfreev (parts);
  return TRUE;

fail:
  g_strfreev (parts);
  g_free (out->sizes);
  memset (out, 0, sizeof (*out));
  return FALSE;
}

static inline void
mcpt_sizes_clear (McptSizes * s)
{
  g_free (s->sizes);
  memset (s, 0, sizeof (*s));
}

/* The length of datagram @seq (stream or warm-up). */
static inline guint
mcpt_size_for_seq (const McptSizes * s, guint64 seq)
{
  return s->sizes[seq % s->n];
}

static inline guint8
mcpt_pattern_byte (guint32 stream_id, guint64 seq, gsize offset)
{
  return (guint8) ((seq * 131u + (guint64) offset * 7u + stream_id) & 0xff);
}

static inline void
mcpt_put_u32 (guint8 * p, guint32 v)
{
  v = GUINT32_TO_BE (v);
  memcpy (p, &v, 4);
}

static inline void
mcpt_put_u64 (guint8 * p, guint64 v)
{
  v = GUINT64_TO_BE (v);
  memcpy (p, &v, 8);
}

static inline guint32
mcpt_get_u32 (const guint8 * p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_BE (v);
}

static inline guint64
mcpt_get_u64 (const guint8 * p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_BE (v);
}

/* Nanoseconds of @clock_id (CLOCK_REALTIME for send/receive times). */
static inline guint64
mcpt_now_ns (clockid_t clock_id)
{
  struct timespec ts;

  clock_gettime (clock_id, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) +
      (guint64) ts.tv_nsec;
}

/* Writes the header (magic by @kind, stream id, @seq, @send_ns) into @buf. */
static inline void
mcpt_fill_header (guint8 * buf, McptKind kind, guint32 stream_id,
    guint64 seq, guint64 send_ns)
{
  memcpy (buf, kind == MCPT_KIND_WARMUP ? MCPT_MAGIC_WARMUP :
      MCPT_MAGIC_STREAM, 4);
  mcpt_put_u32 (buf + 4, stream_id);
  mcpt_put_u64 (buf + 8, seq);
  mcpt_put_u64 (buf + 16, send_ns);
}

/* Writes the pattern bytes 24..@len-1 of datagram (@stream_id, @seq). */
static inline void
mcpt_fill_pattern (guint8 * buf, gsize len, guint32 stream_id, guint64 seq)
{
  /* The pattern advances by 7 per byte from a start fixed by seq and id. */
  guint8 v = mcpt_pattern_byte (stream_id, seq, MCPT_HEADER_SIZE);
  gsize o;

  for (o = MCPT_HEADER_SIZE; o < len; o++) {
    buf[o] = v;
    v = (guint8) (v + 7);
  }
}

/* Fills a whole datagram of @len (>= 24) bytes. */
static inline void
mcpt_fill (guint8 * buf, gsize len, McptKind kind, guint32 stream_id,
    guint64 seq, guint64 send_ns)
{
  mcpt_fill_header (buf, kind, stream_id, seq, send_ns);
  mcpt_fill_pattern (buf, len, stream_id, seq);
}

/* The kind of datagram a header claims to be, from its magic alone. */
static inline McptKind
mcpt_kind (const guint8 * buf, gsize len)
{
  if (len < 4)
    return MCPT_KIND_INVALID;
  if (memcmp (buf, MCPT_MAGIC_STREAM, 4) == 0)
    return MCPT_KIND_STREAM;
  if (memcmp (buf, MCPT_MAGIC_WARMUP, 4) == 0)
    return MCPT_KIND_WARMUP;
  return MCPT_KIND_INVALID;
}

static inline guint32
mcpt_header_stream_id (const guint8 * buf)
{
  return mcpt_get_u32 (buf + 4);
}

static inline guint64
mcpt_header_seq (const guint8 * buf)
{
  return mcpt_get_u64 (buf + 8);
}

static inline guint64
mcpt_header_send_ns (const guint8 * buf)
{
  return mcpt_get_u64 (buf + 16);
}

/* Checks a whole datagram of @len bytes against the format: magic, stream
 * id, length for its seq, pattern. Returns NULL if it is good, otherwise a
 * reason written into @reason (of @reason_size bytes). */
static inline const gchar *
mcpt_verify (const guint8 * buf, gsize len, guint32 stream_id,
    const McptSizes * sizes, gchar * reason, gsize reason_size)
{
  McptKind kind;
  guint32 id;
  guint64 seq;
  gsize want, o;
  guint8 v;

  if (len < MCPT_HEADER_SIZE) {
    g_snprintf (reason, reason_size,
        "too short: %" G_GSIZE_FORMAT " bytes, a header needs %d", len,
        MCPT_HEADER_SIZE);
    return reason;
  }
  kind = mcpt_kind (buf, len);
  if (kind == MCPT_KIND_INVALID) {
    g_snprintf (reason, reason_size,
        "bad magic %02x %02x %02x %02x", buf[0], buf[1], buf[2], buf[3]);
    return reason;
  }
  id = mcpt_header_stream_id (buf);
  seq = mcpt_header_seq (buf);
  if (id != stream_id) {
    g_snprintf (reason, reason_size,
        "wrong stream: id %u, expected %u (seq %" G_GUINT64_FORMAT ")", id,
        stream_id, seq);
    return reason;
  }
  want = mcpt_size_for_seq (sizes, seq);
  if (len != want) {
    g_snprintf (reason, reason_size,
        "wrong length for seq %" G_GUINT64_FORMAT ": %" G_GSIZE_FORMAT
        " bytes, expected %" G_GSIZE_FORMAT, seq, len, want);
    return reason;
  }
  v = mcpt_pattern_byte (stream_id, seq, MCPT_HEADER_SIZE);
  for (o = MCPT_HEADER_SIZE; o < len; o++) {
    if (buf[o] != v) {
      g_snprintf (reason, reason_size,
          "pattern mismatch at offset %" G_GSIZE_FORMAT " of seq %"
          G_GUINT64_FORMAT ": 0x%02x, expected 0x%02x", o, seq, buf[o], v);
      return reason;
    }
    v = (guint8) (v + 7);
  }
  return NULL;
}

#endif /* MCP_TESTPATTERN_H */
