/* mcastproxy — what the two TCP elements share (see gstmcptcp.h). */
#include "config.h"

#include "gstmcptcp.h"
#include "gstmcpprops.h"
#include "mcp-mcast.h"

#include "mcp-address.h"

/* spec's text, or the standard one */
#define TEXT(spec, field, standard) ((spec)->field ? (spec)->field : (standard))

void
gst_mcp_tcp_install_properties_spec (GObjectClass * klass,
    const GstMcpTcpSpec * spec)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  if (!(spec->omit & GST_MCP_TCP_OMIT_MODE)) {
    g_object_class_install_property (klass, GST_MCP_TCP_PROP_MODE,
        g_param_spec_enum ("mode", "Mode",
            "listener: accept connections on port; caller: connect to "
            "host:port, reconnecting", GST_TYPE_MCP_MODE, spec->default_mode,
            rw));
    gst_type_mark_as_plugin_api (GST_TYPE_MCP_MODE, 0);
  }
  g_object_class_install_property (klass, GST_MCP_TCP_PROP_HOST,
      g_param_spec_string ("host", "Host", TEXT (spec, host_blurb,
              "listener: address to listen on (empty: all); caller: host to "
              "connect to (empty: localhost)"), GST_MCP_TCP_DEFAULT_HOST, rw));
  g_object_class_install_property (klass, GST_MCP_TCP_PROP_PORT,
      gst_mcp_param_spec_uint ("port", "Port", TEXT (spec, port_blurb,
              "listener: TCP port to listen on (0: pick one, see "
              "current-port); caller: port to connect to"), 0, G_MAXUINT16,
          spec->default_port, rw));
  g_object_class_install_property (klass, GST_MCP_TCP_PROP_CURRENT_PORT,
      g_param_spec_uint ("current-port", "Current port",
          "The port listened on (readable from READY, notified)", 0,
          G_MAXUINT16, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  if (!(spec->omit & GST_MCP_TCP_OMIT_FRAMING)) {
    g_object_class_install_property (klass, GST_MCP_TCP_PROP_FRAMING,
        g_param_spec_enum ("framing", "Framing", spec->framing_blurb,
            GST_TYPE_MCP_FRAMING, GST_MCP_TCP_DEFAULT_FRAMING,
            rw | GST_PARAM_MUTABLE_PLAYING));
    gst_type_mark_as_plugin_api (GST_TYPE_MCP_FRAMING, 0);
  }
  g_object_class_install_property (klass,
      GST_MCP_TCP_PROP_HANDSHAKE_TIMEOUT,
      g_param_spec_uint64 ("handshake-timeout", "Handshake timeout",
          TEXT (spec, handshake_timeout_blurb, "An mpx peer must complete "
              "its HELLO within this time (ns; 0: no limit)"), 0,
          G_MAXUINT64, GST_MCP_TCP_DEFAULT_HANDSHAKE_TIMEOUT,
          rw | GST_PARAM_MUTABLE_PLAYING));
  if (!(spec->omit & GST_MCP_TCP_OMIT_CALLER)) {
    g_object_class_install_property (klass, GST_MCP_TCP_PROP_RECONNECT_DELAY,
        gst_mcp_param_spec_uint64 ("reconnect-delay", "Reconnect delay",
            TEXT (spec, reconnect_delay_blurb, "caller: first wait (ns) "
                "before reconnecting; doubles per failure"), 1000000,
            G_MAXUINT64, GST_MCP_TCP_DEFAULT_RECONNECT_DELAY,
            rw | spec->open_flag));
    g_object_class_install_property (klass,
        GST_MCP_TCP_PROP_RECONNECT_MAX_DELAY,
        gst_mcp_param_spec_uint64 ("reconnect-max-delay", "Reconnect max delay",
            TEXT (spec, reconnect_max_delay_blurb, "caller: longest wait (ns) "
                "between connection attempts"), 1000000, G_MAXUINT64,
            GST_MCP_TCP_DEFAULT_RECONNECT_MAX_DELAY, rw | spec->open_flag));
  }
  if (!(spec->omit & GST_MCP_TCP_OMIT_PEER_ID))
    g_object_class_install_property (klass, GST_MCP_TCP_PROP_PEER_ID,
        g_param_spec_uint64 ("peer-id", "Peer id", spec->peer_id_blurb, 0,
            G_MAXUINT64, GST_MCP_TCP_DEFAULT_PEER_ID, rw | spec->start_flag));
  g_object_class_install_property (klass, GST_MCP_TCP_PROP_STATS_INTERVAL,
      g_param_spec_uint64 ("stats-interval", "Stats interval",
          "Post the statistics as an element message this often (ns; 0: "
          "never)", 0, G_MAXUINT64, GST_MCP_TCP_DEFAULT_STATS_INTERVAL,
          rw | spec->start_flag));
  g_object_class_install_property (klass, GST_MCP_TCP_PROP_QOS_DSCP,
      gst_mcp_param_spec_int ("qos-dscp", "QoS DSCP",
          "Differentiated Services code point of what the connections send, "
          "from their handshake on (-1: the system's default)", -1, 63,
          GST_MCP_TCP_DEFAULT_QOS_DSCP, rw | GST_PARAM_MUTABLE_PLAYING));

  gst_mcp_security_install_properties (klass, spec->start_flag,
      (spec->omit & GST_MCP_TCP_OMIT_MPX_SECURITY) != 0);
}

void
gst_mcp_tcp_install_properties (GObjectClass * klass, GstMcpMode default_mode,
    GParamFlags start_flag, const gchar * framing_blurb,
    const gchar * peer_id_blurb)
{
  GstMcpTcpSpec spec = { 0 };

  spec.default_mode = default_mode;
  spec.default_port = GST_MCP_TCP_DEFAULT_PORT;
  spec.open_flag = spec.start_flag = start_flag;
  spec.framing_blurb = framing_blurb;
  spec.peer_id_blurb = peer_id_blurb;
  gst_mcp_tcp_install_properties_spec (klass, &spec);
}

static void
settings_init (GstMcpTcpSettings * s, const GstMcpTcpSpec * spec,
    GstMcpMode mode, guint port)
{
  s->spec = spec;
  s->mode = mode;
  s->host = g_strdup (GST_MCP_TCP_DEFAULT_HOST);
  s->port = port;
  s->current_port = 0;
  s->framing = GST_MCP_TCP_DEFAULT_FRAMING;
  s->handshake_timeout = GST_MCP_TCP_DEFAULT_HANDSHAKE_TIMEOUT;
  s->reconnect_delay = GST_MCP_TCP_DEFAULT_RECONNECT_DELAY;
  s->reconnect_max_delay = GST_MCP_TCP_DEFAULT_RECONNECT_MAX_DELAY;
  s->peer_id = GST_MCP_TCP_DEFAULT_PEER_ID;
  s->stats_interval = GST_MCP_TCP_DEFAULT_STATS_INTERVAL;
  s->qos_dscp = GST_MCP_TCP_DEFAULT_QOS_DSCP;
  gst_mcp_security_init (&s->sec);
}

void
gst_mcp_tcp_settings_init (GstMcpTcpSettings * s, GstMcpMode mode)
{
  settings_init (s, NULL, mode, GST_MCP_TCP_DEFAULT_PORT);
}

void
gst_mcp_tcp_settings_init_spec (GstMcpTcpSettings * s,
    const GstMcpTcpSpec * spec)
{
  settings_init (s, spec, spec->default_mode, spec->default_port);
}

void
gst_mcp_tcp_settings_clear (GstMcpTcpSettings * s)
{
  g_clear_pointer (&s->host, g_free);
  gst_mcp_security_clear (&s->sec);
}

gboolean
gst_mcp_tcp_settings_set (GstMcpTcpSettings * s, guint prop_id,
    const GValue * value)
{
  switch (prop_id) {
    case GST_MCP_TCP_PROP_MODE:
      s->mode = g_value_get_enum (value);
      break;
    case GST_MCP_TCP_PROP_HOST:
      g_free (s->host);
      s->host = g_value_dup_string (value);
      break;
    case GST_MCP_TCP_PROP_PORT:
      s->port = g_value_get_uint (value);
      break;
    case GST_MCP_TCP_PROP_FRAMING:
      s->framing = g_value_get_enum (value);
      break;
    case GST_MCP_TCP_PROP_HANDSHAKE_TIMEOUT:
      s->handshake_timeout = g_value_get_uint64 (value);
      break;
    case GST_MCP_TCP_PROP_RECONNECT_DELAY:
      s->reconnect_delay = g_value_get_uint64 (value);
      break;
    case GST_MCP_TCP_PROP_RECONNECT_MAX_DELAY:
      s->reconnect_max_delay = g_value_get_uint64 (value);
      break;
    case GST_MCP_TCP_PROP_PEER_ID:
      s->peer_id = g_value_get_uint64 (value);
      break;
    case GST_MCP_TCP_PROP_STATS_INTERVAL:
      s->stats_interval = g_value_get_uint64 (value);
      break;
    case GST_MCP_TCP_PROP_QOS_DSCP:
      s->qos_dscp = g_value_get_int (value);
      break;
    default:
      return gst_mcp_security_set (&s->sec, prop_id, value);
  }
  return TRUE;
}

gboolean
gst_mcp_tcp_settings_get (GstMcpTcpSettings * s, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case GST_MCP_TCP_PROP_MODE:
      g_value_set_enum (value, s->mode);
      break;
    case GST_MCP_TCP_PROP_HOST:
      g_value_set_string (value, s->host);
      break;
    case GST_MCP_TCP_PROP_PORT:
      g_value_set_uint (value, s->port);
      break;
    case GST_MCP_TCP_PROP_CURRENT_PORT:
      g_value_set_uint (value, s->current_port);
      break;
    case GST_MCP_TCP_PROP_FRAMING:
      g_value_set_enum (value, s->framing);
      break;
    case GST_MCP_TCP_PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint64 (value, s->handshake_timeout);
      break;
    case GST_MCP_TCP_PROP_RECONNECT_DELAY:
      g_value_set_uint64 (value, s->reconnect_delay);
      break;
    case GST_MCP_TCP_PROP_RECONNECT_MAX_DELAY:
      g_value_set_uint64 (value, s->reconnect_max_delay);
      break;
    case GST_MCP_TCP_PROP_PEER_ID:
      g_value_set_uint64 (value, s->peer_id);
      break;
    case GST_MCP_TCP_PROP_STATS_INTERVAL:
      g_value_set_uint64 (value, s->stats_interval);
      break;
    case GST_MCP_TCP_PROP_QOS_DSCP:
      g_value_set_int (value, s->qos_dscp);
      break;
    default:
      return gst_mcp_security_get (&s->sec, prop_id, value);
  }
  return TRUE;
}

