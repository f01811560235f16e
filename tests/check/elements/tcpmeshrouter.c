/* mcastproxy — tcpmeshrouter element tests: the test plays mesh peers over
 * real TCP on loopback, and two routers link to each other. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "gstmcpmeta.h"
#include "mcp-check-util.h"
#include "mcp-dedup.h"
#include "mcp-wire.h"

#define ISLAND 10

typedef struct
{
  GstHarness *h;
  McpTestEvents added;          /* "address|island id" */
  McpTestEvents removed;        /* "address|reason" */
  guint port;
} RouterFixture;

/* A mesh peer played by the test. */
typedef struct
{
  GSocket *socket;
  McpDecoder *dec;
} TestPeer;

/* A playing router with the given properties (gst-launch syntax), both
 * pads on the harness. */
static void
router_setup (RouterFixture * f, const gchar * props)
{
  GstElement *router = gst_element_factory_make ("tcpmeshrouter", NULL);

  /* configured and watched before the harness starts it */
  g_object_set (router, "port", 0, NULL);
  mcp_test_set_props (router, props);
  mcp_test_events_init (&f->added);
  mcp_test_events_init (&f->removed);
  g_signal_connect (router, "peer-added", G_CALLBACK (mcp_test_peer_added_cb),
      &f->added);
  g_signal_connect (router, "peer-removed", G_CALLBACK (mcp_test_events_cb),
      &f->removed);
  f->h = gst_harness_new_with_element (router, "sink", "src");
  gst_object_unref (router);
  gst_harness_set_src_caps_str (f->h, "application/x-test");
  g_object_get (f->h->element, "current-port", &f->port, NULL);
  fail_unless (f->port > 0);
}

static void
router_teardown (RouterFixture * f)
{
  gst_harness_teardown (f->h);
  mcp_test_events_clear (&f->added);
  mcp_test_events_clear (&f->removed);
}

static guint64
router_stat (RouterFixture * f, const gchar * field)
{
  return mcp_test_stat (f->h->element, "tcpmeshrouter-stats", field);
}

/* Connects to the router as mesh peer id and completes the handshake: the
 * router must answer as a peer with its island id. Returns once the router
 * has counted the link (peer-added number n_added). */
static void
peer_connect (RouterFixture * f, TestPeer * p, guint64 id, guint n_added)
{
  guint64 island = 0;

  p->socket = mcp_test_tcp_connect (f->port);
  p->dec = mcp_test_mpx_handshake (p->socket, MCP_ROLE_PEER, id,
      MCP_ROLE_PEER, &island);
  fail_unless_equals_uint64 (island, ISLAND);
  mcp_test_events_wait (&f->added, n_added);
}

static void
peer_close (TestPeer * p)
{
  g_clear_object (&p->socket);
  g_clear_pointer (&p->dec, mcp_decoder_free);
}

static McpFrameMeta
make_meta (guint64 origin, guint64 seq, guint8 hops)
{
  McpFrameMeta m;

  memset (&m, 0, sizeof (m));
  m.origin_id = origin;
  m.seq = seq;
  m.capture_time = 1000000 + seq;
  m.hops = hops;
  m.family = 4;
  m.port = 5004;
  m.group[0] = 239;
  m.group[1] = 1;
  m.group[2] = 1;
  m.group[3] = (guint8) origin;
  return m;
}

/* Pushes datagram n of size bytes into the sink pad, with metadata info
 * (NULL: none). */
static void
push_local (RouterFixture * f, const McpFrameMeta * info, guint n, gsize size)
{
  GstBuffer *buf = mcp_test_buffer (n, size);

  if (info)
    gst_buffer_add_mcp_meta (buf, info);
  fail_unless_equals_int (gst_harness_push (f->h, buf), GST_FLOW_OK);
}

/* The next buffer out of the src pad must be datagram n of size bytes
 * with metadata want; returns its metadata. */
