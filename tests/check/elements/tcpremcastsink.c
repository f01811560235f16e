/* mcastproxy — tcpremcastsink element tests: real multicast receivers in
 * the test's private network namespace. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/base/gstbasesink.h>

#include "gstmcpmeta.h"
#include "mcp-check-util.h"

/* More than any UDP payload (65507 bytes over IPv4, 65527 over IPv6). */
#define RECV_BUF_SIZE 65536

typedef struct
{
  GstHarness *h;
  GSocket *rx;                  /* joined to the group on the default iface */
  guint port;
} SinkFixture;

/* A playing tcpremcastsink sending to group:port with loop=true (receivers
 * share the host) and the given properties (gst-launch syntax). */
static GstHarness *
sink_harness (const gchar * group, guint port, const gchar * props)
{
  GstElement *sink = gst_element_factory_make ("tcpremcastsink", NULL);
  GstHarness *h;

  fail_unless (sink != NULL);
  /* configured before the harness starts it */
  g_object_set (sink, "address", group, "port", port, "loop", TRUE, NULL);
  mcp_test_set_props (sink, props);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "application/x-test");
  gst_harness_play (h);
  return h;
}

static void
sink_setup (SinkFixture * f, const gchar * group, const gchar * props)
{
  f->rx = mcp_test_udp_receiver (group, 0);
  f->port = mcp_test_local_port (f->rx);
  f->h = sink_harness (group, f->port, props);
}

static void
sink_teardown (SinkFixture * f)
{
  gst_harness_teardown (f->h);
  g_object_unref (f->rx);
}

static GstStructure *
sink_stats (GstHarness * h)
{
  return mcp_test_stats (h->element, "tcpremcastsink-stats");
}

static guint64
sink_stat (GstHarness * h, const gchar * field)
{
  return mcp_test_stat (h->element, "tcpremcastsink-stats", field);
}

static void
push_datagram (GstHarness * h, guint n, gsize size)
{
  fail_unless_equals_int (gst_harness_push (h, mcp_test_buffer (n, size)),
      GST_FLOW_OK);
}

/* Receives the next datagram on s, checks it is datagram n of size bytes
 * and returns where it came from. */
static GSocketAddress *
recv_datagram (GSocket * s, guint n, gsize size)
{
  guint8 *buf = g_malloc (RECV_BUF_SIZE);
  GSocketAddress *from = NULL;
  GError *err = NULL;
  gssize got = g_socket_receive_from (s, &from, (gchar *) buf, RECV_BUF_SIZE,
      NULL, &err);

  fail_unless (got >= 0, "receive: %s", err ? err->message : "?");
  fail_unless_equals_int (got, size);
  fail_unless (mcp_test_check_bytes (n, buf, got),
      "content of datagram %u differs", n);
  g_free (buf);
  return from;
}

static void
recv_datagram_from_any (GSocket * s, guint n, gsize size)
{
  g_object_unref (recv_datagram (s, n, size));
}

static gchar *
address_ip (GSocketAddress * a)
{
  return g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (a)));
}

/* Receives the next datagram with recvmsg, returning the TTL (IPv4) or hop
 * limit (IPv6) it arrived with, with IP_RECVTTL / IPV6_RECVHOPLIMIT on, and
 * the interface it arrived on, with IP_PKTINFO / IPV6_RECVPKTINFO on (-1
 * when not asked for). */
static gssize
recv_with_info (GSocket * s, guint8 * buf, gsize cap, gint * hops,
    gint * ifindex)
{
  union
  {
    struct cmsghdr align;
    guint8 bytes[256];
  } ctl;
  struct iovec iov;
  struct msghdr msg;
  struct cmsghdr *c;
  GError *err = NULL;
  gssize n;

  fail_unless (g_socket_condition_timed_wait (s, G_IO_IN,
          MCP_TEST_TIMEOUT_US, NULL, &err), "no datagram: %s",
      err ? err->message : "?");
  iov.iov_base = buf;
  iov.iov_len = cap;
  memset (&msg, 0, sizeof (msg));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.bytes;
  msg.msg_controllen = sizeof (ctl.bytes);
  n = recvmsg (g_socket_get_fd (s), &msg, 0);
  fail_unless (n >= 0, "recvmsg: %s", g_strerror (errno));
  *hops = *ifindex = -1;
  for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c)) {
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
        || (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT))
      memcpy (hops, CMSG_DATA (c), sizeof (gint));
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;

      memcpy (&pi, CMSG_DATA (c), sizeof (pi));
      *ifindex = pi.ipi_ifindex;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;

      memcpy (&pi, CMSG_DATA (c), sizeof (pi));
      *ifindex = pi.ipi6_ifindex;
    }
  }
  return n;
}