void
gst_mcp_tcp_close (GstElement * element, GstMcpTcpSettings * s,
    McpEndpoint ** ep)
{
  g_clear_pointer (ep, mcp_endpoint_free);
  GST_OBJECT_LOCK (element);
  s->current_port = 0;
  GST_OBJECT_UNLOCK (element);
}

/* What the endpoint is made of, read under the object lock. */
typedef struct
{
  GstMcpMode mode;
  gchar *host;
  guint port;
  guint64 delay;
  guint64 max_delay;
} EndpointSettings;

static void
endpoint_settings_read (GstElement * element, GstMcpTcpSettings * s,
    EndpointSettings * es)
{
  GST_OBJECT_LOCK (element);
  es->mode = s->mode;
  es->host = g_strdup (s->host);
  es->port = s->port;
  es->delay = s->reconnect_delay;
  es->max_delay = s->reconnect_max_delay;
  GST_OBJECT_UNLOCK (element);
}

/* Binds ep's listener at once, so that current-port is known (and
 * notified); posts an element error when it cannot. */
static gboolean
listen_now (GstElement * element, GstMcpTcpSettings * s, McpEndpoint * ep,
    const EndpointSettings * es)
{
  GError *err = NULL;

  if (!mcp_endpoint_listen (ep, es->host, es->port, &err)) {
    GST_ELEMENT_ERROR (element, RESOURCE, OPEN_READ_WRITE,
        ("Could not listen for %s", s->spec && s->spec->listening_for ?
            s->spec->listening_for : "TCP connections"), ("%s", err->message));
    g_error_free (err);
    return FALSE;
  }
  GST_OBJECT_LOCK (element);
  s->current_port = mcp_endpoint_get_port (ep);
  GST_OBJECT_UNLOCK (element);
  GST_INFO_OBJECT (element, "listening on port %u", mcp_endpoint_get_port (ep));
  g_object_notify (G_OBJECT (element), "current-port");
  return TRUE;
}

