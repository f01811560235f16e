/* mcastproxy — the network side of a TCP element (see mcp-endpoint.h). */
#include "config.h"

#include "mcp-endpoint.h"
#include "mcp-loop.h"
#include "mcp-mcast.h"
#include "mcp-tcp.h"

/* After a failed accept(): the listening socket stays readable, so
 * accepting pauses rather than spin. */
#define ACCEPT_PAUSE (100 * G_TIME_SPAN_MILLISECOND)

struct _McpEndpoint
{
  gboolean listener;
  gchar *host;
  guint16 port;
  guint64 reconnect_delay;
  guint64 reconnect_max_delay;
  guint64 connect_timeout;

  GSocket *listen_socket;
  McpLoop *loop;
  GSource *accept_source;
  GSource *accept_pause;
  McpConnector *connector;
  McpEndpointFuncs funcs;
  gpointer user_data;
};

McpEndpoint *
mcp_endpoint_new_listener (const gchar * host, guint16 port, GError ** error)
{
  GSocket *socket = mcp_tcp_listen (host, port, error);
  McpEndpoint *ep;

  if (!socket)
    return NULL;
  ep = g_new0 (McpEndpoint, 1);
  ep->listener = TRUE;
  ep->host = g_strdup (host);
  ep->listen_socket = socket;
  ep->port = mcp_socket_get_local_port (socket);
  return ep;
}

McpEndpoint *
mcp_endpoint_new_caller (const gchar * host, guint16 port,
    guint64 reconnect_delay, guint64 reconnect_max_delay,
    guint64 connect_timeout)
{
  McpEndpoint *ep = g_new0 (McpEndpoint, 1);

  ep->host = g_strdup (host && *host ? host : "localhost");
  ep->port = port;
  ep->reconnect_delay = reconnect_delay;
  ep->reconnect_max_delay = reconnect_max_delay;
  ep->connect_timeout = connect_timeout;
  return ep;
}

void
mcp_endpoint_free (McpEndpoint * ep)
{
  if (!ep)
    return;
  mcp_endpoint_stop (ep);
  if (ep->listen_socket) {
    g_socket_close (ep->listen_socket, NULL);
    g_object_unref (ep->listen_socket);
  }
  g_free (ep->host);
  g_free (ep);
}

gboolean
mcp_endpoint_is_listener (McpEndpoint * ep)
{
  return ep->listener;
}

guint16
mcp_endpoint_get_port (McpEndpoint * ep)
{
  return ep->listener ? ep->port : 0;
}

GMainContext *
mcp_endpoint_get_context (McpEndpoint * ep)
{
  return ep->loop ? mcp_loop_get_context (ep->loop) : NULL;
}

gboolean
mcp_endpoint_is_current_thread (McpEndpoint * ep)
{
  return ep && ep->loop
      && g_main_context_is_owner (mcp_loop_get_context (ep->loop));
}

static gboolean accept_cb (GSocket * listen_socket, GIOCondition cond,
    gpointer data);

static void
watch_listen_socket (McpEndpoint * ep)
{
  ep->accept_source = g_socket_create_source (ep->listen_socket, G_IO_IN, NULL);
  g_source_set_callback (ep->accept_source, (GSourceFunc) accept_cb, ep, NULL);
  g_source_attach (ep->accept_source, mcp_loop_get_context (ep->loop));
}

static gboolean
accept_resume_cb (gpointer data)
{
  McpEndpoint *ep = data;

  g_clear_pointer (&ep->accept_pause, g_source_unref);
  watch_listen_socket (ep);
  return G_SOURCE_REMOVE;
}

static gboolean
accept_cb (GSocket * listen_socket, GIOCondition cond, gpointer data)
{
  McpEndpoint *ep = data;

  for (;;) {
    GError *err = NULL;
    GSocket *socket = g_socket_accept (listen_socket, NULL, &err);

    if (!socket) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        g_error_free (err);
        return G_SOURCE_CONTINUE;
      }
      if (ep->funcs.accept_failed)
        ep->funcs.accept_failed (ep, err->message, ACCEPT_PAUSE * 1000,
            ep->user_data);
      g_error_free (err);
      g_clear_pointer (&ep->accept_source, g_source_unref);
      ep->accept_pause = g_timeout_source_new (ACCEPT_PAUSE / 1000);
      g_source_set_callback (ep->accept_pause, accept_resume_cb, ep, NULL);
      g_source_attach (ep->accept_pause, mcp_loop_get_context (ep->loop));
      return G_SOURCE_REMOVE;
    }
    mcp_tcp_tune (socket);
    ep->funcs.connection (ep, socket, FALSE, ep->user_data);
  }
}

static void
connector_connected (McpConnector * connector, GSocket * socket,
    gpointer user_data)
{
  McpEndpoint *ep = user_data;

  ep->funcs.connection (ep, socket, TRUE, ep->user_data);
}

static void
connector_failed (McpConnector * connector, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  McpEndpoint *ep = user_data;

  if (ep->funcs.connect_failed)
    ep->funcs.connect_failed (ep, reason, retry_in, ep->user_data);
}

static gboolean
start_on_thread (gpointer data)
{
  McpEndpoint *ep = data;
  GMainContext *ctx = mcp_loop_get_context (ep->loop);

  if (ep->listener) {
    watch_listen_socket (ep);
  } else {
    ep->connector = mcp_connector_new (ctx, ep->host, ep->port,
        ep->reconnect_delay, ep->reconnect_max_delay, ep->connect_timeout,
        connector_connected, connector_failed, ep);
    mcp_connector_connect (ep->connector);
  }
  return G_SOURCE_REMOVE;
}

void
mcp_endpoint_start (McpEndpoint * ep, const gchar * thread_name,
    const McpEndpointFuncs * funcs, gpointer user_data)
{
  g_return_if_fail (ep->loop == NULL);
  ep->funcs = *funcs;
  ep->user_data = user_data;
  ep->loop = mcp_loop_new (thread_name);
  mcp_loop_invoke_sync (ep->loop, start_on_thread, ep);
}

void
mcp_endpoint_stop (McpEndpoint * ep)
{
  if (!ep || !ep->loop)
    return;
  /* After the join nothing runs on the thread any more. */
  mcp_loop_free (ep->loop);
  ep->loop = NULL;
  if (ep->accept_source) {
    g_source_destroy (ep->accept_source);
    g_clear_pointer (&ep->accept_source, g_source_unref);
  }
  if (ep->accept_pause) {
    g_source_destroy (ep->accept_pause);
    g_clear_pointer (&ep->accept_pause, g_source_unref);
  }
  g_clear_pointer (&ep->connector, mcp_connector_free);
}

void
mcp_endpoint_reconnect (McpEndpoint * ep)
{
  if (ep && ep->connector)
    mcp_connector_reconnect (ep->connector);
}

void
mcp_endpoint_reset_backoff (McpEndpoint * ep)
{
  if (ep && ep->connector)
    mcp_connector_reset_backoff (ep->connector);
}
