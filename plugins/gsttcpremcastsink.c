/* mcastproxy — tcpremcastsink
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-tcpremcastsink
 * @title: tcpremcastsink
 *
 * Sends every buffer as exactly one multicast datagram to `address:port`,
 * on each interface of `multicast-iface` (a comma-separated list; empty:
 * the system's choice), with `ttl-mc` as TTL (hop limit for IPv6).
 *
 * The sockets are opened at NULL->READY, so the properties take effect
 * when set in NULL.
 *
 * `loop` is off by default so that a relay on the same host never hears its
 * own re-multicast. `bind-address` picks the source address of the
 * datagrams.
 *
 * With `original-group=true` each datagram that carries the proxy's
 * metadata (from tcpsplitsrc with mpx framing) goes to the group and port it
 * was captured on, so one element re-creates several groups, IPv4 and IPv6;
 * datagrams without metadata go to `address:port`.
 *
 * With `original-source=true` each datagram whose metadata names its
 * original sender (what mcastsrc-relay captured, carried by mpx) leaves
 * from that sender's address (the port stays the element's), so that hosts
 * that joined source-specific (SSM, IGMPv3/MLDv2 INCLUDE) accept it. This
 * needs `multicast-iface` and CAP_NET_RAW or CAP_NET_ADMIN
 * (IP_TRANSPARENT), and a receiving host
 * whose reverse-path filter is on needs a route back to the sender (a
 * default route does).
 *
 * A failing send (no route while a link is down, say) is counted and
 * reported as one warning per outage (the next failure after sends succeed
 * again warns again); the stream goes on.
 *
 * With a `scope` (groups and ports, "239.10.0.0/16:5004 239.1.1.1:5000")
 * the element is demand-driven: it learns by IGMP/MLD which groups have
 * listeners on the interfaces of `multicast-iface`, acting as the querier
 * when no other is present (`querier`), and tells the elements upstream
 * what is wanted: the scope's single groups always, and the listened
 * groups inside the scope. It answers the "mcastproxy-subscriptions"
 * query on its sink pad and pushes the upstream event of that name when
 * the set changes (gstmcpsubs.h). This needs CAP_NET_RAW.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 tcpsplitsrc host=hub.example.net port=5201 ! tcpremcastsink address=239.1.1.1 port=5004 ttl-mc=4
 * ]| Re-multicasts a stream received over TCP into the local island.
 * |[
 * gst-launch-1.0 tcpsplitsrc host=hub.example.net port=5401 ! tcpremcastsink original-group=true multicast-iface=eth0 scope="239.10.0.0/16:5004 239.1.1.1:5004"
 * ]| The same, telling upstream which groups of 239.10.0.0/16 hosts on eth0
 * listen to.
 */

#include "config.h"

#include "gsttcpremcastsink.h"
#include "gstmcpuri.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcpsubs.h"

#include <string.h>

#include "mcp-address.h"
#include "mcp-igmp.h"
#include "mcp-igmp-querier.h"
#include "mcp-loop.h"
#include "mcp-mcast.h"
#include "mcp-subscription.h"

GST_DEBUG_CATEGORY_STATIC (tcp_remcast_sink_debug);
#define GST_CAT_DEFAULT tcp_remcast_sink_debug

#define DEFAULT_ADDRESS "239.255.0.1"
#define DEFAULT_PORT 5004
#define DEFAULT_MULTICAST_IFACE NULL
#define DEFAULT_TTL_MC 1
#define DEFAULT_LOOP FALSE
#define DEFAULT_BIND_ADDRESS NULL
#define DEFAULT_BIND_PORT 0
#define DEFAULT_BUFFER_SIZE 0
#define DEFAULT_QOS_DSCP -1
#define DEFAULT_STATS_INTERVAL 0
#define DEFAULT_ORIGINAL_GROUP FALSE
#define DEFAULT_ORIGINAL_SOURCE FALSE
#define DEFAULT_SCOPE NULL
#define DEFAULT_QUERIER TRUE
#define DEFAULT_ROBUSTNESS 2
#define DEFAULT_QUERY_INTERVAL (125 * GST_SECOND)
#define DEFAULT_QUERY_RESPONSE_INTERVAL (10 * GST_SECOND)
#define DEFAULT_LAST_MEMBER_QUERY_INTERVAL (1 * GST_SECOND)

/* Destinations remembered, so that a socket address is not made per
 * datagram. */
/* original-group: socket addresses kept, by group and port; past this
 * many the cache starts again (between two batches) */
#define MAX_DESTINATIONS 4096

/* The key of a destination: family, port, group. */
typedef struct
{
  guint8 family;
  guint16 port;
  guint8 group[16];
} DestKey;

static guint dest_key_hash (gconstpointer p);
static gboolean dest_key_equal (gconstpointer a, gconstpointer b);
static void free_source_message (gpointer p);

/* Datagrams handed to the kernel in one call. */
#define BATCH 64

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_MULTICAST_IFACE,
  PROP_TTL_MC,
  PROP_LOOP,
  PROP_BIND_ADDRESS,
  PROP_BIND_PORT,
  PROP_BUFFER_SIZE,
  PROP_STATS_INTERVAL,
  PROP_QOS_DSCP,
  PROP_ORIGINAL_GROUP,
  PROP_ORIGINAL_SOURCE,
  PROP_SCOPE,
  PROP_QUERIER,
  PROP_ROBUSTNESS,
  PROP_QUERY_INTERVAL,
  PROP_QUERY_RESPONSE_INTERVAL,
  PROP_LAST_MEMBER_QUERY_INTERVAL,
};

enum
{
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

struct _GstTcpRemcastSink
{
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *address;
  guint port;
  gchar *multicast_iface;
  gint ttl_mc;
  gboolean loop;
  gchar *bind_address;
  guint bind_port;
  gint buffer_size;
  gint qos_dscp;
  guint64 stats_interval;

  gboolean original_group;
  gboolean use_original;        /* original-group as of NULL->READY */
  gboolean original_source;
  gboolean use_source;          /* original-source as of NULL->READY */

  gchar *scope;
  gboolean querier;
  guint robustness;
  guint64 query_interval;
  guint64 query_response_interval;
  guint64 last_member_query_interval;

