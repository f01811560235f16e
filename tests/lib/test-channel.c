/* mcastproxy — unit tests of channel paths, playlists and base URLs
 * (mcp-channel). */
#include "config.h"

#include "mcp-channel.h"

#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

/* path parses to the canonical path expected, of the kind given. */
static void
assert_channel (const gchar * path, McpChannelKind kind, const gchar * expected)
{
  McpChannelSpec spec = { 0, };
  GError *err = NULL;
  gchar *canon;

  mcp_channel_parse (path, &spec, &err);
  g_assert_no_error (err);
  g_assert_nonnull (spec.group);
  g_assert_cmpint (spec.kind, ==, kind);
  canon = mcp_channel_to_path (&spec);
  g_assert_cmpstr (canon, ==, expected);
  mcp_channel_spec_clear (&spec);
  g_assert_null (spec.group);
  g_assert_null (spec.source);
  g_free (canon);
}

static void
assert_channel_error (const gchar * path, const gchar * message)
{
  McpChannelSpec spec = { 0, };
  GError *err = NULL;

  g_assert_cmpint (mcp_channel_parse (path, &spec, &err), ==,
      MCP_CHANNEL_PARSE_ERROR);
  g_assert_error (err, MCP_CHANNEL_ERROR, MCP_CHANNEL_ERROR_INVALID);
  g_assert_cmpstr (err->message, ==, message);
  g_assert_null (spec.group);
  g_assert_null (spec.source);
  g_error_free (err);
}

static void
assert_not_channel (const gchar * path)
{
  McpChannelSpec spec = { 0, };
  GError *err = NULL;

  g_assert_cmpint (mcp_channel_parse (path, &spec, &err), ==,
      MCP_CHANNEL_PARSE_NOT_CHANNEL);
  g_assert_no_error (err);
  g_assert_null (spec.group);
}

static void
assert_rewrite (const gchar * in, const gchar * base, const gchar * expected,
    guint rewritten, guint bad)
{
  guint n_rewritten = 99, n_bad = 99;
  gchar *out = mcp_playlist_rewrite (in, strlen (in), base, &n_rewritten,
      &n_bad);

  g_assert_cmpstr (out, ==, expected);
  g_assert_cmpuint (n_rewritten, ==, rewritten);
  g_assert_cmpuint (n_bad, ==, bad);
  g_free (out);
}

static void
test_playlist_suffix (void)
{
  guint n_rewritten = 0, n_bad = 0;
  const gchar *in = "#EXTM3U\n#EXTINF:-1,One\nudp://@239.1.1.1:5000\n"
      "http://elsewhere/x\n";
  gchar *out = mcp_playlist_rewrite_full (in, strlen (in), "http://gw:4022",
      "?token=a%20b", &n_rewritten, &n_bad);

  g_assert_cmpstr (out, ==, "#EXTM3U\n#EXTINF:-1,One\n"
      "http://gw:4022/udp/239.1.1.1:5000?token=a%20b\nhttp://elsewhere/x\n");
  g_assert_cmpuint (n_rewritten, ==, 1);
  g_assert_cmpuint (n_bad, ==, 0);
  g_free (out);
}

static void
assert_base_url (const gchar * host, gboolean tls, const gchar * expected)
{
  gchar *url = mcp_channel_base_url (host, tls, "192.0.2.1", 4022);

  g_assert_cmpstr (url, ==, expected);
  g_free (url);
}

/* ---- paths ------------------------------------------------------------- */

