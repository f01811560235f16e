/* mcastproxy — mcastsrc-relay element tests: real multicast on the loopback
 * of the test's private network namespace. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/base/gstbasesrc.h>
#include <gst/net/gstnetaddressmeta.h>

#include "gstmcpmeta.h"
#include "gstmcpsubs.h"
#include "mcp-check-util.h"
#include "mcp-netlink.h"

typedef struct
{
  GstHarness *h;
  guint port;                   /* current-port */
  gint lists;                   /* buffer lists pushed by the element */
} RelayFixture;

static GstPadProbeReturn
count_lists (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

/* A relay with the given properties (gst-launch syntax), port=0, in READY:
 * its socket is open and joined, nothing is read yet. */
static void
relay_setup_ready (RelayFixture * f, const gchar * props)
{
  GstElement *src = gst_element_factory_make ("mcastsrc-relay", NULL);
  GstPad *pad;

  fail_unless (src != NULL);
  /* configured before the harness starts it */
  g_object_set (src, "port", 0, NULL);
  mcp_test_set_props (src, props);
  f->h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  f->lists = 0;
  pad = gst_element_get_static_pad (f->h->element, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER_LIST, count_lists,
      &f->lists, NULL);
  gst_object_unref (pad);
  fail_unless_equals_int (gst_element_set_state (f->h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_get (f->h->element, "current-port", &f->port, NULL);
  fail_unless (f->port > 0);
}

static void
relay_setup (RelayFixture * f, const gchar * props)
{
  relay_setup_ready (f, props);
  gst_harness_play (f->h);
}

static void
relay_teardown (RelayFixture * f)
{
  gst_harness_teardown (f->h);
}

static GstStructure *
relay_stats (RelayFixture * f)
{
  return mcp_test_stats (f->h->element, "mcastsrc-relay-stats");
}

static guint64
relay_stat (RelayFixture * f, const gchar * field)
{
  return mcp_test_stat (f->h->element, "mcastsrc-relay-stats", field);
}

/* Sends deterministic datagram n of size bytes to group:port. */
static void
send_datagram (GSocket * s, const gchar * group, guint port, guint n,
    gsize size)
{
  GstBuffer *buf = mcp_test_buffer (n, size);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  mcp_test_udp_send (s, group, port, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
}

/* Pulls the next buffer and checks it is datagram n of size bytes. */
static GstBuffer *
pull_datagram (RelayFixture * f, guint n, gsize size)
{
  GstBuffer *buf = gst_harness_pull (f->h);

  fail_unless (buf != NULL, "no buffer");
  mcp_test_assert_buffer (buf, n, size);
  return buf;
}

/* The buffer's GstNetAddressMeta is the local address of socket s. */
static void
assert_sender (GstBuffer * buf, GSocket * s)
{
  GstNetAddressMeta *nam = gst_buffer_get_net_address_meta (buf);
  GSocketAddress *local = g_socket_get_local_address (s, NULL);
  GInetSocketAddress *want = G_INET_SOCKET_ADDRESS (local), *got;
  gchar *got_ip, *want_ip;

  fail_unless (nam != NULL, "no GstNetAddressMeta");
  fail_unless (G_IS_INET_SOCKET_ADDRESS (nam->addr));
  got = G_INET_SOCKET_ADDRESS (nam->addr);
  got_ip = g_inet_address_to_string (g_inet_socket_address_get_address (got));
  want_ip = g_inet_address_to_string (g_inet_socket_address_get_address (want));
  fail_unless_equals_string (got_ip, want_ip);
  fail_unless_equals_int (g_inet_socket_address_get_port (got),
      g_inet_socket_address_get_port (want));
  g_free (got_ip);
  g_free (want_ip);
  g_object_unref (local);
}

#define SEQ_LOW(s) ((s) & G_GUINT64_CONSTANT (0xffffffffff))

/* The buffer's GstMcpMeta says group:port, sequence seq. */
static GstMcpMeta *
assert_mcp_meta (GstBuffer * buf, const gchar * group, guint port, guint64 seq)
{
  GstMcpMeta *m = gst_buffer_get_mcp_meta (buf);
  GInetAddress *g = g_inet_address_new_from_string (group);
  gsize len = g_inet_address_get_native_size (g);
  guint64 now = (guint64) g_get_real_time () * 1000;

  fail_unless (m != NULL, "no GstMcpMeta");
  fail_unless_equals_int (m->info.family, len == 16 ? 6 : 4);
  fail_unless (memcmp (m->info.group, g_inet_address_to_bytes (g), len) == 0,
      "group bytes differ from %s", group);
  fail_unless_equals_int (m->info.port, port);
  /* counted on from a random epoch in the top 24 bits */
  fail_unless_equals_uint64 (SEQ_LOW (m->info.seq), seq);
  fail_unless_equals_int (m->info.hops, 0);
  /* captured within the last minute, by the wall clock */
  fail_unless (m->info.capture_time > 0);
  fail_unless (m->info.capture_time <= now);
  fail_unless (m->info.capture_time + 60 * GST_SECOND > now);
  g_object_unref (g);
  return m;
}

/* ---- properties and states -------------------------------------------- */

GST_START_TEST (test_defaults_and_properties)
{
  GstElement *src = gst_check_setup_element ("mcastsrc-relay");
  gchar *address, *iface, *source;
  guint port, current_port;
  gint buffer_size;
  guint64 peer_id, interval, batch, timeout, rejoin;
  GstCaps *caps, *want;

  g_object_get (src, "address", &address, "port", &port, "current-port",
      &current_port, "multicast-iface", &iface, "multicast-source", &source,
      "buffer-size", &buffer_size, "caps", &caps, "peer-id", &peer_id,
      "stats-interval", &interval, "batch-latency", &batch, "timeout",
      &timeout, "rejoin-interval", &rejoin, NULL);
  fail_unless_equals_string (address, "239.255.0.1");
  fail_unless_equals_int (port, 5004);
  fail_unless_equals_int (current_port, 0);
  fail_unless (iface == NULL);
  fail_unless (source == NULL);
  fail_unless_equals_int (buffer_size, 4194304);
  fail_unless (caps == NULL);
  fail_unless_equals_uint64 (peer_id, 0);
  fail_unless_equals_uint64 (interval, 0);
  fail_unless_equals_uint64 (batch, 100 * GST_USECOND);
  fail_unless_equals_uint64 (timeout, 0);
  fail_unless_equals_uint64 (rejoin, 0);
  fail_unless (gst_base_src_is_live (GST_BASE_SRC (src)));
  g_free (address);

  want = gst_caps_from_string ("application/x-rtp, media=(string)video");
  g_object_set (src, "address", "ff3e::1234", "port", 6000,
      "multicast-iface", "lo,eth7", "multicast-source", "::1,::2",
      "buffer-size", 1000, "caps", want, "peer-id", G_GUINT64_CONSTANT
      (0xfedcba9876543210), "stats-interval", (guint64) GST_SECOND,
      "batch-latency", (guint64) (2 * GST_MSECOND), "timeout",
      (guint64) (3 * GST_SECOND), "rejoin-interval",
      (guint64) (60 * GST_SECOND), NULL);
  g_object_get (src, "address", &address, "port", &port, "multicast-iface",
      &iface, "multicast-source", &source, "buffer-size", &buffer_size,
      "caps", &caps, "peer-id", &peer_id, "stats-interval", &interval,
      "batch-latency", &batch, "timeout", &timeout, "rejoin-interval",
      &rejoin, NULL);
  fail_unless_equals_string (address, "ff3e::1234");
  fail_unless_equals_int (port, 6000);
  fail_unless_equals_string (iface, "lo,eth7");
  fail_unless_equals_string (source, "::1,::2");
  fail_unless_equals_int (buffer_size, 1000);
  fail_unless (caps != NULL && gst_caps_is_equal (caps, want));
  fail_unless_equals_uint64 (peer_id, G_GUINT64_CONSTANT (0xfedcba9876543210));
  fail_unless_equals_uint64 (interval, GST_SECOND);
  fail_unless_equals_uint64 (batch, 2 * GST_MSECOND);
  fail_unless_equals_uint64 (timeout, 3 * GST_SECOND);
  fail_unless_equals_uint64 (rejoin, 60 * GST_SECOND);
  g_free (address);
  g_free (iface);
  g_free (source);
  gst_caps_unref (caps);

  /* and back to "unset" */
  g_object_set (src, "multicast-iface", NULL, "multicast-source", NULL,
      "caps", NULL, "buffer-size", 0, "port", 0, NULL);
  g_object_get (src, "multicast-iface", &iface, "multicast-source", &source,
      "caps", &caps, "buffer-size", &buffer_size, "port", &port, NULL);
  fail_unless (iface == NULL);
  fail_unless (source == NULL);
  fail_unless (caps == NULL);
  fail_unless_equals_int (buffer_size, 0);
  fail_unless_equals_int (port, 0);
  gst_caps_unref (want);
  gst_check_teardown_element (src);
}

GST_END_TEST;

/* Counts notifications of current-port that come with a port. */
static void
count_port_notify (GObject * obj, GParamSpec * pspec, gpointer data)
{
  guint port;

  g_object_get (obj, "current-port", &port, NULL);
  if (port > 0)
    g_atomic_int_inc ((gint *) data);
}

GST_START_TEST (test_state_cycles_and_current_port)
{
  GstElement *src = gst_check_setup_element ("mcastsrc-relay");
  gint notifies = 0;
  guint port, i;

  g_signal_connect (src, "notify::current-port",
      G_CALLBACK (count_port_notify), &notifies);
  g_object_set (src, "port", 0, NULL);
  for (i = 0; i < 4; i++) {
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (src, "current-port", &port, NULL);
    fail_unless (port > 0);
    fail_unless_equals_int (g_atomic_int_get (&notifies), i + 1);
    /* live: no preroll */
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PAUSED),
        GST_STATE_CHANGE_NO_PREROLL);
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (gst_element_set_state (src, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (src, "current-port", &port, NULL);
    fail_unless_equals_int (port, 0);
  }
  gst_check_teardown_element (src);
}

GST_END_TEST;

/* ---- data -------------------------------------------------------------- */

GST_START_TEST (test_exact_bytes_and_metadata)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  GstCaps *caps, *want;
  guint i;

  relay_setup (&f, "address=239.255.0.1 peer-id=1234 "
      "caps=application/x-test");
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    GstBuffer *buf;
    GstMcpMeta *m;

    send_datagram (tx, "239.255.0.1", f.port, i, mcp_test_sizes[i]);
    buf = pull_datagram (&f, i, mcp_test_sizes[i]);
    assert_sender (buf, tx);
    m = assert_mcp_meta (buf, "239.255.0.1", f.port, i);
    fail_unless_equals_uint64 (m->info.origin_id, 1234);
    fail_unless (GST_BUFFER_PTS_IS_VALID (buf));
    gst_buffer_unref (buf);
  }
  /* exactly one buffer per datagram */
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"),
      MCP_N_TEST_SIZES);

  caps = gst_pad_get_current_caps (f.h->sinkpad);
  want = gst_caps_from_string ("application/x-test");
  fail_unless (caps != NULL && gst_caps_is_equal (caps, want));
  gst_caps_unref (caps);
  gst_caps_unref (want);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* peer-id=0: one random origin id for everything captured in a run. */
GST_START_TEST (test_random_origin_id)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  GstBuffer *a, *b;
  guint64 id_a, id_b;

  relay_setup (&f, "");
  send_datagram (tx, "239.255.0.1", f.port, 1, 10);
  send_datagram (tx, "239.255.0.1", f.port, 2, 20);
  a = pull_datagram (&f, 1, 10);
  b = pull_datagram (&f, 2, 20);
  id_a = gst_buffer_get_mcp_meta (a)->info.origin_id;
  id_b = gst_buffer_get_mcp_meta (b)->info.origin_id;
  fail_unless (id_a != 0);
  fail_unless_equals_uint64 (id_a, id_b);
  fail_unless (GST_BUFFER_PTS (a) <= GST_BUFFER_PTS (b));
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* Datagrams queued in the socket before PLAYING come out in batches (buffer
 * lists); a burst while PLAYING too. All of them, in order. Each phase fits
 * into a default-sized socket buffer even if the relay read nothing. */
#define BURST_QUEUED 200
#define BURST_LIVE 300
#define BURST_SIZE(i) (20 + (i) % 7)

GST_START_TEST (test_burst_in_order)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  guint64 bytes = 0;
  guint i;

  relay_setup_ready (&f, "address=239.255.0.2");
  for (i = 0; i < BURST_QUEUED; i++)
    send_datagram (tx, "239.255.0.2", f.port, i, BURST_SIZE (i));
  gst_harness_play (f.h);
  for (i = 0; i < BURST_QUEUED; i++) {
    GstBuffer *buf = pull_datagram (&f, i, BURST_SIZE (i));

    fail_unless_equals_uint64 (SEQ_LOW (gst_buffer_get_mcp_meta (buf)->
            info.seq), i);
    gst_buffer_unref (buf);
  }
  /* the first read took a whole batch at once */
  fail_unless (g_atomic_int_get (&f.lists) > 0);

  for (i = BURST_QUEUED; i < BURST_QUEUED + BURST_LIVE; i++)
    send_datagram (tx, "239.255.0.2", f.port, i, BURST_SIZE (i));
  for (i = BURST_QUEUED; i < BURST_QUEUED + BURST_LIVE; i++) {
    GstBuffer *buf = pull_datagram (&f, i, BURST_SIZE (i));

    fail_unless_equals_uint64 (SEQ_LOW (gst_buffer_get_mcp_meta (buf)->
            info.seq), i);
    gst_buffer_unref (buf);
  }
  for (i = 0; i < BURST_QUEUED + BURST_LIVE; i++)
    bytes += BURST_SIZE (i);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"),
      BURST_QUEUED + BURST_LIVE);
  fail_unless_equals_uint64 (relay_stat (&f, "bytes-received"), bytes);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-truncated"), 0);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* num-buffers counts datagrams, however many a batch takes from the
 * socket at once: 200 are waiting, exactly 10 come out, then EOS. */
GST_START_TEST (test_num_buffers_counts_datagrams)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  GstEvent *ev;
  gboolean eos = FALSE;
  guint i;

  relay_setup_ready (&f, "address=239.255.0.2 num-buffers=10");
  for (i = 0; i < BURST_QUEUED; i++)
    send_datagram (tx, "239.255.0.2", f.port, i, BURST_SIZE (i));
  gst_harness_play (f.h);
  for (i = 0; i < 10; i++)
    gst_buffer_unref (pull_datagram (&f, i, BURST_SIZE (i)));
  while (!eos && (ev = gst_harness_pull_event (f.h))) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless (eos, "no EOS");
  fail_unless_equals_int (gst_harness_buffers_received (f.h), 10);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 10);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* While datagrams come faster than one per batch-latency, the relay waits
 * that long after the first of a batch: they leave in lists, all of them,
 * in order, and the latency it reports includes the wait. */
