/* mcastproxy — qos-dscp on every sending element: the packets on the wire
 * (loopback of the test's namespace) carry the code point asked for. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "mcp-check-fixtures.h"

/* The traffic class (DSCP << 2) of the next datagram on s, received with
 * IP_RECVTOS / IPV6_RECVTCLASS. */
static gint
recv_tos (GSocket * s, gboolean v6)
{
  gint fd = g_socket_get_fd (s), on = 1, tos = -1;
  guint8 data[2048], control[256];
  struct iovec iov = { data, sizeof (data) };
  struct msghdr m = { 0 };
  struct cmsghdr *c;

  if (v6)
    fail_unless (setsockopt (fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &on,
            sizeof (on)) == 0);
  else
    fail_unless (setsockopt (fd, IPPROTO_IP, IP_RECVTOS, &on,
            sizeof (on)) == 0);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof (control);
  g_socket_condition_timed_wait (s, G_IO_IN, MCP_TEST_TIMEOUT_US, NULL, NULL);
  fail_unless (recvmsg (fd, &m, 0) > 0, "no datagram");
  for (c = CMSG_FIRSTHDR (&m); c; c = CMSG_NXTHDR (&m, c)) {
    if (!v6 && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
      tos = *(guint8 *) CMSG_DATA (c);
    if (v6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS)
      tos = *(gint *) CMSG_DATA (c);
  }
  return tos;
}

static void
run_remcast (const gchar * group, gint dscp, gint expect_tos)
{
  GSocket *rx = mcp_test_udp_receiver (group, 0);
  GstElement *sink = gst_element_factory_make ("tcpremcastsink", NULL);
  gchar *props = g_strdup_printf ("address=%s port=%u loop=true qos-dscp=%d",
      group, mcp_test_local_port (rx), dscp);
  GstHarness *h;

  mcp_test_set_props (sink, props);
  h = gst_harness_new_with_element (sink, "sink", NULL);
  gst_object_unref (sink);
  gst_harness_set_src_caps_str (h, "application/x-test");
  gst_harness_play (h);
  fail_unless_equals_int (gst_harness_push (h, mcp_test_buffer (1, 100)),
      GST_FLOW_OK);
  fail_unless_equals_int (recv_tos (rx, strchr (group, ':') != NULL),
      expect_tos);
  gst_harness_teardown (h);
  g_object_unref (rx);
  g_free (props);
}

GST_START_TEST (test_remcast_marks_datagrams)
{
  run_remcast ("239.255.9.1", 46, 46 << 2);     /* EF */
  run_remcast ("ff15::9:1", 34, 34 << 2);       /* AF41 */
  /* the default leaves the system's marking: none */
  run_remcast ("239.255.9.1", -1, 0);
}

GST_END_TEST;

/* Raw capture on lo: the TOS byte of the first IPv4 TCP segment with data
 * from port, or -1. */
static gint
capture_tcp_tos (gint raw, guint port)
{
  gint64 deadline = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  while (g_get_monotonic_time () < deadline) {
    guint8 pkt[70000];
    struct iphdr *ip;
    struct tcphdr *tcp;
    gssize n;
    gsize ihl, payload;
    struct timeval tv = { 1, 0 };

    setsockopt (raw, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof (tv));
    n = recv (raw, pkt, sizeof (pkt), 0);
    if (n < (gssize) sizeof (struct iphdr))
      continue;
    ip = (struct iphdr *) pkt;
    if (ip->version != 4 || ip->protocol != IPPROTO_TCP)
      continue;
    ihl = ip->ihl * 4;
    tcp = (struct tcphdr *) (pkt + ihl);
    payload = ntohs (ip->tot_len) - ihl - tcp->doff * 4;
    if (ntohs (tcp->source) == port && payload > 0)
      return ip->tos;
  }
  return -1;
}

/* A cooked-mode packet socket on lo, IPv4 only: the test's namespace is
 * ours, so this needs no privilege beyond it. */
static gint
open_capture (void)
{
  gint raw = socket (AF_PACKET, SOCK_DGRAM, htons (ETH_P_IP));
  struct sockaddr_ll sll = { 0 };

  fail_unless (raw >= 0, "packet socket: %s", g_strerror (errno));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons (ETH_P_IP);
  sll.sll_ifindex = if_nametoindex ("lo");
  fail_unless (bind (raw, (struct sockaddr *) &sll, sizeof (sll)) == 0);
  return raw;
}

GST_START_TEST (test_tcp_listener_marks_stream)
{
  SinkFixture f;
  GSocket *c;
  guint8 buf[100];
  gint raw = open_capture ();

  sink_setup (&f, "framing=raw qos-dscp=46 host=127.0.0.1");
  c = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 1);
  fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (1, 100)),
      GST_FLOW_OK);
  mcp_test_recv_exact (c, buf, 100);
  fail_unless_equals_int (capture_tcp_tos (raw, f.port), 46 << 2);
  g_object_unref (c);
  sink_teardown (&f);
  close (raw);
}

GST_END_TEST;

GST_START_TEST (test_tcp_caller_marks_stream)
{
  SinkFixture f;
  GSocket *listener = mcp_test_tcp_listen (0), *peer;
  guint port = mcp_test_local_port (listener);
  guint8 buf[100];
  gchar *props;
  gint raw = open_capture ();

  props = g_strdup_printf ("mode=caller host=127.0.0.1 port=%u framing=raw "
      "qos-dscp=10", port);
  sink_setup (&f, props);
  peer = mcp_test_tcp_accept (listener);
  mcp_test_events_wait (&f.added, 1);
  fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (1, 100)),
      GST_FLOW_OK);
  mcp_test_recv_exact (peer, buf, 100);
  /* what the sink sends leaves from its own (ephemeral) port */
  {
    GSocketAddress *a = g_socket_get_remote_address (peer, NULL);
    guint from = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (a));

    fail_unless_equals_int (capture_tcp_tos (raw, from), 10 << 2);
    g_object_unref (a);
  }
  g_object_unref (peer);
  g_object_unref (listener);
  sink_teardown (&f);
  g_free (props);
  close (raw);
}

GST_END_TEST;

static Suite *
qos_suite (void)
{
  Suite *s = suite_create ("qos");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_remcast_marks_datagrams);
  tcase_add_test (tc, test_tcp_listener_marks_stream);
  tcase_add_test (tc, test_tcp_caller_marks_stream);
  return s;
}

GST_CHECK_MAIN (qos);
