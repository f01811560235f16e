/* mcastproxy — the URI handlers (mcast://, tcpsplit://): element choice,
 * properties, round trips, errors, and real streams through uridecodebin,
 * playbin and gst-launch-1.0. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <gst/app/gstappsrc.h>

#include "mcp-check-util.h"

#define TEST_CAPS "application/x-mcp-uri-test"
#define AUDIO_CAPS "audio/x-raw,format=S16LE,layout=interleaved,rate=8000,channels=1"

/* ---- element choice and properties ----------------------------------- */

static GstElement *
make (GstURIType type, const gchar * uri, const gchar * factory)
{
  GError *err = NULL;
  GstElement *e = gst_element_make_from_uri (type, uri, NULL, &err);

  fail_unless (e != NULL, "%s: %s", uri, err ? err->message : "?");
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (e)),
      factory);
  return e;
}

/* Checks "name=value name=value" (strings as they are, "(null)" for
 * NULL; other values as gst_value_serialize() writes them). */
static void
assert_props (GstElement * e, const gchar * props)
{
  gchar **kv = g_strsplit (props, " ", -1);
  guint i;

  for (i = 0; kv[i]; i++) {
    gchar **nv = g_strsplit (kv[i], "=", 2);
    GValue v = G_VALUE_INIT;
    gchar *got;

    g_object_get_property (G_OBJECT (e), nv[0], &v);
    if (G_VALUE_HOLDS_STRING (&v))
      got = g_strdup (g_value_get_string (&v) ? g_value_get_string (&v) :
          "(null)");
    else
      got = gst_value_serialize (&v);
    fail_unless (g_str_equal (got, nv[1]), "%s: %s, not %s", nv[0], got, nv[1]);
    g_free (got);
    g_value_unset (&v);
    g_strfreev (nv);
  }
  g_strfreev (kv);
}

/* Takes caps. */
static void
assert_caps (GstCaps * caps, const gchar * want)
{
  GstCaps *w = gst_caps_from_string (want);

  fail_unless (caps != NULL);
  fail_unless (gst_caps_is_equal (caps, w), "%" GST_PTR_FORMAT, caps);
  gst_caps_unref (w);
  gst_caps_unref (caps);
}

static guint
get_uint (GstElement * e, const gchar * name)
{
  guint v;

  g_object_get (e, name, &v, NULL);
  return v;
}

GST_START_TEST (test_make_mcast_src)
{
  GstElement *e = make (GST_URI_SRC, "mcast://10.0.0.1,10.0.0.2@"
      "[ff3e::1234]:5004?multicast-iface=lo&buffer-size=65536"
      "&caps=" TEST_CAPS "&timeout=1000000000", "mcastsrc-relay");
  GstCaps *caps;

  assert_props (e, "address=ff3e::1234 port=5004 "
      "multicast-source=10.0.0.1,10.0.0.2 multicast-iface=lo "
      "buffer-size=65536 timeout=1000000000");
  g_object_get (e, "caps", &caps, NULL);
  assert_caps (caps, TEST_CAPS);
  gst_object_unref (e);

  e = make (GST_URI_SRC, "mcast://239.1.2.3:1234", "mcastsrc-relay");
  assert_props (e, "address=239.1.2.3 port=1234 multicast-source=(null)");
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_make_mcast_sink)
{
  GstElement *e = make (GST_URI_SINK,
      "mcast://239.1.2.3:5004?ttl-mc=4&loop=true&multicast-iface=lo",
      "tcpremcastsink");

  assert_props (e, "address=239.1.2.3 port=5004 multicast-iface=lo "
      "ttl-mc=4 loop=true");
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_make_tcpsplit)
{
  GstElement *e = make (GST_URI_SRC, "tcpsplit://:5200?mode=listener",
      "tcpsplitsrc");

  assert_props (e, "host=(null) port=5200 mode=listener");
  gst_object_unref (e);

  e = make (GST_URI_SRC, "tcpsplit://relay.example.net:5100?framing=mpx"
      "&max-hops=3", "tcpsplitsrc");
  assert_props (e, "host=relay.example.net port=5100 mode=caller "
      "framing=mpx max-hops=3");
  gst_object_unref (e);

  /* a channel of a gateway: the URI's path is the path property */
  e = make (GST_URI_SRC, "tcpsplit://gw.example.net:4022/udp/232.1.1.1:5000"
      "?framing=mpx", "tcpsplitsrc");
  assert_props (e, "host=gw.example.net port=4022 framing=mpx "
      "path=/udp/232.1.1.1:5000");
  /* a URI without a path takes it away, as it does a source */
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "tcpsplit://gw.example.net:4022", NULL));
  assert_props (e, "path=(null)");
  gst_object_unref (e);

  e = make (GST_URI_SINK, "tcpsplit://[::1]:5201?mode=caller"
      "&framing=rfc4571&allow=10.0.0.0/8,::1/128", "tcpsplitsink");
  assert_props (e, "host=::1 port=5201 mode=caller framing=rfc4571 "
      "allow=10.0.0.0/8,::1/128");
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- round trips ------------------------------------------------------ */