static void
rx_enable (GSocket * s, gint v4_opt, gint v6_opt)
{
  GError *err = NULL;

  if (g_socket_get_family (s) == G_SOCKET_FAMILY_IPV6)
    fail_unless (g_socket_set_option (s, IPPROTO_IPV6, v6_opt, 1, &err));
  else
    fail_unless (g_socket_set_option (s, IPPROTO_IP, v4_opt, 1, &err));
}

/* The tap interface the tests send on: 10.9.9.1/24 and fd00:9::1/64, up.
 * Close the returned fd to remove it. */
static gint
tap_setup (void)
{
  gint fd = mcp_test_tap_new ("mcptap0");

  mcp_test_add_address ("mcptap0", "10.9.9.1/24");
  mcp_test_add_address ("mcptap0", "fd00:9::1/64");
  mcp_test_link_set_up ("mcptap0", TRUE);
  return fd;
}

/* ---- properties and states -------------------------------------------- */

GST_START_TEST (test_defaults_and_properties)
{
  GstElement *sink = gst_check_setup_element ("tcpremcastsink");
  gchar *address, *bind, *iface;
  guint port, bind_port;
  gint ttl, buffer_size;
  gboolean loop, sync, async, original;
  guint64 interval;

  g_object_get (sink, "address", &address, "port", &port, "ttl-mc", &ttl,
      "loop", &loop, "bind-address", &bind, "bind-port", &bind_port,
      "multicast-iface", &iface, "sync", &sync, "buffer-size", &buffer_size,
      "stats-interval", &interval, "async", &async, "original-group",
      &original, NULL);
  fail_unless (!async);
  fail_unless (!original);
  fail_unless_equals_string (address, "239.255.0.1");
  fail_unless_equals_int (port, 5004);
  fail_unless_equals_int (ttl, 1);
  fail_unless (!loop);
  fail_unless (bind == NULL);
  fail_unless_equals_int (bind_port, 0);
  fail_unless (iface == NULL);
  fail_unless (!sync);
  fail_unless_equals_int (buffer_size, 0);
  fail_unless_equals_uint64 (interval, 0);
  g_free (address);

  g_object_set (sink, "address", "ff3e::99", "port", 65535, "ttl-mc", 255,
      "loop", TRUE, "bind-address", "::1", "bind-port", 4000,
      "multicast-iface", "lo,eth3", "buffer-size", 65536, "stats-interval",
      (guint64) 3 * GST_SECOND, NULL);
  g_object_get (sink, "address", &address, "port", &port, "ttl-mc", &ttl,
      "loop", &loop, "bind-address", &bind, "bind-port", &bind_port,
      "multicast-iface", &iface, "buffer-size", &buffer_size,
      "stats-interval", &interval, NULL);
  fail_unless_equals_string (address, "ff3e::99");
  fail_unless_equals_int (port, 65535);
  fail_unless_equals_int (ttl, 255);
  fail_unless (loop);
  fail_unless_equals_string (bind, "::1");
  fail_unless_equals_int (bind_port, 4000);
  fail_unless_equals_string (iface, "lo,eth3");
  fail_unless_equals_int (buffer_size, 65536);
  fail_unless_equals_uint64 (interval, 3 * GST_SECOND);
  g_free (address);
  g_free (bind);
  g_free (iface);

  g_object_set (sink, "bind-address", NULL, "multicast-iface", NULL,
      "ttl-mc", 0, NULL);
  g_object_get (sink, "bind-address", &bind, "multicast-iface", &iface,
      "ttl-mc", &ttl, NULL);
  fail_unless (bind == NULL);
  fail_unless (iface == NULL);
  fail_unless_equals_int (ttl, 0);
  gst_check_teardown_element (sink);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles)
{
  GstElement *sink = gst_check_setup_element ("tcpremcastsink");
  guint i;

  for (i = 0; i < 4; i++) {
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    /* no preroll (async=false): a gateway's sink may see nothing for long,
     * and must not hold its pipeline */
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
  }
  gst_check_teardown_element (sink);
}

GST_END_TEST;

/* ---- data -------------------------------------------------------------- */

