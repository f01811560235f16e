/* mcastproxy — the network side of a TCP element (see mcp-endpoint.h). */
#include "config.h"

#include "mcp-endpoint.h"

#include <string.h>
#include "mcp-loop.h"
#include "mcp-mcast.h"
#include "mcp-tcp.h"

/* After a failed accept(): the listening socket stays readable, so
 * accepting pauses rather than spin. */
#define ACCEPT_PAUSE (100 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  McpEndpoint *ep;
  gint index;
  gchar *host;
  guint16 port;
  guint64 reconnect_delay;
  guint64 reconnect_max_delay;
  guint64 connect_timeout;
  McpConnector *connector;
} Caller;

struct _McpEndpoint
{
  GSocket *listen_socket;
  guint16 port;
  GPtrArray *callers;           /* Caller */

  McpLoop *loop;
  GSource *accept_source;
  GSource *accept_pause;
  McpEndpointFuncs funcs;
  gpointer user_data;
};

static void
caller_free (gpointer data)
{
  Caller *c = data;

  g_clear_pointer (&c->connector, mcp_connector_free);
  g_free (c->host);
  g_free (c);
}

McpEndpoint *
mcp_endpoint_new (void)
{
  McpEndpoint *ep = g_new0 (McpEndpoint, 1);

  ep->callers = g_ptr_array_new_with_free_func (caller_free);
  return ep;
}

gboolean
mcp_endpoint_listen (McpEndpoint * ep, const gchar * host, guint16 port,
    GError ** error)
{
  g_return_val_if_fail (ep->listen_socket == NULL, FALSE);
  ep->listen_socket = mcp_tcp_listen (host, port, error);
  if (!ep->listen_socket)
    return FALSE;
  ep->port = mcp_socket_get_local_port (ep->listen_socket);
  return TRUE;
}

gint
mcp_endpoint_add_caller (McpEndpoint * ep, const gchar * host, guint16 port,
    guint64 reconnect_delay, guint64 reconnect_max_delay,
    guint64 connect_timeout)
{
  Caller *c = g_new0 (Caller, 1);

  g_return_val_if_fail (ep->loop == NULL, -1);
  c->ep = ep;
  c->index = ep->callers->len;
  c->host = g_strdup (host && *host ? host : "localhost");
  c->port = port;
  c->reconnect_delay = reconnect_delay;
  c->reconnect_max_delay = reconnect_max_delay;
  c->connect_timeout = connect_timeout;
  g_ptr_array_add (ep->callers, c);
  return c->index;
}

McpEndpoint *
mcp_endpoint_new_listener (const gchar * host, guint16 port, GError ** error)
{
  McpEndpoint *ep = mcp_endpoint_new ();

  if (!mcp_endpoint_listen (ep, host, port, error)) {
    mcp_endpoint_free (ep);
    return NULL;
  }
  return ep;
}

McpEndpoint *
mcp_endpoint_new_caller (const gchar * host, guint16 port,
    guint64 reconnect_delay, guint64 reconnect_max_delay,
    guint64 connect_timeout)
{
  McpEndpoint *ep = mcp_endpoint_new ();

  mcp_endpoint_add_caller (ep, host, port, reconnect_delay,
      reconnect_max_delay, connect_timeout);
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
  g_ptr_array_unref (ep->callers);
  g_free (ep);
}

gboolean
mcp_endpoint_is_listener (McpEndpoint * ep)
{
  return ep->listen_socket != NULL;
}

guint16
mcp_endpoint_get_port (McpEndpoint * ep)
{
  return ep->listen_socket ? ep->port : 0;
}

guint
mcp_endpoint_get_n_callers (McpEndpoint * ep)
{
  return ep->callers->len;
}

const gchar *
mcp_endpoint_get_caller_host (McpEndpoint * ep, gint caller)
{
  const gchar *host;

  if (caller < 0 || (guint) caller >= ep->callers->len)
    return NULL;
  host = ((Caller *) g_ptr_array_index (ep->callers, caller))->host;
  return host && *host ? host : "localhost";
}

gchar *
mcp_endpoint_get_caller_target (McpEndpoint * ep, gint caller)
{
  const gchar *host = mcp_endpoint_get_caller_host (ep, caller);

  if (!host)
    return NULL;
  return g_strdup_printf (strchr (host, ':') ? "[%s]:%u" : "%s:%u", host,
      ((Caller *) g_ptr_array_index (ep->callers, caller))->port);
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
    ep->funcs.connection (ep, socket, MCP_ENDPOINT_ACCEPTED, ep->user_data);
  }
}

static void
connector_connected (McpConnector * connector, GSocket * socket,
    gpointer user_data)
{
  Caller *c = user_data;

  c->ep->funcs.connection (c->ep, socket, c->index, c->ep->user_data);
}

static void
connector_failed (McpConnector * connector, const gchar * reason,
    guint64 retry_in, gpointer user_data)
{
  Caller *c = user_data;

  if (c->ep->funcs.connect_failed)
    c->ep->funcs.connect_failed (c->ep, c->index, reason, retry_in,
        c->ep->user_data);
}

static gboolean
start_on_thread (gpointer data)
{
  McpEndpoint *ep = data;
  GMainContext *ctx = mcp_loop_get_context (ep->loop);
  guint i;

  if (ep->listen_socket)
    watch_listen_socket (ep);
  for (i = 0; i < ep->callers->len; i++) {
    Caller *c = g_ptr_array_index (ep->callers, i);

    c->connector = mcp_connector_new (ctx, c->host, c->port,
        c->reconnect_delay, c->reconnect_max_delay, c->connect_timeout,
        connector_connected, connector_failed, c);
    mcp_connector_connect (c->connector);
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
  guint i;

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
  for (i = 0; i < ep->callers->len; i++) {
    Caller *c = g_ptr_array_index (ep->callers, i);

    g_clear_pointer (&c->connector, mcp_connector_free);
  }
}

static McpConnector *
connector_of (McpEndpoint * ep, gint caller)
{
  if (!ep || caller < 0 || (guint) caller >= ep->callers->len)
    return NULL;
  return ((Caller *) g_ptr_array_index (ep->callers, caller))->connector;
}

typedef struct
{
  McpEndpoint *ep;
  gint caller;
} ReconnectCall;

static gboolean
reconnect_on_thread (gpointer data)
{
  ReconnectCall *call = data;

  mcp_endpoint_reconnect (call->ep, call->caller);
  return G_SOURCE_REMOVE;
}

void
mcp_endpoint_reconnect (McpEndpoint * ep, gint caller)
{
  McpConnector *connector = connector_of (ep, caller);

  if (!connector)
    return;
  if (ep->loop && !mcp_endpoint_is_current_thread (ep)) {
    ReconnectCall *call = g_new (ReconnectCall, 1);

    call->ep = ep;
    call->caller = caller;
    mcp_loop_invoke (ep->loop, reconnect_on_thread, call, g_free);
    return;
  }
  mcp_connector_reconnect (connector);
}

void
mcp_endpoint_reset_backoff (McpEndpoint * ep, gint caller)
{
  McpConnector *connector = connector_of (ep, caller);

  if (connector)
    mcp_connector_reset_backoff (connector);
}
