/* mcastproxy — tcpsplitsink
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-tcpsplitsink
 * @title: tcpsplitsink
 *
 * Carries datagrams over TCP without losing their boundaries.
 *
 * In `mode=listener` (the default) it accepts any number of TCP clients on
 * `port` and sends every buffer to every client. With `framing=auto` each
 * client is served in the framing it speaks: a peer that opens with an mpx
 * HELLO (another mcastproxy element) gets mpx frames with per-datagram
 * metadata; a client that sends anything else, or nothing for
 * `detect-timeout`, gets the plain bytes, as a media player expects. A new
 * client starts at a datagram boundary. Each client reads from one shared
 * queue of buffers (no copy per client); a client that falls more than
 * `max-queue-bytes` or `max-queue-time` behind is disconnected or skipped to
 * the newest datagram, by `slow-client-policy`, and never holds up the
 * others.
 *
 * In `mode=caller` it connects to `host:port` (a splitting server's
 * tcpsplitsrc) and pushes the stream there, reconnecting with back-off when
 * the connection fails. What arrives while disconnected is dropped and
 * counted.
 *
 * All sockets are served by one thread of the element's own, with
 * non-blocking I/O.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mcastsrc-relay address=239.1.1.1 port=5004 ! tcpsplitsink port=5100
 * ]| Serves the group to everyone who connects to TCP port 5100.
 * |[
 * gst-launch-1.0 mcastsrc-relay address=239.1.1.1 port=5004 ! tcpsplitsink mode=caller host=hub.example.net port=5200
 * ]| Pushes the group to a splitting server.
 */

#include "config.h"

#include "gsttcpsplitsink.h"
#include "gstmcpenums.h"
#include "gstmcpmeta.h"
#include "gstmcpstats.h"
#include "gstmcptcp.h"

#include <gst/base/gstqueuearray.h>
#include <string.h>

#include "mcp-address.h"
#include "mcp-conn.h"

GST_DEBUG_CATEGORY_STATIC (tcp_split_sink_debug);
#define GST_CAT_DEFAULT tcp_split_sink_debug

#define DEFAULT_MAX_CLIENTS 0
#define DEFAULT_SLOW_CLIENT_POLICY GST_MCP_SLOW_CLIENT_RESYNC
#define DEFAULT_MAX_QUEUE_BYTES (4 * 1024 * 1024)
#define DEFAULT_MAX_QUEUE_TIME (3 * GST_SECOND)
#define DEFAULT_DETECT_TIMEOUT (300 * GST_MSECOND)

/* One write call carries at most this many datagrams or bytes. */
#define WRITE_MAX_ENTRIES 128
#define WRITE_MAX_BYTES (512 * 1024)

/* After the properties shared with tcpsplitsrc (gstmcptcp.h). */
enum
{
  PROP_MAX_CLIENTS = GST_MCP_TCP_PROP_LAST,
  PROP_SLOW_CLIENT_POLICY,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_QUEUE_TIME,
  PROP_DETECT_TIMEOUT,
};

enum
{
  SIGNAL_GET_STATS,
  SIGNAL_CLIENT_ADDED,
  SIGNAL_CLIENT_REMOVED,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

typedef enum
{
  ENTRY_DATA,
  ENTRY_CAPS,
} EntryKind;

/* One datagram (or caps change) in the shared queue. Clients hold positions
 * into the queue and, while half-written, a reference to one entry. */
typedef struct
{
  gint refcount;
  EntryKind kind;
  guint64 index;
  gint64 arrival;               /* monotonic, µs */
  GstBuffer *buffer;
  GstMapInfo map;
  GBytes *control;              /* ENTRY_CAPS: the whole mpx CAPS message */
  gboolean oversize;            /* too large for framed clients */
  guint8 mpx_header[MCP_MPX_DATA_HEADER_LEN];
  guint8 len_header[MCP_RFC4571_HEADER_LEN];
} Entry;

typedef struct
{
  GstTcpSplitSink *sink;
  McpConn *conn;
  gchar *address;
  gboolean active;              /* ready and positioned in the queue */
  McpFraming framing;
  guint64 next;                 /* index of the next entry to start */
  Entry *cur;                   /* entry being written, or NULL */
  gsize cur_off;                /* bytes of cur already written */
  gchar *hello_caps;            /* caps announced in our HELLO */
  guint64 datagrams;
  guint64 skipped;
  gint64 connected_at;
} Client;

struct _GstTcpSplitSink
{
  GstBaseSink parent;

  /* properties, under the object lock */
  GstMcpTcpSettings tcp;
  guint max_clients;
  GstMcpSlowClientPolicy slow_client_policy;
  guint64 max_queue_bytes;
  guint64 max_queue_time;
  guint64 detect_timeout;

  McpEndpoint *endpoint;        /* a listener from NULL->READY on */
  gboolean caller;              /* mode, fixed from start to stop */
  gboolean stopping;
  GQueue removals;              /* Removal: client-removed not yet emitted */
  gboolean removals_scheduled;
  GSource *flush_source;
  GstMcpStatsTimer stats_timer;

