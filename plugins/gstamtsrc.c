/* mcastproxy — amtsrc
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-amtsrc
 * @title: amtsrc
 *
 * An AMT gateway (Automatic Multicast Tunneling, RFC 7450): receives a
 * multicast group from a network that does not route multicast to us,
 * through the UDP tunnel of an AMT relay, and pushes one buffer per
 * datagram with exactly its payload bytes and the same metadata as
 * mcastsrc-relay (group, port, original sender, sequence number, capture
 * time), so that whatever follows mcastsrc-relay follows it unchanged.
 *
 * At NULL->READY it resolves `relay` (or takes `discovery-address`) and
 * opens a UDP socket of that family on any port (`current-port`). When it
 * streams it sends a Relay Discovery there, then a Request to the relay the
 * Advertisement names; the relay's Membership Query is answered with a
 * Membership Update carrying an IGMPv3 (IPv4 group) or MLDv2 (IPv6 group)
 * report: INCLUDE the `multicast-source` addresses (SSM), or EXCLUDE none
 * (any source); the Update that joins is sent twice more,
 * `retransmit-interval` apart, as IGMPv3 repeats unsolicited reports. It
 * then asks again (Request, Query, Update) before the query interval the
 * relay announced runs out. Discovery and Requests are sent again with
 * backoff (`retransmit-interval`, doubling up to 16 times it); a relay
 * that answers `request-tries` Requests in a row with no Query, or with a
 * Query whose L flag says it is full (no Update then, and the next Request
 * after a backoff), is given up: it is told that we leave, and discovery
 * starts over. When a Query's G fields show the gateway at a new address
 * or port (a NAT rebinding), a Teardown of the old one goes before the
 * Update. At stop it leaves the group (an Update with CHANGE_TO_INCLUDE {},
 * sent twice) and, when the relay gave it the gateway's address, sends a
 * Teardown.
 *
 * Only Multicast Data from the relay's address and port, for the group (and
 * from one of the sources), to `port`, with right IP and UDP checksums,
 * becomes a buffer; everything else is dropped and counted in the
 * statistics, with the reason in the debug log.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 amtsrc relay=amt-relay.example.net address=232.198.38.1 port=5004 multicast-source=198.38.23.145 ! tcpsplitsink port=5100
 * ]| Serves a source-specific group received through an AMT relay to TCP
 * clients.
 * |[
 * gst-launch-1.0 playbin uri='amt://198.38.23.145@232.198.38.1:5004?relay=amt-relay.example.net'
 * ]| Plays it.
 */

#include "config.h"

#include "gstamtsrc.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcpuri.h"

#include <gst/net/gstnetaddressmeta.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "mcp-address.h"
#include "mcp-amt.h"
#include "mcp-dedup.h"
#include "mcp-igmp.h"
#include "mcp-ippkt.h"
#include "mcp-loop.h"
#include "mcp-mcast.h"

GST_DEBUG_CATEGORY_STATIC (amt_src_debug);
#define GST_CAT_DEFAULT amt_src_debug

#define DEFAULT_ADDRESS "239.255.0.1"
#define DEFAULT_PORT 5004
#define DEFAULT_MULTICAST_SOURCE NULL
#define DEFAULT_BUFFER_SIZE (4 * 1024 * 1024)
#define DEFAULT_CAPS NULL
#define DEFAULT_TIMEOUT 0
#define DEFAULT_RELAY NULL
#define DEFAULT_RELAY_PORT MCP_AMT_PORT
#define DEFAULT_DISCOVERY_ADDRESS MCP_AMT_DISCOVERY_ADDRESS
#define DEFAULT_PEER_ID 0
#define DEFAULT_STATS_INTERVAL 0
#define DEFAULT_RETRANSMIT_INTERVAL GST_SECOND
#define MIN_RETRANSMIT_INTERVAL GST_MSECOND
#define MAX_RETRANSMIT_INTERVAL (60 * GST_SECOND)
#define DEFAULT_REQUEST_TRIES 3

/* Backoff: the delay doubles up to this many times retransmit-interval. */
#define MAX_BACKOFF 16
/* A Query without a QQI (an older version's): RFC 3376's default, s. */
#define DEFAULT_QQI 125
/* Messages taken from the socket in one call. */
#define BATCH 32
/* Any UDP payload fits. */
#define SLOT_SIZE 65536
/* A join Update is sent this many more times, retransmit-interval apart
 * (RFC 3376 8.1's robustness for unsolicited reports): one lost datagram
 * would otherwise cost the data until the next refresh. */
#define UPDATE_REPEATS 2
/* The leave at stop is sent this many more times, at once: stop does not
 * wait. */
#define LEAVE_REPEATS 1

enum
{
  PROP_0,
  PROP_ADDRESS,
  PROP_PORT,
  PROP_MULTICAST_SOURCE,
  PROP_CAPS,
  PROP_TIMEOUT,
  PROP_BUFFER_SIZE,
  PROP_RELAY,
  PROP_RELAY_PORT,
  PROP_DISCOVERY_ADDRESS,
  PROP_CURRENT_PORT,
  PROP_PEER_ID,
  PROP_STATS_INTERVAL,
  PROP_RETRANSMIT_INTERVAL,
  PROP_REQUEST_TRIES,
};

enum
{
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

typedef enum
{
  STATE_STOPPED,
  STATE_DISCOVERING,
  STATE_REQUESTING,
  STATE_JOINED,
} AmtState;

static const gchar *const state_names[] = {
  "stopped", "discovering", "requesting", "joined"
};

/* A Multicast Data message that passed the checks: where its payload lies
 * in its slot, and who sent it. */
typedef struct
{
  const guint8 *payload;
  gsize len;
  guint8 src[16];
  guint16 src_port;
  guint16 dst_port;
} Accepted;

struct _GstAmtSrc
{
  GstPushSrc parent;

  /* properties, under the object lock */
  gchar *address;
  guint port;
  gchar *multicast_source;
  GstCaps *caps;
  guint64 timeout;
  gint buffer_size;
  gchar *relay;
  guint relay_port;
  gchar *discovery_address;
  guint current_port;
  guint64 peer_id;
  guint64 stats_interval;
  guint64 retransmit_interval;
  guint request_tries;
  gboolean restart_silence;     /* at start and after a flush */

  /* From NULL->READY to READY->NULL; used by the streaming thread, and by
   * start/stop while it does not run. */
  GSocket *socket;
  guint8 tunnel_family;         /* 4 or 6 */
  GSocketAddress *discovery_target;     /* relay or discovery-address */
  guint8 discovery_addr[16];
  guint16 tunnel_port;          /* relay-port */
  GInetAddress *group;
  guint8 group_family;          /* 4 or 6 */
  guint8 group_bytes[16];
  GPtrArray *sources;           /* GInetAddress; empty: any source */
  guint8 *source_bytes;         /* 16 bytes per source */
  guint n_sources;
  guint16 want_port;            /* 0: any */
  GCancellable *cancellable;    /* under the object lock */

