/* mcastproxy — mcastsrc-relay
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-mcastsrc-relay
 * @title: mcastsrc-relay
 *
 * Joins a multicast group and pushes one buffer per datagram, bytes
 * untouched, with the sender's address in a #GstNetAddressMeta.
 *
 * The socket is opened and the group joined at NULL->READY (so `port=0`
 * gives a `current-port` in READY): the properties that shape it take
 * effect when set in NULL.
 *
 * The group may be IPv4 or IPv6, joined on one or more interfaces
 * (`multicast-iface`, a comma-separated list) and, with `multicast-source`,
 * source-specific (SSM). The socket is bound to the group itself, so other
 * groups that arrive on the same port are never delivered.
 *
 * `ignore-sources` drops datagrams from given senders: an island gateway
 * sends its re-multicast from a known port and ignores that port here, so
 * it never picks up what it, or another gateway of its island, re-emits.
 *
 * Upstream loss: with `timeout`, a silence that long posts one
 * "mcastproxy-timeout" element message (and another only after data
 * came back and stopped again); the element goes on waiting. With
 * `rejoin-interval` it leaves and at once re-joins the group every so
 * often, so that the host announces its membership again to switches that
 * forget members. It watches its interfaces (rtnetlink) and re-joins when
 * one comes back up, gains an address, or reappears under its name.
 *
 * Each buffer also carries the proxy's per-datagram metadata (origin id,
 * sequence number, capture time, group and port) that tcpsplitsink's mpx
 * framing takes across the TCP leg.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mcastsrc-relay address=239.1.1.1 port=5004 multicast-iface=eth0 ! tcpsplitsink port=5100
 * ]| Serves a group to TCP clients.
 */

#include "config.h"

#include "gstmcastsrcrelay.h"
#include "gstmcpuri.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"

#include <gst/net/gstnetaddressmeta.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/prctl.h>

#include "mcp-address.h"
#include "mcp-dedup.h"
#include "mcp-loop.h"
#include "mcp-mcast.h"
#include "mcp-membership.h"

GST_DEBUG_CATEGORY_STATIC (mcast_src_relay_debug);
#define GST_CAT_DEFAULT mcast_src_relay_debug

#define DEFAULT_ADDRESS "239.255.0.1"
#define DEFAULT_PORT 5004
#define DEFAULT_MULTICAST_IFACE NULL
#define DEFAULT_MULTICAST_SOURCE NULL
#define DEFAULT_BUFFER_SIZE (4 * 1024 * 1024)
#define DEFAULT_CAPS NULL
#define DEFAULT_PEER_ID 0
#define DEFAULT_STATS_INTERVAL 0
#define DEFAULT_IGNORE_SOURCES NULL
#define DEFAULT_TIMEOUT 0
#define DEFAULT_REJOIN_INTERVAL 0

/* Datagrams taken from the socket in one call. */
#define BATCH 32
#define DEFAULT_BATCH_LATENCY (100 * GST_USECOND)
#define MAX_BATCH_LATENCY (10 * GST_MSECOND)
/* While datagrams keep the thread busy, interface changes and due
 * re-joins are looked at this often. */
#define CHECK_INTERVAL (50 * GST_MSECOND)
/* The arrival rate that decides whether batching pays is measured over
 * windows this long. */
#define RATE_WINDOW (50 * GST_MSECOND)
#define SLOT_SIZE 65536

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_MULTICAST_IFACE,
  PROP_MULTICAST_SOURCE,
  PROP_BUFFER_SIZE,
  PROP_CAPS,
  PROP_PEER_ID,
  PROP_STATS_INTERVAL,
  PROP_IGNORE_SOURCES,
  PROP_BATCH_LATENCY,
  PROP_TIMEOUT,
  PROP_REJOIN_INTERVAL,
};

enum
{
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

struct _GstMcastSrcRelay
{
  GstPushSrc parent;

  /* properties, under the object lock */
  gchar *address;
  guint port;
  guint current_port;
  gchar *multicast_iface;
  gchar *multicast_source;
  gchar *ignore_sources;
  gint buffer_size;
  GstCaps *caps;
  guint64 peer_id;
  guint64 stats_interval;
  guint64 batch_latency;
  guint64 timeout;
  guint64 rejoin_interval;
  gboolean restart_silence;     /* at start and after a flush */