static void
run_exact_bytes (const gchar * group)
{
  SinkFixture f;
  guint64 bytes = 0;
  guint i;

  sink_setup (&f, group, "");
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    push_datagram (f.h, i, mcp_test_sizes[i]);
    recv_datagram_from_any (f.rx, i, mcp_test_sizes[i]);
    bytes += mcp_test_sizes[i];
  }
  /* one datagram per buffer: the next one is the marker */
  push_datagram (f.h, 99, 7);
  recv_datagram_from_any (f.rx, 99, 7);
  fail_unless_equals_uint64 (sink_stat (f.h, "datagrams-sent"),
      MCP_N_TEST_SIZES + 1);
  fail_unless_equals_uint64 (sink_stat (f.h, "bytes-sent"), bytes + 7);
  fail_unless_equals_uint64 (sink_stat (f.h, "dropped-send-error"), 0);
  sink_teardown (&f);
}

GST_START_TEST (test_exact_bytes)
{
  run_exact_bytes ("239.255.2.1");
}

GST_END_TEST;

GST_START_TEST (test_ipv6_exact_bytes)
{
  run_exact_bytes ("ff3e::99");
}

GST_END_TEST;

/* More than one batch of the element's sendmmsg. */
GST_START_TEST (test_buffer_list)
{
  SinkFixture f;
  GstBufferList *list = gst_buffer_list_new ();
  guint i;

  sink_setup (&f, "239.255.2.2", "");
  for (i = 0; i < 100; i++)
    gst_buffer_list_add (list, mcp_test_buffer (i, 100 + i));
  /* gst_harness_push_list is from 1.24: push on the harness pad */
  fail_unless_equals_int (gst_pad_push_list (f.h->srcpad, list), GST_FLOW_OK);
  for (i = 0; i < 100; i++)
    recv_datagram_from_any (f.rx, i, 100 + i);
  push_datagram (f.h, 200, 3);
  recv_datagram_from_any (f.rx, 200, 3);
  fail_unless_equals_uint64 (sink_stat (f.h, "datagrams-sent"), 101);
  sink_teardown (&f);
}

GST_END_TEST;

static void
run_ttl (const gchar * group, const gchar * props, gint expected)
{
  SinkFixture f;
  guint8 buf[64];
  gint hops, ifindex;
  gssize n;

  sink_setup (&f, group, props);
  rx_enable (f.rx, IP_RECVTTL, IPV6_RECVHOPLIMIT);
  push_datagram (f.h, 5, 33);
  n = recv_with_info (f.rx, buf, sizeof (buf), &hops, &ifindex);
  fail_unless_equals_int (n, 33);
  fail_unless (mcp_test_check_bytes (5, buf, n));
  fail_unless_equals_int (hops, expected);
  sink_teardown (&f);
}

GST_START_TEST (test_ttl)
{
  run_ttl ("239.255.2.3", "", 1);
  run_ttl ("239.255.2.3", "ttl-mc=7", 7);
  run_ttl ("239.255.2.3", "ttl-mc=255", 255);
}

GST_END_TEST;

GST_START_TEST (test_ipv6_hop_limit)
{
  run_ttl ("ff3e::98", "", 1);
  run_ttl ("ff3e::98", "ttl-mc=7", 7);
  run_ttl ("ff3e::98", "ttl-mc=255", 255);
}

GST_END_TEST;

/* loop=false: this host does not hear it. On lo that cannot be seen (lo
 * hands every datagram sent on it back to this host, IP_MULTICAST_LOOP or
 * not), so this sends on a tap interface. Sink A (loop=false) sends X, then
 * sink B (loop=true) the marker M: the receiver's first datagram is M. */
static void
run_loop_false (const gchar * group)
{
  gint tap = tap_setup ();
  GSocket *rx;
  GstHarness *a, *b;
  guint8 buf[200];
  gint hops, ifindex;
  gssize n;
  guint port;

  rx = mcp_test_udp_receiver_on (group, 0, "mcptap0");
  rx_enable (rx, IP_PKTINFO, IPV6_RECVPKTINFO);
  port = mcp_test_local_port (rx);
  a = sink_harness (group, port, "multicast-iface=mcptap0 loop=false");
  b = sink_harness (group, port, "multicast-iface=mcptap0 loop=true");
  push_datagram (a, 1, 100);
  push_datagram (b, 2, 50);
  n = recv_with_info (rx, buf, sizeof (buf), &hops, &ifindex);
  fail_unless_equals_int (n, 50);
  fail_unless (mcp_test_check_bytes (2, buf, n));
  /* looped back on the tap */
  fail_unless_equals_int (ifindex, if_nametoindex ("mcptap0"));
  /* A did send it, to the network */
  fail_unless_equals_uint64 (sink_stat (a, "datagrams-sent"), 1);
  fail_unless_equals_uint64 (sink_stat (a, "dropped-send-error"), 0);
  gst_harness_teardown (a);
  gst_harness_teardown (b);
  g_object_unref (rx);
  close (tap);
}

