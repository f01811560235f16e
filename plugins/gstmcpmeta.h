/* mcastproxy — per-datagram metadata travelling with buffers. */
#ifndef __GST_MCP_META_H__
#define __GST_MCP_META_H__

#include <gio/gio.h>
#include <gst/gst.h>
#include <sys/socket.h>

#include "mcp-wire.h"

G_BEGIN_DECLS

/* Origin, sequence, capture time, hops, original group and sender of a
 * datagram: set by mcastsrc-relay (at capture), tcpsplitsrc and
 * tcpmeshrouter (from mpx frames, one hop more); written by tcpsplitsink
 * and tcpmeshrouter into mpx frames; read by tcpremcastsink
 * original-group=true (and original-source=true). */
typedef struct
{
  GstMeta meta;
  McpFrameMeta info;
} GstMcpMeta;

#define GST_MCP_META_API_TYPE (gst_mcp_meta_api_get_type ())
GType gst_mcp_meta_api_get_type (void);
const GstMetaInfo *gst_mcp_meta_get_info (void);

GstMcpMeta *gst_buffer_add_mcp_meta (GstBuffer * buffer,
    const McpFrameMeta * info);
#define gst_buffer_get_mcp_meta(b) \
  ((GstMcpMeta *) gst_buffer_get_meta ((b), GST_MCP_META_API_TYPE))

/* A buffer holding a copy of a datagram's len bytes (an empty one for an
 * empty datagram, which gst_buffer_new_memdup() refuses). */
GstBuffer *gst_mcp_buffer_new_datagram (const guint8 * data, gsize len);

/* The element's running time now, as a live source stamps what it
 * pushes; GST_CLOCK_TIME_NONE without a clock. */
GstClockTime gst_mcp_running_time_now (GstElement * element);

/* Fills info's group and port from a GInetAddress and port. */
void gst_mcp_meta_set_group (McpFrameMeta * info, GInetAddress * group,
    guint16 port);

/* Fills info's source from the sender's socket address, when it is of the
 * family of info's group (set that first); clears it otherwise. */
void gst_mcp_meta_set_source (McpFrameMeta * info,
    const struct sockaddr_storage *from);

G_END_DECLS

#endif /* __GST_MCP_META_H__ */
