/* mcastproxy fuzzing — channel paths and playlists (mcp-channel).
 *
 * Input: byte 0 even: the rest (up to a NUL) is a request path for
 * mcp_channel_parse; byte 0 odd: the rest is a playlist for
 * mcp_playlist_rewrite, with base "http://gw:4022" (bit 1 of byte 0:
 * "https://[2001:db8::1]:8443/"); and every line of it also goes to
 * mcp_channel_base_url as a Host header.
 *
 * Checks: exactly one outcome; NOT_CHANNEL exactly for paths not under
 * /udp/ or /rtp/; an error has a one-line message; a channel is a
 * multicast group, a port, and a unicast source of its family or none,
 * and its canonical path parses back to the same channel (also as a
 * playlist URL). A rewritten playlist has the same lines: all but the
 * udp:// and rtp:// ones byte for byte, those either as they were
 * (counted bad) or base + a canonical path between the same blanks. A
 * base URL is http:// and then only host characters.
 */
#include "config.h"

#include "mcp-channel.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
assert_same_spec (const McpChannelSpec * a, const McpChannelSpec * b)
{
  g_assert_cmpint (a->kind, ==, b->kind);
  g_assert_true (g_inet_address_equal (a->group, b->group));
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_true ((a->source == NULL) == (b->source == NULL));
  if (a->source)
    g_assert_true (g_inet_address_equal (a->source, b->source));
}

/* A canonical path parses to spec, and is its own canonical form. */
static void
check_canonical (const gchar * path, const McpChannelSpec * spec)
{
  McpChannelSpec again = { 0, };
  GError *err = NULL;
  gchar *path2;

  g_assert_cmpint (mcp_channel_parse (path, &again, &err), ==,
      MCP_CHANNEL_PARSE_OK);
  g_assert_no_error (err);
  assert_same_spec (spec, &again);
  path2 = mcp_channel_to_path (&again);
  g_assert_cmpstr (path2, ==, path);
  g_free (path2);
  mcp_channel_spec_clear (&again);
}

static void
fuzz_path (const gchar * path)
{
  McpChannelSpec spec = { 0, };
  GError *err = NULL;
  McpChannelParseResult res = mcp_channel_parse (path, &spec, &err);
  gboolean under = g_str_has_prefix (path, "/udp/")
      || g_str_has_prefix (path, "/rtp/");
  gchar *canon, *url, *rewritten, *expected;
  guint n_rewritten, n_bad;

  switch (res) {
    case MCP_CHANNEL_PARSE_NOT_CHANNEL:
      g_assert_false (under);
      g_assert_no_error (err);
      g_assert_null (spec.group);
      return;
    case MCP_CHANNEL_PARSE_ERROR:
      g_assert_true (under);
      g_assert_error (err, MCP_CHANNEL_ERROR, MCP_CHANNEL_ERROR_INVALID);
      g_assert_cmpuint (strlen (err->message), >, 0);
      g_assert_null (strchr (err->message, '\n'));
      g_assert_true (g_utf8_validate (err->message, -1, NULL));
      g_assert_null (spec.group);
      g_assert_null (spec.source);
      g_error_free (err);
      return;
    case MCP_CHANNEL_PARSE_OK:
      break;
    default:
      g_assert_not_reached ();
  }
  g_assert_true (under);
  g_assert_no_error (err);
  g_assert_cmpint (spec.kind, ==, path[1] == 'u' ? MCP_CHANNEL_UDP :
      MCP_CHANNEL_RTP);
  g_assert_true (g_inet_address_get_is_multicast (spec.group));
  g_assert_cmpuint (spec.port, >, 0);
  if (spec.source) {
    g_assert_false (g_inet_address_get_is_multicast (spec.source));
    g_assert_cmpint (g_inet_address_get_family (spec.source), ==,
        g_inet_address_get_family (spec.group));
  }

  canon = mcp_channel_to_path (&spec);
  check_canonical (canon, &spec);

  /* the same channel as a playlist URL */
  url = g_strdup_printf ("%s://%s\n", spec.kind == MCP_CHANNEL_UDP ? "udp" :
      "rtp", canon + 5);
  rewritten = mcp_playlist_rewrite (url, strlen (url), "http://gw",
      &n_rewritten, &n_bad);
  expected = g_strdup_printf ("http://gw%s\n", canon);
  g_assert_cmpstr (rewritten, ==, expected);
  g_assert_cmpuint (n_rewritten, ==, 1);
  g_assert_cmpuint (n_bad, ==, 0);
  g_free (expected);
  g_free (rewritten);
  g_free (url);
  g_free (canon);
  mcp_channel_spec_clear (&spec);
}

