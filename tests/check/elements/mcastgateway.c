/* mcastproxy — mcastgateway element tests: settings changed while it runs,
 * as `systemctl reload` of a service does (playlist, groups, token, limits,
 * allow-list): they apply to new requests, and a client already served
 * streams on without a gap. Real HTTP clients and a multicast sender on
 * the test's loopback. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "mcp-check-util.h"

#define GROUP "239.255.42.1"
#define SIZE 1316

typedef struct
{
  GstElement *gw;
  GstBus *bus;
  guint port;                   /* current-port */
  guint mport;                  /* of the multicast group */
  GSocket *sender;
  gchar *dir;                   /* for files */
} Gateway;

/* A UDP port that nothing uses in the test's namespace. */
static guint
free_udp_port (void)
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  GInetAddress *any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *sa = g_inet_socket_address_new (any, 0);
  guint port;

  fail_unless (g_socket_bind (s, sa, FALSE, NULL));
  port = mcp_test_local_port (s);
  g_object_unref (sa);
  g_object_unref (any);
  g_object_unref (s);
  return port;
}

/* A directory of the test's own, for the files the gateway reads. */
static void
gateway_init (Gateway * g)
{
  memset (g, 0, sizeof (*g));
  g->dir = g_dir_make_tmp ("mcp-gateway-XXXXXX", NULL);
  fail_unless (g->dir != NULL);
}

/* Starts a playing gateway on 127.0.0.1 with the given properties
 * (gst-launch syntax; "@DIR@" stands for the test's directory). */
static void
gateway_start (Gateway * g, const gchar * props)
{
  gchar **parts = g_strsplit (props, "@DIR@", -1);
  gchar *expanded = g_strjoinv (g->dir, parts);

  g->gw = gst_element_factory_make ("mcastgateway", NULL);
  fail_unless (g->gw != NULL);
  g_object_set (g->gw, "port", 0, "host", "127.0.0.1", "batch-latency",
      (guint64) 0, NULL);
  mcp_test_set_props (g->gw, expanded);
  g_free (expanded);
  g_strfreev (parts);
  g->bus = gst_bus_new ();
  gst_element_set_bus (g->gw, g->bus);
  fail_unless (gst_element_set_state (g->gw, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE);
  g_object_get (g->gw, "current-port", &g->port, NULL);
  fail_unless (g->port > 0);
  g->mport = free_udp_port ();
  g->sender = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, NULL);
}