GST_START_TEST (test_batching)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  GstQuery *q;
  GstClockTime min, max;
  gboolean live;
  guint i, n = 400;

  relay_setup (&f, "address=239.255.0.2 batch-latency=2000000");
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (f.h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless (min >= 2 * GST_MSECOND, "min latency %" GST_TIME_FORMAT,
      GST_TIME_ARGS (min));
  gst_query_unref (q);

  /* 2,000/s for 200 ms, four at a time every batch-latency: the four of
   * a burst arrive together however slowly this thread runs (under
   * valgrind one send can take longer than the element's wait, and
   * datagrams sent one by one then never share a batch) */
  for (i = 0; i < n; i++) {
    send_datagram (tx, "239.255.0.2", f.port, i, 200);
    if (i % 4 == 3)
      g_usleep (2000);
  }
  for (i = 0; i < n; i++) {
    GstBuffer *buf = pull_datagram (&f, i, 200);

    fail_unless_equals_uint64 (SEQ_LOW (gst_buffer_get_mcp_meta (buf)->
            info.seq), i);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), n);
  /* after the first 50 ms window most of them came in lists */
  fail_unless (g_atomic_int_get (&f.lists) > 10, "%d lists",
      g_atomic_int_get (&f.lists));
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* batch-latency=0: nothing waits, and the reported latency says so. */
GST_START_TEST (test_no_batching)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  GstQuery *q;
  GstClockTime min, max;
  gboolean live;
  guint i, n = 100;

  relay_setup (&f, "address=239.255.0.2 batch-latency=0");
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (f.h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 0);
  gst_query_unref (q);
  for (i = 0; i < n; i++) {
    send_datagram (tx, "239.255.0.2", f.port, i, 200);
    g_usleep (500);
  }
  for (i = 0; i < n; i++)
    gst_buffer_unref (pull_datagram (&f, i, 200));
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* Another group on the same port reaches this host (a plain socket joined
 * it) but not the relay. The unwanted datagram is sent first: had it been
 * delivered, it would come out before the marker. */
/* A gateway sends its re-multicast from a known port and ignores it: those
 * datagrams never come out, others do. */
GST_START_TEST (test_ignore_sources)
{
  GSocket *gw = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.2");
  RelayFixture f;
  GstBuffer *buf;
  gchar *props = g_strdup_printf ("address=239.255.1.5 ignore-sources="
      ":%u,127.0.0.9", mcp_test_local_port (gw));
  guint i;

  relay_setup (&f, props);
  g_free (props);
  for (i = 0; i < 3; i++) {
    send_datagram (gw, "239.255.1.5", f.port, 10 + i, 100);
    send_datagram (tx, "239.255.1.5", f.port, i, 60);
  }
  for (i = 0; i < 3; i++) {
    buf = pull_datagram (&f, i, 60);
    assert_mcp_meta (buf, "239.255.1.5", f.port, i);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 3);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-ignored"), 3);
  relay_teardown (&f);
  g_object_unref (gw);
  g_object_unref (tx);
}

GST_END_TEST;

GST_START_TEST (test_other_group_same_port_not_delivered)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  GSocket *other;
  RelayFixture f;
  GstBuffer *buf;
  guint8 data[100];
  gssize n;

  relay_setup (&f, "address=239.255.1.1");
  other = mcp_test_udp_receiver ("239.255.1.2", f.port);
  send_datagram (tx, "239.255.1.2", f.port, 1, 100);
  send_datagram (tx, "239.255.1.1", f.port, 2, 50);

  /* the host took the other group's datagram... */
  n = g_socket_receive (other, (gchar *) data, sizeof (data), NULL, NULL);
  fail_unless_equals_int (n, 100);
  fail_unless (mcp_test_check_bytes (1, data, 100));
  /* ...the relay did not */
  buf = pull_datagram (&f, 2, 50);
  assert_mcp_meta (buf, "239.255.1.1", f.port, 0);
  gst_buffer_unref (buf);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 1);
  fail_unless_equals_uint64 (relay_stat (&f, "bytes-received"), 50);
  relay_teardown (&f);
  g_object_unref (other);
  g_object_unref (tx);
}

