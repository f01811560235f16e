/* mcastproxy — parsing and checking of addresses, interfaces and lists. */
#include "config.h"

#include "mcp-address.h"

#include <net/if.h>
#include <netinet/in.h>
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

/* The non-empty, stripped items of a list separated by any of seps (NULL:
 * none). */
static gchar **
split_list_set (const gchar * list, const gchar * seps)
{
  gchar **items = g_strsplit_set (list ? list : "", seps, -1);
  guint i, n = 0;

  for (i = 0; items[i]; i++) {
    g_strstrip (items[i]);
    if (*items[i] == '\0')
      g_free (items[i]);
    else
      items[n++] = items[i];
  }
  items[n] = NULL;
  return items;
}

/* The same for a comma-separated list. */
static gchar **
split_list (const gchar * list)
{
  return split_list_set (list, ",");
}

GArray *
mcp_parse_interfaces (const gchar * list, GError ** error)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));
  gchar **names = split_list (list);
  guint i;

  for (i = 0; names[i]; i++) {
    gchar *name = names[i];
    guint index;

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
  gchar **items = split_list (list);
  guint i;

  for (i = 0; items[i]; i++) {
    gchar *item = items[i];
    GInetAddress *addr;

    addr = mcp_parse_inet_address (item, NULL);
    if (!addr) {
      g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
          "source '%s' is not a numeric IPv4 or IPv6 address", item);
    } else if (g_inet_address_get_is_multicast (addr)) {
      g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
          "source '%s' is not a unicast IP address", item);
      g_clear_object (&addr);
    } else if (family != G_SOCKET_FAMILY_INVALID
        && g_inet_address_get_family (addr) != family) {
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

static gboolean
parse_port (const gchar * text, guint16 * port)
{
  guint64 v;
  gchar *end;

  if (!g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  if (*end != '\0' || v == 0 || v > G_MAXUINT16)
    return FALSE;
  *port = v;
  return TRUE;
}

/* "[HOST]:PORT": the host between the brackets (a new string) and where
 * the port starts; FALSE when item is not of that form. */
static gboolean
split_bracketed (const gchar * item, gchar ** host, const gchar ** port)
{
  const gchar *close = strstr (item, "]:");

  if (item[0] != '[' || !close)
    return FALSE;
  *host = g_strndup (item + 1, close - item - 1);
  *port = close + 2;
  return TRUE;
}

static gboolean
parse_source_filter (const gchar * item, McpSourceFilter * f)
{
  gchar *host = NULL;
  const gchar *port = NULL;
  GInetAddress *addr = NULL;
  gboolean ok = TRUE;

  memset (f, 0, sizeof (*f));
  if (item[0] == ':' && item[1] != ':') {
    /* ":PORT"; "::1" and "::ffff:192.0.2.7" are IPv6 addresses */
    port = item + 1;
  } else if (item[0] == '[') {
    if (!split_bracketed (item, &host, &port))
      return FALSE;
  } else if (strchr (item, ':') && strchr (item, ':') == strrchr (item, ':')) {
    /* one colon: IPv4 address and port */
    const gchar *colon = strchr (item, ':');

    host = g_strndup (item, colon - item);
    port = colon + 1;
  } else {
    host = g_strdup (item);
  }

  if (port && !parse_port (port, &f->port))
    ok = FALSE;
  if (ok && host) {
    addr = g_inet_address_new_from_string (host);
    if (!addr) {
      ok = FALSE;
    } else {
      gsize len = g_inet_address_get_native_size (addr);

      f->family = len == 16 ? 6 : 4;
      memcpy (f->addr, g_inet_address_to_bytes (addr), len);
    }
  }
  g_clear_object (&addr);
  g_free (host);
  return ok;
}

GArray *
mcp_parse_source_filters (const gchar * list, GError ** error)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (McpSourceFilter));
  gchar **items = split_list (list);
  guint i;

  for (i = 0; items[i]; i++) {
    gchar *item = items[i];
    McpSourceFilter f;

    if (!parse_source_filter (item, &f)) {
      g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
          "'%s' is not a sender (ADDRESS, ADDRESS:PORT, :PORT or "
          "[IPV6]:PORT)", item);
      g_strfreev (items);
      g_array_unref (out);
      return NULL;
    }
    g_array_append_val (out, f);
  }
  g_strfreev (items);
  return out;
}

/* A host name or numeric address has no brackets, blanks or control
 * characters. */
static gboolean
host_is_plain (const gchar * host)
{
  const gchar *c;

  if (*host == '\0')
    return FALSE;
  for (c = host; *c; c++)
    if (*c == '[' || *c == ']' || *c == ' ' || g_ascii_iscntrl (*c))
      return FALSE;
  return TRUE;
}

