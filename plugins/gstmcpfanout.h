/* mcastproxy — fan-out of datagrams to TCP connections: one shared queue
 * of buffers, each connection a position in it, written on the endpoint's
 * thread. Used by tcpsplitsink (clients) and tcpmeshrouter (peers). */
#ifndef __GST_MCP_FANOUT_H__
#define __GST_MCP_FANOUT_H__

#include <gst/gst.h>

#include "gstmcpenums.h"
#include "gstmcpsubs.h"
#include "gstmcptcp.h"
#include "mcp-conn.h"
#include "mcp-endpoint.h"
#include "mcp-ts.h"

G_BEGIN_DECLS

typedef struct _GstMcpFanout GstMcpFanout;
typedef struct _GstMcpFanoutClient GstMcpFanoutClient;

/* A connection that finished its handshake (client_added). */
typedef struct
{
  const gchar *address;         /* the peer's "ip:port" */
  McpFraming framing;
  guint64 peer_id;              /* from its HELLO; 0 when it sent none */
  gint caller;                  /* the endpoint's caller number, or
                                 * MCP_ENDPOINT_ACCEPTED */
} GstMcpClientInfo;

/* client_added and client_removed are told in the order they happened,
 * from an idle callback on the endpoint's thread with no lock held (so
 * that the owner may emit signals), or at stop on the thread stopping the
 * fan-out. */
typedef struct
{
  /* A connection finished its handshake and gets the datagrams from the
   * next one on. */
  void (*client_added) (GstMcpFanout * fo, const GstMcpClientInfo * client,
      gpointer user_data);
  /* A connection ended (or was refused at its handshake). */
  void (*client_removed) (GstMcpFanout * fo,
      const GstMcpConnEnd * removal, gpointer user_data);
  /* Optional: a DATA or CAPS message the connection sent (mesh peers send
   * as well as receive). Endpoint thread (or whoever drives the
   * connection), with the fan-out's lock held: emit no signal here. */
  void (*message) (GstMcpFanout * fo, GstMcpFanoutClient * client,
      McpDecodeResult kind, const McpMessage * msg, gpointer user_data);
  /* Optional: an HTTP client's GET or HEAD (connections added with
   * McpConnConfig.http_path), to answer with mcp_conn_http_respond() on
   * gst_mcp_fanout_client_get_conn(), now or later. Without it the request
   * gets gst_mcp_http_answer(). Endpoint thread, with the lock held. */
  void (*http_request) (GstMcpFanout * fo, GstMcpFanoutClient * client,
      const McpHttpRequest * request, gpointer user_data);
  /* Optional: the owner takes part in subscriptions. Then a connection
   * whose peer subscribes (mpx SUBSCRIBE) gets only the datagrams it
   * subscribed to, and this is told, as client_added and client_removed
   * are, after each of them and whenever a peer's subscriptions changed:
   * gst_mcp_fanout_get_subscriptions() says what everyone wants now. */
  void (*subscriptions) (GstMcpFanout * fo, gpointer user_data);
} GstMcpFanoutFuncs;

/* owner: for logging and bus messages. */
GstMcpFanout *gst_mcp_fanout_new (GstElement * owner,
    const GstMcpFanoutFuncs * funcs, gpointer user_data);
/* The same, with a lock shared by several fan-outs (and so by all their
 * connections), between which clients may move (gst_mcp_fanout_move). */
GstMcpFanout *gst_mcp_fanout_new_shared (GstElement * owner,
    const GstMcpFanoutFuncs * funcs, gpointer user_data, GRecMutex * lock);
void gst_mcp_fanout_free (GstMcpFanout * fo);

/* How far a connection may fall behind and what happens then; whether a
 * datagram goes back to the peer it came from (its origin id equals the
 * peer's id); whether of several connections with one peer id only the
 * oldest gets data (the others stand by and take over). Any thread. */
void gst_mcp_fanout_configure (GstMcpFanout * fo, guint64 max_bytes,
    guint64 max_time, GstMcpSlowClientPolicy policy, gboolean no_echo,
    gboolean one_per_peer);

/* Before the endpoint starts: connections will get its thread; a caller's
 * connection that ends is called again. */
void gst_mcp_fanout_start (GstMcpFanout * fo, McpEndpoint * ep);
/* With the endpoint's thread stopped: closes every connection ("element
 * stopped"), empties the queue, delivers pending removals. */
void gst_mcp_fanout_stop (GstMcpFanout * fo);

/* Endpoint thread: serves a new connection (socket: transfer full); caller
 * is the endpoint's caller number or MCP_ENDPOINT_ACCEPTED. */
