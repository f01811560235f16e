/* mcastproxy — who may connect and how: shared-secret authentication, TLS
 * (also mutual), allow-lists and keepalives, between real elements and
 * hand-made peers on loopback. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "mcp-check-fixtures.h"
#include "mcp-wire.h"

#define stat_u64 mcp_test_stat_field

#define SECRET "6b1f0c8e2a9d4f7e3c5a8b0d1e2f4a6c"

#define SLOW_RETRY " reconnect-delay=10000000000"

/* Certificates made once per run by openssl: two CAs, and a server and a
 * client certificate signed by each. */
static gchar *cert_dir;
static GPid cert_owner;         /* the test runner forks: only it cleans up */

static gchar *
cert (const gchar * name)
{
  return g_build_filename (cert_dir, name, NULL);
}

static void
make_certs (void)
{
  static const gchar script[] =
      "set -e\n"
      "k='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
      "for ca in ca rogue-ca; do\n"
      "  openssl req -x509 $k -keyout $ca.key -out $ca.pem -days 2 "
      "-subj /CN=$ca\n"
      "done\n"
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext\n"
      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
      "sign () {\n"
      "  openssl req $k -keyout $1.key -out $1.csr -subj /CN=$1\n"
      "  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key "
      "-CAcreateserial -out $1.pem -days 2 -extfile $3\n"
      "}\n"
      "sign server ca server.ext\n"
      "sign client ca client.ext\n"
      "sign rogue-server rogue-ca server.ext\n"
      "sign rogue-client rogue-ca client.ext\n";
  const gchar *argv[] = { "sh", "-c", script, NULL };
  gchar *err_out = NULL;
  gint status;
  GError *err = NULL;

  cert_owner = getpid ();
  cert_dir = g_dir_make_tmp ("mcp-certs-XXXXXX", NULL);
  g_assert_nonnull (cert_dir);
  if (!g_spawn_sync (cert_dir, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH,
          NULL, NULL, NULL, &err_out, &status, &err)
      || !g_spawn_check_wait_status (status, &err))
    g_error ("making test certificates failed: %s\n%s", err->message, err_out);
  g_free (err_out);
}

