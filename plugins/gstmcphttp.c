/* mcastproxy — answers to HTTP requests of players (see gstmcphttp.h). */
#include "config.h"

#include "gstmcphttp.h"
#include "gstmcpstats.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (mcp_http_debug);
#define GST_CAT_DEFAULT mcp_http_debug

#define STATS_PATH "/stats"

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
  GstMcpHttpBodyFunc body;
  gchar *path;
} LaterRequest;

static void
later_request_free (gpointer data)
{
  LaterRequest *r = data;

  mcp_conn_unref (r->conn);
  g_free (r->path);
  g_free (r);
}

static gboolean
answer_later (gpointer data)
{
  LaterRequest *r = data;
  GRecMutex *lock = mcp_conn_get_lock (r->conn);
  const gchar *content_type = "application/json";
  gchar *body, *reason;
  GBytes *msg;

  body = r->body (r->owner, &content_type);
  msg = mcp_http_response (r->version_minor, 200, content_type, body, NULL,
      !r->head);
  reason = g_strdup_printf ("HTTP %s answered", r->path);
  if (lock)
    g_rec_mutex_lock (lock);
  if (!mcp_conn_is_closed (r->conn))
    mcp_conn_http_respond (r->conn, msg, FALSE, reason);
  if (lock)
    g_rec_mutex_unlock (lock);
  g_bytes_unref (msg);
  g_free (body);
  g_free (reason);
  return G_SOURCE_REMOVE;
}

void
gst_mcp_http_answer_later (GstElement * owner, McpConn * conn,
    const McpHttpRequest * req, GMainContext * ctx, GstMcpHttpBodyFunc body)
{
  LaterRequest *r = g_new0 (LaterRequest, 1);
  GSource *idle = g_idle_source_new ();

  r->owner = owner;
  r->conn = mcp_conn_ref (conn);
  r->version_minor = req->version_minor;
  r->head = strcmp (req->method, "HEAD") == 0;
  r->body = body;
  r->path = g_strdup (req->path);
  g_source_set_callback (idle, answer_later, r, later_request_free);
  g_source_attach (idle, ctx);
  g_source_unref (idle);
}

static gchar *
stats_body (GstElement * owner, const gchar ** content_type)
{
  *content_type = "application/json";
  return gst_mcp_stats_pipeline_json (owner);
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
    gst_mcp_http_answer_later (owner, conn, req, ctx, stats_body);
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
