/* mcastproxy test tools — the cutter, the checker and the tool parts that
 * mcp-recv, mcp-fanout and mcp-send share (see mcp-stream.h). */
#include "mcp-stream.h"

#include <gio/gio.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the tool -------------------------------------------------------- */

volatile sig_atomic_t mcps_stop_requested = 0;

static const gchar *tool_name = "mcp-tool";

const gchar *
mcps_tool (void)
{
  return tool_name;
}

gboolean
mcps_parse_args (const gchar * tool, const gchar * summary,
    const GOptionEntry * entries, const gchar * description, int *argc,
    char ***argv)
{
  GOptionContext *ctx;
  GError *err = NULL;
  gboolean ok;

  tool_name = tool;
  ctx = g_option_context_new (summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx, description);
  ok = g_option_context_parse (ctx, argc, argv, &err);
  g_option_context_free (ctx);
  if (!ok) {
    g_printerr ("%s: %s\n", tool, err->message);
    g_error_free (err);
    return FALSE;
  }
  if (*argc > 1) {
    g_printerr ("%s: unexpected argument '%s'\n", tool, (*argv)[1]);
    return FALSE;
  }
  return TRUE;
}

static void
on_stop_signal (int sig)
{
  mcps_stop_requested = 1;
}

void
mcps_catch_stop_signals (sigset_t * run_mask)
{
  struct sigaction sa;
  sigset_t block;

  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = on_stop_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  if (!run_mask)
    return;
  sigemptyset (&block);
  sigaddset (&block, SIGINT);
  sigaddset (&block, SIGTERM);
  sigprocmask (SIG_BLOCK, &block, run_mask);
  sigdelset (run_mask, SIGINT);
  sigdelset (run_mask, SIGTERM);
}

guint64
mcps_mono_ns (void)
{
  return mcpt_now_ns (CLOCK_MONOTONIC);
}

void
mcps_write_ready_file (const gchar * path)
{
  GError *err = NULL;

  if (!path)
    return;
  if (!g_file_set_contents (path, "ready\n", -1, &err)) {
    g_printerr ("%s: cannot write the ready file: %s\n", tool_name,
        err->message);
    g_error_free (err);
  }
}

