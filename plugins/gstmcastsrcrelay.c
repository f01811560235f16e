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
 * With `scope` instead of `address` and `port`, one element captures many
 * (group, port) pairs, on demand: the single groups of the scope are
 * pinned (joined from NULL->READY on), and a group inside one of its
 * prefixes is joined while the elements downstream subscribe to it (the
 * "mcastproxy-subscriptions" query at start and upstream event, see
 * gstmcpsubs.h), and left as soon as they no longer do. Each pair has a
 * socket of its own, bound as above; one streaming thread polls them all.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mcastsrc-relay address=239.1.1.1 port=5004 multicast-iface=eth0 ! tcpsplitsink port=5100
 * ]| Serves a group to TCP clients.
 * |[
 * gst-launch-1.0 mcastsrc-relay scope="239.1.1.1:5000 239.10.0.0/16:5004" peer-id=1 ! tcpsplitsink mode=caller host=hub.example.net port=5400 peer-id=1
 * ]| An island gateway's capture: 239.1.1.1:5000 always, the groups of
 * 239.10.0.0/16 on port 5004 while the hub subscribes to them.
 */

#include "config.h"

#include "gstmcastsrcrelay.h"
#include "gstmcpevents.h"
#include "gstmcpuri.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcpsubs.h"

#include <gst/net/gstnetaddressmeta.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

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
#define DEFAULT_SCOPE NULL
#define DEFAULT_MAX_GROUPS 1024

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
  PROP_SCOPE,
  PROP_MAX_GROUPS,
};

enum
{
  SIGNAL_GET_STATS,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

/* One (group, port) captured: its socket and the sources it joined. Shared
 * by the set (under capture_lock) and the streaming thread's poll list, so
 * that a capture left while the thread reads it stays valid (its socket
 * open: no fd of it is reused) until the thread lets go. */
typedef struct
{
  gint refcount;
  GSocket *socket;
  GInetAddress *group;
  guint16 port;
  gchar *key;                   /* "GROUP PORT" */
  McpFrameMeta where;           /* family, group and port for the meta */
  GPtrArray *sources;           /* GInetAddress; empty: any source */
  gboolean pinned;              /* address, or a single group of scope */
  gboolean ready;               /* streaming thread: may have datagrams */
} Capture;

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

  gchar *scope_text;
  gboolean address_set;         /* address was given (not with scope) */
  guint max_groups;

  /* The captures, from NULL->READY to READY->NULL, under capture_lock
   * (taken before the object lock, never the other way round), with the
   * membership table, which is not thread-safe. */
  GMutex capture_lock;
  McpSubSet *scope;             /* NULL: address and port */
  McpSubSet *scope_prefixes;    /* what subscriptions may add */
  GPtrArray *ifnames;           /* multicast-iface, names */
  gint buffer_size_asked;
  GPtrArray *captures;          /* Capture, pinned ones first */
  GHashTable *capture_index;    /* key -> Capture */
  guint n_pinned;
  guint captures_gen;           /* changes with the set */
  gboolean subs_running;        /* from start to stop: events apply */
  gint wake_fd;                 /* eventfd: the set changed */

  /* the streaming thread's own */
  GPtrArray *polled;            /* Capture refs, as of polled_gen */
  guint polled_gen;
  guint next_first;             /* round robin over the captures */
  GPollFD *pollfds;
  guint n_pollfds;              /* room in pollfds */
  Capture *slot_capture[BATCH];

  GArray *ignore;               /* McpSourceFilter, from ignore-sources */
  GCancellable *cancellable;    /* under the object lock */
  McpDatagram slots[BATCH];
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

  /* joins and leaves, told by the table under capture_lock, posted once
   * it is released */
  GstMcpEvents events;

