/* mcastproxy — tcpmeshrouter element tests: the test plays mesh peers over
 * real TCP on loopback, and two routers link to each other. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "gstmcpmeta.h"
#include "gstmcpsubs.h"
#include "mcp-check-util.h"
#include "mcp-conn.h"
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

/* ---- subscriptions over the mesh --------------------------------------- */

/* Tells the router what its island's listeners want (text form; NULL: an
 * event with no peer at all, nobody wants anything), as tcpremcastsink
 * with a scope does: the upstream event on its src pad, peer id 0. */
static void
router_want (RouterFixture * f, const gchar * text)
{
  GArray *peers = gst_mcp_subs_peers_new ();

  if (text) {
    McpSubSet *set = mcp_sub_set_parse (text, NULL);

    fail_unless (set != NULL, "%s", text);
    gst_mcp_subs_peers_add (peers, 0, set);
    mcp_sub_set_free (set);
  }
  fail_unless (gst_harness_push_upstream_event (f->h,
          gst_mcp_subs_event_new (peers)));
  g_array_unref (peers);
}

/* The router's routes as "origin>next-hop/distance=set" joined by "; ". */
static gchar *
routes_string (RouterFixture * f)
{
  GstStructure *s = mcp_test_stats (f->h->element, "tcpmeshrouter-stats");
  GString *out = g_string_new (NULL);
  guint i, n = mcp_test_stat_count (s, "routes");

  for (i = 0; i < n; i++) {
    const GstStructure *r = mcp_test_stat_item (s, "routes", i);

    g_string_append_printf (out, "%s%" G_GUINT64_FORMAT ">%" G_GUINT64_FORMAT
        "/%u=%s", i ? "; " : "", mcp_test_stat_field (r, "origin"),
        mcp_test_stat_field (r, "next-hop"), mcp_test_stat_u32 (r,
            "distance"), gst_structure_get_string (r, "subscriptions"));
  }
  gst_structure_free (s);
  return g_string_free (out, FALSE);
}

static void
wait_routes (RouterFixture * f, const gchar * want)
{
  gint64 start = g_get_monotonic_time ();
  gchar *now;

  while (g_strcmp0 (now = routes_string (f), want) != 0) {
    fail_unless (g_get_monotonic_time () - start < MCP_TEST_TIMEOUT_US,
        "routes still \"%s\", not \"%s\"", now, want);
    g_free (now);
    g_usleep (2000);
  }
  g_free (now);
}

/* The client-list entry of the link to peer_id (NULL: none); s owns it. */
static const GstStructure *
link_item (const GstStructure * s, guint64 peer_id)
{
  guint i, n = mcp_test_stat_count (s, "client-list");

  for (i = 0; i < n; i++) {
    const GstStructure *c = mcp_test_stat_item (s, "client-list", i);

    if (mcp_test_stat_field (c, "peer-id") == peer_id)
      return c;
  }
  return NULL;
}

/* A counter of the link to peer_id, once that link has looked at every
 * datagram queued (lag 0), so that it is final for what was pushed. */
static guint64
link_stat (RouterFixture * f, guint64 peer_id, const gchar * field)
{
  gint64 start = g_get_monotonic_time ();

  for (;;) {
    GstStructure *s = mcp_test_stats (f->h->element, "tcpmeshrouter-stats");
    const GstStructure *c = link_item (s, peer_id);
    guint64 v;

    fail_unless (c != NULL, "no link to %" G_GUINT64_FORMAT, peer_id);
    if (mcp_test_stat_field (c, "lag-datagrams") == 0) {
      v = mcp_test_stat_field (c, field);
      gst_structure_free (s);
      return v;
    }
    gst_structure_free (s);
    fail_unless (g_get_monotonic_time () - start < MCP_TEST_TIMEOUT_US);
    g_usleep (2000);
  }
}

static const gchar *
link_string (RouterFixture * f, guint64 peer_id, const gchar * field,
    gchar ** out)
{
  GstStructure *s = mcp_test_stats (f->h->element, "tcpmeshrouter-stats");
  const GstStructure *c = link_item (s, peer_id);

  fail_unless (c != NULL);
  *out = g_strdup (gst_structure_get_string (c, field));
  gst_structure_free (s);
  return *out;
}

