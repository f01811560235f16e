/* mcastproxy — tcpsplitsink element tests: HTTP clients of a framing=auto
 * listener, byte for byte. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "gstmcpstats.h"
#include "mcp-check-fixtures.h"
#include "mcp-http.h"

#define TS_CAPS "video/mpegts, systemstream=(boolean)true, packetsize=(int)188"

static const gchar STREAM_HEAD_11[] = "HTTP/1.1 200 OK\r\n"
    "Server: mcastproxy\r\nContent-Type: video/mp2t\r\n"
    "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";

/* A client that has sent text. */
static GSocket *
connect_and_send (guint port, const gchar * text)
{
  GSocket *s = mcp_test_tcp_connect (port);

  mcp_test_send_all (s, text, strlen (text));
  return s;
}

/* Sends a request, reads everything until the sink closes. */
static gchar *
http_exchange (guint port, const gchar * request, gsize * len)
{
  GSocket *s = connect_and_send (port, request);
  GString *out = g_string_new (NULL);

  for (;;) {
    gchar buf[4096];
    GError *err = NULL;
    gssize n = g_socket_receive (s, buf, sizeof (buf), NULL, &err);

    fail_unless (n >= 0, "receive: %s", err ? err->message : "?");
    if (n == 0)
      break;
    g_string_append_len (out, buf, n);
  }
  g_object_unref (s);
  *len = out->len;
  return g_string_free (out, FALSE);
}

static void
assert_exchange (guint port, const gchar * request, const gchar * expected)
{
  gsize len;
  gchar *got = http_exchange (port, request, &len);

  fail_unless_equals_int (len, strlen (expected));
  fail_unless_equals_string (got, expected);
  g_free (got);
}

/* Waits for removal n (1-based) and checks its reason. */
static void
expect_removed (SinkFixture * f, guint n, const gchar * reason)
{
  gchar *ev, *bar;

  mcp_test_events_wait (&f->removed, n);
  ev = mcp_test_events_get (&f->removed, n - 1);
  bar = strchr (ev, '|');
  fail_unless (bar != NULL);
  fail_unless_equals_string (bar + 1, reason);
  g_free (ev);
}

static gchar *
error_response (const gchar * version, const gchar * status,
    const gchar * extra, gboolean body)
{
  gchar *text = g_strdup_printf ("%s\n", status);
  gchar *r = g_strdup_printf ("HTTP/%s %s\r\nServer: mcastproxy\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %u\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\n%s\r\n%s", version,
      status, (guint) strlen (text), extra ? extra : "", body ? text : "");

  g_free (text);
  return r;
}

/* Pushes datagram n (1316 bytes), which client c must get as it is. */
static void
push_and_receive (SinkFixture * f, GSocket * c, guint n)
{
  guint8 buf[1316];

  fail_unless_equals_int (gst_harness_push (f->h, mcp_test_buffer (n,
              sizeof (buf))), GST_FLOW_OK);
  mcp_test_recv_exact (c, buf, sizeof (buf));
  fail_unless (mcp_test_check_bytes (n, buf, sizeof (buf)));
}

/* ---- a small strict JSON reader: checks the syntax, keeps the top-level
 * members as their text ------------------------------------------------- */

static const gchar *json_value (const gchar * p);

static const gchar *
json_ws (const gchar * p)
{
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
    p++;
  return p;
}

static const gchar *
json_string (const gchar * p)
{
  if (*p++ != '"')
    return NULL;
  while (*p && *p != '"') {
    if ((guchar) * p < 0x20)
      return NULL;
    if (*p == '\\') {
      p++;
      if (*p == 'u') {
        guint i;

        for (i = 1; i <= 4; i++)
          if (!g_ascii_isxdigit (p[i]))
            return NULL;
        p += 4;
      } else if (!*p || !strchr ("\"\\/bfnrt", *p)) {
        return NULL;
      }
    }
    p++;
  }
  return *p == '"' ? p + 1 : NULL;
}

