/* mcastproxy — TCP listening sockets and a reconnecting connector. */
#include "config.h"

#include "mcp-tcp.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

/* Room for a thousand clients arriving at once (after a restart, say): a
 * full queue makes the kernel answer with SYN cookies, and a client that
 * waits to be spoken to then hangs on a connection the server never saw.
 * The kernel caps it at net.core.somaxconn. */
#define LISTEN_BACKLOG 4096

void
mcp_tcp_tune (GSocket * socket)
{
  g_socket_set_blocking (socket, FALSE);
  g_socket_set_keepalive (socket, TRUE);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

void
mcp_tcp_set_keepalive (GSocket * socket, guint64 timeout)
{
  /* probes start after a third of the time, then one every ninth: six
   * unanswered ones (the other two thirds) end the connection */
  gint idle = MAX (1, (gint) (MIN (timeout, 3600 * G_GUINT64_CONSTANT
              (1000000000)) / 3000000000u));
  gint interval = MAX (1, idle / 3);

  g_socket_set_keepalive (socket, TRUE);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPIDLE, idle, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPINTVL, interval, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPCNT, 6, NULL);
}

static GSocket *
listen_on (GInetAddress * addr, guint16 port, GError ** error)
{
  GSocket *socket;
  GSocketAddress *sa;
  gboolean ok;

  socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!socket)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6
      && g_inet_address_get_is_any (addr))
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 0, NULL);
  sa = g_inet_socket_address_new (addr, port);
  ok = g_socket_bind (socket, sa, TRUE, error);
  g_object_unref (sa);
  if (ok) {
    g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
    ok = g_socket_listen (socket, error);
  }
  if (!ok)
    g_clear_object (&socket);
  return socket;
}

GSocket *
mcp_tcp_listen (const gchar * host, guint16 port, GError ** error)
{
  GInetAddress *addr = NULL;
  GSocket *socket;
  GError *err = NULL;

  if (host == NULL || *host == '\0') {
    /* Dual-stack where IPv6 exists, IPv4 otherwise. */
    addr = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
    socket = listen_on (addr, port, &err);
    g_object_unref (addr);
    if (socket)
      return socket;
    g_clear_error (&err);
    addr = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  } else {
    addr = g_inet_address_new_from_string (host);
    if (!addr) {
      GResolver *resolver = g_resolver_get_default ();
      GList *list = g_resolver_lookup_by_name (resolver, host, NULL, &err);

      g_object_unref (resolver);

      if (!list) {
        g_set_error (error, G_IO_ERROR, err->code,
            "cannot resolve '%s': %s", host, err->message);
        g_error_free (err);
        return NULL;
      }
      addr = g_object_ref (list->data);
      g_resolver_free_addresses (list);
    }
  }
  socket = listen_on (addr, port, &err);
  if (!socket) {
    gchar *a = g_inet_address_to_string (addr);

    g_set_error (error, G_IO_ERROR, err->code,
        "cannot listen on %s port %u: %s", a, port, err->message);
    g_free (a);
    g_error_free (err);
  }
  g_object_unref (addr);
  return socket;
}

/* ---- connector --------------------------------------------------------- */

struct _McpConnector
{
  GMainContext *context;
  gchar *host;
  guint16 port;
  guint64 min_delay;
  guint64 max_delay;
  guint64 timeout;
  guint64 delay;                /* the next back-off */
  guint64 attempts;
  McpConnectorConnectedFunc connected;
  McpConnectorFailedFunc failed;
  gpointer user_data;

  GCancellable *cancellable;    /* of the attempt in progress */
  GList *addresses;             /* resolved, still to try */
  GList *next;
  GSocket *socket;              /* connecting */
  GSource *io_source;
  GSource *timer;               /* retry delay or connect timeout */
  gchar *last_error;
};

static void attempt_next_address (McpConnector * self);

static void
clear_attempt (McpConnector * self)
{
  if (self->io_source) {
    g_source_destroy (self->io_source);
    g_clear_pointer (&self->io_source, g_source_unref);
  }
  if (self->timer) {
    g_source_destroy (self->timer);
    g_clear_pointer (&self->timer, g_source_unref);
  }
  if (self->cancellable) {
    g_cancellable_cancel (self->cancellable);
    g_clear_object (&self->cancellable);
  }
  g_clear_object (&self->socket);
  g_resolver_free_addresses (self->addresses);
  self->addresses = NULL;
  self->next = NULL;
}

McpConnector *
mcp_connector_new (GMainContext * ctx, const gchar * host, guint16 port,
    guint64 min_delay, guint64 max_delay, guint64 timeout,
    McpConnectorConnectedFunc connected, McpConnectorFailedFunc failed,
    gpointer user_data)
{
  McpConnector *self = g_new0 (McpConnector, 1);

  self->context = g_main_context_ref (ctx);
  self->host = g_strdup (host);
  self->port = port;
  self->min_delay = MAX (min_delay, 1000000);
  self->max_delay = MAX (max_delay, self->min_delay);
  self->timeout = timeout;
  self->delay = self->min_delay;
  self->connected = connected;
  self->failed = failed;
  self->user_data = user_data;
  return self;
}

void
mcp_connector_free (McpConnector * self)
{
  if (!self)
    return;
  clear_attempt (self);
  g_free (self->last_error);
  g_free (self->host);
  g_main_context_unref (self->context);
  g_free (self);
}

guint64
mcp_connector_get_attempts (McpConnector * self)
{
  return self->attempts;
}

void
mcp_connector_reset_backoff (McpConnector * self)
{
  self->delay = self->min_delay;
}

