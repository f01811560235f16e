/* mcastproxy — tcpmeshrouter
 *
 * This library is free software; you can redistribute it and/or modify it
 * under the terms of the GNU Library General Public License as published by
 * the Free Software Foundation; either version 2 of the License, or (at your
 * option) any later version.
 */

/**
 * SECTION:element-tcpmeshrouter
 * @title: tcpmeshrouter
 *
 * One node of a mesh of island gateways: islands linked to each other
 * directly, with no central point.
 *
 * The node listens on `port` and calls every `host:port` of `peers`; each
 * link is one TCP connection in mpx framing that carries datagrams both
 * ways. What comes in on the sink pad (the island's own multicast, from
 * mcastsrc-relay with `peer-id` set to `island-id`) goes to every peer.
 * What a peer sends goes on to every other peer and out of the src pad
 * (to tcpremcastsink `original-group=true`, which re-creates each group),
 * once: every datagram is identified by origin, group, port and sequence
 * number, and a copy seen before — over a redundant path, round a ring — is
 * dropped, as is one that crossed more than `max-hops` links. Datagrams of
 * this island never come back out of the src pad, and a datagram is never
 * sent to the peer it came from or to the island it came from.
 *
 * So a triangle or a ring of islands delivers each datagram exactly once,
 * and when a link fails the traffic keeps arriving over the other path.
 *
 * Subscriptions travel over the links as join/prune does in PIM: per
 * origin island, a distance vector with split horizon and poison
 * (mcp-subroute.h), so a group crosses a link only toward an island that
 * wants it, and a withdrawn want leaves nothing behind in a cycle. The
 * island's own wants come from downstream (tcpremcastsink with a scope);
 * without them, and toward nodes that take no part, everything flows as
 * before.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 mcastsrc-relay address=239.1.1.1 port=5004 peer-id=1 \
 *     ignore-sources=:5499 ! tcpmeshrouter island-id=1 port=5300 \
 *     peers="islandb.example.net:5300 islandc.example.net:5300" \
 *   ! tcpremcastsink original-group=true bind-port=5499
 * ]| The gateway of island 1 in a mesh with islands b and c.
 */

#include "config.h"

#include "gsttcpmeshrouter.h"
#include "gstmcpenums.h"
#include "gstmcpfanout.h"
#include "gstmcpmeta.h"
#include "gstmcpprops.h"
#include "gstmcpstats.h"
#include "gstmcpsubs.h"
#include "gstmcptcp.h"

#include <string.h>

#include "mcp-dedup.h"
#include "mcp-endpoint.h"
#include "mcp-loopguard.h"
#include "mcp-subroute.h"

GST_DEBUG_CATEGORY_STATIC (tcp_mesh_router_debug);
#define GST_CAT_DEFAULT tcp_mesh_router_debug

#define DEFAULT_ISLAND_ID 0
#define DEFAULT_PORT 5300
#define DEFAULT_PEERS NULL
#define DEFAULT_MAX_HOPS MCP_LOOP_GUARD_DEFAULT_MAX_HOPS
#define DEFAULT_MAX_QUEUE_BYTES (4 * 1024 * 1024)
#define DEFAULT_MAX_QUEUE_TIME (3 * GST_SECOND)
#define DEFAULT_SLOW_CLIENT_POLICY GST_MCP_SLOW_CLIENT_RESYNC
#define DEFAULT_MAX_PEERS 0
/* Datagrams for the src pad waiting for downstream; beyond this the oldest
 * is dropped and counted (peers must not wait for a slow local sink). */
#define OUTPUT_QUEUE_MAX_BYTES (4 * 1024 * 1024)

/* The node listens and calls its peers at once: no mode; mpx only; its
 * island-id is the peer id. The endpoint is made at NULL->READY, the rest
 * read at start. */
static const GstMcpTcpSpec tcp_spec = {
  .omit = GST_MCP_TCP_OMIT_MODE | GST_MCP_TCP_OMIT_FRAMING |
      GST_MCP_TCP_OMIT_PEER_ID,
  .default_mode = GST_MCP_MODE_LISTENER,
  .default_port = DEFAULT_PORT,
  .open_flag = 0,
  .start_flag = GST_PARAM_MUTABLE_READY,
  .host_blurb = "Address to listen on for peers (empty: all)",
  .port_blurb = "TCP port peers connect to (0: pick one, see current-port)",
  .handshake_timeout_blurb = "A peer must complete its HELLO within this "
      "time (ns; 0: no limit)",
  .reconnect_delay_blurb = "First wait (ns) before calling a peer again; "
      "doubles per failure",
  .reconnect_max_delay_blurb = "Longest wait (ns) between calls to a peer",
  .listening_for = "mesh peers",
};

/* After the properties shared with the other TCP elements (gstmcptcp.h). */
enum
{
  PROP_ISLAND_ID = GST_MCP_TCP_PROP_LAST,
  PROP_PEERS,
  PROP_MAX_HOPS,
  PROP_MAX_QUEUE_BYTES,
  PROP_MAX_QUEUE_TIME,
  PROP_SLOW_CLIENT_POLICY,
  PROP_MAX_PEERS,
};

enum
{
  SIGNAL_GET_STATS,
  SIGNAL_PEER_ADDED,
  SIGNAL_PEER_REMOVED,
  LAST_SIGNAL,
};