static void
assert_round_trip (GstURIType type, const gchar * uri, const gchar * want)
{
  GstElement *e = gst_element_make_from_uri (type, uri, NULL, NULL);
  GstElement *again;
  GError *err = NULL;
  gchar *got, *got_again;

  fail_unless (e != NULL, "%s", uri);
  got = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (got, want);
  /* taken back by a fresh element, and by the same one */
  again = gst_element_factory_create (gst_element_get_factory (e), NULL);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (again), got, &err),
      "%s", err ? err->message : "?");
  got_again = gst_uri_handler_get_uri (GST_URI_HANDLER (again));
  fail_unless_equals_string (got_again, want);
  g_free (got_again);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e), got, NULL));
  got_again = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (got_again, want);
  g_free (got_again);
  g_free (got);
  gst_object_unref (again);
  gst_object_unref (e);
}

GST_START_TEST (test_round_trip)
{
  assert_round_trip (GST_URI_SRC, "mcast://239.1.2.3:5004",
      "mcast://239.1.2.3:5004");
  assert_round_trip (GST_URI_SRC, "MCAST://10.0.0.1@[FF3E::1234]:5004/"
      "?timeout=1000000000&multicast-iface=lo,eth0&caps=" AUDIO_CAPS,
      "mcast://10.0.0.1@[ff3e::1234]:5004?caps=audio/x-raw,%20format=(string)"
      "S16LE,%20layout=(string)interleaved,%20rate=(int)8000,%20channels=(int)1"
      "&multicast-iface=lo,eth0&timeout=1000000000");
  assert_round_trip (GST_URI_SINK, "mcast://[ff15::1]:5004?loop=true&ttl-mc=8",
      "mcast://[ff15::1]:5004?loop=true&ttl-mc=8");
  assert_round_trip (GST_URI_SRC, "tcpsplit://:0?mode=listener&framing=raw",
      "tcpsplit://:0?framing=raw&mode=listener");
  assert_round_trip (GST_URI_SINK, "tcpsplit://relay.example.net:5200?"
      "mode=caller&reconnect-delay=200000000&sync=true",
      "tcpsplit://relay.example.net:5200?mode=caller&reconnect-delay=200000000"
      "&sync=true");
  /* characters that need escaping in a value */
  assert_round_trip (GST_URI_SRC, "tcpsplit://gw:4022/rtp/10.0.0.1@232.1.1.1:"
      "5000?framing=mpx", "tcpsplit://gw:4022/rtp/10.0.0.1@232.1.1.1:5000?"
      "framing=mpx");
  assert_round_trip (GST_URI_SRC, "tcpsplit://gw:4022/", "tcpsplit://gw:4022");
  assert_round_trip (GST_URI_SINK, "tcpsplit://:5100?tls-ca=/a%20b%26c%3D%23",
      "tcpsplit://:5100?tls-ca=/a%20b%26c=%23");
}

GST_END_TEST;

GST_START_TEST (test_secret_never_in_uri)
{
  GstElement *e = make (GST_URI_SINK,
      "tcpsplit://:5100?auth-secret=hunter2&auth-secret-file=/etc/s",
      "tcpsplitsink");
  gchar *uri = gst_uri_handler_get_uri (GST_URI_HANDLER (e));

  fail_unless_equals_string (uri, "tcpsplit://:5100?auth-secret-file=/etc/s");
  g_free (uri);
  g_object_set (e, "auth-secret", "hunter3", NULL);
  uri = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless (strstr (uri, "hunter") == NULL, "%s", uri);
  g_free (uri);
  gst_object_unref (e);
}

GST_END_TEST;

