/* mcastproxy — one channel of a channel gateway: the receive side of one
 * multicast group (socket, membership, batch reads on the endpoint's
 * thread), RTP stripping and reordering for /rtp/ channels, MPEG-TS
 * random-access tracking for the fast-start burst, and the fan-out to the
 * channel's HTTP clients. */
#ifndef __GST_MCP_CHANNEL_H__
#define __GST_MCP_CHANNEL_H__

#include <gst/gst.h>

#include "gstmcpfanout.h"
#include "mcp-channel.h"
#include "mcp-mcast.h"
#include "mcp-membership.h"

G_BEGIN_DECLS

typedef struct _GstMcpChannel GstMcpChannel;

typedef struct
{
  /* The channel became ready for clients (gst_mcp_channel_is_ready). */
  void (*ready) (GstMcpChannel * ch, gpointer user_data);
  /* Nothing arrived for the timeout, with clients waiting or served. */
  void (*silent) (GstMcpChannel * ch, gpointer user_data);
} GstMcpChannelFuncs;

/* What every channel of a gateway shares; the gateway owns it. */
typedef struct
{
  GstElement *owner;
  McpEndpoint *endpoint;        /* its thread runs every channel */
  GRecMutex *lock;              /* the gateway's: every fan-out shares it */
  McpMembership *membership;    /* joins, reference-counted */
  GPtrArray *ifnames;           /* interface names; empty: the default */
  gint buffer_size;             /* SO_RCVBUF; 0: the kernel's default */
  guint64 timeout;              /* ns of silence before `silent`; 0: never */
  guint64 batch_latency;        /* ns to wait after a quiet spell; 0: none */
  guint64 burst_max_bytes;      /* 0: no fast-start burst */
  guint64 max_queue_bytes, max_queue_time;
  GstMcpSlowClientPolicy policy;
  guint64 origin_id;            /* of the datagrams, for mpx clients */
  McpDatagram *slots;           /* scratch for batch reads (one thread) */
  guint n_slots;
  const GstMcpFanoutFuncs *fanout_funcs;
  const GstMcpChannelFuncs *funcs;
} GstMcpChannelShared;

/* Endpoint thread, with the lock held: opens the socket, joins and starts
 * reading; user_data goes to the channel's and its fan-out's callbacks.
 * NULL with error set when the group cannot be received. */
GstMcpChannel *gst_mcp_channel_new (const GstMcpChannelShared * shared,
    const McpChannelSpec * spec, gpointer user_data, GError ** error);
/* Leaves the group for reason (for the log and the membership's
 * notification), closes the socket, stops the fan-out (which must have no
 * connection left, or the endpoint's thread must have stopped). */
void gst_mcp_channel_free (GstMcpChannel * ch, const gchar * reason);

GstMcpFanout *gst_mcp_channel_get_fanout (GstMcpChannel * ch);
/* The canonical path ("/udp/239.1.1.1:5000"). */
const gchar *gst_mcp_channel_get_path (GstMcpChannel * ch);
const McpChannelSpec *gst_mcp_channel_get_spec (GstMcpChannel * ch);
/* NULL until the first datagram; then video/mp2t for MPEG-TS, otherwise
 * application/octet-stream. */
const gchar *gst_mcp_channel_get_content_type (GstMcpChannel * ch);

/* Clients may start: the first datagram arrived and, for an MPEG-TS
 * channel with a burst, a key frame too (so that they start with one). */
gboolean gst_mcp_channel_is_ready (GstMcpChannel * ch);

/* A structure "channel" of the statistics (group, port, source, kind,
 * datagrams-received, bytes-received, the RTP counters, ...) and the
 * fan-out's. With the lock held. */
GstStructure *gst_mcp_channel_get_stats (GstMcpChannel * ch);

G_END_DECLS

#endif /* __GST_MCP_CHANNEL_H__ */