  GSocket *socket;              /* opened at NULL->READY */
  GInetAddress *group;
  GArray *ignore;               /* McpSourceFilter, from ignore-sources */
  GCancellable *cancellable;    /* under the object lock */
  McpDatagram slots[BATCH];
  gboolean drained;             /* the last batch was short */
  gboolean batching;            /* the rate is high enough to batch */
  GstClockTime window_start;    /* monotonic */
  guint64 window_count;         /* datagrams since window_start */
  GThread *slack_thread;        /* its timer slack is set for batching */
  guint8 *slot_memory;
  GSocketAddress *last_sender;  /* reused while the sender stays the same */
  struct sockaddr_storage last_sender_native;
  socklen_t last_sender_len;
  guint64 origin_id;
  gint64 max_datagrams;         /* num-buffers at start; -1: no limit */
  guint64 seq_base;             /* a random epoch: see mcp_seq_new_epoch */
  GstMcpStatsTimer stats_timer;

  /* From NULL->READY to READY->NULL; used by the streaming thread only. */
  McpMembershipDriver *membership;      /* the group's joins */
  GstClockTime last_activity;   /* monotonic: last datagram, or start */
  gboolean timeout_posted;      /* for the silence since last_activity */
  GstClockTime next_check;      /* monotonic: see CHECK_INTERVAL */