/* A URI that sets the authority part again resets what it leaves out. */
GST_START_TEST (test_source_reset)
{
  GstElement *e = make (GST_URI_SRC, "mcast://10.0.0.1@239.1.1.1:5004",
      "mcastsrc-relay");

  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "mcast://239.1.1.2:5005", NULL));
  assert_props (e, "multicast-source=(null) address=239.1.1.2 port=5005");
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- errors ----------------------------------------------------------- */

typedef struct
{
  const gchar *factory;
  const gchar *uri;
  const gchar *message;         /* after "Invalid URI '<uri>': " */
} BadUri;

static const BadUri bad_uris[] = {
  {"mcastsrc-relay", "mcast://239.1.1.1", "no port"},
  {"mcastsrc-relay", "mcast://239.1.1.1:", "no port"},
  {"mcastsrc-relay", "mcast://239.1.1.1:70000",
      "bad port (expected a number from 0 to 65535)"},
  {"mcastsrc-relay", "mcast://239.1.1.1:50x4",
      "bad port (expected a number from 0 to 65535)"},
  {"mcastsrc-relay", "mcast://:5004", "no multicast group"},
  {"mcastsrc-relay", "mcast://10.1.1.1:5004",
      "'10.1.1.1' is not a multicast group (an IPv4 or IPv6 multicast "
        "address, IPv6 in brackets)"},
  {"mcastsrc-relay", "mcast://example.com:5004",
      "'example.com' is not a multicast group (an IPv4 or IPv6 multicast "
        "address, IPv6 in brackets)"},
  {"mcastsrc-relay", "mcast://[ff15::1:5004",
      "bad host (an IPv6 address goes in brackets: [ff15::1])"},
  {"mcastsrc-relay", "mcast://ff15::1:5004",
      "bad port (expected a number from 0 to 65535)"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004/path", "unexpected path "
        "'/path'"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004#x", "unexpected fragment " "'#x'"},
  {"mcastsrc-relay", "mcast:239.1.1.1:5004",
      "expected mcast://[SOURCE@]HOST:PORT"},
  {"mcastsrc-relay", "mcast://nobody@239.1.1.1:5004",
      "source 'nobody' is not a numeric IPv4 or IPv6 address"},
  {"mcastsrc-relay", "mcast://10.0.0.1,239.2.2.2@239.1.1.1:5004",
      "source '239.2.2.2' is not a unicast IP address"},
  {"tcpremcastsink", "mcast://10.0.0.1@239.1.1.1:5004",
      "tcpremcastsink0 takes no source ('10.0.0.1@')"},
  {"tcpremcastsink", "mcast://239.1.1.1:0",
      "value '0' for port is out of range"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?bogus=1",
      "unknown parameter 'bogus' (GstMcastSrcRelay has no such property)"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?name=x",
      "unknown parameter 'name' (GstMcastSrcRelay has no such property)"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?timeout",
      "parameter 'timeout' has no value"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?timeout=soon",
      "bad value 'soon' for timeout (expected guint64)"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?caps=not%20caps%2C%2C",
      "bad value 'not caps,,' for caps (expected GstCaps)"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?buffer-size=-1",
      "value '-1' for buffer-size is out of range"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?timeout=1&timeout=2",
      "parameter 'timeout' given twice"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?current-port=5",
      "parameter 'current-port' is read-only"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?port=5",
      "parameter 'port' belongs in the authority part "
        "(mcast://[SOURCE@]HOST:PORT), not the query"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?address=239.1.1.2",
      "parameter 'address' belongs in the authority part "
        "(mcast://[SOURCE@]HOST:PORT), not the query"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?multicast-source=10.0.0.1",
      "parameter 'multicast-source' belongs in the authority part "
        "(mcast://[SOURCE@]HOST:PORT), not the query"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?timeout=%zz",
      "bad %-encoding in the query"},
  {"mcastsrc-relay", "mcast://239.1.1.1:5004?timeout=%00",
      "bad %-encoding in 'timeout=%00'"},
  {"tcpsplitsrc", "tcpsplit://host", "no port"},
  {"tcpsplitsrc", "tcpsplit://me@host:5100",
      "tcpsplitsrc0 takes no source ('me@')"},
  {"tcpsplitsrc", "tcpsplit://host:5100?mode=sideways",
      "bad value 'sideways' for mode (expected GstMcpMode)"},
  {"tcpsplitsrc", "tcpsplit://host:5100?host=other",
      "parameter 'host' belongs in the authority part "
        "(tcpsplit://HOST:PORT), not the query"},
  {"tcpsplitsink", "tcpsplit://host:5100?max-clients=many",
      "bad value 'many' for max-clients (expected guint)"},
  {"tcpsplitsrc", "tcpsplit://host:5100?caps=video/x-raw,width=(int)wide",
      "bad value 'video/x-raw,width=(int)wide' for caps (expected GstCaps)"},
  {"tcpsplitsrc", "tcpsplit://host:5100?path=/udp/239.1.1.1:5000",
      "parameter 'path' belongs in the URI's path "
        "(tcpsplit://HOST:PORT/PATH), not the query"},
  {"tcpsplitsink", "tcpsplit://host:5100/udp/239.1.1.1:5000",
      "unexpected path '/udp/239.1.1.1:5000'"},
  {"tcpsplitsink", "tcpsplit://host:5100?current-port=1",
      "parameter 'current-port' is read-only"},
  {"tcpsplitsink", "tcpsplit://host:5100?framing=mpx&bogus",
      "parameter 'bogus' has no value"},
};

GST_START_TEST (test_bad_uris)
{
  const BadUri *b = &bad_uris[__i__];
  gchar *name = g_strconcat (b->factory, "0", NULL);
  GstElement *e = gst_element_factory_make (b->factory, name);
  GError *err = NULL;
  gchar *before, *after, *want;

  before = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e), b->uri, &err),
      "%s accepted", b->uri);
  fail_unless (err != NULL);
  fail_unless (g_error_matches (err, GST_URI_ERROR, GST_URI_ERROR_BAD_URI),
      "%s: %s", b->uri, err->message);
  want = g_strdup_printf ("Invalid URI '%s': %s", b->uri, b->message);
  fail_unless_equals_string (err->message, want);
  /* nothing set */
  after = gst_uri_handler_get_uri (GST_URI_HANDLER (e));
  fail_unless_equals_string (after, before);
  g_free (want);
  g_free (before);
  g_free (after);
  g_error_free (err);
  g_free (name);
  gst_object_unref (e);
}

