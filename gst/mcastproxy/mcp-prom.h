/* mcastproxy — the Prometheus text exposition format (version 0.0.4).
 *
 * Writes metric families, samples and histograms into a GString, escaped
 * so that any label value or help text gives a valid exposition. Pure
 * code. A histogram is not thread-safe: its owner locks it.
 */
#ifndef __MCP_PROM_H__
#define __MCP_PROM_H__

#include <glib.h>

G_BEGIN_DECLS

/* The content type of what these functions write. */
#define MCP_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" (backslash and newline escaped; help NULL: no HELP
 * line) and "# TYPE name type"; type is "counter", "gauge" or
 * "histogram". Names are [a-zA-Z_:][a-zA-Z0-9_:]*. */
void mcp_prom_family (GString * out, const gchar * name, const gchar * type,
    const gchar * help);

/* One sample line: name{label="value",...} value. labels: label name,
 * value, name, value, ..., NULL (or NULL for none); values are escaped
 * (backslash, double quote, newline) and invalid UTF-8 in them is replaced
 * by U+FFFD. Label names are [a-zA-Z_][a-zA-Z0-9_]*, not "__..." . An
 * integral value up to 2^53 is written without exponent, others as the
 * shortest text that reads back to the same double; +Inf, -Inf and NaN as
 * Prometheus writes them. */
void mcp_prom_sample (GString * out, const gchar * name,
    const gchar * const *labels, gdouble value);

typedef struct _McpPromHistogram McpPromHistogram;

/* A histogram with the upper bounds ("le") bounds[0..n_bounds), finite and
 * increasing; a +Inf bucket is always there. */
McpPromHistogram *mcp_prom_histogram_new (const gdouble * bounds,
    guint n_bounds);
void mcp_prom_histogram_free (McpPromHistogram * h);

/* Counts v in the first bucket whose bound is >= v (NaN: only in +Inf, and
 * the sum becomes NaN, as in Prometheus' own clients). */
void mcp_prom_histogram_observe (McpPromHistogram * h, gdouble v);

/* name_bucket{labels...,le="BOUND"} with cumulative counts, the +Inf bucket
 * last, then name_sum and name_count. labels as for mcp_prom_sample, and
 * without "le". The family line is the caller's (type "histogram"). */
void mcp_prom_histogram_write (GString * out, const gchar * name,
    const gchar * const *labels, const McpPromHistogram * h);

G_END_DECLS

#endif /* __MCP_PROM_H__ */