/* Datagram n of group 239.1.1.last:5000 from island origin. */
static void
push_group (RouterFixture * f, guint64 origin, guint64 seq, guint8 last,
    guint n)
{
  McpFrameMeta m;

  memset (&m, 0, sizeof (m));
  m.origin_id = origin;
  m.seq = seq;
  m.capture_time = 1000000 + seq;
  m.family = 4;
  m.port = 5000;
  m.group[0] = 239;
  m.group[1] = 1;
  m.group[2] = 1;
  m.group[3] = last;
  push_local (f, &m, n, 1316);
}

/* The next datagram out of the src pad is n, of group 239.1.1.last. */
static void
pull_group (RouterFixture * f, guint8 last, guint n)
{
  McpFrameMeta got = pull_expect (f, NULL, n, 1316);

  fail_unless_equals_int (got.group[3], last);
  fail_unless_equals_int (got.port, 5000);
}

static void
router_setup_id (RouterFixture * f, guint64 id, const gchar * peers)
{
  gchar *props = g_strdup_printf ("island-id=%" G_GUINT64_FORMAT
      " reconnect-delay=10000000 reconnect-max-delay=50000000%s%s", id,
      peers ? " peers=" : "", peers ? peers : "");

  router_setup (f, props);
  g_free (props);
}

#define N_DATAGRAMS 20

/* A - B - C, C wants 239.1.1.1:5000: A's .1 reaches B and C, its .2 no
 * link at all; withdrawn, A sends B nothing more. */
GST_START_TEST (test_subscriptions_line)
{
  RouterFixture a, b, c;
  gchar *peers, *text;
  guint i;

  router_setup_id (&a, 1, NULL);
  peers = g_strdup_printf ("127.0.0.1:%u", a.port);
  router_setup_id (&b, 2, peers);
  g_free (peers);
  peers = g_strdup_printf ("127.0.0.1:%u", b.port);
  router_setup_id (&c, 3, peers);
  g_free (peers);
  router_want (&a, NULL);
  router_want (&b, "");
  router_want (&c, "239.1.1.1:5000");
  mcp_test_events_wait (&b.added, 2);
  wait_routes (&a, "3>2/1=239.1.1.1:5000");
  wait_routes (&b, "3>3/0=239.1.1.1:5000");
  wait_routes (&c, "");
  fail_unless_equals_string (link_string (&a, 2, "subscriptions", &text),
      "239.1.1.1:5000");
  g_free (text);
  fail_unless_equals_string (link_string (&a, 2, "subscriptions-forwarded",
          &text), "239.1.1.1:5000");
  g_free (text);
  /* A asks nothing of B (A wants nothing, knows of no one else); C asks
   * its own wants */
  fail_unless_equals_string (link_string (&b, 1, "subscriptions", &text), "");
  g_free (text);
  fail_unless_equals_string (link_string (&b, 3, "subscriptions", &text),
      "239.1.1.1:5000");
  g_free (text);
  fail_unless_equals_string (link_string (&c, 2, "subscriptions", &text), "");
  g_free (text);

  for (i = 0; i < N_DATAGRAMS; i++) {
    push_group (&a, 1, 2 * i, 1, 2 * i);
    push_group (&a, 1, 2 * i + 1, 2, 2 * i + 1);
  }
  for (i = 0; i < N_DATAGRAMS; i++) {
    pull_group (&b, 1, 2 * i);
    pull_group (&c, 1, 2 * i);
  }
  fail_unless_equals_uint64 (link_stat (&a, 2, "datagrams-sent"), N_DATAGRAMS);
  fail_unless_equals_uint64 (link_stat (&b, 3, "datagrams-sent"), N_DATAGRAMS);
  fail_unless_equals_uint64 (link_stat (&b, 1, "datagrams-sent"), 0);
  fail_unless_equals_uint64 (link_stat (&c, 2, "datagrams-sent"), 0);

  /* withdrawn: nothing asked, nothing sent */
  router_want (&c, "");
  wait_routes (&a, "");
  wait_routes (&b, "");
  fail_unless_equals_string (link_string (&a, 2, "subscriptions", &text), "");
  g_free (text);
  for (i = 0; i < N_DATAGRAMS; i++)
    push_group (&a, 1, 100 + i, 1, 100 + i);
  fail_unless_equals_uint64 (link_stat (&a, 2, "datagrams-sent"), N_DATAGRAMS);
  /* and back */
  router_want (&c, "239.1.1.1:5000");
  wait_routes (&a, "3>2/1=239.1.1.1:5000");
  push_group (&a, 1, 200, 1, 200);
  pull_group (&b, 1, 200);
  pull_group (&c, 1, 200);
  fail_unless_equals_uint64 (link_stat (&a, 2, "datagrams-sent"),
      N_DATAGRAMS + 1);

  router_stop (&c);
  router_stop (&b);
  router_stop (&a);
  fail_unless_equals_uint64 (router_stat (&c, "datagrams-out"),
      N_DATAGRAMS + 1);
  fail_unless_equals_uint64 (router_stat (&b, "datagrams-out"),
      N_DATAGRAMS + 1);
  router_teardown (&c);
  router_teardown (&b);
  router_teardown (&a);
}

