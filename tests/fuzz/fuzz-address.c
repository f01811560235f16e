/* mcastproxy fuzzing — the address and list parsers (mcp-address).
 *
 * Input: byte 0 picks the parser (modulo 8): 0 an address and a group,
 * 1 interfaces, 2 IPv4 sources, 3 IPv6 sources, 4 source filters, 5
 * networks (CIDR), 6 host:port lists, 7 sources of any family; for 4 and 5
 * bytes 1-19 are then a peer to match (family bit, 16 address bytes,
 * port); the rest is the text (up to a NUL).
 */
#include "config.h"

#include "mcp-address.h"

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

#define SENDER_LEN 19

/* The list items the parsers must see: non-empty after stripping. */
static guint
count_items_set (const gchar * text, const gchar * seps)
{
  gchar **items = g_strsplit_set (text, seps, -1);
  guint i, n = 0;

  for (i = 0; items[i]; i++)
    if (*g_strstrip (items[i]) != '\0')
      n++;
  g_strfreev (items);
  return n;
}

static guint
count_items (const gchar * text)
{
  return count_items_set (text, ",");
}

/* Exactly one of result and error, with an error of the expected codes. */
static void
assert_outcome (gconstpointer result, GError * err, gint code, gint code2)
{
  if (result) {
    g_assert_no_error (err);
    return;
  }
  g_assert_nonnull (err);
  g_assert_true (err->domain == MCP_ADDRESS_ERROR);
  g_assert_true (err->code == code || err->code == code2);
  g_assert_cmpuint (strlen (err->message), >, 0);
}

/* Any address names a sender to ignore, as it is printed. */
static void
check_address_as_filter (GInetAddress * addr, const gchar * canon)
{
  GArray *filters = mcp_parse_source_filters (canon, NULL);
  const McpSourceFilter *f;
  gsize len = g_inet_address_get_native_size (addr);

  g_assert_nonnull (filters);
  g_assert_cmpuint (filters->len, ==, 1);
  f = &g_array_index (filters, McpSourceFilter, 0);
  g_assert_cmpuint (f->family, ==, len == 16 ? 6 : 4);
  g_assert_cmpuint (f->port, ==, 0);
  g_assert_cmpmem (f->addr, len, g_inet_address_to_bytes (addr), len);
  g_array_unref (filters);
}