gboolean
gst_mcp_tcp_open (GstElement * element, GstMcpTcpSettings * s,
    McpEndpoint ** ep)
{
  EndpointSettings es;
  gboolean ok = TRUE;

  if (*ep)
    return TRUE;
  endpoint_settings_read (element, s, &es);

  if (es.mode == GST_MCP_MODE_CALLER) {
    if (es.port == 0) {
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("No port to connect to"), ("mode=caller needs port > 0"));
      ok = FALSE;
    } else {
      *ep = mcp_endpoint_new_caller (es.host, es.port, es.delay,
          es.max_delay, GST_MCP_TCP_CONNECT_TIMEOUT);
    }
  } else {
    *ep = mcp_endpoint_new ();
    ok = listen_now (element, s, *ep, &es);
  }
  if (!ok)
    g_clear_pointer (ep, mcp_endpoint_free);
  g_free (es.host);
  return ok;
}

gboolean
gst_mcp_tcp_open_peers (GstElement * element, GstMcpTcpSettings * s,
    const gchar * peers, McpEndpoint ** ep)
{
  EndpointSettings es;
  GError *err = NULL;
  GArray *list;
  guint i;

  if (*ep)
    return TRUE;
  list = mcp_parse_host_port_list (peers, &err);
  if (!list) {
    GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
        ("Invalid peer %s", err->message), (NULL));
    g_error_free (err);
    return FALSE;
  }
  endpoint_settings_read (element, s, &es);
  *ep = mcp_endpoint_new ();
  for (i = 0; i < list->len; i++) {
    McpHostPort *peer = &g_array_index (list, McpHostPort, i);

    mcp_endpoint_add_caller (*ep, peer->host, peer->port, es.delay,
        es.max_delay, GST_MCP_TCP_CONNECT_TIMEOUT);
  }
  g_array_unref (list);
  if (!listen_now (element, s, *ep, &es))
    g_clear_pointer (ep, mcp_endpoint_free);
  g_free (es.host);
  return *ep != NULL;
}

