/* mcastproxy — parsing and checking of addresses, interfaces and lists. */
#ifndef __MCP_ADDRESS_H__
#define __MCP_ADDRESS_H__

#include <gio/gio.h>
#include <sys/socket.h>

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

/* A comma-separated list of numeric unicast source addresses (a
 * source-specific join), all of the given family (G_SOCKET_FAMILY_INVALID:
 * any); empty for an empty or NULL list. */
GPtrArray *mcp_parse_sources (const gchar * list, GSocketFamily family,
    GError ** error);

/* A host and port to connect to. */
typedef struct
{
  gchar *host;                  /* a name or a numeric address, no brackets */
  guint16 port;                 /* 1 to 65535 */
} McpHostPort;

/* "HOST:PORT" or "[IPV6]:PORT"; an IPv6 address without brackets ends at
 * the last colon ("2001:db8::1:5300" is 2001:db8::1 port 5300). The host
 * is not resolved, but must be there, without blanks, control characters
 * or brackets. host: a new string. */
gboolean mcp_parse_host_port (const gchar * text, gchar ** host,
    guint16 * port, GError ** error);

/* A list of those separated by spaces and/or commas; McpHostPort items
 * (freed with the array), empty for an empty or NULL list. */
GArray *mcp_parse_host_port_list (const gchar * list, GError ** error);

/* A sender to ignore: an address, a port, or both. */
typedef struct
{
  guint8 family;                /* 0: any address, 4 or 6 */
  guint8 addr[16];
  guint16 port;                 /* 0: any port */
} McpSourceFilter;

/* A comma-separated list of senders: "192.0.2.7", "192.0.2.7:5499",
 * ":5499", "2001:db8::7", "[2001:db8::7]:5499". Returns McpSourceFilter
 * items, empty for an empty or NULL list. */
GArray *mcp_parse_source_filters (const gchar * list, GError ** error);

/* The IP address of a socket address: its family (4 or 6), a pointer into
 * sa at its 4 or 16 bytes, and its port; FALSE for other families. */
gboolean mcp_sockaddr_ip (const struct sockaddr_storage *sa, guint8 * family,
    const guint8 ** addr, guint16 * port);

/* Whether the sender sa matches one of the filters. */
gboolean mcp_source_filters_match (GArray * filters,
    const struct sockaddr_storage *sa);

/* A comma-separated list of networks, "10.0.0.0/8", "2001:db8::/32", or
 * single addresses; returns GInetAddressMask items, empty for an empty or
 * NULL list. */
GPtrArray *mcp_parse_networks (const gchar * list, GError ** error);

/* Whether addr lies in one of the networks; an IPv4 peer that reached an
 * IPv6 socket (::ffff:a.b.c.d) is matched as the IPv4 address it is. */
gboolean mcp_networks_match (GPtrArray * networks, GInetAddress * addr);

/* "192.0.2.1:5000", "[2001:db8::1]:5000" for logs. */
gchar *mcp_socket_address_to_string (GSocketAddress * addr);

G_END_DECLS

#endif /* __MCP_ADDRESS_H__ */