GST_START_TEST (test_loop_false_not_delivered)
{
  run_loop_false ("239.255.2.4");
}

GST_END_TEST;

GST_START_TEST (test_ipv6_loop_false_not_delivered)
{
  run_loop_false ("ff3e::97");
}

GST_END_TEST;

/* multicast-iface with two interfaces: each gets every datagram. */
static void
run_every_interface (const gchar * group)
{
  gint tap = tap_setup ();
  GSocket *rx;
  GError *err = NULL;
  GInetAddress *g;
  GstHarness *h;
  guint8 *buf = g_malloc (RECV_BUF_SIZE);
  guint port, i, n;
  gint lo = if_nametoindex ("lo"), tapidx = if_nametoindex ("mcptap0");

  rx = mcp_test_udp_receiver_on (group, 0, "lo");
  g = g_inet_address_new_from_string (group);
  fail_unless (g_socket_join_multicast_group (rx, g, FALSE, "mcptap0", &err));
  g_object_unref (g);
  rx_enable (rx, IP_PKTINFO, IPV6_RECVPKTINFO);
  port = mcp_test_local_port (rx);
  h = sink_harness (group, port, "multicast-iface=lo,mcptap0");
  for (n = 0; n < 3; n++) {
    gboolean via_tap = FALSE, via_lo = FALSE;

    push_datagram (h, n, 1316);
    for (i = 0; i < 2; i++) {
      gint hops, ifindex;
      gssize got = recv_with_info (rx, buf, RECV_BUF_SIZE, &hops, &ifindex);

      fail_unless_equals_int (got, 1316);
      fail_unless (mcp_test_check_bytes (n, buf, got));
      fail_unless (ifindex == lo || ifindex == tapidx, "came in on %d",
          ifindex);
      if (ifindex == lo)
        via_lo = TRUE;
      else
        via_tap = TRUE;
    }
    fail_unless (via_tap && via_lo);
  }
  /* one send per interface */
  fail_unless_equals_uint64 (sink_stat (h, "datagrams-sent"), 6);
  gst_harness_teardown (h);
  g_object_unref (rx);
  g_free (buf);
  close (tap);
}

GST_START_TEST (test_every_interface_gets_each_datagram)
{
  run_every_interface ("239.255.2.5");
}

GST_END_TEST;

GST_START_TEST (test_ipv6_every_interface_gets_each_datagram)
{
  run_every_interface ("ff3e::96");
}

GST_END_TEST;

GST_START_TEST (test_bind_address)
{
  SinkFixture f;
  GSocketAddress *from;
  GSocket *probe;
  gchar *ip, *props;
  guint port;

  /* the source address */
  sink_setup (&f, "239.255.2.6", "bind-address=127.0.0.5");
  push_datagram (f.h, 1, 10);
  from = recv_datagram (f.rx, 1, 10);
  ip = address_ip (from);
  fail_unless_equals_string (ip, "127.0.0.5");
  /* bind-port=0: an ephemeral port */
  fail_unless (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from))
      > 0);
  g_free (ip);
  g_object_unref (from);
  sink_teardown (&f);

  /* the source port: one the kernel just handed out and nothing else in
   * this private namespace takes */
  probe = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.5");
  port = mcp_test_local_port (probe);
  g_object_unref (probe);
  props = g_strdup_printf ("bind-address=127.0.0.5 bind-port=%u", port);
  sink_setup (&f, "239.255.2.6", props);
  g_free (props);
  push_datagram (f.h, 2, 20);
  from = recv_datagram (f.rx, 2, 20);
  ip = address_ip (from);
  fail_unless_equals_string (ip, "127.0.0.5");
  fail_unless_equals_int (g_inet_socket_address_get_port
      (G_INET_SOCKET_ADDRESS (from)), port);
  g_free (ip);
  g_object_unref (from);
  sink_teardown (&f);
}

