/* mcastproxy — the URI handlers of the elements (see gstmcpuri.h). */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "gstmcpuri.h"
#include "gstmcpprops.h"

#include "mcp-address.h"

/* Which properties a scheme's authority part stands for. */
typedef struct
{
  const gchar *scheme;
  const gchar *host_prop;
  const gchar *user_prop;       /* NULL: no SOURCE@ part */
  gboolean multicast;           /* the host must be a multicast group */
} McpUriScheme;

static const McpUriScheme mcp_uri_schemes[] = {
  {GST_MCP_URI_SCHEME_MCAST, "address", "multicast-source", TRUE},
  {GST_MCP_URI_SCHEME_TCPSPLIT, "host", NULL, FALSE},
  {GST_MCP_URI_SCHEME_AMT, "address", "multicast-source", TRUE},
};

/* Characters left as they are in a query value or a source list. */
#define MCP_URI_VALUE_CHARS "!$'()*+,;=:@/"

static const McpUriScheme *
mcp_uri_scheme_lookup (const gchar * scheme)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (mcp_uri_schemes); i++)
    if (g_ascii_strcasecmp (mcp_uri_schemes[i].scheme, scheme) == 0)
      return &mcp_uri_schemes[i];
  return NULL;
}

static gboolean
mcp_uri_is_authority_prop (const McpUriScheme * s, const gchar * name)
{
  return g_str_equal (name, s->host_prop) || g_str_equal (name, "port") ||
      (s->user_prop && g_str_equal (name, s->user_prop));
}

/* The URI's path is the `path` property where the element has one
 * (tcpsplitsrc: a channel of a gateway); elsewhere there is no path. */
static GParamSpec *
mcp_uri_path_prop (GstElement * element)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (element), "path");
}

static gboolean
mcp_uri_fail (GError ** error, const gchar * uri, const gchar * format, ...)
G_GNUC_PRINTF (3, 4);

     static gboolean
         mcp_uri_fail (GError ** error, const gchar * uri, const gchar * format,
    ...)
{
  va_list args;
  gchar *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
      "Invalid URI '%s': %s", uri, what);
  g_free (what);
  return FALSE;
}

/* Collected settings, applied together once all are valid. */
typedef struct
{
  GPtrArray *names;
  GArray *values;
} McpUriSettings;

static void
mcp_uri_settings_init (McpUriSettings * st)
{
  st->names = g_ptr_array_new_with_free_func (g_free);
  st->values = g_array_new (FALSE, TRUE, sizeof (GValue));
  g_array_set_clear_func (st->values, (GDestroyNotify) g_value_unset);
}

static void
mcp_uri_settings_clear (McpUriSettings * st)
{
  g_ptr_array_unref (st->names);
  g_array_unref (st->values);
}

static GValue *
mcp_uri_settings_add (McpUriSettings * st, GParamSpec * pspec)
{
  GValue *v;

  g_ptr_array_add (st->names, g_strdup (pspec->name));
  g_array_set_size (st->values, st->values->len + 1);
  v = &g_array_index (st->values, GValue, st->values->len - 1);
  g_value_init (v, G_PARAM_SPEC_VALUE_TYPE (pspec));
  return v;
}

/* Parses text for pspec into a new entry of st, as gst-launch would, and
 * checks it against the property's range. */
static gboolean
mcp_uri_settings_parse (McpUriSettings * st, GParamSpec * pspec,
    const gchar * text, const gchar * uri, GError ** error)
{
  GValue *v = mcp_uri_settings_add (st, pspec);

  if (G_PARAM_SPEC_VALUE_TYPE (pspec) == G_TYPE_STRING)
    g_value_set_string (v, text);
  else if (!gst_value_deserialize_with_pspec (v, text, pspec))
    return mcp_uri_fail (error, uri, "bad value '%s' for %s (expected %s)",
        text, pspec->name, g_type_name (G_PARAM_SPEC_VALUE_TYPE (pspec)));
  if (!gst_mcp_param_value_in_range (pspec, v, NULL))
    return mcp_uri_fail (error, uri, "value '%s' for %s is out of range",
        text, pspec->name);
  return TRUE;
}

