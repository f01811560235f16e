/* mcastproxy — numeric properties that never run with another value than
 * the one written (see gstmcpprops.h). */
#include "config.h"

#include "gstmcpprops.h"

/* The value is left as it is: GObject then stores whatever was written. */
static gboolean
keep_value (GParamSpec * pspec, GValue * value)
{
  return FALSE;
}

static gboolean
any_value_is_valid (GParamSpec * pspec, const GValue * value)
{
  return TRUE;
}

static void
checked_class_init (gpointer klass, gpointer data)
{
  GParamSpecClass *pclass = klass;

  pclass->value_validate = keep_value;
  pclass->value_is_valid = any_value_is_valid;
}

/* A subtype of parent (a GParamSpec type) that accepts any value. */
static GType
register_checked (GType parent, const gchar * name)
{
  GTypeQuery query;
  GTypeInfo info = { 0 };

  g_type_query (parent, &query);
  info.class_size = query.class_size;
  info.class_init = checked_class_init;
  info.instance_size = query.instance_size;
  return g_type_register_static (parent, name, &info, 0);
}

#define DEFINE_CHECKED_TYPE(func, parent, name)                        \
static GType                                                           \
func (void)                                                            \
{                                                                      \
  static gsize type = 0;                                               \
                                                                       \
  if (g_once_init_enter (&type))                                       \
    g_once_init_leave (&type, register_checked (parent, name));        \
  return type;                                                         \
}

DEFINE_CHECKED_TYPE (checked_uint_get_type, G_TYPE_PARAM_UINT,
    "GstMcpParamSpecUInt");
DEFINE_CHECKED_TYPE (checked_int_get_type, G_TYPE_PARAM_INT,
    "GstMcpParamSpecInt");
DEFINE_CHECKED_TYPE (checked_uint64_get_type, G_TYPE_PARAM_UINT64,
    "GstMcpParamSpecUInt64");

static gboolean
is_checked (GParamSpec * pspec)
{
  GType t = G_PARAM_SPEC_TYPE (pspec);

  return t == checked_uint_get_type () || t == checked_int_get_type ()
      || t == checked_uint64_get_type ();
}

GParamSpec *
gst_mcp_param_spec_uint (const gchar * name, const gchar * nick,
    const gchar * blurb, guint minimum, guint maximum, guint default_value,
    GParamFlags flags)
{
  GParamSpecUInt *spec;

  g_return_val_if_fail (minimum <= default_value && default_value <= maximum,
      NULL);
  spec = g_param_spec_internal (checked_uint_get_type (), name, nick, blurb,
      flags);
  spec->minimum = minimum;
  spec->maximum = maximum;
  spec->default_value = default_value;
  return G_PARAM_SPEC (spec);
}

GParamSpec *
gst_mcp_param_spec_int (const gchar * name, const gchar * nick,
    const gchar * blurb, gint minimum, gint maximum, gint default_value,
    GParamFlags flags)
{
  GParamSpecInt *spec;

  g_return_val_if_fail (minimum <= default_value && default_value <= maximum,
      NULL);
  spec = g_param_spec_internal (checked_int_get_type (), name, nick, blurb,
      flags);
  spec->minimum = minimum;
  spec->maximum = maximum;
  spec->default_value = default_value;
  return G_PARAM_SPEC (spec);
}

GParamSpec *
gst_mcp_param_spec_uint64 (const gchar * name, const gchar * nick,
    const gchar * blurb, guint64 minimum, guint64 maximum,
    guint64 default_value, GParamFlags flags)
{
  GParamSpecUInt64 *spec;

  g_return_val_if_fail (minimum <= default_value && default_value <= maximum,
      NULL);
  spec = g_param_spec_internal (checked_uint64_get_type (), name, nick, blurb,
      flags);
  spec->minimum = minimum;
  spec->maximum = maximum;
  spec->default_value = default_value;
  return G_PARAM_SPEC (spec);
}

/* "70000 is out of range 0-65535", or only the bound that applies when
 * the other is the type's own. */