  /* demand-driven (a scope), from NULL->READY to READY->NULL: the
   * queriers (one per interface and family) run on the loop's thread */
  McpSubSet *scope_set;         /* read-only while running */
  McpLoop *igmp_loop;
  GPtrArray *queriers;          /* McpIgmpQuerier */
  McpSubSet *wanted;            /* under the object lock */
  gint64 started;               /* monotonic µs: NULL->READY */

  /* opened at NULL->READY: per address family (0: IPv4, 1: IPv6), one
   * socket per interface; the family of `address` always, the other one
   * with original-group when the host has it */
  GPtrArray *sockets[2];
  GSocketAddress *destination;
  /* original-group: DestKey -> GSocketAddress; streaming thread only */
  GHashTable *destinations;
  /* original-source: DestKey (of the sender, port 0) -> a one-element
   * array of its GSocketControlMessage; streaming thread only */
  GHashTable *source_messages;
  GCancellable *cancellable;    /* under the object lock */
  GstMcpStatsTimer stats_timer;

  /* statistics, under the object lock */
  guint64 datagrams_in;
  guint64 bytes_in;
  guint64 datagrams;            /* sent */
  guint64 bytes;
  guint64 errors;
  guint64 no_socket;
  gboolean warned;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_tcp_remcast_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstTcpRemcastSink, gst_tcp_remcast_sink,
    GST_TYPE_BASE_SINK, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_mcp_uri_mcast_sink_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (tcpremcastsink, "tcpremcastsink",
    GST_RANK_NONE, GST_TYPE_TCP_REMCAST_SINK,
    GST_DEBUG_CATEGORY_INIT (tcp_remcast_sink_debug, "tcpremcastsink", 0,
        "mcastproxy re-multicast sink"));

static void gst_tcp_remcast_sink_finalize (GObject * object);
static void gst_tcp_remcast_sink_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_tcp_remcast_sink_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_tcp_remcast_sink_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_tcp_remcast_sink_start (GstBaseSink * bsink);
static gboolean gst_tcp_remcast_sink_stop (GstBaseSink * bsink);
static gboolean gst_tcp_remcast_sink_unlock (GstBaseSink * bsink);
static gboolean gst_tcp_remcast_sink_unlock_stop (GstBaseSink * bsink);
static GstFlowReturn gst_tcp_remcast_sink_render (GstBaseSink * bsink,
    GstBuffer * buffer);
static GstFlowReturn gst_tcp_remcast_sink_render_list (GstBaseSink * bsink,
    GstBufferList * list);
static gboolean gst_tcp_remcast_sink_query (GstBaseSink * bsink,
    GstQuery * query);
static GstStructure *gst_tcp_remcast_sink_get_stats (GstTcpRemcastSink * self);

static void
gst_tcp_remcast_sink_class_init (GstTcpRemcastSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_tcp_remcast_sink_set_property;
  gobject_class->get_property = gst_tcp_remcast_sink_get_property;
  gobject_class->finalize = gst_tcp_remcast_sink_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Multicast group to send to (numeric IPv4 or IPv6)",
          DEFAULT_ADDRESS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PORT,
      gst_mcp_param_spec_uint ("port", "Port", "UDP port to send to", 1,
          G_MAXUINT16, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast interfaces",
          "Comma-separated interfaces to send on, each gets every datagram "
          "(empty: the system's choice)", DEFAULT_MULTICAST_IFACE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TTL_MC,
      gst_mcp_param_spec_int ("ttl-mc", "Multicast TTL",
          "TTL (IPv4) or hop limit (IPv6) of the datagrams", 0, 255,
          DEFAULT_TTL_MC, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LOOP,
      g_param_spec_boolean ("loop", "Loop",
          "Deliver the datagrams to receivers on this host too",
          DEFAULT_LOOP, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BIND_ADDRESS,
      g_param_spec_string ("bind-address", "Bind address",
          "Local address to send from (empty: any)", DEFAULT_BIND_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BIND_PORT,
      gst_mcp_param_spec_uint ("bind-port", "Bind port",
          "Local port to send from (0: any)", 0, G_MAXUINT16,
          DEFAULT_BIND_PORT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      gst_mcp_param_spec_int ("buffer-size", "Buffer size",
          "Socket send buffer in bytes (0: the system default)", 0,
          G_MAXINT, DEFAULT_BUFFER_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_QOS_DSCP,
      gst_mcp_param_spec_int ("qos-dscp", "QoS DSCP",
          "Differentiated Services code point of the datagrams sent (-1: "
          "the system's default)", -1, 63, DEFAULT_QOS_DSCP,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Post the statistics as an element message this often (ns; 0: "
          "never)", 0, G_MAXUINT64, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ORIGINAL_GROUP,
      g_param_spec_boolean ("original-group", "Original group",
          "Send each datagram that carries the proxy's metadata to the group "
          "and port it was captured on (address:port for the others)",
          DEFAULT_ORIGINAL_GROUP, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ORIGINAL_SOURCE,
      g_param_spec_boolean ("original-source", "Original source",
          "Send each datagram whose metadata names its original sender from "
          "that sender's address, so that source-specific (SSM) listeners "
          "take it (needs multicast-iface, and CAP_NET_RAW or CAP_NET_ADMIN; "
          "set in NULL)",
          DEFAULT_ORIGINAL_SOURCE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SCOPE,
      g_param_spec_string ("scope", "Scope",
          "Groups and ports this island may want, as subscription entries "
          "(\"239.10.0.0/16:5004 ff3e::/96:5004 239.1.1.1:5000\"): learn "
          "the listeners on multicast-iface by IGMP/MLD and tell upstream "
          "which groups are wanted; single groups are always wanted (empty: "
          "not demand-driven)", DEFAULT_SCOPE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_QUERIER,
      g_param_spec_boolean ("querier", "Querier",
          "With a scope: act as the IGMP/MLD querier when no other querier "
          "with a lower address is present (false: listen only)",
          DEFAULT_QUERIER, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ROBUSTNESS,
      gst_mcp_param_spec_uint ("robustness", "Robustness",
          "IGMP/MLD robustness variable: startup and last member query "
          "count", 1, 7, DEFAULT_ROBUSTNESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_QUERY_INTERVAL,
      gst_mcp_param_spec_uint64 ("query-interval", "Query interval",
          "Time between the general queries of the querier (ns)",
          GST_SECOND, (guint64) MCP_IGMP_CODE8_MAX * GST_SECOND,
          DEFAULT_QUERY_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class,
      PROP_QUERY_RESPONSE_INTERVAL,
      gst_mcp_param_spec_uint64 ("query-response-interval",
          "Query response interval", "Maximum response time advertised in "
          "general queries (ns; below query-interval)", 100 * GST_MSECOND,
          3174400 * GST_MSECOND, DEFAULT_QUERY_RESPONSE_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class,
      PROP_LAST_MEMBER_QUERY_INTERVAL,
      gst_mcp_param_spec_uint64 ("last-member-query-interval",
          "Last member query interval", "Time between the group-specific "
          "queries after a leave, and their maximum response time (ns)",
          100 * GST_MSECOND, 25500 * GST_MSECOND,
          DEFAULT_LAST_MEMBER_QUERY_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  /**
   * GstTcpRemcastSink::get-stats:
   *
   * Returns a "tcpremcastsink-stats" structure.
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_tcp_remcast_sink_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "Re-multicast sink", "Sink/Network",
      "Sends every buffer as one multicast datagram into the local network",
      "mcastproxy developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_change_state);
  basesink_class->start = GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_stop);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_unlock_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_render);
  basesink_class->render_list =
      GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_render_list);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_tcp_remcast_sink_query);
}

static void
gst_tcp_remcast_sink_init (GstTcpRemcastSink * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->destinations = g_hash_table_new_full (dest_key_hash, dest_key_equal,
      g_free, g_object_unref);
  self->source_messages = g_hash_table_new_full (dest_key_hash,
      dest_key_equal, g_free, free_source_message);
  self->port = DEFAULT_PORT;
  self->multicast_iface = g_strdup (DEFAULT_MULTICAST_IFACE);
  self->ttl_mc = DEFAULT_TTL_MC;
  self->loop = DEFAULT_LOOP;
  self->bind_address = g_strdup (DEFAULT_BIND_ADDRESS);
  self->bind_port = DEFAULT_BIND_PORT;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->qos_dscp = DEFAULT_QOS_DSCP;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->original_group = DEFAULT_ORIGINAL_GROUP;
  self->original_source = DEFAULT_ORIGINAL_SOURCE;
  self->scope = g_strdup (DEFAULT_SCOPE);
  self->querier = DEFAULT_QUERIER;
  self->robustness = DEFAULT_ROBUSTNESS;
  self->query_interval = DEFAULT_QUERY_INTERVAL;
  self->query_response_interval = DEFAULT_QUERY_RESPONSE_INTERVAL;
  self->last_member_query_interval = DEFAULT_LAST_MEMBER_QUERY_INTERVAL;
  self->cancellable = mcp_cancellable_new ();

  /* A relay forwards as things arrive; it does not pace by timestamps, and
   * does not hold the pipeline until data comes (a gateway's sinks may see
   * nothing for long). */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
}

static void
gst_tcp_remcast_sink_finalize (GObject * object)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (object);

  g_free (self->address);
  g_free (self->multicast_iface);
  g_free (self->bind_address);
  g_free (self->scope);
  g_hash_table_unref (self->destinations);
  g_hash_table_unref (self->source_messages);
  g_clear_pointer (&self->cancellable, mcp_cancellable_free);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_tcp_remcast_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (object);

  if (!gst_mcp_props_accept (object, pspec, value))
    return;
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_MULTICAST_IFACE:
      g_free (self->multicast_iface);
      self->multicast_iface = g_value_dup_string (value);
      break;
    case PROP_TTL_MC:
      self->ttl_mc = g_value_get_int (value);
      break;
    case PROP_LOOP:
      self->loop = g_value_get_boolean (value);
      break;
    case PROP_BIND_ADDRESS:
      g_free (self->bind_address);
      self->bind_address = g_value_dup_string (value);
      break;
    case PROP_BIND_PORT:
      self->bind_port = g_value_get_uint (value);
      break;
    case PROP_BUFFER_SIZE:
      self->buffer_size = g_value_get_int (value);
      break;
    case PROP_QOS_DSCP:
      self->qos_dscp = g_value_get_int (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint64 (value);
      break;
    case PROP_ORIGINAL_GROUP:
      self->original_group = g_value_get_boolean (value);
      break;
    case PROP_ORIGINAL_SOURCE:
      self->original_source = g_value_get_boolean (value);
      break;
    case PROP_SCOPE:
      g_free (self->scope);
      self->scope = g_value_dup_string (value);
      break;
    case PROP_QUERIER:
      self->querier = g_value_get_boolean (value);
      break;
    case PROP_ROBUSTNESS:
      self->robustness = g_value_get_uint (value);
      break;
    case PROP_QUERY_INTERVAL:
      self->query_interval = g_value_get_uint64 (value);
      break;
    case PROP_QUERY_RESPONSE_INTERVAL:
      self->query_response_interval = g_value_get_uint64 (value);
      break;
    case PROP_LAST_MEMBER_QUERY_INTERVAL:
      self->last_member_query_interval = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_tcp_remcast_sink_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_MULTICAST_IFACE:
      g_value_set_string (value, self->multicast_iface);
      break;
    case PROP_TTL_MC:
      g_value_set_int (value, self->ttl_mc);
      break;
    case PROP_LOOP:
      g_value_set_boolean (value, self->loop);
      break;
    case PROP_BIND_ADDRESS:
      g_value_set_string (value, self->bind_address);
      break;
    case PROP_BIND_PORT:
      g_value_set_uint (value, self->bind_port);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int (value, self->buffer_size);
      break;
    case PROP_QOS_DSCP:
      g_value_set_int (value, self->qos_dscp);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, self->stats_interval);
      break;
    case PROP_ORIGINAL_GROUP:
      g_value_set_boolean (value, self->original_group);
      break;
    case PROP_ORIGINAL_SOURCE:
      g_value_set_boolean (value, self->original_source);
      break;
    case PROP_SCOPE:
      g_value_set_string (value, self->scope);
      break;
    case PROP_QUERIER:
      g_value_set_boolean (value, self->querier);
      break;
    case PROP_ROBUSTNESS:
      g_value_set_uint (value, self->robustness);
      break;
    case PROP_QUERY_INTERVAL:
      g_value_set_uint64 (value, self->query_interval);
      break;
    case PROP_QUERY_RESPONSE_INTERVAL:
      g_value_set_uint64 (value, self->query_response_interval);
      break;
    case PROP_LAST_MEMBER_QUERY_INTERVAL:
      g_value_set_uint64 (value, self->last_member_query_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- state ------------------------------------------------------------- */

/* One socket per interface for the family of cfg->group. */
static GPtrArray *
open_family (GstTcpRemcastSink * self, McpMcastSenderConfig * cfg,
    GArray * ifindexes, GError ** error)
{
  GPtrArray *sockets = g_ptr_array_new_with_free_func (g_object_unref);
  guint i;

  for (i = 0; i < MAX (ifindexes->len, 1); i++) {
    GSocket *socket;

    cfg->ifindex = ifindexes->len ? g_array_index (ifindexes, guint, i) : 0;
    socket = mcp_mcast_open_sender (cfg, error);
    if (!socket) {
      g_ptr_array_unref (sockets);
      return NULL;
    }
    g_ptr_array_add (sockets, socket);
  }
  return sockets;
}

static inline guint
family_index (GSocketFamily family)
{
  return family == G_SOCKET_FAMILY_IPV6 ? 1 : 0;
}

static gboolean
open_sockets (GstTcpRemcastSink * self)
{
  McpMcastSenderConfig cfg = { 0 };
  GError *err = NULL;
  gchar *address, *ifaces, *bind;
  GArray *ifindexes = NULL;
  GPtrArray *sockets[2] = { NULL, NULL };
  GSocketFamily family;
  guint port;
  gboolean ok = FALSE, original_group;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  ifaces = g_strdup (self->multicast_iface);
  bind = g_strdup (self->bind_address);
  port = self->port;
  original_group = self->original_group;
  cfg.any_source = self->original_source;
  cfg.ttl = self->ttl_mc;
  cfg.loop = self->loop;
  cfg.bind_port = self->bind_port;
  cfg.buffer_size = self->buffer_size;
  cfg.dscp = self->qos_dscp;
  GST_OBJECT_UNLOCK (self);

  cfg.group = mcp_parse_group (address, &err);
  if (!cfg.group) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid multicast address: %s", err->message), (NULL));
    goto done;
  }
  if (bind && *bind) {
    cfg.bind_address = mcp_parse_inet_address (bind, &err);
    if (!cfg.bind_address) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid bind-address: %s", err->message), (NULL));
      goto done;
    }
  }
  ifindexes = mcp_parse_interfaces (ifaces, &err);
  if (!ifindexes) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Invalid multicast-iface: %s", err->message), (NULL));
    goto done;
  }

  family = g_inet_address_get_family (cfg.group);
  sockets[family_index (family)] = open_family (self, &cfg, ifindexes, &err);
  if (!sockets[family_index (family)]) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("Could not send to multicast group %s port %u: %s", address, port,
            err->message), (NULL));
    goto done;
  }
  if (original_group) {
    /* the other family too, from any local address of it, if the host has
     * it: groups of both kinds may come through */
    GSocketFamily other = family == G_SOCKET_FAMILY_IPV6 ?
        G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6;
    GInetAddress *saved_bind = cfg.bind_address, *saved_group = cfg.group;

    cfg.group = g_inet_address_new_from_string (other == G_SOCKET_FAMILY_IPV6 ?
        "ff02::1" : "224.0.0.1");
    cfg.bind_address = NULL;
    sockets[family_index (other)] = open_family (self, &cfg, ifindexes, &err);
    if (!sockets[family_index (other)]) {
      GST_INFO_OBJECT (self, "no %s sockets: %s",
          other == G_SOCKET_FAMILY_IPV6 ? "IPv6" : "IPv4", err->message);
      g_clear_error (&err);
    }
    g_object_unref (cfg.group);
    cfg.group = saved_group;
    cfg.bind_address = saved_bind;
  }

  GST_OBJECT_LOCK (self);
  self->sockets[0] = g_steal_pointer (&sockets[0]);
  self->sockets[1] = g_steal_pointer (&sockets[1]);
  self->destination = g_inet_socket_address_new (cfg.group, port);
  self->use_original = original_group;
  self->use_source = cfg.any_source;
  GST_OBJECT_UNLOCK (self);
  ok = TRUE;

done:
  g_clear_error (&err);
  g_clear_object (&cfg.group);
  g_clear_object (&cfg.bind_address);
  g_clear_pointer (&ifindexes, g_array_unref);
  g_clear_pointer (&sockets[0], g_ptr_array_unref);
  g_clear_pointer (&sockets[1], g_ptr_array_unref);
  g_free (address);
  g_free (ifaces);
  g_free (bind);
  return ok;
}

static void
close_sockets (GstTcpRemcastSink * self)
{
  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->sockets[0], g_ptr_array_unref);
  g_clear_pointer (&self->sockets[1], g_ptr_array_unref);
  g_clear_object (&self->destination);
  g_hash_table_remove_all (self->destinations);
  g_hash_table_remove_all (self->source_messages);
  GST_OBJECT_UNLOCK (self);
}


/* ---- demand: who listens, and what to ask upstream --------------------- */

static gboolean
is_single_group (const McpSubEntry * e)
{
  return e->prefix_len == (e->family == 4 ? 32 : 128);
}

static gint
compare_source (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 16);
}

/* What the listeners of g want, inside scope, added to out. */
static void
add_listened (const McpSubSet * scope, McpIgmpQuerierGroup * g, McpSubSet * out)
{
  McpSubEntry want = { 0 };
  guint n = g->sources->len, i;
  gboolean v4 = g_inet_address_get_family (g->group) == G_SOCKET_FAMILY_IPV4;

  want.family = v4 ? 4 : 6;
  want.prefix_len = v4 ? 32 : 128;
  want.port_lo = 1;
  want.port_hi = G_MAXUINT16;
  memcpy (want.group, g_inet_address_to_bytes (g->group), v4 ? 4 : 16);
  if (g->exclude) {
    /* excluding fewer sources than the hosts do asks for more: safe */
    want.mode = n ? MCP_SUB_EXCLUDE : MCP_SUB_ANY;
    n = MIN (n, MCP_SUB_MAX_SOURCES);
  } else if (n == 0) {
    return;
  } else if (n > MCP_SUB_MAX_SOURCES) {
    want.mode = MCP_SUB_ANY;    /* more than an entry holds: all of them */
  } else {
    want.mode = MCP_SUB_INCLUDE;
  }
  if (want.mode != MCP_SUB_ANY) {
    want.n_sources = n;
    want.sources = g_malloc0 ((gsize) n * 16);
    for (i = 0; i < n; i++)
      memcpy (want.sources[i], g_inet_address_to_bytes (g->sources->pdata[i]),
          v4 ? 4 : 16);
    qsort (want.sources, n, 16, compare_source);
  }
  mcp_sub_set_restrict (scope, &want, out);
  g_free (want.sources);
}

/* The single groups of the scope, always wanted, and what the listeners
 * of every querier want inside it. */
static McpSubSet *
compute_wanted (const McpSubSet * scope, GPtrArray * queriers)
{
  McpSubSet *set = mcp_sub_set_new ();
  guint i, j;

  for (i = 0; i < mcp_sub_set_size (scope); i++) {
    const McpSubEntry *e = mcp_sub_set_get (scope, i);

    if (is_single_group (e))
      mcp_sub_set_add (set, e, NULL);
  }
  for (i = 0; queriers && i < queriers->len; i++) {
    GPtrArray *groups = mcp_igmp_querier_list (queriers->pdata[i], TRUE);

    for (j = 0; j < groups->len; j++)
      add_listened (scope, groups->pdata[j], set);
    g_ptr_array_unref (groups);
  }
  return set;
}

static GArray *
peers_of (const McpSubSet * wanted)
{
  GArray *peers = gst_mcp_subs_peers_new ();

  gst_mcp_subs_peers_add (peers, 0, wanted);
  return peers;
}

/* On the loop's thread, with nothing locked: the listeners changed. The
 * one thread of all queriers keeps the events in order. */
static void
listeners_changed (McpIgmpQuerier * querier, gpointer user_data)
{
  GstTcpRemcastSink *self = user_data;
  GPtrArray *queriers;
  McpSubSet *wanted;
  GArray *peers = NULL;
  gchar *text;

  /* the queriers are freed on this thread, after stop_demand took them:
   * without them, stopping */
  GST_OBJECT_LOCK (self);
  queriers = self->queriers ? g_ptr_array_ref (self->queriers) : NULL;
  GST_OBJECT_UNLOCK (self);
  if (!queriers)
    return;
  wanted = compute_wanted (self->scope_set, queriers);
  g_ptr_array_unref (queriers);
  GST_OBJECT_LOCK (self);
  if (self->wanted && !mcp_sub_set_equal (wanted, self->wanted)) {
    peers = peers_of (wanted);
    mcp_sub_set_free (self->wanted);
    self->wanted = g_steal_pointer (&wanted);
  }
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&wanted, mcp_sub_set_free);
  if (!peers)
    return;
  text = mcp_sub_set_to_string (g_array_index (peers, GstMcpSubsPeer, 0).set);
  GST_INFO_OBJECT (self, "wanted now: \"%s\"", text);
  g_free (text);
  /* upstream events take no stream lock: no deadlock with streaming; a
   * flushing pad refuses it, and upstream asks again when it starts */
  if (!gst_pad_push_event (GST_BASE_SINK_PAD (self),
          gst_mcp_subs_event_new (peers)))
    GST_DEBUG_OBJECT (self, "upstream did not take the subscriptions");
  g_array_unref (peers);
}

static void
post_igmp_error (GstTcpRemcastSink * self, const gchar * ifname,
    GSocketFamily family, GError * err)
{
  const gchar *proto = family == G_SOCKET_FAMILY_IPV6 ? "MLD" : "IGMP";

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
        ("Could not listen to %s on %s: %s", proto, ifname, err->message),
        (NULL));
  else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Could not listen to %s on %s: %s", proto, ifname, err->message),
        (NULL));
  else
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not listen to %s on %s: %s", proto, ifname, err->message),
        (NULL));
}

static gboolean
free_queriers (gpointer data)
{
  g_ptr_array_unref (data);
  return G_SOURCE_REMOVE;
}

/* NULL->READY, with a scope: one querier per interface of multicast-iface
 * and family of the scope. */
static gboolean
start_demand (GstTcpRemcastSink * self)
{
  McpIgmpQuerierConfig cfg;
  McpSubSet *scope;
  GPtrArray *queriers = NULL;
  GError *err = NULL;
  gchar *text, *ifaces, **names = NULL;
  gboolean families[2] = { FALSE, FALSE }, ok = FALSE;
  guint i, f, n_names = 0;

  mcp_igmp_querier_config_init (&cfg);
  GST_OBJECT_LOCK (self);
  text = g_strdup (self->scope);
  ifaces = g_strdup (self->multicast_iface);
  cfg.querier = self->querier;
  cfg.robustness = self->robustness;
  cfg.query_interval = self->query_interval / 1000;
  cfg.query_response_interval = self->query_response_interval / 1000;
  cfg.last_member_query_interval = self->last_member_query_interval / 1000;
  GST_OBJECT_UNLOCK (self);

  if (!text || !*text) {
    g_free (text);
    g_free (ifaces);
    return TRUE;
  }
  scope = mcp_sub_set_parse (text, &err);
  if (!scope) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid scope: %s", err->message), (NULL));
    goto done;
  }
  if (cfg.query_response_interval >= cfg.query_interval) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid query-response-interval: it must be below "
            "query-interval"), (NULL));
    goto done;
  }
  if (ifaces)
    names = g_strsplit (ifaces, ",", -1);
  for (i = 0; names && names[i]; i++)
    if (*g_strstrip (names[i]))
      n_names++;
  if (n_names == 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("A scope needs multicast-iface: the interfaces whose listeners "
            "count"), (NULL));
    goto done;
  }
  for (i = 0; i < mcp_sub_set_size (scope); i++)
    families[mcp_sub_set_get (scope, i)->family == 6] = TRUE;

  queriers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      mcp_igmp_querier_free);
  for (i = 0; names[i]; i++) {
    for (f = 0; f < 2 && *names[i]; f++) {
      GSocketFamily family = f ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
      McpIgmpQuerier *q;

      if (!families[f])
        continue;
      q = mcp_igmp_querier_new (family, names[i], &cfg, &err);
      if (!q) {
        post_igmp_error (self, names[i], family, err);
        goto done;
      }
      mcp_igmp_querier_set_changed_func (q, listeners_changed, self, NULL);
      g_ptr_array_add (queriers, q);
    }
  }

  GST_OBJECT_LOCK (self);
  self->scope_set = g_steal_pointer (&scope);
  self->queriers = g_steal_pointer (&queriers);
  self->wanted = compute_wanted (self->scope_set, NULL);
  self->started = g_get_monotonic_time ();
  self->igmp_loop = mcp_loop_new ("remcast-igmp");
  for (i = 0; i < self->queriers->len; i++)
    mcp_igmp_querier_start (self->queriers->pdata[i],
        mcp_loop_get_context (self->igmp_loop));
  GST_OBJECT_UNLOCK (self);
  ok = TRUE;

done:
  g_clear_error (&err);
  g_clear_pointer (&scope, mcp_sub_set_free);
  g_clear_pointer (&queriers, g_ptr_array_unref);
  g_strfreev (names);
  g_free (text);
  g_free (ifaces);
  return ok;
}

static void
stop_demand (GstTcpRemcastSink * self)
{
  GPtrArray *queriers;
  McpLoop *loop;

  GST_OBJECT_LOCK (self);
  loop = g_steal_pointer (&self->igmp_loop);
  queriers = g_steal_pointer (&self->queriers);
  GST_OBJECT_UNLOCK (self);
  /* on their thread, so that no dispatch is running when they go */
  if (loop && queriers)
    mcp_loop_invoke_sync (loop, free_queriers, queriers);
  else if (queriers)
    g_ptr_array_unref (queriers);
  g_clear_pointer (&loop, mcp_loop_free);

  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->wanted, mcp_sub_set_free);
  g_clear_pointer (&self->scope_set, mcp_sub_set_free);
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_tcp_remcast_sink_query (GstBaseSink * bsink, GstQuery * query)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (bsink);
  GArray *peers = NULL;

