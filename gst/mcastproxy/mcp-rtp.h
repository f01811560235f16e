/* mcastproxy — RTP (RFC 3550) headers, and a window that puts packets back
 * in sequence order and drops duplicates.
 *
 * Pure code: no sockets, no GStreamer. Not thread-safe: one owner.
 */
#ifndef __MCP_RTP_H__
#define __MCP_RTP_H__

#include <glib.h>

G_BEGIN_DECLS

#define MCP_RTP_ERROR (mcp_rtp_error_quark ())
GQuark mcp_rtp_error_quark (void);

typedef enum
{
  MCP_RTP_ERROR_INVALID,        /* not an RTP packet, or a broken one */
} McpRtpError;

typedef struct
{
  guint8 payload_type;
  gboolean marker;
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  gsize payload_offset;         /* after CSRCs and the header extension */
  gsize payload_len;            /* without the padding */
} McpRtpHeader;

/* Version 2 only; skips the CSRC list, the header extension (4 bytes and
 * length * 4) and the padding (the last byte counts it, itself included).
 * FALSE with a one-line reason when the packet is too short for what its
 * header says, or not version 2. */
gboolean mcp_rtp_parse (const guint8 * data, gsize len, McpRtpHeader * hdr,
    GError ** error);

/* A sequence number this far (forwards or backwards) from the highest one
 * seen means the source restarted. */
#define MCP_RTP_REORDER_MAX_JUMP 1000

typedef struct _McpRtpReorder McpRtpReorder;

/* window: how many packets may wait for a missing one (1 to 16384; they
 * are at most window sequence numbers ahead of it); max_delay: how long
 * (ns) a packet may wait (see mcp_rtp_reorder_expire). destroy: frees the
 * items dropped (duplicates, late ones) and those held at _free; may be
 * NULL. */
McpRtpReorder *mcp_rtp_reorder_new (guint window, guint64 max_delay,
    GDestroyNotify destroy);

/* Frees what it holds with destroy. */
void mcp_rtp_reorder_free (McpRtpReorder * r);

/* Takes item, the packet with seq and ssrc, at now (ns, monotonic).
 * Appends to out, in sequence order, every item now due: the next one in
 * sequence and those that follow it without a gap; when a packet comes
 * more than window ahead of the first missing one, that gap is given up
 * (counted as lost) and the held packets before it go out too. A
 * duplicate of a packet held, or of one put out within the last window
 * (rounded up to a power of two) sequence numbers, is dropped; so is a
 * packet behind those put out that was not (late). An SSRC change, or a
 * jump of more than MCP_RTP_REORDER_MAX_JUMP from the highest sequence
 * number (a source restart) puts out what is held and starts again at the
 * new packet. Sequence numbers wrap at 65536. Costs O(1), and at most
 * O(window) when a gap is given up. */
void mcp_rtp_reorder_push (McpRtpReorder * r, guint16 seq, guint32 ssrc,
    gpointer item, guint64 now, GPtrArray * out);

/* Appends to out the items that have waited max_delay or longer, giving up
 * the gaps before them, and those that follow without a gap. Returns when
 * to call again: the time (ns) the next held item will have waited
 * max_delay, G_MAXUINT64 when nothing is held. Pushing does not expire:
 * call this at its time. */
guint64 mcp_rtp_reorder_expire (McpRtpReorder * r, guint64 now,
    GPtrArray * out);

/* Appends everything held to out, in order, giving up the gaps; what comes
 * next continues the sequence. */
void mcp_rtp_reorder_drain (McpRtpReorder * r, GPtrArray * out);

typedef struct
{
  guint64 duplicates;           /* dropped as duplicates */
  guint64 late;                 /* dropped: behind what was put out */
  guint64 reordered;            /* taken, but after a later one */
  guint64 lost;                 /* sequence numbers given up */
} McpRtpReorderStats;

void mcp_rtp_reorder_get_stats (McpRtpReorder * r,
    McpRtpReorderStats * stats);

G_END_DECLS

#endif /* __MCP_RTP_H__ */