GST_END_TEST;

GST_START_TEST (test_no_element_for_bad_uri)
{
  GstElement *e = gst_element_factory_make ("mcastsrc-relay", NULL);
  GError *err = NULL;

  /* GstURIHandler itself refuses another scheme */
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "tcpsplit://239.1.1.1:5004", &err));
  fail_unless (g_error_matches (err, GST_URI_ERROR,
          GST_URI_ERROR_UNSUPPORTED_PROTOCOL));
  g_clear_error (&err);
  gst_object_unref (e);

  fail_unless (gst_element_make_from_uri (GST_URI_SRC,
          "mcast://10.1.1.1:5004", NULL, &err) == NULL);
  fail_unless (g_error_matches (err, GST_URI_ERROR, GST_URI_ERROR_BAD_URI));
  g_error_free (err);
}

GST_END_TEST;

GST_START_TEST (test_bad_state)
{
  GstElement *e = make (GST_URI_SRC, "mcast://239.255.7.1:0",
      "mcastsrc-relay");
  GError *err = NULL;

  gst_object_set_name (GST_OBJECT (e), "relay");

  /* READY is fine */
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "mcast://239.255.7.2:0", NULL));
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED),
      GST_STATE_CHANGE_NO_PREROLL);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (e),
          "mcast://239.255.7.3:0", &err));
  fail_unless (g_error_matches (err, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE));
  fail_unless_equals_string (err->message, "Changing the URI of "
      "relay is only possible in the NULL or READY state, not " "PAUSED");
  assert_props (e, "address=239.255.7.2");
  g_error_free (err);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (e);
}

GST_END_TEST;

/* ---- real streams ----------------------------------------------------- */