  if (!gst_mcp_subs_query_is (query))
    return GST_BASE_SINK_CLASS (parent_class)->query (bsink, query);
  /* without a scope, not taking part */
  GST_OBJECT_LOCK (self);
  if (self->wanted)
    peers = peers_of (self->wanted);
  GST_OBJECT_UNLOCK (self);
  if (!peers)
    return FALSE;
  gst_mcp_subs_query_set (query, peers);
  g_array_unref (peers);
  return TRUE;
}

static GstStateChangeReturn
gst_tcp_remcast_sink_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    if (!gst_mcp_props_check (element) || !open_sockets (self))
      return GST_STATE_CHANGE_FAILURE;
    if (!start_demand (self)) {
      close_sockets (self);
      return GST_STATE_CHANGE_FAILURE;
    }
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
      stop_demand (self);
      close_sockets (self);
    }
    return ret;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    stop_demand (self);
    close_sockets (self);
  }
  return ret;
}

static gboolean
gst_tcp_remcast_sink_start (GstBaseSink * bsink)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (bsink);
  guint64 interval;

  GST_OBJECT_LOCK (self);
  interval = self->stats_interval;
  self->datagrams = self->bytes = self->errors = self->no_socket = 0;
  self->datagrams_in = self->bytes_in = 0;
  self->warned = FALSE;
  GST_OBJECT_UNLOCK (self);
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_tcp_remcast_sink_get_stats);
  return TRUE;
}