GST_END_TEST;

/* multicast-source: only the named source gets through, both when the
 * host's only member is the relay (the kernel filters at the interface,
 * IGMPv3/MLDv2 INCLUDE mode) and when an any-source member of the same
 * group and port makes the host accept every source (then the relay's
 * socket filter must do it). The unwanted datagram goes first each time. */
static void
run_source_specific (GSocketFamily family, const gchar * group,
    const gchar * good_ip, const gchar * bad_ip)
{
  GSocket *bad = mcp_test_udp_sender (family, bad_ip);
  GSocket *good = mcp_test_udp_sender (family, good_ip);
  GSocket *witness;
  RelayFixture f;
  GstBuffer *buf;
  guint8 data[100];
  GSocketAddress *from = NULL;
  gchar *props, *ip;
  gssize n;

  props = g_strdup_printf ("address=%s multicast-source=%s", group, good_ip);
  relay_setup (&f, props);
  g_free (props);
  send_datagram (bad, group, f.port, 1, 100);
  send_datagram (good, group, f.port, 2, 50);
  buf = pull_datagram (&f, 2, 50);
  assert_sender (buf, good);
  gst_buffer_unref (buf);

  witness = mcp_test_udp_receiver (group, f.port);
  send_datagram (bad, group, f.port, 3, 100);
  send_datagram (good, group, f.port, 4, 60);
  /* the host took the unwanted source's datagram... */
  n = g_socket_receive_from (witness, &from, (gchar *) data, sizeof (data),
      NULL, NULL);
  fail_unless_equals_int (n, 100);
  fail_unless (mcp_test_check_bytes (3, data, 100));
  ip = g_inet_address_to_string (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (from)));
  fail_unless_equals_string (ip, bad_ip);
  g_free (ip);
  g_object_unref (from);
  /* ...the relay did not */
  buf = pull_datagram (&f, 4, 60);
  assert_sender (buf, good);
  assert_mcp_meta (buf, group, f.port, 1);
  gst_buffer_unref (buf);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 2);
  fail_unless_equals_uint64 (relay_stat (&f, "bytes-received"), 110);
  relay_teardown (&f);
  g_object_unref (witness);
  g_object_unref (bad);
  g_object_unref (good);
}

GST_START_TEST (test_source_specific_join)
{
  /* all of 127.0.0.0/8 is local on lo */
  run_source_specific (G_SOCKET_FAMILY_IPV4, "232.1.2.3", "127.0.0.2",
      "127.0.0.3");
}

GST_END_TEST;

GST_START_TEST (test_ipv6_source_specific_join)
{
  mcp_test_add_address ("lo", "2001:db8::2/128");
  mcp_test_add_address ("lo", "2001:db8::3/128");
  run_source_specific (G_SOCKET_FAMILY_IPV6, "ff3e::4321", "2001:db8::2",
      "2001:db8::3");
}

GST_END_TEST;

GST_START_TEST (test_ipv6_exact_bytes)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV6, "::1");
  RelayFixture f;
  guint i;

  relay_setup (&f, "address=ff3e::1234 multicast-iface=lo peer-id=6");
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    GstBuffer *buf;
    GstMcpMeta *m;

    send_datagram (tx, "ff3e::1234", f.port, i, mcp_test_sizes[i]);
    buf = pull_datagram (&f, i, mcp_test_sizes[i]);
    assert_sender (buf, tx);
    m = assert_mcp_meta (buf, "ff3e::1234", f.port, i);
    fail_unless_equals_int (m->info.family, 6);
    fail_unless_equals_uint64 (m->info.origin_id, 6);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

GST_START_TEST (test_stats)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  GstElement *idle = gst_check_setup_element ("mcastsrc-relay");
  GstStructure *s = NULL;
  RelayFixture f;
  guint64 v;
  gint granted;
  guint i;

  /* not started: a structure all the same */
  g_signal_emit_by_name (idle, "get-stats", &s);
  fail_unless (s != NULL);
  fail_unless (gst_structure_has_name (s, "mcastsrc-relay-stats"));
  fail_unless (gst_structure_get_uint64 (s, "datagrams-received", &v));
  fail_unless_equals_uint64 (v, 0);
  gst_structure_free (s);
  gst_check_teardown_element (idle);

  relay_setup (&f, "buffer-size=100000");
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 0);
  fail_unless_equals_uint64 (relay_stat (&f, "bytes-received"), 0);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    send_datagram (tx, "239.255.0.1", f.port, i, mcp_test_sizes[i]);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    gst_buffer_unref (pull_datagram (&f, i, mcp_test_sizes[i]));
  s = relay_stats (&f);
  fail_unless (gst_structure_get_uint64 (s, "datagrams-received", &v));
  fail_unless_equals_uint64 (v, MCP_N_TEST_SIZES);
  fail_unless (gst_structure_get_uint64 (s, "bytes-received", &v));
  fail_unless_equals_uint64 (v, 0 + 1 + 1316 + 9000 + 65507);
  fail_unless (gst_structure_get_uint64 (s, "datagrams-truncated", &v));
  fail_unless_equals_uint64 (v, 0);
  /* what the kernel granted: at least what was asked, under rmem_max */
  fail_unless (gst_structure_get_int (s, "buffer-size", &granted));
  fail_unless (granted >= 100000, "granted %d", granted);
  gst_structure_free (s);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* ---- upstream loss ------------------------------------------------------ */

#define SILENCE (400 * GST_MSECOND)

/* The next mcastproxy-timeout message on bus within wait ns, or
 * NULL. Other element messages are dropped. */
static GstMessage *
pop_timeout_message (GstBus * bus, GstClockTime wait)
{
  gint64 end = g_get_monotonic_time () + wait / GST_USECOND;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    GstMessage *msg;

    if (left < 0)
      left = 0;
    msg = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_ELEMENT);
    if (!msg)
      return NULL;
    if (gst_message_has_name (msg, "mcastproxy-timeout"))
      return msg;
    gst_message_unref (msg);
  }
}

static void
assert_timeout_message (GstMessage * msg, GstElement * src, guint64 timeout)
{
  const GstStructure *s;
  guint64 v = 0;

  fail_unless (msg != NULL, "no mcastproxy-timeout message");
  fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (src));
  s = gst_message_get_structure (msg);
  fail_unless_equals_int (gst_structure_n_fields (s), 1);
  fail_unless (gst_structure_get_uint64 (s, "timeout", &v));
  fail_unless_equals_uint64 (v, timeout);
  gst_message_unref (msg);
}

/* timeout: one message for a silence that long (from PLAYING on, or from
 * the last datagram), none while it goes on, none while datagrams flow,
 * one again when they stop; the element keeps pushing throughout. */
GST_START_TEST (test_timeout_message)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  GstBus *bus = gst_bus_new ();
  RelayFixture f;
  gint64 start, last_sent;
  guint i, n = 120;

  relay_setup_ready (&f, "address=239.255.0.3 timeout=400000000");
  gst_element_set_bus (f.h->element, bus);
  start = g_get_monotonic_time ();
  gst_harness_play (f.h);
  assert_timeout_message (pop_timeout_message (bus, 20 * GST_SECOND),
      f.h->element, SILENCE);
  fail_unless (g_get_monotonic_time () - start >= SILENCE / GST_USECOND);
  fail_unless_equals_uint64 (relay_stat (&f, "timeouts"), 1);
  /* the same silence goes on: no second message */
  fail_unless (pop_timeout_message (bus, 3 * SILENCE) == NULL,
      "a second message for the same silence");
  fail_unless_equals_uint64 (relay_stat (&f, "timeouts"), 1);

  /* three timeouts' worth of datagrams, one every 10 ms */
  for (i = 0; i < n; i++) {
    if (i > 0)
      g_usleep (10000);
    send_datagram (tx, "239.255.0.3", f.port, i, 100);
  }
  last_sent = g_get_monotonic_time ();
  /* the next message is for the silence after them, not during them */
  assert_timeout_message (pop_timeout_message (bus, 20 * GST_SECOND),
      f.h->element, SILENCE);
  fail_unless (g_get_monotonic_time () - last_sent >= SILENCE / GST_USECOND,
      "a timeout while datagrams came");
  fail_unless_equals_uint64 (relay_stat (&f, "timeouts"), 2);
  for (i = 0; i < n; i++)
    gst_buffer_unref (pull_datagram (&f, i, 100));

  /* still running */
  send_datagram (tx, "239.255.0.3", f.port, n, 50);
  gst_buffer_unref (pull_datagram (&f, n, 50));
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), n + 1);
  fail_unless_equals_uint64 (relay_stat (&f, "rejoins"), 0);
  fail_unless (pop_timeout_message (bus, 0) == NULL);

  gst_element_set_bus (f.h->element, NULL);
  gst_object_unref (bus);
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* timeout=0 (the default): silence posts nothing. */
GST_START_TEST (test_no_timeout)
{
  GstBus *bus = gst_bus_new ();
  RelayFixture f;

  relay_setup_ready (&f, "address=239.255.0.3");
  gst_element_set_bus (f.h->element, bus);
  gst_harness_play (f.h);
  fail_unless (pop_timeout_message (bus, SILENCE) == NULL);
  fail_unless_equals_uint64 (relay_stat (&f, "timeouts"), 0);
  gst_element_set_bus (f.h->element, NULL);
  gst_object_unref (bus);
  relay_teardown (&f);
}

GST_END_TEST;

#define REJOIN_INTERVAL (50 * GST_MSECOND)
#define REJOINS 10