GST_END_TEST;

/* A send that fails (the interface went down) is counted, warned about once
 * and skipped; the stream goes on, and a new failure after a recovery warns
 * again. */
GST_START_TEST (test_send_failure_is_a_warning)
{
  gint tap = tap_setup ();
  GstBus *bus = gst_bus_new ();
  GSocket *rx;
  GstHarness *h;
  GstMessage *msg;
  GError *err = NULL;
  guint port, i;

  rx = mcp_test_udp_receiver_on ("239.255.2.7", 0, "mcptap0");
  port = mcp_test_local_port (rx);
  h = sink_harness ("239.255.2.7", port, "multicast-iface=mcptap0");
  gst_element_set_bus (h->element, bus);

  push_datagram (h, 1, 10);
  recv_datagram_from_any (rx, 1, 10);

  mcp_test_link_set_up ("mcptap0", FALSE);
  for (i = 0; i < 3; i++)
    push_datagram (h, 10 + i, 10);
  fail_unless_equals_uint64 (sink_stat (h, "dropped-send-error"), 3);
  fail_unless_equals_uint64 (sink_stat (h, "datagrams-sent"), 1);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "Could not send a multicast datagram")
      != NULL, "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);

  mcp_test_link_set_up ("mcptap0", TRUE);
  push_datagram (h, 2, 20);
  recv_datagram_from_any (rx, 2, 20);
  fail_unless_equals_uint64 (sink_stat (h, "datagrams-sent"), 2);

  mcp_test_link_set_up ("mcptap0", FALSE);
  push_datagram (h, 20, 10);
  fail_unless_equals_uint64 (sink_stat (h, "dropped-send-error"), 4);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning after the recovery");
  gst_message_unref (msg);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_object_unref (rx);
  close (tap);
}

GST_END_TEST;

GST_START_TEST (test_stats)
{
  GstElement *idle = gst_check_setup_element ("tcpremcastsink");
  GstStructure *s = NULL;
  SinkFixture f;
  guint64 v;
  guint i;

  /* not started: a structure all the same */
  g_signal_emit_by_name (idle, "get-stats", &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_has_name (s, "tcpremcastsink-stats"));
  fail_unless (gst_structure_get_uint64 (s, "datagrams-sent", &v));
  fail_unless_equals_uint64 (v, 0);
  gst_structure_free (s);
  gst_check_teardown_element (idle);

  sink_setup (&f, "239.255.2.8", "");
  fail_unless_equals_uint64 (sink_stat (f.h, "datagrams-sent"), 0);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    push_datagram (f.h, i, mcp_test_sizes[i]);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    recv_datagram_from_any (f.rx, i, mcp_test_sizes[i]);
  s = sink_stats (f.h);
  fail_unless (gst_structure_get_uint64 (s, "datagrams-sent", &v));
  fail_unless_equals_uint64 (v, MCP_N_TEST_SIZES);
  fail_unless (gst_structure_get_uint64 (s, "bytes-sent", &v));
  fail_unless_equals_uint64 (v, 0 + 1 + 1316 + 9000 + 65507);
  fail_unless (gst_structure_get_uint64 (s, "dropped-send-error", &v));
  fail_unless_equals_uint64 (v, 0);
  gst_structure_free (s);
  sink_teardown (&f);
}

GST_END_TEST;

/* ---- errors ------------------------------------------------------------ */