  /* Everything below is shared by the streaming thread and the loop
   * thread. Recursive: a client closing inside a write re-enters. */
  GRecMutex lock;
  GstQueueArray *queue;         /* Entry *, oldest first */
  guint64 front_index;          /* index of the oldest entry in queue */
  guint64 queue_bytes;
  GList *clients;
  guint n_active;
  gchar *caps;                  /* current caps, as a string */
  guint64 active_peer_id;       /* peer_id in use (resolved from 0) */
  guint64 seq;                  /* for buffers that come without metadata */
  gboolean flush_pending;

  /* statistics, under lock */
  guint64 datagrams_in;
  guint64 bytes_in;
  guint64 datagrams_sent;       /* of clients that already left */
  guint64 datagrams_skipped;
  guint64 datagrams_dropped;    /* caller: nobody connected */
  guint64 oversize_dropped;
  guint64 clients_total;
  guint64 clients_dropped;
  guint64 clients_rejected;
  guint64 connects;
  guint64 connect_failures;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_tcp_split_sink_parent_class parent_class
G_DEFINE_TYPE (GstTcpSplitSink, gst_tcp_split_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (tcpsplitsink, "tcpsplitsink",
    GST_RANK_NONE, GST_TYPE_TCP_SPLIT_SINK,
    GST_DEBUG_CATEGORY_INIT (tcp_split_sink_debug, "tcpsplitsink", 0,
        "mcastproxy TCP fan-out sink"));

static void gst_tcp_split_sink_finalize (GObject * object);
static void gst_tcp_split_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_tcp_split_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_tcp_split_sink_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_tcp_split_sink_start (GstBaseSink * bsink);
static gboolean gst_tcp_split_sink_stop (GstBaseSink * bsink);
static gboolean gst_tcp_split_sink_set_caps (GstBaseSink * bsink,
    GstCaps * caps);
static GstFlowReturn gst_tcp_split_sink_render (GstBaseSink * bsink,
    GstBuffer * buffer);
static GstFlowReturn gst_tcp_split_sink_render_list (GstBaseSink * bsink,
    GstBufferList * list);
static GstStructure *gst_tcp_split_sink_get_stats (GstTcpSplitSink * self);

/* ---- entries ----------------------------------------------------------- */

static Entry *
entry_ref (Entry * e)
{
  g_atomic_int_inc (&e->refcount);
  return e;
}

static void
entry_unref (Entry * e)
{
  if (!g_atomic_int_dec_and_test (&e->refcount))
    return;
  if (e->buffer) {
    gst_buffer_unmap (e->buffer, &e->map);
    gst_buffer_unref (e->buffer);
  }
  if (e->control)
    g_bytes_unref (e->control);
  g_free (e);
}

static gsize
entry_payload_size (Entry * e)
{
  return e->kind == ENTRY_DATA ? e->map.size : g_bytes_get_size (e->control);
}

/* Fills up to two vectors for entry e as a client with this framing sees it,
 * starting skip bytes in, and returns how many (0 for an empty raw
 * datagram), or -1 when the client does not get e at all. */
static gint
entry_vectors (Entry * e, McpFraming framing, gsize skip, GOutputVector * v,
    gsize * total)
{
  const guint8 *hdr = NULL;
  gsize hdr_len = 0, payload_len;
  const guint8 *payload;
  gint n = 0;

  if (e->kind == ENTRY_CAPS) {
    if (framing != MCP_FRAMING_MPX)
      return -1;
    payload = g_bytes_get_data (e->control, &payload_len);
  } else {
    payload = e->map.data;
    payload_len = e->map.size;
    if (framing == MCP_FRAMING_MPX) {
      hdr = e->mpx_header;
      hdr_len = sizeof (e->mpx_header);
    } else if (framing == MCP_FRAMING_RFC4571) {
      hdr = e->len_header;
      hdr_len = sizeof (e->len_header);
    }
    if (hdr && e->oversize)
      return -1;
  }
  *total = hdr_len + payload_len;

  if (skip < hdr_len) {
    v[n].buffer = hdr + skip;
    v[n].size = hdr_len - skip;
    n++;
    skip = 0;
  } else {
    skip -= hdr_len;
  }
  if (payload_len > skip) {
    v[n].buffer = payload + skip;
    v[n].size = payload_len - skip;
    n++;
  }
  return n;
}

/* ---- the queue (under lock) -------------------------------------------- */

static inline guint64
queue_end (GstTcpSplitSink * self)
{
  return self->front_index + gst_queue_array_get_length (self->queue);
}

static inline Entry *
queue_at (GstTcpSplitSink * self, guint64 index)
{
  return gst_queue_array_peek_nth (self->queue, index - self->front_index);
}

static void
queue_pop (GstTcpSplitSink * self)
{
  Entry *e = gst_queue_array_pop_head (self->queue);

  self->queue_bytes -= entry_payload_size (e);
  self->front_index++;
  entry_unref (e);
}

static void
queue_clear (GstTcpSplitSink * self)
{
  while (gst_queue_array_get_length (self->queue) > 0)
    queue_pop (self);
}

/* Drops what every active client has started already. */
static void
queue_trim (GstTcpSplitSink * self)
{
  guint64 needed = queue_end (self);
  GList *l;

  for (l = self->clients; l; l = l->next) {
    Client *c = l->data;

    if (c->active && c->next < needed)
      needed = c->next;
  }
  while (self->front_index < needed
      && gst_queue_array_get_length (self->queue) > 0)
    queue_pop (self);
}

static void
schedule_flush (GstTcpSplitSink * self)
{
  if (!self->flush_pending && self->flush_source) {
    self->flush_pending = TRUE;
    g_source_set_ready_time (self->flush_source, 0);
  }
}

static void
queue_push (GstTcpSplitSink * self, Entry * e)
{
  gint64 now = e->arrival;
  guint64 max_bytes, max_time;

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_queue_bytes;
  max_time = self->max_queue_time;
  GST_OBJECT_UNLOCK (self);

  e->index = queue_end (self);
  gst_queue_array_push_tail (self->queue, e);
  self->queue_bytes += entry_payload_size (e);

  /* The limits: whoever still needed a dropped entry is now behind and
   * gets the slow-client policy on its next turn. The newest entry stays. */
  while (gst_queue_array_get_length (self->queue) > 1) {
    Entry *front = gst_queue_array_peek_head (self->queue);

    if ((max_bytes && self->queue_bytes > max_bytes)
        || (max_time && (guint64) (now - front->arrival) * 1000 > max_time))
      queue_pop (self);
    else
      break;
  }
  schedule_flush (self);
}

/* ---- clients (loop thread, under lock) --------------------------------- */

static void
client_free (Client * c)
{
  if (c->cur)
    entry_unref (c->cur);
  if (c->conn)
    mcp_conn_unref (c->conn);
  g_free (c->address);
  g_free (c->hello_caps);
  g_free (c);
}

/* Applies the slow-client policy; FALSE when the client was closed. */
static gboolean
client_check_lag (GstTcpSplitSink * self, Client * c)
{
  GstMcpSlowClientPolicy policy;
  guint64 behind;

  if (c->next >= self->front_index)
    return TRUE;

  behind = queue_end (self) - c->next;
  GST_OBJECT_LOCK (self);
  policy = self->slow_client_policy;
  GST_OBJECT_UNLOCK (self);

  if (policy == GST_MCP_SLOW_CLIENT_DROP) {
    gchar *reason = g_strdup_printf ("too slow: %" G_GUINT64_FORMAT
        " datagrams behind, beyond max-queue-bytes/max-queue-time", behind);

    self->clients_dropped++;
    mcp_conn_close (c->conn, reason);
    g_free (reason);
    return FALSE;
  }

  /* resync: continue with the newest datagram */
  {
    guint64 newest = queue_end (self) - 1;

    c->skipped += newest - c->next;
    self->datagrams_skipped += newest - c->next;
    GST_INFO_OBJECT (self, "client %s too slow: skipped %" G_GUINT64_FORMAT
        " datagrams to the newest", c->address, newest - c->next);
    c->next = newest;
  }
  return TRUE;
}

/* Writes what the client is due until it is caught up or its socket is
 * full. */
static void
client_write (GstTcpSplitSink * self, Client * c)
{
  while (c->active && !mcp_conn_is_closed (c->conn)) {
    GOutputVector v[2 * WRITE_MAX_ENTRIES + 2];
    Entry *batch[WRITE_MAX_ENTRIES + 1];
    gsize sizes[WRITE_MAX_ENTRIES + 1];
    guint n_v = 0, n_e = 0, i;
    gsize total = 0;
    guint64 idx, end;
    gssize written;

    if (!client_check_lag (self, c))
      return;

    if (c->cur) {
      gint k = entry_vectors (c->cur, c->framing, c->cur_off, v, &sizes[0]);

      batch[n_e] = c->cur;
      sizes[n_e] -= c->cur_off;
      total += sizes[n_e];
      n_e++;
      n_v += k;
    }
    end = queue_end (self);
    for (idx = c->next; idx < end && n_e < WRITE_MAX_ENTRIES + 1
        && total < WRITE_MAX_BYTES; idx++) {
      Entry *e = queue_at (self, idx);
      gint k = entry_vectors (e, c->framing, 0, v + n_v, &sizes[n_e]);

      if (k < 0) {
        /* not for this client's framing */
        if (n_e == 0)
          c->next = idx + 1;
        continue;
      }
      batch[n_e] = e;
      total += sizes[n_e];
      n_e++;
      n_v += k;
    }
    if (n_e == 0)
      return;                   /* caught up */

    written = total ? mcp_conn_write (c->conn, v, n_v) : 0;
    if (written < 0)
      return;                   /* closed; the closed callback cleaned up */

    /* Account for what went out. */
    for (i = 0; i < n_e; i++) {
      Entry *e = batch[i];
      gboolean is_cur = (i == 0 && e == c->cur);

      if ((gsize) written >= sizes[i]) {
        written -= sizes[i];
        if (e->kind == ENTRY_DATA)
          c->datagrams++;
        if (is_cur) {
          entry_unref (c->cur);
          c->cur = NULL;
          c->cur_off = 0;
        } else {
          c->next = e->index + 1;
        }
        continue;
      }
      /* partly written: remember where */
      if (is_cur) {
        c->cur_off += written;
      } else if (written > 0) {
        c->cur = entry_ref (e);
        c->cur_off = written;
        c->next = e->index + 1;
      }
      return;                   /* the socket is full; writable follows */
    }
  }
}

static void
client_activate (GstTcpSplitSink * self, Client * c)
{
  c->active = TRUE;
  c->framing = mcp_conn_get_framing (c->conn);
  c->next = queue_end (self);
  self->n_active++;
  if (c->framing == MCP_FRAMING_MPX
      && g_strcmp0 (c->hello_caps, self->caps) != 0) {
    /* caps changed between our HELLO and now */
    GBytes *msg = mcp_mpx_build_caps (self->caps);

    mcp_conn_send_control (c->conn, msg);
    g_bytes_unref (msg);
  }
}

static gchar *
conn_hello_caps (McpConn * conn, gpointer user_data)
{
  Client *c = user_data;
  GstTcpSplitSink *self = c->sink;
  gchar *caps;

  g_rec_mutex_lock (&self->lock);
  caps = g_strdup (self->caps);
  g_free (c->hello_caps);
  c->hello_caps = g_strdup (caps);
  g_rec_mutex_unlock (&self->lock);
  return caps;
}

static void
conn_ready (McpConn * conn, gpointer user_data)
{
  Client *c = user_data;
  GstTcpSplitSink *self = c->sink;
  gchar *address = g_strdup (c->address);
  const gchar *framing = mcp_framing_to_string (mcp_conn_get_framing (conn));

  g_rec_mutex_lock (&self->lock);
  if (self->caller)
    self->connects++;
  client_activate (self, c);
  g_rec_mutex_unlock (&self->lock);
  /* a failed write in client_activate may have removed the client */
  if (mcp_conn_is_closed (conn)) {
    g_free (address);
    return;
  }
  mcp_endpoint_reset_backoff (self->endpoint);

  GST_INFO_OBJECT (self, "client %s ready, framing %s", address, framing);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mcastproxy-client-added", "address",
              G_TYPE_STRING, address, "framing", G_TYPE_STRING, framing,
              NULL)));
  g_signal_emit (self, signals[SIGNAL_CLIENT_ADDED], 0, address, framing);
  g_free (address);
}