GST_END_TEST;

/* A TCP relay in front of a router's port, so that a test can cut one
 * link (and let it be called again later on the same port). */
typedef struct
{
  GSocket *listener;
  guint port, target;
  GThread *acceptor;
  GMutex lock;
  GPtrArray *sockets;
  GPtrArray *pumps;
} TcpProxy;

typedef struct
{
  GSocket *from, *to;
} Pump;

static gpointer
pump_run (gpointer data)
{
  Pump *p = data;
  gchar buf[16384];

  for (;;) {
    gssize n = g_socket_receive (p->from, buf, sizeof (buf), NULL, NULL);
    gssize off = 0;

    if (n <= 0)
      break;
    while (off < n) {
      gssize w = g_socket_send (p->to, buf + off, n - off, NULL, NULL);

      if (w <= 0)
        goto out;
      off += w;
    }
  }
out:
  g_socket_shutdown (p->from, TRUE, TRUE, NULL);
  g_socket_shutdown (p->to, TRUE, TRUE, NULL);
  g_free (p);
  return NULL;
}

static gpointer
proxy_accept (gpointer data)
{
  TcpProxy *x = data;

  for (;;) {
    GSocket *in = g_socket_accept (x->listener, NULL, NULL), *out;
    Pump *p1, *p2;

    if (!in)
      break;
    out = mcp_test_tcp_connect (x->target);
    g_socket_set_timeout (in, 0);
    g_socket_set_timeout (out, 0);
    p1 = g_new0 (Pump, 1);
    p2 = g_new0 (Pump, 1);
    p1->from = p2->to = in;
    p1->to = p2->from = out;
    g_mutex_lock (&x->lock);
    g_ptr_array_add (x->sockets, in);
    g_ptr_array_add (x->sockets, out);
    g_ptr_array_add (x->pumps, g_thread_new ("pump", pump_run, p1));
    g_ptr_array_add (x->pumps, g_thread_new ("pump", pump_run, p2));
    g_mutex_unlock (&x->lock);
  }
  return NULL;
}

/* port 0: a new one; else that one again. */
static void
proxy_start (TcpProxy * x, guint port, guint target)
{
  x->listener = mcp_test_tcp_listen (port);
  g_socket_set_timeout (x->listener, 0);
  x->port = mcp_test_local_port (x->listener);
  x->target = target;
  g_mutex_init (&x->lock);
  x->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  x->pumps = g_ptr_array_new ();
  x->acceptor = g_thread_new ("proxy", proxy_accept, x);
}

/* Cuts every connection and stops listening. */
static void
proxy_cut (TcpProxy * x)
{
  guint i;

  g_socket_shutdown (x->listener, TRUE, TRUE, NULL);
  g_thread_join (x->acceptor);
  g_mutex_lock (&x->lock);
  for (i = 0; i < x->sockets->len; i++)
    g_socket_shutdown (g_ptr_array_index (x->sockets, i), TRUE, TRUE, NULL);
  g_mutex_unlock (&x->lock);
  for (i = 0; i < x->pumps->len; i++)
    g_thread_join (g_ptr_array_index (x->pumps, i));
  g_ptr_array_unref (x->pumps);
  g_ptr_array_unref (x->sockets);
  g_object_unref (x->listener);
  g_mutex_clear (&x->lock);
}