  /* statistics, under the object lock */
  guint64 datagrams;
  guint64 bytes;
  guint64 truncated;
  guint64 ignored;
  guint64 timeouts;
  guint64 rejoins;
  guint64 rejoin_failures;
  gint buffer_size_granted;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_mcast_src_relay_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstMcastSrcRelay, gst_mcast_src_relay,
    GST_TYPE_PUSH_SRC, G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER,
        gst_mcp_uri_mcast_src_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (mcastsrc_relay, "mcastsrc-relay",
    GST_RANK_NONE, GST_TYPE_MCAST_SRC_RELAY,
    GST_DEBUG_CATEGORY_INIT (mcast_src_relay_debug, "mcastsrc-relay", 0,
        "mcastproxy multicast source"));

static void gst_mcast_src_relay_finalize (GObject * object);
static void gst_mcast_src_relay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_mcast_src_relay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_mcast_src_relay_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_mcast_src_relay_start (GstBaseSrc * bsrc);
static gboolean gst_mcast_src_relay_stop (GstBaseSrc * bsrc);
static gboolean gst_mcast_src_relay_unlock (GstBaseSrc * bsrc);
static gboolean gst_mcast_src_relay_unlock_stop (GstBaseSrc * bsrc);
static gboolean gst_mcast_src_relay_query (GstBaseSrc * bsrc, GstQuery * query);
static GstCaps *gst_mcast_src_relay_get_caps (GstBaseSrc * bsrc,
    GstCaps * filter);
static GstFlowReturn gst_mcast_src_relay_create (GstPushSrc * psrc,
    GstBuffer ** buf);
static GstStructure *gst_mcast_src_relay_get_stats (GstMcastSrcRelay * self);

static void
gst_mcast_src_relay_class_init (GstMcastSrcRelayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_mcast_src_relay_set_property;
  gobject_class->get_property = gst_mcast_src_relay_get_property;
  gobject_class->finalize = gst_mcast_src_relay_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Multicast group to join (numeric IPv4 or IPv6)", DEFAULT_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PORT,
      gst_mcp_param_spec_uint ("port", "Port",
          "UDP port of the group (0: pick one, see current-port)", 0,
          G_MAXUINT16, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_uint ("current-port", "Current port",
          "The port bound (readable from READY)", 0, G_MAXUINT16, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_IFACE,
      g_param_spec_string ("multicast-iface", "Multicast interfaces",
          "Comma-separated interfaces to join on (empty: the system's "
          "choice)", DEFAULT_MULTICAST_IFACE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_SOURCE,
      g_param_spec_string ("multicast-source", "Multicast sources",
          "Comma-separated sources for a source-specific join (empty: any "
          "source)", DEFAULT_MULTICAST_SOURCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      gst_mcp_param_spec_int ("buffer-size", "Buffer size",
          "Socket receive buffer in bytes (0: the system default)", 0,
          G_MAXINT, DEFAULT_BUFFER_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps", "Caps of the datagrams",
          GST_TYPE_CAPS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PEER_ID,
      g_param_spec_uint64 ("peer-id", "Peer id",
          "Origin id given to the datagrams captured here (0: random)", 0,
          G_MAXUINT64, DEFAULT_PEER_ID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Post the statistics as an element message this often (ns; 0: "
          "never)", 0, G_MAXUINT64, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_IGNORE_SOURCES,
      g_param_spec_string ("ignore-sources", "Ignore sources",
          "Comma-separated senders whose datagrams are dropped: ADDRESS, "
          "ADDRESS:PORT, :PORT or [IPV6]:PORT", DEFAULT_IGNORE_SOURCES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_BATCH_LATENCY,
      gst_mcp_param_spec_uint64 ("batch-latency", "Batch latency",
          "While datagrams arrive faster than one per this time, wait this "
          "long after the first of a batch so that the ones following go "
          "out with it in one buffer list: fewer wake-ups downstream for at "
          "most this much added latency (ns; 0: push every datagram at "
          "once)", 0, MAX_BATCH_LATENCY, DEFAULT_BATCH_LATENCY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint64 ("timeout", "Timeout",
          "Post a mcastproxy-timeout element message when no datagram "
          "came for this long, once per silence (ns; 0: never)", 0,
          G_MAXUINT64, DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_REJOIN_INTERVAL,
      g_param_spec_uint64 ("rejoin-interval", "Rejoin interval",
          "Leave and at once re-join the group on every interface this "
          "often, so that switches that forget members hear of it again "
          "(ns; 0: never)", 0, G_MAXUINT64, DEFAULT_REJOIN_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstMcastSrcRelay::get-stats:
   *
   * Returns a "mcastsrc-relay-stats" structure.
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_mcast_src_relay_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Multicast relay source", "Source/Network",
      "Joins a multicast group (ASM or SSM, IPv4 or IPv6) and pushes one "
      "buffer per datagram", "mcastproxy developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_mcast_src_relay_change_state);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_unlock);
  basesrc_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_mcast_src_relay_unlock_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_get_caps);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_query);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_create);
}

static void
gst_mcast_src_relay_init (GstMcastSrcRelay * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->multicast_iface = g_strdup (DEFAULT_MULTICAST_IFACE);
  self->multicast_source = g_strdup (DEFAULT_MULTICAST_SOURCE);
  self->ignore_sources = g_strdup (DEFAULT_IGNORE_SOURCES);
  self->batch_latency = DEFAULT_BATCH_LATENCY;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->caps = DEFAULT_CAPS;
  self->peer_id = DEFAULT_PEER_ID;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->timeout = DEFAULT_TIMEOUT;
  self->rejoin_interval = DEFAULT_REJOIN_INTERVAL;
  self->cancellable = mcp_cancellable_new ();

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_mcast_src_relay_finalize (GObject * object)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (object);

  g_free (self->address);
  g_free (self->multicast_iface);
  g_free (self->multicast_source);
  g_free (self->ignore_sources);
  gst_clear_caps (&self->caps);
  g_clear_pointer (&self->cancellable, mcp_cancellable_free);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_mcast_src_relay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (object);

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
    case PROP_MULTICAST_SOURCE:
      g_free (self->multicast_source);
      self->multicast_source = g_value_dup_string (value);
      break;
    case PROP_IGNORE_SOURCES:
      g_free (self->ignore_sources);
      self->ignore_sources = g_value_dup_string (value);
      break;
    case PROP_BATCH_LATENCY:
      self->batch_latency = g_value_get_uint64 (value);
      break;
    case PROP_BUFFER_SIZE:
      self->buffer_size = g_value_get_int (value);
      break;
    case PROP_CAPS:
      gst_caps_replace (&self->caps, (GstCaps *) gst_value_get_caps (value));
      break;
    case PROP_PEER_ID:
      self->peer_id = g_value_get_uint64 (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint64 (value);
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint64 (value);
      break;
    case PROP_REJOIN_INTERVAL:
      self->rejoin_interval = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_mcast_src_relay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_uint (value, self->current_port);
      break;
    case PROP_MULTICAST_IFACE:
      g_value_set_string (value, self->multicast_iface);
      break;
    case PROP_MULTICAST_SOURCE:
      g_value_set_string (value, self->multicast_source);
      break;
    case PROP_IGNORE_SOURCES:
      g_value_set_string (value, self->ignore_sources);
      break;
    case PROP_BATCH_LATENCY:
      g_value_set_uint64 (value, self->batch_latency);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int (value, self->buffer_size);
      break;
    case PROP_CAPS:
      gst_value_set_caps (value, self->caps);
      break;
    case PROP_PEER_ID:
      g_value_set_uint64 (value, self->peer_id);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, self->stats_interval);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint64 (value, self->timeout);
      break;
    case PROP_REJOIN_INTERVAL:
      g_value_set_uint64 (value, self->rejoin_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- memberships ------------------------------------------------------- */

static void
log_membership (GLogLevelFlags level, const gchar * message, gpointer data)
{
  GstMcastSrcRelay *self = data;

  if (level & G_LOG_LEVEL_WARNING)
    GST_WARNING_OBJECT (self, "%s", message);
  else
    GST_INFO_OBJECT (self, "%s", message);
}

/* Adds the re-joins done since the last call to the statistics. */
static void
count_rejoins (GstMcastSrcRelay * self)
{
  guint64 rejoins, failures;

  mcp_membership_take_counts (mcp_membership_driver_get_table
      (self->membership), &rejoins, &failures);
  if (rejoins == 0 && failures == 0)
    return;
  GST_OBJECT_LOCK (self);
  self->rejoins += rejoins;
  self->rejoin_failures += failures;
  GST_OBJECT_UNLOCK (self);
}

/* Reads what changed on the interfaces, then re-joins where that calls
 * for it, once per interface however many events. */
static void
watch_interfaces (GstMcastSrcRelay * self)
{
  mcp_membership_driver_dispatch (self->membership);
  count_rejoins (self);
}

/* Joins the group on every interface (ifindexes; none: the default one),
 * from every source (none: any source). *where gets the first interface,
 * for the log. */
static gboolean
join_members (McpMembership * table, GSocket * socket, GInetAddress * group,
    GArray * ifindexes, GPtrArray * sources, gchar ** where, GError ** error)
{
  GPtrArray *ifnames = g_ptr_array_new_with_free_func (g_free);
  gchar name[IF_NAMESIZE];
  gboolean ok = TRUE;
  guint i;

  for (i = 0; ok && i < ifindexes->len; i++) {
    guint ifindex = g_array_index (ifindexes, guint, i);

    if (!if_indextoname (ifindex, name)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "interface #%u is gone", ifindex);
      ok = FALSE;
    } else {
      g_ptr_array_add (ifnames, g_strdup (name));
    }
  }
  ok = ok && mcp_membership_join_each (table, socket, group, ifnames,
      sources, error);
  if (ok)
    *where = mcp_membership_where (table, socket, group,
        ifnames->len ? g_ptr_array_index (ifnames, 0) : NULL);
  g_ptr_array_unref (ifnames);
  return ok;
}

/* ---- state ------------------------------------------------------------- */

static gboolean
open_socket (GstMcastSrcRelay * self)
{
  McpMcastReceiverConfig cfg = { 0 };
  GError *err = NULL;
  gchar *address, *ifaces, *sources, *ignore_list;
  GArray *ignore = NULL, *ifindexes = NULL;
  GPtrArray *source_list = NULL;
  GSocket *socket = NULL;
  McpMembershipDriver *membership = NULL;
  gint granted = 0;
  gchar *where = NULL;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  ifaces = g_strdup (self->multicast_iface);
  sources = g_strdup (self->multicast_source);
  ignore_list = g_strdup (self->ignore_sources);
  cfg.port = self->port;
  cfg.buffer_size = self->buffer_size;
  GST_OBJECT_UNLOCK (self);

  cfg.group = mcp_parse_group (address, &err);
  if (!cfg.group) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid multicast address: %s", err->message), (NULL));
    goto done;
  }
  ifindexes = mcp_parse_interfaces (ifaces, &err);
  if (!ifindexes) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Invalid multicast-iface: %s", err->message), (NULL));
    goto done;
  }
  source_list = mcp_parse_sources (sources,
      g_inet_address_get_family (cfg.group), &err);
  if (!source_list) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid multicast-source: %s", err->message), (NULL));
    goto done;
  }
  ignore = mcp_parse_source_filters (ignore_list, &err);
  if (!ignore) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid ignore-sources: %s", err->message), (NULL));
    goto done;
  }
  /* watching first: no change after the join goes unseen */
  membership = mcp_membership_driver_new (0, log_membership, self);
  socket = mcp_mcast_open_receiver (&cfg, &granted, &err);
  if (!socket || !join_members (mcp_membership_driver_get_table (membership),
          socket, cfg.group, ifindexes, source_list, &where, &err)) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not receive multicast group %s port %u: %s", address,
            cfg.port, err->message), (NULL));
    g_clear_object (&socket);
    goto done;
  }
  if (cfg.buffer_size > 0 && granted < cfg.buffer_size)
    GST_WARNING_OBJECT (self, "asked for a %d-byte receive buffer, the "
        "kernel granted %d (see net.core.rmem_max)", cfg.buffer_size, granted);

  GST_OBJECT_LOCK (self);
  self->socket = socket;
  self->group = g_object_ref (cfg.group);
  self->ignore = g_steal_pointer (&ignore);
  self->current_port = mcp_socket_get_local_port (socket);
  self->buffer_size_granted = granted;
  GST_OBJECT_UNLOCK (self);
  self->membership = g_steal_pointer (&membership);
  GST_INFO_OBJECT (self, "joined %s port %u on %s%s", address,
      self->current_port, where, ifindexes->len > 1 ? " and others" : "");
  g_object_notify (G_OBJECT (self), "current-port");

done:
  g_clear_error (&err);
  g_clear_object (&cfg.group);
  g_clear_pointer (&ifindexes, g_array_unref);
  g_clear_pointer (&source_list, g_ptr_array_unref);
  g_free (address);
  g_free (ifaces);
  g_free (sources);
  g_free (ignore_list);
  g_free (where);
  g_clear_pointer (&ignore, g_array_unref);
  g_clear_pointer (&membership, mcp_membership_driver_free);
  return socket != NULL;
}

static void
close_socket (GstMcastSrcRelay * self)
{
  GST_OBJECT_LOCK (self);
  if (self->socket) {
    g_socket_close (self->socket, NULL);
    g_clear_object (&self->socket);
  }
  g_clear_object (&self->group);
  g_clear_pointer (&self->ignore, g_array_unref);
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&self->membership, mcp_membership_driver_free);
}

static GstStateChangeReturn
gst_mcast_src_relay_change_state (GstElement * element,
    GstStateChange transition)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && (!gst_mcp_props_check (element) || !open_socket (self)))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY)
      close_socket (self);
    return ret;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    close_socket (self);
  return ret;
}