static void
test_parse_udpxy (void)
{
  McpChannelSpec spec = { 0, };
  gchar *s;

  g_assert_cmpint (mcp_channel_parse ("/udp/239.1.1.1:5000", &spec, NULL),
      ==, MCP_CHANNEL_PARSE_OK);
  g_assert_cmpint (spec.kind, ==, MCP_CHANNEL_UDP);
  g_assert_cmpuint (spec.port, ==, 5000);
  g_assert_null (spec.source);
  s = g_inet_address_to_string (spec.group);
  g_assert_cmpstr (s, ==, "239.1.1.1");
  g_free (s);
  mcp_channel_spec_clear (&spec);

  assert_channel ("/udp/239.1.1.1:5000", MCP_CHANNEL_UDP,
      "/udp/239.1.1.1:5000");
  assert_channel ("/rtp/239.1.1.1:5000", MCP_CHANNEL_RTP,
      "/rtp/239.1.1.1:5000");
  assert_channel ("/udp/239.1.1.1:5000/", MCP_CHANNEL_UDP,
      "/udp/239.1.1.1:5000");
  assert_channel ("/udp/224.0.0.1:1", MCP_CHANNEL_UDP, "/udp/224.0.0.1:1");
  assert_channel ("/udp/239.255.255.255:65535", MCP_CHANNEL_UDP,
      "/udp/239.255.255.255:65535");
  assert_channel ("/udp/239.1.1.1:05000", MCP_CHANNEL_UDP,
      "/udp/239.1.1.1:5000");
  /* "@G:P" as players copy it from udp://@G:P: any source */
  assert_channel ("/udp/@239.1.1.1:5000", MCP_CHANNEL_UDP,
      "/udp/239.1.1.1:5000");
}

static void
test_parse_source (void)
{
  McpChannelSpec spec = { 0, };
  gchar *s;

  g_assert_cmpint (mcp_channel_parse ("/rtp/10.0.0.1@232.1.1.1:5000", &spec,
          NULL), ==, MCP_CHANNEL_PARSE_OK);
  g_assert_nonnull (spec.source);
  s = g_inet_address_to_string (spec.source);
  g_assert_cmpstr (s, ==, "10.0.0.1");
  g_free (s);
  mcp_channel_spec_clear (&spec);

  assert_channel ("/rtp/10.0.0.1@232.1.1.1:5000", MCP_CHANNEL_RTP,
      "/rtp/10.0.0.1@232.1.1.1:5000");
  /* a source for a group outside 232/8 is a source filter: allowed */
  assert_channel ("/udp/192.0.2.9@239.1.1.1:1234/", MCP_CHANNEL_UDP,
      "/udp/192.0.2.9@239.1.1.1:1234");
}

static void
test_parse_ipv6 (void)
{
  assert_channel ("/udp/[ff3e::1]:5000", MCP_CHANNEL_UDP,
      "/udp/[ff3e::1]:5000");
  assert_channel ("/udp/[FF3E:0:0:0:0:0:0:1]:5000/", MCP_CHANNEL_UDP,
      "/udp/[ff3e::1]:5000");
  assert_channel ("/udp/[2001:db8::1]@[ff3e::1]:5000", MCP_CHANNEL_UDP,
      "/udp/[2001:db8::1]@[ff3e::1]:5000");
  /* the source ends at "@": brackets are optional there */
  assert_channel ("/rtp/2001:db8::1@[ff3e::1]:5000", MCP_CHANNEL_RTP,
      "/rtp/[2001:db8::1]@[ff3e::1]:5000");
  assert_channel ("/udp/@[ff02::1]:9", MCP_CHANNEL_UDP, "/udp/[ff02::1]:9");
  /* brackets around IPv4 are not needed, but harmless */
  assert_channel ("/udp/[239.1.1.1]:5000", MCP_CHANNEL_UDP,
      "/udp/239.1.1.1:5000");
}