/* Datagrams every link of a router of the ring sent so far, by peer id. */
static void
ring_link_counts (RouterFixture * r, guint64 out[5])
{
  guint64 id;

  memset (out, 0, sizeof (guint64) * 5);
  for (id = 1; id <= 4; id++) {
    GstStructure *s = mcp_test_stats (r->h->element, "tcpmeshrouter-stats");
    gboolean linked = link_item (s, id) != NULL;

    gst_structure_free (s);
    if (linked)
      out[id] = link_stat (r, id, "datagrams-sent");
  }
}

/* A ring of 4: A(1) - B(2) - C(3) - D(4) - A. C wants a group: A's
 * datagrams go A-B-C only, once each; cut B-C and they go A-D-C; the
 * want withdrawn, no link carries anything and no route is left. */
GST_START_TEST (test_subscriptions_ring)
{
  RouterFixture r[5];           /* 1..4 */
  TcpProxy bc;
  guint64 before[5][5], after[5][5];
  gchar *peers;
  guint i, id, seq = 0;

  router_setup_id (&r[4], 4, NULL);
  peers = g_strdup_printf ("127.0.0.1:%u", r[4].port);
  router_setup_id (&r[3], 3, peers);
  g_free (peers);
  /* B - C through the relay, so that the test can cut it */
  proxy_start (&bc, 0, r[3].port);
  peers = g_strdup_printf ("127.0.0.1:%u", bc.port);
  router_setup_id (&r[2], 2, peers);
  g_free (peers);
  peers = g_strdup_printf ("127.0.0.1:%u,127.0.0.1:%u", r[2].port, r[4].port);
  router_setup_id (&r[1], 1, peers);
  g_free (peers);
  for (id = 1; id <= 4; id++) {
    mcp_test_events_wait (&r[id].added, 2);
    router_want (&r[id], id == 3 ? "239.1.1.1:5000" : "");
  }
  /* both ways are 2 links from A: the lower id, B */
  wait_routes (&r[1], "3>2/1=239.1.1.1:5000");
  wait_routes (&r[2], "3>3/0=239.1.1.1:5000");
  wait_routes (&r[4], "3>3/0=239.1.1.1:5000");
  wait_routes (&r[3], "");

  for (id = 1; id <= 4; id++)
    ring_link_counts (&r[id], before[id]);
  for (i = 0; i < N_DATAGRAMS; i++, seq++) {
    push_group (&r[1], 1, seq, 1, seq);
    push_group (&r[1], 1, 1000 + seq, 2, 1000 + seq);
  }
  for (i = 0; i < N_DATAGRAMS; i++) {
    pull_group (&r[3], 1, i);
    pull_group (&r[2], 1, i);
  }
  for (id = 1; id <= 4; id++)
    ring_link_counts (&r[id], after[id]);
  /* exactly: A->B and B->C carried each .1 once, nothing else moved */
  for (id = 1; id <= 4; id++) {
    guint64 to;

    for (to = 1; to <= 4; to++) {
      guint64 want = (id == 1 && to == 2) || (id == 2 && to == 3) ?
          N_DATAGRAMS : 0;

      fail_unless_equals_uint64 (after[id][to] - before[id][to], want);
    }
  }

  /* cut B - C: re-routed over D */
  proxy_cut (&bc);
  wait_routes (&r[1], "3>4/1=239.1.1.1:5000");
  wait_routes (&r[2], "3>1/2=239.1.1.1:5000");
  for (id = 1; id <= 4; id++)
    ring_link_counts (&r[id], before[id]);
  for (i = 0; i < N_DATAGRAMS; i++, seq++)
    push_group (&r[1], 1, seq, 1, seq);
  for (i = 0; i < N_DATAGRAMS; i++) {
    pull_group (&r[3], 1, N_DATAGRAMS + i);
    pull_group (&r[4], 1, N_DATAGRAMS + i);
  }
  for (id = 1; id <= 4; id++)
    ring_link_counts (&r[id], after[id]);
  for (id = 1; id <= 4; id++) {
    guint64 to;

    for (to = 1; to <= 4; to++) {
      guint64 want = (id == 1 && to == 4) || (id == 4 && to == 3) ?
          N_DATAGRAMS : 0;

      fail_unless_equals_uint64 (after[id][to] - before[id][to], want);
    }
  }

  /* the link back (B calls C again), the ring whole again */
  proxy_start (&bc, bc.port, r[3].port);
  wait_routes (&r[1], "3>2/1=239.1.1.1:5000");
  wait_routes (&r[2], "3>3/0=239.1.1.1:5000");

  /* withdrawn: no route left anywhere in the cycle, no link carries it */
  router_want (&r[3], "");
  for (id = 1; id <= 4; id++)
    wait_routes (&r[id], "");
  for (id = 1; id <= 4; id++)
    ring_link_counts (&r[id], before[id]);
  for (i = 0; i < N_DATAGRAMS; i++, seq++) {
    push_group (&r[1], 1, seq, 1, seq);
    push_group (&r[2], 2, seq, 1, 5000 + seq);
    push_group (&r[4], 4, seq, 1, 6000 + seq);
  }
  for (id = 1; id <= 4; id++)
    ring_link_counts (&r[id], after[id]);
  for (id = 1; id <= 4; id++) {
    guint64 to;

    for (to = 1; to <= 4; to++)
      fail_unless_equals_uint64 (after[id][to] - before[id][to], 0);
  }

  for (id = 1; id <= 4; id++)
    router_stop (&r[id]);
  /* C: each datagram once */
  fail_unless_equals_uint64 (router_stat (&r[3], "datagrams-out"),
      2 * N_DATAGRAMS);
  fail_unless_equals_uint64 (router_stat (&r[3], "datagrams-duplicate"), 0);
  fail_unless_equals_uint64 (router_stat (&r[2], "datagrams-out"), N_DATAGRAMS);
  fail_unless_equals_uint64 (router_stat (&r[4], "datagrams-out"), N_DATAGRAMS);
  for (id = 1; id <= 4; id++)
    router_teardown (&r[id]);
  proxy_cut (&bc);
}

