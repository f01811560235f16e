/* mcastproxy — one channel of a channel gateway (see gstmcpchannel.h).
 *
 * Everything here runs on the gateway's endpoint thread with the gateway's
 * lock held: the socket is read in batches from a GSource, each datagram
 * becomes one buffer in the channel's fan-out (its payload for /rtp/, in
 * sequence order), and a random-access point of an MPEG-TS stream marks
 * where the next client's burst starts.
 */
#include "config.h"

#include "gstmcpchannel.h"
#include "gstmcpmeta.h"

#include <string.h>

#include "mcp-rtp.h"
#include "mcp-ts.h"
#include "mcp-dedup.h"

GST_DEBUG_CATEGORY_STATIC (channel_debug);
#define GST_CAT_DEFAULT channel_debug

/* Batches read per wake-up, at most, before others get their turn. */
#define READ_ROUNDS 4
/* How often silence and held RTP packets are looked at (ms). */
#define TICK_MS 50
/* /rtp/: packets held for a missing one, and for how long at most. */
#define RTP_WINDOW 32
#define RTP_MAX_DELAY (100 * GST_MSECOND)

struct _GstMcpChannel
{
  GstMcpChannelShared sh;
  gpointer user_data;
  McpChannelSpec spec;
  gchar *path;
  GPtrArray *sources;           /* the SSM source, or empty */
  GSocket *socket;
  GSource *read_source;         /* NULL while a batch waits */
  GSource *batch_source;        /* batch-latency: the wait before a read */
  GSource *tick_source;
  GstMcpFanout *fo;
  McpRtpReorder *reorder;       /* /rtp/ only */
  McpTsTracker *ts;             /* MPEG-TS with a burst only */
  const gchar *content_type;
  McpFrameMeta meta;            /* of the next datagram */
  gint64 created;               /* monotonic µs */
  gint64 last_data;             /* monotonic µs; 0: none yet */
  gboolean silence_told;
  GPtrArray *due;               /* scratch: RTP payloads now in order */

  /* statistics */
  guint64 datagrams_received;
  guint64 bytes_received;
  guint64 truncated;
  guint64 not_rtp;
  guint64 random_access_points;
  guint64 silences;
};

static void
init_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (channel_debug, "mcastgateway-channel", 0,
        "mcastproxy channel gateway: channels");
    g_once_init_leave (&done, 1);
  }
}

/* A payload in order: into the fan-out, and a random-access point marked. */
static void
deliver (GstMcpChannel * ch, GstBuffer * buf)
{
  GstMapInfo map;

  if (!ch->content_type && gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gboolean ts = mcp_ts_is_ts (map.data, map.size);

    gst_buffer_unmap (buf, &map);
    ch->content_type = ts ? "video/mp2t" : "application/octet-stream";
    /* announced to mpx receivers (tcpsplitsrc path=) in their HELLO */
    if (ts)
      gst_mcp_fanout_set_caps (ch->fo, "video/mpegts, systemstream=(boolean)"
          "true, packetsize=(int)188");
    if (ts && ch->sh.burst_max_bytes) {
      ch->ts = mcp_ts_tracker_new ();
      gst_mcp_fanout_set_burst (ch->fo, ch->sh.burst_max_bytes);
    }
    GST_INFO_OBJECT (ch->sh.owner, "channel %s: first datagram after %"
        G_GINT64_FORMAT " ms, %s", ch->path,
        (g_get_monotonic_time () - ch->created) / 1000, ch->content_type);
    /* the clients waiting for it are answered, and get this one */
    if (!ch->ts)
      ch->sh.funcs->ready (ch, ch->user_data);
  }

  ch->meta.seq++;
  gst_mcp_fanout_queue (ch->fo, buf, &ch->meta, NULL);

  if (ch->ts && gst_mcp_fanout_mark_keyframe (ch->fo, ch->ts, buf)
      && ch->random_access_points++ == 0) {
    GST_INFO_OBJECT (ch->sh.owner, "channel %s: first key frame after %"
        G_GINT64_FORMAT " ms", ch->path,
        (g_get_monotonic_time () - ch->created) / 1000);
    ch->sh.funcs->ready (ch, ch->user_data);
  }
}

/* The RTP payloads now in order, which the reorder handed over. */
static void
deliver_due (GstMcpChannel * ch)
{
  guint i;

  for (i = 0; i < ch->due->len; i++) {
    deliver (ch, g_ptr_array_index (ch->due, i));
    gst_buffer_unref (g_ptr_array_index (ch->due, i));
  }
  g_ptr_array_set_size (ch->due, 0);
}