static void
conn_message (McpConn * conn, McpDecodeResult kind, const McpMessage * msg,
    gpointer user_data)
{
  /* Input from clients is discarded (see discard_input). */
}

static void
conn_writable (McpConn * conn, gpointer user_data)
{
  Client *c = user_data;
  GstTcpSplitSink *self = c->sink;

  g_rec_mutex_lock (&self->lock);
  client_write (self, c);
  queue_trim (self);
  g_rec_mutex_unlock (&self->lock);
}

typedef struct
{
  gchar *address;
  gchar *reason;
} Removal;

/* Posts and emits the pending client removals, lock-free. */
static void
flush_removals (GstTcpSplitSink * self)
{
  for (;;) {
    Removal *r;

    g_rec_mutex_lock (&self->lock);
    r = g_queue_pop_head (&self->removals);
    if (!r)
      self->removals_scheduled = FALSE;
    g_rec_mutex_unlock (&self->lock);
    if (!r)
      break;
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("mcastproxy-client-removed", "address",
                G_TYPE_STRING, r->address, "reason", G_TYPE_STRING,
                r->reason, NULL)));
    g_signal_emit (self, signals[SIGNAL_CLIENT_REMOVED], 0, r->address,
        r->reason);
    g_free (r->address);
    g_free (r->reason);
    g_free (r);
  }
}