GST_END_TEST;

/* A peer naming more than MCP_CONN_MAX_SUB_ORIGINS origins is closed; the
 * other link goes on. */
GST_START_TEST (test_subscriptions_too_many_origins)
{
  RouterFixture f;
  TestPeer bad, good;
  McpSubSet *set = mcp_sub_set_parse ("239.1.1.1:5000", NULL);
  McpFrameMeta m = make_meta (ISLAND, 1, 0);
  GstStructure *s;
  gchar *ev;
  guint i;

  router_setup (&f, "island-id=10");
  router_want (&f, "");
  peer_connect (&f, &good, 20, 1);
  peer_connect (&f, &bad, 30, 2);
  for (i = 0; i < MCP_CONN_MAX_SUB_ORIGINS; i++) {
    GBytes *msg = mcp_mpx_build_subscribe_origin (set, FALSE, TRUE,
        1000 + i, 1);

    mcp_test_send_bytes (bad.socket, msg);
    g_bytes_unref (msg);
  }
  /* all 256 routed (each over the only link that named it) */
  for (;;) {
    guint n;

    s = mcp_test_stats (f.h->element, "tcpmeshrouter-stats");
    n = mcp_test_stat_count (s, "routes");
    gst_structure_free (s);
    /* 20 takes no part: it wants everything, as an origin of its own */
    if (n == MCP_CONN_MAX_SUB_ORIGINS + 1)
      break;
    g_usleep (2000);
  }
  {
    GBytes *msg = mcp_mpx_build_subscribe_origin (set, FALSE, FALSE,
        5000, 1);

    mcp_test_send_bytes (bad.socket, msg);
    g_bytes_unref (msg);
  }
  fail_unless (mcp_test_wait_closed (bad.socket));
  mcp_test_events_wait (&f.removed, 1);
  ev = mcp_test_events_get (&f.removed, 0);
  fail_unless (strstr (ev, "more than 256 origins") != NULL, "%s", ev);
  g_free (ev);
  wait_routes (&f, "20>20/0=0.0.0.0/0:1-65535 [::]/0:1-65535");
  /* the good link is still there */
  push_local (&f, &m, 1, 1316);
  mcp_test_mpx_expect_data (good.socket, good.dec, &m, 1, 1316);
  peer_close (&bad);

  /* two origins of 2100 entries each: more than 4096 in all */
  peer_connect (&f, &bad, 40, 2);
  for (i = 0; i < 2; i++) {
    McpSubSet *big = mcp_sub_set_new ();
    McpSubEntry e = { 4, 32, MCP_SUB_ANY, 5000, 5000, {239, 2, 0, 0}, 0,
    NULL
    };
    GBytes *msg;
    guint j;

    for (j = 0; j < 2100; j++) {
      e.group[1] = 2 + i;
      e.group[2] = j >> 8;
      e.group[3] = j & 0xff;
      fail_unless (mcp_sub_set_add (big, &e, NULL));
    }
    msg = mcp_mpx_build_subscribe_origin (big, FALSE, TRUE, 7000 + i, 1);
    mcp_test_send_bytes (bad.socket, msg);
    g_bytes_unref (msg);
    mcp_sub_set_free (big);
  }
  fail_unless (mcp_test_wait_closed (bad.socket));
  mcp_test_events_wait (&f.removed, 2);
  ev = mcp_test_events_get (&f.removed, 1);
  fail_unless (strstr (ev, "more than 4096 entries over all origins") != NULL,
      "%s", ev);
  g_free (ev);
  wait_routes (&f, "20>20/0=0.0.0.0/0:1-65535 [::]/0:1-65535");
  m = make_meta (ISLAND, 2, 0);
  push_local (&f, &m, 2, 1316);
  mcp_test_mpx_expect_data (good.socket, good.dec, &m, 2, 1316);
  peer_close (&good);
  peer_close (&bad);
  mcp_sub_set_free (set);
  router_teardown (&f);
}

