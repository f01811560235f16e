/* mcastproxy — amtrelay
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-amtrelay
 * @title: amtrelay
 *
 * An AMT relay (Automatic Multicast Tunneling, RFC 7450): AMT gateways on
 * networks without multicast ask it, over UDP, for the groups their hosts
 * join, and it sends them those groups' datagrams as AMT Multicast Data.
 *
 * It is a sink placed after an on-demand capture: it answers the
 * "mcastproxy-subscriptions" query and pushes the upstream event of that
 * name (gstmcpsubs.h) with one peer per gateway, so that `mcastsrc-relay`
 * with a `scope` joins a group while some gateway wants it and leaves it
 * when none does. Changes reach upstream at most every 100 ms, the event
 * built outside the lock the data path takes. Each buffer must carry the
 * proxy's metadata (its group, port and original sender); it becomes one
 * IPv4 or IPv6 packet from the sender to the group, built once and sent to
 * every gateway whose state wants that (source, group), in batches, the
 * payload never copied.
 *
 * The control plane runs on a thread of the element's own, on one UDP
 * socket bound to `address:port`: Relay Discovery is answered with an
 * Advertisement naming `advertise-address` (or `address`); a Request with
 * a Membership Query (IGMPv3, or MLDv2 when the gateway asks for it) and a
 * response MAC, without keeping any state; a Membership Update whose MAC
 * is right creates or refreshes the gateway's state; Teardown with the
 * nonce of its last Update removes it, as does silence for
 * `gateway-timeout`. The MAC secret changes every `mac-rotate-interval`,
 * the previous one still accepted. A second socket on `discovery-address`
 * (the anycast address) answers Relay Discovery only.
 *
 * Facing the Internet, it bounds what strangers can cost: `allow`,
 * `max-gateways`, `max-gateways-per-host`, `max-groups` and `max-sources`
 * per gateway, global rates of Discovery and of Requests from gateways
 * without state (one with state has a small rate of its own). Messages
 * that are truncated, larger than 16384 bytes, of an unknown type or
 * version, or that a relay never receives are dropped, counted and logged;
 * nothing else is disturbed.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mcastsrc-relay scope="232.0.0.0/8:5000-5010 239.1.0.0/16:5004" multicast-iface=eth0 ! amtrelay address=203.0.113.5 port=2268
 * ]| Serves SSM channels of 232/8 and groups of 239.1/16 to AMT gateways,
 * each group joined on eth0 while some gateway wants it.
 */

#include "config.h"

#include "gstamtrelay.h"
#include "gstmcpevents.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpsecurity.h"
#include "gstmcpstats.h"
#include "gstmcpsubs.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "mcp-address.h"
#include "mcp-amt.h"
#include "mcp-amt-membership.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"
#include "mcp-loop.h"
#include "mcp-mcast.h"
#include "mcp-subscription.h"

GST_DEBUG_CATEGORY_STATIC (amt_relay_debug);
#define GST_CAT_DEFAULT amt_relay_debug

#define DEFAULT_ADDRESS "0.0.0.0"
#define DEFAULT_PORT MCP_AMT_PORT
#define DEFAULT_ADVERTISE_ADDRESS NULL
#define DEFAULT_DISCOVERY_ADDRESS NULL
#define DEFAULT_TTL 64
#define DEFAULT_QUERY_INTERVAL (125 * GST_SECOND)
#define DEFAULT_GATEWAY_TIMEOUT 0
#define DEFAULT_MAC_ROTATE_INTERVAL (600 * GST_SECOND)
#define DEFAULT_MAX_GATEWAYS 1000
#define DEFAULT_MAX_GATEWAYS_PER_HOST 16
/* A gateway stands for a home or a site: Linux lets one socket join 20
 * groups (igmp_max_memberships) with 10 sources each (igmp_max_msf), and an
 * SSM channel has one source, two or three when redundant. These bound
 * what 1000 gateways cost: 16 x 16 x 1000 sources, not 64 x 64 x 1000. */
#define DEFAULT_MAX_GROUPS 16
#define DEFAULT_MAX_SOURCES 16
#define DEFAULT_ALLOW NULL
#define DEFAULT_DISCOVERY_RATE 100
#define DEFAULT_REQUEST_RATE 1000
#define DEFAULT_STATS_INTERVAL 0

/* The largest control message taken: a gateway sends its reports within
 * its path MTU, so this leaves room for jumbo frames and bounds what one
 * message can cost. */
#define CONTROL_MAX 16384
/* Messages read per wake-up of the control thread, so that timers run
 * during a flood. */
#define RECV_BURST 64
/* What the kernel may hold of datagrams on their way to the gateways. */
#define SEND_BUFFER (4 * 1024 * 1024)
/* Upstream hears of changes at most this often (µs): a burst of Updates
 * makes one event, not one each. */
#define NOTIFY_INTERVAL (100 * G_TIME_SPAN_MILLISECOND)
/* Requests answered per second (and in a burst) to a gateway with state,
 * outside request-rate: a gateway refreshes every 3/4 query interval and
 * retries after 1 s, so a flood of strangers' Requests cannot keep it from
 * refreshing, nor can it take more than this. */
#define KNOWN_REQUEST_RATE 2
#define KNOWN_REQUEST_BURST 4
/* What a peer can cause at will is logged as a WARNING at most this often
 * (µs), the rest at INFO. */
#define WARN_INTERVAL (60 * G_TIME_SPAN_SECOND)

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_CURRENT_PORT,
  PROP_ADVERTISE_ADDRESS,
  PROP_DISCOVERY_ADDRESS,
  PROP_TTL,
  PROP_QUERY_INTERVAL,
  PROP_GATEWAY_TIMEOUT,
  PROP_MAC_ROTATE_INTERVAL,
  PROP_MAX_GATEWAYS,
  PROP_MAX_GATEWAYS_PER_HOST,
  PROP_MAX_GROUPS,
  PROP_MAX_SOURCES,
  PROP_ALLOW,
  PROP_DISCOVERY_RATE,
  PROP_REQUEST_RATE,
  PROP_STATS_INTERVAL,
};

enum
{
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

/* What one gateway wants: made whole, never changed, shared by reference
 * (an atomic GRcBox) so that the upstream event and get-stats are built
 * from it outside the lock. */
typedef struct
{
  McpSubSet *set;
  guint n_groups;
  guint n_sources;
} Subs;

/* A gateway with state: created by its first valid Update. Owned by
 * gateways; the data path reads it under the lock only. Only the control
 * thread adds or removes gateways, so it uses one without the lock. */
typedef struct
{
  gchar *name;                  /* "ip:port", the key */
  gchar *host;                  /* what max-gateways-per-host counts */
  guint8 family;
  guint8 addr[16];
  guint16 port;
  guint64 peer_id;
  GSocketAddress *sockaddr;
  McpAmtMembership *membership; /* control thread only */
  Subs *subs;                   /* replaced under the lock */
  guint32 nonce;                /* of its last valid Update */
  McpTokenBucket req_bucket;    /* control thread only */
  gint64 since;                 /* monotonic µs */
  gint64 expires;
} Gateway;

/* A gateway as seen at one moment, for work done outside the lock. */
typedef struct
{
  guint64 peer_id;
  Subs *subs;
  guint8 family;
  guint8 addr[16];
  guint16 port;
  gint64 since;
} GatewaySnapshot;

/* A WARNING at most every WARN_INTERVAL; control thread only. */
typedef struct
{
  gint64 next;
  guint suppressed;
} WarnLimit;

struct _GstAmtRelay
{
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *address;
  guint port;
  guint current_port;
  gchar *advertise_address;
  gchar *discovery_address;
  guint ttl;
  guint64 query_interval;
  guint64 gateway_timeout;
  guint64 mac_rotate_interval;
  guint max_gateways;
  guint max_gateways_per_host;
  guint max_groups;
  guint max_sources;
  gchar *allow;
  guint discovery_rate;
  guint request_rate;
  guint64 stats_interval;

  /* from NULL->READY to READY->NULL, unchanged in between */
  GSocket *socket;
  GSocket *disc_socket;
  GSocketFamily socket_family;
  guint8 relay_family;          /* what Advertisements name */
  guint8 relay_addr[16];
  GCancellable *cancellable;    /* object lock */
  /* allow, parsed; object lock: a change while running replaces it */
  GPtrArray *networks;          /* NULL: anyone */
  gboolean open;                /* from open_sockets to close_sockets */

  /* the control thread, from start to stop */
  McpLoop *loop;
  GSource *recv_source;
  GSource *disc_source;
  GSource *expiry_source;
  GSource *rotate_source;
  GSource *notify_source;
  /* control thread only (made before it starts) */
  McpAmtMacKey *key;
  gint64 rotate_us;
  McpTokenBucket disc_bucket;
  McpTokenBucket req_bucket;
  guint8 *rbuf;
  gboolean subs_dirty;          /* a change upstream has not heard of */
  gint64 last_told;
  McpSubSet *subs_told;         /* union last told upstream */
  WarnLimit warn_refused, warn_limits;

