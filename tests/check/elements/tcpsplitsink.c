/* mcastproxy — tcpsplitsink element tests: real TCP clients on loopback. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "gstmcpmeta.h"
#include "gstmcpsubs.h"
#include "mcp-check-fixtures.h"
#include "mcp-ts.h"
#include "mcp-wire.h"

#define stat_u64 mcp_test_stat_field

static void
push_sizes (SinkFixture * f, guint base)
{
  guint i;

  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    fail_unless_equals_int (gst_harness_push (f->h,
            mcp_test_buffer (base + i, mcp_test_sizes[i])), GST_FLOW_OK);
}

/* An mpx receiver: sends its HELLO, returns a decoder holding the sink's
 * HELLO already checked. */
static McpDecoder *
mpx_client_handshake_id (GSocket * s, const gchar * expect_caps,
    guint64 peer_id)
{
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_MPX);
  GBytes *hello = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, peer_id, NULL,
      "test");
  McpMessage msg;
  GError *err = NULL;
  McpDecodeResult r;

  mcp_test_send_bytes (s, hello);
  g_bytes_unref (hello);
  while ((r = mcp_decoder_next (dec, &msg, &err)) == MCP_DECODE_NEED_MORE) {
    guint8 b;

    mcp_test_recv_exact (s, &b, 1);
    mcp_decoder_push (dec, &b, 1);
  }
  fail_unless_equals_int (r, MCP_DECODE_HELLO);
  fail_unless_equals_int (msg.hello.role, MCP_ROLE_SOURCE);
  fail_unless_equals_int (msg.hello.version_major, 1);
  if (expect_caps)
    fail_unless_equals_string (msg.hello.caps, expect_caps);
  return dec;
}

static McpDecoder *
mpx_client_handshake (GSocket * s, const gchar * expect_caps)
{
  return mpx_client_handshake_id (s, expect_caps, 77);
}

/* Reads the next mpx message, whatever it is. */
static McpDecodeResult
mpx_client_read (GSocket * s, McpDecoder * dec, McpMessage * msg)
{
  GError *err = NULL;
  McpDecodeResult r;

  while ((r = mcp_decoder_next (dec, msg, &err)) == MCP_DECODE_NEED_MORE) {
    guint8 buf[4096];
    gssize n = g_socket_receive (s, (gchar *) buf, sizeof (buf), NULL, &err);

    fail_unless (n > 0, "mpx client read failed");
    mcp_decoder_push (dec, buf, n);
  }
  return r;
}

/* Reads the next mpx message, which must be of the given kind. */
static void
mpx_client_next (GSocket * s, McpDecoder * dec, McpDecodeResult want,
    McpMessage * msg)
{
  fail_unless_equals_int (mpx_client_read (s, dec, msg), want);
}

/* ---- properties and states -------------------------------------------- */

GST_START_TEST (test_defaults_and_properties)
{
  GstElement *sink = gst_check_setup_element ("tcpsplitsink");
  gchar *host;
  guint port, max_clients;
  gint mode, framing, policy;
  guint64 max_bytes, max_time, detect, peer_id;
  gboolean sync, async, no_echo, one_per_peer;

  g_object_get (sink, "mode", &mode, "host", &host, "port", &port,
      "framing", &framing, "max-clients", &max_clients, "slow-client-policy",
      &policy, "max-queue-bytes", &max_bytes, "max-queue-time", &max_time,
      "detect-timeout", &detect, "peer-id", &peer_id, "sync", &sync,
      "async", &async, "no-echo", &no_echo, "one-per-peer", &one_per_peer,
      NULL);
  fail_unless (!async);
  fail_unless (no_echo);
  fail_unless (one_per_peer);
  fail_unless_equals_int (mode, 0);     /* listener */
  fail_unless (host == NULL);
  fail_unless_equals_int (port, 5100);
  fail_unless_equals_int (framing, 0);  /* auto */
  fail_unless_equals_int (max_clients, 0);
  fail_unless_equals_int (policy, 1);   /* resync */
  fail_unless_equals_uint64 (max_bytes, 4 * 1024 * 1024);
  fail_unless_equals_uint64 (max_time, 3 * GST_SECOND);
  fail_unless_equals_uint64 (detect, 300 * GST_MSECOND);
  fail_unless_equals_uint64 (peer_id, 0);
  fail_unless (!sync);

  gst_util_set_object_arg (G_OBJECT (sink), "mode", "caller");
  gst_util_set_object_arg (G_OBJECT (sink), "framing", "rfc4571");
  gst_util_set_object_arg (G_OBJECT (sink), "slow-client-policy", "drop");
  g_object_set (sink, "host", "192.0.2.7", "port", 4242, "max-clients", 9,
      "max-queue-bytes", (guint64) 1234, "max-queue-time", (guint64) 5678,
      "detect-timeout", (guint64) 11, "handshake-timeout", (guint64) 22,
      "reconnect-delay", (guint64) 3000000, "reconnect-max-delay",
      (guint64) 4000000, "peer-id", (guint64) 99, "stats-interval",
      (guint64) 44, NULL);
  g_free (host);
  g_object_get (sink, "mode", &mode, "host", &host, "port", &port,
      "framing", &framing, "max-clients", &max_clients, "slow-client-policy",
      &policy, "max-queue-bytes", &max_bytes, "max-queue-time", &max_time,
      "detect-timeout", &detect, "peer-id", &peer_id, NULL);
  fail_unless_equals_int (mode, 1);
  fail_unless_equals_string (host, "192.0.2.7");
  fail_unless_equals_int (port, 4242);
  fail_unless_equals_int (framing, 2);
  fail_unless_equals_int (max_clients, 9);
  fail_unless_equals_int (policy, 0);
  fail_unless_equals_uint64 (max_bytes, 1234);
  fail_unless_equals_uint64 (max_time, 5678);
  fail_unless_equals_uint64 (detect, 11);
  fail_unless_equals_uint64 (peer_id, 99);
  g_free (host);
  gst_check_teardown_element (sink);
}

GST_END_TEST;

