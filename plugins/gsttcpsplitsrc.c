/* mcastproxy — tcpsplitsrc
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-tcpsplitsrc
 * @title: tcpsplitsrc
 *
 * Receives datagrams carried over TCP and pushes one buffer per datagram.
 *
 * In `mode=caller` (the default) it connects to `host:port`, typically a
 * tcpsplitsink listener, and reconnects with back-off whenever the
 * connection fails or the far end restarts: the stream never ends because
 * of the network.
 *
 * In `mode=listener` it accepts one inbound source at a time on `port` (the
 * input of a splitting server). While a source is connected, further
 * connections are refused; when it leaves, the element waits for the next
 * one instead of ending the stream.
 *
 * With mpx framing the far end's caps and each datagram's metadata (origin,
 * sequence number, capture time, hops, group and port) come along; with
 * rfc4571 only the datagrams; with raw framing there are no boundaries and
 * the bytes come out in buffers of exactly `blocksize` bytes (set it to
 * 1316 to re-multicast a raw MPEG-TS stream as 7-packet datagrams); a
 * shorter rest goes out when nothing more arrives for 50 ms or the
 * connection ends. With `framing=auto` a caller offers mpx and falls back
 * to raw when the far end answers with anything else; a listener tells
 * from the first bytes.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 tcpsplitsrc host=hub.example.net port=5201 ! tcpremcastsink address=239.1.1.1 port=5004
 * ]| Re-multicasts what a splitting server sends.
 * |[
 * gst-launch-1.0 tcpsplitsrc mode=listener port=5200 ! tcpsplitsink port=5201
 * ]| A splitting server: one inbound source, fanned out to every client.
 */

#include "config.h"

#include "gsttcpsplitsrc.h"
#include "gstmcpuri.h"
#include "gstmcpenums.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcpsubs.h"
#include "gstmcptcp.h"

#include "mcp-address.h"
#include "mcp-conn.h"
#include "mcp-loopguard.h"

GST_DEBUG_CATEGORY_STATIC (tcp_split_src_debug);
#define GST_CAT_DEFAULT tcp_split_src_debug

#define DEFAULT_CAPS NULL
#define DEFAULT_MAX_QUEUE_BYTES (4 * 1024 * 1024)
#define DEFAULT_MAX_SOURCES 1
#define DEFAULT_DEDUP TRUE
#define DEFAULT_MAX_HOPS MCP_LOOP_GUARD_DEFAULT_MAX_HOPS

/* create() hands over at most this many queued datagrams as one list. */
#define PUSH_BATCH 64

/* After the properties shared with tcpsplitsink (gstmcptcp.h). */
enum
{
  PROP_CAPS = GST_MCP_TCP_PROP_LAST,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_SOURCES,
  PROP_DEDUP,
  PROP_MAX_HOPS,
  PROP_PATH,
};

enum
{
  SIGNAL_GET_STATS,
  SIGNAL_CONNECTED,
  SIGNAL_DISCONNECTED,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

struct _GstTcpSplitSrc
{
  GstPushSrc parent;

  /* properties, under the object lock */
  GstMcpTcpSettings tcp;
  GstCaps *caps;
  guint64 max_queue_bytes;
  guint max_sources;
  gboolean dedup_on;
  guint max_hops_prop;
  gchar *path;

  McpEndpoint *endpoint;        /* a listener from NULL->READY on */
  GList *sources;               /* Source: the connections (endpoint thread) */
  gboolean stopping;
  GstMcpStatsTimer stats_timer;
  guint64 active_peer_id;
  gint64 max_datagrams;         /* num-buffers at start; -1: no limit */
  gint64 pushed;                /* datagrams create() handed out */

  /* Held by the loop thread around all it does with the sources (their
   * connections' lock); create() holds it to read a source itself. */
  GRecMutex net_lock;
  McpConn *reader;              /* the source create() reads, or NULL */
  /* What the elements downstream want (gstmcpsubs.h), under net_lock;
   * NULL: they take no part, everything is wanted. */
  GArray *subs_peers;

  /* Hand-over from the loop thread to create(). */
  GMutex lock;
  GQueue events;                /* SrcEvent, not yet told (under lock) */
  gboolean events_scheduled;
  McpWakeup *wakeup;            /* create() waits for it */
  gboolean waiting;             /* ... now: set it when something comes */
  GQueue queue;                 /* GstBuffer or GstCaps, in arrival order */
  guint64 queue_bytes;
  gboolean flushing;
  gboolean reading_paused;
  GstCaps *current_caps;        /* last caps pushed out */

  /* Loop safety, under lock: hop limit and dedup of mpx datagrams (its
   * settings fixed from start to stop), and which source of a peer id is
   * in service. */
  McpLoopGuard *guard;
  McpElection *election;