static void
fuzz_address (const gchar * text)
{
  GError *err = NULL, *group_err = NULL;
  GInetAddress *addr = mcp_parse_inet_address (text, &err);
  GInetAddress *group = mcp_parse_group (text, &group_err);
  GInetAddress *again;

  assert_outcome (addr, err, MCP_ADDRESS_ERROR_INVALID, -1);
  assert_outcome (group, group_err, MCP_ADDRESS_ERROR_INVALID,
      MCP_ADDRESS_ERROR_NOT_MULTICAST);
  g_clear_error (&err);
  again = mcp_parse_inet_address (text, NULL);
  g_assert_true ((again != NULL) == (addr != NULL));
  g_clear_object (&again);

  if (addr) {
    gchar *canon = g_inet_address_to_string (addr);

    again = mcp_parse_inet_address (canon, NULL);
    g_assert_nonnull (again);
    g_assert_true (g_inet_address_equal (addr, again));
    g_object_unref (again);
    check_address_as_filter (addr, canon);
    g_free (canon);
    if (g_inet_address_get_is_multicast (addr)) {
      g_assert_nonnull (group);
      g_assert_true (g_inet_address_equal (addr, group));
    } else {
      g_assert_error (group_err, MCP_ADDRESS_ERROR,
          MCP_ADDRESS_ERROR_NOT_MULTICAST);
    }
    g_object_unref (addr);
  } else {
    g_assert_error (group_err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
  }
  g_clear_error (&group_err);
  g_clear_object (&group);
}

static void
fuzz_interfaces (const gchar * text)
{
  GError *err = NULL;
  GArray *ifs = mcp_parse_interfaces (text, &err);
  guint i;

  assert_outcome (ifs, err, MCP_ADDRESS_ERROR_NO_INTERFACE, -1);
  g_clear_error (&err);
  if (!ifs)
    return;
  g_assert_cmpuint (ifs->len, ==, count_items (text));
  for (i = 0; i < ifs->len; i++) {
    gchar name[IF_NAMESIZE];
    guint index = g_array_index (ifs, guint, i);

    g_assert_cmpuint (index, >, 0);
    g_assert_nonnull (if_indextoname (index, name));
  }
  g_array_unref (ifs);
}

static void
fuzz_sources (const gchar * text, GSocketFamily family)
{
  GError *err = NULL;
  GPtrArray *sources = mcp_parse_sources (text, family, &err);
  guint i;

  assert_outcome (sources, err, MCP_ADDRESS_ERROR_INVALID,
      MCP_ADDRESS_ERROR_FAMILY);
  g_clear_error (&err);
  if (!sources)
    return;
  g_assert_cmpuint (sources->len, ==, count_items (text));
  for (i = 0; i < sources->len; i++) {
    GInetAddress *addr = g_ptr_array_index (sources, i);

    g_assert_false (g_inet_address_get_is_multicast (addr));
    if (family != G_SOCKET_FAMILY_INVALID)
      g_assert_cmpint (g_inet_address_get_family (addr), ==, family);
  }
  g_ptr_array_unref (sources);
}

/* Each item reads back from "host:port" ("[host]:port" when the host has a
 * colon), and a list that parses parses item by item alike. */
static void
fuzz_host_ports (const gchar * text)
{
  GError *err = NULL;
  GArray *list = mcp_parse_host_port_list (text, &err);
  guint i;

  assert_outcome (list, err, MCP_ADDRESS_ERROR_INVALID, -1);
  g_clear_error (&err);
  if (!list) {
    gchar *host = NULL;
    guint16 port = 0;

    /* one item alone fails the same way when it is the whole text */
    if (!strpbrk (text, " ,"))
      g_assert_false (mcp_parse_host_port (text, &host, &port, NULL));
    g_assert_null (host);
    return;
  }
  g_assert_cmpuint (list->len, ==, count_items_set (text, " ,"));
  for (i = 0; i < list->len; i++) {
    McpHostPort *hp = &g_array_index (list, McpHostPort, i);
    gchar *again = g_strdup_printf (strchr (hp->host, ':') ? "[%s]:%u" :
        "%s:%u", hp->host, hp->port);
    gchar *host = NULL;
    guint16 port = 0;
    const gchar *c;

    g_assert_cmpuint (strlen (hp->host), >, 0);
    for (c = hp->host; *c; c++)
      g_assert_true (*c != '[' && *c != ']' && *c != ',' && (guchar) * c > ' '
          && *c != 0x7f);
    g_assert_cmpuint (hp->port, >, 0);
    g_assert_true (mcp_parse_host_port (again, &host, &port, &err));
    g_assert_no_error (err);
    g_assert_cmpstr (host, ==, hp->host);
    g_assert_cmpuint (port, ==, hp->port);
    g_free (host);
    g_free (again);
  }
  g_array_unref (list);
}

static void
make_sender (struct sockaddr_storage *sa, guint8 family, const guint8 * addr,
    guint16 port)
{
  memset (sa, 0, sizeof (*sa));
  if (family == 6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;

    in6->sin6_family = AF_INET6;
    memcpy (&in6->sin6_addr, addr, 16);
    in6->sin6_port = g_htons (port);
  } else {
    struct sockaddr_in *in = (struct sockaddr_in *) sa;

    in->sin_family = AF_INET;
    memcpy (&in->sin_addr, addr, 4);
    in->sin_port = g_htons (port);
  }
}

static void
assert_filter_equal (const McpSourceFilter * a, const McpSourceFilter * b)
{
  g_assert_cmpuint (a->family, ==, b->family);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpmem (a->addr, a->family == 6 ? 16 : 4, b->addr,
      b->family == 6 ? 16 : 4);
}

/* A filter matches a sender made from it, and one with both an address
 * and a port reads back from how the logs print such a sender. */
static void
check_filter (const McpSourceFilter * f)
{
  GArray *one = g_array_new (FALSE, FALSE, sizeof (McpSourceFilter));
  struct sockaddr_storage sa;
  GSocketAddress *addr;
  GArray *back;
  gchar *text;

  g_array_append_vals (one, f, 1);
  make_sender (&sa, f->family, f->addr, f->port ? f->port : 1);
  g_assert_true (mcp_source_filters_match (one, &sa));
  g_array_unref (one);
  if (!f->family || !f->port)
    return;

  addr = g_socket_address_new_from_native (&sa, sizeof (sa));
  g_assert_nonnull (addr);
  text = mcp_socket_address_to_string (addr);
  back = mcp_parse_source_filters (text, NULL);
  g_assert_nonnull (back);
  g_assert_cmpuint (back->len, ==, 1);
  assert_filter_equal (&g_array_index (back, McpSourceFilter, 0), f);
  g_array_unref (back);
  g_free (text);
  g_object_unref (addr);
}

static void
fuzz_source_filters (const guint8 * sender, const gchar * text)
{
  GError *err = NULL;
  GArray *filters = mcp_parse_source_filters (text, &err);
  struct sockaddr_storage sa;
  gboolean any = FALSE;
  guint i;

  assert_outcome (filters, err, MCP_ADDRESS_ERROR_INVALID, -1);
  g_clear_error (&err);
  if (!filters)
    return;
  g_assert_cmpuint (filters->len, ==, count_items (text));

  /* the list matches a sender when one of its filters does */
  make_sender (&sa, (sender[0] & 1) ? 6 : 4, sender + 1,
      (sender[17] << 8) | sender[18]);
  for (i = 0; i < filters->len; i++) {
    const McpSourceFilter *f = &g_array_index (filters, McpSourceFilter, i);
    GArray *one = g_array_new (FALSE, FALSE, sizeof (McpSourceFilter));

    g_assert_true (f->family == 0 || f->family == 4 || f->family == 6);
    check_filter (f);
    g_array_append_vals (one, f, 1);
    any |= mcp_source_filters_match (one, &sa);
    g_array_unref (one);
  }
  g_assert_cmpint (mcp_source_filters_match (filters, &sa), ==, any);
  g_array_unref (filters);
}

static GInetAddress *
make_peer (const guint8 * peer)
{
  return g_inet_address_new_from_bytes (peer + 1,
      (peer[0] & 1) ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4);
}

/* A network holds its own address, also as an IPv4-mapped IPv6 peer, and
 * reads back from its canonical form. */
static void
check_network (GInetAddressMask * mask)
{
  GPtrArray *one = g_ptr_array_new ();
  GInetAddress *addr = g_inet_address_mask_get_address (mask);
  gchar *text = g_inet_address_mask_to_string (mask);
  GPtrArray *back = mcp_parse_networks (text, NULL);

  g_ptr_array_add (one, mask);
  g_assert_true (mcp_networks_match (one, addr));
  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV4) {
    guint8 mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    GInetAddress *v6;

    memcpy (mapped + 12, g_inet_address_to_bytes (addr), 4);
    v6 = g_inet_address_new_from_bytes (mapped, G_SOCKET_FAMILY_IPV6);
    g_assert_true (mcp_networks_match (one, v6));
    g_object_unref (v6);
  }
  g_assert_nonnull (back);
  g_assert_cmpuint (back->len, ==, 1);
  g_assert_true (g_inet_address_mask_equal (g_ptr_array_index (back, 0), mask));
  g_ptr_array_unref (back);
  g_free (text);
  g_ptr_array_unref (one);
}