static const gchar *
json_members (const gchar * p, gchar close, GHashTable * top)
{
  p = json_ws (p + 1);
  if (*p == close)
    return p + 1;
  for (;;) {
    const gchar *key = p, *v;

    if (close == '}') {
      p = json_string (p);
      if (!p)
        return NULL;
      p = json_ws (p);
      if (*p++ != ':')
        return NULL;
      p = json_ws (p);
    }
    v = p;
    p = json_value (p);
    if (!p)
      return NULL;
    if (top)
      g_hash_table_insert (top, g_strndup (key + 1, strchr (key + 1,
                  '"') - key - 1), g_strndup (v, p - v));
    p = json_ws (p);
    if (*p == close)
      return p + 1;
    if (*p++ != ',')
      return NULL;
    p = json_ws (p);
  }
}

static const gchar *
json_value (const gchar * p)
{
  if (*p == '{' || *p == '[')
    return json_members (p, *p == '{' ? '}' : ']', NULL);
  if (*p == '"')
    return json_string (p);
  if (g_str_has_prefix (p, "true"))
    return p + 4;
  if (g_str_has_prefix (p, "false"))
    return p + 5;
  if (g_str_has_prefix (p, "null"))
    return p + 4;
  if (*p == '-' || g_ascii_isdigit (*p)) {
    gchar *end;

    g_ascii_strtod (p, &end);
    return end > p ? end : NULL;
  }
  return NULL;
}

/* The members of a JSON object (name → JSON text), or NULL when the text
 * is not exactly one valid object. */
static GHashTable *
json_parse_object (const gchar * text)
{
  GHashTable *top = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  const gchar *p = json_ws (text);

  if (*p != '{' || !(p = json_members (p, '}', top)) || *json_ws (p)) {
    g_hash_table_unref (top);
    return NULL;
  }
  return top;
}

/* ---- tests ------------------------------------------------------------- */

GST_START_TEST (test_http_get_streams)
{
  SinkFixture f;
  GSocket *c;
  const gchar req[] = "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";
  guint8 head[sizeof (STREAM_HEAD_11) - 1];
  guint8 buf[65507];
  gchar *ev;
  guint i;

  sink_setup (&f, "");
  gst_harness_set_src_caps_str (f.h, TS_CAPS);
  c = connect_and_send (f.port, req);
  mcp_test_events_wait (&f.added, 1);
  ev = mcp_test_events_get (&f.added, 0);
  fail_unless (g_str_has_suffix (ev, "|raw"), "%s", ev);
  g_free (ev);
  mcp_test_recv_exact (c, head, sizeof (head));
  fail_unless_equals_int (memcmp (head, STREAM_HEAD_11, sizeof (head)), 0);
  /* then the datagrams' bytes, nothing else; what the client sends more is
   * dropped */
  mcp_test_send_all (c, "junk", 4);
  for (i = 0; i < MCP_N_TEST_SIZES; i++)
    fail_unless_equals_int (gst_harness_push (f.h,
            mcp_test_buffer (i, mcp_test_sizes[i])), GST_FLOW_OK);
  for (i = 0; i < MCP_N_TEST_SIZES; i++) {
    mcp_test_recv_exact (c, buf, mcp_test_sizes[i]);
    fail_unless (mcp_test_check_bytes (i, buf, mcp_test_sizes[i]));
  }
  g_object_unref (c);
  expect_removed (&f, 1, "peer closed the connection");
  sink_teardown (&f);
}

GST_END_TEST;

/* HTTP/1.0 gets an HTTP/1.0 answer; other caps application/octet-stream;
 * the request may come in pieces. */