  /* statistics, under lock */
  guint64 datagrams_out;        /* queued for downstream */
  guint64 datagrams;
  guint64 bytes;
  guint64 connects;
  guint64 disconnects;
  guint64 reconnects;
  GstMcpCallers *callers;
  guint64 standby_dropped;
  gchar *peer;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_tcp_split_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTcpSplitSrc, gst_tcp_split_src,
    GST_TYPE_PUSH_SRC, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_mcp_uri_tcpsplit_src_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (tcpsplitsrc, "tcpsplitsrc",
    GST_RANK_NONE, GST_TYPE_TCP_SPLIT_SRC,
    GST_DEBUG_CATEGORY_INIT (tcp_split_src_debug, "tcpsplitsrc", 0,
        "mcastproxy TCP datagram source"));

static void gst_tcp_split_src_finalize (GObject * object);
static void gst_tcp_split_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_tcp_split_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_tcp_split_src_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_tcp_split_src_start (GstBaseSrc * bsrc);
static gboolean gst_tcp_split_src_stop (GstBaseSrc * bsrc);
static gboolean gst_tcp_split_src_unlock (GstBaseSrc * bsrc);
static gboolean gst_tcp_split_src_unlock_stop (GstBaseSrc * bsrc);
static gboolean gst_tcp_split_src_event (GstBaseSrc * bsrc, GstEvent * event);
static GstCaps *gst_tcp_split_src_get_caps (GstBaseSrc * bsrc,
    GstCaps * filter);
static GstFlowReturn gst_tcp_split_src_create (GstPushSrc * psrc,
    GstBuffer ** buf);
static GstStructure *gst_tcp_split_src_get_stats (GstTcpSplitSrc * self);

/* ---- loop thread ------------------------------------------------------- */

/* Under lock. */
static void
queue_item (GstTcpSplitSrc * self, gpointer item, gsize size)
{
  g_queue_push_tail (&self->queue, item);
  self->queue_bytes += size;
  if (self->waiting)
    mcp_wakeup_set (self->wakeup);
}

static void
queue_caps_string (GstTcpSplitSrc * self, const gchar * str)
{
  GstCaps *caps;

  if (!str || !*str)
    return;
  caps = gst_caps_from_string (str);
  if (!caps) {
    GST_WARNING_OBJECT (self, "ignoring unparsable caps from peer: %s", str);
    return;
  }
  g_mutex_lock (&self->lock);
  queue_item (self, caps, 0);
  g_mutex_unlock (&self->lock);
}

/* One inbound connection. Endpoint thread; the list of them, and the
 * fields the statistics read, change under lock. */
typedef struct
{
  GstTcpSplitSrc *self;
  McpConn *conn;
  gint caller;
  gboolean ready;
  gboolean standby;             /* another source has the same peer id */
  guint64 peer_id;
  McpFraming framing;
  gint64 ready_at;              /* monotonic µs */
  guint64 datagrams;            /* queued for downstream */
  guint64 bytes;                /* their payload bytes */
  GByteArray *raw_rest;         /* raw bytes short of a block */
  GSource *raw_flush;           /* sends raw_rest after a pause */
  gchar *subscriptions;         /* what we asked of it (text form) */
} Source;

/* Under lock. */
static void
queue_raw (Source * src, const guint8 * data, gsize len)
{
  queue_item (src->self, gst_buffer_new_memdup (data, len), len);
  /* raw bytes become datagrams here */
  src->self->datagrams++;
  src->self->datagrams_out++;
  src->datagrams++;
}

/* Sends what is left of a raw stream as one short buffer. */
static void
flush_raw_rest (Source * src)
{
  GstTcpSplitSrc *self = src->self;

  if (!src->raw_rest || src->raw_rest->len == 0)
    return;
  g_mutex_lock (&self->lock);
  queue_raw (src, src->raw_rest->data, src->raw_rest->len);
  g_mutex_unlock (&self->lock);
  g_byte_array_set_size (src->raw_rest, 0);
}

typedef struct
{
  GSource source;
  Source *src;
} RawFlushSource;

static gboolean
raw_flush_dispatch (GSource * source, GSourceFunc callback, gpointer data)
{
  Source *src = ((RawFlushSource *) source)->src;

  g_source_set_ready_time (source, -1);
  g_rec_mutex_lock (&src->self->net_lock);
  flush_raw_rest (src);
  g_rec_mutex_unlock (&src->self->net_lock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs raw_flush_funcs = {
  NULL, NULL, raw_flush_dispatch, NULL,
};

/* Raw bytes have no boundaries: they go out in blocksize pieces, so that
 * each fits a datagram downstream and a TS stream stays packet-aligned. */
static void
take_raw (Source * src, const guint8 * data, gsize len)
{
  GstTcpSplitSrc *self = src->self;
  guint blocksize = MAX (gst_base_src_get_blocksize (GST_BASE_SRC (self)), 1);
  gsize off = 0;

  if (!src->raw_rest)
    src->raw_rest = g_byte_array_new ();
  g_mutex_lock (&self->lock);
  if (src->raw_rest->len > 0) {
    off = MIN (len, blocksize - src->raw_rest->len);
    g_byte_array_append (src->raw_rest, data, off);
    if (src->raw_rest->len == blocksize) {
      queue_raw (src, src->raw_rest->data, blocksize);
      g_byte_array_set_size (src->raw_rest, 0);
    }
  }
  for (; len - off >= blocksize; off += blocksize)
    queue_raw (src, data + off, blocksize);
  g_mutex_unlock (&self->lock);
  g_byte_array_append (src->raw_rest, data + off, len - off);

  if (src->raw_rest->len > 0) {
    if (!src->raw_flush) {
      src->raw_flush = g_source_new (&raw_flush_funcs, sizeof (RawFlushSource));
      ((RawFlushSource *) src->raw_flush)->src = src;
      g_source_attach (src->raw_flush,
          mcp_endpoint_get_context (self->endpoint));
    }
    g_source_set_ready_time (src->raw_flush,
        g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND);
  }
}

static void
source_free (Source * src)
{
  if (src->raw_flush) {
    g_source_destroy (src->raw_flush);
    g_source_unref (src->raw_flush);
  }
  if (src->raw_rest)
    g_byte_array_unref (src->raw_rest);
  g_free (src->subscriptions);
  g_free (src);
}

static void
update_peer_stat (GstTcpSplitSrc * self)
{
  GList *l;
  const gchar *peer = NULL;

  for (l = self->sources; l; l = l->next) {
    Source *o = l->data;

    if (o->ready && !o->standby)
      peer = mcp_conn_get_peer_address (o->conn);
  }
  g_mutex_lock (&self->lock);
  g_free (self->peer);
  self->peer = g_strdup (peer);
  g_mutex_unlock (&self->lock);
}

/* What the user hears of a connection: its signal, bus message, warnings.
 * The connections' callbacks run with net_lock held, so this is told from
 * an idle callback on the network thread (no lock held), in order; at
 * stop, on the stopping thread. */
typedef struct
{
  gboolean connected;           /* or ended */
  gint caller;
  gboolean was_ready, refused, stopping;        /* ended */
  gchar *address;
  gchar *text;                  /* connected: framing; ended: reason */
} SrcEvent;

static void
flush_events (GstTcpSplitSrc * self)
{
  for (;;) {
    SrcEvent *e;

    g_mutex_lock (&self->lock);
    e = g_queue_pop_head (&self->events);
    if (!e)
      self->events_scheduled = FALSE;
    g_mutex_unlock (&self->lock);
    if (!e)
      break;
    if (e->connected) {
      if (e->caller != MCP_ENDPOINT_ACCEPTED)
        gst_mcp_callers_connected (self->callers, e->caller);
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self),
              gst_structure_new ("mcastproxy-connected", "address",
                  G_TYPE_STRING, e->address, "framing", G_TYPE_STRING,
                  e->text, NULL)));
      g_signal_emit (self, signals[SIGNAL_CONNECTED], 0, e->address, e->text);
    } else {
      GstMcpConnEnd end = { e->address, e->text, e->caller, e->was_ready,
        e->refused, e->stopping
      };

      gst_mcp_tcp_connection_ended (GST_ELEMENT (self), &self->tcp.sec,
          self->callers, &end);
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self),
              gst_structure_new ("mcastproxy-disconnected", "address",
                  G_TYPE_STRING, e->address, "reason", G_TYPE_STRING,
                  e->text, NULL)));
      g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0, e->address,
          e->text);
    }
    g_free (e->address);
    g_free (e->text);
    g_free (e);
  }
}