static void
remove_certs (void)
{
  GDir *d = g_dir_open (cert_dir, 0, NULL);
  const gchar *name;

  if (getpid () != cert_owner) {
    if (d)
      g_dir_close (d);
    return;
  }
  while (d && (name = g_dir_read_name (d))) {
    gchar *p = cert (name);

    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (cert_dir);
}

/* "tls=true tls-certificate=DIR/server.pem ..." for a listener. */
static gchar *
tls_listener_props (const gchar * extra)
{
  gchar *c = cert ("server.pem"), *k = cert ("server.key");
  gchar *s = g_strdup_printf ("tls=true tls-certificate=%s tls-key=%s %s",
      c, k, extra ? extra : "");

  g_free (c);
  g_free (k);
  return s;
}

/* The same for a caller that trusts ca_name and presents client_name. */
static gchar *
tls_caller_props (const gchar * ca_name, const gchar * client_name)
{
  gchar *ca = cert (ca_name);
  gchar *s, *c = NULL, *k = NULL;

  if (client_name) {
    gchar *pem = g_strconcat (client_name, ".pem", NULL);
    gchar *key = g_strconcat (client_name, ".key", NULL);

    c = cert (pem);
    k = cert (key);
    g_free (pem);
    g_free (key);
  }
  /* a refused caller tries again only after the test is over */
  s = g_strdup_printf ("tls=true tls-ca=%s%s%s%s%s" SLOW_RETRY, ca,
      c ? " tls-certificate=" : "", c ? c : "", k ? " tls-key=" : "",
      k ? k : "");
  g_free (ca);
  g_free (c);
  g_free (k);
  return s;
}

/* Waits for event n (1-based) and checks that its text contains needle. */
static void
expect_event (McpTestEvents * ev, guint n, const gchar * needle)
{
  gchar *s;

  mcp_test_events_wait (ev, n);
  s = mcp_test_events_get (ev, n - 1);
  fail_unless (strstr (s, needle) != NULL, "event '%s' does not say '%s'", s,
      needle);
  g_free (s);
}

/* Pushes datagrams base.. of every test size into the sink and checks that
 * the source pulls exactly them. */
static void
pass_datagrams (SinkFixture * sink, SrcFixture * src, guint base)
{
  guint i;

  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    fail_unless_equals_int (gst_harness_push (sink->h,
            mcp_test_buffer (base + i, mcp_test_sizes[i])), GST_FLOW_OK);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    gst_buffer_unref (pull_datagram (src, base + i, mcp_test_sizes[i]));
}

/* A source calling 127.0.0.1:port, with more properties. */
static void
caller_setup (SrcFixture * src, guint port, const gchar * props)
{
  gchar *all = g_strdup_printf ("host=127.0.0.1 port=%u %s", port, props);

  src_setup (src, all);
  g_free (all);
}

/* A sink and a caller source, connected and ready. */
static void
pair_setup (SinkFixture * sink, const gchar * sink_props, SrcFixture * src,
    const gchar * src_props)
{
  sink_setup (sink, sink_props);
  caller_setup (src, sink->port, src_props);
  mcp_test_events_wait (&sink->added, 1);
}

static guint
n_clients (SinkFixture * f)
{
  GstStructure *s = sink_stats (f);
  const GValue *list = gst_structure_get_value (s, "client-list");
  guint n = list ? gst_value_array_get_size (list) : 0;

  gst_structure_free (s);
  return n;
}

/* An element that must refuse to start: set_state fails with exactly one
 * error message, which starts with text and names needle. props in
 * gst-launch syntax. */
static void
expect_start_error (const gchar * factory, const gchar * props,
    const gchar * text, const gchar * needle)
{
  GstElement *e = gst_element_factory_make (factory, NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  gst_element_set_bus (e, bus);
  g_object_set (e, "port", 0, NULL);
  mcp_test_set_props (e, props);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (g_str_has_prefix (err->message, text), "%s", err->message);
  fail_unless (strstr (err->message, needle), "%s", err->message);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "a second error message");
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

/* ---- authentication ---------------------------------------------------- */

GST_START_TEST (test_auth_same_secret)
{
  SinkFixture sink;
  SrcFixture src;

  pair_setup (&sink, "auth-secret=" SECRET, &src, "auth-secret=" SECRET);
  pass_datagrams (&sink, &src, 0);
  fail_unless_equals_int (src_stat (&src, "connects"), 1);
  fail_unless_equals_int (src.disconnected.count, 0);
  src_teardown (&src);
  sink_teardown (&sink);
}

GST_END_TEST;

/* A caller with another secret is told and closed on both sides; a good
 * one on the same port loses nothing. */
GST_START_TEST (test_auth_wrong_secret)
{
  SinkFixture sink;
  SrcFixture good, bad;

  pair_setup (&sink, "auth-secret=" SECRET, &good, "auth-secret=" SECRET);
  caller_setup (&bad, sink.port, "auth-secret=not-" SECRET
      " reconnect-delay=10000000000");

  expect_event (&sink.removed, 1, "authentication failed: the peer does not "
      "know the shared secret");
  expect_event (&bad.disconnected, 1, "peer closed: authentication failed");
  fail_unless_equals_int (src_stat (&bad, "connects"), 0);

  pass_datagrams (&sink, &good, 10);
  fail_unless_equals_int (good.disconnected.count, 0);
  fail_unless_equals_int (n_clients (&sink), 1);
  src_teardown (&bad);
  src_teardown (&good);
  sink_teardown (&sink);
}

GST_END_TEST;

/* Only one end has a secret: refused either way, with the reason. */
GST_START_TEST (test_auth_one_side_only)
{
  SinkFixture sink;
  SrcFixture src;

  sink_setup (&sink, "auth-secret=" SECRET);
  caller_setup (&src, sink.port, "reconnect-delay=10000000000");
  expect_event (&sink.removed, 1, "authentication required, but the peer did "
      "not offer it");
  expect_event (&src.disconnected, 1, "peer closed: authentication required: "
      "this port needs the shared secret");
  src_teardown (&src);
  sink_teardown (&sink);

  sink_setup (&sink, "");
  caller_setup (&src, sink.port, "auth-secret=" SECRET
      " reconnect-delay=10000000000");
  expect_event (&src.disconnected, 1, "authentication required, but the "
      "listener does not offer it");
  fail_unless_equals_int (src_stat (&src, "connects"), 0);
  src_teardown (&src);
  sink_teardown (&sink);
}

GST_END_TEST;

/* A plain player cannot authenticate: closed once detection says raw. */
GST_START_TEST (test_auth_refuses_plain_clients)
{
  SinkFixture sink;
  GSocket *player, *talker;

  sink_setup (&sink, "auth-secret=" SECRET " detect-timeout=1000000000");
  player = mcp_test_tcp_connect (sink.port);
  fail_unless (mcp_test_wait_closed (player));
  expect_event (&sink.removed, 1, "authentication required, but the peer "
      "said nothing");

  talker = mcp_test_tcp_connect (sink.port);
  mcp_test_send_all (talker, "hello?\r\n\r\n", 10);
  fail_unless (mcp_test_wait_closed (talker));
  expect_event (&sink.removed, 2, "authentication required, but the peer "
      "does not speak mpx");
  fail_unless_equals_int (sink.added.count, 0);
  g_object_unref (player);
  g_object_unref (talker);
  sink_teardown (&sink);
}

GST_END_TEST;

/* A source that offers a nonce but sends a datagram instead of its proof:
 * closed, and the datagram never comes out. */
GST_START_TEST (test_auth_data_before_proof)
{
  SrcFixture src;
  GSocket *s;
  guint8 nonce[MCP_AUTH_NONCE_LEN] = { 1, 2, 3 };
  McpFrameMeta meta = { 0 };
  guint8 hdr[MCP_MPX_DATA_HEADER_LEN];
  GBytes *hello;

  src_setup (&src, "mode=listener port=0 auth-secret=" SECRET);
  s = mcp_test_tcp_connect (src.port);
  hello = mcp_mpx_build_hello_full (MCP_ROLE_SOURCE, 5, NULL, NULL, nonce, 0);
  mcp_test_send_bytes (s, hello);
  g_bytes_unref (hello);
  /* no AUTH: straight to a datagram */
  mcp_mpx_write_data_header (hdr, &meta, 3);
  mcp_test_send_all (s, hdr, sizeof (hdr));
  mcp_test_send_all (s, "abc", 3);
  fail_unless (mcp_test_wait_closed (s));
  expect_event (&src.disconnected, 1, "data before the handshake completed");
  fail_unless_equals_int (src_stat (&src, "datagrams-received"), 0);
  fail_unless_equals_int (src.connected.count, 0);
  g_object_unref (s);
  src_teardown (&src);
}

GST_END_TEST;

static gchar *
write_secret_file (const gchar * content, gint mode)
{
  gchar *path = cert ("secret");

  fail_unless (g_file_set_contents (path, content, -1, NULL));
  fail_unless_equals_int (g_chmod (path, mode), 0);
  return path;
}

GST_START_TEST (test_auth_secret_file)
{
  SinkFixture sink;
  SrcFixture src;
  gchar *path = write_secret_file (SECRET "\n", 0600);
  gchar *props = g_strdup_printf ("auth-secret-file=%s", path);
  gchar *src_props = g_strdup_printf ("auth-secret-file=%s", path);

  pair_setup (&sink, props, &src, src_props);
  pass_datagrams (&sink, &src, 20);
  src_teardown (&src);
  sink_teardown (&sink);
  g_free (props);
  g_free (src_props);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

/* A secret others may read, or one that is missing: the element does not
 * start, and says why. */
GST_START_TEST (test_auth_secret_file_errors)
{
  gchar *path = write_secret_file (SECRET, 0644);
  gchar *props = g_strdup_printf ("auth-secret-file=%s", path);

  expect_start_error ("tcpsplitsink", props,
      "Cannot read the authentication secret", "chmod 600");
  g_unlink (path);
  g_free (props);
  g_free (path);

  path = cert ("no-such-secret");
  props = g_strdup_printf ("mode=listener auth-secret-file=%s", path);
  expect_start_error ("tcpsplitsrc", props,
      "Cannot read the authentication secret", "no-such-secret");
  g_free (props);
  g_free (path);
}

GST_END_TEST;

/* The secret can be set but never read back. */
GST_START_TEST (test_auth_secret_write_only)
{
  GstElement *e = gst_element_factory_make ("tcpsplitsrc", NULL);
  GParamSpec *p = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "auth-secret");

  fail_unless (p != NULL);
  fail_unless (p->flags & G_PARAM_WRITABLE);
  fail_if (p->flags & G_PARAM_READABLE);
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- TLS --------------------------------------------------------------- */

GST_START_TEST (test_tls)
{
  SinkFixture sink;
  SrcFixture src;
  gchar *sp = tls_listener_props ("handshake-timeout=3000000000");
  gchar *cp = tls_caller_props ("ca.pem", NULL);
  GSocket *plain;

  pair_setup (&sink, sp, &src, cp);
  pass_datagrams (&sink, &src, 30);

  /* a plain client on a TLS-only port gets nothing and is closed (3 s:
   * the legitimate handshake must fit with room under valgrind and load) */
  plain = mcp_test_tcp_connect (sink.port);
  fail_unless (mcp_test_wait_closed (plain));
  expect_event (&sink.removed, 1, "TLS handshake not completed within "
      "3000 ms");
  pass_datagrams (&sink, &src, 40);
  g_object_unref (plain);
  src_teardown (&src);
  sink_teardown (&sink);
  g_free (sp);
  g_free (cp);
}

GST_END_TEST;

/* A burst over TLS, more than one read takes at once: decrypted bytes left
 * inside the TLS layer are read on without waiting for the socket. */
GST_START_TEST (test_tls_burst)
{
  SinkFixture sink;
  SrcFixture src;
  gchar *sp = tls_listener_props (NULL);
  gchar *cp = tls_caller_props ("ca.pem", NULL);
  guint i;

  pair_setup (&sink, sp, &src, cp);
  pass_datagrams (&sink, &src, 0);
  for (i = 0; i < 2000; i++)
    fail_unless_equals_int (gst_harness_push (sink.h,
            mcp_test_buffer (100 + i, 1316)), GST_FLOW_OK);
  for (i = 0; i < 2000; i++)
    gst_buffer_unref (pull_datagram (&src, 100 + i, 1316));
  fail_unless_equals_uint64 (src_stat (&src, "datagrams-received"),
      MCP_N_TEST_SIZES + 2000);
  src_teardown (&src);
  sink_teardown (&sink);
  g_free (sp);
  g_free (cp);
}

GST_END_TEST;

/* A caller that does not trust the listener's CA gives up on it, and says
 * why; so does a listener that wants client certificates from its CA. */
GST_START_TEST (test_tls_untrusted)
{
  SinkFixture sink;
  SrcFixture src;
  gchar *sp = tls_listener_props (NULL);
  gchar *cp = tls_caller_props ("rogue-ca.pem", NULL);

  sink_setup (&sink, sp);
  caller_setup (&src, sink.port, cp);
  expect_event (&src.disconnected, 1, "TLS handshake failed");
  expect_event (&src.disconnected, 1, "not signed by a trusted CA");
  expect_event (&sink.removed, 1, "TLS handshake failed");
  fail_unless_equals_int (src_stat (&src, "connects"), 0);
  src_teardown (&src);
  sink_teardown (&sink);
  g_free (sp);
  g_free (cp);
}

GST_END_TEST;

/* Mutual TLS: tls-ca on the listener requires a client certificate from
 * that CA. Without one, or with a stranger's, no connection; with one,
 * data flows. */
GST_START_TEST (test_tls_mutual)
{
  SinkFixture sink;
  SrcFixture none, rogue, good;
  gchar *ca = cert ("ca.pem");
  gchar *extra = g_strdup_printf ("tls-ca=%s", ca);
  gchar *sp = tls_listener_props (extra);
  gchar *props;

  sink_setup (&sink, sp);

  props = tls_caller_props ("ca.pem", NULL);
  caller_setup (&none, sink.port, props);
  g_free (props);
  /* the listener refuses; with TLS 1.3 the client hears of it only when
   * it next reads or writes, in words that vary */
  expect_event (&sink.removed, 1, "TLS handshake failed");
  mcp_test_events_wait (&none.disconnected, 1);

  props = tls_caller_props ("ca.pem", "rogue-client");
  caller_setup (&rogue, sink.port, props);
  g_free (props);
  expect_event (&sink.removed, 2, "not signed by a trusted CA");
  mcp_test_events_wait (&rogue.disconnected, 1);

  props = tls_caller_props ("ca.pem", "client");
  caller_setup (&good, sink.port, props);
  g_free (props);
  mcp_test_events_wait (&sink.added, 1);
  pass_datagrams (&sink, &good, 50);
  fail_unless_equals_int (src_stat (&none, "connects"), 0);
  fail_unless_equals_int (src_stat (&rogue, "connects"), 0);

  src_teardown (&none);
  src_teardown (&rogue);
  src_teardown (&good);
  sink_teardown (&sink);
  g_free (ca);
  g_free (extra);
  g_free (sp);
}

GST_END_TEST;

/* tls-allow-plain: a player that just reads gets the plain stream, a TLS
 * relay the encrypted one, from the same port. */
GST_START_TEST (test_tls_allow_plain)
{
  SinkFixture sink;
  SrcFixture src;
  /* a relay's TLS hello must beat detect-timeout even on a loaded host */
  gchar *sp = tls_listener_props ("tls-allow-plain=true framing=auto "
      "detect-timeout=1000000000");
  gchar *cp = tls_caller_props ("ca.pem", NULL);
  GSocket *player;
  guint i;

  pair_setup (&sink, sp, &src, cp);
  player = mcp_test_tcp_connect (sink.port);
  mcp_test_events_wait (&sink.added, 2);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    fail_unless_equals_int (gst_harness_push (sink.h,
            mcp_test_buffer (60 + i, mcp_test_sizes[i])), GST_FLOW_OK);
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    gsize size = mcp_test_sizes[i];
    guint8 *buf = g_malloc (size + 1);

    /* raw: the bytes one after the other */
    mcp_test_recv_exact (player, buf, size);
    fail_unless (mcp_test_check_bytes (60 + i, buf, size));
    g_free (buf);
    gst_buffer_unref (pull_datagram (&src, 60 + i, size));
  }
  g_object_unref (player);
  src_teardown (&src);
  sink_teardown (&sink);
  g_free (sp);
  g_free (cp);
}

GST_END_TEST;

/* Reads what s gets until the peer closes. */
static gchar *
read_to_close (GSocket * s)
{
  GString *out = g_string_new (NULL);

  for (;;) {
    gchar buf[1024];
    gssize n = g_socket_receive (s, buf, sizeof (buf), NULL, NULL);

    if (n <= 0)
      break;
    g_string_append_len (out, buf, n);
  }
  return g_string_free (out, FALSE);
}

/* A TLS-only port: a plain HTTP player is told to use https://, anything
 * else plain is closed. The user hears of it once per peer (a bus
 * warning); every refusal is counted. */
GST_START_TEST (test_tls_port_refuses_plain_with_reason)
{
  SinkFixture sink;
  gchar *sp = tls_listener_props ("framing=auto");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  GSocket *c;
  gchar *got;

  sink_setup (&sink, sp);
  gst_element_set_bus (sink.h->element, bus);

  c = mcp_test_tcp_connect (sink.port);
  mcp_test_send_all (c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
  got = read_to_close (c);
  fail_unless (g_str_has_prefix (got, "HTTP/1.1 400 Bad Request\r\n"), "%s",
      got);
  fail_unless (g_str_has_suffix (got, "\r\n\r\nThis port speaks TLS: use "
          "https://\n"), "%s", got);
  g_free (got);
  g_object_unref (c);
  expect_event (&sink.removed, 1, "refused plain HTTP on a TLS port");

  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (g_str_has_prefix (err->message, "Refused 127.0.0.1:"), "%s",
      err->message);
  fail_unless (g_str_has_suffix (err->message, ": refused plain HTTP on a TLS "
          "port (the client should use https://)"), "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);

  /* the same peer again, not HTTP: closed, counted, not told again */
  c = mcp_test_tcp_connect (sink.port);
  mcp_test_send_all (c, "hello", 5);
  got = read_to_close (c);
  fail_unless_equals_string (got, "");
  g_free (got);
  g_object_unref (c);
  expect_event (&sink.removed, 2, "the client did not start TLS");
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  {
    GstStructure *st = sink_stats (&sink);

    fail_unless_equals_int (stat_u64 (st, "refused-handshake"), 2);
    fail_unless_equals_int (stat_u64 (st, "connections-refused"), 2);
    gst_structure_free (st);
  }
  fail_unless_equals_int (sink.added.count, 0);

  gst_element_set_bus (sink.h->element, NULL);
  gst_bus_set_flushing (bus, TRUE);
  gst_object_unref (bus);
  sink_teardown (&sink);
  g_free (sp);
}

GST_END_TEST;

GST_START_TEST (test_tls_listener_needs_certificate)
{
  expect_start_error ("tcpsplitsink", "tls=true", "Cannot set up TLS",
      "needs a certificate");
  expect_start_error ("tcpsplitsrc", "mode=listener tls=true "
      "tls-certificate=/nonexistent.pem", "Cannot set up TLS",
      "/nonexistent.pem");
  /* a caller prepares at READY->PAUSED: still one error */
  expect_start_error ("tcpsplitsrc", "host=127.0.0.1 port=9 tls=true "
      "tls-ca=/nonexistent-ca.pem", "Cannot set up TLS", "/nonexistent-ca.pem");
}

GST_END_TEST;

/* ---- allow-list -------------------------------------------------------- */

GST_START_TEST (test_allow_list)
{
  SinkFixture sink;
  SrcFixture src;
  GSocket *s;
  GstStructure *st;

  /* loopback is not in it: refused at once, counted */
  sink_setup (&sink, "allow=10.0.0.0/8,2001:db8::/32");
  s = mcp_test_tcp_connect (sink.port);
  fail_unless (mcp_test_wait_closed (s));
  g_object_unref (s);
  st = sink_stats (&sink);
  fail_unless_equals_int (stat_u64 (st, "refused-allow-list"), 1);
  gst_structure_free (st);
  fail_unless_equals_int (sink.added.count, 0);
  sink_teardown (&sink);

  /* it is: served */
  pair_setup (&sink, "allow=10.0.0.0/8,127.0.0.0/8", &src, "");
  pass_datagrams (&sink, &src, 70);
  st = sink_stats (&sink);
  fail_unless_equals_int (stat_u64 (st, "refused-allow-list"), 0);
  gst_structure_free (st);
  src_teardown (&src);
  sink_teardown (&sink);

  /* same on a source's listener */
  src_setup (&src, "mode=listener port=0 allow=192.0.2.0/24");
  s = mcp_test_tcp_connect (src.port);
  fail_unless (mcp_test_wait_closed (s));
  g_object_unref (s);
  fail_unless_equals_int (src_stat (&src, "refused-allow-list"), 1);
  src_teardown (&src);
}

GST_END_TEST;

GST_START_TEST (test_allow_list_invalid)
{
  expect_start_error ("tcpsplitsink", "allow=10.0.0.0/8,10.1.2.3/8",
      "Invalid allow-list", "10.1.2.3/8");
  expect_start_error ("tcpmeshrouter", "allow=2001:db8::/129",
      "Invalid allow-list", "2001:db8::/129");
}

GST_END_TEST;

/* Pushes datagram n (1316 bytes) and reads it from each raw client. */
static void
push_and_read (SinkFixture * sink, GSocket ** c, guint n_clients, guint n)
{
  guint8 buf[1316];
  guint k;

  fail_unless_equals_int (gst_harness_push (sink->h, mcp_test_buffer (n,
              1316)), GST_FLOW_OK);
  for (k = 0; k < n_clients; k++) {
    mcp_test_recv_exact (c[k], buf, sizeof (buf));
    fail_unless (mcp_test_check_bytes (n, buf, sizeof (buf)),
        "client %u, datagram %u", k, n);
  }
}

/* The next warning on bus: its message must contain each of the texts. */
static void
expect_warning (GstBus * bus, const gchar * text, const gchar * text2)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (bus,
      MCP_TEST_TIMEOUT_US * GST_USECOND, GST_MESSAGE_WARNING);
  GError *err = NULL;

  fail_unless (msg != NULL, "no warning (expected '%s')", text);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, text) != NULL, "%s", err->message);
  fail_unless (!text2 || strstr (err->message, text2) != NULL, "%s",
      err->message);
  g_error_free (err);
  gst_message_unref (msg);
}

/* allow changed while PLAYING, as a reload does: the new list applies to
 * new connections only; a client connected before stays and streams on;
 * a list that does not parse leaves the old one in effect, with a warning
 * naming it. */
GST_START_TEST (test_allow_changed_while_playing)
{
  SinkFixture sink;
  GstBus *bus = gst_bus_new ();
  GSocket *c[2], *s;
  gchar *allow = NULL;
  GstStructure *st;
  guint n = 0;

  sink_setup (&sink, "framing=raw");
  gst_element_set_bus (sink.h->element, bus);
  c[0] = mcp_test_tcp_connect (sink.port);
  mcp_test_events_wait (&sink.added, 1);
  push_and_read (&sink, c, 1, n++);

  /* loopback no longer allowed: the client stays, a new one is refused */
  g_object_set (sink.h->element, "allow", "10.0.0.0/8", NULL);
  push_and_read (&sink, c, 1, n++);
  s = mcp_test_tcp_connect (sink.port);
  fail_unless (mcp_test_wait_closed (s));
  g_object_unref (s);
  st = sink_stats (&sink);
  fail_unless_equals_int (stat_u64 (st, "refused-allow-list"), 1);
  gst_structure_free (st);
  expect_warning (bus, "not in the allow-list", NULL);
  push_and_read (&sink, c, 1, n++);

  /* a mistake: ignored, said so, the list before stays */
  g_object_set (sink.h->element, "allow", "10.0.0.0/8,10.1.2.3/8", NULL);
  expect_warning (bus, "Ignored a new value of property \"allow\"",
      "10.1.2.3/8");
  g_object_get (sink.h->element, "allow", &allow, NULL);
  fail_unless_equals_string (allow, "10.0.0.0/8");
  g_free (allow);
  push_and_read (&sink, c, 1, n++);

  /* loopback again: a new client is served, from the next datagram on */
  g_object_set (sink.h->element, "allow", "10.0.0.0/8,127.0.0.0/8", NULL);
  c[1] = mcp_test_tcp_connect (sink.port);
  mcp_test_events_wait (&sink.added, 2);
  push_and_read (&sink, c, 2, n++);
  push_and_read (&sink, c, 2, n++);

  st = sink_stats (&sink);
  fail_unless_equals_int (stat_u64 (st, "refused-allow-list"), 1);
  /* 6 to the first client, 2 to the second */
  fail_unless_equals_int (stat_u64 (st, "bytes-sent"), 8 * 1316);
  gst_structure_free (st);
  fail_unless_equals_int (sink.removed.count, 0);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  g_object_unref (c[0]);
  g_object_unref (c[1]);
  gst_element_set_bus (sink.h->element, NULL);
  gst_object_unref (bus);
  sink_teardown (&sink);
}

GST_END_TEST;

/* Where the list is only read at start (a source in READY), a mistake is
 * kept and fails the start, as one set in NULL does; on a running
 * tcpmeshrouter (another element of the shared settings) a new list
 * applies at once. */
GST_START_TEST (test_allow_set_before_start)
{
  GstElement *src = gst_element_factory_make ("tcpsplitsrc", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GSocket *s;
  guint port;
  gchar *allow;

  gst_element_set_bus (src, bus);
  g_object_set (src, "mode", 0, "port", 0, NULL);
  fail_unless_equals_int (gst_element_set_state (src, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (src, "allow", "2001:db8::/129", NULL);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  g_object_get (src, "allow", &allow, NULL);
  fail_unless_equals_string (allow, "2001:db8::/129");
  g_free (allow);
  mcp_test_assert_state_error (src, GST_STATE_PAUSED, "Invalid allow-list");
  gst_object_unref (src);
  gst_object_unref (bus);

  src = gst_element_factory_make ("tcpmeshrouter", NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (src, bus);
  g_object_set (src, "port", 0, "host", "127.0.0.1", NULL);
  fail_unless (gst_element_set_state (src, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  g_object_get (src, "current-port", &port, NULL);
  g_object_set (src, "allow", "192.0.2.0/24", NULL);
  s = mcp_test_tcp_connect (port);
  fail_unless (mcp_test_wait_closed (s));
  g_object_unref (s);
  fail_unless_equals_int (mcp_test_stat (src, "tcpmeshrouter-stats",
          "refused-allow-list"), 1);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL);
  gst_element_set_state (src, GST_STATE_NULL);
  gst_element_set_bus (src, NULL);
  gst_object_unref (src);
  gst_object_unref (bus);
}

GST_END_TEST;

/* ---- keepalives -------------------------------------------------------- */

/* An idle stream: keepalives keep a live receiver connected, a receiver
 * that went silent is dropped after peer-timeout. */
GST_START_TEST (test_keepalive_sink_side)
{
  SinkFixture sink;
  SrcFixture src;
  GSocket *silent;
  GBytes *hello;
  McpDecoder *dec;
  McpMessage msg;
  GError *err = NULL;
  McpDecodeResult r;
  gint64 t0;

  pair_setup (&sink, "keepalive-interval=100000000 peer-timeout=600000000",
      &src, "keepalive-interval=100000000 peer-timeout=600000000");

  /* a receiver that says HELLO and then nothing */
  silent = mcp_test_tcp_connect (sink.port);
  hello = mcp_mpx_build_hello (MCP_ROLE_RECEIVER, 99, NULL, "silent");
  mcp_test_send_bytes (silent, hello);
  g_bytes_unref (hello);
  t0 = g_get_monotonic_time ();
  /* it hears the sink's keepalives meanwhile */
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  while ((r = mcp_decoder_next (dec, &msg, &err)) != MCP_DECODE_KEEPALIVE) {
    guint8 b;

    fail_unless (r == MCP_DECODE_NEED_MORE || r == MCP_DECODE_HELLO);
    mcp_test_recv_exact (silent, &b, 1);
    mcp_decoder_push (dec, &b, 1);
  }
  fail_unless (mcp_test_wait_closed (silent));
  fail_unless (g_get_monotonic_time () - t0 >= 550000);
  expect_event (&sink.removed, 1, "peer silent for");
  expect_event (&sink.removed, 1, "peer-timeout 600 ms");

  /* the live one stayed through more than two timeouts of idleness */
  fail_unless_equals_int (src.disconnected.count, 0);
  pass_datagrams (&sink, &src, 80);
  fail_unless_equals_int (src_stat (&src, "connects"), 1);
  mcp_decoder_free (dec);
  g_object_unref (silent);
  src_teardown (&src);
  sink_teardown (&sink);
}

GST_END_TEST;

/* A caller whose listener went silent (hung, or a link that dropped
 * without a word) notices within peer-timeout and calls again. */
GST_START_TEST (test_keepalive_caller_reconnects)
{
  SrcFixture src;
  GSocket *listener = mcp_test_tcp_listen (0);
  GSocket *first, *second;
  gchar *props = g_strdup_printf ("host=127.0.0.1 port=%u "
      "keepalive-interval=100000000 peer-timeout=500000000 "
      "reconnect-delay=10000000", mcp_test_local_port (listener));
  McpDecoder *dec;
  McpMessage msg;
  GError *err = NULL;
  McpDecodeResult r;
  GBytes *hello;
  guint keepalives = 0;

  src_setup (&src, props);
  first = mcp_test_tcp_accept (listener);
  hello = mcp_mpx_build_hello (MCP_ROLE_SOURCE, 42, NULL, "hung");
  mcp_test_send_bytes (first, hello);
  g_bytes_unref (hello);
  mcp_test_events_wait (&src.connected, 1);

  /* the caller's keepalives arrive; the server answers nothing */
  dec = mcp_decoder_new (MCP_FRAMING_MPX);
  while (keepalives < 2) {
    guint8 b;

    r = mcp_decoder_next (dec, &msg, &err);
    if (r == MCP_DECODE_KEEPALIVE) {
      keepalives++;
      continue;
    }
    fail_unless (r == MCP_DECODE_NEED_MORE || r == MCP_DECODE_HELLO
        || r == MCP_DECODE_SUBSCRIBE);
    mcp_test_recv_exact (first, &b, 1);
    mcp_decoder_push (dec, &b, 1);
  }
  expect_event (&src.disconnected, 1, "peer silent for");
  second = mcp_test_tcp_accept (listener);
  fail_unless (second != NULL);
  fail_unless (mcp_test_wait_closed (first));
  mcp_decoder_free (dec);
  g_object_unref (first);
  g_object_unref (second);
  g_object_unref (listener);
  g_free (props);
  src_teardown (&src);
}

GST_END_TEST;

/* ---- the mesh ---------------------------------------------------------- */

static GstElement *
mesh_node (const gchar * props, McpTestEvents * added, McpTestEvents * removed)
{
  GstElement *e = gst_element_factory_make ("tcpmeshrouter", NULL);

  mcp_test_set_props (e, props);
  g_signal_connect (e, "peer-added", G_CALLBACK (mcp_test_peer_added_cb),
      added);
  g_signal_connect (e, "peer-removed", G_CALLBACK (mcp_test_events_cb),
      removed);
  fail_unless (gst_element_set_state (e,
          GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  return e;
}

/* Mesh links over TLS and authenticated; a node with a wrong secret is
 * kept out. */
GST_START_TEST (test_mesh_tls_and_auth)
{
  McpTestEvents a_added, a_removed, b_added, b_removed, c_added, c_removed;
  gchar *c_pem = cert ("server.pem"), *c_key = cert ("server.key");
  gchar *ca = cert ("ca.pem");
  gchar *common = g_strdup_printf ("tls=true tls-certificate=%s tls-key=%s "
      "tls-ca=%s", c_pem, c_key, ca);
  gchar *props;
  GstElement *a, *b, *c;
  guint port;

  mcp_test_events_init (&a_added);
  mcp_test_events_init (&a_removed);
  mcp_test_events_init (&b_added);
  mcp_test_events_init (&b_removed);
  mcp_test_events_init (&c_added);
  mcp_test_events_init (&c_removed);

  props = g_strdup_printf ("island-id=1 port=0 host=127.0.0.1 %s "
      "auth-secret=" SECRET, common);
  a = mesh_node (props, &a_added, &a_removed);
  g_free (props);
  g_object_get (a, "current-port", &port, NULL);

  props =
      g_strdup_printf ("island-id=2 port=0 host=127.0.0.1 peers=127.0.0.1:%u "
      "%s auth-secret=" SECRET, port, common);
  b = mesh_node (props, &b_added, &b_removed);
  g_free (props);
  mcp_test_events_wait (&a_added, 1);
  mcp_test_events_wait (&b_added, 1);

  props =
      g_strdup_printf ("island-id=3 port=0 host=127.0.0.1 peers=127.0.0.1:%u "
      "%s auth-secret=wrong-" SECRET, port, common);
  c = mesh_node (props, &c_added, &c_removed);
  g_free (props);
  expect_event (&a_removed, 1, "authentication failed");
  expect_event (&c_removed, 1, "peer closed: authentication failed");
  fail_unless_equals_int (c_added.count, 0);
  fail_unless_equals_int (a_added.count, 1);

  gst_element_set_state (c, GST_STATE_NULL);
  gst_element_set_state (b, GST_STATE_NULL);
  gst_element_set_state (a, GST_STATE_NULL);
  gst_object_unref (a);
  gst_object_unref (b);
  gst_object_unref (c);
  mcp_test_events_clear (&a_added);
  mcp_test_events_clear (&a_removed);
  mcp_test_events_clear (&b_added);
  mcp_test_events_clear (&b_removed);
  mcp_test_events_clear (&c_added);
  mcp_test_events_clear (&c_removed);
  g_free (c_pem);
  g_free (c_key);
  g_free (ca);
  g_free (common);
}

GST_END_TEST;

/* max-peers: one link taken, the next refused and counted, and the first
 * unharmed. */
GST_START_TEST (test_mesh_max_peers)
{
  McpTestEvents a_added, a_removed, b_added, b_removed;
  GstElement *a, *b;
  GSocket *third;
  guint port;
  gchar *props;

  mcp_test_events_init (&a_added);
  mcp_test_events_init (&a_removed);
  mcp_test_events_init (&b_added);
  mcp_test_events_init (&b_removed);
  a = mesh_node ("island-id=1 port=0 host=127.0.0.1 max-peers=1", &a_added,
      &a_removed);
  g_object_get (a, "current-port", &port, NULL);
  props = g_strdup_printf ("island-id=2 port=0 host=127.0.0.1 "
      "peers=127.0.0.1:%u", port);
  b = mesh_node (props, &b_added, &b_removed);
  g_free (props);
  mcp_test_events_wait (&a_added, 1);

  third = mcp_test_tcp_connect (port);
  fail_unless (mcp_test_wait_closed (third));
  fail_unless_equals_int (mcp_test_stat (a, "tcpmeshrouter-stats",
          "refused-limit"), 1);
  fail_unless_equals_int (a_removed.count, 0);
  fail_unless_equals_int (b_removed.count, 0);

  g_object_unref (third);
  gst_element_set_state (b, GST_STATE_NULL);
  gst_element_set_state (a, GST_STATE_NULL);
  gst_object_unref (a);
  gst_object_unref (b);
  mcp_test_events_clear (&a_added);
  mcp_test_events_clear (&a_removed);
  mcp_test_events_clear (&b_added);
  mcp_test_events_clear (&b_removed);
}

GST_END_TEST;

static Suite *
security_suite (void)
{
  Suite *s = suite_create ("security");
  TCase *tc = tcase_create ("general");

  make_certs ();
  atexit (remove_certs);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_auth_same_secret);
  tcase_add_test (tc, test_auth_wrong_secret);
  tcase_add_test (tc, test_auth_one_side_only);
  tcase_add_test (tc, test_auth_refuses_plain_clients);
  tcase_add_test (tc, test_auth_data_before_proof);
  tcase_add_test (tc, test_auth_secret_file);
  tcase_add_test (tc, test_auth_secret_file_errors);
  tcase_add_test (tc, test_auth_secret_write_only);
  tcase_add_test (tc, test_tls);
  tcase_add_test (tc, test_tls_burst);
  tcase_add_test (tc, test_tls_untrusted);
  tcase_add_test (tc, test_tls_mutual);
  tcase_add_test (tc, test_tls_allow_plain);
  tcase_add_test (tc, test_tls_port_refuses_plain_with_reason);
  tcase_add_test (tc, test_tls_listener_needs_certificate);
  tcase_add_test (tc, test_allow_list);
  tcase_add_test (tc, test_allow_list_invalid);
  tcase_add_test (tc, test_allow_changed_while_playing);
  tcase_add_test (tc, test_allow_set_before_start);
  tcase_add_test (tc, test_keepalive_sink_side);
  tcase_add_test (tc, test_keepalive_caller_reconnects);
  tcase_add_test (tc, test_mesh_tls_and_auth);
  tcase_add_test (tc, test_mesh_max_peers);
  return s;
}

GST_CHECK_MAIN (security);