static guint signals[LAST_SIGNAL];

struct _GstTcpMeshRouter
{
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, under the object lock */
  GstMcpTcpSettings tcp;        /* its peer_id is island-id */
  gchar *peers;
  guint64 max_queue_bytes;
  guint max_peers;
  guint64 max_queue_time;
  GstMcpSlowClientPolicy slow_client_policy;

  McpEndpoint *endpoint;        /* from NULL->READY on */
  GstMcpFanout *fanout;         /* the peers */
  GstMcpStatsTimer stats_timer;
  guint64 node_id;              /* island-id, or random when 0 */
  guint64 seq;                  /* for local datagrams without metadata */

  /* Hop limit (max-hops) and dedup of local and peer datagrams alike,
   * under the object lock: the streaming thread admits the local ones, the
   * endpoint's thread the peers'. */
  McpLoopGuard *guard;
  guint max_hops;               /* the property, under the object lock */

  /* Hand-over from the endpoint's thread to the src pad's task. */
  GMutex lock;
  GCond cond;
  GQueue output;                /* GstBuffer */
  guint64 output_bytes;
  gboolean flushing;
  gboolean started;             /* stream-start and segment went out */

  /* statistics, under the object lock */
  guint64 local_in;
  guint64 local_bytes_in;
  guint64 peer_in;
  guint64 peer_bytes_in;
  guint64 forwarded;            /* datagrams queued for the peers */
  guint64 datagrams_out;        /* pushed out of the src pad */
  guint64 output_dropped;
  GstMcpCallers *callers;

  /* Subscriptions over the mesh (mcp-subroute.h), under subs_lock, which
   * is taken before the fan-out's. */
  GMutex subs_lock;
  McpSubRoute *route;           /* while started */
  McpSubSet *local_subs;        /* what the src pad wants; NULL: not known
                                 * (everything) */
  GHashTable *subs_peers;       /* guint64 peer ids with a filter set */
  gboolean subs_live;           /* the sink pad's query was answered */
  GstStructure *subs_told;      /* what upstream was told last */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_tcp_mesh_router_parent_class parent_class
G_DEFINE_TYPE (GstTcpMeshRouter, gst_tcp_mesh_router, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (tcpmeshrouter, "tcpmeshrouter",
    GST_RANK_NONE, GST_TYPE_TCP_MESH_ROUTER,
    GST_DEBUG_CATEGORY_INIT (tcp_mesh_router_debug, "tcpmeshrouter", 0,
        "mcastproxy mesh node"));

static void gst_tcp_mesh_router_finalize (GObject * object);
static void gst_tcp_mesh_router_set_property (GObject * object,
    guint prop_id, const GValue * value, GParamSpec * pspec);
static void gst_tcp_mesh_router_get_property (GObject * object,
    guint prop_id, GValue * value, GParamSpec * pspec);
static GstStateChangeReturn gst_tcp_mesh_router_change_state (GstElement *
    element, GstStateChange transition);
static GstFlowReturn gst_tcp_mesh_router_chain (GstPad * pad,
    GstObject * parent, GstBuffer * buffer);
static GstFlowReturn gst_tcp_mesh_router_chain_list (GstPad * pad,
    GstObject * parent, GstBufferList * list);
static gboolean gst_tcp_mesh_router_sink_event (GstPad * pad,
    GstObject * parent, GstEvent * event);
static gboolean gst_tcp_mesh_router_src_activate_mode (GstPad * pad,
    GstObject * parent, GstPadMode mode, gboolean active);
static GstStructure *gst_tcp_mesh_router_get_stats (GstTcpMeshRouter * self);

/* ---- routing ----------------------------------------------------------- */

static void
forward (GstTcpMeshRouter * self, GstBuffer * buf, const McpFrameMeta * info,
    GstMcpFanoutClient * from)
{
  if (gst_mcp_fanout_push (self->fanout, buf, info, from)) {
    GST_OBJECT_LOCK (self);
    self->forwarded++;
    GST_OBJECT_UNLOCK (self);
  }
}

/* Endpoint thread: a datagram for the src pad. */
static void
output (GstTcpMeshRouter * self, GstBuffer * buf)
{
  guint64 dropped = 0;
  gsize size = gst_buffer_get_size (buf);

  g_mutex_lock (&self->lock);
  g_queue_push_tail (&self->output, gst_buffer_ref (buf));
  self->output_bytes += size;
  while (self->output_bytes > OUTPUT_QUEUE_MAX_BYTES
      && g_queue_get_length (&self->output) > 1) {
    GstBuffer *old = g_queue_pop_head (&self->output);

    self->output_bytes -= gst_buffer_get_size (old);
    gst_buffer_unref (old);
    dropped++;
  }
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  if (dropped) {
    GST_OBJECT_LOCK (self);
    self->output_dropped += dropped;
    GST_OBJECT_UNLOCK (self);
  }
}

static void
fanout_message (GstMcpFanout * fo, GstMcpFanoutClient * from,
    McpDecodeResult kind, const McpMessage * msg, gpointer user_data)
{
  GstTcpMeshRouter *self = user_data;
  McpFrameMeta info;
  McpLoopGuardVerdict verdict;
  GstBuffer *buf;

  if (kind != MCP_DECODE_DATA)
    return;                     /* peers' caps say nothing about ours */
  info = msg->meta;
  GST_OBJECT_LOCK (self);
  self->peer_in++;
  self->peer_bytes_in += msg->payload_len;
  verdict = mcp_loop_guard_admit_received (self->guard, &info,
      g_get_monotonic_time ());
  GST_OBJECT_UNLOCK (self);
  if (verdict != MCP_LOOP_GUARD_PASS)
    return;

  buf = gst_mcp_buffer_new_datagram (msg->payload, msg->payload_len);
  gst_buffer_add_mcp_meta (buf, &info);
  forward (self, buf, &info, from);
  if (info.origin_id != self->node_id)
    output (self, buf);
  gst_buffer_unref (buf);
}

static void
fanout_client_added (GstMcpFanout * fo, const GstMcpClientInfo * c,
    gpointer user_data)
{
  GstTcpMeshRouter *self = user_data;
  const gchar *address = c->address;
  guint64 peer_id = c->peer_id;

  GST_INFO_OBJECT (self, "linked to island %" G_GUINT64_FORMAT " at %s",
      peer_id, address);
  if (c->caller != MCP_ENDPOINT_ACCEPTED)
    gst_mcp_callers_connected (self->callers, c->caller);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mcastproxy-peer-added", "address",
              G_TYPE_STRING, address, "peer-id", G_TYPE_UINT64, peer_id,
              NULL)));
  g_signal_emit (self, signals[SIGNAL_PEER_ADDED], 0, address, peer_id);
}

