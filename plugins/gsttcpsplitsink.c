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
#include "gstmcpuri.h"
#include "gstmcpenums.h"
#include "gstmcpfanout.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcptcp.h"

#include <string.h>

#include "mcp-address.h"
#include "mcp-dedup.h"
#include "mcp-ts.h"

GST_DEBUG_CATEGORY_STATIC (tcp_split_sink_debug);
#define GST_CAT_DEFAULT tcp_split_sink_debug

#define DEFAULT_MAX_CLIENTS 0
#define DEFAULT_SLOW_CLIENT_POLICY GST_MCP_SLOW_CLIENT_RESYNC
#define DEFAULT_MAX_QUEUE_BYTES (4 * 1024 * 1024)
#define DEFAULT_MAX_QUEUE_TIME (3 * GST_SECOND)
#define DEFAULT_DETECT_TIMEOUT (300 * GST_MSECOND)
#define DEFAULT_NO_ECHO TRUE
#define DEFAULT_ONE_PER_PEER TRUE
#define DEFAULT_HTTP_PATH "/"
#define DEFAULT_BURST GST_MCP_BURST_NONE
#define DEFAULT_BURST_MAX_BYTES (4 * 1024 * 1024)

/* After the properties shared with tcpsplitsrc (gstmcptcp.h). */
enum
{
  PROP_MAX_CLIENTS = GST_MCP_TCP_PROP_LAST,
  PROP_SLOW_CLIENT_POLICY,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_QUEUE_TIME,
  PROP_DETECT_TIMEOUT,
  PROP_NO_ECHO,
  PROP_ONE_PER_PEER,
  PROP_HTTP_PATH,
  PROP_BURST,
  PROP_BURST_MAX_BYTES,
};

enum
{
  SIGNAL_GET_STATS,
  SIGNAL_CLIENT_ADDED,
  SIGNAL_CLIENT_REMOVED,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

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
  gboolean no_echo;
  gboolean one_per_peer;
  gchar *http_path;
  GstMcpBurst burst;
  guint64 burst_max_bytes;

  McpEndpoint *endpoint;        /* a listener from NULL->READY on */
  GstMcpFanout *fanout;
  GstMcpStatsTimer stats_timer;
  gboolean caller;              /* mode, fixed from start to stop */
  guint64 origin_id;            /* for buffers without metadata */
  McpTsTracker *ts;             /* burst=keyframe: streaming thread only */

  /* statistics and the sequence, under the object lock */
  guint64 seq;
  guint64 datagrams_in;
  guint64 bytes_in;
  guint64 datagrams_dropped;    /* caller: nobody connected */
  guint64 connects;
  GstMcpCallers *callers;

  /* subscriptions, under the object lock: the state last told upstream,
   * and whether it may be told (from start to stop) */
  GstStructure *subs_told;
  gboolean subs_live;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_tcp_split_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTcpSplitSink, gst_tcp_split_sink,
    GST_TYPE_BASE_SINK, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_mcp_uri_tcpsplit_sink_init));
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
static gboolean gst_tcp_split_sink_query (GstBaseSink * bsink,
    GstQuery * query);
static gboolean gst_tcp_split_sink_set_caps (GstBaseSink * bsink,
    GstCaps * caps);
static GstFlowReturn gst_tcp_split_sink_render (GstBaseSink * bsink,
    GstBuffer * buffer);
static GstFlowReturn gst_tcp_split_sink_render_list (GstBaseSink * bsink,
    GstBufferList * list);
static GstStructure *gst_tcp_split_sink_get_stats (GstTcpSplitSink * self);

/* ---- connections (endpoint thread) ------------------------------------- */