static McpFrameMeta
pull_expect (RouterFixture * f, const McpFrameMeta * want, guint n, gsize size)
{
  GstBuffer *buf = gst_harness_pull (f->h);
  GstMcpMeta *m;
  McpFrameMeta info;

  fail_unless (buf != NULL, "no buffer");
  mcp_test_assert_buffer (buf, n, size);
  m = gst_buffer_get_mcp_meta (buf);
  fail_unless (m != NULL, "no GstMcpMeta");
  if (want)
    mcp_test_assert_meta (&m->info, want);
  fail_unless (GST_BUFFER_PTS_IS_VALID (buf));
  info = m->info;
  gst_buffer_unref (buf);
  return info;
}

/* What went into the src pad is final once the pad's task has stopped:
 * stops the router (PAUSED->READY) and checks nothing more came out. */
static void
router_stop (RouterFixture * f)
{
  GstBuffer *extra;

  fail_unless_equals_int (gst_element_set_state (f->h->element,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  extra = gst_harness_try_pull (f->h);
  fail_unless (extra == NULL, "an unexpected buffer came out");
}

/* ---- properties and states -------------------------------------------- */

GST_START_TEST (test_defaults_and_properties)
{
  GstElement *router = gst_check_setup_element ("tcpmeshrouter");
  gchar *host, *peers;
  guint port, current_port, max_hops;
  guint64 island, handshake, delay, max_delay, max_bytes, max_time, interval;
  gint policy;

  g_object_get (router, "island-id", &island, "host", &host, "port", &port,
      "current-port", &current_port, "peers", &peers, "max-hops",
      &max_hops, "handshake-timeout", &handshake, "reconnect-delay", &delay,
      "reconnect-max-delay", &max_delay, "max-queue-bytes", &max_bytes,
      "max-queue-time", &max_time, "slow-client-policy", &policy,
      "stats-interval", &interval, NULL);
  fail_unless_equals_uint64 (island, 0);
  fail_unless (host == NULL);
  fail_unless_equals_int (port, 5300);
  fail_unless_equals_int (current_port, 0);
  fail_unless (peers == NULL);
  fail_unless_equals_int (max_hops, 16);
  fail_unless_equals_uint64 (handshake, 5 * GST_SECOND);
  fail_unless_equals_uint64 (delay, 100 * GST_MSECOND);
  fail_unless_equals_uint64 (max_delay, 5 * GST_SECOND);
  fail_unless_equals_uint64 (max_bytes, 4 * 1024 * 1024);
  fail_unless_equals_uint64 (max_time, 3 * GST_SECOND);
  fail_unless_equals_int (policy, 1);   /* resync */
  fail_unless_equals_uint64 (interval, 0);

  gst_util_set_object_arg (G_OBJECT (router), "slow-client-policy", "drop");
  g_object_set (router, "island-id", G_GUINT64_CONSTANT (0x123456789a),
      "host", "127.0.0.1", "port", 6000, "peers", "a:1 [::1]:2,b:3",
      "max-hops", 3, "handshake-timeout", (guint64) 11, "reconnect-delay",
      (guint64) 2000000, "reconnect-max-delay", (guint64) 3000000,
      "max-queue-bytes", (guint64) 1234, "max-queue-time", (guint64) 5678,
      "stats-interval", (guint64) 44, NULL);
  g_free (host);
  g_free (peers);
  g_object_get (router, "island-id", &island, "host", &host, "port", &port,
      "peers", &peers, "max-hops", &max_hops, "handshake-timeout",
      &handshake, "reconnect-delay", &delay, "reconnect-max-delay",
      &max_delay, "max-queue-bytes", &max_bytes, "max-queue-time",
      &max_time, "slow-client-policy", &policy, "stats-interval", &interval,
      NULL);
  fail_unless_equals_uint64 (island, G_GUINT64_CONSTANT (0x123456789a));
  fail_unless_equals_string (host, "127.0.0.1");
  fail_unless_equals_int (port, 6000);
  fail_unless_equals_string (peers, "a:1 [::1]:2,b:3");
  fail_unless_equals_int (max_hops, 3);
  fail_unless_equals_uint64 (handshake, 11);
  fail_unless_equals_uint64 (delay, 2000000);
  fail_unless_equals_uint64 (max_delay, 3000000);
  fail_unless_equals_uint64 (max_bytes, 1234);
  fail_unless_equals_uint64 (max_time, 5678);
  fail_unless_equals_int (policy, 0);   /* drop */
  fail_unless_equals_uint64 (interval, 44);
  g_free (host);
  g_free (peers);
  gst_check_teardown_element (router);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles_and_current_port)
{
  GstElement *router = gst_check_setup_element ("tcpmeshrouter");
  GstStructure *s;
  guint port, i;

  g_object_set (router, "port", 0, "island-id", (guint64) ISLAND, NULL);
  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (gst_element_set_state (router, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (router, "current-port", &port, NULL);
    fail_unless (port > 0);
    /* peers can connect from READY on */
    g_object_unref (mcp_test_tcp_connect (port));
    fail_unless (gst_element_set_state (router, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    s = mcp_test_stats (router, "tcpmeshrouter-stats");
    fail_unless_equals_uint64 (mcp_test_stat_field (s, "island-id"), ISLAND);
    fail_unless_equals_uint64 (mcp_test_stat_field (s, "datagrams-in"), 0);
    fail_unless (gst_structure_has_field (s, "datagrams-sent"));
    fail_unless (gst_structure_has_field (s, "clients"));
    fail_unless (gst_structure_has_field (s, "client-list"));
    gst_structure_free (s);
    fail_unless_equals_int (gst_element_set_state (router, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (router, "current-port", &port, NULL);
    fail_unless_equals_int (port, 0);
  }
  gst_check_teardown_element (router);
}

GST_END_TEST;

GST_START_TEST (test_invalid_peers_is_an_error)
{
  static const gchar *bad[] = { "nocolon", "host:0", "host:99999",
    "127.0.0.1:5000 host:", ":5000"
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    GstElement *router = gst_check_setup_element ("tcpmeshrouter");

    g_object_set (router, "port", 0, "peers", bad[i], NULL);
    mcp_test_assert_state_error (router, GST_STATE_READY, "Invalid peer");
    gst_check_teardown_element (router);
  }
}

GST_END_TEST;

/* ---- routing ----------------------------------------------------------- */

/* This island's datagrams go to every peer as they are. */
GST_START_TEST (test_local_to_every_peer)
{
  RouterFixture f;
  TestPeer p20, p30;
  GstStructure *s;
  guint i;

  router_setup (&f, "island-id=10");
  peer_connect (&f, &p20, 20, 1);
  peer_connect (&f, &p30, 30, 2);
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta m = make_meta (ISLAND, 5000 + i, i % 3);

    push_local (&f, &m, i, mcp_test_sizes[i]);
  }
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta m = make_meta (ISLAND, 5000 + i, i % 3);

    mcp_test_mpx_expect_data (p20.socket, p20.dec, &m, i, mcp_test_sizes[i]);
    mcp_test_mpx_expect_data (p30.socket, p30.dec, &m, i, mcp_test_sizes[i]);
  }
  s = mcp_test_stats (f.h->element, "tcpmeshrouter-stats");
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "datagrams-in"),
      MCP_N_TEST_SIZES);
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "datagrams-forwarded"),
      MCP_N_TEST_SIZES);
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "datagrams-received"), 0);
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "bytes-received"), 0);
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "bytes-in"),
      mcp_test_sizes_total ());
  fail_unless_equals_uint64 (mcp_test_stat_field (s, "reconnects"), 0);
  /* both links took everything: nothing waits for them */
  for (i = 0; i < 2; i++) {
    const GstStructure *c = mcp_test_stat_item (s, "client-list", i);
    guint64 id = mcp_test_stat_field (c, "peer-id");

    fail_unless (id == 20 || id == 30, "peer-id %" G_GUINT64_FORMAT, id);
    fail_unless_equals_string (gst_structure_get_string (c, "framing"), "mpx");
    fail_unless_equals_uint64 (mcp_test_stat_field (c, "datagrams-sent"),
        MCP_N_TEST_SIZES);
    fail_unless_equals_uint64 (mcp_test_stat_field (c, "lag-datagrams"), 0);
    fail_unless_equals_uint64 (mcp_test_stat_field (c, "lag-bytes"), 0);
    fail_unless_equals_uint64 (mcp_test_stat_field (c, "lag-time"), 0);
    fail_unless (mcp_test_stat_field (c, "bytes-received") > 0);
    fail_if (mcp_test_stat_bool (c, "caller"));
  }
  gst_structure_free (s);
  peer_close (&p20);
  peer_close (&p30);
  router_stop (&f);
  /* counted once written: final when the links are closed */
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-sent"),
      2 * MCP_N_TEST_SIZES);
  router_teardown (&f);
}