static gchar *
out_of_range (const gchar * v, gboolean below, const gchar * min,
    const gchar * max, gboolean open_min, gboolean open_max)
{
  if (below && open_max)
    return g_strdup_printf ("%s is below the minimum %s", v, min);
  if (!below && open_min)
    return g_strdup_printf ("%s is above the maximum %s", v, max);
  return g_strdup_printf ("%s is out of range %s-%s", v, min, max);
}

#define CHECK_RANGE(spec_type, get, fmt, type_min, type_max)            \
  G_STMT_START {                                                        \
    spec_type *s = (spec_type *) pspec;                                 \
    gchar vs[32], mins[32], maxs[32];                                   \
                                                                        \
    ok = get (value) >= s->minimum && get (value) <= s->maximum;        \
    if (!ok && why) {                                                   \
      g_snprintf (vs, sizeof (vs), fmt, get (value));                   \
      g_snprintf (mins, sizeof (mins), fmt, s->minimum);                \
      g_snprintf (maxs, sizeof (maxs), fmt, s->maximum);                \
      msg = out_of_range (vs, get (value) < s->minimum, mins, maxs,     \
          s->minimum == type_min, s->maximum == type_max);              \
    }                                                                   \
  } G_STMT_END

gboolean
gst_mcp_param_value_in_range (GParamSpec * pspec, const GValue * value,
    gchar ** why)
{
  gboolean ok;
  gchar *msg = NULL;

  if (G_IS_PARAM_SPEC_UINT (pspec)) {
    CHECK_RANGE (GParamSpecUInt, g_value_get_uint, "%u", 0, G_MAXUINT);
  } else if (G_IS_PARAM_SPEC_INT (pspec)) {
    CHECK_RANGE (GParamSpecInt, g_value_get_int, "%d", G_MININT, G_MAXINT);
  } else if (G_IS_PARAM_SPEC_UINT64 (pspec)) {
    CHECK_RANGE (GParamSpecUInt64, g_value_get_uint64, "%" G_GUINT64_FORMAT,
        0, G_MAXUINT64);
  } else {
    GValue copy = G_VALUE_INIT;

    g_value_init (&copy, G_VALUE_TYPE (value));
    g_value_copy (value, &copy);
    ok = !g_param_value_validate (pspec, &copy);
    g_value_unset (&copy);
    if (!ok && why) {
      gchar *text = gst_value_serialize (value);

      msg = g_strdup_printf ("%s is not a valid value", text ? text : "?");
      g_free (text);
    }
  }
  if (why)
    *why = msg;
  return ok;
}

gboolean
gst_mcp_props_accept (GObject * object, GParamSpec * pspec,
    const GValue * value)
{
  GstState state;
  gchar *why;

  if (!is_checked (pspec) || gst_mcp_param_value_in_range (pspec, value, NULL))
    return TRUE;
  GST_OBJECT_LOCK (object);
  state = GST_STATE (object);
  GST_OBJECT_UNLOCK (object);
  if (state == GST_STATE_NULL)
    return TRUE;
  gst_mcp_param_value_in_range (pspec, value, &why);
  GST_ELEMENT_WARNING (GST_ELEMENT (object), RESOURCE, SETTINGS,
      ("Ignored a new value of property \"%s\": %s", pspec->name, why), (NULL));
  g_free (why);
  return FALSE;
}

gboolean
gst_mcp_props_check (GstElement * element)
{
  GParamSpec **specs;
  guint n, i;
  gboolean ok = TRUE;

  specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);
  for (i = 0; i < n && ok; i++) {
    GValue v = G_VALUE_INIT;
    gchar *why = NULL;

    if (!is_checked (specs[i]) || !(specs[i]->flags & G_PARAM_READABLE))
      continue;
    g_value_init (&v, specs[i]->value_type);
    g_object_get_property (G_OBJECT (element), specs[i]->name, &v);
    if (!gst_mcp_param_value_in_range (specs[i], &v, &why)) {
      GST_ELEMENT_ERROR (element, RESOURCE, SETTINGS,
          ("Invalid value of property \"%s\": %s", specs[i]->name, why),
          (NULL));
      ok = FALSE;
    }
    g_free (why);
    g_value_unset (&v);
  }
  g_free (specs);
  return ok;
}