  /* statistics, under the object lock */
  guint64 datagrams;
  guint64 bytes;
  guint64 truncated;
  guint64 ignored;
  guint64 timeouts;
  guint64 rejoins;
  guint64 rejoin_failures;
  guint64 joins;
  guint64 leaves;
  guint64 joins_over_limit;
  guint64 join_failures;
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
static gboolean gst_mcast_src_relay_event (GstBaseSrc * bsrc, GstEvent * event);
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
  g_object_class_install_property (gobject_class, PROP_SCOPE,
      g_param_spec_string ("scope", "Scope",
          "Groups and ports to capture instead of address and port, "
          "space-separated: single groups are always joined, groups of a "
          "prefix while downstream subscribes to them (e.g. "
          "\"239.1.1.1:5000 239.10.0.0/16:5004 10.0.0.1@232.1.1.1:5000-5010\"; "
          "empty: address and port)", DEFAULT_SCOPE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_MAX_GROUPS,
      gst_mcp_param_spec_uint ("max-groups", "Max groups",
          "With scope: at most this many (group, port) pairs joined at "
          "once; what is wanted beyond is left out with a warning", 1,
          G_MAXUINT, DEFAULT_MAX_GROUPS,
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
  basesrc_class->event = GST_DEBUG_FUNCPTR (gst_mcast_src_relay_event);
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
  self->scope_text = g_strdup (DEFAULT_SCOPE);
  self->max_groups = DEFAULT_MAX_GROUPS;
  self->cancellable = mcp_cancellable_new ();
  g_mutex_init (&self->capture_lock);
  self->wake_fd = -1;
  gst_mcp_events_init (&self->events, GST_ELEMENT (self));

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
  g_free (self->scope_text);
  gst_clear_caps (&self->caps);
  g_clear_pointer (&self->cancellable, mcp_cancellable_free);
  g_mutex_clear (&self->capture_lock);
  gst_mcp_events_clear (&self->events);
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
      self->address_set = self->address != NULL;
      break;
    case PROP_SCOPE:
      g_free (self->scope_text);
      self->scope_text = g_value_dup_string (value);
      break;
    case PROP_MAX_GROUPS:
      self->max_groups = g_value_get_uint (value);
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
    case PROP_SCOPE:
      g_value_set_string (value, self->scope_text);
      break;
    case PROP_MAX_GROUPS:
      g_value_set_uint (value, self->max_groups);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- memberships ------------------------------------------------------- */

static GstClockTime
monotonic_now (void)
{
  return g_get_monotonic_time () * GST_USECOND;
}

static void
log_membership (GLogLevelFlags level, const gchar * message, gpointer data)
{
  GstMcastSrcRelay *self = data;

  if (level & G_LOG_LEVEL_WARNING)
    GST_WARNING_OBJECT (self, "%s", message);
  else
    GST_INFO_OBJECT (self, "%s", message);
}

static McpMembership *
table (GstMcastSrcRelay * self)
{
  return mcp_membership_driver_get_table (self->membership);
}

/* Adds the re-joins done since the last call to the statistics. Under
 * capture_lock. */
static void
count_rejoins (GstMcastSrcRelay * self)
{
  guint64 rejoins, failures;

  mcp_membership_take_counts (table (self), &rejoins, &failures);
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
  g_mutex_lock (&self->capture_lock);
  mcp_membership_driver_dispatch (self->membership);
  count_rejoins (self);
  g_mutex_unlock (&self->capture_lock);
  gst_mcp_events_flush (&self->events);
}

/* ---- captures ---------------------------------------------------------- */

static Capture *
capture_ref (Capture * c)
{
  g_atomic_int_inc (&c->refcount);
  return c;
}

static void
capture_unref (Capture * c)
{
  if (!g_atomic_int_dec_and_test (&c->refcount))
    return;
  /* the last reference: nobody polls the socket any more */
  g_socket_close (c->socket, NULL);
  g_object_unref (c->socket);
  g_object_unref (c->group);
  g_ptr_array_unref (c->sources);
  g_free (c->key);
  g_free (c);
}

static gchar *
capture_key (GInetAddress * group, guint port)
{
  gchar *ip = g_inet_address_to_string (group);
  gchar *key = g_strdup_printf ("%s %u", ip, port);

  g_free (ip);
  return key;
}

static gboolean
has_source (GPtrArray * sources, GInetAddress * a)
{
  guint i;

  for (i = 0; i < sources->len; i++)
    if (g_inet_address_equal (g_ptr_array_index (sources, i), a))
      return TRUE;
  return FALSE;
}

/* sources as "S,S" ("" for any source) */
static gchar *
sources_to_string (GPtrArray * sources)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < sources->len; i++) {
    gchar *ip = g_inet_address_to_string (g_ptr_array_index (sources, i));

    g_string_append_printf (s, "%s%s", i ? "," : "", ip);
    g_free (ip);
  }
  return g_string_free (s, FALSE);
}

/* Opens a socket for group:port (0: an ephemeral port) and joins it on
 * every interface from every source (none: any source). Under
 * capture_lock, or before anyone else sees the element's captures. */
static Capture *
capture_open (GstMcastSrcRelay * self, GInetAddress * group, guint port,
    GPtrArray * sources, gboolean pinned, GError ** error)
{
  McpMcastReceiverConfig cfg = { 0 };
  GSocket *socket;
  Capture *c;
  gint granted = 0;
  gchar *where, *srcs;

  cfg.group = group;
  cfg.port = port;
  cfg.buffer_size = self->buffer_size_asked;
  socket = mcp_mcast_open_receiver (&cfg, &granted, error);
  if (!socket)
    return NULL;
  if (!mcp_membership_join_each (table (self), socket, group, self->ifnames,
          sources, error)) {
    g_socket_close (socket, NULL);
    g_object_unref (socket);
    return NULL;
  }
  if (cfg.buffer_size > 0 && granted < cfg.buffer_size)
    GST_WARNING_OBJECT (self, "asked for a %d-byte receive buffer, the "
        "kernel granted %d (see net.core.rmem_max)", cfg.buffer_size, granted);
  GST_OBJECT_LOCK (self);
  self->buffer_size_granted = granted;
  GST_OBJECT_UNLOCK (self);

  c = g_new0 (Capture, 1);
  c->refcount = 1;
  c->socket = socket;
  c->group = g_object_ref (group);
  c->port = mcp_socket_get_local_port (socket);
  c->key = capture_key (group, c->port);
  gst_mcp_meta_set_group (&c->where, group, c->port);
  c->sources = g_ptr_array_new_with_free_func (g_object_unref);
  if (sources)
    g_ptr_array_extend (c->sources, sources, (GCopyFunc) g_object_ref, NULL);
  c->pinned = pinned;
  c->ready = TRUE;

  where = mcp_membership_where (table (self), socket, group,
      self->ifnames->len ? g_ptr_array_index (self->ifnames, 0) : NULL);
  srcs = sources_to_string (c->sources);
  GST_INFO_OBJECT (self, "joined %s on %s%s%s%s%s", c->key, where,
      self->ifnames->len > 1 ? " and others" : "", *srcs ? " from " : "",
      srcs, pinned ? " (pinned)" : "");
  g_free (srcs);
  g_free (where);
  return c;
}

/* Adds c to the set (which takes c's reference). Under capture_lock. */
static void
capture_add (GstMcastSrcRelay * self, Capture * c)
{
  g_ptr_array_add (self->captures, c);
  g_hash_table_insert (self->capture_index, c->key, c);
  if (c->pinned)
    self->n_pinned++;
}

/* Leaves what c joined (leave) for why and takes it out of the set (index
 * i). Under capture_lock. */
static void
capture_drop (GstMcastSrcRelay * self, guint i, gboolean leave,
    const gchar * why)
{
  Capture *c = g_ptr_array_index (self->captures, i);

  GST_INFO_OBJECT (self, "leaving %s: %s", c->key, why);
  if (leave)
    mcp_membership_leave_each (table (self), c->socket, c->group,
        self->ifnames, c->sources, monotonic_now (), why);
  g_hash_table_remove (self->capture_index, c->key);
  if (c->pinned)
    self->n_pinned--;
  g_ptr_array_remove_index (self->captures, i);
}

/* The streaming thread polls the set anew. Under capture_lock. */
static void
captures_changed (GstMcastSrcRelay * self)
{
  guint64 one = 1;

  self->captures_gen++;
  if (self->wake_fd >= 0 && write (self->wake_fd, &one, sizeof (one)) < 0
      && errno != EAGAIN)
    GST_WARNING_OBJECT (self, "wake-up: %s", g_strerror (errno));
}

/* ---- subscriptions ----------------------------------------------------- */

/* One (group, port) that subscriptions ask for now. */
typedef struct
{
  gchar *key;
  GInetAddress *group;
  guint16 port;
  gboolean any;                 /* some subscriber takes any source */
  GPtrArray *sources;           /* INCLUDE: the union of the sources */
  gboolean done;
} Want;

static void
want_free (Want * w)
{
  g_free (w->key);
  g_object_unref (w->group);
  g_ptr_array_unref (w->sources);
  g_free (w);
}

typedef struct
{
  GHashTable *wants;            /* key -> Want */
  GHashTable *by_group;         /* group text -> GPtrArray of Want */
  GPtrArray *order;             /* Want, carried ones first */
  guint total;                  /* pairs joined if all wants are */
  guint limit;                  /* max-groups */
  guint64 left_out;             /* wanted beyond the limit */
} Wanted;

static GInetAddress *
entry_address (guint8 family, const guint8 * bytes)
{
  return g_inet_address_new_from_bytes (bytes, family == 4 ?
      G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
}

/* Adds what entry r (one group) asks of group:port to w. */
static void
want_merge (Want * w, const McpSubEntry * r)
{
  guint i;

  if (r->mode != MCP_SUB_INCLUDE) {
    /* EXCLUDE too: any-source, the excluded ones come all the same */
    w->any = TRUE;
    return;
  }
  for (i = 0; i < r->n_sources; i++) {
    GInetAddress *a = entry_address (r->family, r->sources[i]);

    if (!has_source (w->sources, a))
      g_ptr_array_add (w->sources, g_object_ref (a));
    g_object_unref (a);
  }
}

/* The Want for group:port, made when there is room for one more. NULL
 * when the pair is pinned (carried anyway), or left out. */
static Want *
want_get (GstMcastSrcRelay * self, Wanted * wd, GInetAddress * group,
    const gchar * group_text, guint16 port)
{
  gchar *key = g_strdup_printf ("%s %u", group_text, port);
  Capture *c = g_hash_table_lookup (self->capture_index, key);
  Want *w = g_hash_table_lookup (wd->wants, key);
  GPtrArray *list;

  if (w || (c && c->pinned)) {
    g_free (key);
    return w;
  }
  if (wd->total >= wd->limit) {
    wd->left_out++;
    g_free (key);
    return NULL;
  }
  w = g_new0 (Want, 1);
  w->key = key;
  w->group = g_object_ref (group);
  w->port = port;
  w->sources = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_insert (wd->wants, w->key, w);
  list = g_hash_table_lookup (wd->by_group, group_text);
  if (!list) {
    list = g_ptr_array_new ();
    g_hash_table_insert (wd->by_group, g_strdup (group_text), list);
  }
  g_ptr_array_add (list, w);
  g_ptr_array_add (wd->order, w);
  wd->total++;
  return w;
}

/* Adds what r asks for: on its ports, the pairs carried now (carried
 * TRUE), or all of them until the limit. */
static void
want_entry (GstMcastSrcRelay * self, Wanted * wd, const McpSubEntry * r,
    gboolean carried)
{
  GInetAddress *group = entry_address (r->family, r->group);
  gchar *text = g_inet_address_to_string (group);
  GPtrArray *list;
  guint port, i, matched = 0;

  if (carried) {
    for (i = self->n_pinned; i < self->captures->len; i++) {
      Capture *c = g_ptr_array_index (self->captures, i);
      Want *w;

      if (c->port >= r->port_lo && c->port <= r->port_hi
          && g_inet_address_equal (c->group, group)
          && (w = want_get (self, wd, group, text, c->port)))
        want_merge (w, r);
    }
    goto done;
  }
  for (port = r->port_lo; port <= r->port_hi && wd->total < wd->limit; port++) {
    Want *w = want_get (self, wd, group, text, port);

    if (w)
      want_merge (w, r);
  }
  if (port > r->port_hi)
    goto done;
  /* no room for more: only the pairs already wanted take it (without
   * walking a range of up to 65535 ports) */
  list = g_hash_table_lookup (wd->by_group, text);
  for (i = 0; list && i < list->len; i++) {
    Want *w = g_ptr_array_index (list, i);

    if (w->port >= port && w->port <= r->port_hi) {
      want_merge (w, r);
      matched++;
    }
  }
  wd->left_out += r->port_hi - port + 1 - matched;
done:
  g_free (text);
  g_object_unref (group);
}

/* Brings the joins of c to what w asks. FALSE when a join failed: c then
 * holds no membership any more. Under capture_lock. */
static gboolean
capture_update (GstMcastSrcRelay * self, Capture * c, Want * w, GError ** error)
{
  McpMembership *mb = table (self);
  GPtrArray *want = w->any ? NULL : w->sources;
  GPtrArray *added, *removed;
  guint64 now = monotonic_now ();
  gboolean ok = TRUE;
  guint i;

  if (w->any && c->sources->len == 0)
    return TRUE;
  if (!w->any && c->sources->len == w->sources->len) {
    for (i = 0; i < w->sources->len; i++)
      if (!has_source (c->sources, g_ptr_array_index (w->sources, i)))
        break;
    if (i == w->sources->len)
      return TRUE;
  }
  GST_INFO_OBJECT (self, "%s: from %s", c->key, w->any ? "any source" :
      "other sources");
  if (w->any || c->sources->len == 0) {
    /* any-source <-> source-specific: a socket's membership is one or
     * the other, so leave first */
    mcp_membership_leave_each (mb, c->socket, c->group, self->ifnames,
        c->sources, now, "other sources wanted");
    g_ptr_array_set_size (c->sources, 0);
    if (!mcp_membership_join_each (mb, c->socket, c->group, self->ifnames,
            want, error))
      return FALSE;
    if (want)
      g_ptr_array_extend (c->sources, want, (GCopyFunc) g_object_ref, NULL);
    return TRUE;
  }
  /* source-specific both: join the new sources before leaving the old */
  added = g_ptr_array_new ();
  removed = g_ptr_array_new ();
  for (i = 0; i < w->sources->len; i++)
    if (!has_source (c->sources, g_ptr_array_index (w->sources, i)))
      g_ptr_array_add (added, g_ptr_array_index (w->sources, i));
  for (i = 0; i < c->sources->len; i++)
    if (!has_source (w->sources, g_ptr_array_index (c->sources, i)))
      g_ptr_array_add (removed, g_ptr_array_index (c->sources, i));
  if (added->len)
    ok = mcp_membership_join_each (mb, c->socket, c->group, self->ifnames,
        added, error);
  if (!ok) {
    /* the old ones go too: c is dropped */
    mcp_membership_leave_each (mb, c->socket, c->group, self->ifnames,
        c->sources, now, "a join failed");
  } else if (added->len || removed->len) {
    if (removed->len)
      mcp_membership_leave_each (mb, c->socket, c->group, self->ifnames,
          removed, now, "other sources wanted");
    g_ptr_array_set_size (c->sources, 0);
    g_ptr_array_extend (c->sources, w->sources, (GCopyFunc) g_object_ref, NULL);
  }
  g_ptr_array_unref (added);
  g_ptr_array_unref (removed);
  return ok;
}

/* wanted (the union of what every subscriber wants, the whole state) is
 * what to carry now besides the pinned pairs: joins what it asks for
 * inside the scope's prefixes, leaves what it no longer asks for (why).
 * Under capture_lock, only while running. */
static void
apply_wanted (GstMcastSrcRelay * self, const McpSubSet * wanted,
    const gchar * why)
{
  McpSubSet *inside = mcp_sub_set_new ();
  Wanted wd = { 0 };
  guint64 joins = 0, leaves = 0, failures = 0;
  gboolean changed = FALSE;
  guint i;
  gint k;

  wd.wants = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) want_free);
  wd.by_group = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
  wd.order = g_ptr_array_new ();
  wd.total = self->n_pinned;
  GST_OBJECT_LOCK (self);
  wd.limit = self->max_groups;
  GST_OBJECT_UNLOCK (self);

  /* a wanted prefix ("*" from a peer that wants everything) adds only
   * the pinned groups inside it: those are carried anyway */
  for (i = 0; i < mcp_sub_set_size (wanted); i++) {
    const McpSubEntry *e = mcp_sub_set_get (wanted, i);

    if (e->prefix_len == (e->family == 4 ? 32 : 128))
      mcp_sub_set_restrict (self->scope_prefixes, e, inside);
  }
  /* what is carried keeps its place within max-groups */
  for (i = 0; i < mcp_sub_set_size (inside); i++)
    want_entry (self, &wd, mcp_sub_set_get (inside, i), TRUE);
  for (i = 0; i < mcp_sub_set_size (inside); i++)
    want_entry (self, &wd, mcp_sub_set_get (inside, i), FALSE);

  for (k = self->captures->len - 1; k >= (gint) self->n_pinned; k--) {
    Capture *c = g_ptr_array_index (self->captures, k);
    Want *w = g_hash_table_lookup (wd.wants, c->key);
    GError *err = NULL;

    if (!w) {
      capture_drop (self, k, TRUE, why);
      leaves++;
      changed = TRUE;
      continue;
    }
    w->done = TRUE;
    if (!capture_update (self, c, w, &err)) {
      GST_WARNING_OBJECT (self, "could not change the sources of %s: %s",
          c->key, err->message);
      g_clear_error (&err);
      capture_drop (self, k, FALSE, "a join failed");
      leaves++;
      failures++;
      changed = TRUE;
    }
  }
  for (i = 0; i < wd.order->len; i++) {
    Want *w = g_ptr_array_index (wd.order, i);
    GError *err = NULL;
    Capture *c;

    if (w->done)
      continue;
    c = capture_open (self, w->group, w->port, w->any ? NULL : w->sources,
        FALSE, &err);
    if (!c) {
      GST_WARNING_OBJECT (self, "could not join %s: %s", w->key, err->message);
      g_clear_error (&err);
      failures++;
      continue;
    }
    capture_add (self, c);
    joins++;
    changed = TRUE;
  }
  if (wd.left_out)
    GST_WARNING_OBJECT (self, "max-groups (%u) reached: %" G_GUINT64_FORMAT
        " more (group, port) pairs wanted were left out", wd.limit,
        wd.left_out);
  GST_OBJECT_LOCK (self);
  self->joins += joins;
  self->leaves += leaves;
  self->join_failures += failures;
  self->joins_over_limit += wd.left_out;
  GST_OBJECT_UNLOCK (self);
  if (changed)
    captures_changed (self);

  g_ptr_array_unref (wd.order);
  g_hash_table_unref (wd.by_group);
  g_hash_table_unref (wd.wants);
  mcp_sub_set_free (inside);
}

/* What the elements downstream want now: peers' sets (the event, or the
 * answer to the query at start). */
static void
apply_peers (GstMcastSrcRelay * self, GArray * peers)
{
  McpSubSet *wanted = gst_mcp_subs_union (peers, 0);

  if (GST_LEVEL_INFO <= gst_debug_category_get_threshold (GST_CAT_DEFAULT)) {
    gchar *text = mcp_sub_set_to_string (wanted);

    GST_INFO_OBJECT (self, "%u peers want \"%s\"", peers->len, text);
    g_free (text);
  }
  g_mutex_lock (&self->capture_lock);
  if (self->scope && self->subs_running)
    apply_wanted (self, wanted, "no subscriber left");
  g_mutex_unlock (&self->capture_lock);
  gst_mcp_events_flush (&self->events);
  mcp_sub_set_free (wanted);
}

static gboolean
gst_mcast_src_relay_event (GstBaseSrc * bsrc, GstEvent * event)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);
  GArray *peers = gst_mcp_subs_event_parse (event);

  if (!peers)
    return GST_BASE_SRC_CLASS (parent_class)->event (bsrc, event);
  /* (without scope the one group is carried whoever wants it) */
  apply_peers (self, peers);
  g_array_unref (peers);
  return TRUE;
}

