/* mcastproxy — prints a Prometheus exposition made with mcp-prom, for
 * prom-check.py to read with Prometheus' own parser.
 *
 *   prom-expose HELP [LABEL_VALUE...]
 *
 * HELP is the help text of every family; each LABEL_VALUE makes one
 * sample of mcp_test_hostile (value: its index) and labels one histogram.
 * The values of mcp_test_values and the histogram's observations are the
 * ones prom-check.py expects.
 */
#include "config.h"

#include "mcp-prom.h"

#include <math.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
  const gdouble values[] = { 0, -0.0, 1, -1, 1000000, 9007199254740992.0,
    18446744073709551616.0, 1e300, 0.1, 1.0 / 3, 0.1 + 0.2, 2.5e-7,
    -1234.5678, 4294967295.0, INFINITY, -INFINITY, NAN
  };
  const gdouble bounds[] = { 0.001, 0.01, 0.1, 1, 10 };
  const gdouble observations[] = { 0.001, 0.0005, 0.05, 1, 1.5, 10, 11, 1e9,
    -3
  };
  GString *out = g_string_new (NULL);
  const gchar *help;
  guint i;

  if (argc < 2) {
    g_printerr ("usage: prom-expose HELP [LABEL_VALUE...]\n");
    return 2;
  }
  help = argv[1];

  mcp_prom_family (out, "mcp_test_values", "gauge", help);
  for (i = 0; i < G_N_ELEMENTS (values); i++) {
    gchar *index = g_strdup_printf ("%u", i);
    const gchar *labels[] = { "index", index, NULL };

    mcp_prom_sample (out, "mcp_test_values", labels, values[i]);
    g_free (index);
  }

  mcp_prom_family (out, "mcp_test_hostile_total", "counter", help);
  for (i = 2; i < (guint) argc; i++) {
    gchar *index = g_strdup_printf ("%u", i - 2);
    const gchar *labels[] = { "index", index, "value", argv[i], NULL };

    mcp_prom_sample (out, "mcp_test_hostile_total", labels, i - 2);
    g_free (index);
  }

  mcp_prom_family (out, "mcp_test_plain", "gauge", NULL);
  mcp_prom_sample (out, "mcp_test_plain", NULL, 42);

  mcp_prom_family (out, "mcp_test_latency_seconds", "histogram", help);
  for (i = 2; i < (guint) argc; i++) {
    McpPromHistogram *h = mcp_prom_histogram_new (bounds,
        G_N_ELEMENTS (bounds));
    const gchar *labels[] = { "value", argv[i], NULL };
    guint j;

    /* the first i - 1 observations */
    for (j = 0; j < MIN (i - 1, G_N_ELEMENTS (observations)); j++)
      mcp_prom_histogram_observe (h, observations[j]);
    mcp_prom_histogram_write (out, "mcp_test_latency_seconds", labels, h);
    mcp_prom_histogram_free (h);
  }

  fwrite (out->str, 1, out->len, stdout);
  g_string_free (out, TRUE);
  return 0;
}