static gboolean
flush_removals_idle (gpointer data)
{
  flush_removals (data);
  return G_SOURCE_REMOVE;
}

/* A client can close in the middle of a write with the lock held: on the
 * network thread the message and signal then go out from an idle callback;
 * what is still pending at stop goes out from stop(). */
static void
emit_client_removed (GstTcpSplitSink * self, const gchar * address,
    const gchar * reason)
{
  Removal *r = g_new0 (Removal, 1);
  gboolean schedule;

  r->address = g_strdup (address);
  r->reason = g_strdup (reason);
  g_rec_mutex_lock (&self->lock);
  g_queue_push_tail (&self->removals, r);
  schedule = !self->removals_scheduled;
  self->removals_scheduled = TRUE;
  g_rec_mutex_unlock (&self->lock);

  if (!mcp_endpoint_is_current_thread (self->endpoint)) {
    flush_removals (self);
  } else if (schedule) {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, flush_removals_idle, self, NULL);
    g_source_attach (idle, mcp_endpoint_get_context (self->endpoint));
    g_source_unref (idle);
  }
}

static void
conn_closed (McpConn * conn, const gchar * reason, gpointer user_data)
{
  Client *c = user_data;
  GstTcpSplitSink *self = c->sink;
  gchar *address = g_strdup (c->address);
  gboolean caller;

  g_rec_mutex_lock (&self->lock);
  self->clients = g_list_remove (self->clients, c);
  if (c->active)
    self->n_active--;
  self->datagrams_sent += c->datagrams;
  caller = self->caller;
  g_rec_mutex_unlock (&self->lock);
  /* a no-op once the endpoint has stopped */
  if (caller)
    mcp_endpoint_reconnect (self->endpoint);

  GST_INFO_OBJECT (self, "client %s removed after %" G_GUINT64_FORMAT
      " datagrams: %s", address, c->datagrams, reason);
  if (caller && !self->stopping)
    GST_WARNING_OBJECT (self, "connection to %s lost (%s), reconnecting",
        address, reason);
  c->conn = NULL;
  client_free (c);
  emit_client_removed (self, address, reason);
  mcp_conn_unref (conn);
  g_free (address);
}

