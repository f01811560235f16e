/* mcastproxy — watching interfaces and their addresses (rtnetlink, Linux). */
#ifndef __MCP_NETLINK_H__
#define __MCP_NETLINK_H__

#include <gio/gio.h>
#include <net/if.h>

G_BEGIN_DECLS

typedef struct _McpNetlink McpNetlink;

typedef enum
{
  /* an interface index appeared (new, or re-created under an old name) */
  MCP_NETLINK_LINK_ADDED,
  /* became operational: up, running, with carrier */
  MCP_NETLINK_LINK_UP,
  MCP_NETLINK_LINK_DOWN,
  MCP_NETLINK_LINK_REMOVED,
  /* a usable address (IPv6: no longer tentative) that was not there */
  MCP_NETLINK_ADDRESS_ADDED,
  MCP_NETLINK_ADDRESS_REMOVED,
  /* the kernel dropped notifications (socket overrun): the state was read
   * anew, and anything may have changed meanwhile */
  MCP_NETLINK_RESYNC,
} McpNetlinkEventType;

typedef struct
{
  McpNetlinkEventType type;
  guint ifindex;                /* 0 for MCP_NETLINK_RESYNC */
  gchar ifname[IF_NAMESIZE];    /* empty when not known */
  GSocketFamily family;         /* addresses only */
  gchar address[48];            /* addresses only: numeric, for logs */
} McpNetlinkEvent;

typedef void (*McpNetlinkFunc) (const McpNetlinkEvent * event, gpointer data);

/* Subscribes to link and IPv4/IPv6 address notifications and reads the
 * current interfaces and addresses, so that events report changes only.
 * The socket is non-blocking: poll mcp_netlink_get_fd() for reading. */
McpNetlink *mcp_netlink_new (GError ** error);
void mcp_netlink_free (McpNetlink * nl);
gint mcp_netlink_get_fd (McpNetlink * nl);

/* Handles every notification waiting, calling func (may be NULL) for each
 * change, in order. Never blocks. FALSE (error set) when the socket failed. */
gboolean mcp_netlink_dispatch (McpNetlink * nl, McpNetlinkFunc func,
    gpointer data, GError ** error);

/* From the state read so far: 0 / FALSE / NULL when not known. */
guint mcp_netlink_lookup_index (McpNetlink * nl, const gchar * ifname);
gboolean mcp_netlink_is_up (McpNetlink * nl, guint ifindex);
const gchar *mcp_netlink_lookup_name (McpNetlink * nl, guint ifindex);

/* The interface the kernel routes destination over (RTM_GETROUTE, as
 * `ip route get`), which is the one a join on "any" interface uses.
 * 0 with error set when there is no route. */
guint mcp_netlink_route_interface (GInetAddress * destination,
    GError ** error);

G_END_DECLS

#endif /* __MCP_NETLINK_H__ */