  /* the protocol, the streaming thread's own (and stop's) */
  AmtState state;
  guint32 discovery_nonce;
  guint32 request_nonce;
  gboolean request_pending;     /* a Request awaits its Query */
  guint tries;                  /* of the Discovery or Request pending */
  guint refusals;               /* Queries with L (relay full) in a row */
  guint update_repeats;         /* of the join Update, still to send */
  GstClockTime next_update;     /* monotonic: the next of them */
  GstClockTime next_send;       /* monotonic: retransmission */
  GstClockTime delay;           /* the backoff's current step */
  GstClockTime next_refresh;    /* monotonic: the next Request when joined */
  GSocketAddress *relay_target; /* the advertised relay, relay-port */
  guint8 relay_addr[16];
  guint8 local_addr[16];        /* the IP source of our reports */
  gboolean have_mac;            /* mac, g_flag... of a Query: joined once */
  guint64 mac;
  guint32 mac_nonce;            /* the nonce the MAC goes with */
  gboolean g_flag;
  guint8 gateway_family;
  guint8 gateway_addr[16];
  guint16 gateway_port;
  guint64 retransmit;           /* retransmit-interval, as of start */
  guint max_tries;
  gboolean unanswered_told;     /* the user was told: no Advertisement */
  gchar *last_error;            /* of the socket (e.g. an ICMP refusal) */

  /* the streaming thread's data path */
  McpDatagram slots[BATCH];
  guint8 *slot_memory;
  Accepted accepted[BATCH];
  GSocketAddress *last_sender;  /* reused while the sender stays the same */
  guint8 last_sender_addr[16];
  guint16 last_sender_port;
  guint64 origin_id;
  guint64 seq_base;
  gint64 max_datagrams;         /* num-buffers at start; -1: no limit */
  GstClockTime last_activity;   /* monotonic: last datagram, or start */
  gboolean timeout_posted;
  GstMcpStatsTimer stats_timer;