static void
gateway_teardown (Gateway * g)
{
  GDir *d;
  const gchar *name;

  fail_unless (gst_bus_pop_filtered (g->bus, GST_MESSAGE_ERROR) == NULL);
  fail_unless_equals_int (gst_element_set_state (g->gw, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_element_set_bus (g->gw, NULL);
  gst_object_unref (g->bus);
  gst_object_unref (g->gw);
  g_object_unref (g->sender);
  d = g_dir_open (g->dir, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    gchar *p = g_build_filename (g->dir, name, NULL);

    g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (g->dir);
  g_free (g->dir);
}

static gchar *
file_in (Gateway * g, const gchar * name)
{
  return g_build_filename (g->dir, name, NULL);
}

/* Writes text into path in place: the same file (inode), as an editor
 * saving over it may. */
static void
write_in_place (const gchar * path, const gchar * text)
{
  FILE *f = fopen (path, "w");

  fail_unless (f != NULL, "%s", path);
  fail_unless (fputs (text, f) >= 0);
  fail_unless (fclose (f) == 0);
}

/* Replaces path by a new file renamed over it (g_file_set_contents), as
 * configuration tools do. */
static void
replace_file (const gchar * path, const gchar * text)
{
  fail_unless (g_file_set_contents (path, text, -1, NULL));
}

static guint
gateway_stat_u32 (Gateway * g, const gchar * field)
{
  GstStructure *s = mcp_test_stats (g->gw, "mcastgateway-stats");
  guint v = mcp_test_stat_u32 (s, field);

  gst_structure_free (s);
  return v;
}

/* Polls the statistics until the gateway has n channels open (joined). */
static void
wait_channels (Gateway * g, guint n)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  while (gateway_stat_u32 (g, "channels") != n) {
    fail_unless (g_get_monotonic_time () < end, "timed out waiting for %u "
        "channels", n);
    g_usleep (2000);
  }
}

/* The head of an HTTP answer, up to the empty line. */
static gchar *
read_head (GSocket * s)
{
  GString *head = g_string_new (NULL);

  while (!g_str_has_suffix (head->str, "\r\n\r\n")) {
    guint8 b;

    mcp_test_recv_exact (s, &b, 1);
    g_string_append_c (head, b);
    fail_unless (head->len < 4096, "no end of the head: %s", head->str);
  }
  return g_string_free (head, FALSE);
}

/* Connects and sends "GET target" with extra header lines. */
static GSocket *
request (Gateway * g, const gchar * target, const gchar * headers)
{
  GSocket *s = mcp_test_tcp_connect (g->port);
  gchar *req = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n"
      "%s\r\n", target, g->port, headers ? headers : "");

  mcp_test_send_all (s, req, strlen (req));
  g_free (req);
  return s;
}

/* A whole answer: its status, and its body (read until the gateway
 * closes). */
static gchar *
http_get (Gateway * g, const gchar * target, const gchar * headers,
    guint * status)
{
  GSocket *s = request (g, target, headers);
  gchar *head = read_head (s);
  GString *body = g_string_new (NULL);
  guint8 buf[4096];

  fail_unless (sscanf (head, "HTTP/1.%*u %u", status) == 1, "%s", head);
  for (;;) {
    GError *err = NULL;
    gssize n = g_socket_receive (s, (gchar *) buf, sizeof (buf), NULL, &err);

    fail_unless (n >= 0, "receive: %s", err ? err->message : "?");
    if (n == 0)
      break;
    g_string_append_len (body, (const gchar *) buf, n);
  }
  g_object_unref (s);
  g_free (head);
  return g_string_free (body, FALSE);
}

/* The status of a request's whole answer. */
static guint
http_status (Gateway * g, const gchar * target, const gchar * headers)
{
  guint status;

  g_free (http_get (g, target, headers, &status));
  return status;
}

static gchar *
channel_path (Gateway * g)
{
  return g_strdup_printf ("/udp/" GROUP ":%u", g->mport);
}

/* Sends datagram n to the group. */
static void
send_datagram (Gateway * g, guint n)
{
  GstBuffer *b = mcp_test_buffer (n, SIZE);
  GstMapInfo map;

  gst_buffer_map (b, &map, GST_MAP_READ);
  mcp_test_udp_send (g->sender, GROUP, g->mport, map.data, map.size);
  gst_buffer_unmap (b, &map);
  gst_buffer_unref (b);
}

static void
read_datagram (GSocket * client, guint n)
{
  guint8 buf[SIZE];

  mcp_test_recv_exact (client, buf, SIZE);
  fail_unless (mcp_test_check_bytes (n, buf, SIZE), "datagram %u", n);
}

/* Sends datagram n; each client reads it. */
static void
stream (Gateway * g, GSocket ** clients, guint n_clients, guint n)
{
  guint k;

  send_datagram (g, n);
  for (k = 0; k < n_clients; k++)
    read_datagram (clients[k], n);
}

/* A new client of the channel. The first one (first) waits for the
 * channel's first datagram: n is sent once the group is joined, and the
 * client reads its head, then datagram n. A later one is answered at once
 * and gets the datagrams sent after. */
static GSocket *
channel_client (Gateway * g, gboolean first, guint n)
{
  gchar *path = channel_path (g), *head;
  GSocket *s = request (g, path, NULL);

  g_free (path);
  if (first) {
    wait_channels (g, 1);
    send_datagram (g, n);
  }
  head = read_head (s);
  fail_unless (g_str_has_prefix (head, "HTTP/1.0 200 "), "%s", head);
  g_free (head);
  if (first)
    read_datagram (s, n);
  return s;
}

/* The next warning on the bus must say text (and text2, if given). */
static void
expect_warning (Gateway * g, const gchar * text, const gchar * text2)
{
  GstMessage *msg = gst_bus_timed_pop_filtered (g->bus,
      MCP_TEST_TIMEOUT_US * GST_USECOND, GST_MESSAGE_WARNING);
  GError *err = NULL;

  fail_unless (msg != NULL, "no warning (expected '%s')", text);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, text) != NULL, "'%s' does not say '%s'",
      err->message, text);
  fail_unless (!text2 || strstr (err->message, text2) != NULL,
      "'%s' does not say '%s'", err->message, text2);
  g_error_free (err);
  gst_message_unref (msg);
}

static void
expect_no_warning (Gateway * g)
{
  GstMessage *msg = gst_bus_pop_filtered (g->bus, GST_MESSAGE_WARNING);
  GError *err = NULL;

  if (msg) {
    gst_message_parse_warning (msg, &err, NULL);
    fail ("unexpected warning: %s", err->message);
  }
}

/* GET /playlist.m3u: 200, with the entry of channel `name` rewritten to
 * this gateway. */
static void
expect_playlist (Gateway * g, const gchar * name)
{
  guint status;
  gchar *body = http_get (g, "/playlist.m3u", NULL, &status);
  gchar *entry = g_strdup_printf ("#EXTINF:-1,%s\nhttp://127.0.0.1:%u/udp/"
      GROUP ":5000\n", name, g->port);

  fail_unless_equals_int (status, 200);
  fail_unless (strstr (body, entry) != NULL, "playlist '%s' lacks '%s'",
      body, entry);
  g_free (entry);
  g_free (body);
}

