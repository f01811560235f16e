/* mcastproxy — MPEG-TS analysis for fast channel start.
 *
 * A gateway that serves a multicast channel to HTTP clients gives a new
 * client the latest PAT and PMT first, then the stream from the last
 * random-access point, so that its player shows a picture at once. This
 * module finds both in the datagrams as they pass: McpTsTracker keeps the
 * latest complete PAT and PMT (the TS packets as received) and says which
 * packet of a datagram starts a random-access point.
 *
 * Only the first program of the PAT is followed. Sections are checked
 * strictly (lengths, CRC32/MPEG-2, syntax); anything wrong is ignored and
 * the previous state stays. Memory is bounded whatever the input.
 * Pure code: no sockets, no GStreamer. Not thread-safe: one owner.
 */
#ifndef __MCP_TS_H__
#define __MCP_TS_H__

#include <glib.h>

G_BEGIN_DECLS
#define MCP_TS_PACKET_SIZE 188
#define MCP_TS_SYNC_BYTE 0x47
/* Most TS packets a PAT or PMT section may span; a longer one is dropped. */
#define MCP_TS_MAX_SECTION_PACKETS 16
/* Whether a payload looks like MPEG-TS: len > 0, a multiple of 188, and the
 * sync byte 0x47 at the start of every 188-byte packet. */
    gboolean mcp_ts_is_ts (const guint8 * data, gsize len);

/* The CRC32/MPEG-2 of len bytes (polynomial 0x04C11DB7, initial value
 * 0xFFFFFFFF, not reflected, no final xor): the CRC_32 field of PSI
 * sections. Over a whole section including its CRC_32 it gives 0. */
guint32 mcp_ts_crc32 (const guint8 * data, gsize len);

typedef struct _McpTsTracker McpTsTracker;

typedef struct
{
  guint64 packets;              /* TS packets fed */
  guint64 not_ts;               /* payloads ignored as not TS */
  guint64 raps;                 /* random-access points found */
  guint64 pats;                 /* PAT sections accepted */
  guint64 pmts;                 /* PMT sections (of the program) accepted */
  /* PSI sections dropped: CRC, lengths, syntax, too many packets, a
   * continuity gap in the middle of a section, a bad pointer_field */
  guint64 bad_sections;
} McpTsStats;

McpTsTracker *mcp_ts_tracker_new (void);
void mcp_ts_tracker_free (McpTsTracker * t);

/* Forgets everything, counters included: as from mcp_ts_tracker_new(). */
void mcp_ts_tracker_reset (McpTsTracker * t);

/* Feeds one datagram's payload: whole TS packets (a payload that is not TS,
 * see mcp_ts_is_ts(), is ignored and returns -1).
 *
 * Keeps the latest complete PAT, and the latest complete PMT of the first
 * program the PAT lists (program 0, the network PID, is skipped; so is an
 * entry whose PID is reserved, below 0x10 or 0x1FFF). A section may span
 * several TS packets (at most MCP_TS_MAX_SECTION_PACKETS) and share them
 * with other sections; it must come in continuity-counter order. Only a
 * PAT of section_number 0 and sections with current_next_indicator 1
 * count. A new PAT that moves the program to another PMT PID drops the
 * PMT; a new PMT that changes the streams takes effect at once.
 *
 * Returns the byte offset (a multiple of 188) of the first packet in data
 * that starts a random-access point, or -1. That is a packet with
 * payload_unit_start_indicator on the program's random-access PID (see
 * mcp_ts_tracker_get_rap_pid()) that either has random_access_indicator
 * set in its adaptation field, or whose PES payload in that packet starts
 * a key frame, before any other picture:
 *   H.264 (and SVC, MVC; 0x1B, 0x1F, 0x20): an IDR slice (NAL type 5) or
 *     an SPS (7);
 *   HEVC (0x24): an IRAP slice (NAL types 16 to 21) or a VPS (32);
 *   MPEG-1/2 video (0x01, 0x02): a sequence header (0x000001B3);
 *   MPEG-4 part 2 (0x10): a visual object sequence (B0), video object
 *     (00-1F), video object layer (20-2F), group of VOP (B3) or an I-VOP;
 *   AVS (0x42): a sequence header (B0) or an I picture (B3);
 *   VC-1 (0xEA): a sequence header (0F) or an entry point (0E).
 * When the program has no video stream, every PES start of its first other
 * elementary stream counts (one that carries PES, not sections). A packet
 * with transport_error_indicator set is ignored; of a scrambled one only
 * the random_access_indicator is read. Before both PAT and PMT are known
 * nothing is a random-access point. */
gssize mcp_ts_tracker_feed (McpTsTracker * t, const guint8 * data, gsize len);

/* The latest PAT packets followed by the PMT packets (whole 188-byte TS
 * packets, as received), or NULL while either is unknown. */
GBytes *mcp_ts_tracker_get_psi (McpTsTracker * t);

/* The PMT PID of the program followed (from the PAT), -1 while unknown. */
gint mcp_ts_tracker_get_pmt_pid (McpTsTracker * t);

/* The program_number of the program followed, -1 while unknown. */
gint mcp_ts_tracker_get_program_number (McpTsTracker * t);

/* The PID whose packets can start a random-access point (from the PMT: its
 * first video stream, else its first other PES stream), -1 while unknown
 * or when the program has none. stream_type (may be NULL) gets that
 * stream's stream_type. */
gint mcp_ts_tracker_get_rap_pid (McpTsTracker * t, guint8 * stream_type);

/* Whether that PID is video (random-access points are key frames) rather
 * than audio or other (every PES start is one). */
gboolean mcp_ts_tracker_rap_is_video (McpTsTracker * t);

void mcp_ts_tracker_get_stats (McpTsTracker * t, McpTsStats * stats);

G_END_DECLS
#endif /* __MCP_TS_H__ */
