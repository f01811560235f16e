/* mcastproxy — TLS on a TCP leg (see mcp-tls.h). */
#include "config.h"

#include "mcp-tls.h"

struct _McpTls
{
  gint refcount;
  gboolean server;
  GTlsCertificate *certificate;
  GTlsDatabase *database;       /* NULL: the backend's default (clients) */
};

McpTls *
mcp_tls_new (gboolean server, const gchar * cert_file, const gchar * key_file,
    const gchar * ca_file, GError ** error)
{
  McpTls *self;
  GTlsBackend *backend = g_tls_backend_get_default ();
  GTlsCertificate *cert = NULL;
  GTlsDatabase *db = NULL;

  if (!g_tls_backend_supports_tls (backend)) {
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_UNAVAILABLE,
        "TLS is not available: GIO has no TLS backend (install "
        "glib-networking)");
    return NULL;
  }
  if (server && !(cert_file && *cert_file)) {
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_MISC,
        "a TLS listener needs a certificate (tls-certificate) and its key "
        "(tls-key)");
    return NULL;
  }
  if (cert_file && *cert_file) {
    if (key_file && *key_file)
      cert = g_tls_certificate_new_from_files (cert_file, key_file, error);
    else
      cert = g_tls_certificate_new_from_file (cert_file, error);
    if (!cert) {
      g_prefix_error (error, "certificate %s: ", cert_file);
      return NULL;
    }
  }
  if (ca_file && *ca_file) {
    db = g_tls_file_database_new (ca_file, error);
    if (!db) {
      g_prefix_error (error, "CA file %s: ", ca_file);
      g_clear_object (&cert);
      return NULL;
    }
  }
  self = g_new0 (McpTls, 1);
  self->refcount = 1;
  self->server = server;
  self->certificate = cert;
  self->database = db;
  return self;
}

McpTls *
mcp_tls_ref (McpTls * self)
{
  g_atomic_int_inc (&self->refcount);
  return self;
}

void
mcp_tls_unref (McpTls * self)
{
  if (!g_atomic_int_dec_and_test (&self->refcount))
    return;
  g_clear_object (&self->certificate);
  g_clear_object (&self->database);
  g_free (self);
}


/* A server connection accepts a client certificate only when asked: take
 * those that the CA database verified without a complaint. */
static gboolean
accept_verified (GTlsConnection * conn, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return errors == 0;
}

GTlsConnection *
mcp_tls_wrap (McpTls * self, GSocket * socket, const gchar * server_identity,
    GError ** error)
{
  GSocketConnection *base = g_socket_connection_factory_create_connection
      (socket);
  GIOStream *tls;

  if (self->server) {
    tls = g_tls_server_connection_new (G_IO_STREAM (base), self->certificate,
        error);
    if (tls && self->database) {
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), self->database);
      g_object_set (tls, "authentication-mode",
          G_TLS_AUTHENTICATION_REQUIRED, NULL);
      g_signal_connect (tls, "accept-certificate",
          G_CALLBACK (accept_verified), NULL);
    }
  } else {
    GSocketConnectable *identity = server_identity && *server_identity ?
        g_network_address_new (server_identity, 0) : NULL;

    tls = g_tls_client_connection_new (G_IO_STREAM (base), identity, error);
    g_clear_object (&identity);
    if (tls && self->database)
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), self->database);
    if (tls && self->certificate)
      g_tls_connection_set_certificate (G_TLS_CONNECTION (tls),
          self->certificate);
  }
  g_object_unref (base);
  if (!tls)
    return NULL;
  /* our own framing tells a clean end from a cut one */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  return G_TLS_CONNECTION (tls);
}

gchar *
mcp_tls_describe_error (GTlsConnection * conn, const GError * error)
{
  GTlsCertificateFlags flags = g_tls_connection_get_peer_certificate_errors
      (conn);
  GString *s = g_string_new ("TLS handshake failed: ");

  g_string_append (s, error->message);
  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_string_append (s, " (certificate not signed by a trusted CA)");
  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append (s, " (certificate does not name the host)");
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    g_string_append (s, " (certificate expired)");
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_string_append (s, " (certificate not yet valid)");
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    g_string_append (s, " (certificate revoked)");
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    g_string_append (s, " (certificate uses insecure algorithms)");
  if (flags & G_TLS_CERTIFICATE_GENERIC_ERROR)
    g_string_append (s, " (certificate not valid)");
  return g_string_free (s, FALSE);
}