GST_START_TEST (test_state_cycles_and_current_port)
{
  GstElement *sink = gst_check_setup_element ("tcpsplitsink");
  guint port, i;

  g_object_set (sink, "port", 0, NULL);
  for (i = 0; i < 3; i++) {
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (sink, "current-port", &port, NULL);
    fail_unless (port > 0);
    /* the port takes connections from READY on */
    g_object_unref (mcp_test_tcp_connect (port));
    fail_unless (gst_element_set_state (sink, GST_STATE_PLAYING) !=
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    g_object_get (sink, "current-port", &port, NULL);
    fail_unless_equals_int (port, 0);
  }
  gst_check_teardown_element (sink);
}

GST_END_TEST;

/* A listener whose port is taken fails at NULL->READY with an error. */
GST_START_TEST (test_port_in_use_is_an_error)
{
  GSocket *blocker = mcp_test_tcp_listen (0);
  GstElement *sink = gst_check_setup_element ("tcpsplitsink");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (sink, bus);
  g_object_set (sink, "host", "127.0.0.1", "port",
      mcp_test_local_port (blocker), NULL);
  fail_unless_equals_int (gst_element_set_state (sink, GST_STATE_READY),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, "listen") != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_bus (sink, NULL);
  gst_object_unref (bus);
  gst_check_teardown_element (sink);
  g_object_unref (blocker);
}

GST_END_TEST;

/* ---- framings ---------------------------------------------------------- */

GST_START_TEST (test_raw_clients_get_every_byte)
{
  SinkFixture f;
  GSocket *c[2];
  gsize total = 0, i, off;
  guint8 *buf;
  guint k;

  sink_setup (&f, "framing=raw");
  for (k = 0; k < 2; k++)
    c[k] = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 2);
  push_sizes (&f, 0);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    total += mcp_test_sizes[i];
  buf = g_malloc (total);
  for (k = 0; k < 2; k++) {
    mcp_test_recv_exact (c[k], buf, total);
    for (i = 0, off = 0; i < MCP_N_TEST_SIZES; off += mcp_test_sizes[i], i++)
      fail_unless (mcp_test_check_bytes (i, buf + off, mcp_test_sizes[i]));
    g_object_unref (c[k]);
  }
  g_free (buf);
  mcp_test_events_wait (&f.removed, 2);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_rfc4571_keeps_boundaries)
{
  SinkFixture f;
  GSocket *c;
  guint8 *buf = g_malloc (65536);
  guint8 hdr[2];
  guint i;
  gchar *ev;

  sink_setup (&f, "framing=rfc4571");
  c = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 1);
  ev = mcp_test_events_get (&f.added, 0);
  fail_unless (g_str_has_suffix (ev, "|rfc4571"), "%s", ev);
  g_free (ev);
  push_sizes (&f, 10);
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    guint len;

    mcp_test_recv_exact (c, hdr, 2);
    len = (hdr[0] << 8) | hdr[1];
    fail_unless_equals_int (len, mcp_test_sizes[i]);
    mcp_test_recv_exact (c, buf, len);
    fail_unless (mcp_test_check_bytes (10 + i, buf, len));
  }
  g_object_unref (c);
  g_free (buf);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_mpx_carries_metadata_and_caps)
{
  SinkFixture f;
  GSocket *c;
  McpDecoder *dec;
  McpMessage msg;
  McpFrameMeta in = { 0 };
  GstBuffer *buf;
  guint64 seq0 = 0;
  guint i;

  sink_setup (&f, "framing=mpx peer-id=4660");
  c = mcp_test_tcp_connect (f.port);
  dec = mpx_client_handshake (c, "application/x-test, n=(int)1");
  mcp_test_events_wait (&f.added, 1);

  /* without metadata: origin is the sink, sequence counts on from a
   * random epoch in the top 24 bits */
  push_sizes (&f, 0);
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    mpx_client_next (c, dec, MCP_DECODE_DATA, &msg);
    fail_unless_equals_uint64 (msg.payload_len, mcp_test_sizes[i]);
    fail_unless (mcp_test_check_bytes (i, msg.payload, msg.payload_len));
    fail_unless_equals_uint64 (msg.meta.origin_id, 4660);
    if (i == 0) {
      seq0 = msg.meta.seq;
      fail_unless_equals_uint64 (seq0 & G_GUINT64_CONSTANT (0xffffffffff), 0);
    }
    fail_unless_equals_uint64 (msg.meta.seq, seq0 + i);
    fail_unless_equals_int (msg.meta.hops, 0);
    fail_unless_equals_int (msg.meta.family, 0);
    fail_unless (msg.meta.capture_time > 0);
  }

  /* with metadata: passed on as it is */
  in.origin_id = G_GUINT64_CONSTANT (0x0102030405060708);
  in.seq = 123456789;
  in.capture_time = 42;
  in.hops = 3;
  in.family = 4;
  in.port = 5004;
  in.group[0] = 239;
  in.group[3] = 7;
  buf = mcp_test_buffer (99, 1316);
  gst_buffer_add_mcp_meta (buf, &in);
  fail_unless_equals_int (gst_harness_push (f.h, buf), GST_FLOW_OK);
  mpx_client_next (c, dec, MCP_DECODE_DATA, &msg);
  fail_unless (memcmp (&msg.meta, &in, sizeof (in)) == 0);
  fail_unless (mcp_test_check_bytes (99, msg.payload, 1316));

  /* a caps change travels in-band, before the next datagram */
  gst_harness_set_src_caps_str (f.h, "application/x-test, n=(int)2");
  fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (5, 10)),
      GST_FLOW_OK);
  mpx_client_next (c, dec, MCP_DECODE_CAPS, &msg);
  fail_unless_equals_string (msg.caps, "application/x-test, n=(int)2");
  mpx_client_next (c, dec, MCP_DECODE_DATA, &msg);
  fail_unless (mcp_test_check_bytes (5, msg.payload, 10));

  mcp_decoder_free (dec);
  g_object_unref (c);
  sink_teardown (&f);
}

GST_END_TEST;

/* framing=auto: one port serves a silent player, a talking player and an
 * mpx peer, each in its own framing. */
GST_START_TEST (test_auto_detects_each_client)
{
  SinkFixture f;
  GSocket *silent, *talker, *mpx;
  McpDecoder *dec;
  McpMessage msg;
  const gchar get[] = "hello?\r\n\r\n";
  guint8 buf[1316];
  guint i, raw = 0, mpxn = 0;

  sink_setup (&f, "detect-timeout=50000000");
  silent = mcp_test_tcp_connect (f.port);
  talker = mcp_test_tcp_connect (f.port);
  mcp_test_send_all (talker, get, strlen (get));
  mpx = mcp_test_tcp_connect (f.port);
  dec = mpx_client_handshake (mpx, NULL);
  mcp_test_events_wait (&f.added, 3);
  for (i = 0; i < 3; i++) {
    gchar *ev = mcp_test_events_get (&f.added, i);

    if (g_str_has_suffix (ev, "|raw"))
      raw++;
    else if (g_str_has_suffix (ev, "|mpx"))
      mpxn++;
    g_free (ev);
  }
  fail_unless_equals_int (raw, 2);
  fail_unless_equals_int (mpxn, 1);

  fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (1, 1316)),
      GST_FLOW_OK);
  mcp_test_recv_exact (silent, buf, 1316);
  fail_unless (mcp_test_check_bytes (1, buf, 1316));
  mcp_test_recv_exact (talker, buf, 1316);
  fail_unless (mcp_test_check_bytes (1, buf, 1316));
  mpx_client_next (mpx, dec, MCP_DECODE_DATA, &msg);
  fail_unless (mcp_test_check_bytes (1, msg.payload, 1316));

  mcp_decoder_free (dec);
  g_object_unref (silent);
  g_object_unref (talker);
  g_object_unref (mpx);
  sink_teardown (&f);
}

