/* mcastproxy — IGMP (IPv4) and MLD (IPv6) messages: what hosts report and
 * queriers ask, parsed into one model, and the queries a querier sends.
 *
 * A gateway that learns its island's listeners reads their membership
 * reports on a raw socket: IGMP (RFC 2236, RFC 3376) after the IP header,
 * MLD (RFC 2710, RFC 3810) as the ICMPv6 payload. Both come out as an
 * McpIgmpMessage, so that its caller handles one kind of report: the group
 * records of an IGMPv3 or MLDv2 report; an older report is one record
 * MODE_IS_EXCLUDE without sources (any source), a leave or done one record
 * CHANGE_TO_INCLUDE without sources.
 *
 * Only the message is checked here. What the IP layer should show (a TTL or
 * hop limit of 1, the Router Alert option, a link-local IPv6 source) is the
 * caller's to check, as is which groups to care about (224.0.0.x, ff02::1).
 * MLD is IPv6's IGMP: the names say igmp for both where they serve both.
 * Pure code: no sockets, no GStreamer.
 */
#ifndef __MCP_IGMP_H__
#define __MCP_IGMP_H__

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCP_IGMP_ERROR (mcp_igmp_error_quark ())
GQuark mcp_igmp_error_quark (void);

typedef enum
{
  /* a membership message that is broken: short, a bad checksum, counts
   * beyond its length, a group that is not multicast; or a query the
   * builder cannot make */
  MCP_IGMP_ERROR_INVALID,
  /* another IGMP or ICMPv6 type (DVMRP, mtrace, echo...): not an error of
   * the sender, callers ignore it */
  MCP_IGMP_ERROR_UNKNOWN_TYPE,
} McpIgmpError;

typedef enum
{
  MCP_IGMP_QUERY,
  MCP_IGMP_REPORT,
  MCP_IGMP_LEAVE,               /* IGMPv2 leave, MLDv1 done */
} McpIgmpKind;

/* The record types of IGMPv3 and MLDv2 reports, same values in both. */
typedef enum
{
  MCP_IGMP_MODE_IS_INCLUDE = 1,
  MCP_IGMP_MODE_IS_EXCLUDE = 2,
  MCP_IGMP_CHANGE_TO_INCLUDE = 3,
  MCP_IGMP_CHANGE_TO_EXCLUDE = 4,
  MCP_IGMP_ALLOW_NEW_SOURCES = 5,
  MCP_IGMP_BLOCK_OLD_SOURCES = 6,
} McpIgmpRecordType;

typedef struct
{
  McpIgmpRecordType type;
  GInetAddress *group;          /* multicast, of the message's family */
  GPtrArray *sources;           /* GInetAddress, unicast; never NULL */
} McpIgmpRecord;

/* The largest message parsed: what an IP packet can carry. It bounds the
 * records and sources (one per 4 or 16 bytes) that a message can cost. */
#define MCP_IGMP_MAX_MESSAGE 65535

typedef struct
{
  McpIgmpKind kind;
  guint version;                /* IGMP: 1, 2, 3; MLD: 1, 2 */
  GSocketFamily family;         /* IPV4: IGMP; IPV6: MLD */

  /* QUERY only (else NULL, 0, empty): */
  GInetAddress *group;          /* NULL: a general query */
  guint max_resp_ms;            /* decoded; 10000 for IGMPv1 (RFC 2236 4) */
  /* IGMPv3 and MLDv2 only (else FALSE, 0): */
  gboolean s_flag;              /* suppress router-side processing */
  guint qrv;                    /* 0 to 7; 0: the querier's is above 7 */
  guint qqi;                    /* querier's query interval, s, decoded */
  GPtrArray *sources;           /* GInetAddress, unicast; never NULL */

  /* REPORT and LEAVE: McpIgmpRecord, in message order; never NULL */
  GArray *records;
} McpIgmpMessage;

/* An IGMP message: the IPv4 payload, from the byte after the IP header to
 * the end of the IP packet. Its checksum must be right. Queries of 8 bytes
 * are version 1 (max response code 0; the group is ignored) or 2; of 12
 * bytes or more version 3; other lengths are refused (RFC 3376 7.1).
 * Octets after what a message describes are ignored, as RFC 3376 4.1.10
 * says of queries. Records of an unknown type are skipped (RFC 3376
 * 4.2.12), once they are seen to lie within the message. NULL with
 * error: MCP_IGMP_ERROR_UNKNOWN_TYPE for a type that is not a query, a
 * report or a leave; MCP_IGMP_ERROR_INVALID when it is broken (also for a
 * group that is not multicast, a source that is, sources in a general
 * query). */