GST_END_TEST;

/* The next SUBSCRIBE or UNSUBSCRIBE from the router (keepalives
 * skipped): its kind, REPLACE, origin, distance and entries as text. */
static void
expect_subscribe (TestPeer * p, McpDecodeResult kind, gboolean replace,
    guint64 origin, guint distance, const gchar * entries)
{
  McpMessage msg;
  McpDecodeResult r;
  McpSubSet *set = mcp_sub_set_new ();
  gchar *text;

  while ((r = mcp_test_mpx_read (p->socket, p->dec, &msg)) ==
      MCP_DECODE_KEEPALIVE);
  fail_unless_equals_int (r, kind);
  fail_unless_equals_int (msg.sub_replace, replace);
  fail_unless_equals_uint64 (msg.sub_origin, origin);
  fail_unless_equals_int (msg.sub_distance, distance);
  fail_unless (mcp_sub_set_apply_wire (set, msg.payload, msg.payload_len,
          FALSE, NULL));
  text = mcp_sub_set_to_string (set);
  fail_unless_equals_string (text, entries);
  g_free (text);
  mcp_sub_set_free (set);
}

/* Connects as a peer announcing features. */
static void
peer_connect_features (RouterFixture * f, TestPeer * p, guint64 id,
    guint32 features, guint n_added)
{
  GBytes *hello = mcp_mpx_build_hello_full (MCP_ROLE_PEER, id, NULL, "test",
      NULL, features);
  McpMessage msg;

  p->socket = mcp_test_tcp_connect (f->port);
  p->dec = mcp_decoder_new (MCP_FRAMING_MPX);
  mcp_test_send_bytes (p->socket, hello);
  g_bytes_unref (hello);
  fail_unless_equals_int (mcp_test_mpx_read (p->socket, p->dec, &msg),
      MCP_DECODE_HELLO);
  fail_unless_equals_uint64 (msg.hello.peer_id, ISLAND);
  fail_unless_equals_int (msg.hello.features,
      MCP_FEATURE_SUBSCRIPTIONS | MCP_FEATURE_SUB_ORIGINS);
  mcp_test_events_wait (&f->added, n_added);
}

static void
peer_send_subscribe (TestPeer * p, const gchar * text, gboolean unsubscribe,
    gboolean replace)
{
  McpSubSet *set = mcp_sub_set_parse (text, NULL);
  GBytes *msg = mcp_mpx_build_subscribe (set, unsubscribe, replace);

  mcp_test_send_bytes (p->socket, msg);
  g_bytes_unref (msg);
  mcp_sub_set_free (set);
}

/* What the router says to a peer that reads the extension, and to one that
 * takes part without it (the union, the old way); a datagram goes only
 * where it is routed. */