gboolean
mcp_parse_host_port (const gchar * text, gchar ** host, guint16 * port,
    GError ** error)
{
  const gchar *colon, *port_text = NULL;
  gchar *h = NULL;

  if (text && text[0] == '[') {
    split_bracketed (text, &h, &port_text);
  } else if (text && (colon = strrchr (text, ':')) != NULL) {
    h = g_strndup (text, colon - text);
    port_text = colon + 1;
  }
  if (!h || !host_is_plain (h) || !parse_port (port_text, port)) {
    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
        "'%s': expected host:port", text ? text : "");
    g_free (h);
    return FALSE;
  }
  *host = h;
  return TRUE;
}

static void
host_port_clear (McpHostPort * hp)
{
  g_free (hp->host);
}

GArray *
mcp_parse_host_port_list (const gchar * list, GError ** error)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (McpHostPort));
  gchar **items = split_list_set (list, " ,");
  guint i;

  g_array_set_clear_func (out, (GDestroyNotify) host_port_clear);
  for (i = 0; items[i]; i++) {
    McpHostPort hp;

    if (!mcp_parse_host_port (items[i], &hp.host, &hp.port, error)) {
      g_strfreev (items);
      g_array_unref (out);
      return NULL;
    }
    g_array_append_val (out, hp);
  }
  g_strfreev (items);
  return out;
}

/* GLib checks the prefix length only with a warning: check it first. */
static GInetAddressMask *
parse_network (const gchar * item, GError ** error)
{
  const gchar *slash = strchr (item, '/');
  gchar *host =
      g_strndup (item, slash ? (gsize) (slash - item) : strlen (item));
  GInetAddress *addr = g_inet_address_new_from_string (host);
  GInetAddressMask *mask = NULL;
  guint64 bits;

  g_free (host);
  if (!addr) {
    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
        "not a numeric address");
    return NULL;
  }
  bits = g_inet_address_get_native_size (addr) * 8;
  if (slash && !g_ascii_string_to_unsigned (slash + 1, 10, 0, bits, &bits,
          NULL)) {
    g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
        "the prefix length must be 0 to %" G_GSIZE_FORMAT,
        g_inet_address_get_native_size (addr) * 8);
  } else {
    mask = g_inet_address_mask_new (addr, bits, error);
  }
  g_object_unref (addr);
  return mask;
}

GPtrArray *
mcp_parse_networks (const gchar * list, GError ** error)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);
  gchar **items = split_list (list);
  guint i;

  for (i = 0; items[i]; i++) {
    GError *err = NULL;
    GInetAddressMask *mask = parse_network (items[i], &err);

    if (!mask) {
      g_set_error (error, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID,
          "'%s' is not a network (ADDRESS/PREFIX or ADDRESS): %s", items[i],
          err->message);
      g_error_free (err);
      g_strfreev (items);
      g_ptr_array_unref (out);
      return NULL;
    }
    g_ptr_array_add (out, mask);
  }
  g_strfreev (items);
  return out;
}

gboolean
mcp_networks_match (GPtrArray * networks, GInetAddress * addr)
{
  GInetAddress *v4 = NULL;
  gboolean found = FALSE;
  guint i;

  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6) {
    const guint8 *b = g_inet_address_to_bytes (addr);
    static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
      0xff
    };

    if (memcmp (b, mapped, sizeof (mapped)) == 0)
      v4 = g_inet_address_new_from_bytes (b + 12, G_SOCKET_FAMILY_IPV4);
  }
  for (i = 0; networks && i < networks->len && !found; i++) {
    GInetAddressMask *mask = g_ptr_array_index (networks, i);
    GInetAddress *a = v4 && g_inet_address_mask_get_family (mask) ==
        G_SOCKET_FAMILY_IPV4 ? v4 : addr;

    found = g_inet_address_mask_matches (mask, a);
  }
  g_clear_object (&v4);
  return found;
}

gboolean
mcp_sockaddr_ip (const struct sockaddr_storage *sa, guint8 * family,
    const guint8 ** addr, guint16 * port)
{
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

    *family = 4;
    *addr = (const guint8 *) &in->sin_addr;
    *port = g_ntohs (in->sin_port);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

    *family = 6;
    *addr = (const guint8 *) &in6->sin6_addr;
    *port = g_ntohs (in6->sin6_port);
  } else {
    return FALSE;
  }
  return TRUE;
}

gboolean
mcp_source_filters_match (GArray * filters, const struct sockaddr_storage *sa)
{
  const guint8 *addr;
  guint16 port;
  guint8 family;
  guint i;

  if (!filters || filters->len == 0
      || !mcp_sockaddr_ip (sa, &family, &addr, &port))
    return FALSE;

  for (i = 0; i < filters->len; i++) {
    McpSourceFilter *f = &g_array_index (filters, McpSourceFilter, i);

    if (f->port && f->port != port)
      continue;
    if (f->family && (f->family != family
            || memcmp (f->addr, addr, family == 6 ? 16 : 4) != 0))
      continue;
    return TRUE;
  }
  return FALSE;
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