static const McpConnFuncs conn_funcs = {
  conn_ready,
  conn_message,
  conn_writable,
  conn_closed,
  conn_hello_caps,
};

/* Takes ownership of socket. */
static void
add_client (GstTcpSplitSink * self, GSocket * socket, gboolean initiator)
{
  McpConnConfig cfg = { 0 };
  Client *c = g_new0 (Client, 1);

  GST_OBJECT_LOCK (self);
  cfg.framing = (McpFraming) self->tcp.framing;
  if (initiator && cfg.framing == MCP_FRAMING_AUTO)
    cfg.framing = MCP_FRAMING_MPX;
  cfg.detect_timeout = self->detect_timeout;
  cfg.handshake_timeout = self->tcp.handshake_timeout;
  GST_OBJECT_UNLOCK (self);
  cfg.role = MCP_ROLE_SOURCE;
  cfg.initiator = initiator;
  cfg.discard_input = TRUE;
  cfg.name = "tcpsplitsink";

  c->sink = self;
  c->connected_at = g_get_monotonic_time ();
  g_rec_mutex_lock (&self->lock);
  cfg.peer_id = self->active_peer_id;
  c->conn = mcp_conn_new (socket, mcp_endpoint_get_context (self->endpoint),
      &cfg, &conn_funcs, c);
  c->address = g_strdup (mcp_conn_get_peer_address (c->conn));
  self->clients = g_list_prepend (self->clients, c);
  self->clients_total++;
  g_rec_mutex_unlock (&self->lock);
  g_object_unref (socket);

  GST_DEBUG_OBJECT (self, "new connection %s", c->address);
  mcp_conn_start (c->conn);
}

/* ---- loop thread: connections and flushing ----------------------------- */

static void
endpoint_connection (McpEndpoint * ep, GSocket * socket, gboolean initiator,
    gpointer user_data)
{
  GstTcpSplitSink *self = user_data;
  guint max_clients, n;

  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  GST_OBJECT_UNLOCK (self);

  g_rec_mutex_lock (&self->lock);
  n = g_list_length (self->clients);
  if (!initiator && max_clients && n >= max_clients)
    self->clients_rejected++;
  g_rec_mutex_unlock (&self->lock);

  if (!initiator && max_clients && n >= max_clients) {
    GSocketAddress *sa = g_socket_get_remote_address (socket, NULL);
    gchar *who = sa ? mcp_socket_address_to_string (sa) : g_strdup ("?");

    GST_WARNING_OBJECT (self, "rejected client %s: max-clients (%u) "
        "reached", who, max_clients);
    g_free (who);
    g_clear_object (&sa);
    g_socket_close (socket, NULL);
    g_object_unref (socket);
    return;
  }
  add_client (self, socket, initiator);
}

static void
endpoint_connect_failed (McpEndpoint * ep, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  GstTcpSplitSink *self = user_data;

  g_rec_mutex_lock (&self->lock);
  self->connect_failures++;
  g_rec_mutex_unlock (&self->lock);
  GST_WARNING_OBJECT (self, "%s; retrying in %" G_GUINT64_FORMAT " ms",
      reason, retry_in / 1000000);
}

static void
endpoint_accept_failed (McpEndpoint * ep, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  GST_WARNING_OBJECT (user_data, "accepting a connection failed (%s); "
      "trying again in %" G_GUINT64_FORMAT " ms", reason, retry_in / 1000000);
}

static const McpEndpointFuncs endpoint_funcs = {
  endpoint_connection,
  endpoint_connect_failed,
  endpoint_accept_failed,
};

typedef struct
{
  GSource source;
  GstTcpSplitSink *sink;
} FlushSource;

/* Woken by the streaming thread: serve every client that is not waiting
 * for its socket, apply the policy to those that are. */