/* rejoin-interval: the relay leaves and re-joins every 50 ms while a
 * stream of 500/s goes on; it re-joins exactly as often as the counter
 * says, never more often than the interval, and loses nothing. A witness
 * socket (on another port) keeps the host a member of the group, so the
 * instant where the host itself is not — where the kernel drops what
 * arrives, when the relay is its only member — cannot cost a datagram:
 * what is checked is that the relay's own re-join loses none. */
static void
run_rejoin_interval (GSocketFamily family, const gchar * group,
    const gchar * sender_ip, const gchar * extra)
{
  GSocket *tx = mcp_test_udp_sender (family, sender_ip);
  GSocket *witness = mcp_test_udp_receiver (group, 0);
  gchar *props = g_strdup_printf ("address=%s rejoin-interval=%"
      G_GUINT64_FORMAT " %s", group, (guint64) REJOIN_INTERVAL, extra);
  RelayFixture f;
  gint64 start, elapsed;
  guint64 rejoins;
  guint i, n = 0;

  relay_setup_ready (&f, props);
  g_free (props);
  start = g_get_monotonic_time ();
  gst_harness_play (f.h);
  do {
    send_datagram (tx, group, f.port, n, 100 + n % 50);
    n++;
    g_usleep (2000);
    fail_unless (g_get_monotonic_time () - start < MCP_TEST_TIMEOUT_US,
        "only %" G_GUINT64_FORMAT " re-joins", relay_stat (&f, "rejoins"));
  } while (n % 10 != 0 || relay_stat (&f, "rejoins") < REJOINS);
  /* a few more after the last re-join counted */
  for (i = 0; i < 10; i++, n++)
    send_datagram (tx, group, f.port, n, 100 + n % 50);
  rejoins = relay_stat (&f, "rejoins");
  elapsed = g_get_monotonic_time () - start;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = pull_datagram (&f, i, 100 + i % 50);

    fail_unless_equals_uint64 (SEQ_LOW (gst_buffer_get_mcp_meta (buf)->
            info.seq), i);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), n);
  fail_unless (rejoins >= REJOINS);
  fail_unless (rejoins <= (guint64) elapsed * GST_USECOND / REJOIN_INTERVAL,
      "%" G_GUINT64_FORMAT " re-joins in %" G_GINT64_FORMAT " us", rejoins,
      elapsed);
  fail_unless_equals_uint64 (relay_stat (&f, "rejoin-failures"), 0);
  fail_unless_equals_uint64 (relay_stat (&f, "timeouts"), 0);
  relay_teardown (&f);
  g_object_unref (witness);
  g_object_unref (tx);
}

GST_START_TEST (test_rejoin_interval)
{
  /* the default interface */
  run_rejoin_interval (G_SOCKET_FAMILY_IPV4, "239.255.0.4", "127.0.0.1", "");
}

GST_END_TEST;

GST_START_TEST (test_ipv6_rejoin_interval)
{
  run_rejoin_interval (G_SOCKET_FAMILY_IPV6, "ff3e::4", "::1",
      "multicast-iface=lo");
}

GST_END_TEST;

/* rejoin-interval with a source-specific join: every source re-joined,
 * the unwanted one still kept out. */
GST_START_TEST (test_rejoin_interval_source_specific)
{
  run_rejoin_interval (G_SOCKET_FAMILY_IPV4, "232.1.2.4", "127.0.0.2",
      "multicast-source=127.0.0.2,127.0.0.5");
}

GST_END_TEST;

/* IGMPv3 membership reports for group (IPv4 in Ethernet) read from a tap
 * interface's fd within wait ns: counts those announcing the group
 * (CHANGE_TO_EXCLUDE: an any-source join). */
static guint
count_igmp_joins (gint tap, const gchar * group, GstClockTime wait)
{
  GInetAddress *g = g_inet_address_new_from_string (group);
  const guint8 *want = g_inet_address_to_bytes (g);
  gint64 end = g_get_monotonic_time () + wait / GST_USECOND;
  guint8 f[2048];
  guint count = 0;

  for (;;) {
    gint64 left = end - g_get_monotonic_time ();
    GPollFD pfd = { tap, G_IO_IN, 0 };
    gssize n;
    gsize ip, igmp, rec, i, nrec;

    if (left <= 0 || g_poll (&pfd, 1, (left + 999) / 1000) <= 0)
      break;
    n = read (tap, f, sizeof (f));
    fail_unless (n >= 0, "tap: %s", g_strerror (errno));
    /* IPv4, protocol IGMP, a version 3 report */
    if (n < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 2)
      continue;
    ip = 14;
    igmp = ip + (f[ip] & 0x0f) * 4;
    if ((gsize) n < igmp + 8 || f[igmp] != 0x22)
      continue;
    nrec = f[igmp + 6] << 8 | f[igmp + 7];
    for (i = 0, rec = igmp + 8; i < nrec && rec + 8 <= (gsize) n; i++) {
      if (f[rec] == 4 && memcmp (f + rec + 4, want, 4) == 0)
        count++;
      rec += 8 + 4 * (f[rec + 2] << 8 | f[rec + 3]) + 4 * f[rec + 1];
    }
  }
  g_object_unref (g);
  return count;
}

/* Each re-join makes the host announce the group on the wire again: what
 * an IGMP-snooping switch needs to hear. On a tap interface whose reports
 * the test reads, with the report interval cut to 10 ms, each join sends
 * exactly two reports (robustness 2): two for the first join, two more
 * for each of three re-joins, and none after rejoin-interval went to 0. */
GST_START_TEST (test_rejoin_announces)
{
  gint tap = mcp_test_tap_new ("mcptap1");
  RelayFixture f;
  guint reports;

  mcp_test_add_address ("mcptap1", "10.9.6.1/24");
  mcp_test_sysctl ("/proc/sys/net/ipv4/conf/mcptap1/"
      "igmpv3_unsolicited_report_interval", "10");
  mcp_test_link_set_up ("mcptap1", TRUE);

  relay_setup (&f, "address=239.255.3.3 multicast-iface=mcptap1 "
      "rejoin-interval=300000000");
  mcp_test_wait_stat (f.h->element, "mcastsrc-relay-stats", "rejoins", 3);
  /* read before the next re-join is due */
  g_object_set (f.h->element, "rejoin-interval", (guint64) 0, NULL);
  reports = count_igmp_joins (tap, "239.255.3.3", 500 * GST_MSECOND);
  fail_unless_equals_uint64 (relay_stat (&f, "rejoins"), 3);
  fail_unless_equals_int (reports, 2 * (1 + 3));
  fail_unless_equals_int (count_igmp_joins (tap, "239.255.3.3",
          400 * GST_MSECOND), 0);
  relay_teardown (&f);
  close (tap);
}

GST_END_TEST;

/* ---- link changes -------------------------------------------------------
 * A veth pair in the test's namespace: the relay joins on mcpv0, the test
 * sends from the other end, mcpv1, so datagrams arrive on mcpv0 as from the
 * wire. */

#define FLAP_GROUP "239.255.5.5"

/* Waits until the kernel has said that ifname is (not) operational. Both
 * ends of the pair lose their carrier when one goes down, and the kernel's
 * link watch reports them operational again only some time after "up":
 * the sender's end, mcpv1, drops what is sent on it until then, and the
 * relay re-joins when mcpv0's report comes. The test waits for both, so
 * that neither falls into the middle of what it sends. */
static void
wait_link (McpNetlink * nl, const gchar * ifname, gboolean up)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  for (;;) {
    GPollFD pfd = { mcp_netlink_get_fd (nl), G_IO_IN, 0 };
    GError *err = NULL;
    guint ifindex;

    fail_unless (mcp_netlink_dispatch (nl, NULL, NULL, &err), "%s",
        err ? err->message : "?");
    ifindex = mcp_netlink_lookup_index (nl, ifname);
    if (ifindex && mcp_netlink_is_up (nl, ifindex) == up)
      return;
    fail_unless (g_get_monotonic_time () < end, "%s never went %s", ifname,
        up ? "up" : "down");
    g_poll (&pfd, 1, 100);
  }
}

static void
veth_setup (McpNetlink * nl)
{
  mcp_test_ip ("link add mcpv0 type veth peer name mcpv1");
  mcp_test_ip ("addr add 10.9.7.1/24 dev mcpv0");
  mcp_test_ip ("addr add 10.9.7.2/24 dev mcpv1");
  /* the sender's address is local too (on mcpv1) */
  mcp_test_sysctl ("/proc/sys/net/ipv4/conf/mcpv0/accept_local", "1");
  mcp_test_ip ("link set mcpv1 up");
  mcp_test_ip ("link set mcpv0 up");
  wait_link (nl, "mcpv0", TRUE);
  wait_link (nl, "mcpv1", TRUE);
}

/* A sender on mcpv1, from 10.9.7.2. */
static GSocket *
veth_sender (void)
{
  GSocket *s = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "10.9.7.2");
  struct ip_mreqn mreq;

  memset (&mreq, 0, sizeof (mreq));
  mreq.imr_ifindex = if_nametoindex ("mcpv1");
  fail_unless (mreq.imr_ifindex > 0);
  fail_unless (setsockopt (g_socket_get_fd (s), IPPROTO_IP, IP_MULTICAST_IF,
          &mreq, sizeof (mreq)) == 0, "IP_MULTICAST_IF: %s",
      g_strerror (errno));
  g_socket_set_multicast_loopback (s, FALSE);
  return s;
}

/* Datagrams from..from+count-1 go out and come out, all, in order, with
 * no re-join meanwhile. */