static gboolean
flush_events_idle (gpointer data)
{
  flush_events (data);
  return G_SOURCE_REMOVE;
}

static void
tell (GstTcpSplitSrc * self, SrcEvent * e)
{
  gboolean schedule;

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->events, e);
  schedule = !self->events_scheduled;
  self->events_scheduled = TRUE;
  g_mutex_unlock (&self->lock);
  if (self->stopping) {
    flush_events (self);
  } else if (schedule) {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, flush_events_idle, self, NULL);
    g_source_attach (idle, mcp_endpoint_get_context (self->endpoint));
    g_source_unref (idle);
  }
}

/* Under net_lock: asks the peer of src for what the elements downstream
 * want, but for what the peer's own island wants (its peer id; 0 while
 * not known). */
static void
subscribe_source (GstTcpSplitSrc * self, Source * src, guint64 peer_id)
{
  McpSubSet *set;

  if (mcp_conn_is_closed (src->conn))
    return;
  if (self->subs_peers) {
    set = gst_mcp_subs_union (self->subs_peers, peer_id);
  } else {
    set = mcp_sub_set_new ();
    mcp_sub_set_add_everything (set);
  }
  mcp_conn_set_subscriptions (src->conn, set);
  g_mutex_lock (&self->lock);
  g_free (src->subscriptions);
  src->subscriptions = mcp_sub_set_to_string (set);
  g_mutex_unlock (&self->lock);
  mcp_sub_set_free (set);
}

static void
conn_ready (McpConn * conn, gpointer user_data)
{
  Source *src = user_data;
  GstTcpSplitSrc *self = src->self;
  const gchar *address = mcp_conn_get_peer_address (conn);
  McpFraming framing = mcp_conn_get_framing (conn);

  mcp_endpoint_reset_backoff (self->endpoint, src->caller);
  src->peer_id = mcp_conn_get_peer_id (conn);
  /* with the peer's id known, what its own island wants is left out */
  subscribe_source (self, src, src->peer_id);
  g_mutex_lock (&self->lock);
  /* a second connection of one peer (gateways of one island) stands by */
  src->standby = !mcp_election_join (self->election, src->peer_id, src);
  src->ready = TRUE;
  src->framing = framing;
  src->ready_at = g_get_monotonic_time ();
  self->connects++;
  g_mutex_unlock (&self->lock);
  update_peer_stat (self);

  GST_INFO_OBJECT (self, "receiving from %s, framing %s%s", address,
      mcp_framing_to_string (framing), src->standby ? " (standing by)" : "");
  if (!src->standby)
    queue_caps_string (self, mcp_conn_get_peer_caps (conn));
  {
    SrcEvent *e = g_new0 (SrcEvent, 1);

    e->connected = TRUE;
    e->caller = src->caller;
    e->address = g_strdup (address);
    e->text = g_strdup (mcp_framing_to_string (framing));
    tell (self, e);
  }
}