/* The group (mcp_parse_group()) in its canonical spelling, or NULL. The
 * reason names the URI's way of writing IPv6. */
static gchar *
mcp_uri_parse_group (const gchar * host, const gchar * uri, GError ** error)
{
  GInetAddress *a;
  gchar *group = NULL;

  if (host == NULL || *host == '\0') {
    mcp_uri_fail (error, uri, "no multicast group");
    return NULL;
  }
  a = mcp_parse_group (host, NULL);
  if (a != NULL)
    group = g_inet_address_to_string (a);
  else
    mcp_uri_fail (error, uri, "'%s' is not a multicast group (an IPv4 or "
        "IPv6 multicast address, IPv6 in brackets)", host);
  g_clear_object (&a);
  return group;
}

/* The sources of a source-specific join (mcp_parse_sources()); their
 * family is checked against the group's when the element joins. */
static gboolean
mcp_uri_check_sources (const gchar * sources, const gchar * uri,
    GError ** error)
{
  GError *err = NULL;
  GPtrArray *list = mcp_parse_sources (sources, G_SOCKET_FAMILY_INVALID,
      &err);

  if (list == NULL) {
    mcp_uri_fail (error, uri, "%s", err->message);
    g_error_free (err);
    return FALSE;
  }
  g_ptr_array_unref (list);
  return TRUE;
}

/* The authority part: host, port and user. */
static gboolean
mcp_uri_parse_authority (GstElement * element, const McpUriScheme * s,
    GUri * parsed, McpUriSettings * st, const gchar * uri, GError ** error)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (element);
  const gchar *host = g_uri_get_host (parsed);
  const gchar *user = g_uri_get_userinfo (parsed);
  GParamSpec *pspec;
  gchar *port, *group = NULL;
  gboolean ok;

  if (s->multicast && (group = mcp_uri_parse_group (host, uri, error)) == NULL)
    return FALSE;
  pspec = g_object_class_find_property (klass, s->host_prop);
  if (group)
    g_value_take_string (mcp_uri_settings_add (st, pspec), group);
  else
    g_value_set_string (mcp_uri_settings_add (st, pspec),
        host && *host ? host : NULL);

  if (g_uri_get_port (parsed) < 0)
    return mcp_uri_fail (error, uri, "no port");
  port = g_strdup_printf ("%d", g_uri_get_port (parsed));
  ok = mcp_uri_settings_parse (st, g_object_class_find_property (klass,
          "port"), port, uri, error);
  g_free (port);
  if (!ok)
    return FALSE;

  pspec = s->user_prop ? g_object_class_find_property (klass,
      s->user_prop) : NULL;
  if (user != NULL && pspec == NULL)
    return mcp_uri_fail (error, uri, "%s takes no source ('%s@')",
        GST_ELEMENT_NAME (element), user);
  if (pspec == NULL)
    return TRUE;
  if (user != NULL && !mcp_uri_check_sources (user, uri, error))
    return FALSE;
  if (user != NULL)
    g_value_set_string (mcp_uri_settings_add (st, pspec), user);
  else
    g_param_value_set_default (pspec, mcp_uri_settings_add (st, pspec));
  return TRUE;
}

