/* mcastproxy — TCP listening sockets and a reconnecting connector. */
#ifndef __MCP_TCP_H__
#define __MCP_TCP_H__

#include <gio/gio.h>

G_BEGIN_DECLS

/* Listens on host:port (port 0: ephemeral). host NULL or empty: every
 * interface, IPv6 and IPv4. The socket is non-blocking. */
GSocket *mcp_tcp_listen (const gchar * host, guint16 port, GError ** error);

/* Non-blocking, no Nagle delay, TCP keepalive. */
void mcp_tcp_tune (GSocket * socket);
/* Kernel keepalive probes so that a peer that vanished without a word
 * (host down, link cut) is noticed within about timeout (ns) even while
 * nothing is sent. */
void mcp_tcp_set_keepalive (GSocket * socket, guint64 timeout);

typedef struct _McpConnector McpConnector;

/* socket: transfer full, connected and tuned. */
typedef void (*McpConnectorConnectedFunc) (McpConnector * connector,
    GSocket * socket, gpointer user_data);
/* An attempt failed; the next one starts by itself after retry_in ns.
 * reason is short: "refused", "timed out", "unknown host name", ... */
typedef void (*McpConnectorFailedFunc) (McpConnector * connector,
    const gchar * reason, guint64 retry_in, gpointer user_data);

/* All calls and callbacks happen on the thread that runs ctx. Delays are
 * nanoseconds; each failed attempt doubles the delay up to max_delay. */
McpConnector *mcp_connector_new (GMainContext * ctx, const gchar * host,
    guint16 port, guint64 min_delay, guint64 max_delay, guint64 timeout,
    McpConnectorConnectedFunc connected, McpConnectorFailedFunc failed,
    gpointer user_data);
/* Starts an attempt now. */
void mcp_connector_connect (McpConnector * connector);
/* Starts an attempt after the current back-off delay (after a drop). */
void mcp_connector_reconnect (McpConnector * connector);
/* A connection proved good: the next drop retries after min_delay. */
void mcp_connector_reset_backoff (McpConnector * connector);
/* Stops any attempt in progress or scheduled. */
void mcp_connector_free (McpConnector * connector);
guint64 mcp_connector_get_attempts (McpConnector * connector);

G_END_DECLS

#endif /* __MCP_TCP_H__ */