static gboolean
gst_mcast_src_relay_start (GstBaseSrc * bsrc)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);
  guint64 peer_id, interval;
  guint i;

  GST_OBJECT_LOCK (self);
  peer_id = self->peer_id;
  interval = self->stats_interval;
  self->datagrams = self->bytes = self->truncated = self->ignored = 0;
  self->timeouts = self->rejoins = self->rejoin_failures = 0;
  self->restart_silence = TRUE;
  GST_OBJECT_UNLOCK (self);

  self->drained = self->batching = FALSE;
  self->window_start = g_get_monotonic_time () * GST_USECOND;
  self->window_count = 0;
  mcp_membership_set_rejoin_interval (mcp_membership_driver_get_table
      (self->membership), 0, 0);
  self->next_check = 0;
  self->slack_thread = NULL;
  self->seq_base = mcp_seq_new_epoch ();
  self->origin_id = peer_id ? peer_id :
      ((guint64) g_random_int () << 32 | g_random_int ());
  GST_OBJECT_LOCK (self);
  self->max_datagrams = GST_BASE_SRC (self)->num_buffers;
  GST_OBJECT_UNLOCK (self);
  self->slot_memory = g_malloc (BATCH * SLOT_SIZE);
  for (i = 0; i < BATCH; i++) {
    self->slots[i].data = self->slot_memory + i * SLOT_SIZE;
    self->slots[i].capacity = SLOT_SIZE;
  }
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_mcast_src_relay_get_stats);
  return TRUE;
}