static void
fanout_client_removed (GstMcpFanout * fo, const GstMcpConnEnd * r,
    gpointer user_data)
{
  GstTcpMeshRouter *self = user_data;

  gst_mcp_tcp_connection_ended (GST_ELEMENT (self), &self->tcp.sec,
      self->callers, r);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("mcastproxy-peer-removed", "address",
              G_TYPE_STRING, r->address, "reason", G_TYPE_STRING, r->reason,
              NULL)));
  g_signal_emit (self, signals[SIGNAL_PEER_REMOVED], 0, r->address, r->reason);
}

/* ---- subscriptions over the mesh -------------------------------------- */

/* One neighbour's advertisements, gathered from its connections. */
typedef struct
{
  guint64 peer_id;
  gboolean takes_part;
  GArray *adverts;              /* McpSubRouteAdvert, sets owned */
} Gathered;

static void
gathered_free (gpointer data)
{
  Gathered *g = data;
  guint i;

  for (i = 0; i < g->adverts->len; i++)
    mcp_sub_set_free ((McpSubSet *) g_array_index (g->adverts,
            McpSubRouteAdvert, i).set);
  g_array_unref (g->adverts);
  g_free (g);
}

/* With the fan-out's lock: copies what the connection's peer advertised. */
static void
gather_conn (McpConn * conn, guint64 peer_id, gpointer user_data)
{
  GHashTable *gathered = user_data;
  Gathered *g = g_hash_table_lookup (gathered, &peer_id);
  GArray *origins = mcp_conn_get_peer_origins (conn);
  guint i;

  if (!g) {
    g = g_new0 (Gathered, 1);
    g->peer_id = peer_id;
    g->adverts = g_array_new (FALSE, FALSE, sizeof (McpSubRouteAdvert));
    g_hash_table_insert (gathered, &g->peer_id, g);
  }
  if (!origins)
    return;                     /* takes no part (yet): everything */
  g->takes_part = TRUE;
  for (i = 0; i < origins->len; i++) {
    McpConnSubOrigin *o = &g_array_index (origins, McpConnSubOrigin, i);
    McpSubRouteAdvert a;

    a.origin = o->origin;
    a.distance = o->distance;
    a.set = mcp_sub_set_copy (o->set);
    g_array_append_val (g->adverts, a);
  }
  g_array_unref (origins);
}

/* With the fan-out's lock: tells the peer what we advertise to it. */
static void
advertise_conn (McpConn * conn, guint64 peer_id, gpointer user_data)
{
  McpSubRoute *route = user_data;
  GArray *adv = mcp_sub_route_advertise (route, peer_id);
  McpConnSubOrigin *out = g_new0 (McpConnSubOrigin, MAX (adv->len, 1));
  guint i;

  for (i = 0; i < adv->len; i++) {
    McpSubRouteAdvert *a = &g_array_index (adv, McpSubRouteAdvert, i);

    out[i].origin = a->origin;
    out[i].distance = a->distance;
    out[i].set = a->set;
  }
  mcp_conn_set_origin_subscriptions (conn, out, adv->len);
  g_free (out);
  g_array_unref (adv);
}

/* Under subs_lock: what the mesh wants of this node's captures, per
 * origin island (GstMcpSubsPeer). */
static GArray *
wanted_of_captures (GstTcpMeshRouter * self)
{
  GArray *peers = gst_mcp_subs_peers_new ();
  GArray *routes;
  guint i;

  if (!self->route)
    return peers;
  routes = mcp_sub_route_get_routes (self->route);
  for (i = 0; i < routes->len; i++) {
    McpSubRouteEntry *e = &g_array_index (routes, McpSubRouteEntry, i);

    gst_mcp_subs_peers_add (peers, e->origin, e->set);
  }
  g_array_unref (routes);
  return peers;
}