McpIgmpMessage *mcp_igmp_parse (const guint8 * data, gsize len,
    GError ** error);

/* An MLD message: the ICMPv6 message (type, code, checksum, ...), as a raw
 * ICMPv6 socket gives it. Its checksum is not verified: that needs the IPv6
 * pseudo-header, and the kernel verifies it on raw ICMPv6 sockets. Queries
 * of 24 bytes are MLDv1, of 28 or more MLDv2, other lengths are refused
 * (RFC 3810 8.1). Otherwise as mcp_igmp_parse(). */
McpIgmpMessage *mcp_mld_parse (const guint8 * data, gsize len,
    GError ** error);

void mcp_igmp_message_free (McpIgmpMessage * msg);

/* A query to fill in and give to mcp_igmp_build_query(): family IPV4
 * (IGMP, version 2 or 3) or IPV6 (MLD, version 1 or 2), for group (NULL: a
 * general query; taken with a reference). The defaults are those of RFC
 * 3376 8 and RFC 3810 9: a max response time of 10 s for a general query
 * and 1 s (the last member query interval) for one about a group; for
 * IGMPv3 and MLDv2 a QRV of 2 and a QQI of 125 s, else 0. Add sources to
 * ->sources with a reference each. */
McpIgmpMessage *mcp_igmp_query_new (GSocketFamily family, guint version,
    GInetAddress * group);

/* The bytes of query (kind QUERY) for a raw socket: an IGMPv2 or IGMPv3
 * query with its checksum, or an MLDv1 or MLDv2 query with checksum 0 (the
 * kernel fills it in on a raw ICMPv6 socket with IPV6_CHECKSUM set, as it
 * needs the pseudo-header). max_resp_ms and qqi are rounded down to what
 * their fields can say; a qrv above 7 is sent as 0. s_flag, qrv, qqi and
 * the sources only exist in IGMPv3 and MLDv2; version 2 and MLDv1 queries
 * ignore the first three. Sources that do not fit one message are the
 * caller's to spread over several queries. NULL with
 * MCP_IGMP_ERROR_INVALID: another version, a group that is not multicast
 * or not of the family, sources in a query that has none or in a general
 * query, a source that is multicast or not of the family, a time beyond
 * its field (IGMPv2: 100 ms to 25.5 s; IGMPv3: 3174400 ms; MLDv1: 65535 ms;
 * MLDv2: 8387584 ms; QQI: 31744 s), a message above
 * MCP_IGMP_MAX_MESSAGE. */
GBytes *mcp_igmp_build_query (const McpIgmpMessage * query, GError ** error);

/* The bytes of an IGMPv3 (family IPV4) or MLDv2 (IPV6) report with
 * records (McpIgmpRecord: a type, a group of the family, unicast sources),
 * as a host or an AMT gateway sends it. IGMPv3's checksum is filled in;
 * MLDv2's is 0, for whoever knows the IPv6 pseudo-header (the kernel, or
 * mcp_ippkt_wrap_membership()). NULL with MCP_IGMP_ERROR_INVALID for a
 * record type outside 1-6, an address of the wrong family or kind, or a
 * message above MCP_IGMP_MAX_MESSAGE. */
GBytes *mcp_igmp_build_report (GSocketFamily family, const GArray * records,
    GError ** error);

/* The internet checksum (RFC 1071) of len bytes, as the IGMP checksum
 * field holds it. Over a message with its right checksum it gives 0. */
guint16 mcp_igmp_checksum (const guint8 * data, gsize len);

/* The 8-bit codes of IGMPv3's Max Resp Code (in tenths of a second, RFC
 * 3376 4.1.1) and QQIC (in seconds, 4.1.7; also MLDv2's QQIC): below 128
 * the value itself, else a mantissa and an exponent, up to 31744. encode
 * rounds down to a value a code can say, and gives 255 above 31744. */
#define MCP_IGMP_CODE8_MAX 31744
guint mcp_igmp_code8_decode (guint8 code);
guint8 mcp_igmp_code8_encode (guint value);

/* The 16-bit Maximum Response Code of MLDv2 (ms, RFC 3810 5.1.3): below
 * 32768 the value itself, else up to 8387584. As the 8-bit code. */
#define MCP_IGMP_CODE16_MAX 8387584
guint mcp_igmp_code16_decode (guint16 code);
guint16 mcp_igmp_code16_encode (guint value);

/* "MODE_IS_INCLUDE" ... "BLOCK_OLD_SOURCES", for logs; "unknown" else. */
const gchar *mcp_igmp_record_type_name (McpIgmpRecordType type);

G_END_DECLS

#endif /* __MCP_IGMP_H__ */