GST_START_TEST (test_http_10_in_pieces)
{
  SinkFixture f;
  GSocket *c;
  const gchar *parts[] = { "G", "ET /", " HTTP/1.0\r\n", "\r\n" };
  const gchar expected[] = "HTTP/1.0 200 OK\r\nServer: mcastproxy\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
  guint8 head[sizeof (expected) - 1];
  guint i;

  sink_setup (&f, "detect-timeout=0");
  c = mcp_test_tcp_connect (f.port);
  for (i = 0; i < G_N_ELEMENTS (parts); i++)
    mcp_test_send_all (c, parts[i], strlen (parts[i]));
  mcp_test_events_wait (&f.added, 1);
  mcp_test_recv_exact (c, head, sizeof (head));
  fail_unless_equals_int (memcmp (head, expected, sizeof (head)), 0);
  push_and_receive (&f, c, 7);
  g_object_unref (c);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_http_head)
{
  SinkFixture f;

  sink_setup (&f, "");
  gst_harness_set_src_caps_str (f.h, TS_CAPS);
  assert_exchange (f.port, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
      STREAM_HEAD_11);
  expect_removed (&f, 1, "HTTP HEAD answered");
  fail_unless_equals_int (f.added.count, 0);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_http_errors)
{
  SinkFixture f;
  GString *big;
  gchar *r;

  sink_setup (&f, "http-path=/live.ts");
  r = error_response ("1.1", "404 Not Found", NULL, TRUE);
  assert_exchange (f.port, "GET / HTTP/1.1\r\n\r\n", r);
  g_free (r);
  expect_removed (&f, 1, "HTTP 404 for /");
  r = error_response ("1.0", "404 Not Found", NULL, FALSE);
  assert_exchange (f.port, "HEAD /live HTTP/1.0\r\n\r\n", r);
  g_free (r);
  expect_removed (&f, 2, "HTTP 404 for /live");

  r = error_response ("1.1", "405 Method Not Allowed",
      "Allow: GET, HEAD\r\n", TRUE);
  assert_exchange (f.port, "POST /live.ts HTTP/1.1\r\nContent-Length: 3"
      "\r\n\r\nabc", r);
  g_free (r);
  expect_removed (&f, 3, "HTTP method POST not allowed");

  r = error_response ("1.0", "400 Bad Request", NULL, TRUE);
  assert_exchange (f.port, "GET /live.ts HTTP/2.0\r\n\r\n", r);
  expect_removed (&f, 4, "bad HTTP request: not an HTTP/1.x request line");
  assert_exchange (f.port, "GET /live.ts HTTP/1.1\r\nBad Header\r\n\r\n", r);
  expect_removed (&f, 5, "bad HTTP request: HTTP header line without a "
      "name");
  /* a head that does not end within 8 KiB */
  big = g_string_new ("GET /live.ts HTTP/1.1\r\nX: ");
  while (big->len < MCP_HTTP_MAX_HEAD + 100)
    g_string_append_c (big, 'a');
  assert_exchange (f.port, big->str, r);
  g_string_free (big, TRUE);
  expect_removed (&f, 6, "bad HTTP request: HTTP request head longer than "
      "8192 bytes");
  g_free (r);

  /* the right path still streams */
  {
    GSocket *c = connect_and_send (f.port,
        "GET /live.ts?t=1 HTTP/1.1\r\n\r\n");

    mcp_test_events_wait (&f.added, 1);
    g_object_unref (c);
  }
  fail_unless_equals_int (f.added.count, 1);
  sink_teardown (&f);
}

GST_END_TEST;

/* A request head must be complete within handshake-timeout. */
GST_START_TEST (test_http_slow_head)
{
  SinkFixture f;
  GSocket *c;
  const gchar part[] = "GET / HTTP/1.1\r\nHost: x\r\n";

  sink_setup (&f, "handshake-timeout=200000000");
  c = connect_and_send (f.port, part);
  fail_unless (mcp_test_wait_closed (c));
  expect_removed (&f, 1, "HTTP request not complete within 200 ms");
  fail_unless_equals_int (f.added.count, 0);
  g_object_unref (c);
  sink_teardown (&f);
}

GST_END_TEST;