static void
test_parse_percent (void)
{
  assert_channel ("/udp/10.0.0.1%40232.1.1.1%3A5000", MCP_CHANNEL_UDP,
      "/udp/10.0.0.1@232.1.1.1:5000");
  assert_channel ("/udp/%5Bff3e%3a%3a1%5D%3a5000", MCP_CHANNEL_UDP,
      "/udp/[ff3e::1]:5000");
  assert_channel ("/rtp/%32%33%39.1.1.1:5000/", MCP_CHANNEL_RTP,
      "/rtp/239.1.1.1:5000");
  /* an encoded "/" is not the optional trailing one */
  assert_channel_error ("/rtp/239.1.1.1:5000%2f",
      "unexpected \"/\" after \"239.1.1.1:5000\"");
  assert_channel ("/rtp/%40239.1.1.1:5000", MCP_CHANNEL_RTP,
      "/rtp/239.1.1.1:5000");
}

static void
test_parse_not_channel (void)
{
  assert_not_channel ("/");
  assert_not_channel ("");
  assert_not_channel (NULL);
  assert_not_channel ("/stats");
  assert_not_channel ("/udp");
  assert_not_channel ("/udp239.1.1.1:5000");
  assert_not_channel ("/UDP/239.1.1.1:5000");
  assert_not_channel ("//udp/239.1.1.1:5000");
  assert_not_channel ("/status/udp/239.1.1.1:5000");
  assert_not_channel ("/%75dp/239.1.1.1:5000");
  assert_not_channel ("udp/239.1.1.1:5000");
  assert_not_channel ("/foo%zz");
}

static void
test_parse_errors (void)
{
  assert_channel_error ("/udp/239.1.1:5000", "group 239.1.1: not an IP "
      "address");
  assert_channel_error ("/udp/tv.example.com:5000",
      "group tv.example.com: not an IP address");
  assert_channel_error ("/udp/239.1.1.1.1:5000",
      "group 239.1.1.1.1: not an IP address");
  assert_channel_error ("/udp/10.1.2.3:5000",
      "group 10.1.2.3 is not a multicast address");
  assert_channel_error ("/udp/[2001:db8::5]:5000",
      "group 2001:db8::5 is not a multicast address");
  assert_channel_error ("/udp/232.1.1.1@10.0.0.1:5000",
      "group 10.0.0.1 is not a multicast address (the form is "
      "SOURCE@GROUP:PORT)");
  assert_channel_error ("/udp/239.1.1.1:70000",
      "bad port \"70000\": must be 1-65535");
  assert_channel_error ("/udp/239.1.1.1:0", "bad port \"0\": must be 1-65535");
  assert_channel_error ("/udp/239.1.1.1:", "bad port \"\": must be 1-65535");
  assert_channel_error ("/udp/239.1.1.1:99999999999999999999999",
      "bad port \"99999999999999999999999\": must be 1-65535");
  assert_channel_error ("/udp/239.1.1.1:5a", "bad port \"5a\": must be "
      "1-65535");
  assert_channel_error ("/udp/239.1.1.1", "missing :PORT after the group");
  assert_channel_error ("/udp/[ff3e::1]", "missing :PORT after the group");
  assert_channel_error ("/udp/[ff3e::1:5000", "missing \"]\" after "
      "\"[ff3e::1:5000\"");
  assert_channel_error ("/udp/[ff3e::1]5000", "unexpected \"5\" after "
      "\"[ff3e::1]\"");
  assert_channel_error ("/udp/ff3e::1:5000",
      "an IPv6 group needs brackets: [ff3e::1]:5000");
  assert_channel_error ("/udp/:5000", "missing the group before \":5000\"");
  assert_channel_error ("/udp/", "missing the channel: GROUP:PORT or "
      "SOURCE@GROUP:PORT");
  assert_channel_error ("/udp//", "missing the channel: GROUP:PORT or "
      "SOURCE@GROUP:PORT");
  assert_channel_error ("/udp/239.1.1.1:5000//",
      "unexpected \"/\" after \"239.1.1.1:5000\"");
  assert_channel_error ("/udp/239.1.1.1:5000/x",
      "unexpected \"/\" after \"239.1.1.1:5000\"");
  assert_channel_error ("/udp/239.1.1.1 :5000",
      "unexpected \" \" after \"239.1.1.1\"");
  assert_channel_error ("/udp/239.1.1.1%0a:5000",
      "unexpected byte 0x0a after \"239.1.1.1\"");
  assert_channel_error ("/udp/%00239.1.1.1:5000",
      "unexpected byte 0x00 at the start of the channel");
  assert_channel_error ("/udp/239.1.1.1:5000%00",
      "unexpected byte 0x00 after \"239.1.1.1:5000\"");
  /* the first bad byte is named, what follows is not shown */
  assert_channel_error ("/udp/232.1.\xd2\xcf:5/%00x",
      "unexpected byte 0xd2 after \"232.1.\"");
  assert_channel_error ("/udp/232.1.%C3%A9:5", "unexpected byte 0xc3 after "
      "\"232.1.\"");
  assert_channel_error ("/udp/\"239.1.1.1:5000",
      "unexpected byte 0x22 at the start of the channel");
  assert_channel_error ("/udp/239.1.1.1:5000%zz",
      "bad percent-encoding \"%zz\"");
  assert_channel_error ("/udp/239.1.1.1:5000%4", "bad percent-encoding "
      "\"%4\"");
  assert_channel_error ("/udp/239.1.1.1:5000%", "bad percent-encoding "
      "\"%\"");
  assert_channel_error ("/udp/1.2.3.4@5.6.7.8@239.1.1.1:5000",
      "unexpected \"@\" after \"1.2.3.4@5.6.7.8\"");
  assert_channel_error ("/udp/[]@239.1.1.1:5000",
      "missing the source before \"@\"");
  assert_channel_error ("/udp/10.0.0@232.1.1.1:5000",
      "source 10.0.0: not an IP address");
  assert_channel_error ("/udp/239.9.9.9@232.1.1.1:5000",
      "source 239.9.9.9 is a multicast address: a source-specific group "
      "needs a unicast source");
  assert_channel_error ("/udp/[2001:db8::1]@232.1.1.1:5000",
      "source 2001:db8::1 is IPv6 but group 232.1.1.1 is IPv4");
  assert_channel_error ("/udp/10.0.0.1@[ff3e::1]:5000",
      "source 10.0.0.1 is IPv4 but group ff3e::1 is IPv6");
  assert_channel_error ("/udp/[ff3e::1%25lo]:5000",
      "unexpected \"%\" after \"[ff3e::1\"");
  assert_channel_error ("/udp/[ff3e::1%lo]:5000",
      "bad percent-encoding \"%lo\"");
  assert_channel_error ("/udp/[10.0.0.1]:5000",
      "group 10.0.0.1 is not a multicast address");
}