GST_END_TEST;

/* ---- bad peers --------------------------------------------------------- */

typedef struct
{
  const gchar *name;
  const guint8 *bytes;
  gsize len;
  gboolean close_after;         /* hang up after sending */
  const gchar *reason;          /* expected in client-removed */
} BadInput;

GST_START_TEST (test_malformed_input_closes_only_that_client)
{
  static const guint8 bad_magic[] = "\x89MPY\x01\x00\x00\x00";
  static const guint8 bad_version[] = "\x89MPX\x02\x00\x00\x00";
  /* valid preamble, then a HELLO claiming a 4 GiB payload */
  static const guint8 huge[] = "\x89MPX\x01\x00\x00\x00" "H\x00\x00\x0c"
      "\xff\xff\xff\xff";
  /* valid preamble, then half a message header and a hang-up */
  static const guint8 truncated[] = "\x89MPX\x01\x00\x00\x00" "H\x00";
  static const guint8 garbage[] = "\x89MPX\x01\x00\x00\x00" "Z\x00\x00\x00"
      "\x00\x00\x00\x00";
  const BadInput cases[] = {
    {"bad magic", bad_magic, 8, FALSE, "not an mpx peer"},
    {"wrong version", bad_version, 8, FALSE, "version 2.0"},
    {"impossible length", huge, 16, FALSE, "4294967295-byte payload"},
    {"truncated", truncated, 10, TRUE, "closed inside a message header"},
    {"garbage", garbage, 16, FALSE, "unknown message type 0x5a"},
  };
  SinkFixture f;
  GSocket *good;
  McpDecoder *dec;
  McpMessage msg;
  guint64 seq0 = 0;
  guint i, n;

  sink_setup (&f, "framing=mpx");
  good = mcp_test_tcp_connect (f.port);
  dec = mpx_client_handshake (good, NULL);
  mcp_test_events_wait (&f.added, 1);

  for (i = 0, n = 0; i < G_N_ELEMENTS (cases); i++) {
    GSocket *bad = mcp_test_tcp_connect (f.port);
    gchar *ev;

    mcp_test_send_all (bad, cases[i].bytes, cases[i].len);
    if (cases[i].close_after)
      g_socket_shutdown (bad, FALSE, TRUE, NULL);
    fail_unless (mcp_test_wait_closed (bad), "%s: not closed", cases[i].name);
    mcp_test_events_wait (&f.removed, i + 1);
    ev = mcp_test_events_get (&f.removed, i);
    fail_unless (strstr (ev, cases[i].reason) != NULL, "%s: reason '%s'",
        cases[i].name, ev);
    g_free (ev);
    g_object_unref (bad);

    /* the good client goes on without losing a datagram */
    fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (i,
                100 + i)), GST_FLOW_OK);
    mpx_client_next (good, dec, MCP_DECODE_DATA, &msg);
    if (i == 0)
      seq0 = msg.meta.seq;
    fail_unless_equals_uint64 (msg.meta.seq, seq0 + n++);
    fail_unless (mcp_test_check_bytes (i, msg.payload, 100 + i));
  }
  mcp_decoder_free (dec);
  g_object_unref (good);
  sink_teardown (&f);
}

GST_END_TEST;

/* A source connecting to a port that serves receivers is told off. */
GST_START_TEST (test_wrong_role_is_refused)
{
  SinkFixture f;
  GSocket *c;
  GBytes *hello = mcp_mpx_build_hello (MCP_ROLE_SOURCE, 1, NULL, NULL);
  gchar *ev;

  sink_setup (&f, "framing=auto");
  c = mcp_test_tcp_connect (f.port);
  mcp_test_send_bytes (c, hello);
  fail_unless (mcp_test_wait_closed (c));
  mcp_test_events_wait (&f.removed, 1);
  ev = mcp_test_events_get (&f.removed, 0);
  fail_unless (strstr (ev, "peer announced itself as a source") != NULL,
      "%s", ev);
  g_free (ev);
  g_bytes_unref (hello);
  g_object_unref (c);
  sink_teardown (&f);
}

GST_END_TEST;

/* An mpx peer that never finishes its HELLO loses its slot. */
GST_START_TEST (test_handshake_timeout)
{
  SinkFixture f;
  GSocket *c;
  gchar *ev;

  sink_setup (&f, "framing=mpx handshake-timeout=100000000");
  c = mcp_test_tcp_connect (f.port);
  mcp_test_send_all (c, "\x89MPX", 4);
  fail_unless (mcp_test_wait_closed (c));
  mcp_test_events_wait (&f.removed, 1);
  ev = mcp_test_events_get (&f.removed, 0);
  fail_unless (strstr (ev, "no mpx HELLO within 100 ms") != NULL, "%s", ev);
  g_free (ev);
  g_object_unref (c);
  sink_teardown (&f);
}

GST_END_TEST;

/* ---- many clients ------------------------------------------------------ */

GST_START_TEST (test_client_leaves_others_continue)
{
  SinkFixture f;
  GSocket *c[3];
  guint8 buf[200];
  guint i, k;
  GstStructure *s;

  sink_setup (&f, "framing=rfc4571");
  for (k = 0; k < 3; k++)
    c[k] = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 3);

  for (i = 0; i < 20; i++) {
    fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (i, 198)),
        GST_FLOW_OK);
    for (k = 0; k < 3; k++) {
      if (!c[k])
        continue;
      mcp_test_recv_exact (c[k], buf, 200);
      fail_unless_equals_int (buf[1], 198);
      fail_unless (mcp_test_check_bytes (i, buf + 2, 198));
    }
    if (i == 9) {
      /* client 1 leaves in the middle */
      g_object_unref (c[1]);
      c[1] = NULL;
      mcp_test_events_wait (&f.removed, 1);
    }
  }
  s = sink_stats (&f);
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-in"), 20);
  fail_unless_equals_uint64 (stat_u64 (s, "clients-total"), 3);
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-sent"), 20 * 2 + 10);
  fail_unless_equals_uint64 (stat_u64 (s, "bytes-sent"), (20 * 2 + 10) * 200);
  fail_unless_equals_uint64 (stat_u64 (s, "reconnects"), 0);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (s, "client-list")), 2);
  for (k = 0; k < 2; k++) {
    const GstStructure *cl = mcp_test_stat_item (s, "client-list", k);

    /* it received all 20: nothing is left for it */
    fail_unless_equals_string (gst_structure_get_string (cl, "framing"),
        "rfc4571");
    fail_unless_equals_uint64 (stat_u64 (cl, "datagrams-sent"), 20);
    fail_unless_equals_uint64 (stat_u64 (cl, "bytes-sent"), 20 * 200);
    fail_unless_equals_uint64 (stat_u64 (cl, "lag-datagrams"), 0);
    fail_unless_equals_uint64 (stat_u64 (cl, "lag-bytes"), 0);
    fail_unless_equals_uint64 (stat_u64 (cl, "lag-time"), 0);
    fail_unless_equals_uint64 (stat_u64 (cl, "bytes-received"), 0);
    fail_unless (stat_u64 (cl, "connect-duration") > 0);
    fail_if (mcp_test_stat_bool (cl, "write-blocked"));
    fail_if (mcp_test_stat_bool (cl, "caller"));
  }
  gst_structure_free (s);
  g_object_unref (c[0]);
  g_object_unref (c[2]);
  sink_teardown (&f);
}