GST_END_TEST;

/* A peer's datagrams come out once, one hop further, and go on to the
 * other peers, never back to the one that sent them. */
GST_START_TEST (test_peer_to_output_and_forward)
{
  RouterFixture f;
  TestPeer p20, p30;
  McpFrameMeta marker_meta = make_meta (ISLAND, 99, 0);
  gchar *ev;
  guint i;

  router_setup (&f, "island-id=10");
  peer_connect (&f, &p20, 20, 1);
  ev = mcp_test_events_get (&f.added, 0);
  fail_unless (g_str_has_suffix (ev, "|20"), "%s", ev);
  g_free (ev);
  peer_connect (&f, &p30, 30, 2);
  ev = mcp_test_events_get (&f.added, 1);
  fail_unless (g_str_has_suffix (ev, "|30"), "%s", ev);
  g_free (ev);

  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta m = make_meta (20, 1 + i, i);

    mcp_test_mpx_send_data (p20.socket, &m, i, mcp_test_sizes[i]);
  }
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta m = make_meta (20, 1 + i, i + 1);

    pull_expect (&f, &m, i, mcp_test_sizes[i]);
    mcp_test_mpx_expect_data (p30.socket, p30.dec, &m, i, mcp_test_sizes[i]);
  }

  /* nothing came back to peer 20: the next it gets is this marker */
  push_local (&f, &marker_meta, 77, 100);
  mcp_test_mpx_expect_data (p20.socket, p20.dec, &marker_meta, 77, 100);
  mcp_test_mpx_expect_data (p30.socket, p30.dec, &marker_meta, 77, 100);

  fail_unless_equals_uint64 (router_stat (&f, "datagrams-received"),
      MCP_N_TEST_SIZES);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-in"), 1);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-forwarded"),
      MCP_N_TEST_SIZES + 1);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-duplicate"), 0);
  peer_close (&p20);
  peer_close (&p30);
  router_stop (&f);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-out"),
      MCP_N_TEST_SIZES);
  router_teardown (&f);
}

