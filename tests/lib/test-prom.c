/* mcastproxy — unit tests of the Prometheus text format writer (mcp-prom).
 *
 * The exact text here; prom-check.py reads the same kind of output with
 * Prometheus' own parser.
 */
#include "config.h"

#include "mcp-prom.h"

#include <math.h>

static void
assert_sample (const gchar * const *labels, gdouble value,
    const gchar * expected)
{
  GString *out = g_string_new (NULL);

  mcp_prom_sample (out, "m", labels, value);
  g_assert_cmpstr (out->str, ==, expected);
  g_string_free (out, TRUE);
}

static void
assert_value (gdouble value, const gchar * expected)
{
  gchar *line = g_strdup_printf ("m %s\n", expected);

  assert_sample (NULL, value, line);
  g_free (line);
}

static void
test_family (void)
{
  GString *out = g_string_new (NULL);

  mcp_prom_family (out, "mcastproxy_datagrams_total", "counter",
      "Datagrams received.");
  mcp_prom_family (out, "a:b_c", "gauge", "back\\slash\nnew \"line\"");
  mcp_prom_family (out, "h", "histogram", NULL);
  mcp_prom_family (out, "e", "gauge", "");
  mcp_prom_family (out, "u", "gauge", "bad \xff utf-8");
  g_assert_cmpstr (out->str, ==,
      "# HELP mcastproxy_datagrams_total Datagrams received.\n"
      "# TYPE mcastproxy_datagrams_total counter\n"
      "# HELP a:b_c back\\\\slash\\nnew \"line\"\n"
      "# TYPE a:b_c gauge\n"
      "# TYPE h histogram\n"
      "# HELP e \n" "# TYPE e gauge\n"
      "# HELP u bad \xef\xbf\xbd utf-8\n" "# TYPE u gauge\n");
  g_string_free (out, TRUE);
}

static void
test_labels (void)
{
  const gchar *none[] = { NULL };
  const gchar *one[] = { "group", "239.1.1.1:5000", NULL };
  const gchar *two[] = { "a", "x", "b_2", "y", NULL };
  const gchar *hostile[] = { "v", "q\"b\\n\nend}{,=", NULL };
  const gchar *utf8[] = { "name", "caf\xc3\xa9 \xe2\x82\xac", "bad",
    "\xc3(x\xff", NULL
  };
  const gchar *empty[] = { "e", "", NULL };

  assert_sample (NULL, 1, "m 1\n");
  assert_sample (none, 1, "m 1\n");
  assert_sample (one, 2, "m{group=\"239.1.1.1:5000\"} 2\n");
  assert_sample (two, 3, "m{a=\"x\",b_2=\"y\"} 3\n");
  assert_sample (hostile, 4, "m{v=\"q\\\"b\\\\n\\nend}{,=\"} 4\n");
  assert_sample (utf8, 5, "m{name=\"caf\xc3\xa9 \xe2\x82\xac\","
      "bad=\"\xef\xbf\xbd(x\xef\xbf\xbd\"} 5\n");
  assert_sample (empty, 6, "m{e=\"\"} 6\n");
}

static void
test_values (void)
{
  assert_value (0, "0");
  assert_value (-0.0, "0");
  assert_value (1, "1");
  assert_value (-1, "-1");
  assert_value (1000000, "1000000");
  assert_value (123456789012345.0, "123456789012345");
  assert_value (9007199254740992.0, "9007199254740992");
  assert_value (-9007199254740992.0, "-9007199254740992");
  assert_value (18446744073709551616.0, "1.8446744073709552e+19");
  assert_value (1e300, "1e+300");
  assert_value (0.5, "0.5");
  assert_value (0.1, "0.1");
  assert_value (1.0 / 3, "0.3333333333333333");
  assert_value (0.1 + 0.2, "0.30000000000000004");
  assert_value (2.5e-7, "2.5e-07");
  assert_value (-1234.5678, "-1234.5678");
  assert_value (INFINITY, "+Inf");
  assert_value (-INFINITY, "-Inf");
  assert_value (NAN, "NaN");
  assert_value (G_MAXUINT32, "4294967295");
}