GST_END_TEST;

/* More clients than the pushing thread serves itself (4): the network
 * thread writes to them in coalesced passes; each still gets everything,
 * in order, once. */
GST_START_TEST (test_many_clients_in_passes)
{
  SinkFixture f;
  GSocket *c[9];
  guint8 buf[200];
  guint i, k, n = 9, count = 300;
  GstStructure *s;

  sink_setup (&f, "framing=rfc4571");
  for (k = 0; k < n; k++)
    c[k] = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, n);

  for (i = 0; i < count; i++)
    fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (i, 198)),
        GST_FLOW_OK);
  for (k = 0; k < n; k++) {
    for (i = 0; i < count; i++) {
      mcp_test_recv_exact (c[k], buf, 200);
      fail_unless_equals_int (buf[1], 198);
      fail_unless (mcp_test_check_bytes (i, buf + 2, 198),
          "client %u, datagram %u", k, i);
    }
  }
  s = sink_stats (&f);
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-sent"), n * count);
  fail_unless_equals_uint64 (stat_u64 (s, "dropped-resync"), 0);
  gst_structure_free (s);
  for (k = 0; k < n; k++)
    g_object_unref (c[k]);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_max_clients)
{
  SinkFixture f;
  GSocket *c[3];
  GstStructure *s;
  guint8 b;

  sink_setup (&f, "framing=raw max-clients=2");
  c[0] = mcp_test_tcp_connect (f.port);
  c[1] = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 2);
  c[2] = mcp_test_tcp_connect (f.port);
  fail_unless (mcp_test_wait_closed (c[2]));
  s = sink_stats (&f);
  fail_unless_equals_uint64 (stat_u64 (s, "refused-limit"), 1);
  gst_structure_free (s);
  fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (0, 1)),
      GST_FLOW_OK);
  mcp_test_recv_exact (c[0], &b, 1);
  mcp_test_recv_exact (c[1], &b, 1);
  g_object_unref (c[0]);
  g_object_unref (c[1]);
  g_object_unref (c[2]);
  sink_teardown (&f);
}

GST_END_TEST;

/* Reads datagram n (1316 bytes, rfc4571) from a client. */
static void
expect_rfc4571 (GSocket * c, guint n)
{
  guint8 buf[1318];

  mcp_test_recv_exact (c, buf, sizeof (buf));
  fail_unless_equals_int ((buf[0] << 8) | buf[1], 1316);
  fail_unless (mcp_test_check_bytes (n, buf + 2, 1316), "datagram %u", n);
}

/* A refused connection: closed at once, counted. */
static void
expect_refused (SinkFixture * f, guint64 refused)
{
  GSocket *c = mcp_test_tcp_connect (f->port);
  GstStructure *s;

  fail_unless (mcp_test_wait_closed (c));
  g_object_unref (c);
  s = sink_stats (f);
  fail_unless_equals_uint64 (stat_u64 (s, "refused-limit"), refused);
  gst_structure_free (s);
}

/* max-clients changed while PLAYING, as a reload does: lowered to 1 with
 * two clients streaming, both stay and miss nothing, a new one is refused
 * (also once only one is left: the count must go below the limit); raised
 * again, the next one is taken. */
GST_START_TEST (test_max_clients_changed_while_playing)
{
  SinkFixture f;
  GSocket *c[3] = { NULL, NULL, NULL };
  GstStructure *s;
  guint i, k, max = 0;

  sink_setup (&f, "framing=rfc4571");
  c[0] = mcp_test_tcp_connect (f.port);
  c[1] = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 2);

  for (i = 0; i < 30; i++) {
    if (i == 10)
      expect_refused (&f, 1);
    if (i == 15) {
      g_object_unref (c[1]);
      c[1] = NULL;
      mcp_test_events_wait (&f.removed, 1);
      expect_refused (&f, 2);
    }
    if (i == 20) {
      g_object_set (f.h->element, "max-clients", 2, NULL);
      c[2] = mcp_test_tcp_connect (f.port);
      mcp_test_events_wait (&f.added, 3);
    }
    fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (i,
                1316)), GST_FLOW_OK);
    if (i == 5) {
      /* while datagram 5 is on its way to the clients */
      g_object_set (f.h->element, "max-clients", 1, NULL);
      g_object_get (f.h->element, "max-clients", &max, NULL);
      fail_unless_equals_int (max, 1);
    }
    for (k = 0; k < 3; k++)
      if (c[k])
        expect_rfc4571 (c[k], i);
  }

  s = sink_stats (&f);
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-in"), 30);
  /* 30 + 15 + 10: nobody missed one */
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-sent"), 55);
  fail_unless_equals_uint64 (stat_u64 (s, "bytes-sent"), 55 * 1318);
  fail_unless_equals_uint64 (stat_u64 (s, "dropped-resync"), 0);
  fail_unless_equals_uint64 (stat_u64 (s, "clients-total"), 3);
  fail_unless_equals_uint64 (stat_u64 (s, "refused-limit"), 2);
  fail_unless_equals_int (mcp_test_stat_count (s, "client-list"), 2);
  gst_structure_free (s);
  fail_unless_equals_int (f.removed.count, 1);
  g_object_unref (c[0]);
  g_object_unref (c[2]);
  sink_teardown (&f);
}

GST_END_TEST;

/* A reader thread for the fast client: counts datagrams as they arrive. */
typedef struct
{
  GSocket *socket;
  GMutex lock;
  GCond cond;
  guint received;
  gboolean ok;
} FastReader;

static gpointer
fast_reader (gpointer data)
{
  FastReader *r = data;
  guint8 buf[1400];

  for (;;) {
    guint8 hdr[2];
    guint len;
    GError *err = NULL;
    gssize n = g_socket_receive (r->socket, (gchar *) hdr, 2, NULL, &err);

    if (n <= 0) {
      g_clear_error (&err);
      break;
    }
    if (n == 1)
      mcp_test_recv_exact (r->socket, hdr + 1, 1);
    len = (hdr[0] << 8) | hdr[1];
    mcp_test_recv_exact (r->socket, buf, len);
    g_mutex_lock (&r->lock);
    if (len != 1316 || !mcp_test_check_bytes (r->received, buf, len))
      r->ok = FALSE;
    r->received++;
    g_cond_broadcast (&r->cond);
    g_mutex_unlock (&r->lock);
  }
  return NULL;
}

static void
fast_reader_wait (FastReader * r, guint n)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  g_mutex_lock (&r->lock);
  while (r->received < n)
    fail_unless (g_cond_wait_until (&r->cond, &r->lock, end),
        "fast client stalled at %u of %u", r->received, n);
  g_mutex_unlock (&r->lock);
}