  /* gateways, subscriptions and counters */
  GMutex lock;
  GHashTable *gateways;         /* name -> Gateway */
  GPtrArray *gw_list;           /* the same, for the data path */
  GHashTable *host_counts;      /* host -> gateways of it */
  guint64 next_peer_id;
  gboolean subs_live;
  guint64 discoveries, requests, queries, updates, teardowns, expired;
  guint64 bad_mac, malformed, refused_allow, refused_limit, refused_rate;
  guint64 datagrams_in, bytes_in, datagrams_sent, bytes_sent;
  guint64 dropped_no_group, dropped_oversize, dropped_send_error;

  /* streaming thread only */
  GPtrArray *out_addrs;         /* GSocketAddress of one datagram */
  GArray *out_msgs;             /* GOutputMessage */
  guint16 ip_id;

  GstMcpStatsTimer stats_timer;

  /* gateways added and removed: told under the lock, posted after */
  GstMcpEvents events;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_amt_relay_parent_class parent_class
G_DEFINE_TYPE (GstAmtRelay, gst_amt_relay, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (amtrelay, "amtrelay",
    GST_RANK_NONE, GST_TYPE_AMT_RELAY,
    GST_DEBUG_CATEGORY_INIT (amt_relay_debug, "amtrelay", 0,
        "mcastproxy AMT relay"));

static void gst_amt_relay_finalize (GObject * object);
static void gst_amt_relay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_amt_relay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_amt_relay_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_amt_relay_start (GstBaseSink * bsink);
static gboolean gst_amt_relay_stop (GstBaseSink * bsink);
static gboolean gst_amt_relay_unlock (GstBaseSink * bsink);
static gboolean gst_amt_relay_unlock_stop (GstBaseSink * bsink);
static gboolean gst_amt_relay_query (GstBaseSink * bsink, GstQuery * query);
static GstFlowReturn gst_amt_relay_render (GstBaseSink * bsink,
    GstBuffer * buffer);
static GstFlowReturn gst_amt_relay_render_list (GstBaseSink * bsink,
    GstBufferList * list);
static GstStructure *gst_amt_relay_get_stats (GstAmtRelay * self);

/* ---- GObject ----------------------------------------------------------- */

static void
gst_amt_relay_class_init (GstAmtRelayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_amt_relay_set_property;
  gobject_class->get_property = gst_amt_relay_get_property;
  gobject_class->finalize = gst_amt_relay_finalize;

  /* start() runs at NULL->READY for a sink: what it reads takes effect
   * when set in NULL */
  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Numeric IPv4 or IPv6 address the relay's UDP socket binds to; "
          "also the address Advertisements name unless advertise-address "
          "is set", DEFAULT_ADDRESS, rw));
  g_object_class_install_property (gobject_class, PROP_PORT,
      gst_mcp_param_spec_uint ("port", "Port",
          "UDP port of the relay (0: a free one, see current-port)", 0,
          G_MAXUINT16, DEFAULT_PORT, rw));
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_uint ("current-port", "Current port",
          "The UDP port bound (0 when closed)", 0, G_MAXUINT16, 0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_ADVERTISE_ADDRESS,
      g_param_spec_string ("advertise-address", "Advertise address",
          "The relay address Relay Advertisements name, and the source of "
          "the queries (empty: address; needed when address is a "
          "wildcard)", DEFAULT_ADVERTISE_ADDRESS, rw));
  g_object_class_install_property (gobject_class, PROP_DISCOVERY_ADDRESS,
      g_param_spec_string ("discovery-address", "Discovery address",
          "A second address (the AMT anycast address, e.g. 192.52.193.1) "
          "on port, on which only Relay Discovery is answered (empty: none)",
          DEFAULT_DISCOVERY_ADDRESS, rw));
  g_object_class_install_property (gobject_class, PROP_TTL,
      gst_mcp_param_spec_uint ("ttl", "TTL",
          "TTL (hop limit) of the IP packets carried to gateways", 1, 255,
          DEFAULT_TTL, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_QUERY_INTERVAL,
      gst_mcp_param_spec_uint64 ("query-interval", "Query interval",
          "How often (ns) gateways are told to send their state (QQIC of "
          "the queries); whole seconds", GST_SECOND,
          (guint64) MCP_IGMP_CODE8_MAX * GST_SECOND, DEFAULT_QUERY_INTERVAL,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_GATEWAY_TIMEOUT,
      gst_mcp_param_spec_uint64 ("gateway-timeout", "Gateway timeout",
          "A gateway without a valid Update for this long (ns) is removed "
          "(0: 2 x query-interval + 10 s)", 0, G_MAXUINT64,
          DEFAULT_GATEWAY_TIMEOUT, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAC_ROTATE_INTERVAL,
      gst_mcp_param_spec_uint64 ("mac-rotate-interval", "MAC rotate interval",
          "How often (ns) the secret of the response MACs changes; the "
          "previous one is still accepted", GST_MSECOND, G_MAXUINT64,
          DEFAULT_MAC_ROTATE_INTERVAL, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_GATEWAYS,
      gst_mcp_param_spec_uint ("max-gateways", "Max gateways",
          "Gateways kept at most; a new one beyond is refused, and told so "
          "in its queries (L flag) (0: no limit)", 0, G_MAXUINT,
          DEFAULT_MAX_GATEWAYS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_GATEWAYS_PER_HOST,
      gst_mcp_param_spec_uint ("max-gateways-per-host",
          "Max gateways per host", "Gateways kept at most from one IPv4 "
          "address or IPv6 /64 (any ports); a new one beyond is refused, "
          "and told so in its queries (L flag) (0: no limit)", 0, G_MAXUINT,
          DEFAULT_MAX_GATEWAYS_PER_HOST, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_GROUPS,
      gst_mcp_param_spec_uint ("max-groups", "Max groups",
          "Groups kept per gateway at most; more are refused", 1,
          MCP_SUB_MAX_ENTRIES, DEFAULT_MAX_GROUPS,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_SOURCES,
      gst_mcp_param_spec_uint ("max-sources", "Max sources",
          "Sources kept per group of a gateway at most; more are refused",
          1, MCP_SUB_MAX_SOURCES, DEFAULT_MAX_SOURCES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ALLOW,
      g_param_spec_string ("allow", "Allow",
          "Comma-separated networks (10.0.0.0/8, 2001:db8::/32) or "
          "addresses whose gateways are served; others are ignored (empty: "
          "anyone). A change while running applies to the next messages",
          DEFAULT_ALLOW, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_DISCOVERY_RATE,
      gst_mcp_param_spec_uint ("discovery-rate", "Discovery rate",
          "Relay Discovery messages answered per second at most, from all "
          "gateways together (0: no limit)", 0, G_MAXUINT,
          DEFAULT_DISCOVERY_RATE, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_REQUEST_RATE,
      gst_mcp_param_spec_uint ("request-rate", "Request rate",
          "Requests answered per second at most, from all gateways "
          "together (0: no limit)", 0, G_MAXUINT, DEFAULT_REQUEST_RATE,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Post amtrelay-stats on the bus this often (ns; 0: never)", 0,
          G_MAXUINT64, DEFAULT_STATS_INTERVAL, rw));

  /**
   * GstAmtRelay::get-stats:
   *
   * Returns an "amtrelay-stats" structure: totals and the gateways.
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_amt_relay_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class,
      "AMT relay", "Sink/Network",
      "Serves multicast datagrams to AMT gateways (RFC 7450) over unicast "
      "UDP, telling upstream which groups they want", "mcastproxy developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_amt_relay_change_state);
  basesink_class->start = GST_DEBUG_FUNCPTR (gst_amt_relay_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_amt_relay_stop);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_amt_relay_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_amt_relay_unlock_stop);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_amt_relay_query);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_amt_relay_render);
  basesink_class->render_list = GST_DEBUG_FUNCPTR (gst_amt_relay_render_list);
}

static void
subs_clear (gpointer p)
{
  mcp_sub_set_free (((Subs *) p)->set);
}

static void
subs_unref (Subs * subs)
{
  g_atomic_rc_box_release_full (subs, subs_clear);
}

static Subs *
subs_new (const McpAmtMembership * m)
{
  Subs *subs = g_atomic_rc_box_new0 (Subs);
  guint i;

  subs->set = m ? mcp_amt_membership_to_set (m) : mcp_sub_set_new ();
  subs->n_groups = mcp_sub_set_size (subs->set);
  for (i = 0; i < subs->n_groups; i++)
    subs->n_sources += mcp_sub_set_get (subs->set, i)->n_sources;
  return subs;
}

static void
gateway_free (gpointer p)
{
  Gateway *gw = p;

  g_free (gw->name);
  g_free (gw->host);
  g_object_unref (gw->sockaddr);
  mcp_amt_membership_free (gw->membership);
  subs_unref (gw->subs);
  g_free (gw);
}

static void
gst_amt_relay_init (GstAmtRelay * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->advertise_address = g_strdup (DEFAULT_ADVERTISE_ADDRESS);
  self->discovery_address = g_strdup (DEFAULT_DISCOVERY_ADDRESS);
  self->ttl = DEFAULT_TTL;
  self->query_interval = DEFAULT_QUERY_INTERVAL;
  self->gateway_timeout = DEFAULT_GATEWAY_TIMEOUT;
  self->mac_rotate_interval = DEFAULT_MAC_ROTATE_INTERVAL;
  self->max_gateways = DEFAULT_MAX_GATEWAYS;
  self->max_gateways_per_host = DEFAULT_MAX_GATEWAYS_PER_HOST;
  self->max_groups = DEFAULT_MAX_GROUPS;
  self->max_sources = DEFAULT_MAX_SOURCES;
  self->allow = g_strdup (DEFAULT_ALLOW);
  self->discovery_rate = DEFAULT_DISCOVERY_RATE;
  self->request_rate = DEFAULT_REQUEST_RATE;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->cancellable = mcp_cancellable_new ();

  g_mutex_init (&self->lock);
  self->gateways = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      gateway_free);
  self->gw_list = g_ptr_array_new ();
  self->host_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  self->out_addrs = g_ptr_array_new_with_free_func (g_object_unref);
  self->out_msgs = g_array_new (FALSE, TRUE, sizeof (GOutputMessage));
  gst_mcp_events_init (&self->events, GST_ELEMENT (self));

  /* a relay forwards as things arrive, and may see nothing for long */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
}

static void
gst_amt_relay_finalize (GObject * object)
{
  GstAmtRelay *self = GST_AMT_RELAY (object);

  g_free (self->address);
  g_free (self->advertise_address);
  g_free (self->discovery_address);
  g_free (self->allow);
  mcp_cancellable_free (self->cancellable);
  g_ptr_array_unref (self->gw_list);
  g_hash_table_unref (self->gateways);
  g_hash_table_unref (self->host_counts);
  g_clear_pointer (&self->subs_told, mcp_sub_set_free);
  g_mutex_clear (&self->lock);
  gst_mcp_events_clear (&self->events);
  g_ptr_array_unref (self->out_addrs);
  g_array_unref (self->out_msgs);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
set_string (gchar ** field, const GValue * value)
{
  const gchar *s = g_value_get_string (value);

  g_free (*field);
  *field = s && *s ? g_strdup (s) : NULL;
}

/* allow: while the sockets are open the new list applies to the next
 * message; one that does not parse is ignored with a warning, the old
 * one staying. */
static void
set_allow (GstAmtRelay * self, const GValue * value)
{
  GPtrArray *networks = NULL;
  gboolean open;

  GST_OBJECT_LOCK (self);
  open = self->open;
  GST_OBJECT_UNLOCK (self);
  if (open && !gst_mcp_parse_networks_live (GST_ELEMENT (self), "allow",
          g_value_get_string (value), &networks))
    return;
  if (networks && networks->len == 0)
    g_clear_pointer (&networks, g_ptr_array_unref);
  GST_OBJECT_LOCK (self);
  if (self->open) {
    GPtrArray *old = self->networks;

    self->networks = networks;
    networks = old;
  }
  set_string (&self->allow, value);
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&networks, g_ptr_array_unref);
  if (open)
    GST_INFO_OBJECT (self, "allow now %s, for the next messages (gateways "
        "already known stay until they expire or leave)",
        G_VALUE_HOLDS_STRING (value) && g_value_get_string (value) ?
        g_value_get_string (value) : "off");
}

static void
gst_amt_relay_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAmtRelay *self = GST_AMT_RELAY (object);

  if (!gst_mcp_props_accept (object, pspec, value))
    return;
  if (prop_id == PROP_ALLOW) {
    set_allow (self, value);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      if (!self->address)
        self->address = g_strdup (DEFAULT_ADDRESS);
      break;
    case PROP_PORT:
      self->port = g_value_get_uint (value);
      break;
    case PROP_ADVERTISE_ADDRESS:
      set_string (&self->advertise_address, value);
      break;
    case PROP_DISCOVERY_ADDRESS:
      set_string (&self->discovery_address, value);
      break;
    case PROP_TTL:
      self->ttl = g_value_get_uint (value);
      break;
    case PROP_QUERY_INTERVAL:
      self->query_interval = g_value_get_uint64 (value);
      break;
    case PROP_GATEWAY_TIMEOUT:
      self->gateway_timeout = g_value_get_uint64 (value);
      break;
    case PROP_MAC_ROTATE_INTERVAL:
      self->mac_rotate_interval = g_value_get_uint64 (value);
      break;
    case PROP_MAX_GATEWAYS:
      self->max_gateways = g_value_get_uint (value);
      break;
    case PROP_MAX_GATEWAYS_PER_HOST:
      self->max_gateways_per_host = g_value_get_uint (value);
      break;
    case PROP_MAX_GROUPS:
      self->max_groups = g_value_get_uint (value);
      break;
    case PROP_MAX_SOURCES:
      self->max_sources = g_value_get_uint (value);
      break;
    case PROP_DISCOVERY_RATE:
      self->discovery_rate = g_value_get_uint (value);
      break;
    case PROP_REQUEST_RATE:
      self->request_rate = g_value_get_uint (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_amt_relay_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstAmtRelay *self = GST_AMT_RELAY (object);

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
    case PROP_ADVERTISE_ADDRESS:
      g_value_set_string (value, self->advertise_address);
      break;
    case PROP_DISCOVERY_ADDRESS:
      g_value_set_string (value, self->discovery_address);
      break;
    case PROP_TTL:
      g_value_set_uint (value, self->ttl);
      break;
    case PROP_QUERY_INTERVAL:
      g_value_set_uint64 (value, self->query_interval);
      break;
    case PROP_GATEWAY_TIMEOUT:
      g_value_set_uint64 (value, self->gateway_timeout);
      break;
    case PROP_MAC_ROTATE_INTERVAL:
      g_value_set_uint64 (value, self->mac_rotate_interval);
      break;
    case PROP_MAX_GATEWAYS:
      g_value_set_uint (value, self->max_gateways);
      break;
    case PROP_MAX_GATEWAYS_PER_HOST:
      g_value_set_uint (value, self->max_gateways_per_host);
      break;
    case PROP_MAX_GROUPS:
      g_value_set_uint (value, self->max_groups);
      break;
    case PROP_MAX_SOURCES:
      g_value_set_uint (value, self->max_sources);
      break;
    case PROP_ALLOW:
      g_value_set_string (value, self->allow);
      break;
    case PROP_DISCOVERY_RATE:
      g_value_set_uint (value, self->discovery_rate);
      break;
    case PROP_REQUEST_RATE:
      g_value_set_uint (value, self->request_rate);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, self->stats_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- addresses --------------------------------------------------------- */

/* family (4, 6) and bytes of addr; an IPv4-mapped IPv6 address (an IPv4
 * peer on a dual-stack socket) as the IPv4 address it is. */
static guint8
inet_bytes (GInetAddress * addr, guint8 * out)
{
  const guint8 *b = g_inet_address_to_bytes (addr);

  memset (out, 0, 16);
  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV4) {
    memcpy (out, b, 4);
    return 4;
  }
  if (memcmp (b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
    memcpy (out, b + 12, 4);
    return 4;
  }
  memcpy (out, b, 16);
  return 6;
}

static gchar *
addr_to_string (guint8 family, const guint8 * addr)
{
  GInetAddress *a = g_inet_address_new_from_bytes (addr,
      family == 4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
  gchar *s = g_inet_address_to_string (a);

  g_object_unref (a);
  return s;
}

static gchar *
gateway_name (guint8 family, const guint8 * addr, guint16 port)
{
  gchar *a = addr_to_string (family, addr);
  gchar *s = family == 4 ? g_strdup_printf ("%s:%u", a, port) :
      g_strdup_printf ("[%s]:%u", a, port);

  g_free (a);
  return s;
}

/* What max-gateways-per-host counts: an IPv4 address, or the /64 of an
 * IPv6 one (a host is given a /64 at least). */
static gchar *
host_key (guint8 family, const guint8 * addr)
{
  guint8 prefix[16] = { 0 };
  gchar *a, *s;

  if (family == 4)
    return addr_to_string (family, addr);
  memcpy (prefix, addr, 8);
  a = addr_to_string (family, prefix);
  s = g_strconcat (a, "/64", NULL);
  g_free (a);
  return s;
}

/* ---- subscriptions ----------------------------------------------------- */

static void
snapshot_clear (gpointer p)
{
  subs_unref (((GatewaySnapshot *) p)->subs);
}

/* The gateways now: a few bytes and a reference each, so that the lock the
 * data path takes per buffer is held for little, however much they want.
 * Under the lock. */
static GArray *
snapshot_locked (GstAmtRelay * self)
{
  GArray *snap = g_array_sized_new (FALSE, FALSE, sizeof (GatewaySnapshot),
      self->gw_list->len);
  guint i;

  g_array_set_clear_func (snap, snapshot_clear);
  for (i = 0; i < self->gw_list->len; i++) {
    Gateway *gw = self->gw_list->pdata[i];
    GatewaySnapshot g;

    g.peer_id = gw->peer_id;
    g.subs = g_atomic_rc_box_acquire (gw->subs);
    g.family = gw->family;
    memcpy (g.addr, gw->addr, 16);
    g.port = gw->port;
    g.since = gw->since;
    g_array_append_val (snap, g);
  }
  return snap;
}

/* One peer per gateway. */
static GArray *
snapshot_peers (GArray * snap)
{
  GArray *peers = gst_mcp_subs_peers_new ();
  guint i;

  for (i = 0; i < snap->len; i++) {
    GatewaySnapshot *g = &g_array_index (snap, GatewaySnapshot, i);

    gst_mcp_subs_peers_add (peers, g->peer_id, g->subs->set);
  }
  return peers;
}

/* Tells upstream what the gateways want when the union changed: the union
 * and the event are built outside the lock. Control thread. */
static void
tell_upstream (GstAmtRelay * self)
{
  GArray *snap, *peers;
  McpSubSet *now;
  GstEvent *event = NULL;
  gboolean live;
  guint i;

  g_mutex_lock (&self->lock);
  live = self->subs_live;
  snap = live ? snapshot_locked (self) : NULL;
  g_mutex_unlock (&self->lock);
  if (!live)
    return;
  now = mcp_sub_set_new ();
  for (i = 0; i < snap->len; i++)
    mcp_sub_set_add_all (now, g_array_index (snap, GatewaySnapshot,
            i).subs->set);
  if (!self->subs_told || !mcp_sub_set_equal (self->subs_told, now)) {
    g_clear_pointer (&self->subs_told, mcp_sub_set_free);
    self->subs_told = g_steal_pointer (&now);
    peers = snapshot_peers (snap);
    event = gst_mcp_subs_event_new (peers);
    g_array_unref (peers);
  }
  g_clear_pointer (&now, mcp_sub_set_free);
  g_array_unref (snap);
  if (event) {
    GST_DEBUG_OBJECT (self, "subscriptions now %" GST_PTR_FORMAT,
        gst_event_get_structure (event));
    gst_pad_push_event (GST_BASE_SINK_PAD (self), event);
  }
}

static gboolean
on_notify (gpointer user_data)
{
  GstAmtRelay *self = user_data;

  self->subs_dirty = FALSE;
  self->last_told = g_get_monotonic_time ();
  tell_upstream (self);
  return G_SOURCE_CONTINUE;
}

/* Something a gateway wants changed: upstream hears of it at once after a
 * quiet NOTIFY_INTERVAL, else at the end of it, once for every change
 * since. Control thread. */
static void
subs_changed (GstAmtRelay * self)
{
  if (self->subs_dirty)
    return;
  self->subs_dirty = TRUE;
  g_source_set_ready_time (self->notify_source,
      MAX (g_get_monotonic_time (), self->last_told + NOTIFY_INTERVAL));
}

static gboolean
gst_amt_relay_query (GstBaseSink * bsink, GstQuery * query)
{
  GstAmtRelay *self = GST_AMT_RELAY (bsink);
  GArray *snap, *peers;

  if (!gst_mcp_subs_query_is (query))
    return GST_BASE_SINK_CLASS (parent_class)->query (bsink, query);
  g_mutex_lock (&self->lock);
  snap = snapshot_locked (self);
  g_mutex_unlock (&self->lock);
  peers = snapshot_peers (snap);
  gst_mcp_subs_query_set (query, peers);
  g_array_unref (peers);
  g_array_unref (snap);
  return TRUE;
}

/* ---- control plane (control thread) ------------------------------------ */

static gint64
gateway_timeout_us (GstAmtRelay * self)
{
  guint64 timeout;

  GST_OBJECT_LOCK (self);
  timeout = self->gateway_timeout ? self->gateway_timeout :
      2 * self->query_interval + 10 * GST_SECOND;
  GST_OBJECT_UNLOCK (self);
  return MIN (timeout / GST_USECOND, G_MAXINT64 / 4);
}

/* Arms the expiry timer for the gateway that expires first. */
static void
arm_expiry (GstAmtRelay * self)
{
  gint64 first = -1;
  guint i;

  g_mutex_lock (&self->lock);
  for (i = 0; i < self->gw_list->len; i++) {
    Gateway *gw = self->gw_list->pdata[i];

    if (first < 0 || gw->expires < first)
      first = gw->expires;
  }
  g_mutex_unlock (&self->lock);
  g_source_set_ready_time (self->expiry_source, first);
}

/* Removes gw, for why. Under the lock. */
static void
remove_gateway_locked (GstAmtRelay * self, Gateway * gw, const gchar * why)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->host_counts,
          gw->host));

  gst_mcp_events_push (&self->events,
      gst_mcp_event_client_removed (gw->name, why));
  if (n > 1)
    g_hash_table_insert (self->host_counts, g_strdup (gw->host),
        GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (self->host_counts, gw->host);
  g_ptr_array_remove_fast (self->gw_list, gw);
  g_hash_table_remove (self->gateways, gw->name);
}

/* Which limit a new gateway of host would pass, or NULL. Under the lock. */
static const gchar *
refusal_locked (GstAmtRelay * self, const gchar * host, guint max_gateways,
    guint per_host)
{
  if (max_gateways && g_hash_table_size (self->gateways) >= max_gateways)
    return "max-gateways";
  if (per_host && GPOINTER_TO_UINT (g_hash_table_lookup (self->host_counts,
              host)) >= per_host)
    return "max-gateways-per-host";
  return NULL;
}

/* Whether to log what a peer caused as a WARNING now; *suppressed: how
 * many were logged at INFO since the last one. */
static gboolean
warn_now (WarnLimit * w, guint * suppressed)
{
  gint64 now = g_get_monotonic_time ();

  if (w->next && now < w->next) {
    w->suppressed++;
    return FALSE;
  }
  *suppressed = w->suppressed;
  w->suppressed = 0;
  w->next = now + WARN_INTERVAL;
  return TRUE;
}

static gboolean
on_expiry (gpointer user_data)
{
  GstAmtRelay *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean removed = FALSE;
  guint i;

  g_mutex_lock (&self->lock);
  for (i = 0; i < self->gw_list->len;) {
    Gateway *gw = self->gw_list->pdata[i];

    if (gw->expires <= now) {
      GST_INFO_OBJECT (self, "gateway %s: no valid Update for its timeout, "
          "removed", gw->name);
      self->expired++;
      remove_gateway_locked (self, gw, "expired");
      removed = TRUE;
    } else {
      i++;
    }
  }
  g_mutex_unlock (&self->lock);
  gst_mcp_events_flush (&self->events);
  arm_expiry (self);
  if (removed)
    subs_changed (self);
  return G_SOURCE_CONTINUE;
}

/* Armed in µs of the monotonic clock: a g_timeout_source_new() takes a
 * guint of ms, which a long mac-rotate-interval would wrap (2^32 ms to 0: a
 * busy loop). */
static void
arm_rotate (GstAmtRelay * self)
{
  g_source_set_ready_time (self->rotate_source,
      g_get_monotonic_time () + self->rotate_us);
}

static gboolean
on_rotate (gpointer user_data)
{
  GstAmtRelay *self = user_data;

  mcp_amt_mac_key_rotate (self->key);
  GST_DEBUG_OBJECT (self, "MAC secret rotated");
  arm_rotate (self);
  return G_SOURCE_CONTINUE;
}

static void
count (GstAmtRelay * self, guint64 * counter)
{
  g_mutex_lock (&self->lock);
  (*counter)++;
  g_mutex_unlock (&self->lock);
}

/* A message turned away for what it is: counted as malformed. */
static void
malformed (GstAmtRelay * self, const gchar * from, const gchar * why)
{
  GST_INFO_OBJECT (self, "%s: message dropped: %s", from, why);
  count (self, &self->malformed);
}

static void
send_reply (GstAmtRelay * self, GSocket * socket, GSocketAddress * to,
    const gchar * name, const McpAmtMessage * msg)
{
  GBytes *bytes = mcp_amt_build (msg);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GError *err = NULL;

  /* a full socket loses the reply; the gateway asks again */
  if (g_socket_send_to (socket, to, (const gchar *) data, len, NULL, &err) < 0) {
    GST_INFO_OBJECT (self, "%s: %s not sent: %s", name,
        mcp_amt_type_name (msg->type), err->message);
    g_error_free (err);
  }
  g_bytes_unref (bytes);
}

static gboolean
take_token (GstAmtRelay * self, McpTokenBucket * bucket, guint rate)
{
  mcp_token_bucket_set_rate (bucket, rate, MAX (rate, 1));
  return mcp_token_bucket_take (bucket, g_get_monotonic_time ());
}

static void
handle_discovery (GstAmtRelay * self, GSocket * socket, GSocketAddress * from,
    const gchar * name, const McpAmtMessage * in)
{
  McpAmtMessage out = { 0 };
  guint rate;

  GST_OBJECT_LOCK (self);
  rate = self->discovery_rate;
  GST_OBJECT_UNLOCK (self);
  count (self, &self->discoveries);
  if (!take_token (self, &self->disc_bucket, rate)) {
    GST_INFO_OBJECT (self, "%s: Relay Discovery over discovery-rate, "
        "not answered", name);
    count (self, &self->refused_rate);
    return;
  }
  out.type = MCP_AMT_RELAY_ADVERTISEMENT;
  out.nonce = in->nonce;
  out.family = self->relay_family;
  memcpy (out.address, self->relay_addr, 16);
  send_reply (self, socket, from, name, &out);
}

/* The general query a gateway is sent, as an IP packet: IGMPv3 (mld
 * FALSE) or MLDv2, from the relay's address (its IPv4-mapped form for
 * MLD from an IPv4 relay; 0.0.0.0 for IGMP from an IPv6 one). */
static GBytes *
build_query_packet (GstAmtRelay * self, gboolean mld, guint qqi)
{
  McpIgmpMessage *q = mcp_igmp_query_new (mld ? G_SOCKET_FAMILY_IPV6 :
      G_SOCKET_FAMILY_IPV4, mld ? 2 : 3, NULL);
  guint8 src[16] = { 0 }, dst[16] = { 0 };
  GBytes *query, *pkt = NULL;
  GError *err = NULL;

  q->qqi = qqi;
  query = mcp_igmp_build_query (q, &err);
  mcp_igmp_message_free (q);
  if (!query) {
    GST_WARNING_OBJECT (self, "cannot build a query: %s", err->message);
    g_error_free (err);
    return NULL;
  }
  if (mld) {
    if (self->relay_family == 6) {
      memcpy (src, self->relay_addr, 16);
    } else {
      src[10] = src[11] = 0xff;
      memcpy (src + 12, self->relay_addr, 4);
    }
    dst[0] = 0xff;
    dst[1] = 0x02;
    dst[15] = 1;
  } else {
    if (self->relay_family == 4)
      memcpy (src, self->relay_addr, 4);
    dst[0] = 224;
    dst[3] = 1;
  }
  pkt = mcp_ippkt_wrap_membership (mld ? 6 : 4, src, dst,
      g_bytes_get_data (query, NULL), g_bytes_get_size (query));
  g_bytes_unref (query);
  return pkt;
}

static void
handle_request (GstAmtRelay * self, GSocketAddress * from, const gchar * name,
    guint8 family, const guint8 * addr, guint16 port, const McpAmtMessage * in)
{
  McpAmtMessage out = { 0 };
  GBytes *pkt;
  guint rate, max_gateways, per_host;
  guint64 qi;
  gboolean full = FALSE, known, answer;
  gchar *host = host_key (family, addr);
  Gateway *gw;

  GST_OBJECT_LOCK (self);
  rate = self->request_rate;
  qi = self->query_interval;
  max_gateways = self->max_gateways;
  per_host = self->max_gateways_per_host;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->lock);
  self->requests++;
  gw = g_hash_table_lookup (self->gateways, name);
  known = gw != NULL;
  /* a gateway with state is bounded on its own, outside request-rate */
  if (known)
    answer = mcp_token_bucket_take (&gw->req_bucket, g_get_monotonic_time ());
  else
    full = refusal_locked (self, host, max_gateways, per_host) != NULL;
  g_mutex_unlock (&self->lock);
  g_free (host);
  if (!known)
    answer = take_token (self, &self->req_bucket, rate);
  if (!answer) {
    GST_INFO_OBJECT (self, "%s: Request over %s, not answered", name,
        known ? "its own rate" : "request-rate");
    count (self, &self->refused_rate);
    return;
  }
  pkt = build_query_packet (self, in->p_flag,
      MIN (qi / GST_SECOND, MCP_IGMP_CODE8_MAX));
  if (!pkt)
    return;

  out.type = MCP_AMT_MEMBERSHIP_QUERY;
  out.nonce = in->nonce;
  out.mac = mcp_amt_mac (self->key, family, addr, port, in->nonce);
  out.l_flag = full;
  out.g_flag = TRUE;
  out.family = family;
  memcpy (out.address, addr, 16);
  out.port = port;
  out.inner = g_bytes_get_data (pkt, &out.inner_len);
  /* counted first: whoever gets the Query sees it counted */
  count (self, &self->queries);
  send_reply (self, self->socket, from, name, &out);
  g_bytes_unref (pkt);
}

static void
handle_update (GstAmtRelay * self, GSocketAddress * from, const gchar * name,
    guint8 family, const guint8 * addr, guint16 port, const McpAmtMessage * in)
{
  McpIpPacket ip;
  McpIgmpMessage *report = NULL;
  McpAmtRefused refused;
  GError *err = NULL;
  Gateway *gw;
  Subs *subs, *old = NULL;
  guint max_gateways, per_host, max_groups, max_sources, suppressed = 0;
  const gchar *limit;
  gchar *host;
  gboolean changed;
  gint64 now = g_get_monotonic_time (), timeout = gateway_timeout_us (self);

  if (!mcp_amt_mac_check (self->key, family, addr, port, in->nonce, in->mac)) {
    GST_INFO_OBJECT (self, "%s: Membership Update dropped: its MAC is not "
        "ours for this address, port and nonce (forged, or a stale nonce)",
        name);
    count (self, &self->bad_mac);
    return;
  }
  if (!mcp_ippkt_parse (in->inner, in->inner_len, &ip, &err)) {
    gchar *why = g_strdup_printf ("Membership Update: %s", err->message);

    malformed (self, name, why);
    g_free (why);
    g_error_free (err);
    return;
  }
  if (ip.family == 4 && ip.protocol == MCP_IPPKT_PROTO_IGMP)
    report = mcp_igmp_parse (ip.payload, ip.payload_len, &err);
  else if (ip.family == 6 && ip.protocol == MCP_IPPKT_PROTO_ICMPV6)
    report = mcp_mld_parse (ip.payload, ip.payload_len, &err);
  else
    g_set_error (&err, MCP_IGMP_ERROR, MCP_IGMP_ERROR_INVALID,
        "carries IP protocol %u, not IGMP or MLD", ip.protocol);
  if (report && report->kind == MCP_IGMP_QUERY) {
    g_set_error (&err, MCP_IGMP_ERROR, MCP_IGMP_ERROR_INVALID,
        "carries a query, not a report");
    g_clear_pointer (&report, mcp_igmp_message_free);
  }
  if (!report) {
    gchar *why = g_strdup_printf ("Membership Update: %s", err->message);

    malformed (self, name, why);
    g_free (why);
    g_error_free (err);
    return;
  }

  GST_OBJECT_LOCK (self);
  max_gateways = self->max_gateways;
  per_host = self->max_gateways_per_host;
  max_groups = self->max_groups;
  max_sources = self->max_sources;
  GST_OBJECT_UNLOCK (self);

  host = host_key (family, addr);
  g_mutex_lock (&self->lock);
  gw = g_hash_table_lookup (self->gateways, name);
  if (!gw && (limit = refusal_locked (self, host, max_gateways, per_host))) {
    self->refused_limit++;
    g_mutex_unlock (&self->lock);
    /* a stranger can send these at will: the log says so once a while */
    if (warn_now (&self->warn_refused, &suppressed))
      GST_WARNING_OBJECT (self, "%s: new gateway refused: %s (%u) reached "
          "(%u more refused since the last warning, logged at INFO)", name,
          limit, g_str_equal (limit, "max-gateways") ? max_gateways :
          per_host, suppressed);
    else
      GST_INFO_OBJECT (self, "%s: new gateway refused: %s reached", name,
          limit);
    g_free (host);
    mcp_igmp_message_free (report);
    return;
  }
  if (!gw) {
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->host_counts,
            host));

    gw = g_new0 (Gateway, 1);
    gw->name = g_strdup (name);
    gw->host = g_strdup (host);
    gw->family = family;
    memcpy (gw->addr, addr, 16);
    gw->port = port;
    gw->peer_id = ++self->next_peer_id;
    gw->sockaddr = g_object_ref (from);
    gw->membership = mcp_amt_membership_new (max_groups, max_sources);
    gw->subs = subs_new (NULL);
    mcp_token_bucket_init (&gw->req_bucket, KNOWN_REQUEST_RATE,
        KNOWN_REQUEST_BURST, now);
    gw->since = now;
    g_hash_table_insert (self->gateways, gw->name, gw);
    g_hash_table_insert (self->host_counts, g_strdup (host),
        GUINT_TO_POINTER (n + 1));
    g_ptr_array_add (self->gw_list, gw);
    GST_INFO_OBJECT (self, "gateway %s added", name);
    gst_mcp_events_push (&self->events, gst_mcp_event_client_added (name));
  }
  g_mutex_unlock (&self->lock);
  gst_mcp_events_flush (&self->events);
  g_free (host);

  /* gw stays: only this thread removes gateways. The report is applied
   * and the gateway's new set made outside the lock, with the limits of
   * now (they may have changed since the gateway came). */
  mcp_amt_membership_set_limits (gw->membership, max_groups, max_sources);
  changed = mcp_amt_membership_apply (gw->membership, report, &refused);
  subs = changed ? subs_new (gw->membership) : NULL;
  g_mutex_lock (&self->lock);
  if (subs) {
    old = gw->subs;
    gw->subs = subs;
  }
  if (refused.groups || refused.sources)
    self->refused_limit++;
  gw->expires = now + timeout;
  gw->nonce = in->nonce;
  self->updates++;
  g_mutex_unlock (&self->lock);
  if (old)
    subs_unref (old);

  if ((refused.groups || refused.sources)
      && warn_now (&self->warn_limits, &suppressed))
    GST_WARNING_OBJECT (self, "%s: Membership Update over the limits: %u "
        "groups refused (max-groups %u), %u sources refused (max-sources "
        "%u) (%u more such Updates since the last warning, logged at INFO)",
        name, refused.groups, max_groups, refused.sources, max_sources,
        suppressed);
  else if (refused.groups || refused.sources)
    GST_INFO_OBJECT (self, "%s: Membership Update over the limits: %u "
        "groups refused (max-groups %u), %u sources refused (max-sources "
        "%u)", name, refused.groups, max_groups, refused.sources, max_sources);
  mcp_igmp_message_free (report);
  arm_expiry (self);
  if (changed)
    subs_changed (self);
}

static void
handle_teardown (GstAmtRelay * self, const gchar * from,
    const McpAmtMessage * in)
{
  guint8 family = in->family, addr[16];
  gchar *name;
  Gateway *gw;
  gboolean ok, stale;

  memcpy (addr, in->address, 16);
  ok = mcp_amt_mac_check (self->key, family, addr, in->port, in->nonce,
      in->mac);
  if (!ok && family == 4) {
    /* mcp_amt_parse reads ::a.b.c.d as IPv4; it may be an IPv6 gateway
     * such as ::1 */
    family = 6;
    memset (addr, 0, 12);
    memcpy (addr + 12, in->address, 4);
    ok = mcp_amt_mac_check (self->key, family, addr, in->port, in->nonce,
        in->mac);
    if (!ok) {
      family = 4;
      memcpy (addr, in->address, 16);
    }
  }
  name = gateway_name (family, addr, in->port);
  if (!ok) {
    GST_INFO_OBJECT (self, "%s: Teardown of %s dropped: its MAC is not "
        "ours for that address, port and nonce", from, name);
    count (self, &self->bad_mac);
    g_free (name);
    return;
  }
  g_mutex_lock (&self->lock);
  gw = g_hash_table_lookup (self->gateways, name);
  /* a Teardown goes with the gateway's last Update: an older one (replayed,
   * or overtaken by a new Request and Update) must not remove what it
   * wants now */
  stale = gw && gw->nonce != in->nonce;
  if (stale) {
    self->bad_mac++;
    gw = NULL;
  } else {
    self->teardowns++;
    if (gw)
      remove_gateway_locked (self, gw, "teardown");
  }
  g_mutex_unlock (&self->lock);
  gst_mcp_events_flush (&self->events);
  if (stale)
    GST_INFO_OBJECT (self, "%s: Teardown of %s dropped: its nonce %08x is "
        "not that of the gateway's last Update", from, name, in->nonce);
  else
    GST_INFO_OBJECT (self, "gateway %s: Teardown (from %s)%s", name, from,
        gw ? ", removed" : ", not known");
  g_free (name);
  if (gw) {
    arm_expiry (self);
    subs_changed (self);
  }
}

static void
handle_message (GstAmtRelay * self, GSocket * socket, GSocketAddress * from,
    const guint8 * data, gsize len)
{
  GInetSocketAddress *isa = G_INET_SOCKET_ADDRESS (from);
  GInetAddress *ia = g_inet_socket_address_get_address (isa);
  guint16 port = g_inet_socket_address_get_port (isa);
  guint8 family, addr[16];
  gchar *name;
  McpAmtMessage msg;
  GError *err = NULL;
  GPtrArray *networks;
  gboolean allowed;

  family = inet_bytes (ia, addr);
  name = gateway_name (family, addr, port);
  GST_OBJECT_LOCK (self);
  networks = self->networks ? g_ptr_array_ref (self->networks) : NULL;
  GST_OBJECT_UNLOCK (self);
  allowed = !networks || mcp_networks_match (networks, ia);
  g_clear_pointer (&networks, g_ptr_array_unref);
  if (!allowed) {
    /* a gateway taken before allow changed stays, as a connection of a
     * TCP listener does */
    g_mutex_lock (&self->lock);
    allowed = g_hash_table_contains (self->gateways, name);
    g_mutex_unlock (&self->lock);
  }
  if (!allowed) {
    GST_INFO_OBJECT (self, "%s: message dropped: not in allow", name);
    count (self, &self->refused_allow);
  } else if (len > CONTROL_MAX) {
    malformed (self, name, "larger than " G_STRINGIFY (CONTROL_MAX)
        " bytes");
  } else if (!mcp_amt_parse (data, len, &msg, &err)) {
    malformed (self, name, err->message);
    g_error_free (err);
  } else if (socket == self->disc_socket && msg.type != MCP_AMT_RELAY_DISCOVERY) {
    malformed (self, name, "only Relay Discovery is answered on "
        "discovery-address");
  } else {
    switch (msg.type) {
      case MCP_AMT_RELAY_DISCOVERY:
        handle_discovery (self, socket, from, name, &msg);
        break;
      case MCP_AMT_REQUEST:
        handle_request (self, from, name, family, addr, port, &msg);
        break;
      case MCP_AMT_MEMBERSHIP_UPDATE:
        handle_update (self, from, name, family, addr, port, &msg);
        break;
      case MCP_AMT_TEARDOWN:
        handle_teardown (self, name, &msg);
        break;
      default:{
        gchar *why = g_strdup_printf ("a relay does not take %s",
            mcp_amt_type_name (msg.type));

        malformed (self, name, why);
        g_free (why);
        break;
      }
    }
  }
  g_free (name);
}

static gboolean
on_readable (GSocket * socket, GIOCondition condition, gpointer user_data)
{
  GstAmtRelay *self = user_data;
  guint i;

  for (i = 0; i < RECV_BURST; i++) {
    GSocketAddress *from = NULL;
    GError *err = NULL;
    gssize n = g_socket_receive_from (socket, &from, (gchar *) self->rbuf,
        CONTROL_MAX + 1, NULL, &err);

    if (n < 0) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        break;
      }
      /* e.g. an ICMP error for a datagram sent to a gateway gone */
      GST_DEBUG_OBJECT (self, "receive: %s", err->message);
      g_error_free (err);
      continue;
    }
    if (from && G_IS_INET_SOCKET_ADDRESS (from))
      handle_message (self, socket, from, self->rbuf, n);
    g_clear_object (&from);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- sockets and state ------------------------------------------------- */

/* Binds with SO_REUSEADDR only: g_socket_bind()'s allow_reuse would add
 * SO_REUSEPORT, which lets another process share the port. */
static gboolean
bind_reusing_address (GSocket * socket, GSocketAddress * sa, GError ** error)
{
  struct sockaddr_storage native;
  gsize len = g_socket_address_get_native_size (sa);

  if (!g_socket_set_option (socket, SOL_SOCKET, SO_REUSEADDR, 1, error)
      || !g_socket_address_to_native (sa, &native, sizeof (native), error))
    return FALSE;
  if (bind (g_socket_get_fd (socket), (struct sockaddr *) &native, len) < 0) {
    gint e = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
        "Error binding to address: %s", g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* reuse: SO_REUSEADDR, so that a wildcard address and discovery-address
 * share the port. */
static GSocket *
open_socket (GstAmtRelay * self, GInetAddress * addr, guint port,
    gboolean reuse, GError ** error)
{
  GSocket *socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  GSocketAddress *sa;
  gboolean ok;

  if (!socket)
    return NULL;
  sa = g_inet_socket_address_new (addr, port);
  ok = reuse ? bind_reusing_address (socket, sa, error) :
      g_socket_bind (socket, sa, FALSE, error);
  g_object_unref (sa);
  if (!ok) {
    g_object_unref (socket);
    return NULL;
  }
  g_socket_set_blocking (socket, FALSE);
  return socket;
}

static void
close_sockets (GstAmtRelay * self)
{
  GPtrArray *networks;

  if (self->socket)
    g_socket_close (self->socket, NULL);
  if (self->disc_socket)
    g_socket_close (self->disc_socket, NULL);
  g_clear_object (&self->socket);
  g_clear_object (&self->disc_socket);
  GST_OBJECT_LOCK (self);
  networks = self->networks;
  self->networks = NULL;
  self->open = FALSE;
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&networks, g_ptr_array_unref);
  g_object_notify (G_OBJECT (self), "current-port");
}

static gboolean
open_sockets (GstAmtRelay * self)
{
  gchar *address, *advertise, *discovery, *allow;
  GPtrArray *networks = NULL;
  GInetAddress *bind_addr = NULL, *adv = NULL, *disc = NULL;
  GSocketAddress *local = NULL;
  GError *err = NULL;
  guint port;
  gboolean ok = FALSE, reuse;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  advertise = g_strdup (self->advertise_address);
  discovery = g_strdup (self->discovery_address);
  allow = g_strdup (self->allow);
  port = self->port;
  GST_OBJECT_UNLOCK (self);

  if (!(bind_addr = mcp_parse_inet_address (address, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid address \"%s\"", address), ("%s", err->message));
    goto done;
  }
  if (advertise && !(adv = mcp_parse_inet_address (advertise, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid advertise-address \"%s\"", advertise), ("%s", err->message));
    goto done;
  }
  if (!adv && g_inet_address_get_is_any (bind_addr)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("address %s is a wildcard, which gateways cannot be told: set "
            "advertise-address", address), (NULL));
    goto done;
  }
  if (discovery && !(disc = mcp_parse_inet_address (discovery, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid discovery-address \"%s\"", discovery), ("%s", err->message));
    goto done;
  }
  if (allow && !(networks = mcp_parse_networks (allow, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid allow \"%s\"", allow), ("%s", err->message));
    goto done;
  }
  if (networks && networks->len == 0)
    g_clear_pointer (&networks, g_ptr_array_unref);
  self->relay_family = inet_bytes (adv ? adv : bind_addr, self->relay_addr);

  /* the kernel takes a wildcard and a specific address on one port only
   * when both sockets allow it; a datagram to discovery-address then goes
   * to its socket, the more specific */
  reuse = disc && g_inet_address_get_is_any (bind_addr);
  if (!(self->socket = open_socket (self, bind_addr, port, reuse, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not bind to %s port %u", address, port), ("%s", err->message));
    goto done;
  }
  self->socket_family = g_socket_get_family (self->socket);
  {
    gint size = SEND_BUFFER;

    /* best effort: the system's limit may be lower */
    g_socket_set_option (self->socket, SOL_SOCKET, SO_SNDBUF, size, NULL);
  }
  local = g_socket_get_local_address (self->socket, &err);
  if (!local) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not read the port bound"), ("%s", err->message));
    goto done;
  }
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  if (disc
      && !(self->disc_socket = open_socket (self, disc, port, reuse, &err))) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
        ("Could not bind to discovery-address %s port %u", discovery, port),
        ("%s", err->message));
    goto done;
  }
  GST_OBJECT_LOCK (self);
  self->current_port = port;
  self->networks = networks;
  networks = NULL;
  self->open = TRUE;
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "current-port");
  ok = TRUE;

done:
  g_clear_pointer (&networks, g_ptr_array_unref);
  g_clear_error (&err);
  g_clear_object (&local);
  g_clear_object (&bind_addr);
  g_clear_object (&adv);
  g_clear_object (&disc);
  g_free (address);
  g_free (advertise);
  g_free (discovery);
  g_free (allow);
  if (!ok)
    close_sockets (self);
  return ok;
}

static GstStateChangeReturn
gst_amt_relay_change_state (GstElement * element, GstStateChange transition)
{
  GstAmtRelay *self = GST_AMT_RELAY (element);
  GstStateChangeReturn ret;

  /* bound now, so that current-port is known in READY; what can fail at
   * start is done here, before the base class's start */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && (!gst_mcp_props_check (element) || !open_sockets (self)))
    return GST_STATE_CHANGE_FAILURE;

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if ((ret == GST_STATE_CHANGE_FAILURE
          && transition == GST_STATE_CHANGE_NULL_TO_READY)
      || transition == GST_STATE_CHANGE_READY_TO_NULL)
    close_sockets (self);
  return ret;
}

static GSource *
attach_socket (GstAmtRelay * self, GSocket * socket)
{
  GSource *source = g_socket_create_source (socket, G_IO_IN, NULL);

  g_source_set_callback (source, (GSourceFunc) on_readable, self, NULL);
  g_source_attach (source, mcp_loop_get_context (self->loop));
  return source;
}

static gboolean
timer_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL };

static gboolean
gst_amt_relay_start (GstBaseSink * bsink)
{
  GstAmtRelay *self = GST_AMT_RELAY (bsink);
  guint64 rotate, interval;
  gint64 now = g_get_monotonic_time ();

  GST_OBJECT_LOCK (self);
  rotate = self->mac_rotate_interval;
  interval = self->stats_interval;
  mcp_token_bucket_init (&self->disc_bucket, self->discovery_rate,
      MAX (self->discovery_rate, 1), now);
  mcp_token_bucket_init (&self->req_bucket, self->request_rate,
      MAX (self->request_rate, 1), now);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->discoveries = self->requests = self->queries = self->updates = 0;
  self->teardowns = self->expired = self->bad_mac = self->malformed = 0;
  self->refused_allow = self->refused_limit = self->refused_rate = 0;
  self->datagrams_in = self->bytes_in = 0;
  self->datagrams_sent = self->bytes_sent = 0;
  self->dropped_no_group = self->dropped_oversize = 0;
  self->dropped_send_error = 0;
  self->subs_live = TRUE;
  g_mutex_unlock (&self->lock);

  self->subs_dirty = FALSE;
  self->last_told = 0;
  memset (&self->warn_refused, 0, sizeof (WarnLimit));
  memset (&self->warn_limits, 0, sizeof (WarnLimit));
  self->rotate_us = MAX (MIN (rotate / GST_USECOND, G_MAXINT64 / 4), 1);
  self->key = mcp_amt_mac_key_new ();
  self->rbuf = g_malloc (CONTROL_MAX + 1);
  self->loop = mcp_loop_new ("amtrelay");
  self->recv_source = attach_socket (self, self->socket);
  if (self->disc_socket)
    self->disc_source = attach_socket (self, self->disc_socket);
  self->expiry_source = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (self->expiry_source, on_expiry, self, NULL);
  g_source_attach (self->expiry_source, mcp_loop_get_context (self->loop));
  self->rotate_source = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (self->rotate_source, on_rotate, self, NULL);
  arm_rotate (self);
  g_source_attach (self->rotate_source, mcp_loop_get_context (self->loop));
  self->notify_source = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (self->notify_source, on_notify, self, NULL);
  g_source_attach (self->notify_source, mcp_loop_get_context (self->loop));

  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_amt_relay_get_stats);
  return TRUE;
}

static void
destroy_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static gboolean
gst_amt_relay_stop (GstBaseSink * bsink)
{
  GstAmtRelay *self = GST_AMT_RELAY (bsink);

  gst_mcp_stats_timer_stop (&self->stats_timer);
  g_mutex_lock (&self->lock);
  self->subs_live = FALSE;
  g_mutex_unlock (&self->lock);
  /* joins the control thread: from here on this thread is alone */
  g_clear_pointer (&self->loop, mcp_loop_free);
  destroy_source (&self->recv_source);
  destroy_source (&self->disc_source);
  destroy_source (&self->expiry_source);
  destroy_source (&self->rotate_source);
  destroy_source (&self->notify_source);
  g_clear_pointer (&self->key, mcp_amt_mac_key_free);
  g_clear_pointer (&self->rbuf, g_free);

  g_mutex_lock (&self->lock);
  while (self->gw_list->len > 0)
    remove_gateway_locked (self, self->gw_list->pdata[0], "stopping");
  g_clear_pointer (&self->subs_told, mcp_sub_set_free);
  self->next_peer_id = 0;
  g_mutex_unlock (&self->lock);
  gst_mcp_events_flush (&self->events);
  return TRUE;
}

static gboolean
gst_amt_relay_unlock (GstBaseSink * bsink)
{
  GstAmtRelay *self = GST_AMT_RELAY (bsink);

  GST_OBJECT_LOCK (self);
  g_cancellable_cancel (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_amt_relay_unlock_stop (GstBaseSink * bsink)
{
  GstAmtRelay *self = GST_AMT_RELAY (bsink);

  GST_OBJECT_LOCK (self);
  mcp_cancellable_free (self->cancellable);
  self->cancellable = mcp_cancellable_new ();
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ---- data (streaming thread) ------------------------------------------- */

/* Sends the n messages prepared in out_msgs, each of len bytes, waiting
 * while the socket is full; a message the kernel refuses is lost, the
 * others go on. They are counted as sent before they go, so that whoever
 * receives one sees it counted; what is not sent is taken back. */
static GstFlowReturn
send_prepared (GstAmtRelay * self, guint n, gsize len)
{
  GOutputMessage *msgs = (GOutputMessage *) self->out_msgs->data;
  GCancellable *cancellable;
  GstFlowReturn ret = GST_FLOW_OK;
  gchar *first_error = NULL;
  guint sent, refused;

  g_mutex_lock (&self->lock);
  self->datagrams_sent += n;
  self->bytes_sent += n * (guint64) len;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  if (!mcp_udp_send_batch (self->socket, msgs, n, cancellable, &sent, NULL,
          &refused, &first_error))
    ret = GST_FLOW_FLUSHING;
  g_object_unref (cancellable);
  if (first_error) {
    GST_DEBUG_OBJECT (self, "send: %u refused, the first: %s", refused,
        first_error);
    g_free (first_error);
  }
  if (sent < n) {
    g_mutex_lock (&self->lock);
    self->datagrams_sent -= n - sent;
    self->bytes_sent -= (n - sent) * (guint64) len;
    self->dropped_send_error += refused;
    g_mutex_unlock (&self->lock);
  }
  return ret;
}

static GstFlowReturn
send_buffer (GstAmtRelay * self, GstBuffer * buffer)
{
  GstMcpMeta *meta = gst_buffer_get_mcp_meta (buffer);
  const McpFrameMeta *info;
  guint8 src[16], hdr[MCP_AMT_DATA_HEADER_LEN + MCP_IPPKT_UDP_HEADERS_MAX];
  GOutputVector vec[2];
  GstMapInfo map;
  gsize size = gst_buffer_get_size (buffer), hl, outer_max;
  guint i, n;
  guint ttl;
  GstFlowReturn ret;

  g_mutex_lock (&self->lock);
  self->datagrams_in++;
  self->bytes_in += size;
  if (!meta || (meta->info.family != 4 && meta->info.family != 6)) {
    self->dropped_no_group++;
    g_mutex_unlock (&self->lock);
    GST_LOG_OBJECT (self, "buffer without a group dropped");
    return GST_FLOW_OK;
  }
  info = &meta->info;
  /* the sender unknown: the packet comes from the relay */
  if (mcp_frame_meta_has_source (info))
    memcpy (src, info->source, 16);
  else if (self->relay_family == info->family)
    memcpy (src, self->relay_addr, 16);
  else
    memset (src, 0, 16);
  g_ptr_array_set_size (self->out_addrs, 0);
  for (i = 0; i < self->gw_list->len; i++) {
    Gateway *gw = self->gw_list->pdata[i];

    if (mcp_sub_set_matches (gw->subs->set, info->family, info->group,
            info->port, src))
      g_ptr_array_add (self->out_addrs, g_object_ref (gw->sockaddr));
  }
  g_mutex_unlock (&self->lock);
  n = self->out_addrs->len;
  if (n == 0)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  ttl = self->ttl;
  GST_OBJECT_UNLOCK (self);
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not map a buffer"),
        (NULL));
    return GST_FLOW_ERROR;
  }
  mcp_amt_write_data_header (hdr);
  hl = mcp_ippkt_write_udp (hdr + MCP_AMT_DATA_HEADER_LEN, info->family, src,
      info->source_port, info->group, info->port, ttl, self->ip_id++,
      map.size, mcp_ippkt_sum (map.data, map.size, 0));
  outer_max = self->socket_family == G_SOCKET_FAMILY_IPV4 ? 65507 : 65527;
  if (hl == 0 || MCP_AMT_DATA_HEADER_LEN + hl + map.size > outer_max) {
    gst_buffer_unmap (buffer, &map);
    g_mutex_lock (&self->lock);
    self->dropped_oversize++;
    g_mutex_unlock (&self->lock);
    GST_DEBUG_OBJECT (self, "datagram of %" G_GSIZE_FORMAT " bytes does "
        "not fit an AMT message", size);
    return GST_FLOW_OK;
  }
  /* one set of vectors for every gateway: the payload is not copied */
  vec[0].buffer = hdr;
  vec[0].size = MCP_AMT_DATA_HEADER_LEN + hl;
  vec[1].buffer = map.data;
  vec[1].size = map.size;
  g_array_set_size (self->out_msgs, n);
  for (i = 0; i < n; i++) {
    GOutputMessage *m = &g_array_index (self->out_msgs, GOutputMessage, i);

    memset (m, 0, sizeof (*m));
    m->address = self->out_addrs->pdata[i];
    m->vectors = vec;
    m->num_vectors = map.size ? 2 : 1;
  }
  ret = send_prepared (self, n, vec[0].size + vec[1].size);
  gst_buffer_unmap (buffer, &map);
  g_ptr_array_set_size (self->out_addrs, 0);
  return ret;
}

static GstFlowReturn
gst_amt_relay_render (GstBaseSink * bsink, GstBuffer * buffer)
{
  return send_buffer (GST_AMT_RELAY (bsink), buffer);
}

static GstFlowReturn
gst_amt_relay_render_list (GstBaseSink * bsink, GstBufferList * list)
{
  GstAmtRelay *self = GST_AMT_RELAY (bsink);
  GstFlowReturn ret = GST_FLOW_OK;
  guint i, n = gst_buffer_list_length (list);

  for (i = 0; i < n && ret == GST_FLOW_OK; i++)
    ret = send_buffer (self, gst_buffer_list_get (list, i));
  return ret;
}

/* ---- statistics -------------------------------------------------------- */

static GstStructure *
gst_amt_relay_get_stats (GstAmtRelay * self)
{
  GstStructure *s;
  GValue list = G_VALUE_INIT;
  GArray *snap;
  gint64 now = g_get_monotonic_time ();
  guint i;

  /* the counters and a snapshot under the lock; the text, which may be
   * long, after */
  g_mutex_lock (&self->lock);
  snap = snapshot_locked (self);
  s = gst_structure_new ("amtrelay-stats",
      "clients", G_TYPE_UINT, self->gw_list->len,
      "gateways", G_TYPE_UINT, self->gw_list->len,
      "discoveries", G_TYPE_UINT64, self->discoveries,
      "requests", G_TYPE_UINT64, self->requests,
      "queries", G_TYPE_UINT64, self->queries,
      "updates", G_TYPE_UINT64, self->updates,
      "teardowns", G_TYPE_UINT64, self->teardowns,
      "expired", G_TYPE_UINT64, self->expired,
      "bad-mac", G_TYPE_UINT64, self->bad_mac,
      "malformed", G_TYPE_UINT64, self->malformed,
      "refused-allow-list", G_TYPE_UINT64, self->refused_allow,
      "refused-limit", G_TYPE_UINT64, self->refused_limit,
      "refused-rate", G_TYPE_UINT64, self->refused_rate,
      "datagrams-in", G_TYPE_UINT64, self->datagrams_in,
      "bytes-in", G_TYPE_UINT64, self->bytes_in,
      "datagrams-sent", G_TYPE_UINT64, self->datagrams_sent,
      "bytes-sent", G_TYPE_UINT64, self->bytes_sent,
      "datagrams-dropped", G_TYPE_UINT64, self->dropped_no_group
      + self->dropped_oversize + self->dropped_send_error,
      "dropped-no-group", G_TYPE_UINT64, self->dropped_no_group,
      "dropped-oversize", G_TYPE_UINT64, self->dropped_oversize,
      "dropped-send-error", G_TYPE_UINT64, self->dropped_send_error, NULL);
  g_mutex_unlock (&self->lock);

  gst_value_array_init (&list, snap->len);
  for (i = 0; i < snap->len; i++) {
    GatewaySnapshot *gw = &g_array_index (snap, GatewaySnapshot, i);
    GValue v = G_VALUE_INIT;
    gchar *addr = addr_to_string (gw->family, gw->addr);
    gchar *subs = mcp_sub_set_to_string (gw->subs->set);

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("gateway",
            "address", G_TYPE_STRING, addr,
            "port", G_TYPE_UINT, (guint) gw->port,
            "groups", G_TYPE_UINT, gw->subs->n_groups,
            "sources", G_TYPE_UINT, gw->subs->n_sources,
            "subscriptions", G_TYPE_STRING, subs,
            "peer-id", G_TYPE_UINT64, gw->peer_id,
            "connect-duration", G_TYPE_UINT64,
            (guint64) (now - gw->since) * GST_USECOND, NULL));
    gst_value_array_append_and_take_value (&list, &v);
    g_free (addr);
    g_free (subs);
  }
  g_array_unref (snap);
  gst_structure_take_value (s, "gateway-list", &list);
  return s;
}