static gboolean
gst_mcast_src_relay_stop (GstBaseSrc * bsrc)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);

  gst_mcp_stats_timer_stop (&self->stats_timer);
  g_clear_pointer (&self->slot_memory, g_free);
  g_clear_object (&self->last_sender);
  self->last_sender_len = 0;
  return TRUE;
}

static gboolean
gst_mcast_src_relay_unlock (GstBaseSrc * bsrc)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);

  GST_OBJECT_LOCK (self);
  g_cancellable_cancel (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_mcast_src_relay_unlock_stop (GstBaseSrc * bsrc)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);

  GST_OBJECT_LOCK (self);
  mcp_cancellable_free (self->cancellable);
  self->cancellable = mcp_cancellable_new ();
  /* a pause or flush is not a silence upstream */
  self->restart_silence = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* A datagram may wait up to batch-latency before it is pushed. */
static gboolean
gst_mcast_src_relay_query (GstBaseSrc * bsrc, GstQuery * query)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);
  GstClockTime min, max, batch;
  gboolean live;

  if (!GST_BASE_SRC_CLASS (parent_class)->query (bsrc, query))
    return FALSE;
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    gst_query_parse_latency (query, &live, &min, &max);
    GST_OBJECT_LOCK (self);
    batch = self->batch_latency;
    GST_OBJECT_UNLOCK (self);
    min += batch;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += batch;
    gst_query_set_latency (query, live, min, max);
  }
  return TRUE;
}

