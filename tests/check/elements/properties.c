/* mcastproxy — every element's numeric properties: a value out of range
 * (as a gst-launch line can give one: `port=70000`) is never replaced by
 * another; the element refuses to start with one error naming it, and a
 * change while running is refused with a warning. */
#include "config.h"

#include <gst/check/gstcheck.h>
#include <string.h>

#include "mcp-check-util.h"

static const gchar *factories[] = {
  "mcastsrc-relay", "tcpsplitsink", "tcpsplitsrc", "tcpremcastsink",
  "tcpmeshrouter", "amtrelay", "amtsrc",
};

/* Whether pspec has a range narrower than its type (only those can be
 * given a value out of range). */
static gboolean
is_narrow (GParamSpec * pspec)
{
  if (!(pspec->flags & G_PARAM_WRITABLE))
    return FALSE;
  /* ours, not the base classes' (num-buffers, blocksize, ...) */
  if (!g_str_has_prefix (g_type_name (pspec->owner_type), "GstMcast")
      && !g_str_has_prefix (g_type_name (pspec->owner_type), "GstTcp")
      && !g_str_has_prefix (g_type_name (pspec->owner_type), "GstAmt"))
    return FALSE;
  if (G_IS_PARAM_SPEC_UINT (pspec))
    return G_PARAM_SPEC_UINT (pspec)->minimum > 0
        || G_PARAM_SPEC_UINT (pspec)->maximum < G_MAXUINT;
  if (G_IS_PARAM_SPEC_INT (pspec))
    return G_PARAM_SPEC_INT (pspec)->minimum > G_MININT
        || G_PARAM_SPEC_INT (pspec)->maximum < G_MAXINT;
  if (G_IS_PARAM_SPEC_UINT64 (pspec))
    return G_PARAM_SPEC_UINT64 (pspec)->minimum > 0
        || G_PARAM_SPEC_UINT64 (pspec)->maximum < G_MAXUINT64;
  return FALSE;
}

/* A value of pspec's type just outside its range, as text (gst-launch
 * syntax). */
static gchar *
outside (GParamSpec * pspec)
{
  if (G_IS_PARAM_SPEC_UINT (pspec)) {
    GParamSpecUInt *s = G_PARAM_SPEC_UINT (pspec);

    return s->maximum < G_MAXUINT ? g_strdup_printf ("%u", s->maximum + 1) :
        g_strdup_printf ("%u", s->minimum - 1);
  }
  if (G_IS_PARAM_SPEC_INT (pspec)) {
    GParamSpecInt *s = G_PARAM_SPEC_INT (pspec);

    return s->minimum > G_MININT ? g_strdup_printf ("%d", s->minimum - 1) :
        g_strdup_printf ("%d", s->maximum + 1);
  }
  {
    GParamSpecUInt64 *s = G_PARAM_SPEC_UINT64 (pspec);

    return s->maximum < G_MAXUINT64 ?
        g_strdup_printf ("%" G_GUINT64_FORMAT, s->maximum + 1) :
        g_strdup_printf ("%" G_GUINT64_FORMAT, s->minimum - 1);
  }
}

static gchar *
get_as_text (GstElement * e, const gchar * name)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      name);
  GValue v = G_VALUE_INIT;
  gchar *text;

  g_value_init (&v, pspec->value_type);
  g_object_get_property (G_OBJECT (e), name, &v);
  text = gst_value_serialize (&v);
  g_value_unset (&v);
  return text;
}

/* Settings that let each element reach READY in the test's namespace. */
static GstElement *
make (const gchar * factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  fail_unless (e != NULL, "no %s", factory);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "port")
      && strcmp (factory, "tcpremcastsink") != 0)
    g_object_set (e, "port", 0, NULL);
  return e;
}

/* In NULL every out-of-range value is kept as written, and going to READY
 * fails with exactly one error that names the property and the value. */
GST_START_TEST (test_out_of_range_refused_at_start)
{
  const gchar *factory = factories[__i__];
  GstElement *probe = make (factory);
  GParamSpec **specs;
  guint n, i, narrow = 0;

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (probe), &n);
  for (i = 0; i < n; i++) {
    GstElement *e;
    gchar *bad, *got, *expect;

    if (!is_narrow (specs[i]))
      continue;
    narrow++;
    e = make (factory);
    bad = outside (specs[i]);
    gst_util_set_object_arg (G_OBJECT (e), specs[i]->name, bad);
    got = get_as_text (e, specs[i]->name);
    fail_unless_equals_string (got, bad);
    expect = g_strdup_printf ("Invalid value of property \"%s\": %s ",
        specs[i]->name, bad);
    mcp_test_assert_state_error (e, GST_STATE_READY, expect);
    g_free (expect);
    g_free (got);
    g_free (bad);
    gst_object_unref (e);
  }
  /* every element has some: ports, hops, delays, ... */
  fail_unless (narrow > 0, "%s has no property with a range", factory);
  g_free (specs);
  gst_object_unref (probe);
}

GST_END_TEST;

/* Past NULL a new value out of range is ignored, with a warning on the
 * bus that names it; the old value stays. */
GST_START_TEST (test_out_of_range_ignored_while_running)
{
  GstElement *e = make ("tcpsplitsrc");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  guint hops;

  gst_element_set_bus (e, bus);
  g_object_set (e, "mode", 0, "max-hops", 7, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  gst_util_set_object_arg (G_OBJECT (e), "max-hops", "300");
  g_object_get (e, "max-hops", &hops, NULL);
  fail_unless_equals_int (hops, 7);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless_equals_string (err->message, "Ignored a new value of property "
      "\"max-hops\": 300 is above the maximum 255");
  g_error_free (err);
  gst_message_unref (msg);
  /* in range: taken */
  g_object_set (e, "max-hops", 9, NULL);
  g_object_get (e, "max-hops", &hops, NULL);
  fail_unless_equals_int (hops, 9);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING) == NULL);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

