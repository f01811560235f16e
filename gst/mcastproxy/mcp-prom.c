/* mcastproxy — the Prometheus text exposition format (version 0.0.4). */
#include "config.h"

#include "mcp-prom.h"

#include <math.h>
#include <string.h>

struct _McpPromHistogram
{
  guint n_bounds;
  gdouble *bounds;
  guint64 *counts;              /* per bucket, not cumulative; +Inf last */
  guint64 count;
  gdouble sum;
};

static gboolean
name_valid (const gchar * name, gboolean colon)
{
  const gchar *c;

  if (!name || !(g_ascii_isalpha (*name) || *name == '_'
          || (colon && *name == ':')))
    return FALSE;
  for (c = name + 1; *c; c++)
    if (!(g_ascii_isalnum (*c) || *c == '_' || (colon && *c == ':')))
      return FALSE;
  return TRUE;
}

static gboolean
label_name_valid (const gchar * name)
{
  return name_valid (name, FALSE) && !g_str_has_prefix (name, "__");
}

static gboolean
labels_valid (const gchar * const *labels)
{
  guint i;

  for (i = 0; labels && labels[i]; i += 2)
    if (!label_name_valid (labels[i]) || !labels[i + 1])
      return FALSE;
  return TRUE;
}

/* text as valid UTF-8 with backslash, newline and (in_label) the double
 * quote escaped. */
static void
append_escaped (GString * out, const gchar * text, gboolean in_label)
{
  gchar *valid = g_utf8_make_valid (text, -1);
  const gchar *c;

  for (c = valid; *c; c++) {
    if (*c == '\\')
      g_string_append (out, "\\\\");
    else if (*c == '\n')
      g_string_append (out, "\\n");
    else if (*c == '"' && in_label)
      g_string_append (out, "\\\"");
    else
      g_string_append_c (out, *c);
  }
  g_free (valid);
}

static void
append_value (GString * out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  gint precision;

  if (isnan (v)) {
    g_string_append (out, "NaN");
  } else if (isinf (v)) {
    g_string_append (out, v > 0 ? "+Inf" : "-Inf");
  } else if (v == 0) {
    g_string_append_c (out, '0');
  } else if (fabs (v) <= 9007199254740992.0 && v == (gdouble) (gint64) v) {
    g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) v);
  } else {
    /* the shortest of 15 to 17 digits that reads back the same */
    for (precision = 15; precision <= 17; precision++) {
      gchar format[8];

      g_snprintf (format, sizeof (format), "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof (buf), format, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
    g_string_append (out, buf);
  }
}

void
mcp_prom_family (GString * out, const gchar * name, const gchar * type,
    const gchar * help)
{
  g_return_if_fail (out != NULL && name_valid (name, TRUE));
  g_return_if_fail (g_strcmp0 (type, "counter") == 0
      || g_strcmp0 (type, "gauge") == 0 || g_strcmp0 (type, "histogram") == 0);

  if (help) {
    g_string_append_printf (out, "# HELP %s ", name);
    append_escaped (out, help, FALSE);
    g_string_append_c (out, '\n');
  }
  g_string_append_printf (out, "# TYPE %s %s\n", name, type);
}

/* name + suffix, the labels, and le when not NULL. */
static void
append_sample (GString * out, const gchar * name, const gchar * suffix,
    const gchar * const *labels, const gdouble * le, gdouble value)
{
  gboolean braces = (labels && labels[0]) || le;
  guint i;

  g_string_append (out, name);
  g_string_append (out, suffix);
  if (braces)
    g_string_append_c (out, '{');
  for (i = 0; labels && labels[i]; i += 2) {
    if (i > 0)
      g_string_append_c (out, ',');
    g_string_append_printf (out, "%s=\"", labels[i]);
    append_escaped (out, labels[i + 1], TRUE);
    g_string_append_c (out, '"');
  }
  if (le) {
    if (labels && labels[0])
      g_string_append_c (out, ',');
    g_string_append (out, "le=\"");
    append_value (out, *le);
    g_string_append_c (out, '"');
  }
  if (braces)
    g_string_append_c (out, '}');
  g_string_append_c (out, ' ');
  append_value (out, value);
  g_string_append_c (out, '\n');
}

void
mcp_prom_sample (GString * out, const gchar * name,
    const gchar * const *labels, gdouble value)
{
  g_return_if_fail (out != NULL && name_valid (name, TRUE));
  g_return_if_fail (labels_valid (labels));

  append_sample (out, name, "", labels, NULL, value);
}

McpPromHistogram *
mcp_prom_histogram_new (const gdouble * bounds, guint n_bounds)
{
  McpPromHistogram *h;
  guint i;

  g_return_val_if_fail (bounds != NULL || n_bounds == 0, NULL);
  for (i = 0; i < n_bounds; i++) {
    g_return_val_if_fail (isfinite (bounds[i]), NULL);
    g_return_val_if_fail (i == 0 || bounds[i] > bounds[i - 1], NULL);
  }

  h = g_new0 (McpPromHistogram, 1);
  h->n_bounds = n_bounds;
  h->bounds = g_memdup2 (bounds, n_bounds * sizeof (gdouble));
  h->counts = g_new0 (guint64, n_bounds + 1);
  return h;
}

void
mcp_prom_histogram_free (McpPromHistogram * h)
{
  if (!h)
    return;
  g_free (h->bounds);
  g_free (h->counts);
  g_free (h);
}

void
mcp_prom_histogram_observe (McpPromHistogram * h, gdouble v)
{
  guint lo = 0, hi;

  g_return_if_fail (h != NULL);

  /* the first bound >= v; none (or NaN): the +Inf bucket */
  hi = h->n_bounds;
  while (lo < hi) {
    guint mid = (lo + hi) / 2;

    if (v <= h->bounds[mid])
      hi = mid;
    else if (v > h->bounds[mid])
      lo = mid + 1;
    else
      lo = hi = h->n_bounds;
  }
  h->counts[lo]++;
  h->count++;
  h->sum += v;
}

void
mcp_prom_histogram_write (GString * out, const gchar * name,
    const gchar * const *labels, const McpPromHistogram * h)
{
  const gdouble inf = INFINITY;
  guint64 cumulative = 0;
  guint i;

  g_return_if_fail (out != NULL && h != NULL && name_valid (name, TRUE));
  g_return_if_fail (labels_valid (labels));
  for (i = 0; labels && labels[i]; i += 2)
    g_return_if_fail (strcmp (labels[i], "le") != 0);

  for (i = 0; i <= h->n_bounds; i++) {
    cumulative += h->counts[i];
    append_sample (out, name, "_bucket", labels,
        i < h->n_bounds ? &h->bounds[i] : &inf, cumulative);
  }
  append_sample (out, name, "_sum", labels, NULL, h->sum);
  append_sample (out, name, "_count", labels, NULL, h->count);
}