static gchar *
playlist_text (const gchar * name)
{
  return g_strdup_printf ("#EXTM3U\n#EXTINF:-1,%s\nudp://@" GROUP ":5000\n",
      name);
}

/* The playlist, changed while PLAYING: rewritten in place or replaced on
 * disk, it is read again at the next request; set to another file, or to
 * the same path again, it is read at once; a file that cannot be read
 * leaves the playlist read before, with a warning (once). A channel
 * client streams on throughout. */
GST_START_TEST (test_playlist_changed_while_playing)
{
  Gateway g;
  GSocket *client;
  gchar *one, *two, *text, *value = NULL;
  GstStructure *st;
  guint n = 0;

  gateway_init (&g);
  one = file_in (&g, "one.m3u");
  two = file_in (&g, "two.m3u");
  text = playlist_text ("One");
  write_in_place (one, text);
  g_free (text);
  gateway_start (&g, "playlist=@DIR@/one.m3u");
  client = channel_client (&g, TRUE, n++);
  expect_playlist (&g, "One");
  stream (&g, &client, 1, n++);

  /* rewritten in place: read again at the next request */
  text = playlist_text ("One, rewritten");
  write_in_place (one, text);
  g_free (text);
  expect_playlist (&g, "One, rewritten");
  stream (&g, &client, 1, n++);
  /* replaced (renamed over) by a file of the same size */
  text = playlist_text ("One, replaced.");
  replace_file (one, text);
  g_free (text);
  expect_playlist (&g, "One, replaced.");
  stream (&g, &client, 1, n++);

  /* another file: read when set */
  text = playlist_text ("Two");
  write_in_place (two, text);
  g_free (text);
  g_object_set (g.gw, "playlist", two, NULL);
  expect_playlist (&g, "Two");
  stream (&g, &client, 1, n++);
  /* the same path set again: read again */
  text = playlist_text ("Two again");
  replace_file (two, text);
  g_free (text);
  g_object_set (g.gw, "playlist", two, NULL);
  expect_playlist (&g, "Two again");
  expect_no_warning (&g);

  /* a file that cannot be read: ignored, the playlist read before stays */
  g_object_set (g.gw, "playlist", "/nonexistent/list.m3u", NULL);
  expect_warning (&g, "Ignored a new value of property \"playlist\"",
      "/nonexistent/list.m3u");
  g_object_get (g.gw, "playlist", &value, NULL);
  fail_unless_equals_string (value, two);
  g_free (value);
  expect_playlist (&g, "Two again");
  stream (&g, &client, 1, n++);
  /* the file gone from disk: set again, it is read at once, and ignored;
   * at a request, served as read before, told once */
  fail_unless (g_unlink (two) == 0);
  g_object_set (g.gw, "playlist", two, NULL);
  expect_warning (&g, "Ignored a new value of property \"playlist\"", two);
  expect_playlist (&g, "Two again");
  expect_warning (&g, "Cannot read the playlist again", two);
  expect_playlist (&g, "Two again");
  expect_no_warning (&g);
  /* back: read again */
  text = playlist_text ("Two, back");
  write_in_place (two, text);
  g_free (text);
  expect_playlist (&g, "Two, back");
  /* none */
  g_object_set (g.gw, "playlist", "", NULL);
  fail_unless_equals_int (http_status (&g, "/playlist.m3u", NULL), 404);
  stream (&g, &client, 1, n++);

  /* the channel client never missed a datagram, nor was it ended */
  st = mcp_test_stats (g.gw, "mcastgateway-stats");
  fail_unless_equals_int (mcp_test_stat_u32 (st, "clients"), 1);
  fail_unless_equals_uint64 (mcp_test_stat_field (st, "datagrams-sent"), n);
  fail_unless_equals_uint64 (mcp_test_stat_field (st, "clients-total"), 1);
  gst_structure_free (st);
  expect_no_warning (&g);
  g_object_unref (client);
  g_free (one);
  g_free (two);
  gateway_teardown (&g);
}

GST_END_TEST;

/* The other settings a reload changes: groups, max-channel-clients, the
 * token (token-file), the queue limits and allow. Each applies to new
 * requests; the clients of the channel stream on. A value that does not
 * parse or cannot be read is ignored with a warning naming it. */