static void
conn_message (McpConn * conn, McpDecodeResult kind, const McpMessage * msg,
    gpointer user_data)
{
  Source *src = user_data;
  GstTcpSplitSrc *self = src->self;
  McpFraming framing = mcp_conn_get_framing (conn);
  guint64 max_bytes;

  if (kind == MCP_DECODE_DATA) {
    /* received is everything that came, also what is dropped below */
    g_mutex_lock (&self->lock);
    if (framing != MCP_FRAMING_RAW) {
      self->datagrams++;
      src->datagrams++;
    }
    self->bytes += msg->payload_len;
    src->bytes += msg->payload_len;
    if (src->standby)
      self->standby_dropped++;
    g_mutex_unlock (&self->lock);
  }
  if (src->standby)
    return;
  if (kind == MCP_DECODE_CAPS) {
    queue_caps_string (self, msg->caps);
    return;
  }

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_queue_bytes;
  GST_OBJECT_UNLOCK (self);

  if (framing == MCP_FRAMING_RAW) {
    take_raw (src, msg->payload, msg->payload_len);
    g_mutex_lock (&self->lock);
  } else {
    GstBuffer *buf;

    if (framing == MCP_FRAMING_MPX) {
      McpFrameMeta info = msg->meta;
      McpLoopGuardVerdict verdict;

      g_mutex_lock (&self->lock);
      verdict = mcp_loop_guard_admit_received (self->guard, &info,
          g_get_monotonic_time ());
      g_mutex_unlock (&self->lock);
      if (verdict != MCP_LOOP_GUARD_PASS)
        return;
      buf = gst_mcp_buffer_new_datagram (msg->payload, msg->payload_len);
      gst_buffer_add_mcp_meta (buf, &info);
    } else {
      buf = gst_mcp_buffer_new_datagram (msg->payload, msg->payload_len);
    }
    g_mutex_lock (&self->lock);
    queue_item (self, buf, msg->payload_len);
    self->datagrams_out++;
  }
  if (max_bytes && self->queue_bytes >= max_bytes && !self->reading_paused) {
    GList *l;

    /* Downstream is slow: let TCP push back on the senders. */
    self->reading_paused = TRUE;
    for (l = self->sources; l; l = l->next)
      mcp_conn_set_reading (((Source *) l->data)->conn, FALSE);
  }
  g_mutex_unlock (&self->lock);
}

static void
conn_closed (McpConn * conn, const gchar * reason, gpointer user_data)
{
  Source *src = user_data;
  GstTcpSplitSrc *self = src->self;
  gchar *address = g_strdup (mcp_conn_get_peer_address (conn));
  Source *heir = NULL;

  flush_raw_rest (src);
  g_mutex_lock (&self->lock);
  self->sources = g_list_remove (self->sources, src);
  /* the oldest source standing by for the same peer takes over */
  if (src->ready)
    heir = mcp_election_leave (self->election, src->peer_id, src);
  if (heir)
    heir->standby = FALSE;
  g_mutex_unlock (&self->lock);
  if (heir) {
    GST_INFO_OBJECT (self, "%s takes over from %s",
        mcp_conn_get_peer_address (heir->conn), address);
    queue_caps_string (self, mcp_conn_get_peer_caps (heir->conn));
  }
  g_mutex_lock (&self->lock);
  if (src->ready)
    self->disconnects++;
  if (src->caller != MCP_ENDPOINT_ACCEPTED && !self->stopping)
    self->reconnects++;
  g_mutex_unlock (&self->lock);
  update_peer_stat (self);

  GST_INFO_OBJECT (self, "%s %s: %s", self->stopping ? "closed" :
      "connection ended with", address, reason);
  if (src->caller != MCP_ENDPOINT_ACCEPTED && !self->stopping)
    mcp_endpoint_reconnect (self->endpoint, src->caller);
  {
    SrcEvent *e = g_new0 (SrcEvent, 1);

    e->caller = src->caller;
    e->was_ready = src->ready;
    e->refused = mcp_conn_was_refused (conn);
    e->stopping = self->stopping;
    e->address = g_strdup (address);
    e->text = g_strdup (reason);
    tell (self, e);
  }
  source_free (src);
  mcp_conn_unref (conn);
  g_free (address);
}

static const McpConnFuncs conn_funcs = {
  conn_ready,
  conn_message,
  NULL,                         /* a source writes only control messages */
  conn_closed,
  NULL,
};

static void
endpoint_connection (McpEndpoint * ep, GSocket * socket, gint caller,
    gpointer user_data)
{
  GstTcpSplitSrc *self = user_data;
  McpConnConfig cfg = { 0 };
  Source *src;
  guint max_sources;
  gboolean paused;
  gchar *upgrade_path = NULL, *upgrade_host = NULL;

  GST_OBJECT_LOCK (self);
  max_sources = self->max_sources;
  cfg.framing = (McpFraming) self->tcp.framing;
  cfg.handshake_timeout = self->tcp.handshake_timeout;
  if (caller != MCP_ENDPOINT_ACCEPTED && self->path && *self->path) {
    /* a channel of a gateway: asked for over HTTP, then in mpx */
    upgrade_path = g_strdup (self->path);
    cfg.framing = MCP_FRAMING_MPX;
  }
  GST_OBJECT_UNLOCK (self);
  if (upgrade_path) {
    upgrade_host = mcp_endpoint_get_caller_target (ep, caller);
    cfg.upgrade_path = upgrade_path;
    cfg.upgrade_host = upgrade_host;
  }

  g_rec_mutex_lock (&self->net_lock);
  if (caller == MCP_ENDPOINT_ACCEPTED
      && !gst_mcp_security_admit (GST_ELEMENT (self), &self->tcp.sec, socket,
          g_list_length (self->sources), max_sources, "max-sources")) {
    g_rec_mutex_unlock (&self->net_lock);
    g_free (upgrade_path);
    g_free (upgrade_host);
    return;
  }

  gst_mcp_tcp_prepare_socket (GST_ELEMENT (self), &self->tcp, socket);
  cfg.role = MCP_ROLE_RECEIVER;
  cfg.initiator = caller != MCP_ENDPOINT_ACCEPTED;
  cfg.peer_id = self->active_peer_id;
  cfg.name = "tcpsplitsrc";
  gst_mcp_security_configure (&self->tcp.sec, &cfg, ep, caller);
  /* A silent source is not a plain one: it must start talking within
   * handshake-timeout, or it would hold a source slot. */
  cfg.detect_timeout = 0;
  cfg.lock = &self->net_lock;
  cfg.features = MCP_FEATURE_SUBSCRIPTIONS;

  src = g_new0 (Source, 1);
  src->self = self;
  src->caller = caller;
  src->conn = mcp_conn_new (socket, mcp_endpoint_get_context (self->endpoint),
      &cfg, &conn_funcs, src);
  g_object_unref (socket);
  g_mutex_lock (&self->lock);
  self->sources = g_list_prepend (self->sources, src);
  paused = self->reading_paused;
  g_mutex_unlock (&self->lock);
  if (paused)
    mcp_conn_set_reading (src->conn, FALSE);
  /* a caller speaks first: its subscriptions follow its HELLO at once, so
   * that nothing it wants is held back while the server waits for them */
  if (cfg.initiator)
    subscribe_source (self, src, 0);
  mcp_conn_start (src->conn);
  g_rec_mutex_unlock (&self->net_lock);
  g_free (upgrade_path);
  g_free (upgrade_host);
}