static gboolean
flush_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  GstTcpSplitSink *self = ((FlushSource *) source)->sink;
  GList *l, *next;

  g_source_set_ready_time (source, -1);
  g_rec_mutex_lock (&self->lock);
  self->flush_pending = FALSE;
  for (l = self->clients; l; l = next) {
    Client *c = l->data;

    next = l->next;             /* c may leave during its write */
    if (!c->active)
      continue;
    if (mcp_conn_is_write_blocked (c->conn))
      client_check_lag (self, c);
    else
      client_write (self, c);
  }
  queue_trim (self);
  g_rec_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs flush_source_funcs = {
  NULL, NULL, flush_dispatch, NULL,
};

/* ---- GObject ----------------------------------------------------------- */

static void
gst_tcp_split_sink_class_init (GstTcpSplitSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_tcp_split_sink_set_property;
  gobject_class->get_property = gst_tcp_split_sink_get_property;
  gobject_class->finalize = gst_tcp_split_sink_finalize;

  /* start() runs at NULL->READY for a sink: start settings only in NULL */
  gst_mcp_tcp_install_properties (gobject_class, GST_MCP_MODE_LISTENER, 0,
      "How datagrams are framed on TCP (auto: a listener serves each client "
      "in the framing it speaks; a caller speaks mpx)",
      "Our id in the mpx handshake, and the origin of datagrams that come "
      "without metadata (0: random)");
  g_object_class_install_property (gobject_class, PROP_MAX_CLIENTS,
      g_param_spec_uint ("max-clients", "Max clients",
          "Connections beyond this many are closed at once (0: no limit)",
          0, G_MAXUINT, DEFAULT_MAX_CLIENTS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SLOW_CLIENT_POLICY,
      g_param_spec_enum ("slow-client-policy", "Slow client policy",
          "What happens to a client that falls behind the queue limits",
          GST_TYPE_MCP_SLOW_CLIENT_POLICY, DEFAULT_SLOW_CLIENT_POLICY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Max queue bytes",
          "How far (payload bytes) a client may fall behind (0: no limit)",
          0, G_MAXUINT64, DEFAULT_MAX_QUEUE_BYTES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_TIME,
      g_param_spec_uint64 ("max-queue-time", "Max queue time",
          "How far (ns) a client may fall behind (0: no limit)",
          0, G_MAXUINT64, DEFAULT_MAX_QUEUE_TIME,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DETECT_TIMEOUT,
      g_param_spec_uint64 ("detect-timeout", "Detect timeout",
          "framing=auto listener: a client silent this long (ns) is served "
          "raw bytes (0: a silent client is closed after handshake-timeout)",
          0, G_MAXUINT64, DEFAULT_DETECT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstTcpSplitSink::get-stats:
   *
   * Returns a "tcpsplitsink-stats" structure: totals and the current
   * clients.
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_tcp_split_sink_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);
  /**
   * GstTcpSplitSink::client-added:
   * @address: the client's "ip:port"
   * @framing: the framing it is served in
   *
   * A client finished its handshake and receives from the next datagram.
   * Emitted on the element's network thread.
   */
  signals[SIGNAL_CLIENT_ADDED] = g_signal_new ("client-added",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstTcpSplitSink::client-removed:
   * @address: the client's "ip:port"
   * @reason: why it left
   *
   * Emitted on the element's network thread.
   */
  signals[SIGNAL_CLIENT_REMOVED] = g_signal_new ("client-removed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "TCP split sink", "Sink/Network",
      "Fans datagrams out to TCP clients, or pushes them to a splitting "
      "server, keeping datagram boundaries", "mcastproxy developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_tcp_split_sink_change_state);
  basesink_class->start = GST_DEBUG_FUNCPTR (gst_tcp_split_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_tcp_split_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR (gst_tcp_split_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_tcp_split_sink_render);
  basesink_class->render_list =
      GST_DEBUG_FUNCPTR (gst_tcp_split_sink_render_list);

  gst_type_mark_as_plugin_api (GST_TYPE_MCP_SLOW_CLIENT_POLICY, 0);
}

static void
gst_tcp_split_sink_init (GstTcpSplitSink * self)
{
  gst_mcp_tcp_settings_init (&self->tcp, GST_MCP_MODE_LISTENER);
  self->max_clients = DEFAULT_MAX_CLIENTS;
  self->slow_client_policy = DEFAULT_SLOW_CLIENT_POLICY;
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->max_queue_time = DEFAULT_MAX_QUEUE_TIME;
  self->detect_timeout = DEFAULT_DETECT_TIMEOUT;
  g_rec_mutex_init (&self->lock);
  g_queue_init (&self->removals);
  self->queue = gst_queue_array_new (1024);

  /* A relay forwards as things arrive; it does not pace by timestamps. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}

static void
gst_tcp_split_sink_finalize (GObject * object)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (object);

  queue_clear (self);
  gst_queue_array_free (self->queue);
  gst_mcp_tcp_settings_clear (&self->tcp);
  g_free (self->caps);
  g_rec_mutex_clear (&self->lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_tcp_split_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (object);

  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_set (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_MAX_CLIENTS:
      self->max_clients = g_value_get_uint (value);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      self->slow_client_policy = g_value_get_enum (value);
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_QUEUE_TIME:
      self->max_queue_time = g_value_get_uint64 (value);
      break;
    case PROP_DETECT_TIMEOUT:
      self->detect_timeout = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tcp_split_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (object);

  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_get (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_MAX_CLIENTS:
      g_value_set_uint (value, self->max_clients);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      g_value_set_enum (value, self->slow_client_policy);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, self->max_queue_bytes);
      break;
    case PROP_MAX_QUEUE_TIME:
      g_value_set_uint64 (value, self->max_queue_time);
      break;
    case PROP_DETECT_TIMEOUT:
      g_value_set_uint64 (value, self->detect_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- state ------------------------------------------------------------- */

static GstStateChangeReturn
gst_tcp_split_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (element);
  GstStateChangeReturn ret;
  gboolean listener;

  GST_OBJECT_LOCK (self);
  listener = self->tcp.mode == GST_MCP_MODE_LISTENER;
  GST_OBJECT_UNLOCK (self);
  /* a listener binds now, so that current-port is known in READY */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && listener
      && !gst_mcp_tcp_open (element, &self->tcp, &self->endpoint))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if ((ret == GST_STATE_CHANGE_FAILURE
          && transition == GST_STATE_CHANGE_NULL_TO_READY)
      || transition == GST_STATE_CHANGE_READY_TO_NULL)
    gst_mcp_tcp_close (element, &self->tcp, &self->endpoint);
  return ret;
}

static gboolean
gst_tcp_split_sink_start (GstBaseSink * bsink)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);
  guint64 peer_id, interval;

  if (!gst_mcp_tcp_open (GST_ELEMENT (self), &self->tcp, &self->endpoint))
    return FALSE;

  GST_OBJECT_LOCK (self);
  peer_id = self->tcp.peer_id;
  interval = self->tcp.stats_interval;
  GST_OBJECT_UNLOCK (self);

  g_rec_mutex_lock (&self->lock);
  self->caller = !mcp_endpoint_is_listener (self->endpoint);
  self->active_peer_id = gst_mcp_tcp_pick_peer_id (peer_id);
  self->seq = 0;
  self->datagrams_in = self->bytes_in = 0;
  self->datagrams_sent = self->datagrams_skipped = 0;
  self->datagrams_dropped = self->oversize_dropped = 0;
  self->clients_total = self->clients_dropped = self->clients_rejected = 0;
  self->connects = self->connect_failures = 0;
  self->flush_source = g_source_new (&flush_source_funcs, sizeof (FlushSource));
  ((FlushSource *) self->flush_source)->sink = self;
  g_source_set_priority (self->flush_source, G_PRIORITY_HIGH);
  g_rec_mutex_unlock (&self->lock);

  mcp_endpoint_start (self->endpoint, "tcpsplitsink", &endpoint_funcs, self);
  g_source_attach (self->flush_source,
      mcp_endpoint_get_context (self->endpoint));

  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_tcp_split_sink_get_stats);
  return TRUE;
}

static gboolean
gst_tcp_split_sink_stop (GstBaseSink * bsink)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);
  GList *clients, *l;

  gst_mcp_stats_timer_stop (&self->stats_timer);
  /* joins the network thread: from here on this thread is alone */
  mcp_endpoint_stop (self->endpoint);

  g_rec_mutex_lock (&self->lock);
  if (self->flush_source) {
    g_source_destroy (self->flush_source);
    g_clear_pointer (&self->flush_source, g_source_unref);
  }
  clients = g_list_copy (self->clients);
  g_rec_mutex_unlock (&self->lock);

  /* Each close removes its client (and emits client-removed). */
  self->stopping = TRUE;
  for (l = clients; l; l = l->next)
    mcp_conn_close (((Client *) l->data)->conn, "element stopped");
  self->stopping = FALSE;
  g_list_free (clients);
  flush_removals (self);

  g_rec_mutex_lock (&self->lock);
  queue_clear (self);
  self->n_active = 0;
  self->flush_pending = FALSE;
  g_clear_pointer (&self->caps, g_free);
  g_rec_mutex_unlock (&self->lock);
  return TRUE;
}

/* ---- data -------------------------------------------------------------- */

static gboolean
gst_tcp_split_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);
  gchar *str = gst_caps_to_string (caps);

  g_rec_mutex_lock (&self->lock);
  if (g_strcmp0 (str, self->caps) != 0) {
    g_free (self->caps);
    self->caps = str;
    str = NULL;
    if (self->n_active > 0) {
      Entry *e = g_new0 (Entry, 1);

      e->refcount = 1;
      e->kind = ENTRY_CAPS;
      e->arrival = g_get_monotonic_time ();
      e->control = mcp_mpx_build_caps (self->caps);
      queue_push (self, e);
    }
  }
  g_rec_mutex_unlock (&self->lock);
  g_free (str);
  return TRUE;
}