/* A client that stops reading falls behind and gets the policy; the fast
 * client receives every datagram all the same. */
static void
run_slow_client (const gchar * policy)
{
  SinkFixture f;
  FastReader r = { 0 };
  GSocket *slow;
  GThread *thread;
  GstStructure *s;
  guint i, total = 20000;
  gchar *props = g_strdup_printf ("framing=rfc4571 max-queue-bytes=262144 "
      "slow-client-policy=%s", policy);

  sink_setup (&f, props);
  g_free (props);
  slow = mcp_test_tcp_connect (f.port);
  r.socket = mcp_test_tcp_connect (f.port);
  r.ok = TRUE;
  g_mutex_init (&r.lock);
  g_cond_init (&r.cond);
  mcp_test_events_wait (&f.added, 2);
  thread = g_thread_new ("fast-reader", fast_reader, &r);

  /* 20000 x 1316 bytes (26 MB): far more than the slow client's socket
   * buffers (at most ~10 MB on loopback) and the 256 KiB queue limit can
   * hold. Paced by the fast client, so that only the slow one can fall
   * behind. */
  for (i = 0; i < total; i++) {
    fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (i,
                1316)), GST_FLOW_OK);
    if (i % 50 == 49)
      fast_reader_wait (&r, i + 1);
  }
  fast_reader_wait (&r, total);
  fail_unless (r.ok, "fast client got a wrong datagram");

  s = sink_stats (&f);
  if (g_str_equal (policy, "drop")) {
    gchar *ev;

    mcp_test_events_wait (&f.removed, 1);
    ev = mcp_test_events_get (&f.removed, 0);
    fail_unless (strstr (ev, "too slow") != NULL, "%s", ev);
    g_free (ev);
    fail_unless_equals_uint64 (stat_u64 (s, "clients-dropped"), 1);
    fail_unless (mcp_test_wait_closed (slow));
  } else {
    guint8 hdr[2], buf[1316];
    guint got = 0;

    fail_unless (stat_u64 (s, "dropped-resync") > 0);
    fail_unless_equals_uint64 (stat_u64 (s, "clients-dropped"), 0);
    /* the slow client is blocked and behind, the fast one caught up */
    for (i = 0; i < 2; i++) {
      const GstStructure *c = mcp_test_stat_item (s, "client-list", i);

      if (stat_u64 (c, "datagrams-sent") == total) {
        fail_unless_equals_uint64 (stat_u64 (c, "lag-datagrams"), 0);
        fail_unless_equals_uint64 (stat_u64 (c, "lag-bytes"), 0);
        fail_unless_equals_uint64 (stat_u64 (c, "lag-time"), 0);
        fail_unless_equals_uint64 (stat_u64 (c, "buffers-dropped"), 0);
      } else {
        fail_unless (mcp_test_stat_bool (c, "write-blocked"));
        fail_unless (stat_u64 (c, "lag-datagrams") > 0);
        fail_unless (stat_u64 (c, "lag-bytes") >= 1316);
        fail_unless (stat_u64 (c, "lag-time") > 0);
        fail_unless (stat_u64 (c, "buffers-dropped") > 0);
      }
    }
    /* what the slow client does get is whole datagrams */
    for (got = 0; got < 200; got++) {
      mcp_test_recv_exact (slow, hdr, 2);
      fail_unless_equals_int ((hdr[0] << 8) | hdr[1], 1316);
      mcp_test_recv_exact (slow, buf, 1316);
    }
  }
  /* memory stayed bounded: the queue never holds more than its limit */
  fail_unless (stat_u64 (s, "queue-bytes") <= 262144);
  gst_structure_free (s);

  g_object_unref (slow);
  g_socket_shutdown (r.socket, TRUE, TRUE, NULL);
  g_thread_join (thread);
  g_object_unref (r.socket);
  g_mutex_clear (&r.lock);
  g_cond_clear (&r.cond);
  sink_teardown (&f);
}

GST_START_TEST (test_slow_client_dropped)
{
  run_slow_client ("drop");
}

GST_END_TEST;

GST_START_TEST (test_slow_client_resynced)
{
  run_slow_client ("resync");
}

GST_END_TEST;

/* ---- caller ------------------------------------------------------------ */

static void
run_caller_reconnect (const gchar * framing)
{
  SinkFixture f;
  GSocket *listener, *peer;
  GstStructure *s;
  guint port, round, i;
  gboolean mpx = g_str_equal (framing, "mpx");
  gchar *props;

  listener = mcp_test_tcp_listen (0);
  port = mcp_test_local_port (listener);
  props = g_strdup_printf ("mode=caller host=127.0.0.1 port=%u framing=%s "
      "reconnect-delay=10000000", port, framing);
  sink_setup (&f, props);
  g_free (props);

  for (round = 0; round < 2; round++) {
    McpDecoder *dec = NULL;
    McpMessage msg;

    peer = mcp_test_tcp_accept (listener);
    if (mpx) {
      GBytes *hello = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, 5, NULL, NULL);
      GError *err = NULL;

      mcp_test_send_bytes (peer, hello);
      g_bytes_unref (hello);
      dec = mcp_decoder_new (MCP_FRAMING_MPX);
      mpx_client_next (peer, dec, MCP_DECODE_HELLO, &msg);
      fail_unless_equals_int (msg.hello.role, MCP_ROLE_SOURCE);
      (void) err;
    }
    mcp_test_events_wait (&f.added, round + 1);
    for (i = 0; i < MCP_N_TEST_SIZES; i++) {
      gsize size = mcp_test_sizes[i];

      fail_unless_equals_int (gst_harness_push (f.h,
              mcp_test_buffer (i, size)), GST_FLOW_OK);
      if (mpx) {
        McpDecodeResult r = mpx_client_read (peer, dec, &msg);

        /* caps that came after the sink's HELLO follow in-band */
        if (r == MCP_DECODE_CAPS && i == 0)
          r = mpx_client_read (peer, dec, &msg);
        fail_unless_equals_int (r, MCP_DECODE_DATA);
        fail_unless_equals_uint64 (msg.payload_len, size);
        fail_unless (mcp_test_check_bytes (i, msg.payload, size));
      } else {
        guint8 *buf = g_malloc (size + 1);

        mcp_test_recv_exact (peer, buf, size);
        fail_unless (mcp_test_check_bytes (i, buf, size));
        g_free (buf);
      }
    }
    mcp_decoder_free (dec);

    /* the far end goes away: listener first, so that no reconnect can
     * land before the new one is up (nor, after the last round, before
     * the statistics are read) */
    g_clear_object (&listener);
    g_object_unref (peer);
    mcp_test_events_wait (&f.removed, round + 1);
    if (round == 0) {
      /* nobody there: what arrives now is dropped and counted */
      for (i = 0; i < 7; i++)
        fail_unless_equals_int (gst_harness_push (f.h,
                mcp_test_buffer (i, 100)), GST_FLOW_OK);
      listener = mcp_test_tcp_listen (port);
    }
  }
  s = sink_stats (&f);
  fail_unless_equals_uint64 (stat_u64 (s, "connects"), 2);
  /* both connections were lost while running */
  fail_unless_equals_uint64 (stat_u64 (s, "reconnects"), 2);
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-dropped"), 7);
  fail_unless_equals_uint64 (stat_u64 (s, "datagrams-sent"),
      2 * MCP_N_TEST_SIZES);
  gst_structure_free (s);
  sink_teardown (&f);
}

