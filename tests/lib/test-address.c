/* mcastproxy — unit tests of address, interface and list parsing
 * (mcp-address). */
#include "config.h"

#include "mcp-address.h"

#include <gio/gunixsocketaddress.h>

#include <net/if.h>
#include <string.h>

static void
check_group_ok (const gchar * text, GSocketFamily family, const gchar * canon)
{
  GError *err = NULL;
  GInetAddress *addr = mcp_parse_group (text, &err);
  gchar *s;

  g_assert_no_error (err);
  g_assert_nonnull (addr);
  g_assert_true (g_inet_address_get_is_multicast (addr));
  g_assert_cmpint (g_inet_address_get_family (addr), ==, family);
  s = g_inet_address_to_string (addr);
  g_assert_cmpstr (s, ==, canon);
  g_free (s);
  g_object_unref (addr);
}

static void
check_group_error (const gchar * text, gint code)
{
  GError *err = NULL;
  GInetAddress *addr = mcp_parse_group (text, &err);

  g_assert_null (addr);
  g_assert_error (err, MCP_ADDRESS_ERROR, code);
  g_assert_cmpuint (strlen (err->message), >, 0);
  g_clear_error (&err);

  /* a NULL GError is fine too */
  g_assert_null (mcp_parse_group (text, NULL));
}

static void
test_group_ipv4 (void)
{
  check_group_ok ("239.1.2.3", G_SOCKET_FAMILY_IPV4, "239.1.2.3");
  check_group_ok ("224.0.0.1", G_SOCKET_FAMILY_IPV4, "224.0.0.1");
  check_group_ok ("239.255.255.255", G_SOCKET_FAMILY_IPV4, "239.255.255.255");
  /* surrounding blanks are forgiven */
  check_group_ok ("  239.1.2.3 ", G_SOCKET_FAMILY_IPV4, "239.1.2.3");
}

static void
test_group_ipv6 (void)
{
  check_group_ok ("ff3e::1234", G_SOCKET_FAMILY_IPV6, "ff3e::1234");
  check_group_ok ("ff02::1", G_SOCKET_FAMILY_IPV6, "ff02::1");
  check_group_ok ("FF05:0:0:0:0:0:0:2", G_SOCKET_FAMILY_IPV6, "ff05::2");
}

static void
test_group_not_multicast (void)
{
  GError *err = NULL;
  GInetAddress *addr;

  check_group_error ("10.0.0.1", MCP_ADDRESS_ERROR_NOT_MULTICAST);
  check_group_error ("::1", MCP_ADDRESS_ERROR_NOT_MULTICAST);
  check_group_error ("223.255.255.255", MCP_ADDRESS_ERROR_NOT_MULTICAST);
  check_group_error ("240.0.0.1", MCP_ADDRESS_ERROR_NOT_MULTICAST);
  check_group_error ("0.0.0.0", MCP_ADDRESS_ERROR_NOT_MULTICAST);
  check_group_error ("fe80::1", MCP_ADDRESS_ERROR_NOT_MULTICAST);

  /* the reason names the address */
  addr = mcp_parse_group ("10.0.0.1", &err);
  g_assert_null (addr);
  g_assert_nonnull (strstr (err->message, "10.0.0.1"));
  g_clear_error (&err);
}