/* ---- state ------------------------------------------------------------- */

/* The names of the interfaces (the table follows a name through a new
 * index). */
static GPtrArray *
interface_names (GArray * ifindexes, GError ** error)
{
  GPtrArray *ifnames = g_ptr_array_new_with_free_func (g_free);
  gchar name[IF_NAMESIZE];
  guint i;

  for (i = 0; i < ifindexes->len; i++) {
    guint ifindex = g_array_index (ifindexes, guint, i);

    if (!if_indextoname (ifindex, name)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
          "interface #%u is gone", ifindex);
      g_ptr_array_unref (ifnames);
      return NULL;
    }
    g_ptr_array_add (ifnames, g_strdup (name));
  }
  return ifnames;
}

/* Joins every single group of the scope on each port of its range (the
 * scope's prefixes go to scope_prefixes). */
static gboolean
open_pinned (GstMcastSrcRelay * self, guint max_groups)
{
  guint64 left_out = 0;
  guint i, port;

  for (i = 0; i < mcp_sub_set_size (self->scope); i++) {
    const McpSubEntry *e = mcp_sub_set_get (self->scope, i);
    GPtrArray *sources;
    GInetAddress *group;
    guint k;

    if (e->prefix_len != (e->family == 4 ? 32 : 128)) {
      mcp_sub_set_add (self->scope_prefixes, e, NULL);
      continue;
    }
    group = entry_address (e->family, e->group);
    sources = g_ptr_array_new_with_free_func (g_object_unref);
    /* EXCLUDE: any-source, as for a subscription */
    for (k = 0; e->mode == MCP_SUB_INCLUDE && k < e->n_sources; k++)
      g_ptr_array_add (sources, entry_address (e->family, e->sources[k]));
    for (port = e->port_lo; port <= e->port_hi; port++) {
      GError *err = NULL;
      gchar *text;
      Capture *c;

      if (self->captures->len >= max_groups) {
        left_out++;
        continue;
      }
      c = capture_open (self, group, port, sources, TRUE, &err);
      if (!c) {
        text = g_inet_address_to_string (group);
        GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
            ("Could not receive multicast group %s port %u: %s", text, port,
                err->message), (NULL));
        g_free (text);
        g_error_free (err);
        g_ptr_array_unref (sources);
        g_object_unref (group);
        return FALSE;
      }
      capture_add (self, c);
    }
    g_ptr_array_unref (sources);
    g_object_unref (group);
  }
  if (left_out)
    GST_WARNING_OBJECT (self, "max-groups (%u) reached: %" G_GUINT64_FORMAT
        " more (group, port) pairs of the scope were left out", max_groups,
        left_out);
  return TRUE;
}

