/* mcastproxy-launch — runs a tool's pipeline as a service does: one log
 * line per event an operator needs, readiness and reload told to systemd,
 * the settings re-read on SIGHUP.
 *
 *   mcastproxy-launch TOOL-PATH -- WORD...
 *
 * WORDS are the pipeline, as gst-launch-1.0 takes them (the tool printed
 * them as a gst-launch-1.0 line just before). TOOL-PATH is the tool that
 * made them: on SIGHUP it runs again with MCASTPROXY_WORDS=true, which
 * prints the words of the pipeline the settings ask for now, and every
 * property that changed and can change while playing
 * (GST_PARAM_MUTABLE_PLAYING) is set on the running element; connections
 * stay. Any other change is logged as needing a restart.
 *
 * Log lines go to stderr: when stderr is the journal (JOURNAL_STREAM names
 * it) each begins with its priority, <3> errors, <4> warnings and changes
 * that need a restart, <6> the rest; then "TOOL: ". Errors end
 * the program with status 1; SIGTERM and SIGINT stop the pipeline (clients
 * see their connections closed, groups are left) and end it with 0; the
 * end of the stream ends it with 0. With NOTIFY_SOCKET (Type=notify), READY=1
 * once the pipeline is PLAYING, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1 on the way out.
 */

#include <gst/gst.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum
{
  PRIO_ERR = 3,
  PRIO_WARNING = 4,
  PRIO_INFO = 6
};

typedef struct
{
  const gchar *tool_path;
  gchar *tool;                  /* its name, for lines off the journal */
  gboolean journal;
  GstElement *pipeline;
  GMainLoop *loop;
  gboolean ready;
  gboolean stopping;
  gint status;
} Launch;

static Launch L;

/* ---- log lines --------------------------------------------------------- */

static gboolean
stderr_is_journal (void)
{
  const gchar *stream = g_getenv ("JOURNAL_STREAM");
  guint64 dev, ino;
  gchar *end;
  struct stat st;

  if (!stream || !*stream)
    return FALSE;
  dev = g_ascii_strtoull (stream, &end, 10);
  if (*end != ':')
    return FALSE;
  ino = g_ascii_strtoull (end + 1, &end, 10);
  if (*end != '\0' || fstat (2, &st) != 0)
    return FALSE;
  return (guint64) st.st_dev == dev && (guint64) st.st_ino == ino;
}

/* One line, whatever the text holds: newlines and tabs become spaces. */
/* *INDENT-OFF* */
static void say (gint prio, const gchar * format, ...) G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static void
say (gint prio, const gchar * format, ...)
{
  va_list args;
  gchar *text, *p;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  for (p = text; *p; p++)
    if (*p == '\n' || *p == '\r' || *p == '\t')
      *p = ' ';
  if (L.journal)
    fprintf (stderr, "<%d>%s: %s\n", prio, L.tool, text);
  else
    fprintf (stderr, "%s: %s%s\n", L.tool, prio == PRIO_ERR ? "error: " :
        prio == PRIO_WARNING ? "warning: " : "", text);
  fflush (stderr);
  g_free (text);
}

/* ---- systemd's notification socket -------------------------------------- */

static void
notify (const gchar * state)
{
  const gchar *path = g_getenv ("NOTIFY_SOCKET");
  GSocket *socket;
  GSocketAddress *address;
  GError *err = NULL;

  if (!path || !*path)
    return;
  if (path[0] == '@')
    address = g_unix_socket_address_new_with_type (path + 1, -1,
        G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  else
    address = g_unix_socket_address_new (path);
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_DEFAULT, &err);
  if (socket && g_socket_send_to (socket, address, state, strlen (state),
          NULL, &err) < 0)
    g_clear_object (&socket);
  if (!socket) {
    say (PRIO_WARNING, "cannot tell systemd \"%s\" (NOTIFY_SOCKET %s): %s",
        state, path, err->message);
    g_clear_error (&err);
  }
  g_clear_object (&socket);
  g_object_unref (address);
}

static GPtrArray *elements_of (GstElement * bin);
static const gchar *kind_of (GstElement * e);

/* ---- the bus ------------------------------------------------------------ */

/* An element's name without the number the parser gave it when it is the
 * only one of its kind ("tcpsplitsink"), else its name ("mcastsrc-relay3"). */