static void
test_parse_too_long (void)
{
  GString *path = g_string_new ("/udp/");
  gchar *expected;

  while (path->len < 5 + 200)
    g_string_append (path, "0");
  g_string_append (path, "239.1.1.1:5000");
  expected = g_strdup_printf ("channel too long (%" G_GSIZE_FORMAT
      " characters)", path->len - 5);
  assert_channel_error (path->str, expected);
  g_free (expected);
  g_string_free (path, TRUE);
}

/* The spec can be refilled after a clear, and a failed parse leaves it
 * untouched. */
static void
test_spec_reuse (void)
{
  McpChannelSpec spec = { 0, };
  gchar *s;

  g_assert_cmpint (mcp_channel_parse ("/udp/10.0.0.1@232.1.1.1:5000", &spec,
          NULL), ==, MCP_CHANNEL_PARSE_OK);
  mcp_channel_spec_clear (&spec);
  g_assert_cmpint (mcp_channel_parse ("/udp/10.0.0.1@232.1.1.1:0", &spec,
          NULL), ==, MCP_CHANNEL_PARSE_ERROR);
  g_assert_null (spec.group);
  g_assert_cmpint (mcp_channel_parse ("/rtp/[ff3e::9]:7", &spec, NULL), ==,
      MCP_CHANNEL_PARSE_OK);
  s = mcp_channel_to_path (&spec);
  g_assert_cmpstr (s, ==, "/rtp/[ff3e::9]:7");
  g_free (s);
  mcp_channel_spec_clear (&spec);
  mcp_channel_spec_clear (&spec);
}