/* The query: PROPERTY=VALUE pairs, percent-encoded, separated by '&'. */
static gboolean
mcp_uri_parse_query (GstElement * element, const McpUriScheme * s,
    const gchar * query, McpUriSettings * st, const gchar * uri,
    GError ** error)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (element);
  gchar **pairs = g_strsplit (query ? query : "", "&", -1);
  gboolean ok = TRUE;
  guint i, j;

  for (i = 0; ok && pairs[i]; i++) {
    gchar *eq = strchr (pairs[i], '=');
    gchar *key, *value = NULL, *pair;
    GParamSpec *pspec;

    if (*pairs[i] == '\0')
      continue;
    pair = g_strdup (pairs[i]);
    if (eq)
      *eq = '\0';
    key = g_uri_unescape_string (pairs[i], NULL);
    if (eq)
      value = g_uri_unescape_string (eq + 1, NULL);
    pspec = key ? g_object_class_find_property (klass, key) : NULL;

    if (key == NULL || (eq && value == NULL))
      ok = mcp_uri_fail (error, uri, "bad %%-encoding in '%s'", pair);
    else if (eq == NULL)
      ok = mcp_uri_fail (error, uri, "parameter '%s' has no value", key);
    else if (pspec == NULL || pspec->owner_type == GST_TYPE_OBJECT)
      ok = mcp_uri_fail (error, uri, "unknown parameter '%s' (%s has no "
          "such property)", key, G_OBJECT_TYPE_NAME (element));
    else if (mcp_uri_is_authority_prop (s, key))
      ok = mcp_uri_fail (error, uri, "parameter '%s' belongs in the "
          "authority part (%s://%sHOST:PORT), not the query", key,
          s->scheme, s->user_prop ? "[SOURCE@]" : "");
    else if (pspec == mcp_uri_path_prop (element))
      ok = mcp_uri_fail (error, uri, "parameter 'path' belongs in the URI's "
          "path (%s://HOST:PORT/PATH), not the query", s->scheme);
    else if (!(pspec->flags & G_PARAM_WRITABLE)
        || (pspec->flags & G_PARAM_CONSTRUCT_ONLY))
      ok = mcp_uri_fail (error, uri, "parameter '%s' is read-only", key);
    else {
      for (j = 0; j < st->names->len; j++)
        if (g_str_equal (g_ptr_array_index (st->names, j), key))
          break;
      if (j < st->names->len)
        ok = mcp_uri_fail (error, uri, "parameter '%s' given twice", key);
      else
        ok = mcp_uri_settings_parse (st, pspec, value, uri, error);
    }
    g_free (pair);
    g_free (key);
    g_free (value);
  }
  g_strfreev (pairs);
  return ok;
}

gboolean
gst_mcp_uri_set (GstElement * element, const gchar * scheme,
    const gchar * uri, GError ** error)
{
  const McpUriScheme *s = mcp_uri_scheme_lookup (scheme);
  GError *err = NULL;
  GUri *parsed;
  McpUriSettings st;
  GstState state;
  const gchar *path;
  gboolean ok;

  g_return_val_if_fail (s != NULL, FALSE);

  GST_OBJECT_LOCK (element);
  state = GST_STATE (element);
  GST_OBJECT_UNLOCK (element);
  if (state > GST_STATE_READY) {
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the URI of %s is only possible in the NULL or READY "
        "state, not %s", GST_ELEMENT_NAME (element),
        gst_element_state_get_name (state));
    return FALSE;
  }

  if (uri == NULL)
    return mcp_uri_fail (error, "(null)", "no URI");
  parsed = g_uri_parse (uri, G_URI_FLAGS_ENCODED_QUERY, &err);
  if (parsed == NULL) {
    /* our own words: GLib's are translated and may change */
    if (g_error_matches (err, G_URI_ERROR, G_URI_ERROR_BAD_PORT))
      mcp_uri_fail (error, uri, "bad port (expected a number from 0 to "
          "65535)");
    else if (g_error_matches (err, G_URI_ERROR, G_URI_ERROR_BAD_HOST))
      mcp_uri_fail (error, uri, "bad host (an IPv6 address goes in "
          "brackets: [ff15::1])");
    else if (g_error_matches (err, G_URI_ERROR, G_URI_ERROR_BAD_QUERY))
      mcp_uri_fail (error, uri, "bad %%-encoding in the query");
    else
      mcp_uri_fail (error, uri, "not a URI (%s)", err->message);
    g_error_free (err);
    return FALSE;
  }

  mcp_uri_settings_init (&st);
  path = g_uri_get_path (parsed);
  if (g_uri_get_host (parsed) == NULL)
    ok = mcp_uri_fail (error, uri, "expected %s://%sHOST:PORT", s->scheme,
        s->user_prop ? "[SOURCE@]" : "");
  else if (*path != '\0' && !g_str_equal (path, "/")
      && !mcp_uri_path_prop (element))
    ok = mcp_uri_fail (error, uri, "unexpected path '%s'", path);
  else if (g_uri_get_fragment (parsed) != NULL)
    ok = mcp_uri_fail (error, uri, "unexpected fragment '#%s'",
        g_uri_get_fragment (parsed));
  else
    ok = mcp_uri_parse_authority (element, s, parsed, &st, uri, error)
        && mcp_uri_parse_query (element, s, g_uri_get_query (parsed), &st,
        uri, error);
  if (ok && mcp_uri_path_prop (element)) {
    GValue *v = mcp_uri_settings_add (&st, mcp_uri_path_prop (element));

    /* set every time, as the authority: none is the default (no path) */
    g_value_set_string (v, *path != '\0' && !g_str_equal (path, "/") ?
        path : NULL);
  }

  if (ok)
    g_object_setv (G_OBJECT (element), st.names->len,
        (const gchar **) st.names->pdata, (const GValue *) st.values->data);
  mcp_uri_settings_clear (&st);
  g_uri_unref (parsed);
  return ok;
}