/* Under lock. */
static void
add_buffer (GstTcpSplitSink * self, GstBuffer * buffer, gint64 now)
{
  GstMcpMeta *meta;
  McpFrameMeta info;
  Entry *e;
  gsize size = gst_buffer_get_size (buffer);

  self->datagrams_in++;
  self->bytes_in += size;

  meta = gst_buffer_get_mcp_meta (buffer);
  if (meta) {
    info = meta->info;
  } else {
    memset (&info, 0, sizeof (info));
    info.origin_id = self->active_peer_id;
    info.seq = self->seq++;
    info.capture_time = g_get_real_time () * 1000;
  }

  if (self->n_active == 0) {
    /* A caller with no connection loses the datagram; a listener without
     * clients simply has nobody to serve. */
    if (self->caller)
      self->datagrams_dropped++;
    return;
  }

  e = g_new (Entry, 1);
  e->refcount = 1;
  e->kind = ENTRY_DATA;
  e->arrival = now;
  e->control = NULL;
  e->buffer = gst_buffer_ref (buffer);
  if (!gst_buffer_map (buffer, &e->map, GST_MAP_READ)) {
    gst_buffer_unref (buffer);
    g_free (e);
    return;
  }
  e->oversize = size > MCP_MAX_DATAGRAM;
  if (e->oversize) {
    if (self->oversize_dropped++ == 0)
      GST_ELEMENT_WARNING (self, STREAM, FORMAT,
          ("Buffer too large for a datagram"),
          ("%" G_GSIZE_FORMAT " bytes exceed %u: sent to raw clients only",
              size, MCP_MAX_DATAGRAM));
  } else {
    mcp_mpx_write_data_header (e->mpx_header, &info, size);
    mcp_rfc4571_write_header (e->len_header, size);
  }
  queue_push (self, e);
}