static void
endpoint_connect_failed (McpEndpoint * ep, gint caller, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  GstTcpSplitSrc *self = user_data;

  gst_mcp_callers_failed (self->callers, caller, reason, retry_in);
}

static const McpEndpointFuncs endpoint_funcs = {
  endpoint_connection,
  endpoint_connect_failed,
  gst_mcp_tcp_accept_failed,
};

static gboolean
resume_reading (gpointer data)
{
  GstTcpSplitSrc *self = data;
  GList *l, *next;

  g_rec_mutex_lock (&self->net_lock);
  for (l = self->sources; l; l = next) {
    next = l->next;             /* a source can close on what it had read */
    mcp_conn_set_reading (((Source *) l->data)->conn, TRUE);
  }
  g_rec_mutex_unlock (&self->net_lock);
  return G_SOURCE_REMOVE;
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_tcp_split_src_class_init (GstTcpSplitSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_tcp_split_src_set_property;
  gobject_class->get_property = gst_tcp_split_src_get_property;
  gobject_class->finalize = gst_tcp_split_src_finalize;

  gst_mcp_tcp_install_properties (gobject_class, GST_MCP_MODE_CALLER,
      GST_PARAM_MUTABLE_READY,
      "How datagrams are framed on TCP (auto: a listener tells mpx from raw "
      "by the first bytes; a caller offers mpx and falls back to raw when "
      "the far end sends plain bytes)",
      "Our id in the mpx handshake (0: random)");
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps",
          "Caps of the stream when the far end does not announce any",
          GST_TYPE_CAPS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Max queue bytes",
          "Received datagrams waiting for downstream; beyond this the "
          "element stops reading and TCP slows the sender (0: no limit)",
          0, G_MAXUINT64, DEFAULT_MAX_QUEUE_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_SOURCES,
      g_param_spec_uint ("max-sources", "Max sources",
          "listener: sources taken at once, their datagrams merged (0: no "
          "limit); of several with one peer id only the oldest is used, the "
          "others stand by", 0, G_MAXUINT, DEFAULT_MAX_SOURCES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DEDUP,
      g_param_spec_boolean ("dedup", "Dedup",
          "Drop an mpx datagram already received (same origin, group, port "
          "and sequence number), as it arrives over redundant paths",
          DEFAULT_DEDUP, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path",
          "mode=caller: the channel to ask a channel gateway (mcastgateway) "
          "for, e.g. /udp/239.1.1.1:5000; it then comes in mpx, with its "
          "metadata (empty: connect to a tcpsplitsink)", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_MAX_HOPS,
      gst_mcp_param_spec_uint ("max-hops", "Max hops",
          "Drop an mpx datagram that crossed more TCP links than this (0: no "
          "limit)", 0, 255, DEFAULT_MAX_HOPS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstTcpSplitSrc::get-stats:
   *
   * Returns a "tcpsplitsrc-stats" structure.
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_tcp_split_src_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);
  /**
   * GstTcpSplitSrc::connected:
   * @address: the far end's "ip:port"
   * @framing: the framing in use
   *
   * A source is connected and its handshake done. Emitted on the element's
   * network thread.
   */
  signals[SIGNAL_CONNECTED] = g_signal_new ("connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstTcpSplitSrc::disconnected:
   * @address: the far end's "ip:port"
   * @reason: why the connection ended
   *
   * Any connection that was taken ended, also one that failed its
   * handshake. Emitted on the element's network thread.
   */
  signals[SIGNAL_DISCONNECTED] = g_signal_new ("disconnected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "TCP split source", "Source/Network",
      "Receives datagrams carried over TCP, one buffer per datagram, "
      "reconnecting or waiting for the next source", "mcastproxy developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_tcp_split_src_change_state);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_tcp_split_src_start);
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_tcp_split_src_event);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_tcp_split_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_tcp_split_src_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_tcp_split_src_unlock_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_tcp_split_src_get_caps);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_tcp_split_src_create);
}

static void
gst_tcp_split_src_init (GstTcpSplitSrc * self)
{
  gst_mcp_tcp_settings_init (&self->tcp, GST_MCP_MODE_CALLER);
  self->caps = DEFAULT_CAPS;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->max_sources = DEFAULT_MAX_SOURCES;
  self->dedup_on = DEFAULT_DEDUP;
  self->max_hops_prop = DEFAULT_MAX_HOPS;
  g_rec_mutex_init (&self->net_lock);
  g_mutex_init (&self->lock);
  self->wakeup = mcp_wakeup_new ();
  g_queue_init (&self->queue);
  g_queue_init (&self->events);
  self->callers = gst_mcp_callers_new (GST_ELEMENT (self));
  self->guard = mcp_loop_guard_new ();
  self->election = mcp_election_new ();

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
  gst_base_src_set_do_timestamp (GST_BASE_SRC (self), TRUE);
}

static void
clear_queue (GstTcpSplitSrc * self)
{
  gpointer item;

  while ((item = g_queue_pop_head (&self->queue)))
    gst_mini_object_unref (item);
  self->queue_bytes = 0;
}

static void
gst_tcp_split_src_finalize (GObject * object)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (object);

  clear_queue (self);
  gst_clear_caps (&self->caps);
  gst_clear_caps (&self->current_caps);
  gst_mcp_tcp_settings_clear (&self->tcp);
  gst_mcp_callers_free (self->callers);
  g_free (self->peer);
  g_free (self->path);
  mcp_loop_guard_free (self->guard);
  mcp_election_free (self->election);
  g_mutex_clear (&self->lock);
  mcp_wakeup_free (self->wakeup);
  g_clear_pointer (&self->subs_peers, g_array_unref);
  g_rec_mutex_clear (&self->net_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_tcp_split_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (object);

  if (!gst_mcp_props_accept (object, pspec, value)
      || gst_mcp_security_set_allow (GST_ELEMENT (self), &self->tcp.sec,
          prop_id, value))
    return;
  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_set (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_CAPS:
      gst_caps_replace (&self->caps, (GstCaps *) gst_value_get_caps (value));
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_SOURCES:
      self->max_sources = g_value_get_uint (value);
      break;
    case PROP_DEDUP:
      self->dedup_on = g_value_get_boolean (value);
      break;
    case PROP_MAX_HOPS:
      self->max_hops_prop = g_value_get_uint (value);
      break;
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tcp_split_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (object);

  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_get (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_CAPS:
      gst_value_set_caps (value, self->caps);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, self->max_queue_bytes);
      break;
    case PROP_MAX_SOURCES:
      g_value_set_uint (value, self->max_sources);
      break;
    case PROP_DEDUP:
      g_value_set_boolean (value, self->dedup_on);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_MAX_HOPS:
      g_value_set_uint (value, self->max_hops_prop);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- state ------------------------------------------------------------- */

/* What READY->PAUSED prepared: a caller is made anew at the next start,
 * with the settings of then. */
static void
release_caller (GstTcpSplitSrc * self)
{
  gst_mcp_security_release (&self->tcp.sec);
  if (self->endpoint && !mcp_endpoint_is_listener (self->endpoint))
    gst_mcp_tcp_close (GST_ELEMENT (self), &self->tcp, &self->endpoint);
}

/* path= makes sense for a caller that speaks mpx only. */
static gboolean
check_path (GstTcpSplitSrc * self)
{
  gchar *path;
  gboolean listener, framed, ok = TRUE;

  GST_OBJECT_LOCK (self);
  path = g_strdup (self->path);
  listener = self->tcp.mode == GST_MCP_MODE_LISTENER;
  framed = self->tcp.framing == GST_MCP_FRAMING_RAW
      || self->tcp.framing == GST_MCP_FRAMING_RFC4571;
  GST_OBJECT_UNLOCK (self);
  if (path && *path) {
    const gchar *why = *path != '/' ? "it must start with /" :
        strpbrk (path, " \t\r\n") ? "it must not hold blanks" :
        listener ? "only a caller (mode=caller) asks a gateway for a channel" :
        framed ? "a channel of a gateway comes in mpx: framing=auto or mpx" :
        NULL;

    if (why) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid path \"%s\": %s", path, why), (NULL));
      ok = FALSE;
    }
  }
  g_free (path);
  return ok;
}

static GstStateChangeReturn
gst_tcp_split_src_change_state (GstElement * element, GstStateChange transition)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (element);
  GstStateChangeReturn ret;
  gboolean listener;

  GST_OBJECT_LOCK (self);
  listener = self->tcp.mode == GST_MCP_MODE_LISTENER;
  GST_OBJECT_UNLOCK (self);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && !gst_mcp_props_check (element))
    return GST_STATE_CHANGE_FAILURE;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !check_path (self))
    return GST_STATE_CHANGE_FAILURE;
  /* a listener binds now, so that current-port is known in READY */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && listener
      && !gst_mcp_tcp_open (element, &self->tcp, &self->endpoint))
    return GST_STATE_CHANGE_FAILURE;
  /* What can fail at start is done here: a start() that fails makes the
   * base class post a second, reasonless error after ours. */
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && (!gst_mcp_tcp_open (element, &self->tcp, &self->endpoint)
          || !gst_mcp_tcp_prepare_security (element, &self->tcp))) {
    release_caller (self);
    return GST_STATE_CHANGE_FAILURE;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE
      && transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    release_caller (self);
  if ((ret == GST_STATE_CHANGE_FAILURE
          && transition == GST_STATE_CHANGE_NULL_TO_READY)
      || transition == GST_STATE_CHANGE_READY_TO_NULL)
    gst_mcp_tcp_close (element, &self->tcp, &self->endpoint);
  return ret;
}