GST_START_TEST (test_bad_settings_are_errors)
{
  static const struct
  {
    const gchar *props;
    const gchar *text;
  } cases[] = {
    {"address=garbage", "'garbage' is not a numeric IPv4 or IPv6 address"},
    {"address=", "no address given"},
    {"address=10.0.0.1", "'10.0.0.1' is not a multicast group"},
    {"address=::1", "'::1' is not a multicast group"},
    {"multicast-iface=nosuchif0", "no network interface named 'nosuchif0'"},
    {"multicast-iface=lo,nosuchif0",
        "no network interface named 'nosuchif0'"},
    {"bind-address=::1", "bind address and group are of different address "
          "families"},
    {"address=ff3e::1 bind-address=127.0.0.1", "bind address and group are "
          "of different address families"},
    {"bind-address=garbage", "'garbage' is not a numeric IPv4 or IPv6 "
          "address"},
    /* not an address of this host */
    {"bind-address=192.0.2.1", "192.0.2.1"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstElement *sink = gst_check_setup_element ("tcpremcastsink");

    GST_INFO ("case %s", cases[i].props);
    mcp_test_set_props (sink, cases[i].props);
    mcp_test_assert_state_error (sink, GST_STATE_READY, cases[i].text);
    gst_check_teardown_element (sink);
  }
}

GST_END_TEST;

/* With original-group each datagram goes back to the group and port it
 * was captured on, IPv4 and IPv6 through one element; one without metadata
 * goes to address:port. */
GST_START_TEST (test_original_group)
{
  GSocket *rx_a = mcp_test_udp_receiver ("239.255.7.1", 0);
  GSocket *rx_b = mcp_test_udp_receiver ("239.255.7.2", 0);
  GSocket *rx_6 = mcp_test_udp_receiver ("ff3e::7", 0);
  GSocket *rx_d = mcp_test_udp_receiver ("239.255.7.9", 0);
  GstHarness *h = sink_harness ("239.255.7.9", mcp_test_local_port (rx_d),
      "original-group=true");
  struct
  {
    const gchar *group;
    GSocket *rx;
  } to[] = {
    {"239.255.7.1", rx_a}, {"239.255.7.2", rx_b}, {"ff3e::7", rx_6},
  };
  guint i, round;

  for (round = 0; round < 3; round++) {
    for (i = 0; i < G_N_ELEMENTS (to); i++) {
      GInetAddress *g = g_inet_address_new_from_string (to[i].group);
      McpFrameMeta info = { 0 };
      GstBuffer *buf = mcp_test_buffer (10 * round + i, 100 + i);

      gst_mcp_meta_set_group (&info, g, mcp_test_local_port (to[i].rx));
      gst_buffer_add_mcp_meta (buf, &info);
      fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
      g_object_unref (g);
    }
    push_datagram (h, 99, 50);
    for (i = 0; i < G_N_ELEMENTS (to); i++)
      recv_datagram_from_any (to[i].rx, 10 * round + i, 100 + i);
    recv_datagram_from_any (rx_d, 99, 50);
  }
  fail_unless_equals_uint64 (sink_stat (h, "datagrams-sent"), 12);
  fail_unless_equals_uint64 (sink_stat (h, "dropped-no-socket"), 0);
  gst_harness_teardown (h);
  g_object_unref (rx_a);
  g_object_unref (rx_b);
  g_object_unref (rx_6);
  g_object_unref (rx_d);
}

GST_END_TEST;

/* Many groups in one buffer list (one batch of sends): each datagram to
 * its own group. (A cache of 16 addresses once freed an address that an
 * earlier message of the same batch still pointed at, from the 17th group
 * on: a crash.) */
GST_START_TEST (test_original_group_many)
{
  GSocket *rx[40];
  GstHarness *h;
  guint i, round;

  for (i = 0; i < G_N_ELEMENTS (rx); i++) {
    gchar *g = g_strdup_printf ("239.255.8.%u", i + 1);

    rx[i] = mcp_test_udp_receiver (g, 0);
    g_free (g);
  }
  h = sink_harness ("239.255.8.200", 9, "original-group=true");
  for (round = 0; round < 2; round++) {
    GstBufferList *list = gst_buffer_list_new ();

    for (i = 0; i < G_N_ELEMENTS (rx); i++) {
      gchar *gs = g_strdup_printf ("239.255.8.%u", i + 1);
      GInetAddress *g = g_inet_address_new_from_string (gs);
      McpFrameMeta info = { 0 };
      GstBuffer *buf = mcp_test_buffer (100 * round + i, 60 + i);

      gst_mcp_meta_set_group (&info, g, mcp_test_local_port (rx[i]));
      gst_buffer_add_mcp_meta (buf, &info);
      gst_buffer_list_add (list, buf);
      g_object_unref (g);
      g_free (gs);
    }
    fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);
    for (i = 0; i < G_N_ELEMENTS (rx); i++)
      recv_datagram_from_any (rx[i], 100 * round + i, 60 + i);
  }
  fail_unless_equals_uint64 (sink_stat (h, "datagrams-sent"), 80);
  gst_harness_teardown (h);
  for (i = 0; i < G_N_ELEMENTS (rx); i++)
    g_object_unref (rx[i]);
}

GST_END_TEST;

/* With original-source, a datagram whose metadata names its sender leaves
 * from that address (IPv4 and IPv6, in one batch), on the element's own
 * port; one without a sender from the element's own address. */