/* Something changed (a link, what a neighbour advertised, what the src pad
 * wants): routes again, then tells every link what it is to hear from us,
 * the fan-out what each link gets, and upstream what the mesh wants. */
static void
subs_update (GstTcpMeshRouter * self)
{
  GHashTable *gathered;
  GHashTableIter it;
  Gathered *g;
  gpointer key;
  GstEvent *event = NULL;

  g_mutex_lock (&self->subs_lock);
  if (!self->route) {
    g_mutex_unlock (&self->subs_lock);
    return;
  }
  gathered = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
      gathered_free);
  gst_mcp_fanout_foreach_conn (self->fanout, gather_conn, gathered);

  /* links gone: their advertisements and filters with them */
  g_hash_table_iter_init (&it, self->subs_peers);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    if (g_hash_table_contains (gathered, key))
      continue;
    mcp_sub_route_remove_neighbour (self->route, *(guint64 *) key);
    gst_mcp_fanout_set_peer_filter (self->fanout, *(guint64 *) key, NULL);
    g_hash_table_iter_remove (&it);
  }
  g_hash_table_iter_init (&it, gathered);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
    mcp_sub_route_set_neighbour (self->route, g->peer_id, g->takes_part,
        (McpSubRouteAdvert *) g->adverts->data, g->adverts->len);
    g_hash_table_add (self->subs_peers, g_memdup2 (&g->peer_id,
            sizeof (g->peer_id)));
  }
  mcp_sub_route_set_local (self->route, self->local_subs);

  gst_mcp_fanout_foreach_conn (self->fanout, advertise_conn, self->route);
  g_hash_table_iter_init (&it, gathered);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & g)) {
    McpSubSet *fwd = mcp_sub_route_forward_set (self->route, g->peer_id);

    gst_mcp_fanout_set_peer_filter (self->fanout, g->peer_id, fwd);
    mcp_sub_set_free (fwd);
  }
  g_hash_table_unref (gathered);

  if (self->subs_live) {
    GArray *peers = wanted_of_captures (self);
    const GstStructure *now;

    event = gst_mcp_subs_event_new (peers);
    g_array_unref (peers);
    now = gst_event_get_structure (event);
    if (self->subs_told && gst_structure_is_equal (self->subs_told, now)) {
      gst_event_unref (event);
      event = NULL;
    } else {
      g_clear_pointer (&self->subs_told, gst_structure_free);
      self->subs_told = gst_structure_copy (now);
    }
  }
  g_mutex_unlock (&self->subs_lock);

  /* whatever changed, the fan-out looks at its queue with the new
   * filters */
  gst_mcp_fanout_flush (self->fanout);
  if (event) {
    GST_DEBUG_OBJECT (self, "the mesh wants %" GST_PTR_FORMAT,
        gst_event_get_structure (event));
    gst_pad_push_event (self->sinkpad, event);
  }
}

static void
fanout_subscriptions (GstMcpFanout * fo, gpointer user_data)
{
  subs_update (user_data);
}

static const GstMcpFanoutFuncs fanout_funcs = {
  fanout_client_added,
  fanout_client_removed,
  fanout_message,
  NULL,
  fanout_subscriptions,
};

static void
endpoint_connection (McpEndpoint * ep, GSocket * socket, gint caller,
    gpointer user_data)
{
  GstTcpMeshRouter *self = user_data;
  McpConnConfig cfg = { 0 };
  guint max_peers;

  GST_OBJECT_LOCK (self);
  cfg.handshake_timeout = self->tcp.handshake_timeout;
  max_peers = self->max_peers;
  GST_OBJECT_UNLOCK (self);
  /* the links we call count too, but never stop us from calling */
  if (caller == MCP_ENDPOINT_ACCEPTED
      && !gst_mcp_security_admit (GST_ELEMENT (self), &self->tcp.sec, socket,
          gst_mcp_fanout_get_n_connections (self->fanout), max_peers,
          "max-peers"))
    return;
  gst_mcp_tcp_prepare_socket (GST_ELEMENT (self), &self->tcp, socket);
  cfg.framing = MCP_FRAMING_MPX;
  cfg.role = MCP_ROLE_PEER;
  cfg.initiator = caller != MCP_ENDPOINT_ACCEPTED;
  cfg.peer_id = self->node_id;
  cfg.name = "tcpmeshrouter";
  cfg.features = MCP_FEATURE_SUBSCRIPTIONS | MCP_FEATURE_SUB_ORIGINS;
  gst_mcp_security_configure (&self->tcp.sec, &cfg, ep, caller);
  gst_mcp_fanout_add (self->fanout, socket, caller, &cfg);
}

static void
endpoint_connect_failed (McpEndpoint * ep, gint caller, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  GstTcpMeshRouter *self = user_data;

  gst_mcp_callers_failed (self->callers, caller, reason, retry_in);
}

static const McpEndpointFuncs endpoint_funcs = {
  endpoint_connection,
  endpoint_connect_failed,
  gst_mcp_tcp_accept_failed,
};

/* ---- the sink pad: this island's datagrams ----------------------------- */

