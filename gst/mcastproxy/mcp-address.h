/* mcastproxy — parsing and checking of addresses, interfaces and lists. */
#ifndef __MCP_ADDRESS_H__
#define __MCP_ADDRESS_H__

#include <gio/gio.h>

G_BEGIN_DECLS

#define MCP_ADDRESS_ERROR (mcp_address_error_quark ())
GQuark mcp_address_error_quark (void);

typedef enum
{
  MCP_ADDRESS_ERROR_INVALID,
  MCP_ADDRESS_ERROR_NOT_MULTICAST,
  MCP_ADDRESS_ERROR_FAMILY,
  MCP_ADDRESS_ERROR_NO_INTERFACE,
} McpAddressError;

/* A numeric IPv4 or IPv6 multicast group. */
GInetAddress *mcp_parse_group (const gchar * text, GError ** error);

/* A numeric IPv4 or IPv6 address (of any kind). */
GInetAddress *mcp_parse_inet_address (const gchar * text, GError ** error);

/* A comma-separated list of interface names; each must exist. Returns the
 * interface indexes (guint), empty for an empty or NULL list. */
GArray *mcp_parse_interfaces (const gchar * list, GError ** error);

/* A comma-separated list of numeric source addresses of the given family;
 * empty for an empty or NULL list. */
GPtrArray *mcp_parse_sources (const gchar * list, GSocketFamily family,
    GError ** error);

/* "192.0.2.1:5000", "[2001:db8::1]:5000" for logs. */
gchar *mcp_socket_address_to_string (GSocketAddress * addr);

G_END_DECLS

#endif /* __MCP_ADDRESS_H__ */
