/* mcastproxy — answers to HTTP requests of players (see gstmcphttp.h). */
#include "config.h"

#include "gstmcphttp.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcp_http_debug);
#define GST_CAT_DEFAULT mcp_http_debug

#define STATS_PATH "/stats"

static void append_structure (GString * out, const GstStructure * s);

static void
append_value (GString * out, const GValue * v)
{
  GType type = G_VALUE_TYPE (v);

  if (type == G_TYPE_STRING) {
    const gchar *str = g_value_get_string (v);

    if (str)
      mcp_json_append_string (out, str);
    else
      g_string_append (out, "null");
  } else if (type == G_TYPE_BOOLEAN) {
    g_string_append (out, g_value_get_boolean (v) ? "true" : "false");
  } else if (type == G_TYPE_INT) {
    g_string_append_printf (out, "%d", g_value_get_int (v));
  } else if (type == G_TYPE_UINT) {
    g_string_append_printf (out, "%u", g_value_get_uint (v));
  } else if (type == G_TYPE_INT64) {
    g_string_append_printf (out, "%" G_GINT64_FORMAT, g_value_get_int64 (v));
  } else if (type == G_TYPE_UINT64) {
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_value_get_uint64 (v));
  } else if (type == G_TYPE_LONG) {
    g_string_append_printf (out, "%ld", g_value_get_long (v));
  } else if (type == G_TYPE_ULONG) {
    g_string_append_printf (out, "%lu", g_value_get_ulong (v));
  } else if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) {
    gdouble d = type == G_TYPE_DOUBLE ? g_value_get_double (v) :
        g_value_get_float (v);
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (isfinite (d))
      g_string_append (out, g_ascii_dtostr (buf, sizeof (buf), d));
    else
      g_string_append (out, "null");
  } else if (type == GST_TYPE_STRUCTURE) {
    const GstStructure *s = gst_value_get_structure (v);

    if (s)
      append_structure (out, s);
    else
      g_string_append (out, "null");
  } else if (GST_VALUE_HOLDS_ARRAY (v) || GST_VALUE_HOLDS_LIST (v)) {
    gboolean array = GST_VALUE_HOLDS_ARRAY (v);
    guint n =
        array ? gst_value_array_get_size (v) : gst_value_list_get_size (v);
    guint i;

    g_string_append_c (out, '[');
    for (i = 0; i < n; i++) {
      if (i)
        g_string_append_c (out, ',');
      append_value (out, array ? gst_value_array_get_value (v, i) :
          gst_value_list_get_value (v, i));
    }
    g_string_append_c (out, ']');
  } else if (G_TYPE_IS_ENUM (type)) {
    GEnumClass *klass = g_type_class_ref (type);
    GEnumValue *ev = g_enum_get_value (klass, g_value_get_enum (v));

    if (ev)
      mcp_json_append_string (out, ev->value_nick);
    else
      g_string_append_printf (out, "%d", g_value_get_enum (v));
    g_type_class_unref (klass);
  } else {
    gchar *str = gst_value_serialize (v);

    if (str)
      mcp_json_append_string (out, str);
    else
      g_string_append (out, "null");
    g_free (str);
  }
}

static gboolean
append_field (GQuark field, const GValue * v, gpointer data)
{
  GString *out = data;

  if (out->str[out->len - 1] != '{')
    g_string_append_c (out, ',');
  mcp_json_append_string (out, g_quark_to_string (field));
  g_string_append_c (out, ':');
  append_value (out, v);
  return TRUE;
}

static void
append_structure (GString * out, const GstStructure * s)
{
  g_string_append_c (out, '{');
  gst_structure_foreach (s, append_field, out);
  g_string_append_c (out, '}');
}

gchar *
gst_mcp_structure_to_json (const GstStructure * s)
{
  GString *out = g_string_new (NULL);

  append_structure (out, s);
  return g_string_free (out, FALSE);
}

static void
init_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (mcp_http_debug, "mcphttp", 0,
        "mcastproxy HTTP clients");
    g_once_init_leave (&done, 1);
  }
}

typedef struct
{
  GstElement *owner;            /* not a reference: it outlives ctx's thread */
  McpConn *conn;
  guint version_minor;
  gboolean head;
} StatsRequest;

static void
stats_request_free (gpointer data)
{
  StatsRequest *r = data;

  mcp_conn_unref (r->conn);
  g_free (r);
}

static gboolean
answer_stats (gpointer data)
{
  StatsRequest *r = data;
  GRecMutex *lock = mcp_conn_get_lock (r->conn);
  GstStructure *s = NULL;
  gchar *json;
  GBytes *msg;

  g_signal_emit_by_name (r->owner, "get-stats", &s);
  json = s ? gst_mcp_structure_to_json (s) : g_strdup ("{}");
  if (s)
    gst_structure_free (s);
  msg = mcp_http_response (r->version_minor, 200, "application/json", json,
      NULL, !r->head);
  if (lock)
    g_rec_mutex_lock (lock);
  if (!mcp_conn_is_closed (r->conn))
    mcp_conn_http_respond (r->conn, msg, FALSE, "HTTP " STATS_PATH " answered");
  if (lock)
    g_rec_mutex_unlock (lock);
  g_bytes_unref (msg);
  g_free (json);
  return G_SOURCE_REMOVE;
}

void
gst_mcp_http_answer (GstElement * owner, McpConn * conn,
    const McpHttpRequest * req, const gchar * caps, GMainContext * ctx)
{
  gboolean head = strcmp (req->method, "HEAD") == 0;
  GBytes *msg;

  init_debug ();
  GST_DEBUG_OBJECT (owner, "HTTP %s %s from %s", req->method, req->target,
      mcp_conn_get_peer_address (conn));
  if (strcmp (req->path, STATS_PATH) == 0) {
    StatsRequest *r = g_new0 (StatsRequest, 1);
    GSource *idle = g_idle_source_new ();

    r->owner = owner;
    r->conn = mcp_conn_ref (conn);
    r->version_minor = req->version_minor;
    r->head = head;
    g_source_set_callback (idle, answer_stats, r, stats_request_free);
    g_source_attach (idle, ctx);
    g_source_unref (idle);
  } else if (strcmp (req->path, mcp_conn_get_http_path (conn)) != 0) {
    gchar *reason = g_strdup_printf ("HTTP 404 for %s", req->path);

    msg = mcp_http_response (req->version_minor, 404, NULL, NULL, NULL, !head);
    mcp_conn_http_respond (conn, msg, FALSE, reason);
    g_bytes_unref (msg);
    g_free (reason);
  } else {
    gchar *h = mcp_http_response_head (req->version_minor, 200,
        mcp_http_content_type_for_caps (caps), -1, NULL);

    msg = g_bytes_new_take (h, strlen (h));
    mcp_conn_http_respond (conn, msg, !head, "HTTP HEAD answered");
    g_bytes_unref (msg);
  }
}
