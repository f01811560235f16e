/* embed-relay — the mcastproxy elements embedded in an application.
 *
 *   embed-relay GROUP PORT COUNT [TIMEOUT-SECONDS]
 *
 * Builds, from code, one pipeline holding both ends of a TCP leg:
 *
 *   mcastsrc-relay address=GROUP port=PORT ! tcpsplitsink port=0
 *   tcpsplitsrc host=127.0.0.1 port=<the sink's current-port> ! fakesink
 *
 * It reads the listener's current-port in READY, hands it to the caller,
 * prints the client-added and connected signals, then "ready" once the leg
 * is up. After COUNT datagrams came out of the far end it prints each
 * element's get-stats and exits: 0 when every counter says COUNT, 1 when
 * one does not, 2 on a usage error, 3 on a pipeline error or when COUNT
 * datagrams did not arrive within TIMEOUT-SECONDS (default 30).
 */
#include <gst/gst.h>

#include <stdlib.h>

#define EXIT_MISMATCH 1
#define EXIT_USAGE 2
#define EXIT_FAILED 3

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline, *relay, *splitsink, *splitsrc;
  guint64 count;
  gint received;                /* atomic: buffers seen by the fakesink */
  gint legs_up;                 /* atomic: client-added + connected */
  gint status;
} App;

/* The network threads emit client-added and connected: print on the main
 * loop, never from there. */
typedef struct
{
  App *app;
  gchar *line;
} Note;

static gboolean
print_note (gpointer data)
{
  Note *note = data;

  g_print ("embed-relay: %s\n", note->line);
  if (g_str_has_prefix (note->line, "client-added")
      || g_str_has_prefix (note->line, "connected"))
    if (g_atomic_int_add (&note->app->legs_up, 1) == 1)
      g_print ("embed-relay: ready\n");
  g_free (note->line);
  g_free (note);
  return G_SOURCE_REMOVE;
}

static void
note (App * app, gchar * line)
{
  Note *n = g_new (Note, 1);

  n->app = app;
  n->line = line;
  g_idle_add (print_note, n);
}

static void
on_client_added (GstElement * sink, const gchar * address,
    const gchar * framing, App * app)
{
  note (app, g_strdup_printf ("client-added %s (%s)", address, framing));
}

static void
on_connected (GstElement * src, const gchar * address,
    const gchar * framing, App * app)
{
  note (app, g_strdup_printf ("connected %s (%s)", address, framing));
}

static gboolean
quit_idle (gpointer data)
{
  g_main_loop_quit (((App *) data)->loop);
  return G_SOURCE_REMOVE;
}

/* fakesink's handoff, on the streaming thread: one call per datagram. */
static void
on_handoff (GstElement * fakesink, GstBuffer * buf, GstPad * pad, App * app)
{
  if (g_atomic_int_add (&app->received, 1) + 1 == (gint) app->count)
    g_idle_add (quit_idle, app);
}

static gboolean
on_timeout (gpointer data)
{
  App *app = data;

  g_printerr ("embed-relay: only %d of %" G_GUINT64_FORMAT
      " datagrams arrived in time\n", g_atomic_int_get (&app->received),
      app->count);
  app->status = EXIT_FAILED;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  App *app = data;
  GError *err = NULL;
  gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR)
    return G_SOURCE_CONTINUE;
  gst_message_parse_error (msg, &err, &debug);
  g_printerr ("embed-relay: error from %s: %s (%s)\n",
      GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
      debug ? debug : "no details");
  g_clear_error (&err);
  g_free (debug);
  app->status = EXIT_FAILED;
  g_main_loop_quit (app->loop);
  return G_SOURCE_CONTINUE;
}

/* Prints the named counters of ELEMENT's get-stats; FALSE unless the first
 * one is COUNT. */
static gboolean
print_stats (App * app, GstElement * element, const gchar * first,
    const gchar * second)
{
  GstStructure *stats = NULL;
  guint64 a = 0, b = 0;

  g_signal_emit_by_name (element, "get-stats", &stats);
  gst_structure_get_uint64 (stats, first, &a);
  gst_structure_get_uint64 (stats, second, &b);
  g_print ("%s: %s=%" G_GUINT64_FORMAT " %s=%" G_GUINT64_FORMAT "\n",
      gst_structure_get_name (stats), first, a, second, b);
  gst_structure_free (stats);
  return a == app->count;
}