static GstCaps *
gst_mcast_src_relay_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);
  GstCaps *caps;

  GST_OBJECT_LOCK (self);
  caps = self->caps ? gst_caps_ref (self->caps) : gst_caps_new_any ();
  GST_OBJECT_UNLOCK (self);
  if (filter) {
    GstCaps *tmp = gst_caps_intersect_full (filter, caps,
        GST_CAPS_INTERSECT_FIRST);

    gst_caps_unref (caps);
    caps = tmp;
  }
  return caps;
}

/* ---- data -------------------------------------------------------------- */

static GSocketAddress *
sender_address (GstMcastSrcRelay * self, McpDatagram * d)
{
  if (self->last_sender && d->from_len == self->last_sender_len
      && memcmp (&d->from, &self->last_sender_native, d->from_len) == 0)
    return self->last_sender;
  g_clear_object (&self->last_sender);
  self->last_sender = g_socket_address_new_from_native (&d->from, d->from_len);
  memcpy (&self->last_sender_native, &d->from, d->from_len);
  self->last_sender_len = d->from_len;
  return self->last_sender;
}

static GstClockTime
running_time_now (GstMcastSrcRelay * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now = GST_CLOCK_TIME_NONE, base;

  if (clock) {
    base = gst_element_get_base_time (GST_ELEMENT (self));
    now = gst_clock_get_time (clock);
    now = now > base ? now - base : 0;
    gst_object_unref (clock);
  }
  return now;
}

static GstClockTime
monotonic_now (void)
{
  return g_get_monotonic_time () * GST_USECOND;
}

/* Counts n more datagrams; at the end of a window decides whether batching
 * pays: whether at least one more datagram comes within batch-latency. */
static void
measure_rate (GstMcastSrcRelay * self, gint n, GstClockTime now)
{
  GstClockTime elapsed = now - self->window_start;
  guint64 latency;

  self->window_count += n;
  if (elapsed < RATE_WINDOW)
    return;
  GST_OBJECT_LOCK (self);
  latency = self->batch_latency;
  GST_OBJECT_UNLOCK (self);
  self->batching = latency > 0 && self->window_count * latency >= elapsed;
  self->window_start = now;
  self->window_count = 0;
}

/* The socket turned readable after a quiet spell: while batching, let the
 * datagrams that follow the first one arrive too. */
static void
wait_for_batch (GstMcastSrcRelay * self)
{
  guint64 latency;

  if (!self->batching)
    return;
  GST_OBJECT_LOCK (self);
  latency = self->batch_latency;
  GST_OBJECT_UNLOCK (self);
  if (latency == 0)
    return;
  if (self->slack_thread != g_thread_self ()) {
    /* the default slack (50 µs) would add half as much again */
    prctl (PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    self->slack_thread = g_thread_self ();
  }
  g_usleep (latency / GST_USECOND);
}

/* Posts the timeout message for the silence that began at last_activity,
 * and re-joins when rejoin-interval says so. Returns when to come back
 * (monotonic), GST_CLOCK_TIME_NONE for never. */
static GstClockTime
run_timers (GstMcastSrcRelay * self, GstClockTime now)
{
  GstClockTime next = GST_CLOCK_TIME_NONE;
  guint64 timeout, interval;
  gboolean restart;
  McpMembership *table;

  GST_OBJECT_LOCK (self);
  timeout = self->timeout;
  interval = self->rejoin_interval;
  restart = self->restart_silence;
  self->restart_silence = FALSE;
  GST_OBJECT_UNLOCK (self);

  if (restart) {
    self->last_activity = now;
    self->timeout_posted = FALSE;
  }
  if (timeout > 0 && !self->timeout_posted) {
    if (now - self->last_activity >= timeout) {
      GST_OBJECT_LOCK (self);
      self->timeouts++;
      GST_OBJECT_UNLOCK (self);
      self->timeout_posted = TRUE;
      GST_WARNING_OBJECT (self, "no datagram for %" GST_TIME_FORMAT
          " (timeout): still waiting", GST_TIME_ARGS (now -
              self->last_activity));
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self),
              gst_structure_new ("mcastproxy-timeout", "timeout",
                  G_TYPE_UINT64, timeout, NULL)));
    } else {
      next = self->last_activity + timeout;
    }
  }

  table = mcp_membership_driver_get_table (self->membership);
  mcp_membership_set_rejoin_interval (table, interval, now);
  next = MIN (next, mcp_membership_tick (table, now));
  count_rejoins (self);
  return next;
}