static gboolean
gst_tcp_split_src_start (GstBaseSrc * bsrc)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (bsrc);
  guint64 peer_id, interval;
  guint max_hops;
  gboolean dedup;
  GstCaps *caps;

  /* the endpoint and the security settings are ready (change_state) */
  GST_OBJECT_LOCK (self);
  peer_id = self->tcp.peer_id;
  interval = self->tcp.stats_interval;
  caps = self->caps ? gst_caps_ref (self->caps) : NULL;
  max_hops = self->max_hops_prop;
  dedup = self->dedup_on;
  GST_OBJECT_UNLOCK (self);

  self->active_peer_id = gst_mcp_tcp_pick_peer_id (peer_id);
  GST_OBJECT_LOCK (self);
  self->max_datagrams = GST_BASE_SRC (self)->num_buffers;
  GST_OBJECT_UNLOCK (self);
  self->pushed = 0;
  g_mutex_lock (&self->lock);
  self->datagrams = self->bytes = self->datagrams_out = 0;
  self->connects = self->disconnects = self->reconnects = 0;
  self->standby_dropped = 0;
  mcp_loop_guard_set_max_hops (self->guard, max_hops);
  mcp_loop_guard_start (self->guard, dedup);
  self->reading_paused = FALSE;
  if (caps)
    queue_item (self, caps, 0);
  g_mutex_unlock (&self->lock);

  /* what the elements downstream want, if they take part */
  g_rec_mutex_lock (&self->net_lock);
  g_clear_pointer (&self->subs_peers, g_array_unref);
  self->subs_peers = gst_mcp_subs_ask_downstream (GST_BASE_SRC_PAD (self));
  g_rec_mutex_unlock (&self->net_lock);

  gst_mcp_callers_reset (self->callers, self->endpoint);
  mcp_endpoint_start (self->endpoint, "tcpsplitsrc", &endpoint_funcs, self);
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_tcp_split_src_get_stats);
  return TRUE;
}

