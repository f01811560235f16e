/* mcastproxy — whole IP packets, built and read by hand.
 *
 * AMT (RFC 7450) tunnels IP packets, headers included, inside UDP: a relay
 * sends each multicast datagram as the IPv4 or IPv6 packet the source put
 * on the wire, and the membership queries and reports travel with their IP
 * headers too. Sockets never show us those headers, so this file writes and
 * checks them: IPv4 (RFC 791) and IPv6 (RFC 8200) headers, UDP (RFC 768)
 * with its checksum, and the IP header a membership message needs (TTL or
 * hop limit 1, Router Alert).
 *
 * Addresses are raw bytes: family 4 uses the first 4 of 16. Pure code: no
 * sockets, no GStreamer.
 */
#ifndef __MCP_IPPKT_H__
#define __MCP_IPPKT_H__

#include <glib.h>

G_BEGIN_DECLS

#define MCP_IPPKT_ERROR (mcp_ippkt_error_quark ())
GQuark mcp_ippkt_error_quark (void);

typedef enum
{
  MCP_IPPKT_ERROR_INVALID,      /* not a well-formed packet of what it says */
  MCP_IPPKT_ERROR_UNSUPPORTED,  /* well-formed, but not what we carry:
                                 * fragments, extension headers other than
                                 * hop-by-hop options, other protocols */
} McpIppktError;

#define MCP_IPPKT_PROTO_IGMP 2
#define MCP_IPPKT_PROTO_UDP 17
#define MCP_IPPKT_PROTO_ICMPV6 58

/* IPv4 (20, no options) or IPv6 (40) plus UDP (8): the headers
 * mcp_ippkt_write_udp() writes, at most. */
#define MCP_IPPKT_UDP_HEADERS_MAX 48
/* The largest packet read or written: what an IP length field can say
 * (IPv6 jumbograms are not carried). */
#define MCP_IPPKT_MAX 65535

typedef struct
{
  guint8 family;                /* 4 or 6 */
  guint8 protocol;              /* after IPv6's hop-by-hop options, if any */
  guint8 ttl;                   /* TTL or hop limit */
  gboolean router_alert;        /* the Router Alert option was present */
  guint8 src[16];
  guint8 dst[16];
  const guint8 *payload;        /* inside the packet given */
  gsize payload_len;
} McpIpPacket;

/* Reads an IPv4 or IPv6 packet of exactly len bytes or more (bytes after
 * its length field's end are ignored, as on a padded link). IPv4: version,
 * header length, total length, header checksum; fragments are refused.
 * IPv6: payload length; a hop-by-hop options header is skipped (Router
 * Alert noted), other extension headers are refused. ICMPv6 is checked
 * against its checksum here (it needs the addresses); UDP by
 * mcp_ippkt_udp(). FALSE with MCP_IPPKT_ERROR. */
gboolean mcp_ippkt_parse (const guint8 * data, gsize len, McpIpPacket * pkt,
    GError ** error);

/* The UDP datagram of a packet mcp_ippkt_parse() read (protocol UDP): its
 * ports and payload, after the length and checksum are checked (IPv4's
 * checksum 0 means none; IPv6 must have one). */
gboolean mcp_ippkt_udp (const McpIpPacket * pkt, guint16 * src_port,
    guint16 * dst_port, const guint8 ** payload, gsize * payload_len,
    GError ** error);

/* Writes the IP and UDP headers of a datagram of len bytes of payload from
 * src:src_port to dst:dst_port into out (MCP_IPPKT_UDP_HEADERS_MAX bytes
 * of room), with both checksums; returns how many bytes it wrote (28 or
 * 48). payload_sum is mcp_ippkt_sum (payload, len, 0), so that a caller
 * sending one datagram many times sums it once. ip_id goes to IPv4's
 * identification field (DF is set). 0 when len does not fit a packet. */
gsize mcp_ippkt_write_udp (guint8 * out, guint8 family, const guint8 * src,
    guint16 src_port, const guint8 * dst, guint16 dst_port, guint8 ttl,
    guint16 ip_id, gsize len, guint32 payload_sum);

/* The IP packet of a membership message (IGMP for family 4, MLD for 6)
 * from src to dst: TTL / hop limit 1 and Router Alert (an IPv4 option; an
 * IPv6 hop-by-hop option), and for MLD the ICMPv6 checksum filled in over
 * the pseudo-header (the message's checksum field is overwritten). NULL
 * when msg does not fit a packet. */
GBytes *mcp_ippkt_wrap_membership (guint8 family, const guint8 * src,
    const guint8 * dst, const guint8 * msg, gsize len);

/* One's complement arithmetic (RFC 1071): sum adds len bytes to a running
 * 32-bit sum (an even number of bytes, but the last call); fold gives the
 * 16-bit checksum of a sum. */
guint32 mcp_ippkt_sum (const guint8 * data, gsize len, guint32 sum);
guint16 mcp_ippkt_fold (guint32 sum);

G_END_DECLS

#endif /* __MCP_IPPKT_H__ */