GST_START_TEST (test_settings_changed_while_playing)
{
  Gateway g;
  GSocket *c[2];
  gchar *path, *token_file, *value = NULL, *auth;
  GstStructure *st;
  GSocket *refused;
  guint n = 0;

  gateway_init (&g);
  gateway_start (&g, "groups=239.255.0.0/16");
  path = channel_path (&g);
  c[0] = channel_client (&g, TRUE, n++);

  /* the channel's group no longer allowed: its client stays */
  g_object_set (g.gw, "groups", "239.254.0.0/16", NULL);
  stream (&g, c, 1, n++);
  fail_unless_equals_int (http_status (&g, path, NULL), 403);
  g_object_set (g.gw, "groups", "239.254.0.0/16,239.1.2.3/8", NULL);
  expect_warning (&g, "Ignored a new value of property \"groups\"",
      "239.1.2.3/8");
  g_object_get (g.gw, "groups", &value, NULL);
  fail_unless_equals_string (value, "239.254.0.0/16");
  g_free (value);
  fail_unless_equals_int (http_status (&g, path, NULL), 403);
  stream (&g, c, 1, n++);
  /* any group again: a second client */
  g_object_set (g.gw, "groups", "", NULL);
  c[1] = channel_client (&g, FALSE, 0);
  stream (&g, c, 2, n++);

  /* max-channel-clients below the clients there: both stay, a third gets
   * 503; the queue limits change under them */
  g_object_set (g.gw, "max-channel-clients", 1, "max-queue-bytes",
      (guint64) 1 << 20, "max-queue-time", (guint64) GST_SECOND,
      "slow-client-policy", 1, NULL);
  fail_unless_equals_int (http_status (&g, path, NULL), 503);
  stream (&g, c, 2, n++);
  g_object_set (g.gw, "max-channel-clients", 0, NULL);

  /* a token */
  token_file = file_in (&g, "token");
  fail_unless (g_file_set_contents (token_file, "s3cret\n", -1, NULL));
  fail_unless (g_chmod (token_file, 0600) == 0);
  g_object_set (g.gw, "token-file", token_file, NULL);
  fail_unless_equals_int (http_status (&g, "/stats", NULL), 401);
  fail_unless_equals_int (http_status (&g, "/stats?token=s3cret", NULL), 200);
  stream (&g, c, 2, n++);
  /* a token file open to others: ignored, the token before stays */
  fail_unless (g_chmod (token_file, 0644) == 0);
  g_object_set (g.gw, "token-file", token_file, NULL);
  expect_warning (&g, "Ignored a new value of property \"token-file\"",
      token_file);
  fail_unless_equals_int (http_status (&g, "/stats?token=s3cret", NULL), 200);
  /* a new token (the same path, read again) */
  fail_unless (g_file_set_contents (token_file, "an0ther", -1, NULL));
  fail_unless (g_chmod (token_file, 0600) == 0);
  g_object_set (g.gw, "token-file", token_file, NULL);
  auth = g_strdup ("Authorization: Bearer an0ther\r\n");
  fail_unless_equals_int (http_status (&g, "/stats", auth), 200);
  fail_unless_equals_int (http_status (&g, "/stats?token=s3cret", NULL), 401);
  g_free (auth);
  /* none */
  g_object_set (g.gw, "token-file", "", NULL);
  fail_unless_equals_int (http_status (&g, "/stats", NULL), 200);

  /* allow without loopback: a new connection is closed at once, the
   * clients stay */
  g_object_set (g.gw, "allow", "10.0.0.0/8", NULL);
  refused = mcp_test_tcp_connect (g.port);
  fail_unless (mcp_test_wait_closed (refused));
  g_object_unref (refused);
  expect_warning (&g, "not in the allow-list", NULL);
  stream (&g, c, 2, n++);
  g_object_set (g.gw, "allow", "", NULL);
  fail_unless_equals_int (http_status (&g, "/stats", NULL), 200);

  st = mcp_test_stats (g.gw, "mcastgateway-stats");
  fail_unless_equals_int (mcp_test_stat_u32 (st, "clients"), 2);
  fail_unless_equals_uint64 (mcp_test_stat_field (st, "refused-allow-list"), 1);
  fail_unless_equals_uint64 (mcp_test_stat_field (st, "requests-forbidden"), 2);
  fail_unless_equals_uint64 (mcp_test_stat_field (st,
          "requests-refused-limit"), 1);
  /* the first client all n datagrams, the second those from 3 on */
  fail_unless_equals_uint64 (mcp_test_stat_field (st, "datagrams-sent"),
      n + n - 3);
  gst_structure_free (st);
  expect_no_warning (&g);
  g_object_unref (c[0]);
  g_object_unref (c[1]);
  g_free (token_file);
  g_free (path);
  gateway_teardown (&g);
}

GST_END_TEST;

static Suite *
mcastgateway_suite (void)
{
  Suite *s = suite_create ("mcastgateway");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_playlist_changed_while_playing);
  tcase_add_test (tc, test_settings_changed_while_playing);
  return s;
}

GST_CHECK_MAIN (mcastgateway);