static void
take_local (GstTcpMeshRouter * self, GstBuffer * buffer)
{
  GstMcpMeta *meta = gst_buffer_get_mcp_meta (buffer);
  McpFrameMeta info;
  McpLoopGuardVerdict verdict;

  if (meta) {
    info = meta->info;
  } else {
    memset (&info, 0, sizeof (info));
    info.origin_id = self->node_id;
    info.capture_time = g_get_real_time () * 1000;
  }
  GST_OBJECT_LOCK (self);
  self->local_in++;
  self->local_bytes_in += gst_buffer_get_size (buffer);
  if (!meta)
    info.seq = self->seq++;
  /* remembered, so that it is dropped if it comes back round the mesh */
  verdict = mcp_loop_guard_admit (self->guard, &info, g_get_monotonic_time ());
  GST_OBJECT_UNLOCK (self);
  if (verdict == MCP_LOOP_GUARD_PASS)
    forward (self, buffer, &info, NULL);
}

static GstFlowReturn
gst_tcp_mesh_router_chain (GstPad * pad, GstObject * parent, GstBuffer * buffer)
{
  take_local (GST_TCP_MESH_ROUTER (parent), buffer);
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_tcp_mesh_router_chain_list (GstPad * pad, GstObject * parent,
    GstBufferList * list)
{
  guint i, n = gst_buffer_list_length (list);

  for (i = 0; i < n; i++)
    take_local (GST_TCP_MESH_ROUTER (parent), gst_buffer_list_get (list, i));
  gst_buffer_list_unref (list);
  return GST_FLOW_OK;
}

static gboolean
gst_tcp_mesh_router_sink_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  /* The src pad carries the peers' stream, not this one: the local
   * stream's events (caps, EOS of a relay, ...) stay here. */
  gst_event_unref (event);
  return TRUE;
}

/* What the mesh wants of this island's captures, per origin island, for
 * the elements upstream (mcastsrc-relay); from then on they are told of
 * changes with the upstream event. */
static gboolean
gst_tcp_mesh_router_sink_query (GstPad * pad, GstObject * parent,
    GstQuery * query)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (parent);

  if (gst_mcp_subs_query_is (query)) {
    GArray *peers;

    g_mutex_lock (&self->subs_lock);
    peers = wanted_of_captures (self);
    gst_mcp_subs_query_set (query, peers);
    self->subs_live = TRUE;
    g_clear_pointer (&self->subs_told, gst_structure_free);
    self->subs_told = gst_structure_copy (gst_query_get_structure (query));
    gst_structure_remove_field (self->subs_told, "answered");
    g_mutex_unlock (&self->subs_lock);
    g_array_unref (peers);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

/* The union of what the elements downstream want; NULL stays NULL. */
static McpSubSet *
local_wants (const GArray * peers)
{
  return peers ? gst_mcp_subs_union (peers, 0) : NULL;
}

/* What this island's listeners want now (tcpremcastsink with a scope). */
static gboolean
gst_tcp_mesh_router_src_event (GstPad * pad, GstObject * parent,
    GstEvent * event)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (parent);
  GArray *peers = gst_mcp_subs_event_parse (event);

  if (!peers)
    return gst_pad_event_default (pad, parent, event);
  g_mutex_lock (&self->subs_lock);
  mcp_sub_set_free (self->local_subs);
  self->local_subs = local_wants (peers);
  g_mutex_unlock (&self->subs_lock);
  g_array_unref (peers);
  gst_event_unref (event);
  subs_update (self);
  return TRUE;
}

/* ---- the src pad: the other islands' datagrams ------------------------- */

static void
src_loop (gpointer data)
{
  GstTcpMeshRouter *self = data;
  GstBuffer *buf;
  GstClockTime now;
  GstFlowReturn ret;
  gboolean first;

  g_mutex_lock (&self->lock);
  while (g_queue_is_empty (&self->output) && !self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  if (self->flushing) {
    g_mutex_unlock (&self->lock);
    gst_pad_pause_task (self->srcpad);
    return;
  }
  buf = g_queue_pop_head (&self->output);
  self->output_bytes -= gst_buffer_get_size (buf);
  first = !self->started;
  self->started = TRUE;
  g_mutex_unlock (&self->lock);

  if (first) {
    GstSegment segment;
    gchar *id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self),
        NULL);

    /* no caps: the datagrams are the other islands', whatever they are */
    gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
    g_free (id);
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
  }
  /* timestamped when pushed, as a live source does */
  buf = gst_buffer_make_writable (buf);
  now = gst_mcp_running_time_now (GST_ELEMENT (self));
  if (GST_CLOCK_TIME_IS_VALID (now))
    GST_BUFFER_PTS (buf) = now;
  ret = gst_pad_push (self->srcpad, buf);
  if (ret == GST_FLOW_OK) {
    GST_OBJECT_LOCK (self);
    self->datagrams_out++;
    GST_OBJECT_UNLOCK (self);
  } else if (ret == GST_FLOW_FLUSHING || ret == GST_FLOW_EOS) {
    gst_pad_pause_task (self->srcpad);
  } else {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_pause_task (self->srcpad);
  }
}

static gboolean
gst_tcp_mesh_router_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (parent);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&self->lock);
  self->flushing = !active;
  if (!active)
    g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (active)
    return gst_pad_start_task (pad, src_loop, self, NULL);
  return gst_pad_stop_task (pad);
}

/* ---- GObject ----------------------------------------------------------- */

