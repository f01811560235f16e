/* mcastproxy — RTP (RFC 3550) headers, and a window that puts packets back
 * in sequence order and drops duplicates. */
#include "config.h"

#include "mcp-rtp.h"

#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-rtp-error-quark, mcp_rtp_error);
/* *INDENT-ON* */

#define RTP_HEADER_LEN 12

/* *INDENT-OFF* */
static gboolean rtp_error (GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static gboolean
rtp_error (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MCP_RTP_ERROR, MCP_RTP_ERROR_INVALID, msg);
  g_free (msg);
  return FALSE;
}

gboolean
mcp_rtp_parse (const guint8 * data, gsize len, McpRtpHeader * hdr,
    GError ** error)
{
  gsize offset, padding = 0;
  guint version, csrcs;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (hdr != NULL, FALSE);

  if (len < RTP_HEADER_LEN)
    return rtp_error (error, "RTP packet too short: %" G_GSIZE_FORMAT
        " bytes, the header alone is 12", len);
  version = data[0] >> 6;
  if (version != 2)
    return rtp_error (error, "not RTP: version %u, expected 2", version);
  csrcs = data[0] & 0x0f;
  offset = RTP_HEADER_LEN + 4 * csrcs;
  if (offset > len)
    return rtp_error (error, "RTP CSRC list (%u) beyond the packet (%"
        G_GSIZE_FORMAT " bytes)", csrcs, len);
  if (data[0] & 0x10) {
    gsize words;

    if (offset + 4 > len)
      return rtp_error (error, "RTP header extension beyond the packet (%"
          G_GSIZE_FORMAT " bytes)", len);
    words = (data[offset + 2] << 8) | data[offset + 3];
    offset += 4 + 4 * words;
    if (offset > len)
      return rtp_error (error, "RTP header extension (%" G_GSIZE_FORMAT
          " bytes) beyond the packet (%" G_GSIZE_FORMAT " bytes)",
          4 + 4 * words, len);
  }
  if (data[0] & 0x20) {
    padding = data[len - 1];
    if (padding == 0)
      return rtp_error (error, "RTP padding count 0 (it counts itself)");
    if (offset + padding > len)
      return rtp_error (error, "RTP padding (%" G_GSIZE_FORMAT " bytes) "
          "beyond the packet (%" G_GSIZE_FORMAT " bytes after the header)",
          padding, len - offset);
  }

  hdr->marker = (data[1] & 0x80) != 0;
  hdr->payload_type = data[1] & 0x7f;
  hdr->seq = (data[2] << 8) | data[3];
  hdr->timestamp = ((guint32) data[4] << 24) | (data[5] << 16) |
      (data[6] << 8) | data[7];
  hdr->ssrc = ((guint32) data[8] << 24) | (data[9] << 16) |
      (data[10] << 8) | data[11];
  hdr->payload_offset = offset;
  hdr->payload_len = len - offset - padding;
  return TRUE;
}

/* ---- the reorder window ------------------------------------------------

 * Sequence numbers are extended to 64 bits ("ext"), growing across wraps
 * and with a big step at each restart, so that an ext stands for one
 * packet only: a slot or history entry holding another ext is simply not
 * a match, and nothing needs clearing when the window jumps.
 *
 * Everything before next was put out or given up. A held packet sits in
 * slots[ext & mask], ext in [next, next + window] (next itself is the
 * missing one); history[ext & mask] is the ext of a packet put out in
 * [next - size, next). The held packets in arrival order, for expiry, are
 * in a FIFO from which those put out meanwhile are dropped lazily: it
 * holds at most 2 * window + 1 entries (see push). */

typedef struct
{
  gpointer item;                /* NULL: empty */
  guint64 ext;
  guint64 time;
} Slot;

struct _McpRtpReorder
{
  guint window;
  guint64 max_delay;
  GDestroyNotify destroy;

  guint size;                   /* power of two above window */
  guint mask;
  Slot *slots;
  guint64 *history;

  guint64 *fifo;                /* 2 * size entries */
  guint fifo_mask;
  guint fifo_head, fifo_len;

  gboolean active;
  guint32 ssrc;
  guint64 next;
  guint64 highest;
  guint held;

  McpRtpReorderStats stats;
};

McpRtpReorder *
mcp_rtp_reorder_new (guint window, guint64 max_delay, GDestroyNotify destroy)
{
  McpRtpReorder *r;
  guint size = 1;

  g_return_val_if_fail (window >= 1 && window <= 16384, NULL);

  while (size <= window)
    size <<= 1;
  r = g_new0 (McpRtpReorder, 1);
  r->window = window;
  r->max_delay = max_delay;
  r->destroy = destroy;
  r->size = size;
  r->mask = size - 1;
  r->slots = g_new0 (Slot, size);
  r->history = g_new (guint64, size);
  memset (r->history, 0xff, size * sizeof (guint64));
  r->fifo = g_new (guint64, 2 * size);
  r->fifo_mask = 2 * size - 1;
  return r;
}

static void
drop (McpRtpReorder * r, gpointer item)
{
  if (r->destroy)
    r->destroy (item);
}