static void close_socket (GstMcastSrcRelay * self, const gchar * why);

static gboolean
open_socket (GstMcastSrcRelay * self)
{
  GError *err = NULL;
  gchar *address, *ifaces, *sources, *ignore_list, *scope_text;
  GArray *ignore = NULL, *ifindexes = NULL;
  GPtrArray *source_list = NULL, *ifnames = NULL;
  GInetAddress *group = NULL;
  McpSubSet *scope = NULL;
  gboolean address_set, ok = FALSE;
  guint port, max_groups;
  gint buffer_size;
  Capture *c;

  GST_OBJECT_LOCK (self);
  address = g_strdup (self->address);
  address_set = self->address_set;
  ifaces = g_strdup (self->multicast_iface);
  sources = g_strdup (self->multicast_source);
  ignore_list = g_strdup (self->ignore_sources);
  scope_text = g_strdup (self->scope_text);
  port = self->port;
  buffer_size = self->buffer_size;
  max_groups = self->max_groups;
  GST_OBJECT_UNLOCK (self);

  if (scope_text && *scope_text) {
    if (address_set) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Both address and scope are set: give one or the other"),
          ("address=%s scope=%s", address, scope_text));
      goto done;
    }
    if (sources && *sources) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("multicast-source does not apply with scope: give the sources "
              "in the scope's entries (SOURCE@GROUP:PORT)"), (NULL));
      goto done;
    }
    scope = mcp_sub_set_parse (scope_text, &err);
    if (!scope) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid scope: %s", err->message), (NULL));
      goto done;
    }
  } else {
    group = mcp_parse_group (address, &err);
    if (!group) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid multicast address: %s", err->message), (NULL));
      goto done;
    }
  }
  ifindexes = mcp_parse_interfaces (ifaces, &err);
  if (!ifindexes) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Invalid multicast-iface: %s", err->message), (NULL));
    goto done;
  }
  if (group) {
    source_list = mcp_parse_sources (sources,
        g_inet_address_get_family (group), &err);
    if (!source_list) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
          ("Invalid multicast-source: %s", err->message), (NULL));
      goto done;
    }
  }
  ignore = mcp_parse_source_filters (ignore_list, &err);
  if (!ignore) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("Invalid ignore-sources: %s", err->message), (NULL));
    goto done;
  }
  ifnames = interface_names (ifindexes, &err);
  if (!ifnames) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
        ("Invalid multicast-iface: %s", err->message), (NULL));
    goto done;
  }

  /* no other thread sees the element's captures before READY */
  /* watching first: no change after the join goes unseen */
  self->membership = mcp_membership_driver_new (0, log_membership, self);
  mcp_membership_set_notify (table (self), gst_mcp_events_membership,
      &self->events);
  self->ifnames = g_steal_pointer (&ifnames);
  self->buffer_size_asked = buffer_size;
  self->captures = g_ptr_array_new_with_free_func ((GDestroyNotify)
      capture_unref);
  self->capture_index = g_hash_table_new (g_str_hash, g_str_equal);
  self->n_pinned = 0;
  self->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (self->wake_fd < 0) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not make an eventfd: %s", g_strerror (errno)), (NULL));
    goto done;
  }
  if (scope) {
    self->scope = g_steal_pointer (&scope);
    self->scope_prefixes = mcp_sub_set_new ();
    if (!open_pinned (self, max_groups))
      goto done;
  } else {
    c = capture_open (self, group, port, source_list, TRUE, &err);
    if (!c) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("Could not receive multicast group %s port %u: %s", address,
              port, err->message), (NULL));
      goto done;
    }
    capture_add (self, c);
  }

  GST_OBJECT_LOCK (self);
  self->ignore = g_steal_pointer (&ignore);
  self->current_port = self->scope ? 0 :
      ((Capture *) g_ptr_array_index (self->captures, 0))->port;
  GST_OBJECT_UNLOCK (self);
  if (!self->scope)
    g_object_notify (G_OBJECT (self), "current-port");
  ok = TRUE;