int
main (int argc, char **argv)
{
  App app = { 0 };
  GstElement *fakesink;
  GstBus *bus;
  guint port = 0, timeout = 30;
  gint64 group_port, count;
  gboolean ok;

  gst_init (&argc, &argv);
  if (argc < 4 || argc > 5) {
    g_printerr ("usage: embed-relay GROUP PORT COUNT [TIMEOUT-SECONDS]\n");
    return EXIT_USAGE;
  }
  group_port = g_ascii_strtoll (argv[2], NULL, 10);
  count = g_ascii_strtoll (argv[3], NULL, 10);
  if (argc == 5)
    timeout = (guint) g_ascii_strtoull (argv[4], NULL, 10);
  if (group_port < 1 || group_port > 65535 || count < 1 || count > G_MAXINT
      || timeout < 1) {
    g_printerr ("embed-relay: PORT 1..65535, COUNT and TIMEOUT at least 1\n");
    return EXIT_USAGE;
  }
  app.count = (guint64) count;

  app.pipeline = gst_pipeline_new ("embed-relay");
  app.relay = gst_element_factory_make ("mcastsrc-relay", NULL);
  app.splitsink = gst_element_factory_make ("tcpsplitsink", NULL);
  app.splitsrc = gst_element_factory_make ("tcpsplitsrc", NULL);
  fakesink = gst_element_factory_make ("fakesink", NULL);
  if (!app.relay || !app.splitsink || !app.splitsrc || !fakesink) {
    g_printerr ("embed-relay: the mcastproxy plugin was not found "
        "(set GST_PLUGIN_PATH to its directory)\n");
    return EXIT_FAILED;
  }
  g_object_set (app.relay, "address", argv[1], "port", (guint) group_port,
      NULL);
  g_object_set (app.splitsink, "host", "127.0.0.1", "port", 0, NULL);
  g_object_set (fakesink, "signal-handoffs", TRUE, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (app.pipeline), app.relay, app.splitsink,
      app.splitsrc, fakesink, NULL);
  if (!gst_element_link (app.relay, app.splitsink)
      || !gst_element_link (app.splitsrc, fakesink)) {
    g_printerr ("embed-relay: could not link the elements\n");
    return EXIT_FAILED;
  }
  g_signal_connect (app.splitsink, "client-added",
      G_CALLBACK (on_client_added), &app);
  g_signal_connect (app.splitsrc, "connected", G_CALLBACK (on_connected), &app);
  g_signal_connect (fakesink, "handoff", G_CALLBACK (on_handoff), &app);

  /* The listener opens its socket at NULL->READY; the caller reads its
   * port when it starts (READY->PAUSED). */
  if (gst_element_set_state (app.splitsink, GST_STATE_READY)
      == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("embed-relay: tcpsplitsink could not listen\n");
    return EXIT_FAILED;
  }
  g_object_get (app.splitsink, "current-port", &port, NULL);
  g_object_set (app.splitsrc, "host", "127.0.0.1", "port", port, NULL);
  g_print ("embed-relay: serving %s:%s on TCP port %u\n", argv[1], argv[2],
      port);

  app.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, on_bus_message, &app);
  g_timeout_add_seconds (timeout, on_timeout, &app);
  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    app.status = EXIT_FAILED;
  else
    g_main_loop_run (app.loop);

  if (app.status == 0) {
    ok = print_stats (&app, app.relay, "datagrams-received", "bytes-received");
    ok &= print_stats (&app, app.splitsink, "datagrams-sent", "bytes-in");
    ok &=
        print_stats (&app, app.splitsrc, "datagrams-received",
        "bytes-received");
    g_print ("fakesink: buffers=%d\n", g_atomic_int_get (&app.received));
    if (!ok)
      app.status = EXIT_MISMATCH;
  }
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  return app.status;
}