GST_START_TEST (test_original_source)
{
  GSocket *rx4 = mcp_test_udp_receiver ("239.255.9.1", 0);
  GSocket *rx6 = mcp_test_udp_receiver ("ff3e::9:1", 0);
  GstHarness *h = sink_harness ("239.255.9.1", mcp_test_local_port (rx4),
      "original-group=true original-source=true multicast-iface=lo");
  const gchar *senders[] = { "192.0.2.7", "2001:db8::7", NULL, "192.0.2.8" };
  const gchar *groups[] = { "239.255.9.1", "ff3e::9:1", "239.255.9.1",
    "239.255.9.1"
  };
  GSocket *rxs[] = { rx4, rx6, rx4, rx4 };
  GstBufferList *list = gst_buffer_list_new ();
  guint16 port4 = 0;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (senders); i++) {
    GInetAddress *g = g_inet_address_new_from_string (groups[i]);
    McpFrameMeta info = { 0 };
    GstBuffer *buf = mcp_test_buffer (i, 40 + i);

    gst_mcp_meta_set_group (&info, g, mcp_test_local_port (rxs[i]));
    if (senders[i]) {
      GInetAddress *a = g_inet_address_new_from_string (senders[i]);

      memcpy (info.source, g_inet_address_to_bytes (a),
          g_inet_address_get_native_size (a));
      info.source_port = 1234;
      g_object_unref (a);
    }
    gst_buffer_add_mcp_meta (buf, &info);
    gst_buffer_list_add (list, buf);
    g_object_unref (g);
  }
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);
  for (i = 0; i < G_N_ELEMENTS (senders); i++) {
    GSocketAddress *from = recv_datagram (rxs[i], i, 40 + i);
    gchar *ip = address_ip (from);
    guint16 port =
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from));

    if (senders[i]) {
      fail_unless_equals_string (ip, senders[i]);
    } else {
      fail_if (g_str_equal (ip, "192.0.2.7"), "sent from the last sender");
    }
    /* the port is the element's, not the original sender's */
    fail_if (port == 1234);
    if (rxs[i] == rx4 && port4)
      fail_unless_equals_int (port, port4);
    if (rxs[i] == rx4)
      port4 = port;
    g_free (ip);
    g_object_unref (from);
  }
  fail_unless_equals_uint64 (sink_stat (h, "datagrams-sent"), 4);
  fail_unless_equals_uint64 (sink_stat (h, "dropped-send-error"), 0);
  gst_harness_teardown (h);
  g_object_unref (rx4);
  g_object_unref (rx6);
}

GST_END_TEST;

/* original-source without an interface named cannot work (the kernel
 * routes a foreign source only through a given interface): an error that
 * says so, at NULL->READY. */
GST_START_TEST (test_original_source_needs_iface)
{
  GstElement *sink = gst_element_factory_make ("tcpremcastsink", NULL);
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;

  g_object_set (sink, "address", "239.255.9.2", "port", 5004,
      "original-source", TRUE, NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (sink, bus);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "needs the interface named "
          "(multicast-iface)") != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (sink, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sink);
}

GST_END_TEST;

static Suite *
tcpremcastsink_suite (void)
{
  Suite *s = suite_create ("tcpremcastsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_defaults_and_properties);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_exact_bytes);
  tcase_add_test (tc, test_ipv6_exact_bytes);
  tcase_add_test (tc, test_buffer_list);
  tcase_add_test (tc, test_ttl);
  tcase_add_test (tc, test_ipv6_hop_limit);
  tcase_add_test (tc, test_loop_false_not_delivered);
  tcase_add_test (tc, test_ipv6_loop_false_not_delivered);
  tcase_add_test (tc, test_every_interface_gets_each_datagram);
  tcase_add_test (tc, test_ipv6_every_interface_gets_each_datagram);
  tcase_add_test (tc, test_bind_address);
  tcase_add_test (tc, test_send_failure_is_a_warning);
  tcase_add_test (tc, test_stats);
  tcase_add_test (tc, test_bad_settings_are_errors);
  tcase_add_test (tc, test_original_group);
  tcase_add_test (tc, test_original_group_many);
  tcase_add_test (tc, test_original_source);
  tcase_add_test (tc, test_original_source_needs_iface);
  return s;
}

GST_CHECK_MAIN (tcpremcastsink);