void
mcp_rtp_reorder_free (McpRtpReorder * r)
{
  guint i;

  if (!r)
    return;
  for (i = 0; i < r->size; i++)
    if (r->slots[i].item)
      drop (r, r->slots[i].item);
  g_free (r->slots);
  g_free (r->history);
  g_free (r->fifo);
  g_free (r);
}

static Slot *
held_slot (McpRtpReorder * r, guint64 ext)
{
  Slot *slot = &r->slots[ext & r->mask];

  return slot->item && slot->ext == ext ? slot : NULL;
}

/* Puts out the packet at next, or gives its number up; moves next on. */
static void
advance (McpRtpReorder * r, GPtrArray * out)
{
  Slot *slot = held_slot (r, r->next);

  if (slot) {
    g_ptr_array_add (out, slot->item);
    slot->item = NULL;
    r->history[r->next & r->mask] = r->next;
    r->held--;
  } else {
    r->stats.lost++;
  }
  r->next++;
}

/* Puts out what follows next without a gap. */
static void
release_in_order (McpRtpReorder * r, GPtrArray * out)
{
  while (held_slot (r, r->next))
    advance (r, out);
}

/* Gives up every gap before target; then puts out what follows without a
 * gap. */
static void
give_up_until (McpRtpReorder * r, guint64 target, GPtrArray * out)
{
  while (r->next < target) {
    if (r->held == 0) {
      r->stats.lost += target - r->next;
      r->next = target;
      break;
    }
    advance (r, out);
  }
  release_in_order (r, out);
}

/* Drops from the FIFO head the packets that are no longer held. */
static void
fifo_trim (McpRtpReorder * r)
{
  while (r->fifo_len > 0 && !held_slot (r, r->fifo[r->fifo_head])) {
    r->fifo_head = (r->fifo_head + 1) & r->fifo_mask;
    r->fifo_len--;
  }
}

/* Puts out everything held, in order. */
static void
flush (McpRtpReorder * r, GPtrArray * out)
{
  while (r->held > 0)
    advance (r, out);
  r->fifo_len = 0;
}

/* Starts a run at seq, with ext numbers above any of the run before. */
static void
restart (McpRtpReorder * r, guint16 seq, guint32 ssrc, GPtrArray * out)
{
  if (r->active)
    flush (r, out);
  r->active = TRUE;
  r->ssrc = ssrc;
  r->next = (((r->next >> 16) + 2) << 16) | seq;
  r->highest = r->next;
}

void
mcp_rtp_reorder_push (McpRtpReorder * r, guint16 seq, guint32 ssrc,
    gpointer item, guint64 now, GPtrArray * out)
{
  guint64 ext;
  gint jump;
  Slot *slot;

  g_return_if_fail (r != NULL && out != NULL);

  jump = (gint16) (seq - (guint16) r->highest);
  if (!r->active || ssrc != r->ssrc || ABS (jump) > MCP_RTP_REORDER_MAX_JUMP)
    restart (r, seq, ssrc, out);

  ext = r->next + (gint16) (seq - (guint16) r->next);
  if (ext < r->next) {
    if (r->history[ext & r->mask] == ext)
      r->stats.duplicates++;
    else
      r->stats.late++;
    drop (r, item);
    return;
  }
  if (held_slot (r, ext)) {
    r->stats.duplicates++;
    drop (r, item);
    return;
  }
  if (ext > r->next + r->window)
    give_up_until (r, ext - r->window, out);

  if (ext < r->highest)
    r->stats.reordered++;
  else
    r->highest = ext;
  slot = &r->slots[ext & r->mask];
  g_assert (slot->item == NULL);
  slot->item = item;
  slot->ext = ext;
  slot->time = now;
  r->held++;
  /* Bound of the FIFO: its head is held, so every later entry was stored
   * while next <= head <= next + window: within window of the head on
   * either side, each ext once. */
  g_assert (r->fifo_len <= r->fifo_mask);
  r->fifo[(r->fifo_head + r->fifo_len) & r->fifo_mask] = ext;
  r->fifo_len++;

  release_in_order (r, out);
  fifo_trim (r);
}

guint64
mcp_rtp_reorder_expire (McpRtpReorder * r, guint64 now, GPtrArray * out)
{
  g_return_val_if_fail (r != NULL && out != NULL, G_MAXUINT64);

  while (TRUE) {
    Slot *slot;

    fifo_trim (r);
    if (r->fifo_len == 0)
      return G_MAXUINT64;
    slot = held_slot (r, r->fifo[r->fifo_head]);
    if (now < slot->time || now - slot->time < r->max_delay)
      return slot->time > G_MAXUINT64 - r->max_delay ?
          G_MAXUINT64 : slot->time + r->max_delay;
    give_up_until (r, slot->ext, out);
  }
}

void
mcp_rtp_reorder_drain (McpRtpReorder * r, GPtrArray * out)
{
  g_return_if_fail (r != NULL && out != NULL);

  flush (r, out);
}

void
mcp_rtp_reorder_get_stats (McpRtpReorder * r, McpRtpReorderStats * stats)
{
  g_return_if_fail (r != NULL && stats != NULL);

  *stats = r->stats;
}