static gchar *
element_label (GstObject * obj)
{
  GstElementFactory *factory;
  const gchar *kind;
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  guint same = 0;

  if (!GST_IS_ELEMENT (obj) || !L.pipeline)
    return gst_object_get_name (obj);
  factory = gst_element_get_factory (GST_ELEMENT (obj));
  if (!factory)
    return gst_object_get_name (obj);
  kind = GST_OBJECT_NAME (factory);
  it = gst_bin_iterate_elements (GST_BIN (L.pipeline));
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElementFactory *f = gst_element_get_factory (g_value_get_object (&item));
    if (f && g_str_equal (GST_OBJECT_NAME (f), kind))
      same++;
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return same > 1 ? gst_object_get_name (obj) : g_strdup (kind);
}

static const gchar *
field (const GstStructure * s, const gchar * name)
{
  const gchar *v = gst_structure_get_string (s, name);
  return v ? v : "";
}

/* "GROUP[ from SOURCE][ port PORT][ on IFACE]" of a join or a leave */
static gchar *
membership (const GstStructure * s)
{
  GString *text = g_string_new (field (s, "group"));
  guint port = 0;

  if (*field (s, "source"))
    g_string_append_printf (text, " from %s", field (s, "source"));
  if (gst_structure_get_uint (s, "port", &port) && port)
    g_string_append_printf (text, " port %u", port);
  if (*field (s, "interface"))
    g_string_append_printf (text, " on %s", field (s, "interface"));
  return g_string_free (text, FALSE);
}

/* The events of the elements' own messages; the others (statistics, the
 * fan-out's, subscriptions) are not for the log. */
static void
log_element_message (const gchar * who, const GstStructure * s)
{
  const gchar *name = gst_structure_get_name (s);
  const gchar *address = field (s, "address");
  const gchar *reason = field (s, "reason");
  const gchar *channel = field (s, "channel");
  gchar *m;

  if (g_str_equal (name, "mcastproxy-client-added")) {
    say (PRIO_INFO, "%s: client %s connected%s%s", who, address,
        *channel ? ": " : "", channel);
  } else if (g_str_equal (name, "mcastproxy-client-removed")) {
    say (PRIO_INFO, "%s: client %s gone%s%s: %s", who, address,
        *channel ? " from " : "", channel, reason);
  } else if (g_str_equal (name, "mcastproxy-connected")) {
    say (PRIO_INFO, "%s: source %s connected", who, address);
  } else if (g_str_equal (name, "mcastproxy-disconnected")) {
    say (PRIO_INFO, "%s: source %s lost: %s", who, address, reason);
  } else if (g_str_equal (name, "mcastproxy-peer-added")) {
    say (PRIO_INFO, "%s: peer %s connected", who, address);
  } else if (g_str_equal (name, "mcastproxy-peer-removed")) {
    say (PRIO_INFO, "%s: peer %s lost: %s", who, address, reason);
  } else if (g_str_equal (name, "mcastproxy-joined")) {
    m = membership (s);
    say (PRIO_INFO, "%s: joined %s", who, m);
    g_free (m);
  } else if (g_str_equal (name, "mcastproxy-left")) {
    m = membership (s);
    say (PRIO_INFO, "%s: left %s: %s", who, m, reason);
    g_free (m);
  }
}

/* An error, warning or info: its message and, when the element gave one,
 * the cause (the debug text after GStreamer's "file(line): function ():
 * path:" line). */
static void
log_gerror (gint prio, const gchar * who, GError * err, const gchar * debug)
{
  const gchar *cause = debug ? strchr (debug, '\n') : NULL;

  cause = cause ? cause + 1 : NULL;
  if (cause && *cause)
    say (prio, "%s: %s (%s)", who, err->message, cause);
  else
    say (prio, "%s: %s", who, err->message);
}