static void
send_and_pull (RelayFixture * f, GSocket * tx, guint from, guint count)
{
  guint64 rejoins = relay_stat (f, "rejoins");
  guint i;

  for (i = from; i < from + count; i++)
    send_datagram (tx, FLAP_GROUP, f->port, i, 200 + i);
  for (i = from; i < from + count; i++) {
    GstBuffer *buf = gst_harness_pull (f->h);
    GstMcpMeta *m = gst_buffer_get_mcp_meta (buf);

    fail_unless (m != NULL);
    fail_unless_equals_uint64 (SEQ_LOW (m->info.seq), i);
    fail_unless (gst_buffer_get_size (buf) == 200 + i, "datagram %u is "
        "missing (got %" G_GSIZE_FORMAT " bytes; re-joins %" G_GUINT64_FORMAT
        " before, %" G_GUINT64_FORMAT " now)", i, gst_buffer_get_size (buf),
        rejoins, relay_stat (f, "rejoins"));
    mcp_test_assert_buffer (buf, i, 200 + i);
    gst_buffer_unref (buf);
  }
  fail_unless_equals_uint64 (relay_stat (f, "datagrams-received"),
      from + count);
  fail_unless_equals_uint64 (relay_stat (f, "rejoins"), rejoins);
}

/* The relay re-joins when its interface comes back up, when it gets its
 * address back, and when it is removed and made anew under the same name
 * (a new interface index: the kernel dropped the membership with the old
 * one, so only the re-join brings the stream back). Each time exactly one
 * re-join, and every datagram sent afterwards arrives. */
GST_START_TEST (test_link_changes)
{
  McpNetlink *nl = mcp_netlink_new (NULL);
  GSocket *tx;
  RelayFixture f;
  guint first_index;
  gint64 waited;

  fail_unless (nl != NULL);
  veth_setup (nl);
  first_index = if_nametoindex ("mcpv0");
  tx = veth_sender ();
  relay_setup (&f, "address=" FLAP_GROUP " multicast-iface=mcpv0");
  send_and_pull (&f, tx, 0, 10);
  fail_unless_equals_uint64 (relay_stat (&f, "rejoins"), 0);

  /* down and up */
  mcp_test_link_set_up ("mcpv0", FALSE);
  wait_link (nl, "mcpv1", FALSE);
  mcp_test_link_set_up ("mcpv0", TRUE);
  wait_link (nl, "mcpv0", TRUE);
  wait_link (nl, "mcpv1", TRUE);
  /* (not inside GST_INFO: its arguments are evaluated only when logging) */
  waited = mcp_test_wait_stat (f.h->element, "mcastsrc-relay-stats",
      "rejoins", 1);
  GST_INFO ("re-joined within %" G_GINT64_FORMAT " us after link up", waited);
  send_and_pull (&f, tx, 10, 20);

  /* its address removed and added again */
  mcp_test_ip ("addr del 10.9.7.1/24 dev mcpv0");
  mcp_test_ip ("addr add 10.9.7.1/24 dev mcpv0");
  mcp_test_wait_stat (f.h->element, "mcastsrc-relay-stats", "rejoins", 2);
  send_and_pull (&f, tx, 30, 20);

  /* removed (with its peer) and made anew */
  g_object_unref (tx);
  mcp_test_ip ("link del mcpv0");
  veth_setup (nl);
  fail_unless (if_nametoindex ("mcpv0") != first_index);
  tx = veth_sender ();
  mcp_test_wait_stat (f.h->element, "mcastsrc-relay-stats", "rejoins", 3);
  send_and_pull (&f, tx, 50, 20);

  fail_unless_equals_uint64 (relay_stat (&f, "rejoins"), 3);
  fail_unless_equals_uint64 (relay_stat (&f, "rejoin-failures"), 0);
  relay_teardown (&f);
  g_object_unref (tx);
  mcp_test_ip ("link del mcpv0");
  mcp_netlink_free (nl);
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
    {"address=10.0.0.1", "'10.0.0.1' is not a multicast group"},
    {"address=2001:db8::1", "'2001:db8::1' is not a multicast group"},
    {"address=garbage", "'garbage' is not a numeric IPv4 or IPv6 address"},
    {"address=", "no address given"},
    {"multicast-iface=nosuchif0", "no network interface named 'nosuchif0'"},
    {"multicast-iface=lo,nosuchif0",
        "no network interface named 'nosuchif0'"},
    {"multicast-source=garbage",
        "'garbage' is not a numeric IPv4 or IPv6 address"},
    {"multicast-source=::1", "source '::1' is not of the group's address "
          "family (IPv4)"},
    {"address=ff3e::1 multicast-source=127.0.0.1", "source '127.0.0.1' is "
          "not of the group's address family (IPv6)"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstElement *src = gst_check_setup_element ("mcastsrc-relay");
    guint port;

    GST_INFO ("case %s", cases[i].props);
    g_object_set (src, "port", 0, NULL);
    mcp_test_set_props (src, cases[i].props);
    mcp_test_assert_state_error (src, GST_STATE_READY, cases[i].text);
    g_object_get (src, "current-port", &port, NULL);
    fail_unless_equals_int (port, 0);
    gst_check_teardown_element (src);
  }
}

GST_END_TEST;

typedef struct
{
  GstElement *element;
  GMutex lock;
  GCond cond;
  gboolean done;
  GstStateChangeReturn ret;
} Stopper;

static gpointer
stop_thread (gpointer data)
{
  Stopper *st = data;
  GstStateChangeReturn ret = gst_element_set_state (st->element,
      GST_STATE_NULL);

  g_mutex_lock (&st->lock);
  st->ret = ret;
  st->done = TRUE;
  g_cond_signal (&st->cond);
  g_mutex_unlock (&st->lock);
  return NULL;
}

/* A playing relay waiting for datagrams stops at once: the wait is
 * cancellable. Without that, set_state would block for good; it runs on
 * another thread so that this fails in seconds instead of hanging. */