static void
fanout_client_added (GstMcpFanout * fo, const GstMcpClientInfo * c,
    gpointer user_data)
{
  GstTcpSplitSink *self = user_data;
  const gchar *address = c->address;
  const gchar *framing = mcp_framing_to_string (c->framing);

  if (c->caller != MCP_ENDPOINT_ACCEPTED) {
    GST_OBJECT_LOCK (self);
    self->connects++;
    GST_OBJECT_UNLOCK (self);
    gst_mcp_callers_connected (self->callers, c->caller);
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mcastproxy-client-added", "address",
              G_TYPE_STRING, address, "framing", G_TYPE_STRING, framing,
              NULL)));
  g_signal_emit (self, signals[SIGNAL_CLIENT_ADDED], 0, address, framing);
}

static void
fanout_client_removed (GstMcpFanout * fo, const GstMcpConnEnd * r,
    gpointer user_data)
{
  GstTcpSplitSink *self = user_data;

  gst_mcp_tcp_connection_ended (GST_ELEMENT (self), &self->tcp.sec,
      self->callers, r);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mcastproxy-client-removed", "address",
              G_TYPE_STRING, r->address, "reason", G_TYPE_STRING, r->reason,
              NULL)));
  g_signal_emit (self, signals[SIGNAL_CLIENT_REMOVED], 0, r->address,
      r->reason);
}

/* Who is connected, or what they want, changed: tell the elements
 * upstream when what they are asked for is not what they were told. */
static void
fanout_subscriptions (GstMcpFanout * fo, gpointer user_data)
{
  GstTcpSplitSink *self = user_data;
  GArray *peers = gst_mcp_fanout_get_subscriptions (fo);
  GstEvent *event = gst_mcp_subs_event_new (peers);
  const GstStructure *now = gst_event_get_structure (event);
  gboolean changed;

  g_array_unref (peers);
  GST_OBJECT_LOCK (self);
  changed = self->subs_live && (!self->subs_told
      || !gst_structure_is_equal (self->subs_told, now));
  if (changed) {
    g_clear_pointer (&self->subs_told, gst_structure_free);
    self->subs_told = gst_structure_copy (now);
  }
  GST_OBJECT_UNLOCK (self);
  if (changed) {
    GST_DEBUG_OBJECT (self, "subscriptions now %" GST_PTR_FORMAT, now);
    gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
  } else {
    gst_event_unref (event);
  }
}

static const GstMcpFanoutFuncs fanout_funcs = {
  fanout_client_added,
  fanout_client_removed,
  NULL,                         /* what clients send is discarded */
  NULL,
  fanout_subscriptions,
};

static void
endpoint_connection (McpEndpoint * ep, GSocket * socket, gint caller,
    gpointer user_data)
{
  GstTcpSplitSink *self = user_data;
  McpConnConfig cfg = { 0 };
  guint max_clients;
  gchar *http_path;

  GST_OBJECT_LOCK (self);
  max_clients = self->max_clients;
  http_path = *self->http_path ? g_strdup (self->http_path) : NULL;
  cfg.framing = (McpFraming) self->tcp.framing;
  cfg.detect_timeout = self->detect_timeout;
  cfg.handshake_timeout = self->tcp.handshake_timeout;
  cfg.peer_id = self->origin_id;
  GST_OBJECT_UNLOCK (self);

  if (caller == MCP_ENDPOINT_ACCEPTED
      && !gst_mcp_security_admit (GST_ELEMENT (self), &self->tcp.sec, socket,
          gst_mcp_fanout_get_n_connections (self->fanout), max_clients,
          "max-clients")) {
    g_free (http_path);
    return;
  }

  gst_mcp_tcp_prepare_socket (GST_ELEMENT (self), &self->tcp, socket);
  if (caller != MCP_ENDPOINT_ACCEPTED && cfg.framing == MCP_FRAMING_AUTO)
    cfg.framing = MCP_FRAMING_MPX;
  cfg.role = MCP_ROLE_SOURCE;
  cfg.initiator = caller != MCP_ENDPOINT_ACCEPTED;
  cfg.discard_input = TRUE;
  cfg.features = MCP_FEATURE_SUBSCRIPTIONS;
  cfg.name = "tcpsplitsink";
  cfg.http_path = http_path;
  gst_mcp_security_configure (&self->tcp.sec, &cfg, ep, caller);
  gst_mcp_fanout_add (self->fanout, socket, caller, &cfg);
  g_free (http_path);
}