static void
gst_tcp_mesh_router_class_init (GstTcpMeshRouterClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_tcp_mesh_router_set_property;
  gobject_class->get_property = gst_tcp_mesh_router_get_property;
  gobject_class->finalize = gst_tcp_mesh_router_finalize;

  gst_mcp_tcp_install_properties_spec (gobject_class, &tcp_spec);
  g_object_class_install_property (gobject_class, PROP_ISLAND_ID,
      g_param_spec_uint64 ("island-id", "Island id",
          "This island's id: the peer id of its links and the origin of its "
          "datagrams (mcastsrc-relay peer-id must be the same); 0: random",
          0, G_MAXUINT64, DEFAULT_ISLAND_ID, rw | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_PEERS,
      g_param_spec_string ("peers", "Peers",
          "Peers this node calls, \"host:port\" separated by spaces or "
          "commas (each link needs to be listed on one side only)",
          DEFAULT_PEERS, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_HOPS,
      gst_mcp_param_spec_uint ("max-hops", "Max hops",
          "Drop a datagram that crossed more links than this (0: no limit)",
          0, 255, DEFAULT_MAX_HOPS, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_BYTES,
      g_param_spec_uint64 ("max-queue-bytes", "Max queue bytes",
          "How far (payload bytes) a link may fall behind (0: no limit)", 0,
          G_MAXUINT64, DEFAULT_MAX_QUEUE_BYTES,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_QUEUE_TIME,
      g_param_spec_uint64 ("max-queue-time", "Max queue time",
          "How far (ns) a link may fall behind (0: no limit)", 0,
          G_MAXUINT64, DEFAULT_MAX_QUEUE_TIME, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_SLOW_CLIENT_POLICY,
      g_param_spec_enum ("slow-client-policy", "Slow link policy",
          "What happens to a link that falls behind the queue limits",
          GST_TYPE_MCP_SLOW_CLIENT_POLICY, DEFAULT_SLOW_CLIENT_POLICY,
          rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_MAX_PEERS,
      g_param_spec_uint ("max-peers", "Max peers",
          "Links accepted beyond this many (counting those we called) are "
          "closed at once (0: no limit)", 0, G_MAXUINT, DEFAULT_MAX_PEERS,
          rw | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstTcpMeshRouter::get-stats:
   *
   * Returns a "tcpmeshrouter-stats" structure, with the links in
   * "client-list".
   */
  signals[SIGNAL_GET_STATS] = g_signal_new_class_handler ("get-stats",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_tcp_mesh_router_get_stats), NULL, NULL, NULL,
      GST_TYPE_STRUCTURE, 0);
  /**
   * GstTcpMeshRouter::peer-added:
   * @address: the peer's "ip:port"
   * @peer_id: its island id
   *
   * A link finished its handshake. Emitted on the element's network thread.
   */
  signals[SIGNAL_PEER_ADDED] = g_signal_new ("peer-added",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT64);
  /**
   * GstTcpMeshRouter::peer-removed:
   * @address: the peer's "ip:port"
   * @reason: why the link ended
   *
   * Emitted on the element's network thread, or at stop on the thread
   * stopping the element.
   */
  signals[SIGNAL_PEER_REMOVED] = g_signal_new ("peer-removed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "TCP mesh router", "Filter/Network",
      "Links island gateways into a mesh: forwards each datagram once to "
      "every island, over any path", "mcastproxy developers");

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_change_state);
  gst_type_mark_as_plugin_api (GST_TYPE_MCP_SLOW_CLIENT_POLICY, 0);
}

static void
gst_tcp_mesh_router_init (GstTcpMeshRouter * self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_chain));
  gst_pad_set_chain_list_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_chain_list));
  gst_pad_set_event_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_sink_event));
  gst_pad_set_query_function (self->sinkpad,
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_src_activate_mode));
  gst_pad_set_event_function (self->srcpad,
      GST_DEBUG_FUNCPTR (gst_tcp_mesh_router_src_event));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  gst_mcp_tcp_settings_init_spec (&self->tcp, &tcp_spec);
  self->tcp.peer_id = DEFAULT_ISLAND_ID;
  self->peers = g_strdup (DEFAULT_PEERS);
  self->guard = mcp_loop_guard_new ();
  self->max_hops = DEFAULT_MAX_HOPS;
  mcp_loop_guard_set_max_hops (self->guard, DEFAULT_MAX_HOPS);
  self->max_queue_bytes = DEFAULT_MAX_QUEUE_BYTES;
  self->max_queue_time = DEFAULT_MAX_QUEUE_TIME;
  self->slow_client_policy = DEFAULT_SLOW_CLIENT_POLICY;
  self->max_peers = DEFAULT_MAX_PEERS;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->output);
  g_mutex_init (&self->subs_lock);
  self->subs_peers = g_hash_table_new_full (g_int64_hash, g_int64_equal,
      g_free, NULL);
  self->fanout = gst_mcp_fanout_new (GST_ELEMENT (self), &fanout_funcs, self);
  self->callers = gst_mcp_callers_new (GST_ELEMENT (self));
}

static void
clear_output (GstTcpMeshRouter * self)
{
  GstBuffer *buf;

  while ((buf = g_queue_pop_head (&self->output)))
    gst_buffer_unref (buf);
  self->output_bytes = 0;
}

