/* mcastproxy — numeric properties that never run with another value than
 * the one written.
 *
 * GObject meets an out-of-range value (`gst-launch-1.0 ... port=70000`)
 * with a g_warning, keeps the old value and lets the pipeline run on it.
 * The param specs made here are GParamSpecUInt, ...Int and ...UInt64 with
 * their usual range (gst-inspect shows it), except that GObject lets any
 * value of the type through: the element then refuses to leave NULL with
 * one clear error naming the property, the value and the range
 * (gst_mcp_props_check), and a change past NULL is refused with a warning
 * (gst_mcp_props_accept). */
#ifndef __GST_MCP_PROPS_H__
#define __GST_MCP_PROPS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

GParamSpec *gst_mcp_param_spec_uint (const gchar * name, const gchar * nick,
    const gchar * blurb, guint minimum, guint maximum, guint default_value,
    GParamFlags flags);
GParamSpec *gst_mcp_param_spec_int (const gchar * name, const gchar * nick,
    const gchar * blurb, gint minimum, gint maximum, gint default_value,
    GParamFlags flags);
GParamSpec *gst_mcp_param_spec_uint64 (const gchar * name, const gchar * nick,
    const gchar * blurb, guint64 minimum, guint64 maximum,
    guint64 default_value, GParamFlags flags);

/* Whether value lies within pspec's range (any param spec); if not and
 * why is given, a one-line reason ("70000 is out of range 0-65535"). */
gboolean gst_mcp_param_value_in_range (GParamSpec * pspec,
    const GValue * value, gchar ** why);

/* From set_property, before anything else: FALSE when the value is out of
 * range and the element is past NULL (a warning says it was ignored); in
 * NULL the value is taken, and gst_mcp_props_check refuses it later. */
gboolean gst_mcp_props_accept (GObject * object, GParamSpec * pspec,
    const GValue * value);

/* At NULL->READY: an element error for the first property out of its
 * range, and FALSE. */
gboolean gst_mcp_props_check (GstElement * element);

G_END_DECLS

#endif /* __GST_MCP_PROPS_H__ */