static GSource *
attach_timer (McpConnector * self, guint64 ns, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (MAX (ns / 1000000, 1));

  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

static gboolean
retry_timer_cb (gpointer data)
{
  McpConnector *self = data;

  g_clear_pointer (&self->timer, g_source_unref);
  mcp_connector_connect (self);
  return G_SOURCE_REMOVE;
}

/* Schedules the next attempt; returns the wait (ns). */
static guint64
schedule_retry (McpConnector * self)
{
  /* up to 20% less, so that many callers of one restarted server spread
   * out, and never more than max_delay */
  guint64 wait = self->delay * g_random_double_range (0.8, 1.0);

  clear_attempt (self);
  self->delay = MIN (self->delay * 2, self->max_delay);
  self->timer = attach_timer (self, wait, retry_timer_cb);
  return wait;
}

void
mcp_connector_reconnect (McpConnector * self)
{
  schedule_retry (self);
}

static void
attempt_failed (McpConnector * self)
{
  guint64 wait = schedule_retry (self);

  self->failed (self, self->last_error ? self->last_error : "failed", wait,
      self->user_data);
}

/* Why an attempt failed, in the few words a status line has room for. */
static void
set_last_error (McpConnector * self, const GError * err)
{
  const gchar *text = err->message;

  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    text = "refused";
  else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    text = "timed out";
  else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE))
    text = "host unreachable";
  else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    text = "network unreachable";
  else if (g_error_matches (err, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
    text = "unknown host name";
  else if (g_error_matches (err, G_RESOLVER_ERROR,
          G_RESOLVER_ERROR_TEMPORARY_FAILURE))
    text = "host name lookup failed (temporary failure)";
  g_free (self->last_error);
  self->last_error = g_strdup (text);
}

static void
address_done (McpConnector * self, gboolean ok)
{
  GSocket *socket = self->socket;

  if (self->io_source) {
    g_source_destroy (self->io_source);
    g_clear_pointer (&self->io_source, g_source_unref);
  }
  if (self->timer) {
    g_source_destroy (self->timer);
    g_clear_pointer (&self->timer, g_source_unref);
  }
  if (!ok) {
    g_clear_object (&self->socket);
    attempt_next_address (self);
    return;
  }
  self->socket = NULL;
  clear_attempt (self);
  mcp_tcp_tune (socket);
  self->connected (self, socket, self->user_data);
}

static gboolean
connect_ready_cb (GSocket * socket, GIOCondition cond, gpointer data)
{
  McpConnector *self = data;
  GError *err = NULL;

  if (!g_socket_check_connect_result (socket, &err)) {
    set_last_error (self, err);
    g_error_free (err);
    address_done (self, FALSE);
  } else {
    address_done (self, TRUE);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
connect_timeout_cb (gpointer data)
{
  McpConnector *self = data;
  GError *err = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
      "timed out");

  set_last_error (self, err);
  g_error_free (err);
  address_done (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
attempt_next_address (McpConnector * self)
{
  GInetAddress *addr;
  GSocketAddress *sa;
  GError *err = NULL;

  if (!self->next) {
    attempt_failed (self);
    return;
  }
  addr = self->next->data;
  self->next = self->next->next;

  self->socket = g_socket_new (g_inet_address_get_family (addr),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &err);
  if (!self->socket) {
    set_last_error (self, err);
    g_error_free (err);
    attempt_next_address (self);
    return;
  }
  g_socket_set_blocking (self->socket, FALSE);
  sa = g_inet_socket_address_new (addr, self->port);
  if (g_socket_connect (self->socket, sa, NULL, &err)) {
    g_object_unref (sa);
    address_done (self, TRUE);
    return;
  }
  g_object_unref (sa);
  if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_PENDING)) {
    set_last_error (self, err);
    g_error_free (err);
    address_done (self, FALSE);
    return;
  }
  g_clear_error (&err);
  self->io_source = g_socket_create_source (self->socket, G_IO_OUT, NULL);
  g_source_set_callback (self->io_source, (GSourceFunc) connect_ready_cb,
      self, NULL);
  g_source_attach (self->io_source, self->context);
  if (self->timeout)
    self->timer = attach_timer (self, self->timeout, connect_timeout_cb);
}

static void
resolved_cb (GObject * resolver, GAsyncResult * res, gpointer data)
{
  McpConnector *self = data;
  GError *err = NULL;
  GList *list;

  list = g_resolver_lookup_by_name_finish (G_RESOLVER (resolver), res, &err);
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    /* self may be gone already */
    g_error_free (err);
    return;
  }
  g_clear_object (&self->cancellable);
  if (!list) {
    set_last_error (self, err);
    g_error_free (err);
    attempt_failed (self);
    return;
  }
  self->addresses = list;
  self->next = list;
  attempt_next_address (self);
}

void
mcp_connector_connect (McpConnector * self)
{
  GInetAddress *literal;
  GResolver *resolver;

  clear_attempt (self);
  self->attempts++;

  literal = g_inet_address_new_from_string (self->host);
  if (literal) {
    self->addresses = g_list_prepend (NULL, literal);
    self->next = self->addresses;
    attempt_next_address (self);
    return;
  }
  self->cancellable = g_cancellable_new ();
  /* The result is delivered on this thread's default context. */
  resolver = g_resolver_get_default ();
  g_main_context_push_thread_default (self->context);
  g_resolver_lookup_by_name_async (resolver, self->host, self->cancellable,
      resolved_cb, self);
  g_main_context_pop_thread_default (self->context);
  g_object_unref (resolver);
}