static void
fuzz_networks (const guint8 * peer, const gchar * text)
{
  GError *err = NULL;
  GPtrArray *networks = mcp_parse_networks (text, &err);
  GInetAddress *addr;
  gboolean any = FALSE;
  guint i;

  assert_outcome (networks, err, MCP_ADDRESS_ERROR_INVALID, -1);
  g_clear_error (&err);
  if (!networks)
    return;
  g_assert_cmpuint (networks->len, ==, count_items (text));

  /* the list holds a peer when one of its networks does */
  addr = make_peer (peer);
  for (i = 0; i < networks->len; i++) {
    GPtrArray *one = g_ptr_array_new ();

    check_network (g_ptr_array_index (networks, i));
    g_ptr_array_add (one, g_ptr_array_index (networks, i));
    any |= mcp_networks_match (one, addr);
    g_ptr_array_unref (one);
  }
  g_assert_cmpint (mcp_networks_match (networks, addr), ==, any);
  g_object_unref (addr);
  g_ptr_array_unref (networks);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  guint which;
  gsize skip = 1;
  gchar *text;

  if (size < 1)
    return 0;
  which = data[0] % 8;
  if (which == 4 || which == 5)
    skip += SENDER_LEN;
  if (size < skip)
    return 0;
  text = g_strndup ((const gchar *) data + skip, size - skip);

  switch (which) {
    case 0:
      fuzz_address (text);
      break;
    case 1:
      fuzz_interfaces (text);
      break;
    case 2:
      fuzz_sources (text, G_SOCKET_FAMILY_IPV4);
      break;
    case 3:
      fuzz_sources (text, G_SOCKET_FAMILY_IPV6);
      break;
    case 4:
      fuzz_source_filters (data + 1, text);
      break;
    case 5:
      fuzz_networks (data + 1, text);
      break;
    case 6:
      fuzz_host_ports (text);
      break;
    default:
      fuzz_sources (text, G_SOCKET_FAMILY_INVALID);
      break;
  }
  g_free (text);
  return 0;
}