void gst_mcp_fanout_add (GstMcpFanout * fo, GSocket * socket, gint caller,
    const McpConnConfig * cfg);
guint gst_mcp_fanout_get_n_connections (GstMcpFanout * fo);

/* Any thread: queues a datagram for every active connection but `from`
 * (NULL: none excluded) and gets it written. Returns FALSE when no
 * connection is active (the datagram is not kept). */
gboolean gst_mcp_fanout_push (GstMcpFanout * fo, GstBuffer * buffer,
    const McpFrameMeta * meta, GstMcpFanoutClient * from);
/* The same in two steps, for many datagrams at once: queue each, then
 * flush once. */
gboolean gst_mcp_fanout_queue (GstMcpFanout * fo, GstBuffer * buffer,
    const McpFrameMeta * meta, GstMcpFanoutClient * from);
void gst_mcp_fanout_flush (GstMcpFanout * fo);
/* Any thread: new caps, announced in HELLOs and in-band to mpx peers. */
void gst_mcp_fanout_set_caps (GstMcpFanout * fo, const gchar * caps);

/* Fast start. With max_bytes > 0 the fan-out keeps what it queued since
 * the last gst_mcp_fanout_mark_random_access() (even while no connection
 * is active), up to max_bytes; a raw connection that becomes active gets
 * that mark's prefix, then everything queued since, then the live stream,
 * at its own pace. Beyond max_bytes the mark is forgotten (no burst until
 * the next one). The queue limits count what lies before the mark. 0: no
 * burst (the default). Any thread. */
void gst_mcp_fanout_set_burst (GstMcpFanout * fo, guint64 max_bytes);
/* Right after queueing the datagram that holds a random-access point:
 * prefix (transfer none) is what a new raw client gets first (for MPEG-TS:
 * the PAT, the PMT and that datagram from the random-access packet on);
 * the datagrams queued from now on follow it. */
void gst_mcp_fanout_mark_random_access (GstMcpFanout * fo, GBytes * prefix);

/* Feeds an MPEG-TS datagram just queued to ts; when it holds a
 * random-access point (and the PAT and PMT are known), marks it with the
 * prefix the PAT, the PMT and the datagram from that packet on, and
 * returns TRUE. */
gboolean gst_mcp_fanout_mark_keyframe (GstMcpFanout * fo, McpTsTracker * ts,
    GstBuffer * buffer);

/* Moves a connection that is not active yet (an HTTP client whose request
 * named what it wants) to fan-out `to`, which shares its lock. With the
 * lock held. */
void gst_mcp_fanout_move (GstMcpFanoutClient * client, GstMcpFanout * to);
McpConn *gst_mcp_fanout_client_get_conn (GstMcpFanoutClient * client);
GstMcpFanout *gst_mcp_fanout_client_get_fanout (GstMcpFanoutClient * client);
/* Ends every connection gracefully (mcp_conn_finish) with reason. */
void gst_mcp_fanout_finish_all (GstMcpFanout * fo, const gchar * reason);
/* No connection left, and the owner has been told of every removal: the
 * fan-out may be stopped and freed on the endpoint's thread. */
gboolean gst_mcp_fanout_is_idle (GstMcpFanout * fo);

/* Fields: datagrams-sent, bytes-sent, reconnects, dropped-resync,
 * dropped-oversize (both added to datagrams-dropped), clients,
 * clients-total, clients-dropped, bursts, queue-datagrams, queue-bytes,
 * client-list. */
void gst_mcp_fanout_fill_stats (GstMcpFanout * fo, GstStructure * s);
/* What the active connections want (GstMcpSubsPeer, gstmcpsubs.h): per
 * peer id, its subscriptions, or everything for a peer that takes no part
 * (raw and HTTP clients, older peers). A new list. */
GArray *gst_mcp_fanout_get_subscriptions (GstMcpFanout * fo);
/* With funcs.subscriptions: the datagrams the connections of peer_id get
 * are those set wants (copied), whatever the peer subscribed to; NULL:
 * back to what it subscribed to. Any thread. */
void gst_mcp_fanout_set_peer_filter (GstMcpFanout * fo, guint64 peer_id,
    const McpSubSet * set);
/* Calls func for every active connection, with the lock held (so func may
 * use the connection, e.g. mcp_conn_set_origin_subscriptions). Any
 * thread. */
typedef void (*GstMcpFanoutConnFunc) (McpConn * conn, guint64 peer_id,
    gpointer user_data);
void gst_mcp_fanout_foreach_conn (GstMcpFanout * fo,
    GstMcpFanoutConnFunc func, gpointer user_data);

G_END_DECLS

#endif /* __GST_MCP_FANOUT_H__ */