/* ---- playlists --------------------------------------------------------- */

static void
test_playlist_lf (void)
{
  assert_rewrite ("#EXTM3U\n"
      "#EXTINF:-1 tvg-logo=\"udp://x\",One\n"
      "udp://@239.1.1.1:5000\n"
      "#EXTINF:-1,Two\n"
      "rtp://@239.1.1.2:5000\n"
      "#EXTINF:-1,Three\n"
      "udp://10.0.0.1@232.1.1.3:1234\n"
      "#EXTINF:-1,Four\n"
      "udp://239.1.1.4:5000\n"
      "#EXTINF:-1,Five\n"
      "http://example.com/five.ts\n"
      "\n"
      "# a comment\n",
      "http://gw:4022",
      "#EXTM3U\n"
      "#EXTINF:-1 tvg-logo=\"udp://x\",One\n"
      "http://gw:4022/udp/239.1.1.1:5000\n"
      "#EXTINF:-1,Two\n"
      "http://gw:4022/rtp/239.1.1.2:5000\n"
      "#EXTINF:-1,Three\n"
      "http://gw:4022/udp/10.0.0.1@232.1.1.3:1234\n"
      "#EXTINF:-1,Four\n"
      "http://gw:4022/udp/239.1.1.4:5000\n"
      "#EXTINF:-1,Five\n"
      "http://example.com/five.ts\n" "\n" "# a comment\n", 4, 0);
}

static void
test_playlist_crlf (void)
{
  /* CRLF kept, the missing final newline kept missing */
  assert_rewrite ("#EXTM3U\r\n#EXTINF:-1,One\r\nudp://@239.1.1.1:5000\r\n"
      "#EXTINF:-1,Two\r\nUDP://@[ff3e::2]:5000",
      "https://gw.example:8443/",
      "#EXTM3U\r\n#EXTINF:-1,One\r\n"
      "https://gw.example:8443/udp/239.1.1.1:5000\r\n"
      "#EXTINF:-1,Two\r\nhttps://gw.example:8443/udp/[ff3e::2]:5000", 2, 0);
  /* mixed line ends, blanks around a URL */
  assert_rewrite ("  udp://@239.1.1.1:5000 \t\r\n\tudp://@239.1.1.2:5000\n"
      "\r\n\n", "http://gw",
      "  http://gw/udp/239.1.1.1:5000 \t\r\n\thttp://gw/udp/239.1.1.2:5000\n"
      "\r\n\n", 2, 0);
}

static void
test_playlist_url_forms (void)
{
  assert_rewrite ("udp://@239.1.1.1:5000/\n"
      "udp://@239.1.1.1:5000?pkt_size=1316&fifo_size=100000\n"
      "udp://@239.1.1.1:5000?sources=10.0.0.1\n"
      "udp://239.1.1.1:5000?localaddr=192.0.2.1&sources=10.0.0.1&x=1\n"
      "udp://@239.1.1.1:5000#frag\n"
      "rtp://[2001:db8::1]@[ff3e::1]:5000/path?q\n"
      "udp://10.0.0.1%40232.1.1.1:5000\n", "http://gw:4022",
      "http://gw:4022/udp/239.1.1.1:5000\n"
      "http://gw:4022/udp/239.1.1.1:5000\n"
      "http://gw:4022/udp/10.0.0.1@239.1.1.1:5000\n"
      "http://gw:4022/udp/10.0.0.1@239.1.1.1:5000\n"
      "http://gw:4022/udp/239.1.1.1:5000\n"
      "http://gw:4022/rtp/[2001:db8::1]@[ff3e::1]:5000\n"
      "http://gw:4022/udp/10.0.0.1@232.1.1.1:5000\n", 7, 0);
}