static void
endpoint_connect_failed (McpEndpoint * ep, gint caller, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  GstTcpSplitSink *self = user_data;

  gst_mcp_callers_failed (self->callers, caller, reason, retry_in);
}

static const McpEndpointFuncs endpoint_funcs = {
  endpoint_connection,
  endpoint_connect_failed,
  gst_mcp_tcp_accept_failed,
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
  g_object_class_install_property (gobject_class, PROP_NO_ECHO,
      g_param_spec_boolean ("no-echo", "No echo",
          "Never send a datagram to a client whose peer id is the "
          "datagram's origin (an island gateway never gets its own "
          "island's traffic back)", DEFAULT_NO_ECHO,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ONE_PER_PEER,
      g_param_spec_boolean ("one-per-peer", "One per peer",
          "Of several clients with the same peer id (gateways of one "
          "island), only the oldest gets data; the others stand by and take "
          "over when it leaves", DEFAULT_ONE_PER_PEER,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_HTTP_PATH,
      g_param_spec_string ("http-path", "HTTP path",
          "framing=auto listener: the path HTTP clients GET the stream from "
          "(others get 404, /stats the statistics as JSON); empty: HTTP "
          "requests are not recognised", DEFAULT_HTTP_PATH,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BURST,
      g_param_spec_enum ("burst", "Burst",
          "What a new raw or HTTP client of an MPEG-TS stream gets first "
          "(keyframe: the PAT, the PMT and everything since the last key "
          "frame, so that a player shows a picture at once)",
          GST_TYPE_MCP_BURST, DEFAULT_BURST,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BURST_MAX_BYTES,
      gst_mcp_param_spec_uint64 ("burst-max-bytes", "Burst max bytes",
          "Most kept since the last key frame for new clients (bytes; more: "
          "no burst until the next key frame)", 1, G_MAXUINT64,
          DEFAULT_BURST_MAX_BYTES, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
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
   * Emitted on the element's network thread (from an idle callback), or
   * for connections closed at stop on the thread stopping the element.
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
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_tcp_split_sink_query);
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
  self->no_echo = DEFAULT_NO_ECHO;
  self->one_per_peer = DEFAULT_ONE_PER_PEER;
  self->http_path = g_strdup (DEFAULT_HTTP_PATH);
  self->burst = DEFAULT_BURST;
  self->burst_max_bytes = DEFAULT_BURST_MAX_BYTES;
  self->fanout = gst_mcp_fanout_new (GST_ELEMENT (self), &fanout_funcs, self);
  self->callers = gst_mcp_callers_new (GST_ELEMENT (self));
  gst_mcp_fanout_configure (self->fanout, self->max_queue_bytes,
      self->max_queue_time, self->slow_client_policy, self->no_echo,
      self->one_per_peer);

  /* A relay forwards as things arrive; it does not pace by timestamps, and
   * does not hold the pipeline until data comes (a gateway's sinks may see
   * nothing for long). */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
}

static void
gst_tcp_split_sink_finalize (GObject * object)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (object);

  gst_mcp_fanout_free (self->fanout);
  g_clear_pointer (&self->subs_told, gst_structure_free);
  gst_mcp_callers_free (self->callers);
  gst_mcp_tcp_settings_clear (&self->tcp);
  g_free (self->http_path);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* The queue limits and filters, as the properties say now. */
static void
configure_fanout (GstTcpSplitSink * self)
{
  guint64 max_bytes, max_time;
  GstMcpSlowClientPolicy policy;
  gboolean no_echo, one_per_peer;

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_queue_bytes;
  max_time = self->max_queue_time;
  policy = self->slow_client_policy;
  no_echo = self->no_echo;
  one_per_peer = self->one_per_peer;
  GST_OBJECT_UNLOCK (self);
  gst_mcp_fanout_configure (self->fanout, max_bytes, max_time, policy,
      no_echo, one_per_peer);
}

static void
gst_tcp_split_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (object);

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
    case PROP_NO_ECHO:
      self->no_echo = g_value_get_boolean (value);
      break;
    case PROP_ONE_PER_PEER:
      self->one_per_peer = g_value_get_boolean (value);
      break;
    case PROP_HTTP_PATH:{
      const gchar *path = g_value_get_string (value);

      if (path && *path && *path != '/')
        g_warning ("tcpsplitsink: http-path \"%s\" does not start with "
            "'/', ignored", path);
      else {
        g_free (self->http_path);
        self->http_path = g_strdup (path ? path : "");
      }
      break;
    }
    case PROP_BURST:
      self->burst = g_value_get_enum (value);
      break;
    case PROP_BURST_MAX_BYTES:
      self->burst_max_bytes = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  configure_fanout (self);
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
    case PROP_NO_ECHO:
      g_value_set_boolean (value, self->no_echo);
      break;
    case PROP_ONE_PER_PEER:
      g_value_set_boolean (value, self->one_per_peer);
      break;
    case PROP_HTTP_PATH:
      g_value_set_string (value, self->http_path);
      break;
    case PROP_BURST:
      g_value_set_enum (value, self->burst);
      break;
    case PROP_BURST_MAX_BYTES:
      g_value_set_uint64 (value, self->burst_max_bytes);
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

  /* A listener binds now, so that current-port is known in READY. What
   * can fail at start is done here too: a start() that fails makes the
   * base class post a second, reasonless error after ours. */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && (!gst_mcp_props_check (element)
          || !gst_mcp_tcp_open (element, &self->tcp, &self->endpoint)
          || !gst_mcp_tcp_prepare_security (element, &self->tcp))) {
    gst_mcp_security_release (&self->tcp.sec);
    gst_mcp_tcp_close (element, &self->tcp, &self->endpoint);
    return GST_STATE_CHANGE_FAILURE;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE
      && transition == GST_STATE_CHANGE_NULL_TO_READY)
    gst_mcp_security_release (&self->tcp.sec);
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
  guint64 peer_id, interval, burst_bytes;

  /* the endpoint and the security settings are ready (change_state) */
  GST_OBJECT_LOCK (self);
  burst_bytes = self->burst == GST_MCP_BURST_KEYFRAME ?
      self->burst_max_bytes : 0;
  peer_id = self->tcp.peer_id;
  interval = self->tcp.stats_interval;
  self->caller = !mcp_endpoint_is_listener (self->endpoint);
  self->origin_id = gst_mcp_tcp_pick_peer_id (peer_id);
  self->seq = mcp_seq_new_epoch ();
  self->datagrams_in = self->bytes_in = self->datagrams_dropped = 0;
  self->connects = 0;
  GST_OBJECT_UNLOCK (self);
  gst_mcp_callers_reset (self->callers, self->caller ? self->endpoint : NULL);

  configure_fanout (self);
  gst_mcp_fanout_set_burst (self->fanout, burst_bytes);
  if (burst_bytes)
    self->ts = mcp_ts_tracker_new ();
  /* before the endpoint: a caller may connect at once */
  gst_mcp_fanout_start (self->fanout, self->endpoint);
  mcp_endpoint_start (self->endpoint, "tcpsplitsink", &endpoint_funcs, self);
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_tcp_split_sink_get_stats);
  return TRUE;
}

static gboolean
gst_tcp_split_sink_stop (GstBaseSink * bsink)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);

  gst_mcp_stats_timer_stop (&self->stats_timer);
  GST_OBJECT_LOCK (self);
  self->subs_live = FALSE;
  g_clear_pointer (&self->subs_told, gst_structure_free);
  GST_OBJECT_UNLOCK (self);
  /* joins the network thread: from here on this thread is alone */
  mcp_endpoint_stop (self->endpoint);
  gst_mcp_fanout_stop (self->fanout);
  g_clear_pointer (&self->ts, mcp_ts_tracker_free);
  gst_mcp_security_release (&self->tcp.sec);
  return TRUE;
}