/* What a fakesink received (signal-handoffs), in order. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *buffers;
} Received;

static void
received_init (Received * r)
{
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
}

static void
received_clear (Received * r)
{
  g_ptr_array_unref (r->buffers);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
}

static void
received_handoff (GstElement * sink, GstBuffer * buf, GstPad * pad,
    Received * r)
{
  g_mutex_lock (&r->lock);
  g_ptr_array_add (r->buffers, gst_buffer_ref (buf));
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
}

static void
received_wait (Received * r, guint n)
{
  gint64 end = g_get_monotonic_time () + MCP_TEST_TIMEOUT_US;

  g_mutex_lock (&r->lock);
  while (r->buffers->len < n)
    if (!g_cond_wait_until (&r->cond, &r->lock, end))
      break;
  fail_unless_equals_int (r->buffers->len, n);
  g_mutex_unlock (&r->lock);
}

static GstElement *
counting_sink (Received * r)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (sink, "sync", FALSE, "async", FALSE, "signal-handoffs", TRUE,
      NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (received_handoff), r);
  return sink;
}

static void
uridecodebin_pad_added (GstElement * dbin, GstPad * pad, GstElement * sink)
{
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");

  fail_unless_equals_int (gst_pad_link (pad, sinkpad), GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

/* A pipeline of uridecodebin uri=URI ! counting sink, stopping at caps. */
static GstElement *
uridecodebin_pipeline (const gchar * uri, const gchar * caps, Received * r,
    GstElement ** source)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *dbin = gst_element_factory_make ("uridecodebin", NULL);
  GstElement *sink = counting_sink (r);
  GstCaps *c = gst_caps_from_string (caps);

  g_object_set (dbin, "uri", uri, "caps", c, NULL);
  gst_caps_unref (c);
  gst_bin_add_many (GST_BIN (pipeline), dbin, sink, NULL);
  g_signal_connect (dbin, "pad-added", G_CALLBACK (uridecodebin_pad_added),
      sink);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);
  g_object_get (dbin, "source", source, NULL);
  fail_unless (*source != NULL);
  return pipeline;
}

static void
assert_datagrams (Received * r, guint first, guint n, const gsize * sizes)
{
  guint i;

  g_mutex_lock (&r->lock);
  for (i = 0; i < n; i++)
    mcp_test_assert_buffer (g_ptr_array_index (r->buffers, i), first + i,
        sizes[i]);
  g_mutex_unlock (&r->lock);
}

/* Sends n test datagrams of the given sizes to group:port and checks that
 * r receives exactly those. */
static void
send_and_expect (GSocket * tx, const gchar * group, guint port, Received * r,
    guint n, const gsize * sizes)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *b = mcp_test_buffer (i, sizes[i]);
    GstMapInfo map;

    gst_buffer_map (b, &map, GST_MAP_READ);
    mcp_test_udp_send (tx, group, port, map.data, map.size);
    gst_buffer_unmap (b, &map);
    gst_buffer_unref (b);
  }
  received_wait (r, n);
  assert_datagrams (r, 0, n, sizes);
}

static void
assert_no_error (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  fail_unless (msg == NULL, "error message from %s",
      msg ? GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)) : "");
  gst_object_unref (bus);
}

static const gsize stream_sizes[] = { 1, 1316, 9000, 65507, 1316 };

GST_START_TEST (test_uridecodebin_mcast)
{
  Received r;
  GstElement *pipeline, *src;
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, NULL);
  guint port;

  received_init (&r);
  pipeline = uridecodebin_pipeline ("mcast://239.255.8.1:0?caps=" TEST_CAPS
      "&multicast-iface=lo", TEST_CAPS, &r, &src);
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (src)),
      "mcastsrc-relay");
  port = get_uint (src, "current-port");
  fail_unless (port != 0);
  send_and_expect (tx, "239.255.8.1", port, &r, G_N_ELEMENTS (stream_sizes),
      stream_sizes);
  assert_no_error (pipeline);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (r.buffers->len, G_N_ELEMENTS (stream_sizes));
  gst_object_unref (src);
  gst_object_unref (pipeline);
  g_object_unref (tx);
  received_clear (&r);
}

GST_END_TEST;

/* playbin with raw audio caps given in the URI: no decoder is needed, the
 * samples go straight to the audio sink. */