static void
take_datagram (GstMcpChannel * ch, const guint8 * data, gsize len,
    guint64 now)
{
  McpRtpHeader hdr;
  GError *err = NULL;

  ch->datagrams_received++;
  ch->bytes_received += len;
  if (ch->spec.kind == MCP_CHANNEL_UDP) {
    GstBuffer *buf = gst_mcp_buffer_new_datagram (data, len);

    deliver (ch, buf);
    gst_buffer_unref (buf);
    return;
  }
  if (!mcp_rtp_parse (data, len, &hdr, &err)) {
    if (ch->not_rtp++ == 0)
      GST_ELEMENT_WARNING (ch->sh.owner, STREAM, DECODE,
          ("Channel %s: datagrams that are not RTP are dropped", ch->path),
          ("%s (from now on counted as not-rtp)", err->message));
    g_error_free (err);
    return;
  }
  mcp_rtp_reorder_push (ch->reorder, hdr.seq, hdr.ssrc,
      gst_mcp_buffer_new_datagram (data + hdr.payload_offset,
          hdr.payload_len),
      now, ch->due);
  deliver_due (ch);
}

/* Reads what the socket holds (READ_ROUNDS batches at most) into the
 * fan-out, and writes it to the clients. With the lock held. */
static void
read_datagrams (GstMcpChannel * ch)
{
  guint64 now = g_get_monotonic_time () * 1000;
  guint round;

  /* one capture time for what this wake-up reads, as mcastsrc-relay */
  ch->meta.capture_time = g_get_real_time () * 1000;
  for (round = 0; round < READ_ROUNDS; round++) {
    GError *err = NULL;
    gint n = mcp_udp_receive_batch (ch->socket, ch->sh.slots, ch->sh.n_slots,
        &err), i;

    if (n < 0) {
      GST_WARNING_OBJECT (ch->sh.owner, "channel %s: receive failed: %s",
          ch->path, err->message);
      g_error_free (err);
      break;
    }
    for (i = 0; i < n; i++) {
      McpDatagram *d = &ch->sh.slots[i];

      if (d->truncated) {
        ch->truncated++;
        continue;
      }
      take_datagram (ch, d->data, d->len, now);
    }
    if (n > 0) {
      ch->last_data = now / 1000;
      ch->silence_told = FALSE;
    }
    if ((guint) n < ch->sh.n_slots)
      break;
  }
  if (ch->reorder) {
    mcp_rtp_reorder_expire (ch->reorder, now, ch->due);
    deliver_due (ch);
  }
  gst_mcp_fanout_flush (ch->fo);
}

static gboolean on_readable (GSocket * socket, GIOCondition cond,
    gpointer data);

static void
watch_socket (GstMcpChannel * ch)
{
  ch->read_source = g_socket_create_source (ch->socket, G_IO_IN, NULL);
  g_source_set_callback (ch->read_source, (GSourceFunc) on_readable, ch,
      NULL);
  g_source_attach (ch->read_source,
      mcp_endpoint_get_context (ch->sh.endpoint));
}

static gboolean
dispatch_ready (GSource * source, GSourceFunc callback, gpointer data)
{
  return callback (data);
}

static GSourceFuncs batch_source_funcs = { NULL, NULL, dispatch_ready, NULL };

/* batch-latency after the first datagram of a quiet spell: read what came
 * meanwhile, and watch the socket again. */
static gboolean
on_batch_due (gpointer data)
{
  GstMcpChannel *ch = data;

  g_rec_mutex_lock (ch->sh.lock);
  g_clear_pointer (&ch->batch_source, g_source_unref);
  read_datagrams (ch);
  watch_socket (ch);
  g_rec_mutex_unlock (ch->sh.lock);
  return G_SOURCE_REMOVE;
}

static gboolean
on_readable (GSocket * socket, GIOCondition cond, gpointer data)
{
  GstMcpChannel *ch = data;

  g_rec_mutex_lock (ch->sh.lock);
  /* the first datagram of a channel answers the clients waiting for it:
   * at once */
  if (ch->sh.batch_latency == 0 || !ch->content_type) {
    read_datagrams (ch);
    g_rec_mutex_unlock (ch->sh.lock);
    return G_SOURCE_CONTINUE;
  }
  /* Wait batch-latency, so that what follows this datagram goes out with
   * it: one write per client for several datagrams, and one wake-up. The
   * socket is not watched meanwhile. */
  g_clear_pointer (&ch->read_source, g_source_unref);
  ch->batch_source = g_source_new (&batch_source_funcs, sizeof (GSource));
  g_source_set_callback (ch->batch_source, on_batch_due, ch, NULL);
  g_source_set_ready_time (ch->batch_source, g_get_monotonic_time () +
      (gint64) (ch->sh.batch_latency / 1000));
  g_source_attach (ch->batch_source,
      mcp_endpoint_get_context (ch->sh.endpoint));
  g_rec_mutex_unlock (ch->sh.lock);
  return G_SOURCE_REMOVE;
}