/* Datagrams came (not only ignored ones): the silence, if any, is over. */
static void
note_activity (GstMcastSrcRelay * self, GstClockTime now)
{
  if (self->timeout_posted)
    GST_INFO_OBJECT (self, "datagrams again after %" GST_TIME_FORMAT
        " of silence", GST_TIME_ARGS (now - self->last_activity));
  self->last_activity = now;
  self->timeout_posted = FALSE;
}

/* While datagrams keep coming the thread never waits: look at the
 * interfaces and timers between batches too, now and then. */
static void
check_between_batches (GstMcastSrcRelay * self, GstClockTime now)
{
  GstClockTime next;

  if (now < self->next_check)
    return;
  watch_interfaces (self);
  next = run_timers (self, now);
  self->next_check = MIN (now + CHECK_INTERVAL, next);
}

typedef enum
{
  WAIT_READABLE,
  WAIT_CANCELLED,
  WAIT_ERROR,
} WaitResult;

/* Waits until the socket is readable, meanwhile posting timeouts,
 * re-joining when due and following interface changes. */
static WaitResult
wait_readable (GstMcastSrcRelay * self, GCancellable * cancellable,
    GError ** error)
{
  for (;;) {
    GstClockTime now = monotonic_now (), next = run_timers (self, now);
    GPollFD fds[3] = { {0}
    };
    gint n = 0, cancel_fd = -1, netlink_fd = -1, timeout_ms = -1, r;
    gint watch_fd = mcp_membership_driver_get_fd (self->membership);

    self->next_check = MIN (now + CHECK_INTERVAL, next);
    if (GST_CLOCK_TIME_IS_VALID (next))
      timeout_ms = next > now ? (next - now + GST_MSECOND - 1) / GST_MSECOND
          : 0;
    fds[n].fd = g_socket_get_fd (self->socket);
    fds[n++].events = G_IO_IN;
    if (g_cancellable_make_pollfd (cancellable, &fds[n]))
      cancel_fd = n++;
    if (watch_fd >= 0) {
      fds[n].fd = watch_fd;
      fds[n].events = G_IO_IN;
      netlink_fd = n++;
    }
    r = g_poll (fds, n, timeout_ms);
    if (cancel_fd >= 0)
      g_cancellable_release_fd (cancellable);
    if (g_cancellable_is_cancelled (cancellable))
      return WAIT_CANCELLED;
    if (r < 0) {
      gint err = errno;

      if (err == EINTR)
        continue;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
          "poll: %s", g_strerror (err));
      return WAIT_ERROR;
    }
    if (netlink_fd >= 0 && fds[netlink_fd].revents)
      watch_interfaces (self);
    if (fds[0].revents)
      return WAIT_READABLE;
  }
}

/* Waits for and takes a batch of at most max datagrams; the indexes of
 * those to keep (not from an ignored sender) go to keep. Returns how many,
 * or -1 with *ret set. */