static gint
mcp_uri_compare_pspec (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(GParamSpec **) a)->name, (*(GParamSpec **) b)->name);
}

static gchar *
mcp_uri_value_to_string (const GValue * v)
{
  if (G_VALUE_HOLDS_STRING (v))
    return g_value_dup_string (v);
  if (GST_VALUE_HOLDS_CAPS (v))
    return gst_caps_to_string (gst_value_get_caps (v));
  if (GST_VALUE_HOLDS_STRUCTURE (v))
    return gst_structure_to_string (gst_value_get_structure (v));
  return gst_value_serialize (v);
}

/* Appends the properties that differ from those of a new element of the
 * same type (its _init may differ from the param spec: a sink with sync
 * off), sorted by name: those the element takes back (readable and
 * writable), and never one of GstObject's (name, parent). */
static void
mcp_uri_format_query (GstElement * element, const McpUriScheme * s,
    GString * out)
{
  guint i, n;
  GParamSpec **pspecs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);
  GObject *fresh = g_object_new (G_OBJECT_TYPE (element), "name",
      "mcp-uri-defaults", NULL);
  gchar sep = '?';

  qsort (pspecs, n, sizeof (GParamSpec *), mcp_uri_compare_pspec);
  for (i = 0; i < n; i++) {
    GParamSpec *p = pspecs[i];
    GValue v = G_VALUE_INIT, def = G_VALUE_INIT;
    gchar *text;

    if ((p->flags & G_PARAM_READWRITE) != G_PARAM_READWRITE
        || (p->flags & G_PARAM_CONSTRUCT_ONLY)
        || p->owner_type == GST_TYPE_OBJECT
        || mcp_uri_is_authority_prop (s, p->name)
        || p == mcp_uri_path_prop (element))
      continue;
    g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (p));
    g_value_init (&def, G_PARAM_SPEC_VALUE_TYPE (p));
    g_object_get_property (G_OBJECT (element), p->name, &v);
    g_object_get_property (fresh, p->name, &def);
    if (g_param_values_cmp (p, &v, &def) != 0) {
      text = mcp_uri_value_to_string (&v);
      if (text) {
        g_string_append_printf (out, "%c%s=", sep, p->name);
        g_string_append_uri_escaped (out, text, MCP_URI_VALUE_CHARS, TRUE);
        sep = '&';
      }
      g_free (text);
    }
    g_value_unset (&v);
    g_value_unset (&def);
  }
  g_object_unref (gst_object_ref_sink (fresh));
  g_free (pspecs);
}

