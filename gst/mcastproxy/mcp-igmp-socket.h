/* mcastproxy — the socket side of an IGMP/MLD listener and querier for one
 * interface: a raw socket that hears the reports and queries of the link
 * and sends our queries, as mcp-igmp parses and builds them.
 *
 * IPv4: a raw IGMP socket bound to the interface (SO_BINDTODEVICE, and
 * IP_PKTINFO checked) and joined to 224.0.0.22, where IGMPv3 reports go,
 * and 224.0.0.2 (all routers), where IGMPv2 leaves go. What Linux hands
 * a raw IGMP socket: every IGMP packet the interface takes in, whatever
 * group it is for (IP_MULTICAST_ALL, on by default and set here, lets the
 * socket see groups it did not join itself). But the interface takes in
 * a packet to a group only when some socket of the host joined that group
 * on it, or with multicast routing on (an MRT socket). So IGMPv3 reports,
 * leaves and general queries always arrive, while an IGMPv1/v2 report (to
 * its group) arrives only for groups joined on the interface, until the
 * gateway is a multicast router. IPv6 is the same: a raw ICMPv6 socket
 * joined to ff02::16 (MLDv2 reports) and ff02::2 (MLDv1 dones), filtered
 * to MLD, with MLDv1 reports going to their group.
 *
 * Checked here, not in mcp-igmp: TTL or hop limit 1 (RFC 3376 4, RFC 3810
 * 5), an MLD source that is link-local (or :: for a report, RFC 3810
 * 5.2.13), and that the packet is not our own. The Router Alert option is
 * sent but not required on what arrives (RFC 3376 and 3810 allow both).
 *
 * Needs CAP_NET_RAW. The socket is non-blocking: poll its GSocket.
 */
#ifndef __MCP_IGMP_SOCKET_H__
#define __MCP_IGMP_SOCKET_H__

#include <gio/gio.h>

#include "mcp-igmp.h"

G_BEGIN_DECLS

#define MCP_IGMP_SOCKET_ERROR (mcp_igmp_socket_error_quark ())
GQuark mcp_igmp_socket_error_quark (void);

typedef enum
{
  /* not for us: another IGMP or ICMPv6 type, our own packet, a TTL or
   * hop limit other than 1, a source MLD does not allow, a broken
   * message. Not an error of the socket: read on. */
  MCP_IGMP_SOCKET_ERROR_IGNORED,
} McpIgmpSocketError;

typedef enum
{
  MCP_IGMP_SOCKET_ERROR_RESULT = 0,     /* error set: the socket's error */
  MCP_IGMP_SOCKET_MESSAGE,      /* *msg and *from set */
  MCP_IGMP_SOCKET_IGNORED,      /* error set to the reason, if given */
} McpIgmpSocketResult;

typedef struct _McpIgmpSocket McpIgmpSocket;

/* A listener and querier on ifname, of family IPV4 (IGMP) or IPV6 (MLD).
 * NULL with G_IO_ERROR_PERMISSION_DENIED without CAP_NET_RAW (the message
 * names the capability), G_IO_ERROR_NOT_FOUND for an unknown interface,
 * G_IO_ERROR_NOT_FOUND too when an IPv6 interface has no link-local
 * address yet (MLD is sent from it; wait until DAD is done). */
McpIgmpSocket *mcp_igmp_socket_new (GSocketFamily family,
    const gchar * ifname, GError ** error);
void mcp_igmp_socket_free (McpIgmpSocket * sock);

/* One packet, without blocking. MESSAGE: *msg (free with
 * mcp_igmp_message_free()) and *from (unref) are set. IGNORED: read on;
 * error says why. ERROR_RESULT: G_IO_ERROR_WOULD_BLOCK when nothing is
 * waiting, else the socket's error. */
McpIgmpSocketResult mcp_igmp_socket_receive (McpIgmpSocket * sock,
    McpIgmpMessage ** msg, GInetAddress ** from, GError ** error);

/* query (from mcp_igmp_build_query()) to dest: the all-systems or
 * all-nodes group (224.0.0.1, ff02::1) for a general query, the group
 * for one about a group. TTL or hop limit 1 with the Router Alert option;
 * IPv6 from our link-local address, its ICMPv6 checksum filled in by the
 * kernel (which always does so on raw ICMPv6 sockets, at offset 2: Linux
 * refuses IPV6_CHECKSUM there, as RFC 3542 3.1 says). */
gboolean mcp_igmp_socket_send_query (McpIgmpSocket * sock, GBytes * query,
    GInetAddress * dest, GError ** error);

/* Our address on the interface, for the querier election (IPv4: its
 * first address, NULL when it has none; IPv6: the link-local address
 * found when the socket opened). No reference is given. */
GInetAddress *mcp_igmp_socket_get_address (McpIgmpSocket * sock);
/* To poll with g_socket_create_source(). Owned by sock. */
GSocket *mcp_igmp_socket_get_socket (McpIgmpSocket * sock);
GSocketFamily mcp_igmp_socket_get_family (McpIgmpSocket * sock);
guint mcp_igmp_socket_get_ifindex (McpIgmpSocket * sock);

G_END_DECLS

#endif /* __MCP_IGMP_SOCKET_H__ */