static void
test_playlist_bad (void)
{
  const gchar *in = "#EXTM3U\n"
      "udp://@239.1.1:5000\n"
      "udp://@10.0.0.1:5000\r\n"
      "udp://@239.1.1.1\n"
      "rtp://\n"
      "udp://@239.1.1.1:5000?sources=10.0.0.1,10.0.0.2\n"
      "udp://10.0.0.3@239.1.1.1:5000?sources=10.0.0.1\n"
      "udp://tv.example.com:5000\n" "udp://@239.1.1.9:5000\n";
  gchar *expected = g_strdup (in);
  gchar *p = strstr (expected, "udp://@239.1.1.9:5000");

  /* all but the last stay as they are */
  g_assert_nonnull (p);
  *p = '\0';
  p = g_strconcat (expected, "http://gw/udp/239.1.1.9:5000\n", NULL);
  assert_rewrite (in, "http://gw", p, 1, 7);
  g_free (p);
  g_free (expected);
}

static void
test_playlist_edges (void)
{
  guint n_rewritten = 7, n_bad = 7;
  gchar *out;
  static const gchar with_nul[] = "#EXTM3U\nudp://@239.1.1.1:5000\n\0"
      "udp://@239.1.1.2:5000\n";

  assert_rewrite ("", "http://gw", "", 0, 0);
  assert_rewrite ("\n", "http://gw", "\n", 0, 0);
  assert_rewrite ("\r", "http://gw", "\r", 0, 0);
  assert_rewrite ("udp://@239.1.1.1:5000", "http://gw",
      "http://gw/udp/239.1.1.1:5000", 1, 0);
  /* not at the start of the line: not a URL line */
  assert_rewrite ("x udp://@239.1.1.1:5000\n", "http://gw",
      "x udp://@239.1.1.1:5000\n", 0, 0);

  /* len is respected, and the text ends at a NUL */
  out = mcp_playlist_rewrite ("udp://@239.1.1.1:5000\nudp://", 22, "http://gw",
      &n_rewritten, &n_bad);
  g_assert_cmpstr (out, ==, "http://gw/udp/239.1.1.1:5000\n");
  g_assert_cmpuint (n_rewritten, ==, 1);
  g_assert_cmpuint (n_bad, ==, 0);
  g_free (out);
  out = mcp_playlist_rewrite (with_nul, sizeof (with_nul) - 1, "http://gw",
      NULL, NULL);
  g_assert_cmpstr (out, ==, "#EXTM3U\nhttp://gw/udp/239.1.1.1:5000\n");
  g_free (out);
  out = mcp_playlist_rewrite (NULL, 0, "http://gw", &n_rewritten, &n_bad);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpuint (n_rewritten + n_bad, ==, 0);
  g_free (out);
}

/* Latin-1 and other bytes in names pass through untouched. */
static void
test_playlist_bytes (void)
{
  const gchar in[] = "#EXTINF:-1,Caf\xe9 \xff\xfe\x01\n"
      "udp://@239.1.1.1:5000\n";
  gchar *out = mcp_playlist_rewrite (in, sizeof (in) - 1, "http://gw", NULL,
      NULL);

  g_assert_cmpstr (out, ==, "#EXTINF:-1,Caf\xe9 \xff\xfe\x01\n"
      "http://gw/udp/239.1.1.1:5000\n");
  g_free (out);
}

/* ---- base URL ---------------------------------------------------------- */

static void
test_base_url (void)
{
  assert_base_url ("gw:4022", FALSE, "http://gw:4022");
  assert_base_url ("gw", FALSE, "http://gw");
  assert_base_url ("gw.example.net", TRUE, "https://gw.example.net");
  assert_base_url ("tv_gw-1.example:8443", TRUE,
      "https://tv_gw-1.example:8443");
  assert_base_url ("192.0.2.7:4022", FALSE, "http://192.0.2.7:4022");
  assert_base_url ("[2001:db8::7]:4022", FALSE, "http://[2001:db8::7]:4022");
  assert_base_url ("[2001:db8::7]", FALSE, "http://[2001:db8::7]");
  assert_base_url ("  gw:4022\t", FALSE, "http://gw:4022");
  assert_base_url ("gw:1", FALSE, "http://gw:1");
  assert_base_url ("gw:65535", FALSE, "http://gw:65535");
}