/* The ports the listeners got (port=0 asks the system for one). */
static void
log_listening (void)
{
  GPtrArray *list = elements_of (L.pipeline);
  guint i;

  for (i = 0; i < list->len; i++) {
    GObject *e = list->pdata[i];
    GParamSpec *mode = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
        "mode");
    const gchar *kind = kind_of (list->pdata[i]);
    guint port = 0;
    gchar *host = NULL, *who;

    /* not the local ports of receivers, nor of callers */
    if (!g_object_class_find_property (G_OBJECT_GET_CLASS (e),
            "current-port") || g_str_equal (kind, "mcastsrc-relay")
        || g_str_equal (kind, "amtsrc"))
      continue;
    if (mode && G_IS_PARAM_SPEC_ENUM (mode)) {
      GValue v = G_VALUE_INIT;
      GEnumValue *ev;
      g_value_init (&v, mode->value_type);
      g_object_get_property (e, "mode", &v);
      ev = g_enum_get_value (G_PARAM_SPEC_ENUM (mode)->enum_class,
          g_value_get_enum (&v));
      g_value_unset (&v);
      if (ev && g_str_equal (ev->value_nick, "caller"))
        continue;
    }
    g_object_get (e, "current-port", &port, NULL);
    if (port <= 0)
      continue;
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (e), "host"))
      g_object_get (e, "host", &host, NULL);
    who = element_label (GST_OBJECT (e));
    say (PRIO_INFO, "%s: listening on %s port %u", who,
        host && *host ? host : "every address", port);
    g_free (who);
    g_free (host);
  }
  g_ptr_array_unref (list);
}

static void
stop (gint status)
{
  if (!L.stopping) {
    L.stopping = TRUE;
    L.status = status;
    notify ("STOPPING=1");
  }
  g_main_loop_quit (L.loop);
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer unused)
{
  GError *err = NULL;
  gchar *debug = NULL, *who;

  who = element_label (GST_MESSAGE_SRC (msg));
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, &debug);
      log_gerror (PRIO_ERR, who, err, debug);
      stop (1);
      break;
    case GST_MESSAGE_WARNING:
      gst_message_parse_warning (msg, &err, &debug);
      log_gerror (PRIO_WARNING, who, err, debug);
      break;
    case GST_MESSAGE_INFO:
      gst_message_parse_info (msg, &err, &debug);
      log_gerror (PRIO_INFO, who, err, debug);
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_message_get_structure (msg))
        log_element_message (who, gst_message_get_structure (msg));
      break;
    case GST_MESSAGE_EOS:
      say (PRIO_INFO, "end of the stream: stopping");
      stop (0);
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (msg) == GST_OBJECT (L.pipeline) && !L.ready) {
        GstState now;
        gst_message_parse_state_changed (msg, NULL, &now, NULL);
        if (now == GST_STATE_PLAYING) {
          L.ready = TRUE;
          log_listening ();
          say (PRIO_INFO, "playing");
          notify ("READY=1\nSTATUS=playing");
        }
      }
      break;
    default:
      break;
  }
  g_clear_error (&err);
  g_free (debug);
  g_free (who);
  return G_SOURCE_CONTINUE;
}

/* ---- reload -------------------------------------------------------------- */

/* The top-level elements of a bin, in the parser's order. */
static GPtrArray *
elements_of (GstElement * bin)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (gst_object_unref);
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (bin));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    g_ptr_array_add (list, g_value_dup_object (&item));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return list;
}

static const gchar *
kind_of (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  return f ? GST_OBJECT_NAME (f) : G_OBJECT_TYPE_NAME (e);
}

/* A value as text for the log and for comparing (strings quoted) */
static gchar *
value_text (const GValue * v)
{
  gchar *text;

  if (G_VALUE_HOLDS_STRING (v))
    return g_strdup_printf ("\"%s\"", g_value_get_string (v) ?
        g_value_get_string (v) : "");
  text = gst_value_serialize (v);
  return text ? text : g_strdup ("?");
}

/* Brings the running element to what the new one was given: the
 * properties that may change while playing, set; the others, told.
 * Counts both. */
static void
reload_element (GstElement * running, GstElement * wanted, guint * applied,
    guint * restart)
{
  GParamSpec **specs;
  guint n, i;
  gchar *who = element_label (GST_OBJECT (running));

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (running), &n);
  for (i = 0; i < n; i++) {
    GParamSpec *spec = specs[i];
    GValue now = G_VALUE_INIT, then = G_VALUE_INIT;
    gchar *now_text, *then_text;

    if (!(spec->flags & G_PARAM_READABLE) || !(spec->flags & G_PARAM_WRITABLE)
        || (spec->flags & G_PARAM_CONSTRUCT_ONLY)
        || g_str_equal (spec->name, "name")
        || g_str_equal (spec->name, "parent"))
      continue;
    g_value_init (&now, spec->value_type);
    g_value_init (&then, spec->value_type);
    g_object_get_property (G_OBJECT (running), spec->name, &now);
    g_object_get_property (G_OBJECT (wanted), spec->name, &then);
    now_text = value_text (&now);
    then_text = value_text (&then);
    if (!g_str_equal (now_text, then_text)) {
      if (spec->flags & GST_PARAM_MUTABLE_PLAYING) {
        say (PRIO_INFO, "%s: %s: %s -> %s", who, spec->name, now_text,
            then_text);
        g_object_set_property (G_OBJECT (running), spec->name, &then);
        (*applied)++;
      } else {
        say (PRIO_WARNING, "%s: %s: %s -> %s needs a restart (until then "
            "it stays %s)", who, spec->name, now_text, then_text, now_text);
        (*restart)++;
      }
    }
    g_free (now_text);
    g_free (then_text);
    g_value_unset (&now);
    g_value_unset (&then);
  }
  g_free (specs);
  g_free (who);
}