static gint
receive (GstMcastSrcRelay * self, gint max, gint * keep, GstFlowReturn * ret)
{
  GCancellable *cancellable;
  GError *err = NULL;
  gint n, i, kept;
  guint64 ignored;
  GstClockTime now;

  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);

  do {
    /* A short batch emptied the socket: wait before asking again. */
    n = self->drained ? 0 :
        mcp_udp_receive_batch (self->socket, self->slots, max, &err);
    self->drained = FALSE;
    if (n == 0) {
      WaitResult w = wait_readable (self, cancellable, &err);

      if (w == WAIT_READABLE) {
        wait_for_batch (self);
        continue;
      }
      if (w == WAIT_CANCELLED) {
        *ret = GST_FLOW_FLUSHING;
      } else {
        GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Waiting for datagrams "
                "failed"), ("%s", err->message));
        *ret = GST_FLOW_ERROR;
      }
      break;
    }
    if (n < 0) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Receiving datagrams "
              "failed"), ("%s", err->message));
      *ret = GST_FLOW_ERROR;
      break;
    }
    for (i = 0, kept = 0; i < n; i++)
      if (!mcp_source_filters_match (self->ignore, &self->slots[i].from))
        keep[kept++] = i;
    ignored = n - kept;
    if (ignored) {
      GST_OBJECT_LOCK (self);
      self->ignored += ignored;
      GST_OBJECT_UNLOCK (self);
    }
    self->drained = n < max;
    now = monotonic_now ();
    measure_rate (self, n, now);
    if (kept)
      note_activity (self, now);
    check_between_batches (self, now);
    n = kept;
  } while (n == 0);
  g_clear_error (&err);
  g_object_unref (cancellable);
  return n > 0 ? n : -1;
}

static GstFlowReturn
gst_mcast_src_relay_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (psrc);
  GstFlowReturn ret = GST_FLOW_OK;
  GstBufferList *list = NULL;
  GstClockTime pts;
  McpFrameMeta info;
  guint64 bytes = 0, truncated = 0, first_seq;
  gint keep[BATCH];
  gint n, i, max = BATCH;

  /* num-buffers counts datagrams, not the lists they go out in */
  if (self->max_datagrams >= 0) {
    GST_OBJECT_LOCK (self);
    max = MIN (max, self->max_datagrams - (gint64) self->datagrams);
    GST_OBJECT_UNLOCK (self);
    if (max <= 0)
      return GST_FLOW_EOS;
  }
  n = receive (self, max, keep, &ret);
  if (n < 0)
    return ret;

  pts = running_time_now (self);
  memset (&info, 0, sizeof (info));
  info.origin_id = self->origin_id;
  info.capture_time = g_get_real_time () * 1000;
  gst_mcp_meta_set_group (&info, self->group, self->current_port);

  GST_OBJECT_LOCK (self);
  first_seq = self->seq_base + self->datagrams;
  self->datagrams += n;
  GST_OBJECT_UNLOCK (self);

  if (n > 1)
    list = gst_buffer_list_new_sized (n);
  for (i = 0; i < n; i++) {
    McpDatagram *d = &self->slots[keep[i]];
    GstBuffer *b = gst_mcp_buffer_new_datagram (d->data, d->len);

    if (d->truncated)
      truncated++;
    GST_BUFFER_PTS (b) = pts;
    gst_buffer_add_net_address_meta (b, sender_address (self, d));
    info.seq = first_seq + i;
    gst_buffer_add_mcp_meta (b, &info);
    bytes += d->len;
    if (list) {
      gst_buffer_list_add (list, b);
    } else {
      *buf = b;
    }
  }

  GST_OBJECT_LOCK (self);
  self->bytes += bytes;
  self->truncated += truncated;
  GST_OBJECT_UNLOCK (self);
  if (truncated)
    GST_WARNING_OBJECT (self, "%" G_GUINT64_FORMAT " datagrams were larger "
        "than %u bytes and were cut", truncated, SLOT_SIZE);

  if (list) {
    gst_base_src_submit_buffer_list (GST_BASE_SRC (self), list);
    *buf = NULL;
  }
  return GST_FLOW_OK;
}

static GstStructure *
gst_mcast_src_relay_get_stats (GstMcastSrcRelay * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("mcastsrc-relay-stats",
      "datagrams-received", G_TYPE_UINT64, self->datagrams,
      "bytes-received", G_TYPE_UINT64, self->bytes,
      "datagrams-truncated", G_TYPE_UINT64, self->truncated,
      "datagrams-ignored", G_TYPE_UINT64, self->ignored,
      "timeouts", G_TYPE_UINT64, self->timeouts,
      "rejoins", G_TYPE_UINT64, self->rejoins,
      "rejoin-failures", G_TYPE_UINT64, self->rejoin_failures,
      "buffer-size", G_TYPE_INT, self->buffer_size_granted, NULL);
  GST_OBJECT_UNLOCK (self);
  return s;
}
