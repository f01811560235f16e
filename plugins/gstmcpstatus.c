/* mcastproxy — /status and /metrics of a channel gateway (see
 * gstmcpstatus.h). */
#include "config.h"

#include "gstmcpstatus.h"

#include <string.h>

static guint64
u64 (const GstStructure * s, const gchar * name)
{
  guint64 v = 0;
  guint u;

  if (gst_structure_get_uint64 (s, name, &v))
    return v;
  if (gst_structure_get_uint (s, name, &u))
    return u;
  return 0;
}

static const gchar *
str (const GstStructure * s, const gchar * name)
{
  const gchar *v = gst_structure_get_string (s, name);

  return v ? v : "";
}

static void
append_escaped (GString * out, const gchar * text)
{
  gchar *e = g_markup_escape_text (text, -1);

  g_string_append (out, e);
  g_free (e);
}

/* "4.1 Mbit/s" from bytes over ns */
static void
append_rate (GString * out, guint64 bytes, guint64 ns)
{
  gdouble bits = ns ? bytes * 8.0 / (ns / 1e9) : 0;

  if (bits >= 1e6)
    g_string_append_printf (out, "%.1f Mbit/s", bits / 1e6);
  else
    g_string_append_printf (out, "%.0f kbit/s", bits / 1e3);
}

static void
append_duration (GString * out, guint64 ns)
{
  guint64 s = ns / GST_SECOND;

  if (s >= 3600)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT " h %02u min",
        s / 3600, (guint) (s / 60 % 60));
  else if (s >= 60)
    g_string_append_printf (out, "%u min %02u s", (guint) (s / 60),
        (guint) (s % 60));
  else
    g_string_append_printf (out, "%u s", (guint) s);
}

gchar *
gst_mcp_status_html (const GstStructure * stats)
{
  GString *out = g_string_new (NULL);
  const GValue *list = gst_structure_get_value (stats, "channel-list");
  guint i, n = list ? gst_value_array_get_size (list) : 0;

  g_string_append (out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"><title>mcastgateway</title><style>"
      "body{font-family:sans-serif;margin:0.5em}"
      "table{border-collapse:collapse;width:100%;margin-bottom:1em}"
      "td,th{border-bottom:1px solid #ccc;padding:0.2em 0.4em;"
      "text-align:left;font-size:0.9em}"
      "h2{font-size:1.05em;margin:1em 0 0.3em;word-break:break-all}"
      "</style></head><body>\n<h1>mcastgateway</h1>\n<p>");
  g_string_append_printf (out, "%u channels, %u clients, up ",
      (guint) u64 (stats, "channels"), (guint) u64 (stats, "clients"));
  append_duration (out, u64 (stats, "uptime-duration"));
  g_string_append_printf (out, "; %" G_GUINT64_FORMAT " requests, %"
      G_GUINT64_FORMAT " refused</p>\n", u64 (stats, "requests"),
      u64 (stats, "requests-bad") + u64 (stats, "requests-unauthorized")
      + u64 (stats, "requests-forbidden") + u64 (stats,
          "requests-refused-limit"));
  if (n == 0)
    g_string_append (out, "<p>No channel is joined.</p>\n");

  for (i = 0; i < n; i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (list, i));
    const GValue *clients = gst_structure_get_value (c, "client-list");
    guint j, m = clients ? gst_value_array_get_size (clients) : 0;
    guint64 joined = u64 (c, "joined-duration");

    g_string_append (out, "<h2>");
    append_escaped (out, str (c, "path"));
    g_string_append (out, "</h2>\n<p>");
    append_escaped (out, *str (c, "content-type") ? str (c, "content-type") :
        "waiting for the first datagram");
    g_string_append (out, ", in ");
    append_rate (out, u64 (c, "bytes-received"), joined);
    g_string_append_printf (out, ", %u clients, joined ",
        (guint) u64 (c, "clients"));
    append_duration (out, joined);
    g_string_append_printf (out, ", dropped %" G_GUINT64_FORMAT
        "%s</p>\n", u64 (c, "datagrams-dropped"),
        gst_structure_has_field (c, "lingering")
        && g_value_get_boolean (gst_structure_get_value (c, "lingering")) ?
        ", lingering" : "");
    if (m == 0)
      continue;
    g_string_append (out, "<table><tr><th>client</th><th>rate</th>"
        "<th>connected</th><th>dropped</th></tr>\n");
    for (j = 0; j < m; j++) {
      const GstStructure *cl =
          gst_value_get_structure (gst_value_array_get_value (clients, j));
      guint64 connected = u64 (cl, "connect-duration");

      g_string_append (out, "<tr><td>");
      append_escaped (out, str (cl, "address"));
      g_string_append (out, "</td><td>");
      append_rate (out, u64 (cl, "bytes-sent"), connected);
      g_string_append (out, "</td><td>");
      append_duration (out, connected);
      g_string_append_printf (out, "</td><td>%" G_GUINT64_FORMAT
          "</td></tr>\n", u64 (cl, "buffers-dropped"));
    }
    g_string_append (out, "</table>\n");
  }
  g_string_append (out, "</body></html>\n");
  return g_string_free (out, FALSE);
}