gboolean
mcps_set_opt (gint fd, gint level, gint name, const void *value,
    socklen_t len, const gchar * what)
{
  if (setsockopt (fd, level, name, value, len) < 0) {
    g_printerr ("%s: cannot set %s: %s\n", tool_name, what, g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

struct addrinfo *
mcps_resolve_tcp (const gchar * hostport, gchar ** host, gchar ** port)
{
  GSocketConnectable *na;
  GError *err = NULL;
  struct addrinfo hints, *res = NULL;
  gint gai;

  *host = *port = NULL;
  na = g_network_address_parse (hostport, 0, &err);
  if (!na) {
    g_printerr ("%s: bad --tcp '%s': %s\n", tool_name, hostport, err->message);
    g_error_free (err);
    return NULL;
  }
  if (g_network_address_get_port (G_NETWORK_ADDRESS (na)) == 0) {
    g_printerr ("%s: --tcp '%s' needs a port: HOST:PORT\n", tool_name,
        hostport);
    g_object_unref (na);
    return NULL;
  }
  *host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (na)));
  *port = g_strdup_printf ("%u",
      (guint) g_network_address_get_port (G_NETWORK_ADDRESS (na)));
  g_object_unref (na);

  memset (&hints, 0, sizeof (hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  gai = getaddrinfo (*host, *port, &hints, &res);
  if (gai != 0) {
    g_printerr ("%s: cannot resolve '%s': %s\n", tool_name, *host,
        gai_strerror (gai));
    return NULL;
  }
  return res;
}

guint64
mcps_rank (guint64 total, guint pct)
{
  guint64 rank;

  if (total == 0)
    return 0;
  rank = (total * pct + 99) / 100;
  return rank == 0 ? 1 : rank;
}

/* ---- the cutter ------------------------------------------------------ */

gboolean
mcps_framing_parse (const gchar * name, McpsFraming * framing)
{
  if (g_str_equal (name, "raw"))
    *framing = MCPS_FRAMING_RAW;
  else if (g_str_equal (name, "rfc4571"))
    *framing = MCPS_FRAMING_RFC4571;
  else if (g_str_equal (name, "mpx"))
    *framing = MCPS_FRAMING_MPX;
  else
    return FALSE;
  return TRUE;
}

void
mcps_cutter_init (McpsCutter * c, McpsFraming framing,
    const McptSizes * sizes, gboolean skip_long)
{
  memset (c, 0, sizeof (*c));
  c->framing = framing;
  c->sizes = sizes;
  c->in_sync = TRUE;
  switch (framing) {
    case MCPS_FRAMING_RAW:
      /* a datagram cut short; while resynchronising, 3 bytes */
      c->held_size = sizes->max;
      break;
    case MCPS_FRAMING_RFC4571:
      c->hold_max = skip_long ? sizes->max : G_MAXUINT16;
      c->held_size = MCP_RFC4571_HEADER_LEN + c->hold_max;
      break;
    case MCPS_FRAMING_MPX:
      /* the decoder holds what it needs */
      c->mpx = mcp_decoder_new (MCP_FRAMING_MPX);
      break;
  }
  if (c->held_size)
    c->held = g_malloc (c->held_size);
}

void
mcps_cutter_clear (McpsCutter * c)
{
  g_free (c->held);
  if (c->mpx)
    mcp_decoder_free (c->mpx);
  memset (c, 0, sizeof (*c));
}

gsize
mcps_cutter_headroom (const McpsCutter * c)
{
  return c->held_size;
}

guint8 *
mcps_cutter_load (McpsCutter * c, guint8 * rbuf)
{
  g_assert (c->buf == NULL);
  if (c->held_len > 0)
    memcpy (rbuf, c->held, c->held_len);
  return rbuf + c->held_len;
}

void
mcps_cutter_feed (McpsCutter * c, guint8 * rbuf, gsize got)
{
  g_assert (c->buf == NULL);
  c->bytes += got;
  if (c->mpx) {
    mcp_decoder_push (c->mpx, rbuf, got);
    return;
  }
  c->buf = rbuf;
  c->len = c->held_len + got;
  c->pos = 0;
  c->held_len = 0;
  if (c->skip > 0) {
    c->pos = MIN (c->skip, c->len);
    c->skip -= c->pos;
  }
}

/* Everything left is held for the next feed. */
McpsCut
mcps_cutter_hold_rest (McpsCutter * c)
{
  c->held_len = c->len - c->pos;
  g_assert (c->held_len <= c->held_size);
  if (c->held_len > 0)
    memcpy (c->held, c->buf + c->pos, c->held_len);
  c->offset += c->pos;
  c->buf = NULL;
  return MCPS_CUT_NEED_MORE;
}

static McpsCut
next_mpx (McpsCutter * c, McpsItem * item)
{
  for (;;) {
    GError *err = NULL;
    McpDecodeResult res = mcp_decoder_next (c->mpx, &item->msg, &err);

    switch (res) {
      case MCP_DECODE_NEED_MORE:
        return MCPS_CUT_NEED_MORE;
      case MCP_DECODE_ERROR:
        g_snprintf (item->reason, sizeof (item->reason),
            "mpx decode error: %s", err->message);
        g_error_free (err);
        return MCPS_CUT_ERROR;
      case MCP_DECODE_DATA:
        /* the decoder returns DATA only after the HELLO */
        item->data = item->msg.payload;
        item->len = item->msg.payload_len;
        return MCPS_CUT_DATAGRAM;
      case MCP_DECODE_CAPS:
      case MCP_DECODE_KEEPALIVE:
      case MCP_DECODE_SUBSCRIBE:
      case MCP_DECODE_UNSUBSCRIBE:
        break;
      case MCP_DECODE_HELLO:
      case MCP_DECODE_AUTH:
      case MCP_DECODE_PEER_ERROR:
        item->control = res;
        return MCPS_CUT_CONTROL;
    }
  }
}

McpsCut
mcps_cutter_next_slow (McpsCutter * c, McpsItem * item)
{
  const guint8 *p;
  gsize avail, i;

  if (c->mpx)
    return next_mpx (c, item);
  p = c->buf + c->pos;
  avail = c->len - c->pos;
  if (c->framing == MCPS_FRAMING_RFC4571) {
    gsize size = ((gsize) p[0] << 8) | p[1];

    /* longer than any datagram: skipped, not held */
    g_snprintf (item->reason, sizeof (item->reason), "frame of %"
        G_GSIZE_FORMAT " bytes at stream offset %" G_GUINT64_FORMAT
        ", longer than any of --sizes", size, c->offset + c->pos);
    c->skip = MCP_RFC4571_HEADER_LEN + size;
    c->pos += MIN (c->skip, avail);
    c->skip -= MIN (c->skip, avail);
    return MCPS_CUT_CORRUPT;
  }

  /* raw, and no magic here: the datagram boundaries are lost; on to the
   * next magic (the last 3 bytes are held if there is none) */
  for (i = 1; i + 4 <= avail; i++)
    if (mcpt_kind (p + i, 4) != MCPT_KIND_INVALID)
      break;
  c->pos += i;
  if (c->in_sync) {
    c->in_sync = FALSE;
    g_snprintf (item->reason, sizeof (item->reason), "bad magic at stream "
        "offset %" G_GUINT64_FORMAT "; resynchronising", c->offset + c->pos
        - i);
    return MCPS_CUT_CORRUPT;
  }
  /* at a magic now, or short of a header */
  return mcps_cutter_next (c, item);
}

gboolean
mcps_cutter_finish (McpsCutter * c, gchar * reason, gsize reason_size)
{
  GError *err = NULL;

  if (!c->mpx || mcp_decoder_finish (c->mpx, &err))
    return TRUE;
  g_snprintf (reason, reason_size, "mpx decode error: %s", err->message);
  g_error_free (err);
  return FALSE;
}

gsize
mcps_cutter_pending (McpsCutter * c, gchar * reason, gsize reason_size)
{
  gsize n;

  if (c->mpx)
    n = mcp_decoder_pending (c->mpx);
  else
    n = c->buf ? c->len - c->pos : c->held_len;
  if (n > 0)
    g_snprintf (reason, reason_size, "%" G_GSIZE_FORMAT " bytes of an "
        "incomplete %s at the end of the stream", n,
        c->mpx ? "mpx message" : "datagram");
  return n;
}

/* ---- the checker ----------------------------------------------------- */

/* One copy of the pattern that starts with byte value 0 at its offset 24
 * serves every datagram: the pattern advances by the same step, 7, every
 * byte, so it runs through all 256 values before it repeats, and the
 * pattern of any (stream, seq) is the piece of the copy that starts where
 * its first byte is. That is checked here against mcpt_fill_pattern() for
 * many streams and seqs; should the pattern ever change shape, every
 * datagram goes through mcpt_verify(). */
void
mcps_checker_init (McpsChecker * k, const McptSizes * sizes)
{
  gsize ref_len = MCPT_HEADER_SIZE + 256 + sizes->max;
  guint8 *tmp = g_malloc (sizes->max);
  gboolean seen[256];
  guint v, s;

  memset (k, 0, sizeof (*k));
  k->sizes = sizes;
  k->ref = g_malloc (ref_len);
  mcpt_fill_pattern (k->ref, ref_len, 0, 0);
  memset (seen, 0, sizeof (seen));
  k->fast = TRUE;
  for (v = 0; v < 256; v++) {
    guint8 b = k->ref[MCPT_HEADER_SIZE + v];

    if (seen[b])
      k->fast = FALSE;
    seen[b] = TRUE;
    k->pos[b] = (guint8) v;
  }
  for (s = 0; s < 256 && k->fast; s++) {
    guint64 seq = s * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) + s;
    guint32 id = s * 0x01000193u;
    guint8 first = mcpt_pattern_byte (id, seq, MCPT_HEADER_SIZE);

    mcpt_fill_pattern (tmp, sizes->max, id, seq);
    if (memcmp (tmp + MCPT_HEADER_SIZE, k->ref + MCPT_HEADER_SIZE +
            k->pos[first], sizes->max - MCPT_HEADER_SIZE) != 0)
      k->fast = FALSE;
  }
  g_free (tmp);
}

void
mcps_checker_clear (McpsChecker * k)
{
  g_free (k->ref);
  memset (k, 0, sizeof (*k));
}

void
mcps_seq_init (McpsSeq * s, guint64 count, guint64 window, gboolean from_first)
{
  guint64 want = window ? MIN (window, count) : count;

  memset (s, 0, sizeof (*s));
  s->count = count;
  s->from_first = from_first;
  s->window_bits = 64;
  while (s->window_bits < want)
    s->window_bits *= 2;
  s->window = g_malloc0 (s->window_bits / 8);
  s->first_seq = -1;
  s->last_seq = -1;
}

void
mcps_seq_clear (McpsSeq * s)
{
  g_free (s->window);
  s->window = NULL;
}

void
mcps_seq_forget (McpsSeq * s, guint64 from, guint64 to)
{
  guint64 q, i;

  /* the bits of these seqs now stand for them: not seen */
  if (to - from >= s->window_bits) {
    memset (s->window, 0, s->window_bits / 8);
    return;
  }
  for (q = from; q < to; q++) {
    i = q & (s->window_bits - 1);
    s->window[i / 8] &= (guint8) ~ (1u << (i % 8));
  }
}

guint64
mcps_seq_finish (McpsSeq * s)
{
  guint64 rest;

  if (s->from_first && s->first_seq < 0)
    return 0;
  rest = s->count - s->expected;
  s->lost += rest;
  return rest;
}

void
mcps_seq_beyond_reason (const McpsSeq * s, guint64 seq, gchar * reason,
    gsize reason_size)
{
  g_snprintf (reason, reason_size, "seq %" G_GUINT64_FORMAT
      " is beyond the %" G_GUINT64_FORMAT " datagrams expected", seq, s->count);
}
