/* mcastproxy — the TCP elements' security settings (see gstmcpsecurity.h). */
#include "config.h"

#include "gstmcpsecurity.h"
#include "mcp-address.h"
#include "mcp-auth.h"

#include <string.h>


void
gst_mcp_security_install_properties (GObjectClass * klass,
    GParamFlags start_flag, gboolean http_only)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      start_flag;

  if (!http_only) {
    /* write-only, so that no tool prints it */
    g_object_class_install_property (klass, GST_MCP_SECURITY_PROP_AUTH_SECRET,
        g_param_spec_string ("auth-secret", "Authentication secret",
            "Shared secret that both ends of every connection must prove they "
            "know (mpx only; plain players are then refused). Write-only; "
            "prefer auth-secret-file, command lines are visible to all users",
            NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | start_flag));
    g_object_class_install_property (klass,
        GST_MCP_SECURITY_PROP_AUTH_SECRET_FILE,
        g_param_spec_string ("auth-secret-file", "Authentication secret file",
            "File holding the shared secret (a trailing newline is ignored; "
            "must not be readable by group or others)", NULL, rw));
  }
  g_object_class_install_property (klass, GST_MCP_SECURITY_PROP_TLS,
      g_param_spec_boolean ("tls", "TLS",
          "Speak TLS on every connection (a listener needs tls-certificate)",
          FALSE, rw));
  g_object_class_install_property (klass,
      GST_MCP_SECURITY_PROP_TLS_CERTIFICATE,
      g_param_spec_string ("tls-certificate", "TLS certificate",
          "PEM file with this end's certificate (listener: required; "
          "caller: presented when the listener asks for one)", NULL, rw));
  g_object_class_install_property (klass, GST_MCP_SECURITY_PROP_TLS_KEY,
      g_param_spec_string ("tls-key", "TLS key",
          "PEM file with the certificate's private key (empty: in "
          "tls-certificate)", NULL, rw));
  if (!http_only)
    g_object_class_install_property (klass, GST_MCP_SECURITY_PROP_TLS_CA,
        g_param_spec_string ("tls-ca", "TLS CA",
            "PEM file of trusted CAs. listener: clients must present a "
            "certificate they signed (mutual TLS); caller: the listener's "
            "certificate must be signed by one of them (empty: the system's "
            "CAs)", NULL, rw));
  g_object_class_install_property (klass,
      GST_MCP_SECURITY_PROP_TLS_ALLOW_PLAIN,
      g_param_spec_boolean ("tls-allow-plain", "Allow plain clients",
          "listener with tls: also serve clients that do not start TLS "
          "(plain players), told apart by their first byte", FALSE, rw));
  /* read at each accept: a new list applies to the next connection */
  g_object_class_install_property (klass, GST_MCP_SECURITY_PROP_ALLOW,
      g_param_spec_string ("allow", "Allowed networks",
          "listener: comma-separated networks that may connect "
          "(\"10.0.0.0/8,2001:db8::/32,192.0.2.7\"); empty: anyone. A change "
          "while running applies to new connections only", NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  if (http_only)
    return;
  g_object_class_install_property (klass,
      GST_MCP_SECURITY_PROP_KEEPALIVE_INTERVAL,
      g_param_spec_uint64 ("keepalive-interval", "Keepalive interval",
          "mpx: send a KEEPALIVE after this long without sending anything "
          "(ns; 0: never)", 0, G_MAXUINT64,
          GST_MCP_SECURITY_DEFAULT_KEEPALIVE_INTERVAL, rw));
  g_object_class_install_property (klass, GST_MCP_SECURITY_PROP_PEER_TIMEOUT,
      g_param_spec_uint64 ("peer-timeout", "Peer timeout",
          "mpx: close a connection whose peer sent nothing for this long "
          "(a caller then reconnects); any framing: TCP keepalive probes "
          "notice a vanished host within about this time (ns; 0: never)",
          0, G_MAXUINT64, GST_MCP_SECURITY_DEFAULT_PEER_TIMEOUT, rw));
}

void
gst_mcp_security_init (GstMcpSecurity * sec)
{
  memset (sec, 0, sizeof (*sec));
  sec->keepalive_interval = GST_MCP_SECURITY_DEFAULT_KEEPALIVE_INTERVAL;
  sec->peer_timeout = GST_MCP_SECURITY_DEFAULT_PEER_TIMEOUT;
  g_mutex_init (&sec->refusals_lock);
  g_mutex_init (&sec->allow_lock);
  sec->warned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
forget_secret (gchar ** secret)
{
  if (*secret) {
    memset (*secret, 0, strlen (*secret));
    g_clear_pointer (secret, g_free);
  }
}

void
gst_mcp_security_clear (GstMcpSecurity * sec)
{
  gst_mcp_security_release (sec);
  g_clear_pointer (&sec->warned, g_hash_table_unref);
  g_mutex_clear (&sec->refusals_lock);
  g_mutex_clear (&sec->allow_lock);
  forget_secret (&sec->auth_secret);
  g_clear_pointer (&sec->auth_secret_file, g_free);
  g_clear_pointer (&sec->tls_certificate, g_free);
  g_clear_pointer (&sec->tls_key, g_free);
  g_clear_pointer (&sec->tls_ca, g_free);
  g_clear_pointer (&sec->allow, g_free);
}

static void
set_string (gchar ** field, const GValue * value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

gboolean
gst_mcp_security_set (GstMcpSecurity * sec, guint prop_id, const GValue * value)
{
  switch (prop_id) {
    case GST_MCP_SECURITY_PROP_AUTH_SECRET:
      forget_secret (&sec->auth_secret);
      sec->auth_secret = g_value_dup_string (value);
      break;
    case GST_MCP_SECURITY_PROP_AUTH_SECRET_FILE:
      set_string (&sec->auth_secret_file, value);
      break;
    case GST_MCP_SECURITY_PROP_TLS:
      sec->tls = g_value_get_boolean (value);
      break;
    case GST_MCP_SECURITY_PROP_TLS_CERTIFICATE:
      set_string (&sec->tls_certificate, value);
      break;
    case GST_MCP_SECURITY_PROP_TLS_KEY:
      set_string (&sec->tls_key, value);
      break;
    case GST_MCP_SECURITY_PROP_TLS_CA:
      set_string (&sec->tls_ca, value);
      break;
    case GST_MCP_SECURITY_PROP_TLS_ALLOW_PLAIN:
      sec->tls_allow_plain = g_value_get_boolean (value);
      break;
    case GST_MCP_SECURITY_PROP_ALLOW:
      /* gst_mcp_security_set_allow, before the lock */
      g_return_val_if_reached (FALSE);
    case GST_MCP_SECURITY_PROP_KEEPALIVE_INTERVAL:
      sec->keepalive_interval = g_value_get_uint64 (value);
      break;
    case GST_MCP_SECURITY_PROP_PEER_TIMEOUT:
      sec->peer_timeout = g_value_get_uint64 (value);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}

gboolean
gst_mcp_security_get (GstMcpSecurity * sec, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case GST_MCP_SECURITY_PROP_AUTH_SECRET_FILE:
      g_value_set_string (value, sec->auth_secret_file);
      break;
    case GST_MCP_SECURITY_PROP_TLS:
      g_value_set_boolean (value, sec->tls);
      break;
    case GST_MCP_SECURITY_PROP_TLS_CERTIFICATE:
      g_value_set_string (value, sec->tls_certificate);
      break;
    case GST_MCP_SECURITY_PROP_TLS_KEY:
      g_value_set_string (value, sec->tls_key);
      break;
    case GST_MCP_SECURITY_PROP_TLS_CA:
      g_value_set_string (value, sec->tls_ca);
      break;
    case GST_MCP_SECURITY_PROP_TLS_ALLOW_PLAIN:
      g_value_set_boolean (value, sec->tls_allow_plain);
      break;
    case GST_MCP_SECURITY_PROP_ALLOW:
      g_value_set_string (value, sec->allow);
      break;
    case GST_MCP_SECURITY_PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint64 (value, sec->keepalive_interval);
      break;
    case GST_MCP_SECURITY_PROP_PEER_TIMEOUT:
      g_value_set_uint64 (value, sec->peer_timeout);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}

gboolean
gst_mcp_parse_networks_live (GstElement * element, const gchar * property,
    const gchar * text, GPtrArray ** networks)
{
  GError *err = NULL;

  *networks = NULL;
  if (!text || !*text)
    return TRUE;
  *networks = mcp_parse_networks (text, &err);
  if (*networks)
    return TRUE;
  GST_ELEMENT_WARNING (element, RESOURCE, SETTINGS,
      ("Ignored a new value of property \"%s\": \"%s\": %s; the old one "
          "stays in effect", property, text, err->message), (NULL));
  g_error_free (err);
  return FALSE;
}

gboolean
gst_mcp_security_set_allow (GstElement * element, GstMcpSecurity * sec,
    guint prop_id, const GValue * value)
{
  const gchar *text;
  GPtrArray *networks = NULL;
  gboolean running;

  if (prop_id != GST_MCP_SECURITY_PROP_ALLOW)
    return FALSE;
  text = g_value_get_string (value);
  g_mutex_lock (&sec->allow_lock);
  running = sec->running;
  g_mutex_unlock (&sec->allow_lock);
  /* not running: the next prepare checks it, and fails the start */
  if (running && !gst_mcp_parse_networks_live (element, "allow", text,
          &networks))
    return TRUE;

  g_mutex_lock (&sec->allow_lock);
  if (sec->running) {
    GPtrArray *old = sec->networks;

    sec->networks = networks;
    networks = old;
  }
  g_mutex_unlock (&sec->allow_lock);
  g_clear_pointer (&networks, g_ptr_array_unref);
  GST_OBJECT_LOCK (element);
  set_string (&sec->allow, value);
  GST_OBJECT_UNLOCK (element);
  if (running)
    GST_INFO_OBJECT (element, "allow-list now %s, for new connections "
        "(those accepted before stay)", text && *text ? text : "off");
  return TRUE;
}

gboolean
gst_mcp_security_prepare (GstElement * element, GstMcpSecurity * sec,
    gboolean listens, gboolean calls)
{
  GError *err = NULL;
  gchar *secret, *secret_file, *cert, *key, *ca, *allow;
  gboolean tls;
  GBytes *secret_bytes = NULL;
  McpTls *tls_server = NULL, *tls_client = NULL;
  GPtrArray *networks = NULL;
  gboolean ok = FALSE;

  GST_OBJECT_LOCK (element);
  secret = g_strdup (sec->auth_secret);
  secret_file = g_strdup (sec->auth_secret_file);
  tls = sec->tls;
  cert = g_strdup (sec->tls_certificate);
  key = g_strdup (sec->tls_key);
  ca = g_strdup (sec->tls_ca);
  allow = g_strdup (sec->allow);
  GST_OBJECT_UNLOCK (element);

  if (secret_file && *secret_file) {
    secret_bytes = mcp_auth_load_secret_file (secret_file, &err);
    if (!secret_bytes) {
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("Cannot read the authentication secret: %s", err->message), (NULL));
      goto failed;
    }
  } else if (secret && *secret) {
    secret_bytes = g_bytes_new (secret, strlen (secret));
  }
  if (secret_bytes && g_bytes_get_size (secret_bytes) < 16)
    GST_ELEMENT_WARNING (element, RESOURCE, SETTINGS,
        ("The authentication secret is short"),
        ("%" G_GSIZE_FORMAT " bytes; a stranger who captures one handshake "
            "can test guesses offline: use 16 random bytes or more (e.g. "
            "head -c 32 /dev/urandom | base64)",
            g_bytes_get_size (secret_bytes)));

  if (tls && listens)
    tls_server = mcp_tls_new (TRUE, cert, key, ca, &err);
  if (tls && calls && !err)
    tls_client = mcp_tls_new (FALSE, cert, key, ca, &err);
  if (err) {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        ("Cannot set up TLS: %s", err->message), (NULL));
    goto failed;
  }

  if (allow && *allow) {
    networks = mcp_parse_networks (allow, &err);
    if (!networks) {
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("Invalid allow-list: %s", err->message), (NULL));
      goto failed;
    }
  }

  gst_mcp_security_release (sec);
  GST_OBJECT_LOCK (element);
  sec->secret = secret_bytes;
  sec->tls_server = tls_server;
  sec->tls_client = tls_client;
  GST_OBJECT_UNLOCK (element);
  g_mutex_lock (&sec->allow_lock);
  sec->networks = networks;
  sec->running = TRUE;
  g_mutex_unlock (&sec->allow_lock);
  g_mutex_lock (&sec->refusals_lock);
  sec->refused_allow_list = sec->refused_limit = sec->refused_handshake = 0;
  sec->not_told = 0;
  sec->burst_warnings = 0;
  g_hash_table_remove_all (sec->warned);
  g_mutex_unlock (&sec->refusals_lock);
  GST_INFO_OBJECT (element, "authentication %s, TLS %s%s, allow-list %s",
      secret_bytes ? "required" : "off", tls ? "on" : "off",
      tls && sec->tls_allow_plain ? " (plain clients too)" : "",
      networks ? allow : "off");
  ok = TRUE;
  goto done;

failed:
  g_clear_error (&err);
  g_clear_pointer (&secret_bytes, g_bytes_unref);
  g_clear_pointer (&tls_server, mcp_tls_unref);
  g_clear_pointer (&tls_client, mcp_tls_unref);
done:
  forget_secret (&secret);
  g_free (secret_file);
  g_free (cert);
  g_free (key);
  g_free (ca);
  g_free (allow);
  return ok;
}

void
gst_mcp_security_release (GstMcpSecurity * sec)
{
  GPtrArray *networks;

  g_clear_pointer (&sec->secret, g_bytes_unref);
  g_clear_pointer (&sec->tls_server, mcp_tls_unref);
  g_clear_pointer (&sec->tls_client, mcp_tls_unref);
  g_mutex_lock (&sec->allow_lock);
  networks = sec->networks;
  sec->networks = NULL;
  sec->running = FALSE;
  g_mutex_unlock (&sec->allow_lock);
  g_clear_pointer (&networks, g_ptr_array_unref);
}

/* Warnings about refused connections: per peer address at most one in
 * WARN_PEER_INTERVAL; in all at most WARN_BURST in WARN_BURST_INTERVAL. */
#define WARN_PEER_INTERVAL (60 * G_USEC_PER_SEC)
#define WARN_BURST 5
#define WARN_BURST_INTERVAL (10 * G_USEC_PER_SEC)
/* Peers remembered; beyond, the table starts afresh. */
#define WARN_MAX_PEERS 4096

/* "192.0.2.7:40000" -> "192.0.2.7", "[2001:db8::7]:4000" -> "2001:db8::7". */
static gchar *
host_of (const gchar * address)
{
  const gchar *colon = strrchr (address, ':');

  if (address[0] == '[' && colon && colon > address && colon[-1] == ']')
    return g_strndup (address + 1, colon - address - 2);
  if (colon && strchr (address, ':') == colon)
    return g_strndup (address, colon - address);
  return g_strdup (address);
}

/* Under refusals_lock: whether this refusal gets a warning of its own. */
static gboolean
may_warn (GstMcpSecurity * sec, const gchar * address, gint64 now)
{
  gchar *host = host_of (address);
  gpointer last;

  if (g_hash_table_lookup_extended (sec->warned, host, NULL, &last)
      && now - GPOINTER_TO_SIZE (last) < WARN_PEER_INTERVAL) {
    g_free (host);
    return FALSE;
  }
  if (now - sec->burst_start >= WARN_BURST_INTERVAL) {
    sec->burst_start = now;
    sec->burst_warnings = 0;
  }
  if (sec->burst_warnings >= WARN_BURST) {
    g_free (host);
    return FALSE;
  }
  sec->burst_warnings++;
  if (g_hash_table_size (sec->warned) >= WARN_MAX_PEERS)
    g_hash_table_remove_all (sec->warned);
  g_hash_table_insert (sec->warned, host, GSIZE_TO_POINTER ((gsize) now));
  return TRUE;
}

void
gst_mcp_security_refused (GstElement * element, GstMcpSecurity * sec,
    GstMcpRefusal why, const gchar * address, const gchar * reason)
{
  gint64 now = g_get_monotonic_time ();
  guint64 others = 0;
  gboolean warn;

  g_mutex_lock (&sec->refusals_lock);
  if (why == GST_MCP_REFUSED_ALLOW_LIST)
    sec->refused_allow_list++;
  else if (why == GST_MCP_REFUSED_LIMIT)
    sec->refused_limit++;
  else
    sec->refused_handshake++;
  warn = may_warn (sec, address, now);
  if (warn) {
    others = sec->not_told;
    sec->not_told = 0;
  } else {
    sec->not_told++;
  }
  g_mutex_unlock (&sec->refusals_lock);

  if (!warn) {
    GST_INFO_OBJECT (element, "refused %s: %s", address, reason);
  } else if (others) {
    GST_ELEMENT_WARNING (element, RESOURCE, NOT_AUTHORIZED,
        ("Refused %s: %s (and %" G_GUINT64_FORMAT " refused connections "
            "not told before this one)", address, reason, others), (NULL));
  } else {
    GST_ELEMENT_WARNING (element, RESOURCE, NOT_AUTHORIZED,
        ("Refused %s: %s", address, reason), (NULL));
  }
}

gboolean
gst_mcp_security_admit (GstElement * element, GstMcpSecurity * sec,
    GSocket * socket, guint count, guint limit, const gchar * limit_name)
{
  GSocketAddress *sa = g_socket_get_remote_address (socket, NULL);
  GPtrArray *networks;
  gboolean allowed;
  gchar *who, *reason;

  /* a reference: the list may be replaced meanwhile */
  g_mutex_lock (&sec->allow_lock);
  networks = sec->networks ? g_ptr_array_ref (sec->networks) : NULL;
  g_mutex_unlock (&sec->allow_lock);
  allowed = !networks || (sa && G_IS_INET_SOCKET_ADDRESS (sa)
      && mcp_networks_match (networks,
          g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (sa))));
  g_clear_pointer (&networks, g_ptr_array_unref);

  if (allowed && (limit == 0 || count < limit)) {
    g_clear_object (&sa);
    return TRUE;
  }

  /* counted before the close, so that whoever sees the close sees it */
  who = sa ? mcp_socket_address_to_string (sa) : g_strdup ("?");
  if (!allowed) {
    gst_mcp_security_refused (element, sec, GST_MCP_REFUSED_ALLOW_LIST, who,
        "not in the allow-list");
  } else {
    reason = g_strdup_printf ("%s (%u) reached", limit_name, limit);
    gst_mcp_security_refused (element, sec, GST_MCP_REFUSED_LIMIT, who, reason);
    g_free (reason);
  }
  g_free (who);
  g_clear_object (&sa);
  g_socket_close (socket, NULL);
  g_object_unref (socket);
  return FALSE;
}