/* What the peers want (gstmcpsubs.h), for an element upstream that asks
 * as it starts. */
static gboolean
gst_tcp_split_sink_query (GstBaseSink * bsink, GstQuery * query)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);

  if (gst_mcp_subs_query_is (query)) {
    GArray *peers = gst_mcp_fanout_get_subscriptions (self->fanout);

    gst_mcp_subs_query_set (query, peers);
    GST_OBJECT_LOCK (self);
    /* from now on changes are told */
    self->subs_live = TRUE;
    g_clear_pointer (&self->subs_told, gst_structure_free);
    self->subs_told = gst_structure_copy (gst_query_get_structure (query));
    gst_structure_remove_field (self->subs_told, "answered");
    GST_OBJECT_UNLOCK (self);
    g_array_unref (peers);
    return TRUE;
  }
  return GST_BASE_SINK_CLASS (parent_class)->query (bsink, query);
}

/* ---- data -------------------------------------------------------------- */

static gboolean
gst_tcp_split_sink_set_caps (GstBaseSink * bsink, GstCaps * caps)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);
  gchar *str = gst_caps_to_string (caps);

  gst_mcp_fanout_set_caps (self->fanout, str);
  g_free (str);
  return TRUE;
}

static void
add_buffer (GstTcpSplitSink * self, GstBuffer * buffer)
{
  GstMcpMeta *meta = gst_buffer_get_mcp_meta (buffer);
  McpFrameMeta info;

  GST_OBJECT_LOCK (self);
  self->datagrams_in++;
  self->bytes_in += gst_buffer_get_size (buffer);
  if (meta) {
    info = meta->info;
  } else {
    memset (&info, 0, sizeof (info));
    info.origin_id = self->origin_id;
    info.seq = self->seq++;
    info.capture_time = g_get_real_time () * 1000;
  }
  GST_OBJECT_UNLOCK (self);

  /* A caller with no connection loses the datagram; a listener without
   * clients simply has nobody to serve. */
  if (!gst_mcp_fanout_queue (self->fanout, buffer, &info, NULL)
      && self->caller) {
    GST_OBJECT_LOCK (self);
    self->datagrams_dropped++;
    GST_OBJECT_UNLOCK (self);
  }
  if (self->ts)
    gst_mcp_fanout_mark_keyframe (self->fanout, self->ts, buffer);
}

