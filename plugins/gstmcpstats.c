/* mcastproxy — periodic statistics messages on the bus. */
#include "config.h"

#include "gstmcpstats.h"

#include <math.h>
#include <string.h>

#include "mcp-http.h"

typedef struct
{
  GstElement *element;
  GstMcpStatsFunc func;
} Tick;

static gboolean
post_stats (GstClock * clock, GstClockTime time, GstClockID id, gpointer data)
{
  Tick *tick = data;
  GstStructure *s = tick->func (tick->element);

  gst_element_post_message (tick->element,
      gst_message_new_element (GST_OBJECT (tick->element), s));
  return TRUE;
}

static void
free_tick (gpointer data)
{
  Tick *tick = data;

  gst_object_unref (tick->element);
  g_free (tick);
}

void
gst_mcp_stats_timer_start (GstMcpStatsTimer * timer, GstElement * element,
    GstClockTime interval, GstMcpStatsFunc func)
{
  GstClock *clock;
  Tick *tick;

  gst_mcp_stats_timer_stop (timer);
  if (interval == 0)
    return;
  clock = gst_system_clock_obtain ();
  tick = g_new0 (Tick, 1);
  /* released with the clock id, after the last tick that may be running */
  tick->element = gst_object_ref (element);
  tick->func = func;
  timer->id = gst_clock_new_periodic_id (clock,
      gst_clock_get_time (clock) + interval, interval);
  gst_clock_id_wait_async (timer->id, post_stats, tick, free_tick);
  gst_object_unref (clock);
}

void
gst_mcp_stats_timer_stop (GstMcpStatsTimer * timer)
{
  if (!timer->id)
    return;
  gst_clock_id_unschedule (timer->id);
  gst_clock_id_unref (timer->id);
  timer->id = NULL;
}

/* ---- the vocabulary and JSON ------------------------------------------- */

GstMcpFieldKind
gst_mcp_stats_field_kind (const gchar * name)
{
  if (g_str_has_suffix (name, "-id"))
    return GST_MCP_FIELD_ID;
  if (g_str_has_suffix (name, "-time") || g_str_has_suffix (name, "-duration"))
    return GST_MCP_FIELD_DURATION;
  return GST_MCP_FIELD_PLAIN;
}

static void append_structure (GString * out, const GstStructure * s);

static void
append_value (GString * out, const GValue * v)
{
  GType type = G_VALUE_TYPE (v);

  if (type == G_TYPE_STRING) {
    const gchar *str = g_value_get_string (v);

    if (str)
      mcp_json_append_string (out, str);
    else
      g_string_append (out, "null");
  } else if (type == G_TYPE_BOOLEAN) {
    g_string_append (out, g_value_get_boolean (v) ? "true" : "false");
  } else if (type == G_TYPE_INT) {
    g_string_append_printf (out, "%d", g_value_get_int (v));
  } else if (type == G_TYPE_UINT) {
    g_string_append_printf (out, "%u", g_value_get_uint (v));
  } else if (type == G_TYPE_INT64) {
    g_string_append_printf (out, "%" G_GINT64_FORMAT, g_value_get_int64 (v));
  } else if (type == G_TYPE_UINT64) {
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_value_get_uint64 (v));
  } else if (type == G_TYPE_LONG) {
    g_string_append_printf (out, "%ld", g_value_get_long (v));
  } else if (type == G_TYPE_ULONG) {
    g_string_append_printf (out, "%lu", g_value_get_ulong (v));
  } else if (type == G_TYPE_DOUBLE || type == G_TYPE_FLOAT) {
    gdouble d = type == G_TYPE_DOUBLE ? g_value_get_double (v) :
        g_value_get_float (v);
    gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (isfinite (d))
      g_string_append (out, g_ascii_dtostr (buf, sizeof (buf), d));
    else
      g_string_append (out, "null");
  } else if (type == GST_TYPE_STRUCTURE) {
    const GstStructure *s = gst_value_get_structure (v);

    if (s)
      append_structure (out, s);
    else
      g_string_append (out, "null");
  } else if (GST_VALUE_HOLDS_ARRAY (v) || GST_VALUE_HOLDS_LIST (v)) {
    gboolean array = GST_VALUE_HOLDS_ARRAY (v);
    guint n =
        array ? gst_value_array_get_size (v) : gst_value_list_get_size (v);
    guint i;

    g_string_append_c (out, '[');
    for (i = 0; i < n; i++) {
      if (i)
        g_string_append_c (out, ',');
      append_value (out, array ? gst_value_array_get_value (v, i) :
          gst_value_list_get_value (v, i));
    }
    g_string_append_c (out, ']');
  } else if (G_TYPE_IS_ENUM (type)) {
    GEnumClass *klass = g_type_class_ref (type);
    GEnumValue *ev = g_enum_get_value (klass, g_value_get_enum (v));

    if (ev)
      mcp_json_append_string (out, ev->value_nick);
    else
      g_string_append_printf (out, "%d", g_value_get_enum (v));
    g_type_class_unref (klass);
  } else {
    gchar *str = gst_value_serialize (v);

    if (str)
      mcp_json_append_string (out, str);
    else
      g_string_append (out, "null");
    g_free (str);
  }
}

