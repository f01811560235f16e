/* mcastproxy — the network side of a TCP element: a listening socket or a
 * reconnecting caller, served by a thread with its own GMainContext. */
#ifndef __MCP_ENDPOINT_H__
#define __MCP_ENDPOINT_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _McpEndpoint McpEndpoint;

typedef struct
{
  /* A new connection, accepted or made (socket: transfer full, tuned,
   * non-blocking). The callee takes it or closes it. */
  void (*connection) (McpEndpoint * ep, GSocket * socket, gboolean initiator,
      gpointer user_data);
  /* Caller: an attempt failed; the next starts by itself after retry_in. */
  void (*connect_failed) (McpEndpoint * ep, const gchar * reason,
      guint64 retry_in, gpointer user_data);
  /* Listener: accept() failed (out of file descriptors, say); accepting
   * pauses for retry_in, the connection waits in the backlog. */
  void (*accept_failed) (McpEndpoint * ep, const gchar * reason,
      guint64 retry_in, gpointer user_data);
} McpEndpointFuncs;

/* A listener binds and listens at once (so that its port is known); a
 * caller does nothing until started. */
McpEndpoint *mcp_endpoint_new_listener (const gchar * host, guint16 port,
    GError ** error);
McpEndpoint *mcp_endpoint_new_caller (const gchar * host, guint16 port,
    guint64 reconnect_delay, guint64 reconnect_max_delay,
    guint64 connect_timeout);
void mcp_endpoint_free (McpEndpoint * ep);

gboolean mcp_endpoint_is_listener (McpEndpoint * ep);
/* The listening port (0 for a caller). */
guint16 mcp_endpoint_get_port (McpEndpoint * ep);

/* Starts the thread, then accepting or connecting on it. Callbacks run on
 * that thread. */
void mcp_endpoint_start (McpEndpoint * ep, const gchar * thread_name,
    const McpEndpointFuncs * funcs, gpointer user_data);
/* The running thread's context: for the connections' sources. */
GMainContext *mcp_endpoint_get_context (McpEndpoint * ep);
/* TRUE on the endpoint's own thread. */
gboolean mcp_endpoint_is_current_thread (McpEndpoint * ep);
/* Stops accepting or connecting and joins the thread. A listener keeps
 * its socket (new connections wait in the backlog). */
void mcp_endpoint_stop (McpEndpoint * ep);

/* Caller, on the endpoint's thread: the connection dropped, call again
 * after the back-off delay. Does nothing for a listener or once stopped;
 * these calls accept NULL. */
void mcp_endpoint_reconnect (McpEndpoint * ep);
/* Caller, on the endpoint's thread: the connection proved good. */
void mcp_endpoint_reset_backoff (McpEndpoint * ep);

G_END_DECLS

#endif /* __MCP_ENDPOINT_H__ */