static void
test_group_invalid (void)
{
  GError *err = NULL;

  check_group_error (NULL, MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("   ", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("garbage", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("239.1.2", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("239.1.2.256", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("239.1.2.3:5000", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("ff3e::1::2", MCP_ADDRESS_ERROR_INVALID);
  check_group_error ("[ff3e::1]", MCP_ADDRESS_ERROR_INVALID);
  /* numeric only: no name resolution */
  check_group_error ("localhost", MCP_ADDRESS_ERROR_INVALID);

  g_assert_null (mcp_parse_group ("garbage", &err));
  g_assert_nonnull (strstr (err->message, "garbage"));
  g_clear_error (&err);
}

static void
test_inet_address (void)
{
  GError *err = NULL;
  GInetAddress *addr;

  /* any kind of address, not only groups */
  addr = mcp_parse_inet_address ("10.0.0.1", &err);
  g_assert_no_error (err);
  g_assert_nonnull (addr);
  g_assert_cmpint (g_inet_address_get_family (addr), ==, G_SOCKET_FAMILY_IPV4);
  g_object_unref (addr);
  addr = mcp_parse_inet_address ("::1", &err);
  g_assert_no_error (err);
  g_assert_true (g_inet_address_get_is_loopback (addr));
  g_object_unref (addr);

  g_assert_null (mcp_parse_inet_address ("nope", &err));
  g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_null (mcp_parse_inet_address (NULL, &err));
  g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
  g_clear_error (&err);
}

/* ---- interfaces -------------------------------------------------------- */

static void
check_interfaces (const gchar * list, const guint * want, guint n_want)
{
  GError *err = NULL;
  GArray *got = mcp_parse_interfaces (list, &err);

  g_assert_no_error (err);
  g_assert_nonnull (got);
  g_assert_cmpuint (g_array_get_element_size (got), ==, sizeof (guint));
  g_assert_cmpmem (got->data, got->len * sizeof (guint), want,
      n_want * sizeof (guint));
  g_array_unref (got);
}

static void
check_interfaces_error (const gchar * list, const gchar * name)
{
  GError *err = NULL;
  GArray *got = mcp_parse_interfaces (list, &err);

  g_assert_null (got);
  g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_NO_INTERFACE);
  g_assert_nonnull (strstr (err->message, name));
  g_clear_error (&err);
  g_assert_null (mcp_parse_interfaces (list, NULL));
}

static void
test_interfaces_empty (void)
{
  check_interfaces (NULL, NULL, 0);
  check_interfaces ("", NULL, 0);
  check_interfaces (" ", NULL, 0);
  check_interfaces (",", NULL, 0);
  check_interfaces (" , ,", NULL, 0);
}

static void
test_interfaces_lo (void)
{
  guint lo = if_nametoindex ("lo");
  guint two[2];

  if (lo == 0) {
    g_test_skip ("no loopback interface named lo");
    return;
  }
  two[0] = two[1] = lo;
  check_interfaces ("lo", &lo, 1);
  check_interfaces (" lo , lo ", two, 2);
  check_interfaces ("lo,", &lo, 1);
  check_interfaces (",lo", &lo, 1);
}

static void
test_interfaces_unknown (void)
{
  gchar *long_name = g_strnfill (IF_NAMESIZE, 'x');
  gchar *longer_name = g_strnfill (IF_NAMESIZE + 10, 'y');

  check_interfaces_error ("nosuchif0", "'nosuchif0'");
  if (if_nametoindex ("lo") != 0)
    check_interfaces_error ("lo,nosuchif0", "'nosuchif0'");
  check_interfaces_error ("nosuchif0,lo", "'nosuchif0'");
  check_interfaces_error (" nosuchif0 ", "'nosuchif0'");
  /* names that cannot fit a kernel interface name */
  check_interfaces_error (long_name, long_name);
  check_interfaces_error (longer_name, longer_name);
  /* an index is not a name */
  check_interfaces_error ("1", "'1'");
  g_free (long_name);
  g_free (longer_name);
}

/* ---- sources ----------------------------------------------------------- */

static void
check_sources (const gchar * list, GSocketFamily family,
    const gchar * const *want)
{
  GError *err = NULL;
  GPtrArray *got = mcp_parse_sources (list, family, &err);
  guint i;

  g_assert_no_error (err);
  g_assert_nonnull (got);
  g_assert_cmpuint (got->len, ==, want ? g_strv_length ((gchar **) want) : 0);
  for (i = 0; i < got->len; i++) {
    GInetAddress *addr = g_ptr_array_index (got, i);
    gchar *s = g_inet_address_to_string (addr);

    g_assert_true (G_IS_INET_ADDRESS (addr));
    g_assert_cmpint (g_inet_address_get_family (addr), ==, family);
    g_assert_cmpstr (s, ==, want[i]);
    g_free (s);
  }
  g_ptr_array_unref (got);
}

static void
check_sources_error (const gchar * list, GSocketFamily family, gint code,
    const gchar * mention)
{
  GError *err = NULL;
  GPtrArray *got = mcp_parse_sources (list, family, &err);

  g_assert_null (got);
  g_assert_error (err, MCP_ADDRESS_ERROR, code);
  g_assert_nonnull (strstr (err->message, mention));
  g_clear_error (&err);
  g_assert_null (mcp_parse_sources (list, family, NULL));
}

static void
test_sources_ok (void)
{
  const gchar *v4[] = { "192.0.2.1", "198.51.100.7", "10.0.0.1", NULL };
  const gchar *v6[] = { "2001:db8::1", "fe80::2", NULL };
  const gchar *one[] = { "192.0.2.9", NULL };

  check_sources (NULL, G_SOCKET_FAMILY_IPV4, NULL);
  check_sources ("", G_SOCKET_FAMILY_IPV6, NULL);
  check_sources (" , ", G_SOCKET_FAMILY_IPV4, NULL);
  check_sources ("192.0.2.9", G_SOCKET_FAMILY_IPV4, one);
  check_sources ("192.0.2.1,198.51.100.7,10.0.0.1", G_SOCKET_FAMILY_IPV4, v4);
  check_sources (" 192.0.2.1 ,  198.51.100.7,10.0.0.1 , ",
      G_SOCKET_FAMILY_IPV4, v4);
  check_sources ("2001:db8::1, fe80::2", G_SOCKET_FAMILY_IPV6, v6);
  check_sources ("2001:0db8:0:0:0:0:0:1 ,FE80::2", G_SOCKET_FAMILY_IPV6, v6);
}

static void
test_sources_family (void)
{
  check_sources_error ("2001:db8::1", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_FAMILY, "2001:db8::1");
  check_sources_error ("192.0.2.1", G_SOCKET_FAMILY_IPV6,
      MCP_ADDRESS_ERROR_FAMILY, "192.0.2.1");
  /* one wrong item spoils the list */
  check_sources_error ("192.0.2.1, 2001:db8::1, 192.0.2.2",
      G_SOCKET_FAMILY_IPV4, MCP_ADDRESS_ERROR_FAMILY, "2001:db8::1");
  check_sources_error ("2001:db8::1,192.0.2.1", G_SOCKET_FAMILY_IPV6,
      MCP_ADDRESS_ERROR_FAMILY, "IPv6");
}

static void
test_sources_invalid (void)
{
  check_sources_error ("garbage", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "garbage");
  check_sources_error ("192.0.2.1, bogus", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "bogus");
  check_sources_error ("192.0.2.1 192.0.2.2", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "192.0.2.1 192.0.2.2");
  check_sources_error ("192.0.2.1;192.0.2.2", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "192.0.2.1;192.0.2.2");
  check_sources_error ("2001:db8::1, ::g", G_SOCKET_FAMILY_IPV6,
      MCP_ADDRESS_ERROR_INVALID, "::g");
}

/* Unicast only: a multicast group is no sender. */
static void
test_sources_multicast (void)
{
  check_sources_error ("239.1.1.1", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "source '239.1.1.1' is not a unicast IP "
      "address");
  check_sources_error ("192.0.2.1, 224.0.0.1", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "'224.0.0.1'");
  check_sources_error ("ff02::1", G_SOCKET_FAMILY_IPV6,
      MCP_ADDRESS_ERROR_INVALID, "source 'ff02::1' is not a unicast IP "
      "address");
  /* the item as written (stripped), in the reason */
  check_sources_error (" garbage ", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "source 'garbage' is not a numeric IPv4 "
      "or IPv6 address");
  /* not multicast comes before the family */
  check_sources_error ("ff02::1", G_SOCKET_FAMILY_IPV4,
      MCP_ADDRESS_ERROR_INVALID, "not a unicast");
}

/* G_SOCKET_FAMILY_INVALID: any family, each item as it is. */
static void
test_sources_any_family (void)
{
  const gchar *want[] = { "192.0.2.1", "2001:db8::1", "10.0.0.1", NULL };
  GError *err = NULL;
  GPtrArray *got = mcp_parse_sources (" 192.0.2.1,2001:0db8::1 ,, 10.0.0.1",
      G_SOCKET_FAMILY_INVALID, &err);
  guint i;

  g_assert_no_error (err);
  g_assert_cmpuint (got->len, ==, 3);
  for (i = 0; i < got->len; i++) {
    gchar *text = g_inet_address_to_string (g_ptr_array_index (got, i));

    g_assert_cmpstr (text, ==, want[i]);
    g_free (text);
  }
  g_ptr_array_unref (got);

  got = mcp_parse_sources (NULL, G_SOCKET_FAMILY_INVALID, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (got->len, ==, 0);
  g_ptr_array_unref (got);

  check_sources_error ("192.0.2.1,ff15::1", G_SOCKET_FAMILY_INVALID,
      MCP_ADDRESS_ERROR_INVALID, "source 'ff15::1' is not a unicast");
  check_sources_error ("2001:db8::1,nope", G_SOCKET_FAMILY_INVALID,
      MCP_ADDRESS_ERROR_INVALID, "source 'nope' is not a numeric");
}

/* ---- host:port --------------------------------------------------------- */

static void
check_host_port (const gchar * text, const gchar * host, guint16 port)
{
  GError *err = NULL;
  gchar *got_host = NULL;
  guint16 got_port = 0;

  g_assert_true (mcp_parse_host_port (text, &got_host, &got_port, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (got_host, ==, host);
  g_assert_cmpuint (got_port, ==, port);
  g_free (got_host);
}

static void
check_host_port_error (const gchar * text)
{
  GError *err = NULL;
  gchar *host = NULL;
  guint16 port = 0;
  gchar *want = g_strdup_printf ("'%s': expected host:port", text);

  g_assert_false (mcp_parse_host_port (text, &host, &port, &err));
  g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, want);
  g_assert_null (host);
  g_assert_cmpuint (port, ==, 0);
  g_clear_error (&err);
  g_assert_false (mcp_parse_host_port (text, &host, &port, NULL));
  g_free (want);
}

static void
test_host_port (void)
{
  check_host_port ("islandb.example.net:5300", "islandb.example.net", 5300);
  check_host_port ("192.0.2.1:1", "192.0.2.1", 1);
  check_host_port ("localhost:65535", "localhost", 65535);
  check_host_port ("[2001:db8::1]:5300", "2001:db8::1", 5300);
  check_host_port ("[::1]:7", "::1", 7);
  /* without brackets an IPv6 address ends at the last colon */
  check_host_port ("2001:db8::1:5300", "2001:db8::1", 5300);
  check_host_port ("h:007", "h", 7);
}

static void
test_host_port_invalid (void)
{
  static const gchar *bad[] = { "", "nocolon", "host:", ":5000", "host:0",
    "host:65536", "host:99999", "host:+5", "host:-1", "host:5x", "host: 5",
    "host:5 ", "[]:5", "[::1]", "[::1:5", "[::1]5", "[::1]:", "a]:5",
    "[a[b]:5", "a b:5", "\t:5", "a\vb:5", "[a\x01]:5", "a\x7f:5",
    "[::1]:5]:6",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    check_host_port_error (bad[i]);
  g_assert_false (mcp_parse_host_port (NULL, NULL, NULL, NULL));
}

static void
test_host_port_list (void)
{
  static const struct
  {
    const gchar *host;
    guint16 port;
  } want[] = { {"a", 1}, {"192.0.2.1", 5300}, {"2001:db8::1", 5300},
  {"b.example", 65535}
  };
  GError *err = NULL;
  GArray *list;
  guint i;

  list = mcp_parse_host_port_list (" a:1,192.0.2.1:5300 ,, [2001:db8::1]:5300"
      "   b.example:65535 ,", &err);
  g_assert_no_error (err);
  g_assert_cmpuint (list->len, ==, G_N_ELEMENTS (want));
  for (i = 0; i < list->len; i++) {
    McpHostPort *hp = &g_array_index (list, McpHostPort, i);

    g_assert_cmpstr (hp->host, ==, want[i].host);
    g_assert_cmpuint (hp->port, ==, want[i].port);
  }
  g_array_unref (list);

  for (i = 0; i < 4; i++) {
    const gchar *empty[] = { NULL, "", " ", " , ,, " };

    list = mcp_parse_host_port_list (empty[i], &err);
    g_assert_no_error (err);
    g_assert_cmpuint (list->len, ==, 0);
    g_array_unref (list);
  }

  /* one bad item spoils the list; the first is named */
  g_assert_null (mcp_parse_host_port_list ("a:1 b:0 c", &err));
  g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, "'b:0': expected host:port");
  g_clear_error (&err);
  g_assert_null (mcp_parse_host_port_list ("127.0.0.1:5000 host:", &err));
  g_assert_cmpstr (err->message, ==, "'host:': expected host:port");
  g_clear_error (&err);
  /* spaces and commas separate, nothing else */
  g_assert_null (mcp_parse_host_port_list ("a:1\tb:2", NULL));
}

/* ---- socket addresses -------------------------------------------------- */

static void
check_socket_address (const gchar * ip, guint16 port, const gchar * want)
{
  GInetAddress *addr = g_inet_address_new_from_string (ip);
  GSocketAddress *sa;
  gchar *s;

  g_assert_nonnull (addr);
  sa = g_inet_socket_address_new (addr, port);
  s = mcp_socket_address_to_string (sa);
  g_assert_cmpstr (s, ==, want);
  g_free (s);
  g_object_unref (sa);
  g_object_unref (addr);
}

static void
test_socket_address_to_string (void)
{
  check_socket_address ("192.0.2.1", 5000, "192.0.2.1:5000");
  check_socket_address ("2001:db8::1", 5000, "[2001:db8::1]:5000");
  check_socket_address ("0.0.0.0", 0, "0.0.0.0:0");
  check_socket_address ("::", 65535, "[::]:65535");
  check_socket_address ("::ffff:192.0.2.1", 80, "[::ffff:192.0.2.1]:80");
}

static void
test_socket_address_not_inet (void)
{
  GSocketAddress *sa = g_unix_socket_address_new ("/tmp/x");
  gchar *s = mcp_socket_address_to_string (sa);

  g_assert_cmpstr (s, ==, "(unknown)");
  g_free (s);
  g_object_unref (sa);
}

/* Builds a sockaddr_storage for ip:port. */
static void
make_sockaddr (const gchar * ip, guint16 port, struct sockaddr_storage *ss)
{
  GInetAddress *a = g_inet_address_new_from_string (ip);
  GSocketAddress *sa = g_inet_socket_address_new (a, port);

  memset (ss, 0, sizeof (*ss));
  g_assert_true (g_socket_address_to_native (sa, ss, sizeof (*ss), NULL));
  g_object_unref (sa);
  g_object_unref (a);
}

static gboolean
filters_match (const gchar * list, const gchar * ip, guint16 port)
{
  GError *err = NULL;
  GArray *f = mcp_parse_source_filters (list, &err);
  struct sockaddr_storage ss;
  gboolean m;

  g_assert_no_error (err);
  make_sockaddr (ip, port, &ss);
  m = mcp_source_filters_match (f, &ss);
  g_array_unref (f);
  return m;
}

static void
test_source_filters (void)
{
  GError *err = NULL;
  GArray *f;

  f = mcp_parse_source_filters (NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (f->len, ==, 0);
  g_array_unref (f);
  f = mcp_parse_source_filters (" 192.0.2.7 , :5499, [2001:db8::7]:6000,"
      "2001:db8::8, 10.0.0.1:80 ", &err);
  g_assert_no_error (err);
  g_assert_cmpuint (f->len, ==, 5);
  g_array_unref (f);

  /* address alone: any port */
  g_assert_true (filters_match ("192.0.2.7", "192.0.2.7", 1));
  g_assert_true (filters_match ("192.0.2.7", "192.0.2.7", 65535));
  g_assert_false (filters_match ("192.0.2.7", "192.0.2.8", 1));
  /* port alone: any address, either family */
  g_assert_true (filters_match (":5499", "10.1.1.1", 5499));
  g_assert_true (filters_match (":5499", "2001:db8::1", 5499));
  g_assert_false (filters_match (":5499", "10.1.1.1", 5498));
  /* both */
  g_assert_true (filters_match ("10.0.0.1:80", "10.0.0.1", 80));
  g_assert_false (filters_match ("10.0.0.1:80", "10.0.0.1", 81));
  g_assert_false (filters_match ("10.0.0.1:80", "10.0.0.2", 80));
  g_assert_true (filters_match ("[2001:db8::7]:6000", "2001:db8::7", 6000));
  g_assert_false (filters_match ("[2001:db8::7]:6000", "2001:db8::7", 6001));
  g_assert_true (filters_match ("2001:db8::8", "2001:db8::8", 9));
  /* IPv6 addresses that start with "::" are addresses, not ports */
  g_assert_true (filters_match ("::1", "::1", 9));
  g_assert_false (filters_match ("::1", "::2", 9));
  g_assert_true (filters_match ("::ffff:192.0.2.7", "::ffff:192.0.2.7", 9));
  g_assert_true (filters_match ("[::1]:5499", "::1", 5499));
  /* families never mix */
  g_assert_false (filters_match ("0.0.0.0", "::", 9));
  /* an empty list matches nothing */
  g_assert_false (filters_match ("", "10.0.0.1", 80));
}

static void
test_source_filters_invalid (void)
{
  const gchar *bad[] = { "garbage", ":0", ":70000", ":x", "10.0.0.1:",
    "[2001:db8::1]", "[2001:db8::1]:", "[nonsense]:5", "10.0.0.1:5x",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;
    GArray *f = mcp_parse_source_filters (bad[i], &err);

    g_assert_null (f);
    g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
    g_assert_nonnull (strstr (err->message, bad[i]));
    g_error_free (err);
  }
}

static gboolean
net_match (GPtrArray * nets, const gchar * addr)
{
  GInetAddress *a = g_inet_address_new_from_string (addr);
  gboolean r;

  g_assert_nonnull (a);
  r = mcp_networks_match (nets, a);
  g_object_unref (a);
  return r;
}

static void
test_networks (void)
{
  GError *err = NULL;
  GPtrArray *nets = mcp_parse_networks (" 10.0.0.0/8, 192.0.2.7 ,"
      "2001:db8::/32,,::1", &err);

  g_assert_no_error (err);
  g_assert_cmpuint (nets->len, ==, 4);
  g_assert_true (net_match (nets, "10.255.1.2"));
  g_assert_false (net_match (nets, "11.0.0.1"));
  g_assert_true (net_match (nets, "192.0.2.7"));
  g_assert_false (net_match (nets, "192.0.2.8"));
  g_assert_true (net_match (nets, "2001:db8:ffff::1"));
  g_assert_false (net_match (nets, "2001:db9::1"));
  g_assert_true (net_match (nets, "::1"));
  g_assert_false (net_match (nets, "127.0.0.1"));
  /* IPv4 clients of a dual-stack listener */
  g_assert_true (net_match (nets, "::ffff:10.1.2.3"));
  g_assert_true (net_match (nets, "::ffff:192.0.2.7"));
  g_assert_false (net_match (nets, "::ffff:11.1.2.3"));
  g_ptr_array_unref (nets);

  /* empty: matches nothing (the caller decides what empty means) */
  nets = mcp_parse_networks ("", &err);
  g_assert_no_error (err);
  g_assert_cmpuint (nets->len, ==, 0);
  g_assert_false (net_match (nets, "10.0.0.1"));
  g_ptr_array_unref (nets);
  nets = mcp_parse_networks (NULL, &err);
  g_assert_cmpuint (nets->len, ==, 0);
  g_ptr_array_unref (nets);

  /* 0.0.0.0/0 and ::/0 take everyone */
  nets = mcp_parse_networks ("0.0.0.0/0,::/0", &err);
  g_assert_true (net_match (nets, "203.0.113.9"));
  g_assert_true (net_match (nets, "::ffff:203.0.113.9"));
  g_assert_true (net_match (nets, "fe80::1"));
  g_ptr_array_unref (nets);
}

static void
test_networks_invalid (void)
{
  const gchar *bad[] = { "10.0.0.0/33", "10.0.0.0/", "host.example",
    "10.0.0.1/8", "2001:db8::/129", "1.2.3.4,nope", "/8"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;

    g_assert_null (mcp_parse_networks (bad[i], &err));
    g_assert_error (err, MCP_ADDRESS_ERROR, MCP_ADDRESS_ERROR_INVALID);
    g_clear_error (&err);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/address/group/ipv4", test_group_ipv4);
  g_test_add_func ("/address/group/ipv6", test_group_ipv6);
  g_test_add_func ("/address/group/not-multicast", test_group_not_multicast);
  g_test_add_func ("/address/group/invalid", test_group_invalid);
  g_test_add_func ("/address/inet-address", test_inet_address);
  g_test_add_func ("/address/interfaces/empty", test_interfaces_empty);
  g_test_add_func ("/address/interfaces/lo", test_interfaces_lo);
  g_test_add_func ("/address/interfaces/unknown", test_interfaces_unknown);
  g_test_add_func ("/address/sources/ok", test_sources_ok);
  g_test_add_func ("/address/sources/family", test_sources_family);
  g_test_add_func ("/address/sources/invalid", test_sources_invalid);
  g_test_add_func ("/address/sources/multicast", test_sources_multicast);
  g_test_add_func ("/address/sources/any-family", test_sources_any_family);
  g_test_add_func ("/address/host-port", test_host_port);
  g_test_add_func ("/address/host-port/invalid", test_host_port_invalid);
  g_test_add_func ("/address/host-port/list", test_host_port_list);
  g_test_add_func ("/address/source-filters", test_source_filters);
  g_test_add_func ("/address/source-filters/invalid",
      test_source_filters_invalid);
  g_test_add_func ("/address/networks", test_networks);
  g_test_add_func ("/address/networks/invalid", test_networks_invalid);
  g_test_add_func ("/address/socket-address-to-string",
      test_socket_address_to_string);
  g_test_add_func ("/address/socket-address-not-inet",
      test_socket_address_not_inet);

  return g_test_run ();
}