GST_START_TEST (test_playbin_mcast)
{
  Received r;
  GstElement *playbin = gst_element_factory_make ("playbin", NULL);
  GstElement *src = NULL;
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV6, NULL);
  GstCaps *caps;
  GstPad *pad;
  guint port, i;
  gsize sizes[8];

  received_init (&r);
  fail_unless (playbin != NULL);
  /* audio only (0x2), native audio (0x20): no converters */
  g_object_set (playbin, "uri", "mcast://[ff15::8:2]:0?caps=" AUDIO_CAPS
      "&multicast-iface=lo", "audio-sink", counting_sink (&r),
      "video-sink", gst_element_factory_make ("fakesink", NULL),
      "flags", 0x22, NULL);
  fail_unless (gst_element_set_state (playbin, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_element_get_state (playbin, NULL, NULL,
          GST_CLOCK_TIME_NONE), GST_STATE_CHANGE_SUCCESS);
  g_object_get (playbin, "source", &src, NULL);
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (src)),
      "mcastsrc-relay");
  port = get_uint (src, "current-port");

  /* 20 ms of 8 kHz mono S16LE each */
  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    sizes[i] = 320;
  send_and_expect (tx, "ff15::8:2", port, &r, G_N_ELEMENTS (sizes), sizes);
  assert_no_error (playbin);

  /* the audio sink saw the caps from the URI */
  {
    GstElement *sink;

    g_object_get (playbin, "audio-sink", &sink, NULL);
    pad = gst_element_get_static_pad (sink, "sink");
    caps = gst_pad_get_current_caps (pad);
    assert_caps (caps, AUDIO_CAPS);
    gst_object_unref (pad);
    gst_object_unref (sink);
  }

  fail_unless_equals_int (gst_element_set_state (playbin, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (r.buffers->len, G_N_ELEMENTS (sizes));
  gst_object_unref (src);
  gst_object_unref (playbin);
  g_object_unref (tx);
  received_clear (&r);
}

GST_END_TEST;

static void
client_added (GstElement * sink, const gchar * address, const gchar * framing,
    McpTestEvents * ev)
{
  mcp_test_events_add (ev, address, framing);
}

/* A tcpsplitsink made from a tcpsplit:// URI (listener, port 0) and
 * uridecodebin reading it through another tcpsplit:// URI. */
GST_START_TEST (test_uridecodebin_tcpsplit)
{
  Received r;
  McpTestEvents ev;
  GstElement *out = gst_pipeline_new (NULL);
  GstElement *appsrc = gst_element_factory_make ("appsrc", NULL);
  GstElement *sink = make (GST_URI_SINK, "tcpsplit://127.0.0.1:0?framing=auto",
      "tcpsplitsink");
  GstElement *pipeline, *src;
  GstCaps *caps;
  gchar *uri, *event;
  guint i;

  received_init (&r);
  mcp_test_events_init (&ev);
  g_object_set (appsrc, "format", GST_FORMAT_TIME, "is-live", TRUE, NULL);
  caps = gst_caps_from_string (TEST_CAPS);
  g_object_set (appsrc, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (out), appsrc, sink, NULL);
  fail_unless (gst_element_link (appsrc, sink));
  g_signal_connect (sink, "client-added", G_CALLBACK (client_added), &ev);
  fail_unless (gst_element_set_state (out, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);

  uri = g_strdup_printf ("tcpsplit://127.0.0.1:%u?framing=mpx&caps="
      TEST_CAPS, get_uint (sink, "current-port"));
  pipeline = uridecodebin_pipeline (uri, TEST_CAPS, &r, &src);
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (src)),
      "tcpsplitsrc");
  mcp_test_events_wait (&ev, 1);
  event = mcp_test_events_get (&ev, 0);
  fail_unless (g_str_has_suffix (event, "|mpx"), "%s", event);
  g_free (event);

  for (i = 0; i < G_N_ELEMENTS (stream_sizes); i++)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (appsrc),
            mcp_test_buffer (i, stream_sizes[i])), GST_FLOW_OK);
  received_wait (&r, G_N_ELEMENTS (stream_sizes));
  assert_datagrams (&r, 0, G_N_ELEMENTS (stream_sizes), stream_sizes);
  assert_no_error (pipeline);
  assert_no_error (out);

  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (out, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (r.buffers->len, G_N_ELEMENTS (stream_sizes));
  g_free (uri);
  gst_object_unref (src);
  gst_object_unref (pipeline);
  gst_object_unref (out);
  mcp_test_events_clear (&ev);
  received_clear (&r);
}

GST_END_TEST;

/* Reads lines of out until one starts with prefix; returns how many
 * contain count_what on the way, or -1 at the end of the output. */