GST_END_TEST;

/* One datagram over two paths: out once. */
GST_START_TEST (test_duplicate_over_two_paths)
{
  RouterFixture f;
  TestPeer p20, p30;
  McpFrameMeta m = make_meta (40, 7, 1), out = make_meta (40, 7, 2);
  McpFrameMeta fence = make_meta (ISLAND, 1, 0), fence_out =
      make_meta (ISLAND, 1, 1);

  router_setup (&f, "island-id=10");
  peer_connect (&f, &p20, 20, 1);
  peer_connect (&f, &p30, 30, 2);

  mcp_test_mpx_send_data (p20.socket, &m, 1, 1316);
  pull_expect (&f, &out, 1, 1316);
  /* and forwarded to 30, which sends it back as its own copy */
  mcp_test_mpx_expect_data (p30.socket, p30.dec, &out, 1, 1316);
  mcp_test_mpx_send_data (p30.socket, &m, 1, 1316);
  /* Then something of this island's own: never output, but forwarded to
   * 20 — proof that 30's copy was dealt with before (and not passed on to
   * 20 either). */
  mcp_test_mpx_send_data (p30.socket, &fence, 2, 10);
  mcp_test_mpx_expect_data (p20.socket, p20.dec, &fence_out, 2, 10);

  fail_unless_equals_uint64 (router_stat (&f, "datagrams-duplicate"), 1);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-received"), 3);
  peer_close (&p20);
  peer_close (&p30);
  router_stop (&f);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-out"), 1);
  router_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_hop_limit)
{
  RouterFixture f;
  TestPeer p20, p30;
  McpFrameMeta far = make_meta (40, 1, 2), near = make_meta (40, 2, 1);
  McpFrameMeta near_out = make_meta (40, 2, 2);

  router_setup (&f, "island-id=10 max-hops=2");
  peer_connect (&f, &p20, 20, 1);
  peer_connect (&f, &p30, 30, 2);
  /* 2 hops + this link = 3: one too many */
  mcp_test_mpx_send_data (p20.socket, &far, 1, 100);
  mcp_test_mpx_send_data (p20.socket, &near, 2, 200);
  pull_expect (&f, &near_out, 2, 200);
  mcp_test_mpx_expect_data (p30.socket, p30.dec, &near_out, 2, 200);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-hops-exceeded"), 1);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-received"), 2);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-forwarded"), 1);
  peer_close (&p20);
  peer_close (&p30);
  router_stop (&f);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-out"), 1);
  router_teardown (&f);
}