static gboolean
gst_tcp_remcast_sink_stop (GstBaseSink * bsink)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (bsink);

  gst_mcp_stats_timer_stop (&self->stats_timer);
  return TRUE;
}

static gboolean
gst_tcp_remcast_sink_unlock (GstBaseSink * bsink)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (bsink);

  GST_OBJECT_LOCK (self);
  g_cancellable_cancel (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_tcp_remcast_sink_unlock_stop (GstBaseSink * bsink)
{
  GstTcpRemcastSink *self = GST_TCP_REMCAST_SINK (bsink);

  GST_OBJECT_LOCK (self);
  mcp_cancellable_free (self->cancellable);
  self->cancellable = mcp_cancellable_new ();
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ---- data -------------------------------------------------------------- */

/* Sends n prepared datagrams on every socket, waiting while a socket's
 * buffer is full. */
static GstFlowReturn
send_messages (GstTcpRemcastSink * self, GPtrArray * sockets,
    GOutputMessage * msgs, guint n)
{
  GCancellable *cancellable;
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 sent = 0, bytes = 0, errors = 0;
  gchar *first_error = NULL;
  guint s;

  if (n == 0)
    return GST_FLOW_OK;
  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);

  for (s = 0; s < sockets->len; s++) {
    guint done, refused;
    guint64 b;
    gboolean more = mcp_udp_send_batch (g_ptr_array_index (sockets, s), msgs,
        n, cancellable, &done, &b, &refused, &first_error);

    sent += done;
    bytes += b;
    errors += refused;
    if (!more) {
      ret = GST_FLOW_FLUSHING;
      break;
    }
  }
  g_object_unref (cancellable);

  GST_OBJECT_LOCK (self);
  self->datagrams += sent;
  self->bytes += bytes;
  self->errors += errors;
  if (first_error && !self->warned) {
    self->warned = TRUE;
    GST_OBJECT_UNLOCK (self);
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE,
        ("Could not send a multicast datagram"), ("%s (further failures are "
            "counted in the statistics)", first_error));
  } else {
    if (!first_error && sent)
      self->warned = FALSE;
    GST_OBJECT_UNLOCK (self);
  }
  g_free (first_error);
  return ret;
}