done:
  if (!ok)
    close_socket (self, "the element could not start");
  gst_mcp_events_flush (&self->events);
  g_clear_error (&err);
  g_clear_object (&group);
  g_clear_pointer (&scope, mcp_sub_set_free);
  g_clear_pointer (&ifindexes, g_array_unref);
  g_clear_pointer (&ifnames, g_ptr_array_unref);
  g_clear_pointer (&source_list, g_ptr_array_unref);
  g_free (address);
  g_free (ifaces);
  g_free (sources);
  g_free (ignore_list);
  g_free (scope_text);
  g_clear_pointer (&ignore, g_array_unref);
  return ok;
}

static void
close_socket (GstMcastSrcRelay * self, const gchar * why)
{
  g_mutex_lock (&self->capture_lock);
  /* closing a socket would leave its memberships too, untold */
  if (self->membership)
    mcp_membership_leave_all (table (self), why);
  g_clear_pointer (&self->captures, g_ptr_array_unref);
  g_clear_pointer (&self->capture_index, g_hash_table_unref);
  self->n_pinned = 0;
  g_clear_pointer (&self->scope, mcp_sub_set_free);
  g_clear_pointer (&self->scope_prefixes, mcp_sub_set_free);
  g_clear_pointer (&self->ifnames, g_ptr_array_unref);
  if (self->wake_fd >= 0)
    close (self->wake_fd);
  self->wake_fd = -1;
  g_mutex_unlock (&self->capture_lock);
  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->ignore, g_array_unref);
  self->current_port = 0;
  GST_OBJECT_UNLOCK (self);
  g_clear_pointer (&self->membership, mcp_membership_driver_free);
  gst_mcp_events_flush (&self->events);
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
      close_socket (self, "the element could not start");
    return ret;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_NULL)
    close_socket (self, "stopping");
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
  self->joins = self->leaves = self->joins_over_limit = 0;
  self->join_failures = 0;
  self->restart_silence = TRUE;
  GST_OBJECT_UNLOCK (self);

  self->batching = FALSE;
  self->window_start = g_get_monotonic_time () * GST_USECOND;
  self->window_count = 0;
  g_mutex_lock (&self->capture_lock);
  mcp_membership_set_rejoin_interval (table (self), 0, 0);
  self->subs_running = self->scope != NULL;
  /* the streaming thread takes the set as it is now */
  self->polled_gen = self->captures_gen - 1;
  g_mutex_unlock (&self->capture_lock);
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

  /* what the elements downstream want, if they take part */
  if (self->subs_running) {
    GArray *peers = gst_mcp_subs_ask_downstream (GST_BASE_SRC_PAD (self));

    if (peers) {
      apply_peers (self, peers);
      g_array_unref (peers);
    }
  }
  return TRUE;
}