static void
gst_tcp_mesh_router_finalize (GObject * object)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (object);

  gst_mcp_fanout_free (self->fanout);
  gst_mcp_callers_free (self->callers);
  clear_output (self);
  g_free (self->peers);
  gst_mcp_tcp_settings_clear (&self->tcp);
  mcp_loop_guard_free (self->guard);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  mcp_sub_route_free (self->route);
  mcp_sub_set_free (self->local_subs);
  g_hash_table_unref (self->subs_peers);
  g_clear_pointer (&self->subs_told, gst_structure_free);
  g_mutex_clear (&self->subs_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
configure_fanout (GstTcpMeshRouter * self)
{
  guint64 max_bytes, max_time;
  GstMcpSlowClientPolicy policy;

  GST_OBJECT_LOCK (self);
  max_bytes = self->max_queue_bytes;
  max_time = self->max_queue_time;
  policy = self->slow_client_policy;
  GST_OBJECT_UNLOCK (self);
  /* Never back to the island a datagram came from; of two links to one
   * island (both ends called) only one carries data. */
  gst_mcp_fanout_configure (self->fanout, max_bytes, max_time, policy, TRUE,
      TRUE);
}

static void
gst_tcp_mesh_router_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (object);

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
    case PROP_ISLAND_ID:
      self->tcp.peer_id = g_value_get_uint64 (value);
      break;
    case PROP_PEERS:
      g_free (self->peers);
      self->peers = g_value_dup_string (value);
      break;
    case PROP_MAX_HOPS:
      /* kept as written; out of range, the element does not start */
      self->max_hops = g_value_get_uint (value);
      if (self->max_hops <= 255) {
        mcp_loop_guard_set_max_hops (self->guard, self->max_hops);
        GST_OBJECT_UNLOCK (self);
        g_mutex_lock (&self->subs_lock);
        if (self->route)
          mcp_sub_route_set_max_hops (self->route, self->max_hops);
        g_mutex_unlock (&self->subs_lock);
        subs_update (self);
        GST_OBJECT_LOCK (self);
      }
      break;
    case PROP_MAX_QUEUE_BYTES:
      self->max_queue_bytes = g_value_get_uint64 (value);
      break;
    case PROP_MAX_QUEUE_TIME:
      self->max_queue_time = g_value_get_uint64 (value);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      self->slow_client_policy = g_value_get_enum (value);
      break;
    case PROP_MAX_PEERS:
      self->max_peers = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  configure_fanout (self);
}