gboolean
gst_mcp_tcp_prepare_security (GstElement * element, GstMcpTcpSettings * s)
{
  gboolean listener;

  GST_OBJECT_LOCK (element);
  listener = s->mode == GST_MCP_MODE_LISTENER;
  GST_OBJECT_UNLOCK (element);
  return gst_mcp_security_prepare (element, &s->sec, listener, !listener);
}

void
gst_mcp_tcp_prepare_socket (GstElement * element, GstMcpTcpSettings * s,
    GSocket * socket)
{
  GError *err = NULL;
  gint dscp;

  GST_OBJECT_LOCK (element);
  dscp = s->qos_dscp;
  GST_OBJECT_UNLOCK (element);
  if (dscp >= 0 && !mcp_socket_set_dscp (socket, dscp, &err)) {
    GST_WARNING_OBJECT (element, "%s", err->message);
    g_error_free (err);
  }
}

void
gst_mcp_tcp_accept_failed (McpEndpoint * ep, const gchar * reason,
    guint64 retry_in, gpointer element)
{
  GST_WARNING_OBJECT (element, "accepting a connection failed (%s); "
      "trying again in %" G_GUINT64_FORMAT " ms", reason, retry_in / 1000000);
}

guint64
gst_mcp_tcp_pick_peer_id (guint64 configured)
{
  return configured ? configured :
      ((guint64) g_random_int () << 32 | g_random_int ());
}

