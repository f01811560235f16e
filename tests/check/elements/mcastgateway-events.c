/* mcastproxy — mcastgateway element tests: HTTP clients on loopback, the
 * groups sent on the loopback of the test's private network namespace.
 *
 * What the operator's log is made of: a channel's client served and gone
 * (mcastproxy-client-added, -removed), its group joined and left
 * (mcastproxy-joined, -left), in order, waited for on the bus. */
#include "config.h"

#include <gst/check/gstcheck.h>

#include "mcp-check-util.h"

#define CLIENT_ADDED "mcastproxy-client-added, address=(string)\"%s\", " \
    "channel=(string)\"%s\""
#define CLIENT_REMOVED "mcastproxy-client-removed, address=(string)\"%s\", " \
    "reason=(string)\"%s\", channel=(string)\"%s\""
#define JOINED "mcastproxy-joined, group=(string)%s, source=(string)\"%s\", " \
    "interface=(string)\"%s\", port=(uint)%u"
#define LEFT "mcastproxy-left, group=(string)%s, source=(string)\"%s\", " \
    "interface=(string)\"%s\", port=(uint)%u, reason=(string)\"%s\""

typedef struct
{
  GstElement *gw;
  GstBus *bus;
  guint port;                   /* current-port */
} Gateway;

/* A playing gateway on port=0 with the given properties, posting to its
 * own bus. */