static void
test_base_url_refused (void)
{
  const gchar *hostile[] = { NULL, "", " ", "gw:", "gw:0", "gw:65536",
    "gw:99999999", "gw:+80", "gw:80x", ":80", "gw 4022", "gw\r\nX-Evil: 1",
    "gw\n", "gw/path", "user@gw", "\"gw\"", "'gw'", "gw:80:80", "[gw]:80",
    "[2001:db8::7", "2001:db8::7", "[2001:db8::7]x", "[]:80", "[::1]:",
    "[192.0.2.1]", "gw<script>", "g\xc3\xa9", "gw\\x", "gw%20", "gw?x",
    "gw#x",
  };
  GString *long_host = g_string_new (NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (hostile); i++)
    assert_base_url (hostile[i], FALSE, "http://192.0.2.1:4022");
  while (long_host->len < 256)
    g_string_append_c (long_host, 'a');
  assert_base_url (long_host->str, FALSE, "http://192.0.2.1:4022");
  g_string_set_size (long_host, 255);
  {
    gchar *expected = g_strconcat ("http://", long_host->str, NULL);

    assert_base_url (long_host->str, FALSE, expected);
    g_free (expected);
  }
  g_string_free (long_host, TRUE);
}

static void
test_base_url_fallback (void)
{
  gchar *url;

  url = mcp_channel_base_url (NULL, TRUE, "2001:db8::1", 443);
  g_assert_cmpstr (url, ==, "https://[2001:db8::1]:443");
  g_free (url);
  url = mcp_channel_base_url ("bad host", FALSE, "[2001:db8::1]", 80);
  g_assert_cmpstr (url, ==, "http://[2001:db8::1]:80");
  g_free (url);
  url = mcp_channel_base_url (NULL, FALSE, NULL, 4022);
  g_assert_cmpstr (url, ==, "http://localhost:4022");
  g_free (url);
  url = mcp_channel_base_url ("", FALSE, "", 4022);
  g_assert_cmpstr (url, ==, "http://localhost:4022");
  g_free (url);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/channel/parse/udpxy", test_parse_udpxy);
  g_test_add_func ("/channel/playlist/suffix", test_playlist_suffix);
  g_test_add_func ("/channel/parse/source", test_parse_source);
  g_test_add_func ("/channel/parse/ipv6", test_parse_ipv6);
  g_test_add_func ("/channel/parse/percent", test_parse_percent);
  g_test_add_func ("/channel/parse/not-channel", test_parse_not_channel);
  g_test_add_func ("/channel/parse/errors", test_parse_errors);
  g_test_add_func ("/channel/parse/too-long", test_parse_too_long);
  g_test_add_func ("/channel/spec-reuse", test_spec_reuse);
  g_test_add_func ("/channel/playlist/lf", test_playlist_lf);
  g_test_add_func ("/channel/playlist/crlf", test_playlist_crlf);
  g_test_add_func ("/channel/playlist/url-forms", test_playlist_url_forms);
  g_test_add_func ("/channel/playlist/bad", test_playlist_bad);
  g_test_add_func ("/channel/playlist/edges", test_playlist_edges);
  g_test_add_func ("/channel/playlist/bytes", test_playlist_bytes);
  g_test_add_func ("/channel/base-url", test_base_url);
  g_test_add_func ("/channel/base-url/refused", test_base_url_refused);
  g_test_add_func ("/channel/base-url/fallback", test_base_url_fallback);

  return g_test_run ();
}