static gint
read_until (GDataInputStream * out, const gchar * prefix,
    const gchar * count_what, GString * log)
{
  gchar *line;
  gint n = 0;

  while ((line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, NULL))) {
    gboolean found = g_str_has_prefix (line, prefix);

    g_string_append_printf (log, "%s\n", line);
    if (count_what && strstr (line, count_what))
      n++;
    g_free (line);
    if (found)
      return n;
  }
  return -1;
}

/* gst-launch-1.0 -v playbin uri=mcast://...: it reaches PLAYING and its
 * audio sink gets exactly the datagrams sent (fakesink's last-message,
 * printed by -v). The port is held by a receiver of our own (both sockets reuse the
 * address). */
GST_START_TEST (test_gst_launch_playbin)
{
  GSocket *rx = mcp_test_udp_receiver ("239.255.8.3", 0);
  GSocket *tx = mcp_test_udp_sender (G_SOCKET_FAMILY_IPV4, NULL);
  guint port = mcp_test_local_port (rx);
  GString *log = g_string_new (NULL);
  GError *err = NULL;
  GSubprocessLauncher *launcher;
  GSubprocess *p;
  GDataInputStream *out;
  gchar *uri;
  guint8 data[320];
  gint n = 0;
  guint i;

  uri = g_strdup_printf ("uri=mcast://239.255.8.3:%u?caps=" AUDIO_CAPS
      "&multicast-iface=lo", port);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_MERGE);
  /* a sanitized build: the ASan runtime first in the uninstrumented tool,
   * which is killed before leak detection could run */
  if (g_getenv ("MCP_TEST_CHILD_LD_PRELOAD"))
    g_subprocess_launcher_setenv (launcher, "LD_PRELOAD",
        g_getenv ("MCP_TEST_CHILD_LD_PRELOAD"), TRUE);
  p = g_subprocess_launcher_spawn (launcher, &err, "gst-launch-1.0", "-v",
      "playbin", uri, "audio-sink=fakesink silent=false", "video-sink=fakesink",
      "flags=audio+native-audio", NULL);
  fail_unless (p != NULL, "%s", err ? err->message : "?");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));

  /* joined from READY on: what is sent after this line is received */
  fail_unless (read_until (out, "Setting pipeline to PLAYING", NULL, log)
      >= 0, "no PLAYING:\n%s", log->str);
  memset (data, 0, sizeof data);
  for (i = 0; i < 3; i++)
    mcp_test_udp_send (tx, "239.255.8.3", port, data, sizeof data);
  /* fakesink's last-message, one line per buffer */
  while (n < 3) {
    gint more = read_until (out, "/GstPlayBin:playbin0/", "chain   ******* "
        "(fakesink", log);

    fail_unless (more >= 0, "ended after %d buffers:\n%s", n, log->str);
    n += more;
  }
  /* a live source never ends by itself */
  g_subprocess_force_exit (p);
  fail_unless (strstr (log->str, "ERROR") == NULL, "%s", log->str);
  /* exactly the three datagrams, 320 bytes each */
  {
    const gchar *c = log->str;

    n = 0;
    while ((c = strstr (c, "chain   ******* (fakesink"))) {
      c++;
      fail_unless (g_str_has_prefix (strstr (c, ")"), ") (320 bytes,"),
          "%s", log->str);
      n++;
    }
    fail_unless_equals_int (n, 3);
  }
  GST_INFO ("gst-launch-1.0 said:\n%s", log->str);
  g_string_free (log, TRUE);
  g_free (uri);
  g_object_unref (out);
  g_object_unref (p);
  g_object_unref (launcher);
  g_object_unref (tx);
  g_object_unref (rx);
}

GST_END_TEST;

static Suite *
uri_suite (void)
{
  Suite *s = suite_create ("uri");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_make_mcast_src);
  tcase_add_test (tc, test_make_mcast_sink);
  tcase_add_test (tc, test_make_tcpsplit);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_secret_never_in_uri);
  tcase_add_test (tc, test_source_reset);
  tcase_add_loop_test (tc, test_bad_uris, 0, G_N_ELEMENTS (bad_uris));
  tcase_add_test (tc, test_no_element_for_bad_uri);
  tcase_add_test (tc, test_bad_state);
  tcase_add_test (tc, test_uridecodebin_mcast);
  tcase_add_test (tc, test_playbin_mcast);
  tcase_add_test (tc, test_uridecodebin_tcpsplit);
  tcase_add_test (tc, test_gst_launch_playbin);
  return s;
}

GST_CHECK_MAIN (uri);