/* The tool run again for the words of the pipeline its settings ask for
 * now (NUL-separated on its stdout); NULL, told, when it refuses them. */
static gchar **
words_now (void)
{
  GSubprocessLauncher *launcher;
  GSubprocess *tool = NULL;
  GBytes *out = NULL, *err_out = NULL;
  GError *err = NULL;
  GPtrArray *list = NULL;
  const gchar *data, *end;
  gsize size;
  gboolean ok;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "MCASTPROXY_WORDS", "true", TRUE);
  tool = g_subprocess_launcher_spawn (launcher, &err, L.tool_path, NULL);
  g_object_unref (launcher);
  if (!tool || !g_subprocess_communicate (tool, NULL, NULL, &out, &err_out,
          &err)) {
    say (PRIO_ERR, "reload: cannot run %s: %s", L.tool_path, err->message);
    g_clear_error (&err);
    goto done;
  }
  ok = g_subprocess_get_if_exited (tool) &&
      g_subprocess_get_exit_status (tool) == 0;
  /* its own lines (a mistake in the settings, warnings), passed on */
  data = g_bytes_get_data (err_out, &size);
  if (size > 0) {
    gchar *text = g_strndup (data, size);
    gchar **lines = g_strsplit (g_strchomp (text), "\n", -1);
    gchar *own = g_strconcat (L.tool, ": ", NULL);
    guint i;
    for (i = 0; lines[i]; i++)
      say (ok ? PRIO_WARNING : PRIO_ERR, "reload: %s",
          g_str_has_prefix (lines[i], own) ? lines[i] + strlen (own) :
          lines[i]);
    g_free (own);
    g_strfreev (lines);
    g_free (text);
  }
  if (!ok) {
    say (PRIO_ERR, "reload: the settings were refused: still running with "
        "the previous ones");
    goto done;
  }
  data = g_bytes_get_data (out, &size);
  end = data + size;
  list = g_ptr_array_new_with_free_func (g_free);
  while (data < end) {
    const gchar *nul = memchr (data, '\0', end - data);
    if (!nul)
      nul = end;
    g_ptr_array_add (list, g_strndup (data, nul - data));
    data = nul + 1;
  }
  if (list->len == 0) {
    say (PRIO_ERR, "reload: %s printed no pipeline: still running with the "
        "previous settings", L.tool_path);
    g_ptr_array_free (list, TRUE);
    list = NULL;
  } else {
    g_ptr_array_add (list, NULL);
  }
done:
  g_clear_object (&tool);
  if (out)
    g_bytes_unref (out);
  if (err_out)
    g_bytes_unref (err_out);
  return list ? (gchar **) g_ptr_array_free (list, FALSE) : NULL;
}