GST_END_TEST;

/* gst-inspect still shows the real range. */
GST_START_TEST (test_range_shown)
{
  GstElement *e = make ("mcastsrc-relay");
  GParamSpec *p = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
      "port");

  fail_unless (G_IS_PARAM_SPEC_UINT (p));
  fail_unless_equals_int (G_PARAM_SPEC_UINT (p)->minimum, 0);
  fail_unless_equals_int (G_PARAM_SPEC_UINT (p)->maximum, 65535);
  fail_unless_equals_int (G_PARAM_SPEC_UINT (p)->default_value, 5004);
  gst_object_unref (e);
}

GST_END_TEST;

/* The line a user types: gst-launch-1.0 fails, saying why, and never runs
 * on the default port. */
GST_START_TEST (test_gst_launch_refuses)
{
  gchar *argv[] = { (gchar *) "gst-launch-1.0", (gchar *) "mcastsrc-relay",
    (gchar *) "address=239.255.0.9", (gchar *) "port=70000", (gchar *) "!",
    (gchar *) "fakesink", NULL
  };
  gchar **envp = g_get_environ ();
  GError *err = NULL;
  gchar *out = NULL, *errout = NULL;
  gint status;

  /* a sanitized build: the ASan runtime first in the uninstrumented tool */
  if (g_getenv ("MCP_TEST_CHILD_LD_PRELOAD"))
    envp = g_environ_setenv (envp, "LD_PRELOAD",
        g_getenv ("MCP_TEST_CHILD_LD_PRELOAD"), TRUE);
  /* g_spawn_sync reaps the child itself: GSubprocess waits through GLib's
   * worker thread, which a forked test process does not have */
  fail_unless (g_spawn_sync (NULL, argv, envp, G_SPAWN_SEARCH_PATH, NULL,
          NULL, &out, &errout, &status, &err), "%s", err ? err->message : "?");
  fail_unless (!g_spawn_check_wait_status (status, NULL), "%s%s", out, errout);
  fail_unless (strstr (errout, "Invalid value of property \"port\": 70000 "
          "is above the maximum 65535") != NULL, "%s%s", out, errout);
  fail_unless (strstr (errout, "GLib-GObject") == NULL, "%s", errout);
  fail_unless (strstr (out, "Setting pipeline to PLAYING") == NULL, "%s", out);
  g_free (out);
  g_free (errout);
  g_strfreev (envp);
}

GST_END_TEST;

/* The properties flagged GST_PARAM_MUTABLE_PLAYING, element by element:
 * a service's reload (SIGHUP) sets exactly these on the running pipeline
 * and tells any other change as needing a restart, so this list is a
 * promise: each takes effect when set while PLAYING (for new connections,
 * requests or decisions; those already there stay), and is safe against
 * the element's threads. docs/elements.md says the same. */
static const struct
{
  const gchar *factory;
  const gchar *mutable_playing;
} reloadable[] = {
  {"tcpsplitsink", "allow detect-timeout framing handshake-timeout "
        "http-path max-clients max-queue-bytes max-queue-time no-echo "
        "one-per-peer qos-dscp slow-client-policy"},
  {"tcpsplitsrc", "allow framing handshake-timeout max-queue-bytes "
        "max-sources qos-dscp"},
  {"tcpmeshrouter", "allow handshake-timeout max-hops max-peers "
        "max-queue-bytes max-queue-time qos-dscp slow-client-policy"},
  {"mcastgateway", "allow groups handshake-timeout linger "
        "max-channel-clients max-channels max-clients max-queue-bytes "
        "max-queue-time playlist qos-dscp slow-client-policy token "
        "token-file"},
  {"amtrelay", "allow discovery-rate gateway-timeout max-gateways "
        "max-gateways-per-host max-groups max-sources query-interval "
        "request-rate ttl"},
  {"mcastsrc-relay", "max-groups rejoin-interval timeout"},
  {"amtsrc", "timeout"},
  {"tcpremcastsink", ""},
};

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar **) a, *(const gchar **) b);
}

GST_START_TEST (test_mutable_playing)
{
  GstElement *e = make (reloadable[__i__].factory);
  GParamSpec **specs;
  GPtrArray *names = g_ptr_array_new ();
  gchar *got;
  guint n, i;

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  for (i = 0; i < n; i++)
    if (specs[i]->flags & GST_PARAM_MUTABLE_PLAYING)
      g_ptr_array_add (names, (gpointer) specs[i]->name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  got = g_strjoinv (" ", (gchar **) names->pdata);
  fail_unless_equals_string (got, reloadable[__i__].mutable_playing);
  g_free (got);
  g_ptr_array_unref (names);
  g_free (specs);
  gst_object_unref (e);
}

GST_END_TEST;

static Suite *
properties_suite (void)
{
  Suite *s = suite_create ("properties");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_out_of_range_refused_at_start, 0,
      G_N_ELEMENTS (factories));
  tcase_add_test (tc, test_out_of_range_ignored_while_running);
  tcase_add_loop_test (tc, test_mutable_playing, 0, G_N_ELEMENTS (reloadable));
  tcase_add_test (tc, test_range_shown);
  tcase_add_test (tc, test_gst_launch_refuses);
  return s;
}

GST_CHECK_MAIN (properties);