void
gst_mcp_security_configure (GstMcpSecurity * sec, McpConnConfig * cfg,
    McpEndpoint * ep, gint caller)
{
  cfg->auth_secret = sec->secret;
  if (caller == MCP_ENDPOINT_ACCEPTED) {
    cfg->tls = sec->tls_server;
    cfg->tls_optional = sec->tls_allow_plain;
  } else {
    cfg->tls = sec->tls_client;
    cfg->tls_server_identity = mcp_endpoint_get_caller_host (ep, caller);
  }
  cfg->keepalive_interval = sec->keepalive_interval;
  cfg->peer_timeout = sec->peer_timeout;
}

void
gst_mcp_security_add_stats (GstElement * element, GstMcpSecurity * sec,
    GstStructure * s)
{
  g_mutex_lock (&sec->refusals_lock);
  gst_structure_set (s,
      "connections-refused", G_TYPE_UINT64, sec->refused_allow_list
      + sec->refused_limit + sec->refused_handshake,
      "refused-allow-list", G_TYPE_UINT64, sec->refused_allow_list,
      "refused-limit", G_TYPE_UINT64, sec->refused_limit,
      "refused-handshake", G_TYPE_UINT64, sec->refused_handshake, NULL);
  g_mutex_unlock (&sec->refusals_lock);
}