GST_START_TEST (test_subscriptions_to_peers)
{
  RouterFixture f;
  TestPeer plain, ext;
  McpFrameMeta m = make_meta (ISLAND, 1, 0);

  router_setup (&f, "island-id=10");
  router_want (&f, "239.1.1.1:5000");
  peer_connect_features (&f, &plain, 20, MCP_FEATURE_SUBSCRIPTIONS, 1);
  expect_subscribe (&plain, MCP_DECODE_SUBSCRIBE, TRUE, 0, 0, "239.1.1.1:5000");
  peer_connect_features (&f, &ext, 30,
      MCP_FEATURE_SUBSCRIPTIONS | MCP_FEATURE_SUB_ORIGINS, 2);
  expect_subscribe (&ext, MCP_DECODE_SUBSCRIBE, TRUE, ISLAND, 0,
      "239.1.1.1:5000");

  /* 20 wants .4 (its own, no extension): passed on to 30, one link on */
  peer_send_subscribe (&plain, "239.1.1.4:5004", FALSE, TRUE);
  expect_subscribe (&ext, MCP_DECODE_SUBSCRIBE, TRUE, 20, 1, "239.1.1.4:5004");
  wait_routes (&f, "20>20/0=239.1.1.4:5004");
  /* the elements upstream learn what the mesh wants of this island */
  {
    GstQuery *q = gst_mcp_subs_query_new ();
    GArray *peers;
    gchar *text;

    fail_unless (gst_pad_peer_query (f.h->srcpad, q));
    peers = gst_mcp_subs_query_parse (q);
    fail_unless (peers != NULL);
    fail_unless_equals_int (peers->len, 1);
    fail_unless_equals_uint64 (g_array_index (peers, GstMcpSubsPeer,
            0).peer_id, 20);
    text = mcp_sub_set_to_string (g_array_index (peers, GstMcpSubsPeer, 0).set);
    fail_unless_equals_string (text, "239.1.1.4:5004");
    g_free (text);
    g_array_unref (peers);
    gst_query_unref (q);
  }
  /* this island's 239.1.1.10:5004 is wanted by no one; .4 goes to 20 */
  push_local (&f, &m, 1, 1316);
  m = make_meta (4, 2, 0);
  push_local (&f, &m, 2, 1316);
  mcp_test_mpx_expect_data (plain.socket, plain.dec, &m, 2, 1316);
  fail_unless_equals_uint64 (link_stat (&f, 30, "datagrams-sent"), 0);
  fail_unless_equals_uint64 (link_stat (&f, 20, "datagrams-sent"), 1);

  /* withdrawn: an empty REPLACE of origin 20 */
  peer_send_subscribe (&plain, "239.1.1.4:5004", TRUE, FALSE);
  expect_subscribe (&ext, MCP_DECODE_SUBSCRIBE, TRUE, 20, 1, "");
  wait_routes (&f, "");
  /* ... and of its change: nobody wants anything now */
  {
    GstEvent *ev;
    GArray *peers;

    /* other upstream events (reconfigure) are not ours */
    for (;;) {
      ev = gst_harness_pull_upstream_event (f.h);
      fail_unless (ev != NULL);
      if ((peers = gst_mcp_subs_event_parse (ev)))
        break;
      GST_INFO ("skipping %" GST_PTR_FORMAT, ev);
      gst_event_unref (ev);
    }
    fail_unless_equals_int (peers->len, 0);
    g_array_unref (peers);
    gst_event_unref (ev);
  }
  /* our own wants change: 30 gets the change of origin 10, 20 the union's */
  router_want (&f, "239.1.1.2:5000");
  expect_subscribe (&ext, MCP_DECODE_UNSUBSCRIBE, FALSE, ISLAND, 0,
      "239.1.1.1:5000");
  expect_subscribe (&ext, MCP_DECODE_SUBSCRIBE, FALSE, ISLAND, 0,
      "239.1.1.2:5000");
  expect_subscribe (&plain, MCP_DECODE_UNSUBSCRIBE, FALSE, 0, 0,
      "239.1.1.1:5000");
  expect_subscribe (&plain, MCP_DECODE_SUBSCRIBE, FALSE, 0, 0,
      "239.1.1.2:5000");
  peer_close (&plain);
  peer_close (&ext);
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
  tcase_add_test (tc, test_subscriptions_line);
  tcase_add_test (tc, test_subscriptions_ring);
  tcase_add_test (tc, test_subscriptions_too_many_origins);
  tcase_add_test (tc, test_subscriptions_to_peers);
  return s;
}

GST_CHECK_MAIN (tcpmeshrouter);