static void
gst_tcp_mesh_router_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (object);

  GST_OBJECT_LOCK (self);
  if (gst_mcp_tcp_settings_get (&self->tcp, prop_id, value)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  switch (prop_id) {
    case PROP_ISLAND_ID:
      g_value_set_uint64 (value, self->tcp.peer_id);
      break;
    case PROP_PEERS:
      g_value_set_string (value, self->peers);
      break;
    case PROP_MAX_HOPS:
      g_value_set_uint (value, self->max_hops);
      break;
    case PROP_MAX_QUEUE_BYTES:
      g_value_set_uint64 (value, self->max_queue_bytes);
      break;
    case PROP_MAX_QUEUE_TIME:
      g_value_set_uint64 (value, self->max_queue_time);
      break;
    case PROP_SLOW_CLIENT_POLICY:
      g_value_set_enum (value, self->slow_client_policy);
      break;
    case PROP_MAX_PEERS:
      g_value_set_uint (value, self->max_peers);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* ---- state ------------------------------------------------------------- */

/* NULL->READY: the listener (so that current-port is known) and the
 * peers to call. */
static gboolean
open_endpoint (GstTcpMeshRouter * self)
{
  gchar *peers;
  gboolean ok;

  GST_OBJECT_LOCK (self);
  peers = g_strdup (self->peers);
  GST_OBJECT_UNLOCK (self);
  ok = gst_mcp_tcp_open_peers (GST_ELEMENT (self), &self->tcp, peers,
      &self->endpoint);
  g_free (peers);
  return ok;
}

static gboolean
start (GstTcpMeshRouter * self)
{
  guint64 island_id, interval;

  if (!gst_mcp_security_prepare (GST_ELEMENT (self), &self->tcp.sec, TRUE,
          mcp_endpoint_get_n_callers (self->endpoint) > 0))
    return FALSE;

  GST_OBJECT_LOCK (self);
  island_id = self->tcp.peer_id;
  interval = self->tcp.stats_interval;
  self->node_id = gst_mcp_tcp_pick_peer_id (island_id);
  self->seq = mcp_seq_new_epoch ();
  self->local_in = self->peer_in = self->forwarded = 0;
  self->local_bytes_in = self->peer_bytes_in = 0;
  self->datagrams_out = self->output_dropped = 0;
  /* dedup always on: each island gets a datagram once, whatever the paths */
  mcp_loop_guard_start (self->guard, TRUE);
  GST_OBJECT_UNLOCK (self);

  g_mutex_lock (&self->lock);
  self->started = FALSE;
  g_mutex_unlock (&self->lock);

  /* what this island's listeners want, if the elements downstream take
   * part (else everything, as before subscriptions) */
  {
    GArray *peers = gst_mcp_subs_ask_downstream (self->srcpad);
    guint max_hops;

    GST_OBJECT_LOCK (self);
    max_hops = self->max_hops;
    GST_OBJECT_UNLOCK (self);
    g_mutex_lock (&self->subs_lock);
    mcp_sub_set_free (self->local_subs);
    self->local_subs = local_wants (peers);
    self->route = mcp_sub_route_new (self->node_id);
    mcp_sub_route_set_max_hops (self->route, max_hops);
    g_hash_table_remove_all (self->subs_peers);
    g_mutex_unlock (&self->subs_lock);
    if (peers)
      g_array_unref (peers);
  }

  configure_fanout (self);
  /* before the endpoint: a peer may be linked at once */
  gst_mcp_callers_reset (self->callers, self->endpoint);
  gst_mcp_fanout_start (self->fanout, self->endpoint);
  mcp_endpoint_start (self->endpoint, "tcpmeshrouter", &endpoint_funcs, self);
  gst_mcp_stats_timer_start (&self->stats_timer, GST_ELEMENT (self), interval,
      (GstMcpStatsFunc) gst_tcp_mesh_router_get_stats);
  return TRUE;
}

static void
stop (GstTcpMeshRouter * self)
{
  gst_mcp_stats_timer_stop (&self->stats_timer);
  /* joins the network thread: from here on this thread is alone */
  mcp_endpoint_stop (self->endpoint);
  g_mutex_lock (&self->subs_lock);
  g_clear_pointer (&self->route, mcp_sub_route_free);
  g_hash_table_remove_all (self->subs_peers);
  g_mutex_unlock (&self->subs_lock);
  gst_mcp_fanout_stop (self->fanout);
  gst_mcp_security_release (&self->tcp.sec);
  GST_OBJECT_LOCK (self);
  mcp_loop_guard_stop (self->guard);
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->lock);
  clear_output (self);
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_tcp_mesh_router_change_state (GstElement * element,
    GstStateChange transition)
{
  GstTcpMeshRouter *self = GST_TCP_MESH_ROUTER (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!gst_mcp_props_check (element) || !open_endpoint (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!start (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop (self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      gst_mcp_tcp_close (element, &self->tcp, &self->endpoint);
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* what peers send comes whenever it comes: live, no preroll */
      ret = GST_STATE_CHANGE_NO_PREROLL;
      break;
    default:
      break;
  }
  return ret;
}

/* ---- statistics -------------------------------------------------------- */

/* "routes": per origin island that wants something, the next hop toward
 * it, its distance and what it wants; "local-subscriptions": what this
 * island's listeners want ("*": not known, everything). */
static void
add_route_stats (GstTcpMeshRouter * self, GstStructure * s)
{
  GValue list = G_VALUE_INIT;
  gchar *local;

  g_value_init (&list, GST_TYPE_ARRAY);
  g_mutex_lock (&self->subs_lock);
  local = self->local_subs ? mcp_sub_set_to_string (self->local_subs) :
      g_strdup ("*");
  if (self->route) {
    GArray *routes = mcp_sub_route_get_routes (self->route);
    guint i;

    for (i = 0; i < routes->len; i++) {
      McpSubRouteEntry *e = &g_array_index (routes, McpSubRouteEntry, i);
      gchar *text = mcp_sub_set_to_string (e->set);
      GstStructure *rs = gst_structure_new ("route",
          "origin", G_TYPE_UINT64, e->origin,
          "next-hop", G_TYPE_UINT64, e->next_hop,
          "distance", G_TYPE_UINT, e->distance,
          "subscriptions", G_TYPE_STRING, text, NULL);
      GValue v = G_VALUE_INIT;

      g_free (text);
      g_value_init (&v, GST_TYPE_STRUCTURE);
      gst_value_set_structure (&v, rs);
      gst_structure_free (rs);
      gst_value_array_append_and_take_value (&list, &v);
    }
    g_array_unref (routes);
  }
  g_mutex_unlock (&self->subs_lock);
  gst_structure_set (s, "local-subscriptions", G_TYPE_STRING, local, NULL);
  g_free (local);
  gst_structure_take_value (s, "routes", &list);
}

static GstStructure *
gst_tcp_mesh_router_get_stats (GstTcpMeshRouter * self)
{
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  s = gst_structure_new ("tcpmeshrouter-stats",
      "island-id", G_TYPE_UINT64, self->node_id,
      "datagrams-in", G_TYPE_UINT64, self->local_in,
      "bytes-in", G_TYPE_UINT64, self->local_bytes_in,
      "datagrams-received", G_TYPE_UINT64, self->peer_in,
      "bytes-received", G_TYPE_UINT64, self->peer_bytes_in,
      "datagrams-forwarded", G_TYPE_UINT64, self->forwarded,
      "datagrams-duplicate", G_TYPE_UINT64,
      mcp_loop_guard_get_duplicates (self->guard),
      "datagrams-hops-exceeded", G_TYPE_UINT64,
      mcp_loop_guard_get_hops_exceeded (self->guard),
      "datagrams-out", G_TYPE_UINT64, self->datagrams_out,
      "datagrams-dropped", G_TYPE_UINT64, self->output_dropped,
      "dropped-output", G_TYPE_UINT64, self->output_dropped, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_mcp_callers_add_stats (self->callers, s);
  gst_mcp_security_add_stats (GST_ELEMENT (self), &self->tcp.sec, s);
  gst_mcp_fanout_fill_stats (self->fanout, s);
  add_route_stats (self, s);
  return s;
}