/* The elements downstream want something else now: ask every peer. */
static gboolean
gst_tcp_split_src_event (GstBaseSrc * bsrc, GstEvent * event)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (bsrc);
  GArray *peers = gst_mcp_subs_event_parse (event);
  GList *l;

  if (!peers)
    return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
  g_rec_mutex_lock (&self->net_lock);
  g_clear_pointer (&self->subs_peers, g_array_unref);
  self->subs_peers = peers;
  for (l = self->sources; l; l = l->next) {
    Source *src = l->data;

    subscribe_source (self, src, src->ready ? src->peer_id : 0);
  }
  g_rec_mutex_unlock (&self->net_lock);
  return TRUE;
}

static gboolean
gst_tcp_split_src_stop (GstBaseSrc * bsrc)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (bsrc);

  gst_mcp_stats_timer_stop (&self->stats_timer);
  /* joins the network thread: from here on this thread is alone */
  mcp_endpoint_stop (self->endpoint);
  self->stopping = TRUE;
  flush_events (self);
  while (self->sources)
    mcp_conn_close (((Source *) self->sources->data)->conn, "element stopped");
  self->stopping = FALSE;
  g_clear_pointer (&self->reader, mcp_conn_unref);
  g_mutex_lock (&self->lock);
  mcp_loop_guard_stop (self->guard);
  g_mutex_unlock (&self->lock);
  release_caller (self);

  g_mutex_lock (&self->lock);
  clear_queue (self);
  gst_clear_caps (&self->current_caps);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_tcp_split_src_unlock (GstBaseSrc * bsrc)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (bsrc);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  mcp_wakeup_set (self->wakeup);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_tcp_split_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (bsrc);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static GstCaps *
gst_tcp_split_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (bsrc);
  GstCaps *caps = NULL;

  g_mutex_lock (&self->lock);
  if (self->current_caps)
    caps = gst_caps_ref (self->current_caps);
  g_mutex_unlock (&self->lock);
  if (!caps) {
    GST_OBJECT_LOCK (self);
    caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
    GST_OBJECT_UNLOCK (self);
  }
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* Under net_lock: the connection create() reads itself, if any. It takes
 * the only source in service; with several, the loop thread reads them. */
static McpConn *
pick_reader (GstTcpSplitSrc * self)
{
  Source *only = NULL;
  GList *l;

  if (self->reader && mcp_conn_has_reader (self->reader))
    return self->reader;
  g_clear_pointer (&self->reader, mcp_conn_unref);
  for (l = self->sources; l; l = l->next) {
    Source *src = l->data;

    if (!src->ready || src->standby)
      continue;
    if (only)
      return NULL;
    only = src;
  }
  if (!only)
    return NULL;
  mcp_conn_set_reader (only->conn, self->wakeup);
  if (!mcp_conn_has_reader (only->conn))
    return NULL;
  self->reader = mcp_conn_ref (only->conn);
  return self->reader;
}

/* Gives the input back to the loop thread: create() will not be back soon
 * (flushing, paused, end of stream). */
static void
release_reader (GstTcpSplitSrc * self)
{
  g_rec_mutex_lock (&self->net_lock);
  if (self->reader) {
    mcp_conn_unset_reader (self->reader);
    g_clear_pointer (&self->reader, mcp_conn_unref);
  }
  g_rec_mutex_unlock (&self->net_lock);
}

/* The queue is empty: waits until something may be there. With one source
 * in service this thread reads its socket itself, so that a datagram wakes
 * no other thread on its way; see mcp_conn_set_reader() for how the loop
 * thread takes over while this one is away (downstream slow). */
static void
wait_for_input (GstTcpSplitSrc * self)
{
  GPollFD fds[2];
  McpConn *reader;
  gint fd = -1;
  gboolean wait;

  g_rec_mutex_lock (&self->net_lock);
  reader = pick_reader (self);
  if (reader && !mcp_conn_reader_wait (reader, &fd)) {
    mcp_conn_reader_read (reader);
    g_rec_mutex_unlock (&self->net_lock);
    return;
  }
  if (reader)
    mcp_conn_ref (reader);
  g_mutex_lock (&self->lock);
  wait = self->waiting = g_queue_is_empty (&self->queue) && !self->flushing;
  g_mutex_unlock (&self->lock);
  g_rec_mutex_unlock (&self->net_lock);

  if (wait) {
    mcp_wakeup_get_pollfd (self->wakeup, &fds[0]);
    fds[1].fd = fd;
    fds[1].events = G_IO_IN;
    fds[1].revents = 0;
    g_poll (fds, fd >= 0 ? 2 : 1, -1);
    g_mutex_lock (&self->lock);
    self->waiting = FALSE;
    g_mutex_unlock (&self->lock);
    if (fds[0].revents)
      mcp_wakeup_clear (self->wakeup);
  }
  if (reader) {
    /* also when only woken: the connection learns that this thread is
     * no longer waiting for it */
    g_rec_mutex_lock (&self->net_lock);
    mcp_conn_reader_read (reader);
    g_rec_mutex_unlock (&self->net_lock);
    mcp_conn_unref (reader);
  }
}