GST_START_TEST (test_caller_reconnects_raw)
{
  run_caller_reconnect ("raw");
}

GST_END_TEST;

GST_START_TEST (test_caller_reconnects_mpx)
{
  run_caller_reconnect ("mpx");
}

GST_END_TEST;

/* ---- island gateways as clients ---------------------------------------- */

static void
push_with_origin (SinkFixture * f, guint n, guint64 origin, guint64 seq)
{
  GstBuffer *buf = mcp_test_buffer (n, 1316);
  McpFrameMeta info = { 0 };

  info.origin_id = origin;
  info.seq = seq;
  gst_buffer_add_mcp_meta (buf, &info);
  fail_unless_equals_int (gst_harness_push (f->h, buf), GST_FLOW_OK);
}

/* The next message must be DATA: datagram n from origin. */
static void
expect_from (GSocket * s, McpDecoder * dec, guint n, guint64 origin)
{
  McpMessage msg;

  mpx_client_next (s, dec, MCP_DECODE_DATA, &msg);
  fail_unless_equals_uint64 (msg.meta.origin_id, origin);
  fail_unless_equals_uint64 (msg.payload_len, 1316);
  fail_unless (mcp_test_check_bytes (n, msg.payload, msg.payload_len),
      "not datagram %u", n);
}

/* no-echo: a client whose peer id is a datagram's origin does not get
 * that datagram back. */
static void
run_no_echo (gboolean no_echo)
{
  SinkFixture f;
  GSocket *c5, *c6;
  McpDecoder *d5, *d6;

  sink_setup (&f, no_echo ? "framing=mpx peer-id=1000" :
      "framing=mpx peer-id=1000 no-echo=false");
  c5 = mcp_test_tcp_connect (f.port);
  d5 = mpx_client_handshake_id (c5, NULL, 5);
  c6 = mcp_test_tcp_connect (f.port);
  d6 = mpx_client_handshake_id (c6, NULL, 6);
  mcp_test_events_wait (&f.added, 2);

  push_with_origin (&f, 1, 5, 1);
  push_with_origin (&f, 2, 9, 1);
  expect_from (c6, d6, 1, 5);
  expect_from (c6, d6, 2, 9);
  if (!no_echo)
    expect_from (c5, d5, 1, 5);
  /* with no-echo, client 5's first datagram is the one from 9 */
  expect_from (c5, d5, 2, 9);

  mcp_decoder_free (d5);
  mcp_decoder_free (d6);
  g_object_unref (c5);
  g_object_unref (c6);
  sink_teardown (&f);
}

