/* mcastproxy — TLS on a TCP leg, through GIO's TLS backend
 * (glib-networking): certificates and the wrapping of a connected socket. */
#ifndef __MCP_TLS_H__
#define __MCP_TLS_H__

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _McpTls McpTls;

/* The TLS set-up of one side of a connection, loaded once from PEM files.
 * server: cert_file and key_file are required; with ca_file, clients must
 * present a certificate signed by one of its CAs (mutual TLS).
 * client: ca_file replaces the system's trusted CAs for checking the
 * server; cert_file and key_file, if given, are presented to a server that
 * asks. key_file NULL: the key is in cert_file. */
McpTls *mcp_tls_new (gboolean server, const gchar * cert_file,
    const gchar * key_file, const gchar * ca_file, GError ** error);
McpTls *mcp_tls_ref (McpTls * tls);
void mcp_tls_unref (McpTls * tls);

/* A TLS stream over the connected socket; the handshake is the caller's
 * to run. server_identity: the host name (or address) the client expects
 * the server's certificate to name; ignored by servers. */
GTlsConnection *mcp_tls_wrap (McpTls * tls, GSocket * socket,
    const gchar * server_identity, GError ** error);

/* One line on what went wrong in a handshake, for a log. */
gchar *mcp_tls_describe_error (GTlsConnection * conn, const GError * error);

G_END_DECLS

#endif /* __MCP_TLS_H__ */