static void
gateway_start (Gateway * g, const gchar * props)
{
  g->gw = gst_check_setup_element ("mcastgateway");
  g_object_set (g->gw, "port", 0, NULL);
  mcp_test_set_props (g->gw, props);
  g->bus = gst_bus_new ();
  gst_element_set_bus (g->gw, g->bus);
  fail_if (gst_element_set_state (g->gw, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  g_object_get (g->gw, "current-port", &g->port, NULL);
  fail_unless (g->port > 0);
}

/* To NULL: what it still had it ends and says so before this returns. */
static void
gateway_stop (Gateway * g)
{
  fail_unless_equals_int (gst_element_set_state (g->gw, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
}

static void
gateway_free (Gateway * g)
{
  /* the messages left hold references to the element */
  gst_bus_set_flushing (g->bus, TRUE);
  gst_element_set_bus (g->gw, NULL);
  gst_object_unref (g->bus);
  gst_check_teardown_element (g->gw);
}

/* A UDP port nobody uses now: bound once to port 0 and read back. */
static guint
free_udp_port (void)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (any, 0);
  guint port;

  fail_unless (s != NULL);
  fail_unless (g_socket_bind (s, sa, FALSE, NULL));
  port = mcp_test_local_port (s);
  g_object_unref (sa);
  g_object_unref (any);
  g_object_unref (s);
  return port;
}

/* A client that sent "GET path"; *address: how the gateway names it. */
static GSocket *
http_get (Gateway * g, const gchar * path, gchar ** address)
{
  GSocket *s = mcp_test_tcp_connect (g->port);
  gchar *req = g_strdup_printf ("GET %s HTTP/1.0\r\n\r\n", path);

  mcp_test_send_all (s, req, strlen (req));
  g_free (req);
  if (address)
    *address = g_strdup_printf ("127.0.0.1:%u", mcp_test_local_port (s));
  return s;
}

/* Reads the answer's head, which must be status. */
static void
read_head (GSocket * s, guint status)
{
  GString *head = g_string_new (NULL);
  gchar *want = g_strdup_printf ("HTTP/1.0 %u ", status);

  while (!g_str_has_suffix (head->str, "\r\n\r\n")) {
    guint8 c;

    mcp_test_recv_exact (s, &c, 1);
    g_string_append_c (head, c);
  }
  fail_unless (g_str_has_prefix (head->str, want), "answer: %s", head->str);
  g_string_free (head, TRUE);
  g_free (want);
}

/* Sends datagram n of size bytes to group:port from 127.0.0.1. */
static void
send_datagram (const gchar * group, guint port, guint n, gsize size)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  guint8 *data = g_malloc (size);
  gsize i;

  for (i = 0; i < size; i++)
    data[i] = mcp_test_byte (n, i);
  mcp_test_udp_send (tx, group, port, data, size);
  g_free (data);
  g_object_unref (tx);
}

/* The payload of datagram n, size bytes. */
static void
read_datagram (GSocket * s, guint n, gsize size)
{
  guint8 *data = g_malloc (size);

  mcp_test_recv_exact (s, data, size);
  fail_unless (mcp_test_check_bytes (n, data, size),
      "content of datagram %u differs", n);
  g_free (data);
}

/* Reads to the end (the gateway closed): nothing is left unread, so that
 * our close is an orderly one. */
static void
read_to_end (GSocket * s)
{
  fail_unless (mcp_test_wait_closed (s));
}

/* A channel's clients: told when they are served and when they go, with
 * the channel; its group joined with the first request and left linger
 * after the last client; pages answered and closed, and a client that
 * went before it was served, are no clients. */
GST_START_TEST (test_clients_and_joins)
{
  guint p = free_udp_port ();
  gchar *path = g_strdup_printf ("/udp/239.255.10.1:%u", p);
  gchar *a1, *a2;
  GSocket *c1, *c2, *page;
  Gateway g;

  gateway_start (&g, "linger=100000000");

  /* a page: answered and closed */
  page = http_get (&g, "/status", NULL);
  read_head (page, 200);
  read_to_end (page);
  g_object_unref (page);
  mcp_test_assert_no_event (g.bus);

  /* the first request joins; its client is served once data came */
  c1 = http_get (&g, path, &a1);
  mcp_test_expect_event (g.bus, JOINED, "239.255.10.1", "", "", p);
  send_datagram ("239.255.10.1", p, 1, 1316);
  read_head (c1, 200);
  read_datagram (c1, 1, 1316);
  mcp_test_expect_event (g.bus, CLIENT_ADDED, a1, path);

  /* a second client shares the join */
  c2 = http_get (&g, path, &a2);
  read_head (c2, 200);
  mcp_test_expect_event (g.bus, CLIENT_ADDED, a2, path);
  g_object_unref (c1);
  mcp_test_expect_event (g.bus, CLIENT_REMOVED, a1,
      "peer closed the connection", path);
  /* the last one gone: left after the linger */
  g_object_unref (c2);
  mcp_test_expect_event (g.bus, CLIENT_REMOVED, a2,
      "peer closed the connection", path);
  mcp_test_expect_event (g.bus, LEFT, "239.255.10.1", "", "", p,
      "no client left");
  mcp_test_assert_no_event (g.bus);
  g_free (a1);
  g_free (a2);

  /* a source-specific channel whose client goes before anything came:
   * joined and left, no client */
  g_free (path);
  path = g_strdup_printf ("/udp/127.0.0.2@232.1.3.3:%u", p);
  c1 = http_get (&g, path, NULL);
  mcp_test_expect_event (g.bus, JOINED, "232.1.3.3", "127.0.0.2", "", p);
  g_object_unref (c1);
  mcp_test_expect_event (g.bus, LEFT, "232.1.3.3", "127.0.0.2", "", p,
      "no client left");
  mcp_test_assert_no_event (g.bus);

  gateway_stop (&g);
  mcp_test_assert_no_event (g.bus);
  gateway_free (&g);
  g_free (path);
}

GST_END_TEST;

/* Stopping ends the clients served and leaves the groups, and says so. */
GST_START_TEST (test_stop_ends_clients_and_leaves)
{
  guint p = free_udp_port ();
  gchar *path = g_strdup_printf ("/rtp/239.255.10.2:%u", p);
  gchar *a1;
  GSocket *c1;
  Gateway g;
  /* an RTP header (version 2, sequence 1) and 4 bytes of payload */
  static const guint8 rtp[] = { 0x80, 0x21, 0x00, 0x01, 0, 0, 0, 1,
    0x12, 0x34, 0x56, 0x78, 'd', 'a', 't', 'a'
  };
  guint8 payload[4];
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");

  gateway_start (&g, "multicast-iface=lo");
  c1 = http_get (&g, path, &a1);
  mcp_test_expect_event (g.bus, JOINED, "239.255.10.2", "", "lo", p);
  mcp_test_udp_send (tx, "239.255.10.2", p, rtp, sizeof (rtp));
  read_head (c1, 200);
  mcp_test_recv_exact (c1, payload, sizeof (payload));
  fail_unless (memcmp (payload, "data", 4) == 0);
  mcp_test_expect_event (g.bus, CLIENT_ADDED, a1, path);

  gateway_stop (&g);
  mcp_test_expect_event (g.bus, CLIENT_REMOVED, a1, "element stopped", path);
  mcp_test_expect_event (g.bus, LEFT, "239.255.10.2", "", "lo", p, "stopping");
  mcp_test_assert_no_event (g.bus);
  read_to_end (c1);
  g_object_unref (c1);
  g_object_unref (tx);
  gateway_free (&g);
  g_free (a1);
  g_free (path);
}

GST_END_TEST;

static Suite *
mcastgateway_events_suite (void)
{
  Suite *s = suite_create ("mcastgateway-events");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_clients_and_joins);
  tcase_add_test (tc, test_stop_ends_clients_and_leaves);
  return s;
}

GST_CHECK_MAIN (mcastgateway_events);