static guint
dest_key_hash (gconstpointer p)
{
  const DestKey *k = p;
  guint h = k->family * 31 + k->port, i;

  for (i = 0; i < 16; i++)
    h = h * 31 + k->group[i];
  return h;
}

static gboolean
dest_key_equal (gconstpointer a, gconstpointer b)
{
  const DestKey *x = a, *y = b;

  return x->family == y->family && x->port == y->port
      && memcmp (x->group, y->group, 16) == 0;
}

/* Where buffer goes: address:port, or with original-group the group and
 * port of its metadata (socket addresses kept in a cache that render
 * clears only between batches, so that an address a message of the batch
 * points at stays alive). */
static GSocketAddress *
destination_of (GstTcpRemcastSink * self, GstBuffer * buffer)
{
  GstMcpMeta *meta;
  DestKey key = { 0 };
  GSocketAddress *address;
  GInetAddress *group;

  if (!self->use_original)
    return self->destination;
  meta = gst_buffer_get_mcp_meta (buffer);
  if (!meta || meta->info.family == 0)
    return self->destination;

  key.family = meta->info.family;
  key.port = meta->info.port;
  memcpy (key.group, meta->info.group, key.family == 6 ? 16 : 4);
  address = g_hash_table_lookup (self->destinations, &key);
  if (address)
    return address;
  group = g_inet_address_new_from_bytes (key.group, key.family == 6 ?
      G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (group, key.port);
  g_object_unref (group);
  g_hash_table_insert (self->destinations, g_memdup2 (&key, sizeof key),
      address);
  return address;
}

static void
free_source_message (gpointer p)
{
  GSocketControlMessage **m = p;

  g_object_unref (m[0]);
  g_free (m);
}

/* With original-source, the control message that sends buffer from its
 * original sender, when its metadata names one of family (a one-element
 * array, kept in a cache cleared with that of the destinations); NULL:
 * from the element's own address. */
static GSocketControlMessage **
source_of (GstTcpRemcastSink * self, GstBuffer * buffer, GSocketFamily family)
{
  GstMcpMeta *meta;
  DestKey key = { 0 };
  GSocketControlMessage **m;

  if (!self->use_source)
    return NULL;
  meta = gst_buffer_get_mcp_meta (buffer);
  if (!meta || !mcp_frame_meta_has_source (&meta->info)
      || (meta->info.family == 6) != (family == G_SOCKET_FAMILY_IPV6))
    return NULL;
  key.family = meta->info.family;
  memcpy (key.group, meta->info.source, key.family == 6 ? 16 : 4);
  m = g_hash_table_lookup (self->source_messages, &key);
  if (m)
    return m;
  m = g_new (GSocketControlMessage *, 1);
  m[0] = mcp_source_message_new (key.family, key.group);
  g_hash_table_insert (self->source_messages, g_memdup2 (&key, sizeof key), m);
  return m;
}

static GstFlowReturn
render_buffers (GstTcpRemcastSink * self, GstBuffer ** buffers, guint n)
{
  /* per address family: the messages of this batch */
  GOutputMessage msgs[2][BATCH];
  guint n_msgs[2];
  GOutputVector vecs[BATCH];
  GstMapInfo maps[BATCH];
  GstFlowReturn ret = GST_FLOW_OK;
  guint64 bytes_in = 0;
  guint i, m, f;

  for (i = 0; i < n; i++)
    bytes_in += gst_buffer_get_size (buffers[i]);
  GST_OBJECT_LOCK (self);
  self->datagrams_in += n;
  self->bytes_in += bytes_in;
  GST_OBJECT_UNLOCK (self);
  for (i = 0; i < n && ret == GST_FLOW_OK; i += m) {
    guint j, no_socket = 0;

    /* bounded: never inside a batch, whose messages borrow its addresses */
    if (g_hash_table_size (self->destinations) >= MAX_DESTINATIONS)
      g_hash_table_remove_all (self->destinations);
    if (g_hash_table_size (self->source_messages) >= MAX_DESTINATIONS)
      g_hash_table_remove_all (self->source_messages);
    m = MIN (n - i, BATCH);
    n_msgs[0] = n_msgs[1] = 0;
    for (j = 0; j < m; j++) {
      GSocketAddress *dest;
      GSocketControlMessage **source;
      GOutputMessage *msg;

      if (!gst_buffer_map (buffers[i + j], &maps[j], GST_MAP_READ)) {
        GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Could not read a buffer"),
            (NULL));
        while (j-- > 0)
          gst_buffer_unmap (buffers[i + j], &maps[j]);
        return GST_FLOW_ERROR;
      }
      dest = destination_of (self, buffers[i + j]);
      f = family_index (g_socket_address_get_family (dest));
      if (!self->sockets[f]) {
        no_socket++;            /* a group of a family the host lacks */
        continue;
      }
      vecs[j].buffer = maps[j].data;
      vecs[j].size = maps[j].size;
      msg = &msgs[f][n_msgs[f]++];
      memset (msg, 0, sizeof (*msg));
      msg->address = dest;
      msg->vectors = &vecs[j];
      msg->num_vectors = 1;
      source = source_of (self, buffers[i + j],
          g_socket_address_get_family (dest));
      if (source) {
        msg->control_messages = source;
        msg->num_control_messages = 1;
      }
    }
    if (no_socket) {
      GST_OBJECT_LOCK (self);
      self->no_socket += no_socket;
      GST_OBJECT_UNLOCK (self);
    }
    for (f = 0; f < 2 && ret == GST_FLOW_OK; f++)
      if (self->sockets[f])
        ret = send_messages (self, self->sockets[f], msgs[f], n_msgs[f]);
    for (j = 0; j < m; j++)
      gst_buffer_unmap (buffers[i + j], &maps[j]);
  }
  return ret;
}