static gboolean
append_field (GQuark field, const GValue * v, gpointer data)
{
  GString *out = data;
  const gchar *name = g_quark_to_string (field);
  GstMcpFieldKind kind = G_VALUE_TYPE (v) == G_TYPE_UINT64 ?
      gst_mcp_stats_field_kind (name) : GST_MCP_FIELD_PLAIN;

  if (out->str[out->len - 1] != '{')
    g_string_append_c (out, ',');
  if (kind == GST_MCP_FIELD_ID) {
    gchar id[24];

    mcp_json_append_string (out, name);
    g_snprintf (id, sizeof (id), "%" G_GUINT64_FORMAT, g_value_get_uint64 (v));
    g_string_append_c (out, ':');
    mcp_json_append_string (out, id);
  } else if (kind == GST_MCP_FIELD_DURATION) {
    gchar *key = g_strconcat (name, "-seconds", NULL);
    gchar secs[G_ASCII_DTOSTR_BUF_SIZE];

    mcp_json_append_string (out, key);
    g_string_append_c (out, ':');
    g_string_append (out, g_ascii_formatd (secs, sizeof (secs), "%.9g",
            g_value_get_uint64 (v) / 1e9));
    g_free (key);
  } else {
    mcp_json_append_string (out, name);
    g_string_append_c (out, ':');
    append_value (out, v);
  }
  return TRUE;
}

static void
append_structure (GString * out, const GstStructure * s)
{
  g_string_append_c (out, '{');
  gst_structure_foreach (s, append_field, out);
  g_string_append_c (out, '}');
}

gchar *
gst_mcp_structure_to_json (const GstStructure * s)
{
  GString *out = g_string_new (NULL);

  append_structure (out, s);
  return g_string_free (out, FALSE);
}


/* ---- the whole pipeline ------------------------------------------------ */

static gint64 loaded_at;

void
gst_mcp_stats_init (void)
{
  if (!loaded_at)
    loaded_at = g_get_monotonic_time ();
}

static gboolean
is_ours (GstElement * e)
{
  GstElementFactory *f = gst_element_get_factory (e);
  const gchar *plugin = f ?
      gst_plugin_feature_get_plugin_name (GST_PLUGIN_FEATURE (f)) : NULL;

  return g_strcmp0 (plugin, "mcastproxy") == 0;
}

/* Prepends bin's elements of ours, sinks first (iterate_sorted), so that
 * the list ends up sources first; into child bins too. */
static void
collect (GstBin * bin, GList ** out)
{
  GstIterator *it = gst_bin_iterate_sorted (bin);
  GValue v = G_VALUE_INIT;
  gboolean done = FALSE;

  while (!done) {
    switch (gst_iterator_next (it, &v)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&v);

        if (GST_IS_BIN (e))
          collect (GST_BIN (e), out);
        else if (is_ours (e))
          *out = g_list_prepend (*out, gst_object_ref (e));
        g_value_reset (&v);
        break;
      }
      case GST_ITERATOR_RESYNC:
        g_list_free_full (*out, gst_object_unref);
        *out = NULL;
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

gchar *
gst_mcp_stats_pipeline_json (GstElement * element)
{
  GstObject *top = gst_object_ref (GST_OBJECT (element)), *parent;
  GString *out = g_string_new ("{\"version\":");
  gchar secs[G_ASCII_DTOSTR_BUF_SIZE];
  GList *elements = NULL, *l;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  if (GST_IS_BIN (top))
    collect (GST_BIN (top), &elements);
  else
    elements = g_list_prepend (NULL, gst_object_ref (top));

  mcp_json_append_string (out, VERSION);
  g_string_append_printf (out, ",\"uptime-seconds\":%s,\"elements\":{",
      g_ascii_formatd (secs, sizeof (secs), "%.9g",
          (g_get_monotonic_time () - loaded_at) / 1e6));
  for (l = elements; l; l = l->next) {
    GstElement *e = l->data;
    GstStructure *s = NULL;
    gchar *name = gst_element_get_name (e);
    gchar *json;

    g_signal_emit_by_name (e, "get-stats", &s);
    if (!s)
      s = gst_structure_new_empty ("stats");
    gst_structure_set (s, "factory", G_TYPE_STRING,
        GST_OBJECT_NAME (gst_element_get_factory (e)), NULL);
    json = gst_mcp_structure_to_json (s);
    if (l != elements)
      g_string_append_c (out, ',');
    mcp_json_append_string (out, name);
    g_string_append_c (out, ':');
    g_string_append (out, json);
    g_free (json);
    g_free (name);
    gst_structure_free (s);
  }
  g_string_append (out, "}}");
  g_list_free_full (elements, gst_object_unref);
  gst_object_unref (top);
  return g_string_free (out, FALSE);
}