GST_START_TEST (test_unlock_stops_waiting)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  RelayFixture f;
  guint i;

  relay_setup (&f, "");
  for (i = 0; i < 3; i++) {
    Stopper st = { f.h->element };
    GThread *thread;
    gboolean done;

    /* one datagram through: the streaming thread is running and goes
     * straight back to waiting for the next */
    send_datagram (tx, "239.255.0.1", f.port, i, 10);
    gst_buffer_unref (pull_datagram (&f, i, 10));
    g_mutex_init (&st.lock);
    g_cond_init (&st.cond);
    thread = g_thread_new ("stopper", stop_thread, &st);
    g_mutex_lock (&st.lock);
    g_cond_wait_until (&st.cond, &st.lock,
        g_get_monotonic_time () + 5 * G_USEC_PER_SEC);
    done = st.done;
    g_mutex_unlock (&st.lock);
    fail_unless (done, "set_state (NULL) is stuck: the wait for datagrams "
        "was not cancelled");
    g_thread_join (thread);
    fail_unless_equals_int (st.ret, GST_STATE_CHANGE_SUCCESS);
    g_mutex_clear (&st.lock);
    g_cond_clear (&st.cond);

    fail_unless_equals_int (gst_element_set_state (f.h->element,
            GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    g_object_get (f.h->element, "current-port", &f.port, NULL);
    gst_harness_play (f.h);
  }
  relay_teardown (&f);
  g_object_unref (tx);
}

GST_END_TEST;

/* ---- scope: groups on demand -------------------------------------------
 * A relay with scope pins the scope's single groups and joins a group of
 * its prefixes while the subscriptions that come upstream ask for it. The
 * event is handled when gst_pad_send_event() returns: what is joined and
 * left is in joined-list by then, and the kernel has the membership. */

static gint answered;

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

/* A playing relay with scope (its text has spaces: not for
 * mcp_test_set_props) and other properties. */
static void
scope_setup (RelayFixture * f, const gchar * scope, const gchar * props)
{
  GstElement *src = gst_element_factory_make ("mcastsrc-relay", NULL);

  fail_unless (src != NULL);
  g_object_set (src, "scope", scope, NULL);
  mcp_test_set_props (src, props);
  f->h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  f->lists = 0;
  f->port = 0;
  gst_harness_play (f->h);
}

/* joined-list as "GROUP:PORT[/SOURCES][!]" items in its order, separated
 * by spaces ("!": pinned). */
static gchar *
joined_text (RelayFixture * f)
{
  GstStructure *s = relay_stats (f);
  GString *text = g_string_new (NULL);
  guint i, n = mcp_test_stat_count (s, "joined-list");

  for (i = 0; i < n; i++) {
    const GstStructure *j = mcp_test_stat_item (s, "joined-list", i);
    const gchar *sources = gst_structure_get_string (j, "sources");

    fail_unless (gst_structure_has_name (j, "joined"));
    fail_unless (sources != NULL);
    g_string_append_printf (text, "%s%s:%u%s%s%s", i ? " " : "",
        gst_structure_get_string (j, "group"), mcp_test_stat_u32 (j, "port"),
        *sources ? "/" : "", sources,
        mcp_test_stat_bool (j, "pinned") ? "!" : "");
  }
  gst_structure_free (s);
  return g_string_free (text, FALSE);
}

static void
assert_joined (RelayFixture * f, const gchar * want)
{
  gchar *got = joined_text (f);

  fail_unless_equals_string (got, want);
  g_free (got);
}

static void
add_peer (GArray * peers, guint64 peer_id, const gchar * text)
{
  GError *err = NULL;
  McpSubSet *set = mcp_sub_set_parse (text, &err);

  fail_unless (set != NULL, "%s: %s", text, err ? err->message : "?");
  gst_mcp_subs_peers_add (peers, peer_id, set);
  mcp_sub_set_free (set);
}

/* Sends the subscriptions event upstream into the relay: the whole state
 * of every peer (takes peers). */
static void
send_subscriptions (RelayFixture * f, GArray * peers)
{
  GstPad *pad = gst_element_get_static_pad (f->h->element, "src");

  fail_unless (gst_pad_send_event (pad, gst_mcp_subs_event_new (peers)));
  gst_object_unref (pad);
  g_array_unref (peers);
}

/* ... where peer peer_id alone wants text (NULL: no peer wants
 * anything). */
static void
subscribe (RelayFixture * f, guint64 peer_id, const gchar * text)
{
  GArray *peers = gst_mcp_subs_peers_new ();

  if (text)
    add_peer (peers, peer_id, text);
  send_subscriptions (f, peers);
}

/* Whether the host is a member of IPv4 group on lo now (/proc/net/igmp:
 * what the kernel reports, whatever socket joined). */
static gboolean
host_is_member (const gchar * group)
{
  GInetAddress *g = g_inet_address_new_from_string (group);
  gchar *text = NULL, *want, **lines;
  gboolean on_lo = FALSE, found = FALSE;
  guint32 v;
  guint i;

  memcpy (&v, g_inet_address_to_bytes (g), 4);
  want = g_strdup_printf ("%08X", v);
  fail_unless (g_file_get_contents ("/proc/net/igmp", &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (i = 0; lines[i]; i++) {
    gchar *l = g_strstrip (g_strdup (lines[i]));

    /* "IDX DEVICE : COUNT QUERIER" opens an interface's groups */
    if (g_ascii_isdigit (lines[i][0]))
      on_lo = strstr (lines[i], "lo ") != NULL;
    else if (on_lo && g_str_has_prefix (l, want))
      found = TRUE;
    g_free (l);
  }
  g_strfreev (lines);
  g_free (text);
  g_free (want);
  g_object_unref (g);
  return found;
}

/* The next buffer is datagram n of size bytes, sent to group:port, the
 * seq-th datagram pushed. */
static void
pull_from (RelayFixture * f, guint n, gsize size, const gchar * group,
    guint port, guint64 seq)
{
  GstBuffer *buf = pull_datagram (f, n, size);

  assert_mcp_meta (buf, group, port, seq);
  gst_buffer_unref (buf);
}

GST_START_TEST (test_scope_properties)
{
  GstElement *src = gst_check_setup_element ("mcastsrc-relay");
  gchar *scope;
  guint max;

  g_object_get (src, "scope", &scope, "max-groups", &max, NULL);
  fail_unless (scope == NULL);
  fail_unless_equals_int (max, 1024);
  g_object_set (src, "scope", "239.1.1.1:5000 239.10.0.0/16:5004",
      "max-groups", 7, NULL);
  g_object_get (src, "scope", &scope, "max-groups", &max, NULL);
  fail_unless_equals_string (scope, "239.1.1.1:5000 239.10.0.0/16:5004");
  fail_unless_equals_int (max, 7);
  g_free (scope);
  g_object_set (src, "scope", NULL, NULL);
  g_object_get (src, "scope", &scope, NULL);
  fail_unless (scope == NULL);
  gst_check_teardown_element (src);
}

GST_END_TEST;

GST_START_TEST (test_scope_bad_settings_are_errors)
{
  static const struct
  {
    const gchar *scope;
    const gchar *props;
    const gchar *text;
  } cases[] = {
    {"239.1.1.1:5000", "address=239.1.1.2", "Both address and scope are set"},
    /* given, even with the default value */
    {"239.1.1.1:5000", "address=239.255.0.1",
        "Both address and scope are set"},
    {"239.1.1.1:5000", "multicast-source=127.0.0.1",
        "multicast-source does not apply with scope"},
    {"239.1.1.1:5000 garbage", "", "Invalid scope: "},
    {"239.1.1.1:0", "", "Invalid scope: "},
    {"239.1.1.1:5000", "multicast-iface=nosuchif0",
        "no network interface named 'nosuchif0'"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstElement *src = gst_check_setup_element ("mcastsrc-relay");

    GST_INFO ("case %s / %s", cases[i].scope, cases[i].props);
    g_object_set (src, "scope", cases[i].scope, NULL);
    mcp_test_set_props (src, cases[i].props);
    mcp_test_assert_state_error (src, GST_STATE_READY, cases[i].text);
    gst_check_teardown_element (src);
  }
}

GST_END_TEST;

/* A pinned group and a prefix: before any subscription only the pinned
 * group comes out; a group of the prefix comes out while it is wanted,
 * with its own group and port in the metadata; a group outside the scope
 * is never joined; a prefix wanted ("*") adds nothing; once the group is
 * no longer wanted, nothing sent to it comes out. Datagrams that must not
 * come out are sent before one that must: had they been taken, they would
 * be counted by the time it comes out. */
GST_START_TEST (test_scope_subscriptions)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  guint p1 = free_udp_port (), p2 = free_udp_port ();
  gchar *scope = g_strdup_printf ("239.255.7.1:%u 239.10.0.0/16:%u", p1, p2);
  gchar *pinned = g_strdup_printf ("239.255.7.1:%u!", p1);
  gchar *want, *both, *text;
  RelayFixture f;

  fail_unless (p1 != p2);
  scope_setup (&f, scope, "peer-id=77");
  assert_joined (&f, pinned);
  fail_unless (host_is_member ("239.255.7.1"));
  fail_if (host_is_member ("239.10.3.3"));
  g_object_get (f.h->element, "current-port", &f.port, NULL);
  fail_unless_equals_int (f.port, 0);

  /* nobody subscribed yet */
  send_datagram (tx, "239.10.3.3", p2, 1, 100);
  send_datagram (tx, "239.255.7.1", p1, 2, 50);
  pull_from (&f, 2, 50, "239.255.7.1", p1, 0);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 1);

  /* a group of the prefix and one outside the scope */
  want = g_strdup_printf ("239.10.3.3:%u 239.20.0.1:%u", p2, p2);
  subscribe (&f, 5, want);
  both = g_strdup_printf ("%s 239.10.3.3:%u", pinned, p2);
  assert_joined (&f, both);
  fail_unless (host_is_member ("239.10.3.3"));
  fail_if (host_is_member ("239.20.0.1"));
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 1);
  send_datagram (tx, "239.20.0.1", p2, 3, 80);
  send_datagram (tx, "239.10.3.3", p2, 4, 1316);
  pull_from (&f, 4, 1316, "239.10.3.3", p2, 1);
  send_datagram (tx, "239.255.7.1", p1, 5, 60);
  pull_from (&f, 5, 60, "239.255.7.1", p1, 2);
  /* the whole state again, from two peers, one wanting everything: the
   * same joins */
  text = g_strdup_printf ("%s *", want);
  subscribe (&f, 5, text);
  g_free (text);
  assert_joined (&f, both);
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 1);
  fail_unless_equals_uint64 (relay_stat (&f, "leaves"), 0);
  send_datagram (tx, "239.10.3.3", p2, 6, 0);
  pull_from (&f, 6, 0, "239.10.3.3", p2, 3);
  send_datagram (tx, "239.10.3.3", p2, 7, 9000);
  pull_from (&f, 7, 9000, "239.10.3.3", p2, 4);

  /* no longer wanted: left when the event returns */
  subscribe (&f, 5, "*");
  assert_joined (&f, pinned);
  fail_if (host_is_member ("239.10.3.3"));
  fail_unless (host_is_member ("239.255.7.1"));
  fail_unless_equals_uint64 (relay_stat (&f, "leaves"), 1);
  send_datagram (tx, "239.10.3.3", p2, 8, 100);
  send_datagram (tx, "239.20.0.1", p2, 9, 100);
  send_datagram (tx, "239.255.7.1", p1, 10, 70);
  pull_from (&f, 10, 70, "239.255.7.1", p1, 5);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 6);

  /* wanted again, then nobody wants anything */
  subscribe (&f, 5, want);
  assert_joined (&f, both);
  send_datagram (tx, "239.10.3.3", p2, 11, 65507);
  pull_from (&f, 11, 65507, "239.10.3.3", p2, 6);
  subscribe (&f, 0, NULL);
  assert_joined (&f, pinned);
  fail_if (host_is_member ("239.10.3.3"));
  send_datagram (tx, "239.10.3.3", p2, 12, 100);
  send_datagram (tx, "239.255.7.1", p1, 13, 1);
  pull_from (&f, 13, 1, "239.255.7.1", p1, 7);

  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 8);
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 2);
  fail_unless_equals_uint64 (relay_stat (&f, "leaves"), 2);
  fail_unless_equals_uint64 (relay_stat (&f, "join-failures"), 0);
  fail_unless_equals_uint64 (relay_stat (&f, "joins-over-limit"), 0);
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  relay_teardown (&f);
  g_free (want);
  g_free (both);
  g_free (pinned);
  g_free (scope);
  g_object_unref (tx);
}

GST_END_TEST;

/* A subscription with INCLUDE sources joins source-specific: another
 * source's datagrams stay out (sent first each time). Any source, and
 * back to one source, on the same socket. */