/* http-path="": a GET is a raw client like any other talker. */
GST_START_TEST (test_http_off)
{
  SinkFixture f;
  GSocket *c;
  const gchar req[] = "GET / HTTP/1.1\r\n\r\n";

  sink_setup (&f, "http-path=");
  c = connect_and_send (f.port, req);
  mcp_test_events_wait (&f.added, 1);
  push_and_receive (&f, c, 3);
  g_object_unref (c);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_http_stats)
{
  SinkFixture f;
  GSocket *raw;
  gchar *resp, *body, *head, *cl, *name;
  GHashTable *top, *elements, *stats;
  gsize len;
  guint8 buf[100];
  guint i;

  sink_setup (&f, "detect-timeout=50000000");
  raw = mcp_test_tcp_connect (f.port);
  mcp_test_events_wait (&f.added, 1);
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (f.h, mcp_test_buffer (i, 100)),
        GST_FLOW_OK);
  for (i = 0; i < 3; i++)
    mcp_test_recv_exact (raw, buf, 100);

  resp = http_exchange (f.port, "GET /stats HTTP/1.1\r\n\r\n", &len);
  body = strstr (resp, "\r\n\r\n");
  fail_unless (body != NULL);
  *body = '\0';
  body += 4;
  head = g_strdup_printf ("HTTP/1.1 200 OK\r\nServer: mcastproxy\r\n"
      "Content-Type: application/json\r\nContent-Length: %u\r\n"
      "Cache-Control: no-cache\r\nConnection: close", (guint) strlen (body));
  fail_unless_equals_string (resp, head);
  g_free (head);
  fail_unless_equals_int (strlen (body), len - (body - resp));

  /* {"version": ..., "uptime-seconds": ..., "elements": {NAME: {...}}} */
  top = json_parse_object (body);
  fail_unless (top != NULL, "not JSON: %s", body);
  fail_unless_equals_string (g_hash_table_lookup (top, "version"),
      "\"" VERSION "\"");
  fail_unless (g_ascii_strtod (g_hash_table_lookup (top, "uptime-seconds"),
          NULL) > 0);
  elements = json_parse_object (g_hash_table_lookup (top, "elements"));
  fail_unless (elements != NULL);
  fail_unless_equals_int (g_hash_table_size (elements), 1);
  name = gst_element_get_name (f.h->element);
  stats = json_parse_object (g_hash_table_lookup (elements, name));
  g_free (name);
  fail_unless (stats != NULL, "%s", body);
  fail_unless_equals_string (g_hash_table_lookup (stats, "factory"),
      "\"tcpsplitsink\"");
  fail_unless_equals_string (g_hash_table_lookup (stats, "datagrams-in"), "3");
  fail_unless_equals_string (g_hash_table_lookup (stats, "bytes-in"), "300");
  fail_unless_equals_string (g_hash_table_lookup (stats, "datagrams-sent"),
      "3");
  fail_unless_equals_string (g_hash_table_lookup (stats, "clients"), "1");
  cl = g_hash_table_lookup (stats, "client-list");
  fail_unless (g_str_has_prefix (cl, "[{\"address\":\"127.0.0.1:"), "%s", cl);
  /* ids as strings, durations in seconds */
  fail_unless (strstr (cl, "\"framing\":\"raw\",\"peer-id\":\"0\","
          "\"standby\":false,\"datagrams-sent\":3,") != NULL, "%s", cl);
  fail_unless (strstr (cl, "\"lag-time-seconds\":0,") != NULL, "%s", cl);
  fail_unless (strstr (cl, "\"connect-duration-seconds\":") != NULL, "%s", cl);
  g_hash_table_unref (stats);
  g_hash_table_unref (elements);
  g_hash_table_unref (top);
  g_free (resp);
  expect_removed (&f, 1, "HTTP /stats answered");

  /* HEAD /stats: the same head, no body */
  resp = http_exchange (f.port, "HEAD /stats HTTP/1.0\r\n\r\n", &len);
  fail_unless (g_str_has_prefix (resp, "HTTP/1.0 200 OK\r\n"));
  fail_unless (g_str_has_suffix (resp, "Connection: close\r\n\r\n"));
  g_free (resp);
  g_object_unref (raw);
  sink_teardown (&f);
}

