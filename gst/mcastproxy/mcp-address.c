/* mcastproxy — parsing and checking of addresses, interfaces and lists. */
#include "config.h"

#include "mcp-address.h"

#include <net/if.h>
#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-address-error-quark, mcp_address_error);
/* *INDENT-ON* */

GInetAddress *
mcp_parse_inet_address (const gchar * text, GError ** error)
{
  GInetAddress *addr;
  gchar *stripped;

  if (text == NULL || *text == '\0') {
    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
        "no address given");
    return NULL;
  }
  stripped = g_strstrip (g_strdup (text));
  addr = g_inet_address_new_from_string (stripped);
  if (!addr)
    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
        "'%s' is not a numeric IPv4 or IPv6 address", stripped);
  g_free (stripped);
  return addr;
}

GInetAddress *
mcp_parse_group (const gchar * text, GError ** error)
{
  GInetAddress *addr = mcp_parse_inet_address (text, error);

  if (addr && !g_inet_address_get_is_multicast (addr)) {
    gchar *s = g_inet_address_to_string (addr);

    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_NOT_MULTICAST,
        "'%s' is not a multicast group (IPv4 224.0.0.0/4 or IPv6 ff00::/8)", s);
    g_free (s);
    g_clear_object (&addr);
  }
  return addr;
}

GArray *
mcp_parse_interfaces (const gchar * list, GError ** error)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));
  gchar **names;
  guint i;

  if (list == NULL)
    return out;
  names = g_strsplit (list, ",", -1);
  for (i = 0; names[i]; i++) {
    gchar *name = g_strstrip (names[i]);
    guint index;

    if (*name == '\0')
      continue;
    if (strlen (name) >= IF_NAMESIZE || (index = if_nametoindex (name)) == 0) {
      g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_NO_INTERFACE,
          "no network interface named '%s'", name);
      g_strfreev (names);
      g_array_unref (out);
      return NULL;
    }
    g_array_append_val (out, index);
  }
  g_strfreev (names);
  return out;
}

GPtrArray *
mcp_parse_sources (const gchar * list, GSocketFamily family, GError ** error)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  gchar **items;
  guint i;

  if (list == NULL)
    return out;
  items = g_strsplit (list, ",", -1);
  for (i = 0; items[i]; i++) {
    gchar *item = g_strstrip (items[i]);
    GInetAddress *addr;

    if (*item == '\0')
      continue;
    addr = mcp_parse_inet_address (item, error);
    if (addr && g_inet_address_get_family (addr) != family) {
      g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_FAMILY,
          "source '%s' is not of the group's address family (%s)", item,
          family == G_SOCKET_FAMILY_IPV6 ? "IPv6" : "IPv4");
      g_clear_object (&addr);
    }
    if (!addr) {
      g_strfreev (items);
      g_ptr_array_unref (out);
      return NULL;
    }
    g_ptr_array_add (out, addr);
  }
  g_strfreev (items);
  return out;
}

gchar *
mcp_socket_address_to_string (GSocketAddress * addr)
{
  GInetSocketAddress *isa;
  gchar *ip, *out;

  if (!G_IS_INET_SOCKET_ADDRESS (addr))
    return g_strdup ("(unknown)");
  isa = G_INET_SOCKET_ADDRESS (addr);
  ip = g_inet_address_to_string (g_inet_socket_address_get_address (isa));
  if (g_socket_address_get_family (addr) == G_SOCKET_FAMILY_IPV6)
    out = g_strdup_printf ("[%s]:%u", ip, g_inet_socket_address_get_port (isa));
  else
    out = g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (isa));
  g_free (ip);
  return out;
}