  /* statistics, under the object lock */
  AmtState stat_state;
  gchar *stat_relay;            /* "address:port", "" before discovery */
  guint64 discoveries;
  guint64 requests;
  guint64 queries;
  guint64 updates;
  guint64 rediscoveries;
  guint64 teardowns;
  guint64 relay_full;
  guint64 datagrams;
  guint64 bytes;
  guint64 dropped_malformed;
  guint64 dropped_foreign;
  guint64 timeouts;
  guint64 query_interval;       /* ns, of the last Query */
  gint buffer_size_granted;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_amt_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstAmtSrc, gst_amt_src, GST_TYPE_PUSH_SRC,
    G_IMPLEMENT_INTERFACE (GST_TYPE_URI_HANDLER, gst_mcp_uri_amt_src_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (amtsrc, "amtsrc", GST_RANK_NONE,
    GST_TYPE_AMT_SRC, GST_DEBUG_CATEGORY_INIT (amt_src_debug, "amtsrc", 0,
        "mcastproxy AMT gateway source"));

static void gst_amt_src_finalize (GObject * object);
static void gst_amt_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_amt_src_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_amt_src_change_state (GstElement * element,
    GstStateChange transition);
static gboolean gst_amt_src_start (GstBaseSrc * bsrc);
static gboolean gst_amt_src_stop (GstBaseSrc * bsrc);
static gboolean gst_amt_src_unlock (GstBaseSrc * bsrc);
static gboolean gst_amt_src_unlock_stop (GstBaseSrc * bsrc);
static GstCaps *gst_amt_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter);
static GstFlowReturn gst_amt_src_create (GstPushSrc * psrc, GstBuffer ** buf);
static GstStructure *gst_amt_src_get_stats (GstAmtSrc * self);

static void
gst_amt_src_class_init (GstAmtSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_amt_src_set_property;
  gobject_class->get_property = gst_amt_src_get_property;
  gobject_class->finalize = gst_amt_src_finalize;

  g_object_class_install_property (gobject_class, PROP_ADDRESS,
      g_param_spec_string ("address", "Address",
          "Multicast group to receive (numeric IPv4 or IPv6)",
          DEFAULT_ADDRESS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PORT,
      gst_mcp_param_spec_uint ("port", "Port",
          "UDP destination port of the datagrams to output; others are "
          "dropped (0: any port)", 0, G_MAXUINT16, DEFAULT_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MULTICAST_SOURCE,
      g_param_spec_string ("multicast-source", "Multicast sources",
          "Comma-separated sources for a source-specific join (empty: any "
          "source)", DEFAULT_MULTICAST_SOURCE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CAPS,
      g_param_spec_boxed ("caps", "Caps", "Caps of the datagrams",
          GST_TYPE_CAPS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint64 ("timeout", "Timeout",
          "Post a mcastproxy-timeout element message when no datagram "
          "came for this long, once per silence (ns; 0 or "
          "GST_CLOCK_TIME_NONE: never)", 0,
          G_MAXUINT64, DEFAULT_TIMEOUT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BUFFER_SIZE,
      gst_mcp_param_spec_int ("buffer-size", "Buffer size",
          "Socket receive buffer in bytes (0: the system default)", 0,
          G_MAXINT, DEFAULT_BUFFER_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_RELAY,
      g_param_spec_string ("relay", "Relay",
          "Host name or address of the AMT relay to discover (empty: "
          "discovery-address)", DEFAULT_RELAY,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_RELAY_PORT,
      gst_mcp_param_spec_uint ("relay-port", "Relay port",
          "UDP port of the relay", 1, G_MAXUINT16, DEFAULT_RELAY_PORT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_DISCOVERY_ADDRESS,
      g_param_spec_string ("discovery-address", "Discovery address",
          "Where Relay Discovery goes when relay is empty (the AMT "
          "anycast address)", DEFAULT_DISCOVERY_ADDRESS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_CURRENT_PORT,
      g_param_spec_uint ("current-port", "Current port",
          "The local UDP port of the tunnel (readable from READY)", 0,
          G_MAXUINT16, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_PEER_ID,
      g_param_spec_uint64 ("peer-id", "Peer id",
          "Origin id given to the datagrams received here (0: random)", 0,
          G_MAXUINT64, DEFAULT_PEER_ID,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Post the statistics as an element message this often (ns; 0: "
          "never)", 0, G_MAXUINT64, DEFAULT_STATS_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_RETRANSMIT_INTERVAL,
      gst_mcp_param_spec_uint64 ("retransmit-interval", "Retransmit "
          "interval", "Time before an unanswered Relay Discovery or Request "
          "is sent again; it doubles with each try, up to 16 times this; "
          "also the spacing of the join Update's repeats (ns)",
          MIN_RETRANSMIT_INTERVAL, MAX_RETRANSMIT_INTERVAL,
          DEFAULT_RETRANSMIT_INTERVAL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_REQUEST_TRIES,
      gst_mcp_param_spec_uint ("request-tries", "Request tries",
          "Requests sent without a Membership Query in answer, or refused "
          "by a full relay (L flag), before the relay is given up and "
          "discovery starts over", 1, 100, DEFAULT_REQUEST_TRIES,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  /**
   * GstAmtSrc::get-stats:
   *
   * Returns an "amtsrc-stats" structure.
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_amt_src_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "AMT gateway source", "Source/Network",
      "Receives a multicast group through an AMT relay (RFC 7450) and "
      "pushes one buffer per datagram", "mcastproxy developers");

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_amt_src_change_state);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_amt_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_amt_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_amt_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_amt_src_unlock_stop);
  basesrc_class->get_caps = GST_DEBUG_FUNCPTR (gst_amt_src_get_caps);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_amt_src_create);
}

static void
gst_amt_src_init (GstAmtSrc * self)
{
  self->address = g_strdup (DEFAULT_ADDRESS);
  self->port = DEFAULT_PORT;
  self->multicast_source = g_strdup (DEFAULT_MULTICAST_SOURCE);
  self->caps = DEFAULT_CAPS;
  self->timeout = DEFAULT_TIMEOUT;
  self->buffer_size = DEFAULT_BUFFER_SIZE;
  self->relay = g_strdup (DEFAULT_RELAY);
  self->relay_port = DEFAULT_RELAY_PORT;
  self->discovery_address = g_strdup (DEFAULT_DISCOVERY_ADDRESS);
  self->peer_id = DEFAULT_PEER_ID;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->retransmit_interval = DEFAULT_RETRANSMIT_INTERVAL;
  self->request_tries = DEFAULT_REQUEST_TRIES;
  self->cancellable = mcp_cancellable_new ();
  self->stat_relay = g_strdup ("");

  gst_base_src_set_live (GST_BASE_SRC (self), TRUE);
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_TIME);
}

static void
gst_amt_src_finalize (GObject * object)
{
  GstAmtSrc *self = GST_AMT_SRC (object);

  g_free (self->address);
  g_free (self->multicast_source);
  g_free (self->relay);
  g_free (self->discovery_address);
  g_free (self->stat_relay);
  gst_clear_caps (&self->caps);
  g_clear_pointer (&self->cancellable, mcp_cancellable_free);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_amt_src_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstAmtSrc *self = GST_AMT_SRC (object);

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
    case PROP_MULTICAST_SOURCE:
      g_free (self->multicast_source);
      self->multicast_source = g_value_dup_string (value);
      break;
    case PROP_CAPS:
      gst_caps_replace (&self->caps, (GstCaps *) gst_value_get_caps (value));
      break;
    case PROP_TIMEOUT:
      self->timeout = g_value_get_uint64 (value);
      break;
    case PROP_BUFFER_SIZE:
      self->buffer_size = g_value_get_int (value);
      break;
    case PROP_RELAY:
      g_free (self->relay);
      self->relay = g_value_dup_string (value);
      break;
    case PROP_RELAY_PORT:
      self->relay_port = g_value_get_uint (value);
      break;
    case PROP_DISCOVERY_ADDRESS:
      g_free (self->discovery_address);
      self->discovery_address = g_value_dup_string (value);
      break;
    case PROP_PEER_ID:
      self->peer_id = g_value_get_uint64 (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint64 (value);
      break;
    case PROP_RETRANSMIT_INTERVAL:
      self->retransmit_interval = g_value_get_uint64 (value);
      break;
    case PROP_REQUEST_TRIES:
      self->request_tries = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_amt_src_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstAmtSrc *self = GST_AMT_SRC (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_MULTICAST_SOURCE:
      g_value_set_string (value, self->multicast_source);
      break;
    case PROP_CAPS:
      gst_value_set_caps (value, self->caps);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint64 (value, self->timeout);
      break;
    case PROP_BUFFER_SIZE:
      g_value_set_int (value, self->buffer_size);
      break;
    case PROP_RELAY:
      g_value_set_string (value, self->relay);
      break;
    case PROP_RELAY_PORT:
      g_value_set_uint (value, self->relay_port);
      break;
    case PROP_DISCOVERY_ADDRESS:
      g_value_set_string (value, self->discovery_address);
      break;
    case PROP_CURRENT_PORT:
      g_value_set_uint (value, self->current_port);
      break;
    case PROP_PEER_ID:
      g_value_set_uint64 (value, self->peer_id);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, self->stats_interval);
      break;
    case PROP_RETRANSMIT_INTERVAL:
      g_value_set_uint64 (value, self->retransmit_interval);
      break;
    case PROP_REQUEST_TRIES:
      g_value_set_uint (value, self->request_tries);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- helpers ----------------------------------------------------------- */

static GstClockTime
monotonic_now (void)
{
  return g_get_monotonic_time () * GST_USECOND;
}

static guint32
random_nonce (void)
{
  guint32 nonce;

  if (getrandom (&nonce, sizeof (nonce), GRND_NONBLOCK) != sizeof (nonce))
    nonce = g_random_int ();
  return nonce;
}

static guint8
family_of (GInetAddress * a)
{
  return g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV6 ? 6 : 4;
}

static gsize
family_len (guint8 family)
{
  return family == 6 ? 16 : 4;
}

static GSocketAddress *
socket_address (guint8 family, const guint8 * addr, guint16 port)
{
  GInetAddress *a = g_inet_address_new_from_bytes (addr, family == 6 ?
      G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (a, port);

  g_object_unref (a);
  return sa;
}

/* Publishes the state for get-stats. */
static void
set_state (GstAmtSrc * self, AmtState state)
{
  if (self->state != state)
    GST_INFO_OBJECT (self, "%s -> %s", state_names[self->state],
        state_names[state]);
  self->state = state;
  GST_OBJECT_LOCK (self);
  self->stat_state = state;
  GST_OBJECT_UNLOCK (self);
}

typedef enum
{
  DROP_MALFORMED,
  DROP_FOREIGN,
} DropKind;

static void
count_drop (GstAmtSrc * self, DropKind kind)
{
  GST_OBJECT_LOCK (self);
  if (kind == DROP_MALFORMED)
    self->dropped_malformed++;
  else
    self->dropped_foreign++;
  GST_OBJECT_UNLOCK (self);
}

/* ---- state ------------------------------------------------------------- */

static void
close_socket (GstAmtSrc * self)
{
  if (self->socket) {
    g_socket_close (self->socket, NULL);
    g_clear_object (&self->socket);
  }
  g_clear_object (&self->discovery_target);
  g_clear_object (&self->group);
  g_clear_pointer (&self->sources, g_ptr_array_unref);
  g_clear_pointer (&self->source_bytes, g_free);
  self->n_sources = 0;
  GST_OBJECT_LOCK (self);
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);
}

/* The first address of host (a name or a numeric address). GStreamer
 * holds the state lock through NULL->READY, so nothing cancels the
 * lookup today; it takes the element's cancellable all the same, as every
 * blocking call here does. */
static GInetAddress *
resolve (GstAmtSrc * self, const gchar * host, GError ** error)
{
  GInetAddress *a = g_inet_address_new_from_string (host);
  GCancellable *cancellable;
  GResolver *resolver;
  GList *list;

  if (a)
    return a;
  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  resolver = g_resolver_get_default ();
  list = g_resolver_lookup_by_name (resolver, host, cancellable, error);
  g_object_unref (resolver);
  g_object_unref (cancellable);
  if (!list)
    return NULL;
  a = g_object_ref (list->data);
  g_resolver_free_addresses (list);
  return a;
}

static gboolean
open_socket (GstAmtSrc * self)
{
  GError *err = NULL;
  gchar *address, *sources, *relay, *discovery;
  GInetAddress *group = NULL, *target = NULL, *any = NULL;
  GSocketAddress *bind_addr = NULL;
  GPtrArray *source_list = NULL;
  const gchar *host;
  gboolean ok = FALSE;
  guint port, relay_port, i;
  gint buffer_size, granted;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  sources = g_strdup (self->multicast_source);
  relay = g_strdup (self->relay);
  discovery = g_strdup (self->discovery_address);
  port = self->port;
  relay_port = self->relay_port;
  buffer_size = self->buffer_size;
  GST_OBJECT_UNLOCK (self);

  group = mcp_parse_group (address, &err);
  if (!group) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid multicast address: %s", err->message), (NULL));
    goto done;
  }
  source_list = mcp_parse_sources (sources, g_inet_address_get_family (group),
      &err);
  if (!source_list) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid multicast-source: %s", err->message), (NULL));
    goto done;
  }
  host = relay && *relay ? relay : discovery;
  if (!host || !*host) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("No relay: set relay or discovery-address"), (NULL));
    goto done;
  }
  target = resolve (self, host, &err);
  if (!target) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Could not resolve the AMT relay \"%s\": %s", host, err->message),
        (NULL));
    goto done;
  }

  self->socket = g_socket_new (g_inet_address_get_family (target),
      G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
  if (self->socket) {
    any = g_inet_address_new_any (g_inet_address_get_family (target));
    bind_addr = g_inet_socket_address_new (any, 0);
    if (!g_socket_bind (self->socket, bind_addr, FALSE, &err))
      g_clear_object (&self->socket);
  }
  if (!self->socket) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not open a UDP socket for the AMT tunnel: %s", err->message),
        (NULL));
    goto done;
  }
  g_socket_set_blocking (self->socket, FALSE);
  granted = buffer_size > 0 ?
      mcp_socket_set_buffer_size (self->socket, TRUE, buffer_size) : 0;
  if (buffer_size > 0 && granted < buffer_size)
    GST_WARNING_OBJECT (self, "asked for a %d-byte receive buffer, the "
        "kernel granted %d (see net.core.rmem_max)", buffer_size, granted);

  self->tunnel_family = family_of (target);
  self->tunnel_port = relay_port;
  memset (self->discovery_addr, 0, 16);
  memcpy (self->discovery_addr, g_inet_address_to_bytes (target),
      family_len (self->tunnel_family));
  self->discovery_target = g_inet_socket_address_new (target, relay_port);
  self->group = g_object_ref (group);
  self->group_family = family_of (group);
  memset (self->group_bytes, 0, 16);
  memcpy (self->group_bytes, g_inet_address_to_bytes (group),
      family_len (self->group_family));
  self->sources = g_ptr_array_ref (source_list);
  self->n_sources = source_list->len;
  self->source_bytes = g_malloc0 (16 * MAX (1, source_list->len));
  for (i = 0; i < source_list->len; i++)
    memcpy (self->source_bytes + 16 * i,
        g_inet_address_to_bytes (g_ptr_array_index (source_list, i)),
        family_len (self->group_family));
  self->want_port = port;

  GST_OBJECT_LOCK (self);
  self->current_port = mcp_socket_get_local_port (self->socket);
  self->buffer_size_granted = granted;
  GST_OBJECT_UNLOCK (self);
  g_object_notify (G_OBJECT (self), "current-port");
  if (GST_LEVEL_INFO <= gst_debug_category_get_threshold (GST_CAT_DEFAULT)) {
    gchar *text = g_inet_address_to_string (target);

    GST_INFO_OBJECT (self, "AMT tunnel on port %u, relay %s (%s) port %u",
        self->current_port, host, text, relay_port);
    g_free (text);
  }
  ok = TRUE;

done:
  if (!ok)
    close_socket (self);
  g_clear_error (&err);
  g_clear_object (&group);
  g_clear_object (&target);
  g_clear_object (&any);
  g_clear_object (&bind_addr);
  g_clear_pointer (&source_list, g_ptr_array_unref);
  g_free (address);
  g_free (sources);
  g_free (relay);
  g_free (discovery);
  return ok;
}

static GstStateChangeReturn
gst_amt_src_change_state (GstElement * element, GstStateChange transition)
{
  GstAmtSrc *self = GST_AMT_SRC (element);
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

/* ---- sending ----------------------------------------------------------- */

static void
send_message (GstAmtSrc * self, GSocketAddress * to, const McpAmtMessage * m)
{
  GBytes *bytes = mcp_amt_build (m);
  GError *err = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  if (g_socket_send_to (self->socket, to, (const gchar *) data, len, NULL,
          &err) < 0) {
    /* sent again at the next retransmission or refresh */
    GST_INFO_OBJECT (self, "could not send %s: %s",
        mcp_amt_type_name (m->type), err->message);
    g_error_free (err);
  } else {
    GST_DEBUG_OBJECT (self, "sent %s (nonce %08x)",
        mcp_amt_type_name (m->type), m->nonce);
  }
  g_bytes_unref (bytes);
}

static void
send_discovery (GstAmtSrc * self)
{
  McpAmtMessage m = { 0 };

  m.type = MCP_AMT_RELAY_DISCOVERY;
  m.nonce = self->discovery_nonce;
  /* counted first: whoever gets it may look at once */
  GST_OBJECT_LOCK (self);
  self->discoveries++;
  GST_OBJECT_UNLOCK (self);
  send_message (self, self->discovery_target, &m);
}

static void
send_request (GstAmtSrc * self)
{
  McpAmtMessage m = { 0 };

  m.type = MCP_AMT_REQUEST;
  m.nonce = self->request_nonce;
  m.p_flag = self->group_family == 6;
  /* counted first: whoever gets it may look at once */
  GST_OBJECT_LOCK (self);
  self->requests++;
  GST_OBJECT_UNLOCK (self);
  send_message (self, self->relay_target, &m);
}

/* The Membership Update for the current MAC and nonce, joining (the group
 * from the sources, or from any source) or leaving. */
static void
send_update (GstAmtSrc * self, gboolean join)
{
  static const guint8 igmpv3_routers[16] = { 224, 0, 0, 22 };
  static const guint8 mldv2_routers[16] = { 0xff, 0x02,[15] = 0x16 };
  GArray *records = g_array_new (FALSE, FALSE, sizeof (McpIgmpRecord));
  McpIgmpRecord r;
  McpAmtMessage m = { 0 };
  GBytes *report, *pkt = NULL;
  GError *err = NULL;
  guint8 src[16] = { 0 };
  GSocketFamily family = self->group_family == 6 ? G_SOCKET_FAMILY_IPV6 :
      G_SOCKET_FAMILY_IPV4;

  r.group = self->group;
  if (join && self->sources->len) {
    r.type = MCP_IGMP_MODE_IS_INCLUDE;
    r.sources = self->sources;
  } else {
    r.type = join ? MCP_IGMP_MODE_IS_EXCLUDE : MCP_IGMP_CHANGE_TO_INCLUDE;
    r.sources = g_ptr_array_new ();
  }
  g_array_append_val (records, r);
  report = mcp_igmp_build_report (family, records, &err);
  if (r.sources != self->sources)
    g_ptr_array_unref (r.sources);
  g_array_unref (records);
  if (!report) {
    GST_WARNING_OBJECT (self, "could not build the report: %s", err->message);
    g_error_free (err);
    return;
  }
  /* our tunnel address; unspecified when the group is of the other family
   * (RFC 3376 and RFC 3810 allow that source in reports) */
  if (self->group_family == self->tunnel_family)
    memcpy (src, self->local_addr, 16);
  pkt = mcp_ippkt_wrap_membership (self->group_family, src,
      self->group_family == 6 ? mldv2_routers : igmpv3_routers,
      g_bytes_get_data (report, NULL), g_bytes_get_size (report));
  g_bytes_unref (report);
  if (!pkt)
    return;
  m.type = MCP_AMT_MEMBERSHIP_UPDATE;
  m.mac = self->mac;
  m.nonce = self->mac_nonce;
  m.inner = g_bytes_get_data (pkt, &m.inner_len);
  /* counted first: whoever gets it may look at once */
  GST_OBJECT_LOCK (self);
  self->updates++;
  GST_OBJECT_UNLOCK (self);
  send_message (self, self->relay_target, &m);
  g_bytes_unref (pkt);
}

static void
send_teardown (GstAmtSrc * self)
{
  McpAmtMessage m = { 0 };

  m.type = MCP_AMT_TEARDOWN;
  m.mac = self->mac;
  m.nonce = self->mac_nonce;
  m.family = self->gateway_family;
  memcpy (m.address, self->gateway_addr, 16);
  m.port = self->gateway_port;
  /* counted first: whoever gets it may look at once */
  GST_OBJECT_LOCK (self);
  self->teardowns++;
  GST_OBJECT_UNLOCK (self);
  send_message (self, self->relay_target, &m);
}

/* ---- the protocol ------------------------------------------------------ */

static GstClockTime
next_delay (GstAmtSrc * self)
{
  GstClockTime d = self->delay;

  self->delay = MIN (self->delay * 2, self->retransmit * MAX_BACKOFF);
  return d;
}

/* Discovery from when on (monotonic). A relay joined is told first that
 * we leave, so that it stops sending what we would drop as foreign. */
static void
start_discovery (GstAmtSrc * self, GstClockTime when)
{
  if (self->have_mac && self->relay_target) {
    GST_INFO_OBJECT (self, "leaving the group at the relay given up%s",
        self->g_flag ? ", tearing down" : "");
    send_update (self, FALSE);
    if (self->g_flag)
      send_teardown (self);
  }
  self->discovery_nonce = random_nonce ();
  self->tries = 0;
  self->refusals = 0;
  self->update_repeats = 0;
  self->delay = self->retransmit;
  self->next_send = when;
  self->request_pending = FALSE;
  self->have_mac = FALSE;
  self->g_flag = FALSE;
  g_clear_object (&self->relay_target);
  set_state (self, STATE_DISCOVERING);
}

/* A new round of Requests from when on (monotonic): at start of a relay,
 * to refresh, or after the relay was full. */
static void
start_request (GstAmtSrc * self, GstClockTime when)
{
  self->request_nonce = random_nonce ();
  self->request_pending = TRUE;
  self->tries = 0;
  self->delay = self->retransmit;
  self->next_send = when;
}

static void
count_rediscovery (GstAmtSrc * self)
{
  GST_OBJECT_LOCK (self);
  self->rediscoveries++;
  GST_OBJECT_UNLOCK (self);
}

/* A Query with L: the relay takes no more gateways and would drop our
 * Updates, so none goes. A new Request after a backoff; after
 * request-tries refusals in a row, discovery again (another relay may
 * answer the anycast address), after one more backoff step. */
static void
refused_relay_full (GstAmtSrc * self, GstClockTime now)
{
  GstClockTime wait;

  self->refusals++;
  wait = MIN (self->retransmit << MIN (self->refusals, 4),
      self->retransmit * MAX_BACKOFF);
  if (self->refusals >= self->max_tries) {
    GST_WARNING_OBJECT (self, "the relay is full (L flag) after %u "
        "Requests: discovering again in %" GST_TIME_FORMAT, self->refusals,
        GST_TIME_ARGS (wait));
    count_rediscovery (self);
    start_discovery (self, now + wait);
    return;
  }
  GST_INFO_OBJECT (self, "the relay is full (L flag): a new Request in %"
      GST_TIME_FORMAT, GST_TIME_ARGS (wait));
  start_request (self, now + wait);
}

/* The repeats of a join Update; returns when to come back (monotonic). */
static GstClockTime
run_repeats (GstAmtSrc * self, GstClockTime now)
{
  if (!self->update_repeats || self->state != STATE_JOINED || !self->have_mac)
    return GST_CLOCK_TIME_NONE;
  if (now >= self->next_update) {
    GST_DEBUG_OBJECT (self, "repeating the join Update");
    send_update (self, TRUE);
    self->update_repeats--;
    self->next_update = now + self->retransmit;
    if (!self->update_repeats)
      return GST_CLOCK_TIME_NONE;
  }
  return self->next_update;
}

/* Discovery goes unanswered: a wrong relay or port, a relay that is down,
 * or a firewall. The user is told once, until an Advertisement comes;
 * discovery goes on. */
static void
tell_unanswered (GstAmtSrc * self)
{
  gchar *to = mcp_socket_address_to_string (self->discovery_target);

  self->unanswered_told = TRUE;
  GST_ELEMENT_WARNING (self, RESOURCE, READ, ("No answer from the AMT "
          "relay %s to %u Relay Discovery messages%s%s; still trying", to,
          self->tries, self->last_error ? ": " : "",
          self->last_error ? self->last_error : ""), (NULL));
  g_free (to);
}

/* Discovery and Requests: sends what is due; returns when to come back
 * (monotonic). */
static GstClockTime
run_exchange (GstAmtSrc * self, GstClockTime now)
{
  if (self->state == STATE_DISCOVERING) {
    if (now >= self->next_send) {
      if (self->tries >= self->max_tries && !self->unanswered_told)
        tell_unanswered (self);
      send_discovery (self);
      self->tries++;
      self->next_send = now + next_delay (self);
    }
    return self->next_send;
  }
  if (!self->request_pending && now >= self->next_refresh)
    start_request (self, now);
  if (!self->request_pending)
    return self->next_refresh;
  if (now >= self->next_send) {
    if (self->tries >= self->max_tries) {
      GST_WARNING_OBJECT (self, "no Membership Query after %u Requests: "
          "the relay went silent, discovering again", self->tries);
      count_rediscovery (self);
      start_discovery (self, now);
      return run_exchange (self, now);
    }
    send_request (self);
    self->tries++;
    self->next_send = now + next_delay (self);
  }
  return self->next_send;
}

/* Sends what is due; returns when to come back (monotonic). */
static GstClockTime
run_protocol (GstAmtSrc * self, GstClockTime now)
{
  GstClockTime next = run_exchange (self, now);

  return MIN (next, run_repeats (self, now));
}

/* Posts the timeout message for the silence that began at last_activity.
 * Returns when to come back (monotonic), GST_CLOCK_TIME_NONE for never. */
static GstClockTime
run_silence (GstAmtSrc * self, GstClockTime now)
{
  guint64 timeout;
  gboolean restart;

  GST_OBJECT_LOCK (self);
  timeout = self->timeout;
  restart = self->restart_silence;
  self->restart_silence = FALSE;
  GST_OBJECT_UNLOCK (self);

  if (restart) {
    self->last_activity = now;
    self->timeout_posted = FALSE;
  }
  /* a timeout past the clock's end (GST_CLOCK_TIME_NONE, say) is never */
  if (timeout == 0 || self->timeout_posted
      || timeout > G_MAXUINT64 - 1 - self->last_activity)
    return GST_CLOCK_TIME_NONE;
  if (now - self->last_activity < timeout)
    return self->last_activity + timeout;
  GST_OBJECT_LOCK (self);
  self->timeouts++;
  GST_OBJECT_UNLOCK (self);
  self->timeout_posted = TRUE;
  GST_WARNING_OBJECT (self, "no datagram for %" GST_TIME_FORMAT
      " (timeout): still waiting", GST_TIME_ARGS (now - self->last_activity));
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mcastproxy-timeout", "timeout", G_TYPE_UINT64,
              timeout, NULL)));
  return GST_CLOCK_TIME_NONE;
}

/* Whether sa is address addr (of the tunnel's family) and port. */
static gboolean
from_is (GstAmtSrc * self, const struct sockaddr_storage *sa,
    const guint8 * addr, guint16 port)
{
  const guint8 *a;
  guint8 family;
  guint16 p;

  return mcp_sockaddr_ip (sa, &family, &a, &p) && family == self->tunnel_family
      && p == port && memcmp (a, addr, family_len (family)) == 0;
}

/* Our address toward the relay, for the IP source of our reports: the
 * kernel's choice of route, found by connecting a socket that sends
 * nothing. */
static void
learn_local_address (GstAmtSrc * self)
{
  GSocket *probe = g_socket_new (self->tunnel_family == 6 ?
      G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GSocketAddress *local = NULL;

  memset (self->local_addr, 0, 16);
  if (probe && g_socket_connect (probe, self->relay_target, NULL, NULL))
    local = g_socket_get_local_address (probe, NULL);
  if (local && G_IS_INET_SOCKET_ADDRESS (local)) {
    GInetAddress *a =
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));

    memcpy (self->local_addr, g_inet_address_to_bytes (a),
        family_len (self->tunnel_family));
  }
  g_clear_object (&local);
  g_clear_object (&probe);
}

static void
handle_advertisement (GstAmtSrc * self, const McpAmtMessage * m,
    const McpDatagram * d, GstClockTime now)
{
  gchar *relay;

  if (self->state != STATE_DISCOVERING || m->nonce != self->discovery_nonce) {
    GST_DEBUG_OBJECT (self, "dropped a Relay Advertisement: %s",
        self->state != STATE_DISCOVERING ? "not discovering" : "wrong nonce");
    count_drop (self, DROP_FOREIGN);
    return;
  }
  if (!from_is (self, &d->from, self->discovery_addr, self->tunnel_port)) {
    GST_DEBUG_OBJECT (self, "dropped a Relay Advertisement: not from where "
        "the Discovery went");
    count_drop (self, DROP_FOREIGN);
    return;
  }
  if (m->family != self->tunnel_family) {
    GST_DEBUG_OBJECT (self, "dropped a Relay Advertisement: a relay address "
        "of the other family");
    count_drop (self, DROP_MALFORMED);
    return;
  }
  memset (self->relay_addr, 0, 16);
  memcpy (self->relay_addr, m->address, family_len (m->family));
  g_clear_object (&self->relay_target);
  self->relay_target = socket_address (m->family, m->address,
      self->tunnel_port);
  learn_local_address (self);
  relay = mcp_socket_address_to_string (self->relay_target);
  GST_INFO_OBJECT (self, "relay %s", relay);
  GST_OBJECT_LOCK (self);
  g_free (self->stat_relay);
  self->stat_relay = relay;
  GST_OBJECT_UNLOCK (self);
  if (self->unanswered_told)
    GST_ELEMENT_INFO (self, RESOURCE, READ, ("The AMT relay answered: %s",
            relay), (NULL));
  self->unanswered_told = FALSE;
  g_clear_pointer (&self->last_error, g_free);
  set_state (self, STATE_REQUESTING);
  start_request (self, now);
}

/* The QQI (s) of the IGMPv3 or MLDv2 query a Membership Query carries;
 * 0 when it is not a query of the group's family. */
static gboolean
parse_inner_query (GstAmtSrc * self, const McpAmtMessage * m, guint * qqi)
{
  McpIpPacket ip;
  McpIgmpMessage *q = NULL;
  GError *err = NULL;

  if (!mcp_ippkt_parse (m->inner, m->inner_len, &ip, &err))
    goto bad;
  if (ip.family != self->group_family) {
    GST_DEBUG_OBJECT (self, "dropped a Membership Query: an IPv%u query for "
        "an IPv%u group", ip.family, self->group_family);
    return FALSE;
  }
  if (ip.family == 4 && ip.protocol == MCP_IPPKT_PROTO_IGMP)
    q = mcp_igmp_parse (ip.payload, ip.payload_len, &err);
  else if (ip.family == 6 && ip.protocol == MCP_IPPKT_PROTO_ICMPV6)
    q = mcp_mld_parse (ip.payload, ip.payload_len, &err);
  else
    g_set_error (&err, MCP_IPPKT_ERROR, MCP_IPPKT_ERROR_UNSUPPORTED,
        "protocol %u", ip.protocol);
  if (!q)
    goto bad;
  if (q->kind != MCP_IGMP_QUERY) {
    GST_DEBUG_OBJECT (self, "dropped a Membership Query: it carries no "
        "query");
    mcp_igmp_message_free (q);
    return FALSE;
  }
  *qqi = q->qqi ? q->qqi : DEFAULT_QQI;
  mcp_igmp_message_free (q);
  return TRUE;

bad:
  GST_DEBUG_OBJECT (self, "dropped a Membership Query: %s", err->message);
  g_error_free (err);
  return FALSE;
}

static void
handle_query (GstAmtSrc * self, const McpAmtMessage * m,
    const McpDatagram * d, GstClockTime now)
{
  guint qqi = 0;
  GstClockTime interval;
  gboolean rebound, changes;

  if (!self->relay_target
      || !from_is (self, &d->from, self->relay_addr, self->tunnel_port)) {
    GST_DEBUG_OBJECT (self, "dropped a Membership Query: not from the "
        "relay");
    count_drop (self, DROP_FOREIGN);
    return;
  }
  if (!self->request_pending || m->nonce != self->request_nonce) {
    GST_DEBUG_OBJECT (self, "dropped a Membership Query: %s",
        self->request_pending ? "wrong nonce" : "no Request pending");
    count_drop (self, DROP_FOREIGN);
    return;
  }
  if (!parse_inner_query (self, m, &qqi)) {
    count_drop (self, DROP_MALFORMED);
    return;
  }
  interval = qqi * GST_SECOND;
  GST_OBJECT_LOCK (self);
  self->queries++;
  if (m->l_flag)
    self->relay_full++;
  self->query_interval = interval;
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "Membership Query: MAC %012" G_GINT64_MODIFIER
      "x, query interval %u s%s%s", m->mac, qqi, m->g_flag ? ", G" : "",
      m->l_flag ? ", L" : "");
  if (m->l_flag) {
    refused_relay_full (self, now);
    return;
  }
  /* the relay sees us at another address or port (a NAT rebinding): the
   * state it keeps for the old one goes (RFC 7450 5.2.3.7) */
  rebound = self->have_mac && self->g_flag && m->g_flag
      && (m->family != self->gateway_family || m->port != self->gateway_port
      || memcmp (m->address, self->gateway_addr, 16) != 0);
  if (rebound) {
    GST_INFO_OBJECT (self, "the relay sees the gateway at a new address: "
        "tearing down the old one");
    send_teardown (self);
  }
  /* the relay learns something new from this Update: it is repeated */
  changes = self->state != STATE_JOINED || self->refusals > 0 || rebound;
  self->refusals = 0;
  self->have_mac = TRUE;
  self->mac = m->mac;
  self->mac_nonce = m->nonce;
  self->g_flag = m->g_flag;
  self->gateway_family = m->family;
  memcpy (self->gateway_addr, m->address, 16);
  self->gateway_port = m->port;
  self->request_pending = FALSE;
  /* the next Request in time for its Query to come before the relay's
   * membership state, which lasts about a query interval, runs out */
  self->next_refresh = now + interval * 3 / 4;
  set_state (self, STATE_JOINED);
  send_update (self, TRUE);
  if (changes) {
    self->update_repeats = UPDATE_REPEATS;
    self->next_update = now + self->retransmit;
  }
}

/* Checks a Multicast Data message; a datagram to output goes to *out. */
static gboolean
accept_data (GstAmtSrc * self, const McpAmtMessage * m,
    const McpDatagram * d, Accepted * out)
{
  McpIpPacket ip;
  GError *err = NULL;
  guint16 sport, dport;
  gsize alen = family_len (self->group_family);
  guint i;

  if (!self->relay_target
      || !from_is (self, &d->from, self->relay_addr, self->tunnel_port)) {
    GST_DEBUG_OBJECT (self, "dropped Multicast Data: not from the relay");
    count_drop (self, DROP_FOREIGN);
    return FALSE;
  }
  if (!mcp_ippkt_parse (m->inner, m->inner_len, &ip, &err))
    goto malformed;
  if (ip.family != self->group_family
      || memcmp (ip.dst, self->group_bytes, alen) != 0) {
    GST_DEBUG_OBJECT (self, "dropped Multicast Data: for another group");
    count_drop (self, DROP_FOREIGN);
    return FALSE;
  }
  if (self->n_sources) {
    for (i = 0; i < self->n_sources; i++)
      if (memcmp (ip.src, self->source_bytes + 16 * i, alen) == 0)
        break;
    if (i == self->n_sources) {
      GST_DEBUG_OBJECT (self, "dropped Multicast Data: from another source");
      count_drop (self, DROP_FOREIGN);
      return FALSE;
    }
  }
  if (!mcp_ippkt_udp (&ip, &sport, &dport, &out->payload, &out->len, &err))
    goto malformed;
  if (self->want_port && dport != self->want_port) {
    GST_DEBUG_OBJECT (self, "dropped Multicast Data: to port %u", dport);
    count_drop (self, DROP_FOREIGN);
    return FALSE;
  }
  memcpy (out->src, ip.src, 16);
  out->src_port = sport;
  out->dst_port = dport;
  return TRUE;

malformed:
  GST_DEBUG_OBJECT (self, "dropped Multicast Data: %s", err->message);
  g_error_free (err);
  count_drop (self, DROP_MALFORMED);
  return FALSE;
}

/* One message from the socket: the protocol's, or data (TRUE, in *out). */
static gboolean
handle_message (GstAmtSrc * self, const McpDatagram * d, Accepted * out,
    GstClockTime now)
{
  McpAmtMessage m;
  GError *err = NULL;

  if (d->truncated) {
    GST_DEBUG_OBJECT (self, "dropped a message larger than %u bytes",
        SLOT_SIZE);
    count_drop (self, DROP_MALFORMED);
    return FALSE;
  }
  if (!mcp_amt_parse (d->data, d->len, &m, &err)) {
    GST_DEBUG_OBJECT (self, "dropped a message: %s", err->message);
    g_error_free (err);
    count_drop (self, DROP_MALFORMED);
    return FALSE;
  }
  switch (m.type) {
    case MCP_AMT_MULTICAST_DATA:
      return accept_data (self, &m, d, out);
    case MCP_AMT_RELAY_ADVERTISEMENT:
      handle_advertisement (self, &m, d, now);
      return FALSE;
    case MCP_AMT_MEMBERSHIP_QUERY:
      handle_query (self, &m, d, now);
      return FALSE;
    default:
      GST_DEBUG_OBJECT (self, "dropped a %s: not for a gateway",
          mcp_amt_type_name (m.type));
      count_drop (self, DROP_MALFORMED);
      return FALSE;
  }
}

/* ---- start and stop ---------------------------------------------------- */

static gboolean
gst_amt_src_start (GstBaseSrc * bsrc)
{
  GstAmtSrc *self = GST_AMT_SRC (bsrc);
  guint64 peer_id, interval;
  guint i;

  GST_OBJECT_LOCK (self);
  peer_id = self->peer_id;
  interval = self->stats_interval;
  self->retransmit = self->retransmit_interval;
  self->max_tries = self->request_tries;
  self->max_datagrams = GST_BASE_SRC (self)->num_buffers;
  self->discoveries = self->requests = self->queries = self->updates = 0;
  self->rediscoveries = self->teardowns = self->datagrams = self->bytes = 0;
  self->relay_full = 0;
  self->dropped_malformed = self->dropped_foreign = self->timeouts = 0;
  self->unanswered_told = FALSE;
  g_clear_pointer (&self->last_error, g_free);
  self->query_interval = 0;
  g_free (self->stat_relay);
  self->stat_relay = g_strdup ("");
  self->restart_silence = TRUE;
  GST_OBJECT_UNLOCK (self);

  self->have_mac = FALSE;
  self->g_flag = FALSE;
  self->state = STATE_STOPPED;
  start_discovery (self, 0);
  self->seq_base = mcp_seq_new_epoch ();
  self->origin_id = peer_id ? peer_id :
      ((guint64) g_random_int () << 32 | g_random_int ());
  self->slot_memory = g_malloc (BATCH * SLOT_SIZE);
  for (i = 0; i < BATCH; i++) {
    self->slots[i].data = self->slot_memory + i * SLOT_SIZE;
    self->slots[i].capacity = SLOT_SIZE;
  }
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_amt_src_get_stats);
  return TRUE;
}

/* The streaming thread has ended: leave the group. */
static gboolean
gst_amt_src_stop (GstBaseSrc * bsrc)
{
  GstAmtSrc *self = GST_AMT_SRC (bsrc);
  guint i;

  gst_mcp_stats_timer_stop (&self->stats_timer);
  if (self->have_mac && self->relay_target) {
    GST_INFO_OBJECT (self, "leaving the group%s", self->g_flag ?
        ", tearing down" : "");
    for (i = 0; i <= LEAVE_REPEATS; i++)
      send_update (self, FALSE);
    if (self->g_flag)
      send_teardown (self);
  }
  self->have_mac = FALSE;
  self->update_repeats = 0;
  self->request_pending = FALSE;
  g_clear_object (&self->relay_target);
  set_state (self, STATE_STOPPED);
  g_clear_pointer (&self->slot_memory, g_free);
  g_clear_object (&self->last_sender);
  g_clear_pointer (&self->last_error, g_free);
  return TRUE;
}

static gboolean
gst_amt_src_unlock (GstBaseSrc * bsrc)
{
  GstAmtSrc *self = GST_AMT_SRC (bsrc);

  GST_OBJECT_LOCK (self);
  g_cancellable_cancel (self->cancellable);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_amt_src_unlock_stop (GstBaseSrc * bsrc)
{
  GstAmtSrc *self = GST_AMT_SRC (bsrc);

  GST_OBJECT_LOCK (self);
  mcp_cancellable_free (self->cancellable);
  self->cancellable = mcp_cancellable_new ();
  /* a pause or flush is not a silence upstream */
  self->restart_silence = TRUE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static GstCaps *
gst_amt_src_get_caps (GstBaseSrc * bsrc, GstCaps * filter)
{
  GstAmtSrc *self = GST_AMT_SRC (bsrc);
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

typedef enum
{
  WAIT_READABLE,
  WAIT_TIMER,
  WAIT_CANCELLED,
  WAIT_ERROR,
} WaitResult;

/* Waits until the socket is readable, deadline (monotonic) passes, or
 * the wait is cancelled. */
static WaitResult
wait_readable (GstAmtSrc * self, GCancellable * cancellable,
    GstClockTime deadline, GError ** error)
{
  GPollFD fds[2] = { {0} };
  gint n = 1, r, timeout_ms = -1;
  gboolean cancel_fd;
  GstClockTime now = monotonic_now ();

  if (GST_CLOCK_TIME_IS_VALID (deadline) && deadline > now)
    timeout_ms = MIN ((deadline - now - 1) / GST_MSECOND + 1, G_MAXINT);
  else if (GST_CLOCK_TIME_IS_VALID (deadline))
    timeout_ms = 0;
  fds[0].fd = g_socket_get_fd (self->socket);
  fds[0].events = G_IO_IN;
  cancel_fd = g_cancellable_make_pollfd (cancellable, &fds[1]);
  if (cancel_fd)
    n++;
  r = g_poll (fds, n, timeout_ms);
  if (cancel_fd)
    g_cancellable_release_fd (cancellable);
  if (g_cancellable_is_cancelled (cancellable))
    return WAIT_CANCELLED;
  if (r < 0) {
    gint err = errno;

    if (err == EINTR)
      return WAIT_TIMER;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "poll: %s",
        g_strerror (err));
    return WAIT_ERROR;
  }
  return r > 0 && fds[0].revents ? WAIT_READABLE : WAIT_TIMER;
}

/* Runs the protocol until datagrams come: up to max of them, in
 * self->accepted. Returns how many, or -1 with *ret set. */
static gint
receive (GstAmtSrc * self, gint max, GstFlowReturn * ret)
{
  GCancellable *cancellable;
  GError *err = NULL;
  gint n = 0, got, i;

  GST_OBJECT_LOCK (self);
  cancellable = g_object_ref (self->cancellable);
  GST_OBJECT_UNLOCK (self);

  while (n == 0) {
    GstClockTime now = monotonic_now (), next;
    WaitResult w;

    /* here too, not only in the wait: a flood of messages to drop keeps
     * the socket readable, and the wait skipped */
    if (g_cancellable_is_cancelled (cancellable)) {
      *ret = GST_FLOW_FLUSHING;
      n = -1;
      break;
    }
    next = MIN (run_protocol (self, now), run_silence (self, now));
    got = mcp_udp_receive_batch (self->socket, self->slots, max, &err);
    if (got < 0) {
      /* an ICMP error of an earlier send (the relay's port closed): the
       * protocol's timers deal with a relay that is gone */
      GST_INFO_OBJECT (self, "%s", err->message);
      g_free (self->last_error);
      self->last_error = g_strdup (err->message);
      g_clear_error (&err);
      got = 0;
    }
    now = monotonic_now ();
    for (i = 0; i < got; i++)
      if (handle_message (self, &self->slots[i], &self->accepted[n], now))
        n++;
    if (n > 0 || got > 0)
      continue;
    w = wait_readable (self, cancellable, next, &err);
    if (w == WAIT_CANCELLED) {
      *ret = GST_FLOW_FLUSHING;
      n = -1;
    } else if (w == WAIT_ERROR) {
      GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Waiting for the AMT tunnel "
              "failed"), ("%s", err->message));
      g_clear_error (&err);
      *ret = GST_FLOW_ERROR;
      n = -1;
    }
  }
  g_object_unref (cancellable);
  return n;
}

static GSocketAddress *
sender_address (GstAmtSrc * self, const Accepted * a)
{
  if (self->last_sender && a->src_port == self->last_sender_port
      && memcmp (a->src, self->last_sender_addr, 16) == 0)
    return self->last_sender;
  g_clear_object (&self->last_sender);
  self->last_sender = socket_address (self->group_family, a->src, a->src_port);
  memcpy (self->last_sender_addr, a->src, 16);
  self->last_sender_port = a->src_port;
  return self->last_sender;
}

static GstFlowReturn
gst_amt_src_create (GstPushSrc * psrc, GstBuffer ** buf)
{
  GstAmtSrc *self = GST_AMT_SRC (psrc);
  GstFlowReturn ret = GST_FLOW_OK;
  GstBufferList *list = NULL;
  McpFrameMeta info;
  GstClockTime pts;
  guint64 bytes = 0, first_seq;
  gint n, i, max = BATCH;

  /* num-buffers counts datagrams, not the lists they go out in */
  if (self->max_datagrams >= 0) {
    GST_OBJECT_LOCK (self);
    max = MIN (max, self->max_datagrams - (gint64) self->datagrams);
    GST_OBJECT_UNLOCK (self);
    if (max <= 0)
      return GST_FLOW_EOS;
  }
  n = receive (self, max, &ret);
  if (n < 0)
    return ret;

  if (self->timeout_posted)
    GST_INFO_OBJECT (self, "datagrams again after %" GST_TIME_FORMAT
        " of silence", GST_TIME_ARGS (monotonic_now () - self->last_activity));
  self->last_activity = monotonic_now ();
  self->timeout_posted = FALSE;

  pts = gst_mcp_running_time_now (GST_ELEMENT (self));
  memset (&info, 0, sizeof (info));
  info.origin_id = self->origin_id;
  info.capture_time = g_get_real_time () * 1000;
  info.family = self->group_family;
  memcpy (info.group, self->group_bytes, sizeof (info.group));

  GST_OBJECT_LOCK (self);
  first_seq = self->seq_base + self->datagrams;
  self->datagrams += n;
  GST_OBJECT_UNLOCK (self);

  if (n > 1)
    list = gst_buffer_list_new_sized (n);
  for (i = 0; i < n; i++) {
    const Accepted *a = &self->accepted[i];
    GstBuffer *b = gst_mcp_buffer_new_datagram (a->payload, a->len);

    GST_BUFFER_PTS (b) = pts;
    gst_buffer_add_net_address_meta (b, sender_address (self, a));
    info.seq = first_seq + i;
    info.port = a->dst_port;
    memcpy (info.source, a->src, sizeof (info.source));
    info.source_port = a->src_port;
    gst_buffer_add_mcp_meta (b, &info);
    bytes += a->len;
    if (list) {
      gst_buffer_list_add (list, b);
    } else {
      *buf = b;
    }
  }
  GST_OBJECT_LOCK (self);
  self->bytes += bytes;
  GST_OBJECT_UNLOCK (self);

  if (list) {
    gst_base_src_submit_buffer_list (GST_BASE_SRC (self), list);
    *buf = NULL;
  }
  return GST_FLOW_OK;
}

static GstStructure *
gst_amt_src_get_stats (GstAmtSrc * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("amtsrc-stats",
      "state", G_TYPE_STRING, state_names[self->stat_state],
      "relay", G_TYPE_STRING, self->stat_relay,
      "discoveries", G_TYPE_UINT64, self->discoveries,
      "requests", G_TYPE_UINT64, self->requests,
      "queries", G_TYPE_UINT64, self->queries,
      "updates", G_TYPE_UINT64, self->updates,
      "rediscoveries", G_TYPE_UINT64, self->rediscoveries,
      "teardowns", G_TYPE_UINT64, self->teardowns,
      "relay-full", G_TYPE_UINT64, self->relay_full,
      "query-interval-duration", G_TYPE_UINT64, self->query_interval,
      "datagrams-received", G_TYPE_UINT64, self->datagrams,
      "bytes-received", G_TYPE_UINT64, self->bytes,
      "datagrams-dropped", G_TYPE_UINT64,
      self->dropped_malformed + self->dropped_foreign,
      "dropped-malformed", G_TYPE_UINT64, self->dropped_malformed,
      "dropped-foreign", G_TYPE_UINT64, self->dropped_foreign,
      "timeouts", G_TYPE_UINT64, self->timeouts,
      "buffer-size", G_TYPE_INT, self->buffer_size_granted, NULL);
  GST_OBJECT_UNLOCK (self);
  return s;
}