GST_START_TEST (test_no_echo)
{
  run_no_echo (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_echo_when_asked)
{
  run_no_echo (FALSE);
}

GST_END_TEST;

/* one-per-peer: of two clients with one peer id only the older gets data;
 * the other takes over from the next datagram when it leaves. */
static void
run_one_per_peer (gboolean one)
{
  SinkFixture f;
  GSocket *older, *newer;
  McpDecoder *d_older, *d_newer;
  GstStructure *s;
  guint standby = 0, i;
  const GValue *list;

  sink_setup (&f, one ? "framing=mpx peer-id=1000" :
      "framing=mpx peer-id=1000 one-per-peer=false");
  older = mcp_test_tcp_connect (f.port);
  d_older = mpx_client_handshake_id (older, NULL, 8);
  mcp_test_events_wait (&f.added, 1);
  newer = mcp_test_tcp_connect (f.port);
  d_newer = mpx_client_handshake_id (newer, NULL, 8);
  mcp_test_events_wait (&f.added, 2);

  s = sink_stats (&f);
  list = gst_structure_get_value (s, "client-list");
  fail_unless_equals_int (gst_value_array_get_size (list), 2);
  for (i = 0; i < 2; i++) {
    gboolean sb = FALSE;

    fail_unless (gst_structure_get_boolean (gst_value_get_structure
            (gst_value_array_get_value (list, i)), "standby", &sb));
    standby += sb;
  }
  fail_unless_equals_int (standby, one ? 1 : 0);
  gst_structure_free (s);

  push_with_origin (&f, 1, 3, 1);
  expect_from (older, d_older, 1, 3);
  if (!one)
    expect_from (newer, d_newer, 1, 3);
  g_object_unref (older);
  mcp_test_events_wait (&f.removed, 1);
  push_with_origin (&f, 2, 3, 2);
  /* with one-per-peer, the newer client's first datagram is this one */
  expect_from (newer, d_newer, 2, 3);

  mcp_decoder_free (d_older);
  mcp_decoder_free (d_newer);
  g_object_unref (newer);
  sink_teardown (&f);
}

GST_START_TEST (test_one_per_peer)
{
  run_one_per_peer (TRUE);
}

GST_END_TEST;

GST_START_TEST (test_all_per_peer_when_asked)
{
  run_one_per_peer (FALSE);
}

GST_END_TEST;

/* ---- fast start -------------------------------------------------------- */

#define TS 188

/* A TS packet: PID, PUSI, continuity counter; payload (len bytes) after an
 * adaptation field with the random-access indicator when rai. The rest is
 * stuffing (in the payload of sections, in the adaptation field else). */
static void
ts_packet (guint8 * p, guint pid, gboolean pusi, guint cc, gboolean rai,
    const guint8 * payload, gsize len, gboolean section)
{
  gsize pos = 4;

  memset (p, 0xFF, TS);
  p[0] = 0x47;
  p[1] = (pusi ? 0x40 : 0) | (pid >> 8);
  p[2] = pid & 0xFF;
  if (section) {
    p[3] = 0x10 | (cc & 0x0F);
  } else {
    gsize af = TS - 4 - len;    /* adaptation field, its length byte too */

    p[3] = (af ? 0x30 : 0x10) | (cc & 0x0F);
    if (af) {
      p[4] = af - 1;
      if (af > 1) {
        p[5] = rai ? 0x40 : 0x00;
        memset (p + 6, 0xFF, af - 2);
      }
      pos = 4 + af;
    }
  }
  memcpy (p + pos, payload, len);
}

/* A PSI section with its CRC, after a pointer field of 0. */
static gsize
ts_section (guint8 * out, const guint8 * body, gsize len)
{
  guint32 crc;

  out[0] = 0;
  memcpy (out + 1, body, len);
  crc = mcp_ts_crc32 (out + 1, len);
  out[1 + len] = crc >> 24;
  out[2 + len] = crc >> 16;
  out[3 + len] = crc >> 8;
  out[4 + len] = crc;
  return len + 5;
}

/* burst=keyframe: a client that connects in mid-stream first gets the PAT,
 * the PMT, the datagram holding the last key frame from that packet on,
 * everything since, then the live stream; a stream that is not MPEG-TS
 * gets no burst. */
GST_START_TEST (test_burst_keyframe)
{
  static const guint8 pat[] = { 0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00,
    0x00, 0x00, 0x01, 0xF0, 0x00
  };
  static const guint8 pmt[] = { 0x02, 0xB0, 0x12, 0x00, 0x01, 0xC1, 0x00,
    0x00, 0xE1, 0x00, 0xF0, 0x00, 0x1B, 0xE1, 0x00, 0xF0, 0x00
  };
  static const guint8 idr[] = { 0x00, 0x00, 0x01, 0xE0, 0x00, 0x00, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x65, 0x88
  };
  guint8 d[4][7 * TS], sec[64], body[TS], got[7 * TS + 3 * TS];
  guint cc = 0, i, k;
  SinkFixture f;
  GSocket *c;
  gsize n;

  /* datagram 0: PAT, PMT, five null packets */
  n = ts_section (sec, pat, sizeof (pat));
  ts_packet (d[0], 0, TRUE, 0, FALSE, sec, n, TRUE);
  n = ts_section (sec, pmt, sizeof (pmt));
  ts_packet (d[0] + TS, 0x1000, TRUE, 0, FALSE, sec, n, TRUE);
  for (i = 2; i < 7; i++)
    ts_packet (d[0] + i * TS, 0x1FFF, FALSE, 0, FALSE, body, 0, FALSE);
  /* datagram 1: three video packets, the key frame at the fourth, three
   * more; datagrams 2 and 3: video */
  for (k = 1; k < 4; k++)
    for (i = 0; i < 7; i++) {
      memset (body, 16 * k + i, sizeof (body));
      if (k == 1 && i == 3)
        ts_packet (d[k] + i * TS, 0x100, TRUE, cc++, TRUE, idr,
            sizeof (idr), FALSE);
      else
        ts_packet (d[k] + i * TS, 0x100, FALSE, cc++, FALSE, body, TS - 4,
            FALSE);
    }

  sink_setup (&f, "framing=raw burst=keyframe");
  for (k = 0; k < 3; k++)
    fail_unless_equals_int (gst_harness_push (f.h,
            gst_buffer_new_memdup (d[k], sizeof (d[k]))), GST_FLOW_OK);

  c = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 1);
  fail_unless_equals_int (gst_harness_push (f.h,
          gst_buffer_new_memdup (d[3], sizeof (d[3]))), GST_FLOW_OK);
  /* PAT, PMT, the key frame's packet and the three after it */
  mcp_test_recv_exact (c, got, 6 * TS);
  fail_unless (memcmp (got, d[0], 2 * TS) == 0);
  fail_unless (memcmp (got + 2 * TS, d[1] + 3 * TS, 4 * TS) == 0);
  /* then datagram 2 (queued before the client came) and the live one */
  mcp_test_recv_exact (c, got, 7 * TS);
  fail_unless (memcmp (got, d[2], 7 * TS) == 0);
  mcp_test_recv_exact (c, got, 7 * TS);
  fail_unless (memcmp (got, d[3], 7 * TS) == 0);
  g_object_unref (c);
  mcp_test_events_wait (&f.removed, 1);
  sink_teardown (&f);

  /* not MPEG-TS: no burst, the live stream only */
  sink_setup (&f, "framing=raw burst=keyframe");
  push_sizes (&f, 0);
  c = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 1);
  push_sizes (&f, 20);
  for (i = 0; i < 3; i++) {
    mcp_test_recv_exact (c, got, mcp_test_sizes[i]);
    fail_unless (mcp_test_check_bytes (20 + i, got, mcp_test_sizes[i]));
  }
  g_object_unref (c);
  mcp_test_events_wait (&f.removed, 1);
  sink_teardown (&f);
}

GST_END_TEST;


/* ---- subscriptions ------------------------------------------------------ */

/* An mpx receiver that takes part in subscriptions (HELLO features). */
static McpDecoder *
mpx_subscriber_handshake (GSocket * s, guint64 peer_id)
{
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_MPX);
  GBytes *hello = mcp_mpx_build_hello_full (MCP_ROLE_RECEIVER, peer_id, NULL,
      "test", NULL, MCP_FEATURE_SUBSCRIPTIONS);
  McpMessage msg;

  mcp_test_send_bytes (s, hello);
  g_bytes_unref (hello);
  mpx_client_next (s, dec, MCP_DECODE_HELLO, &msg);
  fail_unless_equals_int (msg.hello.features, MCP_FEATURE_SUBSCRIPTIONS);
  return dec;
}

static void
send_subscribe (GSocket * s, const gchar * text, gboolean remove,
    gboolean replace)
{
  McpSubSet *set = mcp_sub_set_parse (text, NULL);
  GBytes *b;

  fail_unless (set != NULL, "%s", text);
  b = mcp_mpx_build_subscribe (set, remove, replace);
  mcp_test_send_bytes (s, b);
  g_bytes_unref (b);
  mcp_sub_set_free (set);
}

static gint
peer_order (gconstpointer a, gconstpointer b)
{
  const GstMcpSubsPeer *x = a, *y = b;

  return x->peer_id < y->peer_id ? -1 : x->peer_id > y->peer_id;
}

/* "ID=SET;..." by peer id */
static gchar *
peers_text (GArray * peers)
{
  GString *s = g_string_new (NULL);
  guint i;

  g_array_sort (peers, peer_order);
  for (i = 0; i < peers->len; i++) {
    GstMcpSubsPeer *p = &g_array_index (peers, GstMcpSubsPeer, i);
    gchar *t = mcp_sub_set_to_string (p->set);

    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT "=%s", i ? ";" : "",
        p->peer_id, t);
    g_free (t);
  }
  return g_string_free (s, FALSE);
}

/* Pulls the sink's upstream events until one tells want. */
static void
wait_told (SinkFixture * f, const gchar * want)
{
  gchar *last = NULL;

  for (;;) {
    GstEvent *ev = gst_harness_pull_upstream_event (f->h);
    GArray *peers;

    fail_unless (ev != NULL, "no event telling %s (last: %s)", want, last);
    peers = gst_mcp_subs_event_parse (ev);
    gst_event_unref (ev);
    if (!peers)
      continue;
    g_free (last);
    last = peers_text (peers);
    g_array_unref (peers);
    if (strcmp (last, want) == 0)
      break;
  }
  g_free (last);
}