gchar *
gst_mcp_uri_get (GstElement * element, const gchar * scheme)
{
  const McpUriScheme *s = mcp_uri_scheme_lookup (scheme);
  GString *out;
  gchar *host = NULL, *user = NULL;
  guint port;

  g_return_val_if_fail (s != NULL, NULL);

  g_object_get (element, s->host_prop, &host, "port", &port, NULL);
  if (s->user_prop && g_object_class_find_property (G_OBJECT_GET_CLASS
          (element), s->user_prop))
    g_object_get (element, s->user_prop, &user, NULL);

  out = g_string_new (s->scheme);
  g_string_append (out, "://");
  if (user && *user) {
    g_string_append_uri_escaped (out, user, MCP_URI_VALUE_CHARS, TRUE);
    g_string_append_c (out, '@');
  }
  if (host && strchr (host, ':'))
    g_string_append_printf (out, "[%s]", host);
  else if (host)
    g_string_append_uri_escaped (out, host, "!$&'()*+,;=", TRUE);
  g_string_append_printf (out, ":%u", port);
  if (mcp_uri_path_prop (element)) {
    gchar *path = NULL;

    g_object_get (element, "path", &path, NULL);
    if (path && *path)
      g_string_append_uri_escaped (out, path, "/:@!$&'()*+,;=[]", TRUE);
    g_free (path);
  }
  mcp_uri_format_query (element, s, out);
  g_free (host);
  g_free (user);
  return g_string_free (out, FALSE);
}

/* ---- the interface --------------------------------------------------- */

static const gchar *const mcp_uri_mcast_protocols[] =
    { GST_MCP_URI_SCHEME_MCAST, NULL };
static const gchar *const mcp_uri_tcpsplit_protocols[] =
    { GST_MCP_URI_SCHEME_TCPSPLIT, NULL };
static const gchar *const mcp_uri_amt_protocols[] =
    { GST_MCP_URI_SCHEME_AMT, NULL };

static GstURIType
mcp_uri_type_src (GType type)
{
  return GST_URI_SRC;
}

static GstURIType
mcp_uri_type_sink (GType type)
{
  return GST_URI_SINK;
}

static const gchar *const *
mcp_uri_mcast_get_protocols (GType type)
{
  return mcp_uri_mcast_protocols;
}

static const gchar *const *
mcp_uri_tcpsplit_get_protocols (GType type)
{
  return mcp_uri_tcpsplit_protocols;
}

static const gchar *const *
mcp_uri_amt_get_protocols (GType type)
{
  return mcp_uri_amt_protocols;
}

/* The scheme is the handler's one protocol. */
static gchar *
mcp_uri_get_uri (GstURIHandler * handler)
{
  return gst_mcp_uri_get (GST_ELEMENT (handler),
      gst_uri_handler_get_protocols (handler)[0]);
}

static gboolean
mcp_uri_set_uri (GstURIHandler * handler, const gchar * uri, GError ** error)
{
  return gst_mcp_uri_set (GST_ELEMENT (handler),
      gst_uri_handler_get_protocols (handler)[0], uri, error);
}

static void
mcp_uri_iface_init (GstURIHandlerInterface * iface,
    const gchar * const *(*get_protocols) (GType),
    GstURIType (*get_type) (GType))
{
  iface->get_type = get_type;
  iface->get_protocols = get_protocols;
  iface->get_uri = mcp_uri_get_uri;
  iface->set_uri = mcp_uri_set_uri;
}

void
gst_mcp_uri_mcast_src_init (gpointer g_iface, gpointer iface_data)
{
  mcp_uri_iface_init (g_iface, mcp_uri_mcast_get_protocols, mcp_uri_type_src);
}

void
gst_mcp_uri_mcast_sink_init (gpointer g_iface, gpointer iface_data)
{
  mcp_uri_iface_init (g_iface, mcp_uri_mcast_get_protocols, mcp_uri_type_sink);
}

void
gst_mcp_uri_tcpsplit_src_init (gpointer g_iface, gpointer iface_data)
{
  mcp_uri_iface_init (g_iface, mcp_uri_tcpsplit_get_protocols,
      mcp_uri_type_src);
}

void
gst_mcp_uri_tcpsplit_sink_init (gpointer g_iface, gpointer iface_data)
{
  mcp_uri_iface_init (g_iface, mcp_uri_tcpsplit_get_protocols,
      mcp_uri_type_sink);
}

void
gst_mcp_uri_amt_src_init (gpointer g_iface, gpointer iface_data)
{
  mcp_uri_iface_init (g_iface, mcp_uri_amt_get_protocols, mcp_uri_type_src);
}