static void
test_histogram (void)
{
  const gdouble bounds[] = { 0.001, 0.01, 0.1, 1, 10 };
  const gchar *labels[] = { "channel", "/udp/239.1.1.1:5000", NULL };
  McpPromHistogram *h = mcp_prom_histogram_new (bounds, G_N_ELEMENTS (bounds));
  GString *out = g_string_new (NULL);

  mcp_prom_histogram_write (out, "lat", NULL, h);
  g_assert_cmpstr (out->str, ==,
      "lat_bucket{le=\"0.001\"} 0\n"
      "lat_bucket{le=\"0.01\"} 0\n"
      "lat_bucket{le=\"0.1\"} 0\n"
      "lat_bucket{le=\"1\"} 0\n"
      "lat_bucket{le=\"10\"} 0\n"
      "lat_bucket{le=\"+Inf\"} 0\n" "lat_sum 0\n" "lat_count 0\n");
  g_string_truncate (out, 0);

  /* a value on a bound counts in that bucket */
  mcp_prom_histogram_observe (h, 0.001);
  mcp_prom_histogram_observe (h, 0.0005);
  mcp_prom_histogram_observe (h, 0.05);
  mcp_prom_histogram_observe (h, 1);
  mcp_prom_histogram_observe (h, 1.5);
  mcp_prom_histogram_observe (h, 10);
  mcp_prom_histogram_observe (h, 11);
  mcp_prom_histogram_observe (h, 1e9);
  mcp_prom_histogram_observe (h, -3);
  mcp_prom_histogram_write (out, "lat", labels, h);
  g_assert_cmpstr (out->str, ==,
      "lat_bucket{channel=\"/udp/239.1.1.1:5000\",le=\"0.001\"} 3\n"
      "lat_bucket{channel=\"/udp/239.1.1.1:5000\",le=\"0.01\"} 3\n"
      "lat_bucket{channel=\"/udp/239.1.1.1:5000\",le=\"0.1\"} 4\n"
      "lat_bucket{channel=\"/udp/239.1.1.1:5000\",le=\"1\"} 5\n"
      "lat_bucket{channel=\"/udp/239.1.1.1:5000\",le=\"10\"} 7\n"
      "lat_bucket{channel=\"/udp/239.1.1.1:5000\",le=\"+Inf\"} 9\n"
      "lat_sum{channel=\"/udp/239.1.1.1:5000\"} 1000000020.5515\n"
      "lat_count{channel=\"/udp/239.1.1.1:5000\"} 9\n");
  g_string_truncate (out, 0);

  /* NaN: only in +Inf, and the sum is NaN */
  mcp_prom_histogram_observe (h, NAN);
  mcp_prom_histogram_write (out, "lat", NULL, h);
  g_assert_true (g_str_has_suffix (out->str,
          "lat_bucket{le=\"10\"} 7\n"
          "lat_bucket{le=\"+Inf\"} 10\n" "lat_sum NaN\n" "lat_count 10\n"));
  g_string_free (out, TRUE);
  mcp_prom_histogram_free (h);
  mcp_prom_histogram_free (NULL);
}

static void
test_histogram_no_bounds (void)
{
  McpPromHistogram *h = mcp_prom_histogram_new (NULL, 0);
  GString *out = g_string_new (NULL);

  mcp_prom_histogram_observe (h, 2);
  mcp_prom_histogram_observe (h, -INFINITY);
  mcp_prom_histogram_write (out, "x", NULL, h);
  g_assert_cmpstr (out->str, ==,
      "x_bucket{le=\"+Inf\"} 2\n" "x_sum -Inf\n" "x_count 2\n");
  g_string_free (out, TRUE);
  mcp_prom_histogram_free (h);
}

/* Programming errors are refused with a critical, writing nothing. */
static void
expect_critical (void)
{
  g_test_expect_message ("mcastproxy", G_LOG_LEVEL_CRITICAL,
      "*assertion*failed*");
}

static void
test_invalid (void)
{
  const gdouble unordered[] = { 1, 1 };
  const gdouble infinite[] = { 1, INFINITY };
  const gchar *bad_label[] = { "1a", "x", NULL };
  const gchar *reserved[] = { "__name__", "x", NULL };
  const gchar *le[] = { "le", "x", NULL };
  const gchar *odd[] = { "a", NULL };
  GString *out = g_string_new (NULL);
  McpPromHistogram *h = mcp_prom_histogram_new (NULL, 0);

  expect_critical ();
  g_assert_null (mcp_prom_histogram_new (unordered, 2));
  expect_critical ();
  g_assert_null (mcp_prom_histogram_new (infinite, 2));
  expect_critical ();
  mcp_prom_family (out, "1m", "counter", NULL);
  expect_critical ();
  mcp_prom_family (out, "m", "summary", NULL);
  expect_critical ();
  mcp_prom_family (out, "m-x", "gauge", NULL);
  expect_critical ();
  mcp_prom_sample (out, "m", bad_label, 1);
  expect_critical ();
  mcp_prom_sample (out, "m", reserved, 1);
  expect_critical ();
  mcp_prom_sample (out, "m", odd, 1);
  expect_critical ();
  mcp_prom_sample (out, "", NULL, 1);
  expect_critical ();
  mcp_prom_histogram_write (out, "h", le, h);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (out->len, ==, 0);
  mcp_prom_histogram_free (h);
  g_string_free (out, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/prom/family", test_family);
  g_test_add_func ("/prom/labels", test_labels);
  g_test_add_func ("/prom/values", test_values);
  g_test_add_func ("/prom/histogram", test_histogram);
  g_test_add_func ("/prom/histogram/no-bounds", test_histogram_no_bounds);
  g_test_add_func ("/prom/invalid", test_invalid);

  return g_test_run ();
}