static GstFlowReturn
gst_tcp_split_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);

  add_buffer (self, buffer);
  gst_mcp_fanout_flush (self->fanout);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_tcp_split_sink_render_list (GstBaseSink * bsink, GstBufferList * list)
{
  GstTcpSplitSink *self = GST_TCP_SPLIT_SINK (bsink);
  guint i, n = gst_buffer_list_length (list);

  for (i = 0; i < n; i++)
    add_buffer (self, gst_buffer_list_get (list, i));
  gst_mcp_fanout_flush (self->fanout);
  return GST_FLOW_OK;
}

/* ---- statistics -------------------------------------------------------- */

static GstStructure *
gst_tcp_split_sink_get_stats (GstTcpSplitSink * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("tcpsplitsink-stats",
      "datagrams-in", G_TYPE_UINT64, self->datagrams_in,
      "bytes-in", G_TYPE_UINT64, self->bytes_in,
      "datagrams-dropped", G_TYPE_UINT64, self->datagrams_dropped,
      "dropped-no-connection", G_TYPE_UINT64, self->datagrams_dropped,
      "connects", G_TYPE_UINT64, self->connects, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_mcp_callers_add_stats (self->callers, s);
  gst_mcp_security_add_stats (GST_ELEMENT (self), &self->tcp.sec, s);
  gst_mcp_fanout_fill_stats (self->fanout, s);
  return s;
}