static gboolean
is_blank (gchar c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

/* Where the blanks around line[0..len) end and start again. */
static void
trim (const gchar * line, gsize len, gsize * s, gsize * e)
{
  *s = 0;
  *e = len;
  while (*s < *e && is_blank (line[*s]))
    (*s)++;
  while (*e > *s && is_blank (line[*e - 1]))
    (*e)--;
}

static void
check_base_url (const gchar * host, gsize len)
{
  gchar *header = g_strndup (host, len);
  gchar *url = mcp_channel_base_url (header, FALSE, "192.0.2.1", 4022);
  const gchar *c;

  g_assert_true (g_str_has_prefix (url, "http://"));
  g_assert_cmpuint (strlen (url), >, 7);
  for (c = url + 7; *c; c++)
    g_assert_true (g_ascii_isalnum (*c) || strchr ("-._:[]", *c));
  g_free (url);
  g_free (header);
}

static void
fuzz_playlist (const gchar * text, gsize len, const gchar * base)
{
  guint n_rewritten, n_bad, n_url = 0, n_changed = 0;
  gchar *out = mcp_playlist_rewrite (text, len, base, &n_rewritten, &n_bad);
  gchar **in_lines, **out_lines, *in;
  gsize base_len = strlen (base) - (g_str_has_suffix (base, "/") ? 1 : 0);
  guint i;

  /* the playlist ends at a NUL */
  in = g_strndup (text, len);
  in_lines = g_strsplit (in, "\n", -1);
  out_lines = g_strsplit (out, "\n", -1);
  g_assert_cmpuint (g_strv_length (in_lines), ==, g_strv_length (out_lines));

  for (i = 0; in_lines[i]; i++) {
    const gchar *a = in_lines[i], *b = out_lines[i];
    gsize s, e, bs, be;
    gboolean url;

    check_base_url (a, strlen (a));
    trim (a, strlen (a), &s, &e);
    url = e - s >= 6 && (g_ascii_strncasecmp (a + s, "udp://", 6) == 0
        || g_ascii_strncasecmp (a + s, "rtp://", 6) == 0);
    if (!url || strcmp (a, b) == 0) {
      g_assert_cmpstr (a, ==, b);
      n_url += url;
      continue;
    }
    n_url++;
    n_changed++;
    /* the same blanks around base + a canonical path */
    trim (b, strlen (b), &bs, &be);
    g_assert_cmpuint (bs, ==, s);
    g_assert_cmpuint (strlen (b) - be, ==, strlen (a) - e);
    g_assert_cmpmem (a, s, b, s);
    g_assert_cmpstr (a + e, ==, b + be);
    g_assert_cmpuint (be - bs, >, base_len);
    g_assert_cmpmem (b + bs, base_len, base, base_len);
    {
      gchar *path = g_strndup (b + bs + base_len, be - bs - base_len);
      McpChannelSpec spec = { 0, };

      g_assert_cmpint (mcp_channel_parse (path, &spec, NULL), ==,
          MCP_CHANNEL_PARSE_OK);
      g_assert_cmpint (spec.kind, ==, g_ascii_tolower (a[s]) == 'u' ?
          MCP_CHANNEL_UDP : MCP_CHANNEL_RTP);
      check_canonical (path, &spec);
      mcp_channel_spec_clear (&spec);
      g_free (path);
    }
  }
  g_assert_cmpuint (n_rewritten, ==, n_changed);
  g_assert_cmpuint (n_rewritten + n_bad, ==, n_url);

  g_strfreev (in_lines);
  g_strfreev (out_lines);
  g_free (in);
  g_free (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  if (size < 1)
    return 0;
  if ((data[0] & 1) == 0) {
    gchar *path = g_strndup ((const gchar *) data + 1, size - 1);

    fuzz_path (path);
    g_free (path);
  } else {
    fuzz_playlist ((const gchar *) data + 1, size - 1,
        (data[0] & 2) ? "https://[2001:db8::1]:8443/" : "http://gw:4022");
  }
  return 0;
}