GST_END_TEST;

/* What comes from this island never goes back out into it. */
GST_START_TEST (test_own_island_not_output)
{
  RouterFixture f;
  TestPeer p20;
  McpFrameMeta own = make_meta (ISLAND, 1, 0), other = make_meta (40, 1, 0);
  McpFrameMeta other_out = make_meta (40, 1, 1);

  router_setup (&f, "island-id=10");
  peer_connect (&f, &p20, 20, 1);
  mcp_test_mpx_send_data (p20.socket, &own, 1, 1316);
  mcp_test_mpx_send_data (p20.socket, &other, 2, 1316);
  pull_expect (&f, &other_out, 2, 1316);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-received"), 2);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-duplicate"), 0);
  peer_close (&p20);
  router_stop (&f);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-out"), 1);
  router_teardown (&f);
}

GST_END_TEST;

/* Two routers, B calling A: each island's datagrams come out of the
 * other. */
GST_START_TEST (test_two_routers)
{
  RouterFixture a, b;
  gchar *props, *ev, *want;
  guint64 seq0 = 0;
  guint i;

  router_setup (&a, "island-id=1");
  props = g_strdup_printf ("island-id=2 peers=127.0.0.1:%u "
      "reconnect-delay=10000000", a.port);
  router_setup (&b, props);
  g_free (props);
  mcp_test_events_wait (&a.added, 1);
  mcp_test_events_wait (&b.added, 1);
  ev = mcp_test_events_get (&a.added, 0);
  fail_unless (g_str_has_suffix (ev, "|2"), "%s", ev);
  g_free (ev);
  ev = mcp_test_events_get (&b.added, 0);
  want = g_strdup_printf ("127.0.0.1:%u|1", a.port);
  fail_unless_equals_string (ev, want);
  g_free (want);
  g_free (ev);

  /* A -> B, without metadata: A is the origin */
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    push_local (&a, NULL, i, mcp_test_sizes[i]);
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta got = pull_expect (&b, NULL, i, mcp_test_sizes[i]);

    fail_unless_equals_uint64 (got.origin_id, 1);
    fail_unless_equals_int (got.hops, 1);
    if (i == 0)
      seq0 = got.seq;
    fail_unless_equals_uint64 (got.seq, seq0 + i);
  }
  /* B -> A, with metadata */
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta m = make_meta (2, 300 + i, 0);

    push_local (&b, &m, 10 + i, mcp_test_sizes[i]);
  }
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    McpFrameMeta m = make_meta (2, 300 + i, 1);

    pull_expect (&a, &m, 10 + i, mcp_test_sizes[i]);
  }
  fail_unless_equals_uint64 (router_stat (&a, "island-id"), 1);
  fail_unless_equals_uint64 (router_stat (&b, "island-id"), 2);
  fail_unless_equals_uint64 (router_stat (&a, "datagrams-received"),
      MCP_N_TEST_SIZES);
  fail_unless_equals_uint64 (router_stat (&b, "datagrams-received"),
      MCP_N_TEST_SIZES);
  fail_unless_equals_uint64 (router_stat (&a, "bytes-received"),
      mcp_test_sizes_total ());
  fail_unless_equals_uint64 (router_stat (&b, "bytes-received"),
      mcp_test_sizes_total ());
  /* B called A */
  for (i = 0; i < 2; i++) {
    GstStructure *s = mcp_test_stats ((i ? &b : &a)->h->element,
        "tcpmeshrouter-stats");

    fail_unless_equals_int (mcp_test_stat_bool (mcp_test_stat_item (s,
                "client-list", 0), "caller"), i == 1);
    fail_unless_equals_uint64 (mcp_test_stat_field (s, "reconnects"), 0);
    gst_structure_free (s);
  }
  router_stop (&b);
  router_stop (&a);
  fail_unless_equals_uint64 (router_stat (&a, "datagrams-out"),
      MCP_N_TEST_SIZES);
  fail_unless_equals_uint64 (router_stat (&b, "datagrams-out"),
      MCP_N_TEST_SIZES);
  router_teardown (&b);
  router_teardown (&a);
}