/* ---- callers ----------------------------------------------------------- */

/* A caller that keeps failing is told about again after this long, or at
 * once when the reason changes; so is one that gets through and fails
 * again (a flapping link). A lost connection is told at most this often. */
#define CALLER_WARN_INTERVAL (30 * G_USEC_PER_SEC)

typedef struct
{
  gchar *target;                /* host:port */
  gboolean connected;
  guint64 failures;             /* in a row, since the last success */
  gchar *last_error;
  gint64 failure_warned_at;     /* monotonic µs of the last such warning */
  gint64 loss_warned_at;        /* ... 0: none yet */
  gboolean warned;              /* a failure warning since the last success */
} CallerState;

struct _GstMcpCallers
{
  GstElement *element;
  GMutex lock;
  GArray *states;               /* CallerState */
  guint64 failures;             /* every failed attempt since start */
};

static void
caller_state_clear (gpointer data)
{
  CallerState *c = data;

  g_free (c->target);
  g_free (c->last_error);
}

GstMcpCallers *
gst_mcp_callers_new (GstElement * element)
{
  GstMcpCallers *callers = g_new0 (GstMcpCallers, 1);

  callers->element = element;
  g_mutex_init (&callers->lock);
  callers->states = g_array_new (FALSE, TRUE, sizeof (CallerState));
  g_array_set_clear_func (callers->states, caller_state_clear);
  return callers;
}

void
gst_mcp_callers_free (GstMcpCallers * callers)
{
  if (!callers)
    return;
  g_array_unref (callers->states);
  g_mutex_clear (&callers->lock);
  g_free (callers);
}

void
gst_mcp_callers_reset (GstMcpCallers * callers, McpEndpoint * ep)
{
  guint i, n = ep ? mcp_endpoint_get_n_callers (ep) : 0;

  g_mutex_lock (&callers->lock);
  g_array_set_size (callers->states, 0);
  for (i = 0; i < n; i++) {
    CallerState c = { 0 };

    c.target = mcp_endpoint_get_caller_target (ep, i);
    g_array_append_val (callers->states, c);
  }
  callers->failures = 0;
  g_mutex_unlock (&callers->lock);
}

static CallerState *
caller_at (GstMcpCallers * callers, gint caller)
{
  if (caller < 0 || (guint) caller >= callers->states->len)
    return NULL;
  return &g_array_index (callers->states, CallerState, caller);
}

void
gst_mcp_callers_failed (GstMcpCallers * callers, gint caller,
    const gchar * reason, guint64 retry_in)
{
  gint64 now = g_get_monotonic_time ();
  CallerState *c;
  gboolean first, warn;
  gchar *target, *retry;
  guint64 tries;

  g_mutex_lock (&callers->lock);
  callers->failures++;
  c = caller_at (callers, caller);
  if (!c) {
    g_mutex_unlock (&callers->lock);
    return;
  }
  c->connected = FALSE;
  c->failures++;
  first = !c->warned;
  warn = c->failure_warned_at == 0
      || now - c->failure_warned_at >= CALLER_WARN_INTERVAL
      || (!first && g_strcmp0 (reason, c->last_error) != 0);
  g_free (c->last_error);
  c->last_error = g_strdup (reason);
  if (warn) {
    c->warned = TRUE;
    c->failure_warned_at = now;
  }
  target = g_strdup (c->target);
  tries = c->failures;
  g_mutex_unlock (&callers->lock);

  retry = retry_in ? g_strdup_printf ("; retrying in %" G_GUINT64_FORMAT
      " ms", retry_in / GST_MSECOND) : g_strdup ("; retrying");
  if (!warn)
    GST_INFO_OBJECT (callers->element, "cannot connect to %s: %s (%"
        G_GUINT64_FORMAT " tries)%s", target, reason, tries, retry);
  else if (first)
    GST_ELEMENT_WARNING (callers->element, RESOURCE, OPEN_READ_WRITE,
        ("Cannot connect to %s: %s%s", target, reason, retry), (NULL));
  else
    GST_ELEMENT_WARNING (callers->element, RESOURCE, OPEN_READ_WRITE,
        ("Still cannot connect to %s: %s (%" G_GUINT64_FORMAT " tries)%s",
            target, reason, tries, retry), (NULL));
  g_free (retry);
  g_free (target);
}