static GstFlowReturn
gst_tcp_remcast_sink_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  return render_buffers (GST_TCP_REMCAST_SINK (bsink), &buffer, 1);
}

static GstFlowReturn
gst_tcp_remcast_sink_render_list (GstBaseSink * bsink, GstBufferList * list)
{
  guint n = gst_buffer_list_length (list), i;
  GstBuffer **buffers = g_newa (GstBuffer *, n);
  GstFlowReturn ret;

  for (i = 0; i < n; i++)
    buffers[i] = gst_buffer_list_get (list, i);
  ret = render_buffers (GST_TCP_REMCAST_SINK (bsink), buffers, n);
  return ret;
}


static void
append_structure (GValue * list, GstStructure * s)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, GST_TYPE_STRUCTURE);
  g_value_take_boxed (&v, s);
  gst_value_array_append_and_take_value (list, &v);
}

static gchar *
address_string (GInetAddress * a)
{
  return a ? g_inet_address_to_string (a) : g_strdup ("");
}

/* The sources of a membership: "" for any source, else space-separated. */
static gchar *
sources_string (GPtrArray * sources)
{
  GString *out = g_string_new (NULL);
  guint i;

  for (i = 0; i < sources->len; i++) {
    gchar *a = g_inet_address_to_string (sources->pdata[i]);

    if (i)
      g_string_append_c (out, ' ');
    g_string_append (out, a);
    g_free (a);
  }
  return g_string_free (out, FALSE);
}

