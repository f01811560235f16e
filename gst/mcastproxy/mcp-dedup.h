/* mcastproxy — duplicate suppression for forwarded datagrams.
 *
 * A datagram can reach a relay twice (redundant paths, a reconnect that
 * replays). Each stream — origin id, address family, group and port of its
 * McpFrameMeta — keeps its highest sequence number and a bitmap of the
 * positions below it, like the IPsec/DTLS anti-replay window.
 * Pure code: no sockets, no GStreamer. Not thread-safe: one owner.
 */
#ifndef __MCP_DEDUP_H__
#define __MCP_DEDUP_H__

#include <glib.h>

#include "mcp-wire.h"

G_BEGIN_DECLS

typedef enum
{
  MCP_DEDUP_NEW,                /* first time seen: forward it */
  MCP_DEDUP_DUPLICATE,          /* seen before: drop it */
  MCP_DEDUP_TOO_OLD,            /* below the window: cannot tell, drop it */
} McpDedupResult;

typedef struct _McpDedup McpDedup;

/* window: how many sequence numbers back a duplicate is recognised (rounded
 * up to a multiple of 64, at least 64); max_origins: most streams tracked at
 * once, at least 1 (the one idle longest is forgotten to make room);
 * idle_expiry_us: a stream not seen for longer than this is forgotten
 * (0: never). */
McpDedup *mcp_dedup_new (guint window, guint max_origins,
    gint64 idle_expiry_us);
void mcp_dedup_free (McpDedup * dedup);

/* Whether this datagram was seen before. A stream is identified by
 * origin_id, family, group and port of meta (for IPv4 only the first 4 bytes
 * of group count), its position by meta->seq. now_us: a monotonic time in
 * microseconds supplied by the caller. Allocates only for a new stream. */
McpDedupResult mcp_dedup_check (McpDedup * dedup, const McpFrameMeta * meta,
    gint64 now_us);

/* Streams tracked, including idle ones not yet collected (collection happens
 * in mcp_dedup_check). */
guint mcp_dedup_get_n_streams (McpDedup * dedup);

/* Where the sequence numbers of a new stream start: a random 24-bit epoch in
 * the top bits, (random 24 bits) << 40, so that a restarted origin (same
 * origin id, counting again) is told from its old duplicates. */
guint64 mcp_seq_new_epoch (void);

G_END_DECLS

#endif /* __MCP_DEDUP_H__ */