GST_START_TEST (test_scope_source_specific)
{
  GSocket *bad = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.3");
  GSocket *good = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.2");
  guint p = free_udp_port ();
  gchar *scope = g_strdup_printf ("232.1.0.0/16:%u", p);
  gchar *text, *joined;
  GArray *peers;
  GstBuffer *buf;
  RelayFixture f;

  scope_setup (&f, scope, "");
  assert_joined (&f, "");

  text = g_strdup_printf ("127.0.0.2@232.1.5.5:%u", p);
  subscribe (&f, 9, text);
  g_free (text);
  joined = g_strdup_printf ("232.1.5.5:%u/127.0.0.2", p);
  assert_joined (&f, joined);
  g_free (joined);
  send_datagram (bad, "232.1.5.5", p, 1, 100);
  send_datagram (good, "232.1.5.5", p, 2, 50);
  buf = pull_datagram (&f, 2, 50);
  assert_sender (buf, good);
  assert_mcp_meta (buf, "232.1.5.5", p, 0);
  gst_buffer_unref (buf);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 1);

  /* another peer takes any source: so does the join */
  peers = gst_mcp_subs_peers_new ();
  text = g_strdup_printf ("127.0.0.2@232.1.5.5:%u", p);
  add_peer (peers, 9, text);
  g_free (text);
  text = g_strdup_printf ("232.1.5.5:%u", p);
  add_peer (peers, 10, text);
  g_free (text);
  send_subscriptions (&f, peers);
  joined = g_strdup_printf ("232.1.5.5:%u", p);
  assert_joined (&f, joined);
  g_free (joined);
  send_datagram (bad, "232.1.5.5", p, 3, 30);
  buf = pull_datagram (&f, 3, 30);
  assert_sender (buf, bad);
  assert_mcp_meta (buf, "232.1.5.5", p, 1);
  gst_buffer_unref (buf);

  /* one source again, peer 10 gone (an EXCLUDE elsewhere changes nothing
   * here: any-source) */
  text = g_strdup_printf ("127.0.0.2@232.1.5.5:%u !127.0.0.2@232.1.6.6:%u",
      p, p);
  subscribe (&f, 9, text);
  g_free (text);
  joined = g_strdup_printf ("232.1.5.5:%u/127.0.0.2 232.1.6.6:%u", p, p);
  assert_joined (&f, joined);
  g_free (joined);
  send_datagram (bad, "232.1.5.5", p, 4, 100);
  send_datagram (good, "232.1.5.5", p, 5, 40);
  buf = pull_datagram (&f, 5, 40);
  assert_sender (buf, good);
  assert_mcp_meta (buf, "232.1.5.5", p, 2);
  gst_buffer_unref (buf);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 3);
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 2);
  fail_unless_equals_uint64 (relay_stat (&f, "leaves"), 0);
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  relay_teardown (&f);
  g_free (scope);
  g_object_unref (bad);
  g_object_unref (good);
}

GST_END_TEST;

/* An element downstream that takes part in subscriptions answers the
 * query the relay sends at start (here a probe on the relay's src pad
 * plays that element): what it wants is joined before the first datagram
 * is read. */
static GstPadProbeReturn
answer_subs_query (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

  if (!gst_mcp_subs_query_is (query))
    return GST_PAD_PROBE_OK;
  gst_mcp_subs_query_set (query, data);
  g_atomic_int_inc (&answered);
  return GST_PAD_PROBE_HANDLED;
}

GST_START_TEST (test_scope_query_at_start)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  GstElement *src = gst_element_factory_make ("mcastsrc-relay", NULL);
  GArray *peers = gst_mcp_subs_peers_new ();
  guint p = free_udp_port ();
  gchar *scope = g_strdup_printf ("239.12.0.0/16:%u", p);
  gchar *text = g_strdup_printf ("239.12.0.4:%u", p);
  GstPad *pad;
  RelayFixture f;

  add_peer (peers, 3, text);
  g_object_set (src, "scope", scope, NULL);
  pad = gst_element_get_static_pad (src, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      answer_subs_query, peers, NULL);
  gst_object_unref (pad);
  f.h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  g_atomic_int_set (&answered, 0);
  gst_harness_play (f.h);
  fail_unless_equals_int (g_atomic_int_get (&answered), 1);
  assert_joined (&f, text);
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 1);
  send_datagram (tx, "239.12.0.4", p, 1, 1316);
  pull_from (&f, 1, 1316, "239.12.0.4", p, 0);

  /* stopped: only the pinned pairs (none) stay */
  fail_unless_equals_int (gst_element_set_state (f.h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  assert_joined (&f, "");
  fail_if (host_is_member ("239.12.0.4"));
  relay_teardown (&f);
  g_array_unref (peers);
  g_free (text);
  g_free (scope);
  g_object_unref (tx);
}

GST_END_TEST;

/* IPv6: a pinned group and one of a prefix, each datagram with its own
 * group and port. */
GST_START_TEST (test_scope_ipv6)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV6, "::1");
  guint p1 = free_udp_port (), p2 = free_udp_port ();
  gchar *scope = g_strdup_printf ("[ff3e::7]:%u ff3e::/96:%u", p1, p2);
  gchar *text, *joined;
  RelayFixture f;

  scope_setup (&f, scope, "multicast-iface=lo");
  text = g_strdup_printf ("[ff3e::1:5]:%u [ff3e::2:0:5]:%u", p2, p2);
  subscribe (&f, 4, text);
  g_free (text);
  /* ff3e::2:0:5 is outside ff3e::/96 */
  joined = g_strdup_printf ("ff3e::7:%u! ff3e::1:5:%u", p1, p2);
  assert_joined (&f, joined);
  g_free (joined);
  send_datagram (tx, "ff3e::2:0:5", p2, 1, 100);
  send_datagram (tx, "ff3e::1:5", p2, 2, 1316);
  pull_from (&f, 2, 1316, "ff3e::1:5", p2, 0);
  send_datagram (tx, "ff3e::7", p1, 3, 9000);
  pull_from (&f, 3, 9000, "ff3e::7", p1, 1);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 2);
  relay_teardown (&f);
  g_free (scope);
  g_object_unref (tx);
}

GST_END_TEST;

/* The set changes under the streaming thread's feet, 100 times: every
 * datagram of a wanted group comes out with its own group and port, none
 * of one no longer wanted, and the pinned group's stream goes on. The two
 * datagrams of a round come from two sockets: in either order. */
#define CHURN_ROUNDS 50

GST_START_TEST (test_scope_churn)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  guint p1 = free_udp_port (), p2 = free_udp_port ();
  gchar *scope = g_strdup_printf ("239.255.9.1:%u 239.13.0.0/16:%u", p1, p2);
  gchar *want = g_strdup_printf ("239.13.0.1:%u 239.13.0.2:%u 239.13.0.3:%u",
      p2, p2, p2);
  RelayFixture f;
  guint i, k, n = 0;

  scope_setup (&f, scope, "");
  for (i = 0; i < CHURN_ROUNDS; i++) {
    gchar *group = g_strdup_printf ("239.13.0.%u", i % 3 + 1);
    gboolean seen[2] = { FALSE, FALSE };

    subscribe (&f, 1, want);
    send_datagram (tx, group, p2, n, 100 + i);
    send_datagram (tx, "239.255.9.1", p1, n + 1, 200 + i);
    for (k = 0; k < 2; k++) {
      GstBuffer *buf = gst_harness_pull (f.h);
      GstMcpMeta *m;
      gboolean pinned;

      fail_unless (buf != NULL);
      m = gst_buffer_get_mcp_meta (buf);
      fail_unless (m != NULL);
      pinned = m->info.port == p1;
      fail_if (seen[pinned], "round %u: two datagrams of one group", i);
      seen[pinned] = TRUE;
      if (pinned) {
        mcp_test_assert_buffer (buf, n + 1, 200 + i);
        assert_mcp_meta (buf, "239.255.9.1", p1, SEQ_LOW (m->info.seq));
      } else {
        mcp_test_assert_buffer (buf, n, 100 + i);
        assert_mcp_meta (buf, group, p2, SEQ_LOW (m->info.seq));
      }
      gst_buffer_unref (buf);
    }
    subscribe (&f, 1, NULL);
    send_datagram (tx, group, p2, n + 2, 50);
    send_datagram (tx, "239.255.9.1", p1, n + 3, 60);
    pull_from (&f, n + 3, 60, "239.255.9.1", p1, 3 * i + 2);
    n += 4;
    g_free (group);
  }
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"),
      3 * CHURN_ROUNDS);
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 3 * CHURN_ROUNDS);
  fail_unless_equals_uint64 (relay_stat (&f, "leaves"), 3 * CHURN_ROUNDS);
  fail_unless_equals_int (gst_harness_buffers_in_queue (f.h), 0);
  relay_teardown (&f);
  g_free (want);
  g_free (scope);
  g_object_unref (tx);
}

GST_END_TEST;

/* max-groups counts the pinned pairs too; what is carried keeps its place
 * over what is new; what is left out is counted. */