/* When, on the wall clock, the monotonic time then was: ISO 8601, UTC. */
static gchar *
wall_clock (gint64 then, gint64 now)
{
  GDateTime *t = g_date_time_new_from_unix_utc (0), *at;
  gchar *out;

  at = g_date_time_add (t, g_get_real_time () - (now - then));
  out = g_date_time_format_iso8601 (at);
  g_date_time_unref (at);
  g_date_time_unref (t);
  return out;
}

/* Under the object lock: what is wanted, who queries, and the
 * membership tables; empty without a scope. */
static void
add_demand_stats (GstTcpRemcastSink * self, GstStructure * s)
{
  GValue memberships = G_VALUE_INIT, links = G_VALUE_INIT;
  gboolean querier = self->queriers && self->queriers->len > 0;
  gchar *wanted = self->wanted ? mcp_sub_set_to_string (self->wanted) :
      g_strdup (""), *other = NULL;
  gint64 now = g_get_monotonic_time ();
  guint i, j;

  gst_value_array_init (&memberships, 0);
  gst_value_array_init (&links, 0);
  for (i = 0; self->queriers && i < self->queriers->len; i++) {
    McpIgmpQuerier *q = self->queriers->pdata[i];
    gboolean v6 = mcp_igmp_querier_get_family (q) == G_SOCKET_FAMILY_IPV6;
    GInetAddress *heard = NULL;
    gboolean ours = mcp_igmp_querier_is_querier (q, &heard);
    GPtrArray *groups = mcp_igmp_querier_list (q, FALSE);
    McpIgmpQuerierCounters c;
    gchar *h = address_string (heard);

    mcp_igmp_querier_get_counters (q, &c);
    querier &= ours;
    if (!other && heard)
      other = g_strdup (h);
    append_structure (&links, gst_structure_new ("querier",
            "interface", G_TYPE_STRING, mcp_igmp_querier_get_ifname (q),
            "protocol", G_TYPE_STRING, v6 ? "MLD" : "IGMP",
            "querier", G_TYPE_BOOLEAN, ours,
            "other-querier", G_TYPE_STRING, h,
            "reports-received", G_TYPE_UINT64, c.reports,
            "queries-received", G_TYPE_UINT64, c.queries_received,
            "queries-sent", G_TYPE_UINT64,
            c.general_queries_sent + c.specific_queries_sent,
            "groups-dropped", G_TYPE_UINT64, c.dropped_groups, NULL));
    g_free (h);
    g_clear_object (&heard);

    for (j = 0; j < groups->len; j++) {
      McpIgmpQuerierGroup *g = groups->pdata[j];
      gchar *group = g_inet_address_to_string (g->group);
      gchar *sources = sources_string (g->sources);
      gchar *since = wall_clock (g->since, now);

      append_structure (&memberships, gst_structure_new ("membership",
              "interface", G_TYPE_STRING, mcp_igmp_querier_get_ifname (q),
              "group", G_TYPE_STRING, group,
              "listeners", G_TYPE_BOOLEAN, g->listened,
              "since", G_TYPE_STRING, since,
              "listen-duration", G_TYPE_UINT64,
              (guint64) MAX (now - g->since, 0) * 1000,
              "filter-mode", G_TYPE_STRING,
              g->exclude ? "exclude" : "include",
              "sources", G_TYPE_STRING, sources,
              /* IGMP 3, 2, 1; MLD 2, 1: the oldest hosts present */
              "version", G_TYPE_UINT, v6 ? (g->compat == 3 ? 2 : 1) :
              g->compat, NULL));
      g_free (group);
      g_free (sources);
      g_free (since);
    }
    g_ptr_array_unref (groups);
  }
  gst_structure_set (s, "subscriptions", G_TYPE_STRING, wanted,
      "querier", G_TYPE_BOOLEAN, querier,
      "other-querier", G_TYPE_STRING, other ? other : "", NULL);
  gst_structure_take_value (s, "querier-list", &links);
  gst_structure_take_value (s, "membership-list", &memberships);
  g_free (wanted);
  g_free (other);
}

static GstStructure *
gst_tcp_remcast_sink_get_stats (GstTcpRemcastSink * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("tcpremcastsink-stats",
      "datagrams-in", G_TYPE_UINT64, self->datagrams_in,
      "bytes-in", G_TYPE_UINT64, self->bytes_in,
      "datagrams-sent", G_TYPE_UINT64, self->datagrams,
      "bytes-sent", G_TYPE_UINT64, self->bytes,
      "datagrams-dropped", G_TYPE_UINT64, self->errors + self->no_socket,
      "dropped-send-error", G_TYPE_UINT64, self->errors,
      "dropped-no-socket", G_TYPE_UINT64, self->no_socket, NULL);
  add_demand_stats (self, s);
  GST_OBJECT_UNLOCK (self);
  return s;
}