static void
push_to (SinkFixture * f, guint n, const gchar * group, guint16 port)
{
  GstBuffer *buf = mcp_test_buffer (n, 200);
  McpFrameMeta info = { 0 };
  GInetAddress *g = g_inet_address_new_from_string (group);

  info.origin_id = 9;
  info.seq = n;
  info.family = 4;
  info.port = port;
  memcpy (info.group, g_inet_address_to_bytes (g), 4);
  g_object_unref (g);
  gst_buffer_add_mcp_meta (buf, &info);
  fail_unless_equals_int (gst_harness_push (f->h, buf), GST_FLOW_OK);
}

static void
expect_n (GSocket * s, McpDecoder * dec, guint n)
{
  McpMessage msg;

  mpx_client_next (s, dec, MCP_DECODE_DATA, &msg);
  fail_unless_equals_uint64 (msg.meta.seq, n);
  fail_unless (mcp_test_check_bytes (n, msg.payload, msg.payload_len),
      "not datagram %u", n);
}

/* A subscribing client gets what it subscribed to, an older one everything;
 * upstream hears what each wants, when it asked and on every change; a bad
 * SUBSCRIBE closes only its connection. */
GST_START_TEST (test_subscriptions)
{
  SinkFixture f;
  GSocket *a, *b;
  McpDecoder *da, *db;
  GArray *peers;
  gchar *text, *ev;
  GstStructure *st;
  guint i;
  const GstStructure *c;
  static const guint8 bad_entry[MCP_SUB_ENTRY_LEN] = { 5, 32, 0, 0, 0, 1,
    0, 1
  };
  guint8 bad_msg[MCP_MPX_MSG_HEADER_LEN + MCP_MPX_SUB_META_LEN +
      MCP_SUB_ENTRY_LEN] = { 'S', MCP_MSG_FLAG_IGNORABLE, 0, 4, 0, 0, 0,
    MCP_SUB_ENTRY_LEN
  };

  sink_setup (&f, "framing=mpx peer-id=1000");
  /* an element upstream asks as it starts: nobody is there yet */
  peers = gst_mcp_subs_ask_downstream (f.h->srcpad);
  fail_unless (peers != NULL);
  fail_unless_equals_int (peers->len, 0);
  g_array_unref (peers);

  a = mcp_test_tcp_connect (f.port);
  da = mpx_subscriber_handshake (a, 5);
  send_subscribe (a, "239.1.1.1:5000", FALSE, TRUE);
  b = mcp_test_tcp_connect (f.port);
  db = mpx_client_handshake_id (b, NULL, 6);
  mcp_test_events_wait (&f.added, 2);
  wait_told (&f, "5=239.1.1.1:5000;6=0.0.0.0/0:1-65535 [::]/0:1-65535");

  push_to (&f, 1, "239.1.1.1", 5000);
  push_to (&f, 2, "239.1.1.2", 5000);
  push_to (&f, 3, "239.1.1.1", 5001);
  push_to (&f, 4, "239.1.1.1", 5000);
  for (i = 1; i <= 4; i++)
    expect_n (b, db, i);
  expect_n (a, da, 1);
  expect_n (a, da, 4);

  /* changes: one group less, a prefix more */
  send_subscribe (a, "239.1.1.1:5000", TRUE, FALSE);
  send_subscribe (a, "239.1.1.0/24:5001", FALSE, FALSE);
  wait_told (&f, "5=239.1.1.0/24:5001;6=0.0.0.0/0:1-65535 [::]/0:1-65535");
  push_to (&f, 5, "239.1.1.1", 5000);
  push_to (&f, 6, "239.1.1.9", 5001);
  expect_n (a, da, 6);
  for (i = 5; i <= 6; i++)
    expect_n (b, db, i);

  /* the stats name what each client wants */
  st = sink_stats (&f);
  for (i = 0; i < 2; i++) {
    c = mcp_test_stat_item (st, "client-list", i);
    text = g_strdup_printf ("%" G_GUINT64_FORMAT, stat_u64 (c, "peer-id"));
    fail_unless_equals_string (gst_structure_get_string (c, "subscriptions"),
        strcmp (text, "5") == 0 ? "239.1.1.0/24:5001" : "*");
    g_free (text);
  }
  gst_structure_free (st);

  /* a whole new state replaces the old */
  send_subscribe (a, "[ff3e::1]:6000", FALSE, TRUE);
  wait_told (&f, "5=[ff3e::1]:6000;6=0.0.0.0/0:1-65535 [::]/0:1-65535");

  /* a bad entry closes that connection, with the reason */
  memcpy (bad_msg + MCP_MPX_MSG_HEADER_LEN + MCP_MPX_SUB_META_LEN, bad_entry,
      sizeof (bad_entry));
  mcp_test_send_all (a, bad_msg, sizeof (bad_msg));
  fail_unless (mcp_test_wait_closed (a));
  mcp_test_events_wait (&f.removed, 1);
  ev = mcp_test_events_get (&f.removed, 0);
  fail_unless (strstr (ev, "bad input: bad subscription: the address family "
          "is neither 4 nor 6") != NULL, "%s", ev);
  g_free (ev);
  wait_told (&f, "6=0.0.0.0/0:1-65535 [::]/0:1-65535");
  push_to (&f, 7, "239.1.1.1", 5000);
  expect_n (b, db, 7);

  mcp_decoder_free (da);
  mcp_decoder_free (db);
  g_object_unref (a);
  g_object_unref (b);
  sink_teardown (&f);
}

GST_END_TEST;

static Suite *
tcpsplitsink_suite (void)
{
  Suite *s = suite_create ("tcpsplitsink");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_defaults_and_properties);
  tcase_add_test (tc, test_state_cycles_and_current_port);
  tcase_add_test (tc, test_port_in_use_is_an_error);
  tcase_add_test (tc, test_raw_clients_get_every_byte);
  tcase_add_test (tc, test_burst_keyframe);
  tcase_add_test (tc, test_rfc4571_keeps_boundaries);
  tcase_add_test (tc, test_mpx_carries_metadata_and_caps);
  tcase_add_test (tc, test_auto_detects_each_client);
  tcase_add_test (tc, test_malformed_input_closes_only_that_client);
  tcase_add_test (tc, test_wrong_role_is_refused);
  tcase_add_test (tc, test_handshake_timeout);
  tcase_add_test (tc, test_client_leaves_others_continue);
  tcase_add_test (tc, test_many_clients_in_passes);
  tcase_add_test (tc, test_max_clients);
  tcase_add_test (tc, test_max_clients_changed_while_playing);
  tcase_add_test (tc, test_slow_client_dropped);
  tcase_add_test (tc, test_slow_client_resynced);
  tcase_add_test (tc, test_caller_reconnects_raw);
  tcase_add_test (tc, test_caller_reconnects_mpx);
  tcase_add_test (tc, test_no_echo);
  tcase_add_test (tc, test_echo_when_asked);
  tcase_add_test (tc, test_one_per_peer);
  tcase_add_test (tc, test_all_per_peer_when_asked);
  tcase_add_test (tc, test_subscriptions);
  return s;
}

GST_CHECK_MAIN (tcpsplitsink);