GST_END_TEST;

/* Two links to one island: only the first carries data; the other takes
 * over when it goes. */
GST_START_TEST (test_one_link_per_peer)
{
  RouterFixture f;
  TestPeer older, newer;
  McpFrameMeta m1 = make_meta (ISLAND, 1, 0), m2 = make_meta (ISLAND, 2, 0);
  GstStructure *s;
  const GValue *list;
  guint i, standby = 0;

  router_setup (&f, "island-id=10");
  peer_connect (&f, &older, 20, 1);
  peer_connect (&f, &newer, 20, 2);
  s = mcp_test_stats (f.h->element, "tcpmeshrouter-stats");
  list = gst_structure_get_value (s, "client-list");
  fail_unless_equals_int (gst_value_array_get_size (list), 2);
  for (i = 0; i < 2; i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (list, i));
    gboolean sb = FALSE;
    guint64 id = 0;

    fail_unless (gst_structure_get_boolean (c, "standby", &sb));
    fail_unless (gst_structure_get_uint64 (c, "peer-id", &id));
    fail_unless_equals_uint64 (id, 20);
    standby += sb;
  }
  fail_unless_equals_int (standby, 1);
  gst_structure_free (s);

  push_local (&f, &m1, 1, 1316);
  mcp_test_mpx_expect_data (older.socket, older.dec, &m1, 1, 1316);
  peer_close (&older);
  mcp_test_events_wait (&f.removed, 1);
  push_local (&f, &m2, 2, 1316);
  /* the second's first datagram: it never had the one before */
  mcp_test_mpx_expect_data (newer.socket, newer.dec, &m2, 2, 1316);
  peer_close (&newer);
  router_stop (&f);
  fail_unless_equals_uint64 (router_stat (&f, "datagrams-sent"), 2);
  router_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_wrong_role_is_refused)
{
  RouterFixture f;
  GSocket *s;
  GBytes *hello = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, 20, NULL, NULL);
  gchar *ev;

  router_setup (&f, "island-id=10");
  s = mcp_test_tcp_connect (f.port);
  mcp_test_send_bytes (s, hello);
  g_bytes_unref (hello);
  fail_unless (mcp_test_wait_closed (s));
  mcp_test_events_wait (&f.removed, 1);
  ev = mcp_test_events_get (&f.removed, 0);
  fail_unless (strstr (ev, "needs a peer") != NULL, "%s", ev);
  g_free (ev);
  /* it never counted as a link */
  fail_unless_equals_int (f.added.count, 0);
  fail_unless_equals_uint64 (router_stat (&f, "clients-total"), 1);
  g_object_unref (s);
  router_teardown (&f);
}

GST_END_TEST;

static Suite *
tcpmeshrouter_suite (void)
{
  Suite *s = suite_create ("tcpmeshrouter");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_defaults_and_properties);
  tcase_add_test (tc, test_state_cycles_and_current_port);
  tcase_add_test (tc, test_invalid_peers_is_an_error);
  tcase_add_test (tc, test_local_to_every_peer);
  tcase_add_test (tc, test_peer_to_output_and_forward);
  tcase_add_test (tc, test_duplicate_over_two_paths);
  tcase_add_test (tc, test_hop_limit);
  tcase_add_test (tc, test_own_island_not_output);
  tcase_add_test (tc, test_two_routers);
  tcase_add_test (tc, test_one_link_per_peer);
  tcase_add_test (tc, test_wrong_role_is_refused);
  return s;
}

GST_CHECK_MAIN (tcpmeshrouter);