static gboolean
on_tick (gpointer data)
{
  GstMcpChannel *ch = data;
  gint64 now = g_get_monotonic_time ();
  gint64 since;

  g_rec_mutex_lock (ch->sh.lock);
  if (ch->reorder) {
    ch->meta.capture_time = g_get_real_time () * 1000;
    mcp_rtp_reorder_expire (ch->reorder, (guint64) now * 1000, ch->due);
    deliver_due (ch);
    gst_mcp_fanout_flush (ch->fo);
  }
  since = ch->last_data ? ch->last_data : ch->created;
  if (ch->sh.timeout && !ch->silence_told
      && (guint64) (now - since) * 1000 >= ch->sh.timeout) {
    ch->silence_told = TRUE;
    ch->silences++;
    ch->sh.funcs->silent (ch, ch->user_data);
  }
  g_rec_mutex_unlock (ch->sh.lock);
  return G_SOURCE_CONTINUE;
}

GstMcpChannel *
gst_mcp_channel_new (const GstMcpChannelShared * shared,
    const McpChannelSpec * spec, gpointer user_data, GError ** error)
{
  McpMcastReceiverConfig cfg = { 0 };
  GstMcpChannel *ch;
  GSocket *socket;
  gint granted = 0;
  GMainContext *ctx = mcp_endpoint_get_context (shared->endpoint);
  gchar *where;

  init_debug ();
  cfg.group = spec->group;
  cfg.port = spec->port;
  cfg.buffer_size = shared->buffer_size;
  socket = mcp_mcast_open_receiver (&cfg, &granted, error);
  if (!socket)
    return NULL;

  ch = g_new0 (GstMcpChannel, 1);
  ch->sh = *shared;
  ch->user_data = user_data;
  ch->spec.kind = spec->kind;
  ch->spec.group = g_object_ref (spec->group);
  ch->spec.port = spec->port;
  ch->spec.source = spec->source ? g_object_ref (spec->source) : NULL;
  ch->path = mcp_channel_to_path (spec);
  ch->sources = g_ptr_array_new ();
  if (spec->source)
    g_ptr_array_add (ch->sources, spec->source);
  ch->socket = socket;
  if (!mcp_membership_join_each (shared->membership, socket, spec->group,
          shared->ifnames, ch->sources, error)) {
    g_socket_close (socket, NULL);
    g_object_unref (socket);
    g_ptr_array_unref (ch->sources);
    mcp_channel_spec_clear (&ch->spec);
    g_free (ch->path);
    g_free (ch);
    return NULL;
  }
  where = mcp_membership_where (shared->membership, socket, spec->group,
      shared->ifnames->len ? g_ptr_array_index (shared->ifnames, 0) : NULL);
  GST_INFO_OBJECT (shared->owner, "channel %s: joined on %s", ch->path,
      where);
  g_free (where);
  if (shared->buffer_size > 0 && granted < shared->buffer_size)
    GST_WARNING_OBJECT (shared->owner, "asked for a %d-byte receive buffer, "
        "the kernel granted %d (see net.core.rmem_max)", shared->buffer_size,
        granted);

  ch->created = g_get_monotonic_time ();
  ch->due = g_ptr_array_new ();
  if (spec->kind == MCP_CHANNEL_RTP)
    ch->reorder = mcp_rtp_reorder_new (RTP_WINDOW, RTP_MAX_DELAY,
        (GDestroyNotify) gst_buffer_unref);
  ch->meta.origin_id = shared->origin_id;
  ch->meta.seq = mcp_seq_new_epoch ();
  gst_mcp_meta_set_group (&ch->meta, spec->group, spec->port);

  ch->fo = gst_mcp_fanout_new_shared (shared->owner, shared->fanout_funcs,
      user_data, shared->lock);
  gst_mcp_fanout_configure (ch->fo, shared->max_queue_bytes,
      shared->max_queue_time, shared->policy, FALSE, FALSE);
  gst_mcp_fanout_start (ch->fo, shared->endpoint);

  watch_socket (ch);
  ch->tick_source = g_timeout_source_new (TICK_MS);
  g_source_set_callback (ch->tick_source, on_tick, ch, NULL);
  g_source_attach (ch->tick_source, ctx);
  return ch;
}

