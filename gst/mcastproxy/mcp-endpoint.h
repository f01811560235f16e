/* mcastproxy — the network side of a TCP element: an optional listening
 * socket and any number of reconnecting callers, served by one thread with
 * its own GMainContext. */
#ifndef __MCP_ENDPOINT_H__
#define __MCP_ENDPOINT_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _McpEndpoint McpEndpoint;

/* Which caller made a connection; MCP_ENDPOINT_ACCEPTED for the listener. */
#define MCP_ENDPOINT_ACCEPTED (-1)

typedef struct
{
  /* A new connection, accepted or made by caller number `caller` (socket:
   * transfer full, tuned, non-blocking). The callee takes it or closes
   * it; a caller whose connection ends is told to mcp_endpoint_reconnect. */
  void (*connection) (McpEndpoint * ep, GSocket * socket, gint caller,
      gpointer user_data);
  /* A caller's attempt failed (reason: a few words, "refused"); the next
   * starts by itself after retry_in. */
  void (*connect_failed) (McpEndpoint * ep, gint caller, const gchar * reason,
      guint64 retry_in, gpointer user_data);
  /* Listener: accept() failed (out of file descriptors, say); accepting
   * pauses for retry_in, the connection waits in the backlog. */
  void (*accept_failed) (McpEndpoint * ep, const gchar * reason,
      guint64 retry_in, gpointer user_data);
} McpEndpointFuncs;

McpEndpoint *mcp_endpoint_new (void);
/* Binds and listens at once, so that the port is known. */
gboolean mcp_endpoint_listen (McpEndpoint * ep, const gchar * host,
    guint16 port, GError ** error);
/* Adds a caller of host:port (empty host: localhost); returns its number.
 * Delays are nanoseconds. Before mcp_endpoint_start() only. */
gint mcp_endpoint_add_caller (McpEndpoint * ep, const gchar * host,
    guint16 port, guint64 reconnect_delay, guint64 reconnect_max_delay,
    guint64 connect_timeout);
void mcp_endpoint_free (McpEndpoint * ep);

/* Convenience: an endpoint with just a listener, or just one caller. */
McpEndpoint *mcp_endpoint_new_listener (const gchar * host, guint16 port,
    GError ** error);
McpEndpoint *mcp_endpoint_new_caller (const gchar * host, guint16 port,
    guint64 reconnect_delay, guint64 reconnect_max_delay,
    guint64 connect_timeout);

gboolean mcp_endpoint_is_listener (McpEndpoint * ep);
/* The listening port (0 without a listener). */
guint16 mcp_endpoint_get_port (McpEndpoint * ep);
guint mcp_endpoint_get_n_callers (McpEndpoint * ep);
/* The host caller number `caller` connects to ("localhost" for an empty
 * one); NULL for MCP_ENDPOINT_ACCEPTED. */
const gchar *mcp_endpoint_get_caller_host (McpEndpoint * ep, gint caller);
/* "host:port" ("[v6]:port") of caller number `caller`, newly allocated. */
gchar *mcp_endpoint_get_caller_target (McpEndpoint * ep, gint caller);

/* Starts the thread, then accepting and calling on it. Callbacks run on
 * that thread. */
void mcp_endpoint_start (McpEndpoint * ep, const gchar * thread_name,
    const McpEndpointFuncs * funcs, gpointer user_data);
/* The running thread's context: for the connections' sources. */
GMainContext *mcp_endpoint_get_context (McpEndpoint * ep);
/* TRUE on the endpoint's own thread. */
gboolean mcp_endpoint_is_current_thread (McpEndpoint * ep);
/* Stops accepting and calling and joins the thread. A listener keeps its
 * socket (new connections wait in the backlog). */
void mcp_endpoint_stop (McpEndpoint * ep);

/* Caller's connection dropped, call again after the back-off delay (from
 * another thread than the endpoint's: soon, on the endpoint's thread). Does
 * nothing for MCP_ENDPOINT_ACCEPTED or once stopped; these calls accept
 * NULL. */
void mcp_endpoint_reconnect (McpEndpoint * ep, gint caller);
/* On the endpoint's thread: caller's connection proved good. */
void mcp_endpoint_reset_backoff (McpEndpoint * ep, gint caller);

G_END_DECLS

#endif /* __MCP_ENDPOINT_H__ */
