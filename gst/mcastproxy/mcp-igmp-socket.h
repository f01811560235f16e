/* mcastproxy — the socket side of an IGMP/MLD listener and querier for one
 * interface: a raw socket that hears the reports and queries of the link
 * and sends our queries, as mcp-igmp parses and builds them.
 *
 * Two sockets. A raw socket (IGMP; ICMPv6 for MLD) bound to the interface
 * sends the queries and joins 224.0.0.22 and 224.0.0.2 (ff02::16 and
 * ff02::2), so that a switch that snoops forwards the reports to us; its
 * own input is filtered away. A packet socket on the interface receives:
 * the link's multicast frames (PACKET_MR_ALLMULTI), filtered in the kernel
 * to IGMP (IPv6: a hop-by-hop header or ICMPv6 next, then MLD types
 * only). A raw socket would not do for receiving: the kernel hands a host
 * a packet to a group only when some socket joined that group on the
 * interface (or to the one multicast routing daemon, MRT_INIT), and
 * IGMPv1/v2 and MLDv1 reports go to their group. The packet socket sees
 * them all, and none twice; our own packets (PACKET_OUTGOING) are
 * ignored. The ICMPv6 checksum, which the kernel checks for raw sockets
 * only, is checked here.
 *
 * Checked here, not in mcp-igmp: TTL or hop limit 1 (RFC 3376 4, RFC 3810
 * 5), an MLD source that is link-local (or :: for a report, RFC 3810
 * 5.2.13), and that the packet is not our own. The Router Alert option is
 * sent but not required on what arrives (RFC 3376 and 3810 allow both).
 *
 * Needs CAP_NET_RAW (both sockets). Non-blocking: poll the GSocket that
 * mcp_igmp_socket_get_socket() gives.
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
/* The receiving (packet) socket, to poll with g_socket_create_source().
 * Owned by sock. */
GSocket *mcp_igmp_socket_get_socket (McpIgmpSocket * sock);
GSocketFamily mcp_igmp_socket_get_family (McpIgmpSocket * sock);
guint mcp_igmp_socket_get_ifindex (McpIgmpSocket * sock);

G_END_DECLS

#endif /* __MCP_IGMP_SOCKET_H__ */