static void
family (GString * out, const gchar * name, const gchar * type,
    const gchar * help)
{
  mcp_prom_family (out, name, type, help);
}

/* One gauge or counter with a sample per channel. */
static void
per_channel (GString * out, const GValue * list, const gchar * name,
    const gchar * type, const gchar * help, const gchar * field)
{
  guint i, n = list ? gst_value_array_get_size (list) : 0;

  family (out, name, type, help);
  for (i = 0; i < n; i++) {
    const GstStructure *c =
        gst_value_get_structure (gst_value_array_get_value (list, i));
    const gchar *labels[] = { "channel", str (c, "path"), NULL };

    mcp_prom_sample (out, name, labels, (gdouble) u64 (c, field));
  }
}

gchar *
gst_mcp_status_metrics (const GstStructure * stats,
    const McpPromHistogram * zap)
{
  GString *out = g_string_new (NULL);
  const GValue *list = gst_structure_get_value (stats, "channel-list");
  static const struct
  {
    const gchar *status, *field;
  } refusals[] = {
    {"400", "requests-bad"},
    {"401", "requests-unauthorized"},
    {"403", "requests-forbidden"},
    {"404", "requests-not-found"},
    {"503", "requests-refused-limit"},
    {"504", "requests-timed-out"},
  };
  guint i;

  family (out, "mcastgateway_channels", "gauge", "Channels joined now");
  mcp_prom_sample (out, "mcastgateway_channels", NULL,
      (gdouble) u64 (stats, "channels"));
  family (out, "mcastgateway_clients", "gauge", "Clients served now");
  mcp_prom_sample (out, "mcastgateway_clients", NULL,
      (gdouble) u64 (stats, "clients"));
  family (out, "mcastgateway_requests_total", "counter",
      "HTTP requests received");
  mcp_prom_sample (out, "mcastgateway_requests_total", NULL,
      (gdouble) u64 (stats, "requests"));
  family (out, "mcastgateway_requests_refused_total", "counter",
      "HTTP requests answered with an error, by status");
  for (i = 0; i < G_N_ELEMENTS (refusals); i++) {
    const gchar *labels[] = { "status", refusals[i].status, NULL };

    mcp_prom_sample (out, "mcastgateway_requests_refused_total", labels,
        (gdouble) u64 (stats, refusals[i].field));
  }
  family (out, "mcastgateway_joins_total", "counter",
      "Channels joined (first client)");
  mcp_prom_sample (out, "mcastgateway_joins_total", NULL,
      (gdouble) u64 (stats, "channels-opened"));
  family (out, "mcastgateway_leaves_total", "counter",
      "Channels left (linger after the last client over)");
  mcp_prom_sample (out, "mcastgateway_leaves_total", NULL,
      (gdouble) u64 (stats, "channels-closed"));
  family (out, "mcastgateway_connections_refused_total", "counter",
      "Connections turned away (allow-list, max-clients, TLS, timeout)");
  mcp_prom_sample (out, "mcastgateway_connections_refused_total", NULL,
      (gdouble) u64 (stats, "connections-refused"));

  per_channel (out, list, "mcastgateway_channel_clients", "gauge",
      "Clients of the channel", "clients");
  per_channel (out, list, "mcastgateway_channel_datagrams_received_total",
      "counter", "Datagrams received", "datagrams-received");
  per_channel (out, list, "mcastgateway_channel_bytes_received_total",
      "counter", "Bytes received (datagram payload)", "bytes-received");
  per_channel (out, list, "mcastgateway_channel_datagrams_sent_total",
      "counter", "Datagrams sent, summed over clients", "datagrams-sent");
  per_channel (out, list, "mcastgateway_channel_bytes_sent_total",
      "counter", "Bytes sent, summed over clients", "bytes-sent");
  per_channel (out, list, "mcastgateway_channel_datagrams_dropped_total",
      "counter", "Datagrams slow clients skipped", "datagrams-dropped");
  per_channel (out, list, "mcastgateway_channel_bursts_total", "counter",
      "Clients that started with a key-frame burst", "bursts");

  family (out, "mcastgateway_zap_seconds", "histogram",
      "Time from a channel request to its answer (the first datagram, for "
      "a channel not yet joined)");
  mcp_prom_histogram_write (out, "mcastgateway_zap_seconds", NULL, zap);
  return g_string_free (out, FALSE);
}