static GstFlowReturn
gst_tcp_split_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);

  g_rec_mutex_lock (&self->lock);
  add_buffer (self, buffer, g_get_monotonic_time ());
  g_rec_mutex_unlock (&self->lock);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_tcp_split_sink_render_list (GstBaseSink * bsink, GstBufferList * list)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);
  guint i, n = gst_buffer_list_length (list);
  gint64 now = g_get_monotonic_time ();

  g_rec_mutex_lock (&self->lock);
  for (i = 0; i < n; i++)
    add_buffer (self, gst_buffer_list_get (list, i), now);
  g_rec_mutex_unlock (&self->lock);
  return GST_FLOW_OK;
}

/* ---- statistics -------------------------------------------------------- */

static GstStructure *
gst_tcp_split_sink_get_stats (GstTcpSplitSink * self)
{
  GstStructure *s;
  GValue clients = G_VALUE_INIT;
  guint64 sent;
  GList *l;

  g_value_init (&clients, GST_TYPE_ARRAY);
  g_rec_mutex_lock (&self->lock);
  sent = self->datagrams_sent;
  for (l = self->clients; l; l = l->next) {
    Client *c = l->data;
    GValue v = G_VALUE_INIT;
    GstStructure *cs;

    sent += c->datagrams;
    if (!c->active)
      continue;
    cs = gst_structure_new ("client",
        "address", G_TYPE_STRING, c->address,
        "framing", G_TYPE_STRING, mcp_framing_to_string (c->framing),
        "datagrams", G_TYPE_UINT64, c->datagrams,
        "skipped", G_TYPE_UINT64, c->skipped,
        "bytes", G_TYPE_UINT64, mcp_conn_get_bytes_out (c->conn),
        "lag-datagrams", G_TYPE_UINT64, queue_end (self) - c->next, NULL);
    g_value_init (&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure (&v, cs);
    gst_structure_free (cs);
    gst_value_array_append_and_take_value (&clients, &v);
  }
  s = gst_structure_new ("tcpsplitsink-stats",
      "datagrams-in", G_TYPE_UINT64, self->datagrams_in,
      "bytes-in", G_TYPE_UINT64, self->bytes_in,
      "datagrams-sent", G_TYPE_UINT64, sent,
      "datagrams-skipped", G_TYPE_UINT64, self->datagrams_skipped,
      "datagrams-dropped", G_TYPE_UINT64, self->datagrams_dropped,
      "oversize-dropped", G_TYPE_UINT64, self->oversize_dropped,
      "clients", G_TYPE_UINT, self->n_active,
      "clients-total", G_TYPE_UINT64, self->clients_total,
      "clients-dropped", G_TYPE_UINT64, self->clients_dropped,
      "clients-rejected", G_TYPE_UINT64, self->clients_rejected,
      "connects", G_TYPE_UINT64, self->connects,
      "connect-failures", G_TYPE_UINT64, self->connect_failures,
      "queue-datagrams", G_TYPE_UINT,
      gst_queue_array_get_length (self->queue),
      "queue-bytes", G_TYPE_UINT64, self->queue_bytes, NULL);
  g_rec_mutex_unlock (&self->lock);
  gst_structure_take_value (s, "client-list", &clients);
  return s;
}