static void
reload (void)
{
  gchar **words;
  GstElement *wanted;
  GPtrArray *have, *want;
  GError *err = NULL;
  guint i, applied = 0, restart = 0;

  say (PRIO_INFO, "reload: reading the settings again");
  notify ("RELOADING=1");
  words = words_now ();
  if (!words)
    goto done;
  wanted = gst_parse_launchv ((const gchar **) words, &err);
  g_strfreev (words);
  if (!wanted || err) {
    say (PRIO_ERR, "reload: the new pipeline cannot be built (%s): still "
        "running with the previous settings", err ? err->message : "?");
    g_clear_error (&err);
    if (wanted)
      gst_object_unref (wanted);
    goto done;
  }
  if (!GST_IS_BIN (wanted)) {
    /* a single element: parse_launch gives it without a pipeline */
    GstElement *bin = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (bin), wanted);
    wanted = bin;
  }
  have = elements_of (L.pipeline);
  want = elements_of (wanted);
  for (i = 0; i < have->len && have->len == want->len; i++)
    if (!g_str_equal (kind_of (have->pdata[i]), kind_of (want->pdata[i])))
      break;
  if (have->len != want->len || i < have->len) {
    say (PRIO_WARNING, "reload: the settings now ask for other elements "
        "(another tool, other groups or listeners): that needs a restart; "
        "still running as before");
  } else {
    for (i = 0; i < have->len; i++)
      reload_element (have->pdata[i], want->pdata[i], &applied, &restart);
    if (applied + restart == 0)
      say (PRIO_INFO, "reload: nothing changed");
    else if (restart == 0)
      say (PRIO_INFO, "reload: %u change%s applied, connections kept",
          applied, applied == 1 ? "" : "s");
    else
      say (PRIO_WARNING, "reload: %u change%s applied, connections kept; "
          "%u need%s a restart", applied, applied == 1 ? "" : "s", restart,
          restart == 1 ? "s" : "");
  }
  g_ptr_array_unref (have);
  g_ptr_array_unref (want);
  gst_object_unref (wanted);
done:
  notify ("READY=1\nSTATUS=playing");
}

/* ---- signals and the program --------------------------------------------- */

static gboolean
on_stop_signal (gpointer name)
{
  say (PRIO_INFO, "%s: stopping", (const gchar *) name);
  stop (0);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hup (gpointer unused)
{
  if (!L.stopping)
    reload ();
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  GstBus *bus;
  GstStateChangeReturn ret;

  if (argc < 4 || !g_str_equal (argv[2], "--")) {
    fprintf (stderr, "Usage: mcastproxy-launch TOOL-PATH -- WORD...\n");
    return 2;
  }
  /* the words are the pipeline's, not GStreamer options */
  gst_init (NULL, NULL);
  L.tool_path = argv[1];
  L.tool = g_path_get_basename (argv[1]);
  L.journal = stderr_is_journal ();
  L.loop = g_main_loop_new (NULL, FALSE);

  L.pipeline = gst_parse_launchv ((const gchar **) argv + 3, &err);
  if (!L.pipeline || err) {
    say (PRIO_ERR, "the pipeline cannot be built: %s",
        err ? err->message : "?");
    return 2;
  }
  if (!GST_IS_PIPELINE (L.pipeline)) {
    GstElement *bin = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (bin), L.pipeline);
    L.pipeline = bin;
  }
  /* the bus keeps what comes while stopping, for the log */
  gst_pipeline_set_auto_flush_bus (GST_PIPELINE (L.pipeline), FALSE);
  bus = gst_element_get_bus (L.pipeline);
  gst_bus_add_watch (bus, on_bus, NULL);
  gst_object_unref (bus);
  g_unix_signal_add_full (G_PRIORITY_HIGH, SIGTERM, on_stop_signal,
      "SIGTERM", NULL);
  g_unix_signal_add_full (G_PRIORITY_HIGH, SIGINT, on_stop_signal,
      "SIGINT", NULL);
  g_unix_signal_add (SIGHUP, on_hup, NULL);

  ret = gst_element_set_state (L.pipeline, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    /* the element's error message says why: read it before giving up */
    GstMessage *msg;
    bus = gst_element_get_bus (L.pipeline);
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR |
                GST_MESSAGE_WARNING))) {
      on_bus (bus, msg, NULL);
      gst_message_unref (msg);
    }
    gst_object_unref (bus);
    if (!L.stopping)
      say (PRIO_ERR, "the pipeline could not start");
    L.status = 1;
  } else {
    g_main_loop_run (L.loop);
  }
  gst_element_set_state (L.pipeline, GST_STATE_NULL);
  /* what the elements told while stopping (clients gone, groups left) */
  bus = gst_element_get_bus (L.pipeline);
  {
    GstMessage *msg;
    while ((msg = gst_bus_pop (bus))) {
      on_bus (bus, msg, NULL);
      gst_message_unref (msg);
    }
  }
  gst_object_unref (bus);
  say (L.status ? PRIO_ERR : PRIO_INFO, "stopped%s",
      L.status ? " after an error" : "");
  gst_object_unref (L.pipeline);
  g_main_loop_unref (L.loop);
  g_free (L.tool);
  return L.status;
}