GST_END_TEST;

/* With a secret every HTTP client is refused, /stats too. */
GST_START_TEST (test_http_auth_refused)
{
  SinkFixture f;
  gchar *r;

  sink_setup (&f, "auth-secret=0123456789abcdef0123456789abcdef");
  r = error_response ("1.1", "403 Forbidden", NULL, TRUE);
  assert_exchange (f.port, "GET / HTTP/1.1\r\n\r\n", r);
  expect_removed (&f, 1, "authentication required, but the peer speaks "
      "HTTP");
  assert_exchange (f.port, "GET /stats HTTP/1.1\r\n\r\n", r);
  expect_removed (&f, 2, "authentication required, but the peer speaks "
      "HTTP");
  g_free (r);
  fail_unless_equals_int (f.added.count, 0);
  sink_teardown (&f);
}

GST_END_TEST;

GST_START_TEST (test_structure_to_json)
{
  GstStructure *s, *inner;
  GValue arr = G_VALUE_INIT, v = G_VALUE_INIT;
  gchar *json;

  inner = gst_structure_new ("client", "address", G_TYPE_STRING,
      "[::1]:5", "on", G_TYPE_BOOLEAN, TRUE, NULL);
  g_value_init (&arr, GST_TYPE_ARRAY);
  g_value_init (&v, GST_TYPE_STRUCTURE);
  gst_value_set_structure (&v, inner);
  gst_value_array_append_and_take_value (&arr, &v);
  gst_structure_free (inner);
  s = gst_structure_new ("x-stats",
      "text", G_TYPE_STRING, "a\"b\\c\n",
      "none", G_TYPE_STRING, NULL,
      "i", G_TYPE_INT, -3,
      "u", G_TYPE_UINT, 4000000000u,
      "big", G_TYPE_UINT64, G_MAXUINT64,
      "peer-id", G_TYPE_UINT64, G_GUINT64_CONSTANT (3375086579507320967),
      "lag-time", G_TYPE_UINT64, G_GUINT64_CONSTANT (1500000000),
      "count-id", G_TYPE_INT, 3,
      "neg", G_TYPE_INT64, G_MININT64,
      "d", G_TYPE_DOUBLE, 0.5, "off", G_TYPE_BOOLEAN, FALSE, NULL);
  gst_structure_take_value (s, "list", &arr);
  json = gst_mcp_structure_to_json (s);
  fail_unless_equals_string (json, "{\"text\":\"a\\\"b\\\\c\\n\","
      "\"none\":null,\"i\":-3,\"u\":4000000000,"
      "\"big\":18446744073709551615,\"peer-id\":\"3375086579507320967\","
      "\"lag-time-seconds\":1.5,\"count-id\":3,"
      "\"neg\":-9223372036854775808,"
      "\"d\":0.5,\"off\":false,"
      "\"list\":[{\"address\":\"[::1]:5\",\"on\":true}]}");
  g_free (json);
  gst_structure_free (s);

  s = gst_structure_new_empty ("empty");
  json = gst_mcp_structure_to_json (s);
  fail_unless_equals_string (json, "{}");
  g_free (json);
  gst_structure_free (s);
}

GST_END_TEST;

static Suite *
tcpsplitsink_http_suite (void)
{
  Suite *s = suite_create ("tcpsplitsink-http");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_http_get_streams);
  tcase_add_test (tc, test_http_10_in_pieces);
  tcase_add_test (tc, test_http_head);
  tcase_add_test (tc, test_http_errors);
  tcase_add_test (tc, test_http_slow_head);
  tcase_add_test (tc, test_http_off);
  tcase_add_test (tc, test_http_stats);
  tcase_add_test (tc, test_http_auth_refused);
  tcase_add_test (tc, test_structure_to_json);
  return s;
}

GST_CHECK_MAIN (tcpsplitsink_http);