GST_START_TEST (test_scope_max_groups)
{
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, "127.0.0.1");
  guint p1 = free_udp_port (), p2 = free_udp_port ();
  gchar *scope = g_strdup_printf ("239.255.8.1:%u 239.11.0.0/16:%u", p1, p2);
  gchar *text, *joined;
  RelayFixture f;

  scope_setup (&f, scope, "max-groups=2");
  text = g_strdup_printf ("239.11.0.9:%u 239.11.0.5:%u", p2, p2);
  subscribe (&f, 1, text);
  g_free (text);
  joined = g_strdup_printf ("239.255.8.1:%u! 239.11.0.5:%u", p1, p2);
  assert_joined (&f, joined);
  fail_unless_equals_uint64 (relay_stat (&f, "joins-over-limit"), 1);

  /* 239.11.0.1 comes first in order, but 239.11.0.5 is carried */
  text = g_strdup_printf ("239.11.0.1:%u 239.11.0.5:%u", p2, p2);
  subscribe (&f, 1, text);
  g_free (text);
  assert_joined (&f, joined);
  g_free (joined);
  fail_unless_equals_uint64 (relay_stat (&f, "joins-over-limit"), 2);
  send_datagram (tx, "239.11.0.1", p2, 1, 10);
  send_datagram (tx, "239.11.0.5", p2, 2, 20);
  pull_from (&f, 2, 20, "239.11.0.5", p2, 0);

  /* room again: the one left out comes in */
  text = g_strdup_printf ("239.11.0.1:%u", p2);
  subscribe (&f, 1, text);
  g_free (text);
  joined = g_strdup_printf ("239.255.8.1:%u! 239.11.0.1:%u", p1, p2);
  assert_joined (&f, joined);
  g_free (joined);
  send_datagram (tx, "239.11.0.1", p2, 3, 30);
  pull_from (&f, 3, 30, "239.11.0.1", p2, 1);
  fail_unless_equals_uint64 (relay_stat (&f, "datagrams-received"), 2);
  fail_unless_equals_uint64 (relay_stat (&f, "joins"), 2);
  fail_unless_equals_uint64 (relay_stat (&f, "leaves"), 1);
  relay_teardown (&f);
  g_free (scope);
  g_object_unref (tx);
}

GST_END_TEST;

/* ---- joins and leaves on the bus ----------------------------------------
 * One mcastproxy-joined and one mcastproxy-left per membership (group,
 * source, interface) the relay's socket takes and drops, whatever the
 * re-joins in between. */

/* A relay posting to bus, in READY (port=0, current-port read); scope
 * NULL: address and the other properties. */
static void
watched_setup (RelayFixture * f, GstBus * bus, const gchar * scope,
    const gchar * props)
{
  GstElement *src = gst_element_factory_make ("mcastsrc-relay", NULL);

  fail_unless (src != NULL);
  if (scope)
    g_object_set (src, "scope", scope, NULL);
  else
    g_object_set (src, "port", 0, NULL);
  mcp_test_set_props (src, props);
  gst_element_set_bus (src, bus);
  f->h = gst_harness_new_with_element (src, NULL, "src");
  gst_object_unref (src);
  f->lists = 0;
  fail_unless_equals_int (gst_element_set_state (f->h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_get (f->h->element, "current-port", &f->port, NULL);
}

/* Stopped: what it took it leaves, and says so before this returns. */
static void
watched_teardown (RelayFixture * f, GstBus * bus)
{
  fail_unless_equals_int (gst_element_set_state (f->h->element,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (f->h->element, NULL);
  relay_teardown (f);
}

/* Polls the statistics until rejoins reached n (each one re-joined every
 * membership). */
static void
wait_rejoins (RelayFixture * f, guint64 n)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  while (relay_stat (f, "rejoins") < n) {
    fail_unless (g_get_monotonic_time () < end, "timed out waiting for %"
        G_GUINT64_FORMAT " re-joins", n);
    g_usleep (2000);
  }
}

#define JOINED "mcastproxy-joined, group=(string)%s, source=(string)\"%s\", " \
    "interface=(string)\"%s\", port=(uint)%u"
#define LEFT "mcastproxy-left, group=(string)%s, source=(string)\"%s\", " \
    "interface=(string)\"%s\", port=(uint)%u, reason=(string)\"%s\""

/* address: joined at NULL->READY, left at READY->NULL; the re-joins of
 * rejoin-interval in between change nothing and say nothing. */
GST_START_TEST (test_join_leave_messages)
{
  GstBus *bus = gst_bus_new ();
  RelayFixture f;

  watched_setup (&f, bus, NULL, "address=239.255.8.1 multicast-iface=lo "
      "rejoin-interval=20000000");
  fail_unless (f.port > 0);
  mcp_test_expect_event (bus, JOINED, "239.255.8.1", "", "lo", f.port);
  mcp_test_assert_no_event (bus);
  gst_harness_play (f.h);
  wait_rejoins (&f, 3);
  /* the next one says it was left: none came between */
  watched_teardown (&f, bus);
  mcp_test_expect_event (bus, LEFT, "239.255.8.1", "", "lo", f.port,
      "stopping");
  mcp_test_assert_no_event (bus);

  /* source-specific on the default interface: one per source */
  watched_setup (&f, bus, NULL, "address=232.1.2.9 "
      "multicast-source=127.0.0.2,127.0.0.5");
  mcp_test_expect_event (bus, JOINED, "232.1.2.9", "127.0.0.2", "", f.port);
  mcp_test_expect_event (bus, JOINED, "232.1.2.9", "127.0.0.5", "", f.port);
  gst_harness_play (f.h);
  watched_teardown (&f, bus);
  mcp_test_expect_event (bus, LEFT, "232.1.2.9", "127.0.0.2", "", f.port,
      "stopping");
  mcp_test_expect_event (bus, LEFT, "232.1.2.9", "127.0.0.5", "", f.port,
      "stopping");
  mcp_test_assert_no_event (bus);
  gst_object_unref (bus);
}

GST_END_TEST;

/* scope: the pinned group joined at NULL->READY; a group of a prefix
 * joined when a subscription asks for it (told before the event returns),
 * left and joined again when other sources are wanted, left when nobody
 * wants it, and at stop; the pinned group left at READY->NULL. */
GST_START_TEST (test_scope_join_leave_messages)
{
  GstBus *bus = gst_bus_new ();
  guint p1 = free_udp_port (), p2 = free_udp_port ();
  gchar *scope = g_strdup_printf ("239.255.9.2:%u 239.14.0.0/16:%u", p1, p2);
  gchar *any = g_strdup_printf ("239.14.1.1:%u", p2);
  gchar *ssm = g_strdup_printf ("127.0.0.2@239.14.1.1:%u", p2);
  RelayFixture f;

  watched_setup (&f, bus, scope, "");
  mcp_test_expect_event (bus, JOINED, "239.255.9.2", "", "", p1);
  gst_harness_play (f.h);
  mcp_test_assert_no_event (bus);

  subscribe (&f, 5, any);
  mcp_test_expect_event (bus, JOINED, "239.14.1.1", "", "", p2);
  /* the same again: no change */
  subscribe (&f, 5, any);
  mcp_test_assert_no_event (bus);
  subscribe (&f, 5, ssm);
  mcp_test_expect_event (bus, LEFT, "239.14.1.1", "", "", p2,
      "other sources wanted");
  mcp_test_expect_event (bus, JOINED, "239.14.1.1", "127.0.0.2", "", p2);
  subscribe (&f, 5, NULL);
  mcp_test_expect_event (bus, LEFT, "239.14.1.1", "127.0.0.2", "", p2,
      "no subscriber left");
  mcp_test_assert_no_event (bus);

  subscribe (&f, 6, any);
  mcp_test_expect_event (bus, JOINED, "239.14.1.1", "", "", p2);
  watched_teardown (&f, bus);
  mcp_test_expect_event (bus, LEFT, "239.14.1.1", "", "", p2, "stopping");
  mcp_test_expect_event (bus, LEFT, "239.255.9.2", "", "", p1, "stopping");
  mcp_test_assert_no_event (bus);
  gst_object_unref (bus);
  g_free (ssm);
  g_free (any);
  g_free (scope);
}

GST_END_TEST;

static Suite *
mcastsrcrelay_suite (void)
{
  Suite *s = suite_create ("mcastsrc-relay");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_defaults_and_properties);
  tcase_add_test (tc, test_state_cycles_and_current_port);
  tcase_add_test (tc, test_exact_bytes_and_metadata);
  tcase_add_test (tc, test_random_origin_id);
  tcase_add_test (tc, test_burst_in_order);
  tcase_add_test (tc, test_num_buffers_counts_datagrams);
  tcase_add_test (tc, test_batching);
  tcase_add_test (tc, test_no_batching);
  tcase_add_test (tc, test_other_group_same_port_not_delivered);
  tcase_add_test (tc, test_ignore_sources);
  tcase_add_test (tc, test_source_specific_join);
  tcase_add_test (tc, test_ipv6_exact_bytes);
  tcase_add_test (tc, test_ipv6_source_specific_join);
  tcase_add_test (tc, test_stats);
  tcase_add_test (tc, test_timeout_message);
  tcase_add_test (tc, test_no_timeout);
  tcase_add_test (tc, test_rejoin_interval);
  tcase_add_test (tc, test_ipv6_rejoin_interval);
  tcase_add_test (tc, test_rejoin_interval_source_specific);
  tcase_add_test (tc, test_link_changes);
  tcase_add_test (tc, test_rejoin_announces);
  tcase_add_test (tc, test_bad_settings_are_errors);
  tcase_add_test (tc, test_unlock_stops_waiting);
  tcase_add_test (tc, test_scope_properties);
  tcase_add_test (tc, test_scope_bad_settings_are_errors);
  tcase_add_test (tc, test_scope_subscriptions);
  tcase_add_test (tc, test_scope_source_specific);
  tcase_add_test (tc, test_scope_max_groups);
  tcase_add_test (tc, test_scope_query_at_start);
  tcase_add_test (tc, test_scope_ipv6);
  tcase_add_test (tc, test_scope_churn);
  tcase_add_test (tc, test_join_leave_messages);
  tcase_add_test (tc, test_scope_join_leave_messages);
  return s;
}

GST_CHECK_MAIN (mcastsrcrelay);