void
gst_mcp_channel_free (GstMcpChannel * ch, const gchar * reason)
{
  guint i;

  if (!ch)
    return;
  if (ch->read_source) {
    g_source_destroy (ch->read_source);
    g_clear_pointer (&ch->read_source, g_source_unref);
  }
  if (ch->batch_source) {
    g_source_destroy (ch->batch_source);
    g_clear_pointer (&ch->batch_source, g_source_unref);
  }
  g_source_destroy (ch->tick_source);
  g_source_unref (ch->tick_source);
  mcp_membership_leave_each (ch->sh.membership, ch->socket, ch->spec.group,
      ch->sh.ifnames, ch->sources, g_get_monotonic_time () * 1000, reason);
  GST_INFO_OBJECT (ch->sh.owner, "channel %s: left: %s", ch->path, reason);
  g_socket_close (ch->socket, NULL);
  g_object_unref (ch->socket);
  gst_mcp_fanout_stop (ch->fo);
  gst_mcp_fanout_free (ch->fo);
  if (ch->reorder) {
    mcp_rtp_reorder_drain (ch->reorder, ch->due);
    for (i = 0; i < ch->due->len; i++)
      gst_buffer_unref (g_ptr_array_index (ch->due, i));
    mcp_rtp_reorder_free (ch->reorder);
  }
  g_ptr_array_unref (ch->due);
  if (ch->ts)
    mcp_ts_tracker_free (ch->ts);
  g_ptr_array_unref (ch->sources);
  mcp_channel_spec_clear (&ch->spec);
  g_free (ch->path);
  g_free (ch);
}

GstMcpFanout *
gst_mcp_channel_get_fanout (GstMcpChannel * ch)
{
  return ch->fo;
}

const gchar *
gst_mcp_channel_get_path (GstMcpChannel * ch)
{
  return ch->path;
}

const McpChannelSpec *
gst_mcp_channel_get_spec (GstMcpChannel * ch)
{
  return &ch->spec;
}

const gchar *
gst_mcp_channel_get_content_type (GstMcpChannel * ch)
{
  return ch->content_type;
}

gboolean
gst_mcp_channel_is_ready (GstMcpChannel * ch)
{
  return ch->content_type && (!ch->ts || ch->random_access_points > 0);
}

GstStructure *
gst_mcp_channel_get_stats (GstMcpChannel * ch)
{
  gchar *group = g_inet_address_to_string (ch->spec.group);
  gchar *source = ch->spec.source ?
      g_inet_address_to_string (ch->spec.source) : g_strdup ("");
  gint64 now = g_get_monotonic_time ();
  GstStructure *s = gst_structure_new ("channel",
      "path", G_TYPE_STRING, ch->path,
      "kind", G_TYPE_STRING, ch->spec.kind == MCP_CHANNEL_RTP ? "rtp" : "udp",
      "group", G_TYPE_STRING, group,
      "port", G_TYPE_UINT, (guint) ch->spec.port,
      "source", G_TYPE_STRING, source,
      "content-type", G_TYPE_STRING,
      ch->content_type ? ch->content_type : "",
      "joined-duration", G_TYPE_UINT64, (guint64) (now - ch->created) * 1000,
      "datagrams-received", G_TYPE_UINT64, ch->datagrams_received,
      "bytes-received", G_TYPE_UINT64, ch->bytes_received,
      "datagrams-truncated", G_TYPE_UINT64, ch->truncated,
      "random-access-points", G_TYPE_UINT64, ch->random_access_points,
      "silences", G_TYPE_UINT64, ch->silences,
      NULL);

  if (ch->reorder) {
    McpRtpReorderStats rs;

    mcp_rtp_reorder_get_stats (ch->reorder, &rs);
    gst_structure_set (s,
        "not-rtp", G_TYPE_UINT64, ch->not_rtp,
        "rtp-duplicates", G_TYPE_UINT64, rs.duplicates,
        "rtp-late", G_TYPE_UINT64, rs.late,
        "rtp-reordered", G_TYPE_UINT64, rs.reordered,
        "rtp-lost", G_TYPE_UINT64, rs.lost, NULL);
  }
  gst_mcp_fanout_fill_stats (ch->fo, s);
  g_free (group);
  g_free (source);
  return s;
}