static GstFlowReturn
gst_tcp_split_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  GstTcpSplitSrc *self = GST_TCP_SPLIT_SRC (psrc);
  GstBuffer *batch[PUSH_BATCH];
  gpointer item;
  guint64 max_bytes;
  guint n = 0, max = PUSH_BATCH;

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_queue_bytes;
  GST_OBJECT_UNLOCK (self);
  /* num-buffers counts datagrams, not the lists they go out in */
  if (self->max_datagrams >= 0) {
    if (self->pushed >= self->max_datagrams) {
      release_reader (self);
      return GST_FLOW_EOS;
    }
    max = MIN (max, self->max_datagrams - self->pushed);
  }

  for (;;) {
    g_mutex_lock (&self->lock);
    if (self->flushing) {
      g_mutex_unlock (&self->lock);
      release_reader (self);
      return GST_FLOW_FLUSHING;
    }
    if (g_queue_is_empty (&self->queue)) {
      g_mutex_unlock (&self->lock);
      wait_for_input (self);
      continue;
    }
    item = g_queue_pop_head (&self->queue);
    if (GST_IS_CAPS (item)) {
      gst_caps_replace (&self->current_caps, item);
      g_mutex_unlock (&self->lock);
      GST_INFO_OBJECT (self, "caps %" GST_PTR_FORMAT, item);
      if (!gst_base_src_set_caps (GST_BASE_SRC (self), item))
        GST_WARNING_OBJECT (self, "downstream refused caps %" GST_PTR_FORMAT,
            item);
      gst_caps_unref (item);
      continue;
    }
    /* What else is queued goes with it, as one list, up to caps. */
    for (;;) {
      self->queue_bytes -= gst_buffer_get_size (item);
      batch[n++] = item;
      item = g_queue_peek_head (&self->queue);
      if (n == max || !item || GST_IS_CAPS (item))
        break;
      g_queue_pop_head (&self->queue);
    }
    if (self->reading_paused && self->queue_bytes <= max_bytes / 2) {
      self->reading_paused = FALSE;
      g_main_context_invoke (mcp_endpoint_get_context (self->endpoint),
          resume_reading, self);
    }
    g_mutex_unlock (&self->lock);
    self->pushed += n;
    if (n == 1) {
      *buf = batch[0];
    } else {
      GstBufferList *list = gst_buffer_list_new_sized (n);
      GstClockTime now =
          gst_element_get_current_running_time (GST_ELEMENT (self));
      guint i;

      /* do-timestamp would stamp the first one only */
      for (i = 0; i < n; i++) {
        GST_BUFFER_PTS (batch[i]) = GST_BUFFER_DTS (batch[i]) = now;
        gst_buffer_list_add (list, batch[i]);
      }
      gst_base_src_submit_buffer_list (GST_BASE_SRC (self), list);
      *buf = NULL;
    }
    return GST_FLOW_OK;
  }
}

/* ---- statistics -------------------------------------------------------- */

static GstStructure *
gst_tcp_split_src_get_stats (GstTcpSplitSrc * self)
{
  GValue list = G_VALUE_INIT;
  GstStructure *s;
  gint64 now = g_get_monotonic_time ();
  guint n_sources = 0;
  GList *l;

  g_value_init (&list, GST_TYPE_ARRAY);
  g_mutex_lock (&self->lock);
  for (l = self->sources; l; l = l->next) {
    Source *src = l->data;
    GValue v = G_VALUE_INIT;
    GstStructure *ss;

    if (!src->ready)
      continue;
    n_sources++;
    ss = gst_structure_new ("source",
        "address", G_TYPE_STRING, mcp_conn_get_peer_address (src->conn),
        "framing", G_TYPE_STRING, mcp_framing_to_string (src->framing),
        "peer-id", G_TYPE_UINT64, src->peer_id,
        "standby", G_TYPE_BOOLEAN, src->standby,
        "caller", G_TYPE_BOOLEAN, src->caller != MCP_ENDPOINT_ACCEPTED,
        "datagrams-received", G_TYPE_UINT64, src->datagrams,
        "bytes-received", G_TYPE_UINT64, src->bytes,
        "connect-duration", G_TYPE_UINT64,
        (guint64) (now - src->ready_at) * 1000,
        "subscriptions", G_TYPE_STRING,
        src->subscriptions ? src->subscriptions : "", NULL);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure (&v, ss);
    gst_structure_free (ss);
    gst_value_array_append_and_take_value (&list, &v);
  }
  s = gst_structure_new ("tcpsplitsrc-stats",
      "datagrams-received", G_TYPE_UINT64, self->datagrams,
      "bytes-received", G_TYPE_UINT64, self->bytes,
      "datagrams-out", G_TYPE_UINT64, self->datagrams_out,
      "connected", G_TYPE_BOOLEAN, self->peer != NULL,
      "peer", G_TYPE_STRING, self->peer ? self->peer : "",
      "connects", G_TYPE_UINT64, self->connects,
      "disconnects", G_TYPE_UINT64, self->disconnects,
      "reconnects", G_TYPE_UINT64, self->reconnects,
      "datagrams-duplicate", G_TYPE_UINT64,
      mcp_loop_guard_get_duplicates (self->guard),
      "datagrams-hops-exceeded", G_TYPE_UINT64,
      mcp_loop_guard_get_hops_exceeded (self->guard),
      "datagrams-standby", G_TYPE_UINT64, self->standby_dropped,
      "queue-datagrams", G_TYPE_UINT, g_queue_get_length (&self->queue),
      "queue-bytes", G_TYPE_UINT64, self->queue_bytes,
      "sources", G_TYPE_UINT, n_sources, NULL);
  g_mutex_unlock (&self->lock);
  gst_structure_take_value (s, "source-list", &list);
  gst_mcp_security_add_stats (GST_ELEMENT (self), &self->tcp.sec, s);
  gst_mcp_callers_add_stats (self->callers, s);
  return s;
}