static gboolean
gst_mcast_src_relay_stop (GstBaseSrc * bsrc)
{
  GstMcastSrcRelay *self = GST_MCAST_SRC_RELAY (bsrc);

  gst_mcp_stats_timer_stop (&self->stats_timer);
  /* stopped, nobody is served: only the pinned pairs stay */
  g_mutex_lock (&self->capture_lock);
  if (self->subs_running) {
    McpSubSet *none = mcp_sub_set_new ();

    apply_wanted (self, none, "stopping");
    mcp_sub_set_free (none);
  }
  self->subs_running = FALSE;
  g_mutex_unlock (&self->capture_lock);
  gst_mcp_events_flush (&self->events);
  /* the streaming thread has ended */
  g_clear_pointer (&self->polled, g_ptr_array_unref);
  memset (self->slot_capture, 0, sizeof (self->slot_capture));
  g_clear_pointer (&self->pollfds, g_free);
  self->n_pollfds = 0;
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
  McpMembership *mb;

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

  g_mutex_lock (&self->capture_lock);
  mb = table (self);
  mcp_membership_set_rejoin_interval (mb, interval, now);
  next = MIN (next, mcp_membership_tick (mb, now));
  count_rejoins (self);
  g_mutex_unlock (&self->capture_lock);
  /* a re-join that failed, or worked after a failure */
  gst_mcp_events_flush (&self->events);
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

/* Takes the set of captures anew when it changed. */
static void
sync_polled (GstMcastSrcRelay * self)
{
  guint i;

  g_mutex_lock (&self->capture_lock);
  if (self->polled && self->polled_gen == self->captures_gen) {
    g_mutex_unlock (&self->capture_lock);
    return;
  }
  g_clear_pointer (&self->polled, g_ptr_array_unref);
  self->polled = g_ptr_array_new_full (self->captures->len,
      (GDestroyNotify) capture_unref);
  for (i = 0; i < self->captures->len; i++)
    g_ptr_array_add (self->polled,
        capture_ref (g_ptr_array_index (self->captures, i)));
  self->polled_gen = self->captures_gen;
  g_mutex_unlock (&self->capture_lock);
}

/* Waits until a socket is readable (and marks those that are), meanwhile
 * posting timeouts, re-joining when due and following interface changes
 * and changes of the set. */
static WaitResult
wait_readable (GstMcastSrcRelay * self, GCancellable * cancellable,
    GError ** error)
{
  for (;;) {
    GstClockTime now = monotonic_now (), next = run_timers (self, now);
    GPollFD *fds;
    gint n, cancel_fd = -1, netlink_fd = -1, wake = -1, timeout_ms = -1, r;
    gint watch_fd;
    guint i, n_sockets;
    gboolean readable = FALSE;

    sync_polled (self);
    n_sockets = self->polled->len;
    g_mutex_lock (&self->capture_lock);
    watch_fd = mcp_membership_driver_get_fd (self->membership);
    g_mutex_unlock (&self->capture_lock);

    self->next_check = MIN (now + CHECK_INTERVAL, next);
    if (GST_CLOCK_TIME_IS_VALID (next))
      timeout_ms = next > now ? (next - now + GST_MSECOND - 1) / GST_MSECOND
          : 0;
    if (self->n_pollfds < n_sockets + 3) {
      self->n_pollfds = n_sockets + 3;
      self->pollfds = g_renew (GPollFD, self->pollfds, self->n_pollfds);
    }
    fds = self->pollfds;
    memset (fds, 0, sizeof (GPollFD) * (n_sockets + 3));
    for (n = 0; n < (gint) n_sockets; n++) {
      fds[n].fd = g_socket_get_fd (((Capture *) g_ptr_array_index
              (self->polled, n))->socket);
      fds[n].events = G_IO_IN;
    }
    if (g_cancellable_make_pollfd (cancellable, &fds[n]))
      cancel_fd = n++;
    if (watch_fd >= 0) {
      fds[n].fd = watch_fd;
      fds[n].events = G_IO_IN;
      netlink_fd = n++;
    }
    fds[n].fd = self->wake_fd;
    fds[n].events = G_IO_IN;
    wake = n++;
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
    if (fds[wake].revents) {
      guint64 count;

      /* the set changed: taken anew on the next round */
      if (read (self->wake_fd, &count, sizeof (count)) < 0 && errno != EAGAIN)
        GST_WARNING_OBJECT (self, "wake-up: %s", g_strerror (errno));
    }
    for (i = 0; i < n_sockets; i++) {
      if (fds[i].revents) {
        ((Capture *) g_ptr_array_index (self->polled, i))->ready = TRUE;
        readable = TRUE;
      }
    }
    if (readable)
      return WAIT_READABLE;
  }
}

/* Takes up to max datagrams from the captures that may have some, from
 * one after the first of last time on; slot_capture says whose each one
 * is. Returns how many, or -1 with error. */
static gint
receive_ready (GstMcastSrcRelay * self, gint max, GError ** error)
{
  guint n_sockets = self->polled->len, i;
  gint n = 0;

  for (i = 0; i < n_sockets && n < max; i++) {
    Capture *c = g_ptr_array_index (self->polled,
        (self->next_first + i) % n_sockets);
    gint got, k;

    if (!c->ready)
      continue;
    got = mcp_udp_receive_batch (c->socket, self->slots + n, max - n, error);
    if (got < 0)
      return -1;
    /* a short batch emptied the socket: wait before asking it again */
    if (got < max - n)
      c->ready = FALSE;
    for (k = 0; k < got; k++)
      self->slot_capture[n + k] = c;
    n += got;
  }
  if (n_sockets)
    self->next_first = (self->next_first + 1) % n_sockets;
  return n;
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
    sync_polled (self);
    n = receive_ready (self, max, &err);
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

  pts = gst_mcp_running_time_now (GST_ELEMENT (self));
  memset (&info, 0, sizeof (info));
  info.origin_id = self->origin_id;
  info.capture_time = g_get_real_time () * 1000;

  GST_OBJECT_LOCK (self);
  first_seq = self->seq_base + self->datagrams;
  self->datagrams += n;
  GST_OBJECT_UNLOCK (self);

  if (n > 1)
    list = gst_buffer_list_new_sized (n);
  for (i = 0; i < n; i++) {
    McpDatagram *d = &self->slots[keep[i]];
    Capture *c = self->slot_capture[keep[i]];
    GstBuffer *b = gst_mcp_buffer_new_datagram (d->data, d->len);

    if (d->truncated)
      truncated++;
    GST_BUFFER_PTS (b) = pts;
    gst_buffer_add_net_address_meta (b, sender_address (self, d));
    info.seq = first_seq + i;
    /* the group and port it came to */
    info.family = c->where.family;
    info.port = c->where.port;
    memcpy (info.group, c->where.group, sizeof (info.group));
    gst_mcp_meta_set_source (&info, &d->from);
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
  GValue list = G_VALUE_INIT;
  GstStructure *s;
  guint i;

  /* what is carried now, pinned first */
  gst_value_array_init (&list, 0);
  g_mutex_lock (&self->capture_lock);
  for (i = 0; self->captures && i < self->captures->len; i++) {
    Capture *c = g_ptr_array_index (self->captures, i);
    GValue v = G_VALUE_INIT;
    gchar *group = g_inet_address_to_string (c->group);
    gchar *sources = sources_to_string (c->sources);

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_structure_new ("joined",
            "group", G_TYPE_STRING, group,
            "port", G_TYPE_UINT, (guint) c->port,
            "sources", G_TYPE_STRING, sources,
            "pinned", G_TYPE_BOOLEAN, c->pinned, NULL));
    gst_value_array_append_and_take_value (&list, &v);
    g_free (group);
    g_free (sources);
  }
  g_mutex_unlock (&self->capture_lock);

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("mcastsrc-relay-stats",
      "datagrams-received", G_TYPE_UINT64, self->datagrams,
      "bytes-received", G_TYPE_UINT64, self->bytes,
      "datagrams-truncated", G_TYPE_UINT64, self->truncated,
      "datagrams-ignored", G_TYPE_UINT64, self->ignored,
      "timeouts", G_TYPE_UINT64, self->timeouts,
      "rejoins", G_TYPE_UINT64, self->rejoins,
      "rejoin-failures", G_TYPE_UINT64, self->rejoin_failures,
      "joins", G_TYPE_UINT64, self->joins,
      "leaves", G_TYPE_UINT64, self->leaves,
      "joins-over-limit", G_TYPE_UINT64, self->joins_over_limit,
      "join-failures", G_TYPE_UINT64, self->join_failures,
      "buffer-size", G_TYPE_INT, self->buffer_size_granted, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_structure_take_value (s, "joined-list", &list);
  return s;
}