void
gst_mcp_callers_connected (GstMcpCallers * callers, gint caller)
{
  CallerState *c;
  gboolean was_warned = FALSE;
  guint64 tries = 0;
  gchar *target = NULL;

  g_mutex_lock (&callers->lock);
  c = caller_at (callers, caller);
  if (c) {
    was_warned = c->warned;
    tries = c->failures;
    target = g_strdup (c->target);
    c->connected = TRUE;
    c->failures = 0;
    c->warned = FALSE;
    g_clear_pointer (&c->last_error, g_free);
  }
  g_mutex_unlock (&callers->lock);
  if (was_warned)
    GST_ELEMENT_INFO (callers->element, RESOURCE, OPEN_READ_WRITE,
        ("Connected to %s after %" G_GUINT64_FORMAT " failed %s", target,
            tries, tries == 1 ? "try" : "tries"), (NULL));
  else if (target)
    GST_INFO_OBJECT (callers->element, "connected to %s", target);
  g_free (target);
}

void
gst_mcp_callers_lost (GstMcpCallers * callers, gint caller,
    const gchar * reason)
{
  gint64 now = g_get_monotonic_time ();
  CallerState *c;
  gboolean warn = FALSE;
  gchar *target = NULL;

  g_mutex_lock (&callers->lock);
  c = caller_at (callers, caller);
  if (c) {
    c->connected = FALSE;
    g_free (c->last_error);
    c->last_error = g_strdup (reason);
    warn = c->loss_warned_at == 0
        || now - c->loss_warned_at >= CALLER_WARN_INTERVAL;
    if (warn)
      c->loss_warned_at = now;
    target = g_strdup (c->target);
  }
  g_mutex_unlock (&callers->lock);
  if (warn)
    GST_ELEMENT_WARNING (callers->element, RESOURCE, READ,
        ("Connection to %s lost: %s; reconnecting", target, reason), (NULL));
  else if (target)
    GST_INFO_OBJECT (callers->element, "connection to %s lost: %s; "
        "reconnecting", target, reason);
  g_free (target);
}

void
gst_mcp_callers_add_stats (GstMcpCallers * callers, GstStructure * s)
{
  GValue list = G_VALUE_INIT;
  guint i;

  g_value_init (&list, GST_TYPE_ARRAY);
  g_mutex_lock (&callers->lock);
  for (i = 0; i < callers->states->len; i++) {
    CallerState *c = &g_array_index (callers->states, CallerState, i);
    GValue v = G_VALUE_INIT;
    GstStructure *cs = gst_structure_new ("caller",
        "target", G_TYPE_STRING, c->target,
        "connected", G_TYPE_BOOLEAN, c->connected,
        "failures", G_TYPE_UINT64, c->failures,
        "last-error", G_TYPE_STRING, c->last_error ? c->last_error : "",
        NULL);

    g_value_init (&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure (&v, cs);
    gst_structure_free (cs);
    gst_value_array_append_and_take_value (&list, &v);
  }
  gst_structure_set (s, "connect-failures", G_TYPE_UINT64, callers->failures,
      NULL);
  g_mutex_unlock (&callers->lock);
  gst_structure_take_value (s, "caller-list", &list);
}

void
gst_mcp_tcp_connection_ended (GstElement * element, GstMcpSecurity * sec,
    GstMcpCallers * callers, const GstMcpConnEnd * r)
{
  if (r->stopping)
    return;
  if (r->caller == MCP_ENDPOINT_ACCEPTED) {
    if (r->refused)
      gst_mcp_security_refused (element, sec, GST_MCP_REFUSED_HANDSHAKE,
          r->address, r->reason);
  } else if (r->was_active) {
    gst_mcp_callers_lost (callers, r->caller, r->reason);
  } else {
    gst_mcp_callers_failed (callers, r->caller, r->reason, 0);
  }
}
