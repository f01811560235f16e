/* mcastproxy — channel URLs of a udpxy/msd_lite style gateway, and M3U
 * playlists rewritten to point at it. */
#include "config.h"

#include "mcp-channel.h"
#include "mcp-address.h"

#include <string.h>

/* *INDENT-OFF* */
G_DEFINE_QUARK (mcp-channel-error-quark, mcp_channel_error);
/* *INDENT-ON* */

/* The longest channel text, decoded: two bracketed IPv6 addresses written
 * out in full, "@", ":" and a port need about 100. */
#define MAX_CHANNEL_LEN 128

/* *INDENT-OFF* */
static void set_error (GError ** error, const gchar * format, ...)
    G_GNUC_PRINTF (2, 3);
/* *INDENT-ON* */

static void
set_error (GError ** error, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MCP_CHANNEL_ERROR, MCP_CHANNEL_ERROR_INVALID,
      msg);
  g_free (msg);
}

/* What may appear in a channel once decoded: the unreserved characters of
 * RFC 3986 (so that a host name is refused as "not an IP address") and
 * the delimiters of SOURCE@GROUP:PORT. */
static gboolean
channel_char (gchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr (".-_~:@[]", c));
}

/* Percent-decodes text[0..len) into a string of *out_len bytes; NULL with
 * an error on a bad escape. */
static gchar *
percent_decode (const gchar * text, gsize len, gsize * out_len, GError ** error)
{
  GString *out = g_string_sized_new (len);
  gsize i;

  for (i = 0; i < len; i++) {
    gint hi, lo;

    if (text[i] != '%') {
      g_string_append_c (out, text[i]);
      continue;
    }
    hi = i + 1 < len ? g_ascii_xdigit_value (text[i + 1]) : -1;
    lo = i + 2 < len ? g_ascii_xdigit_value (text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      gchar *bad = g_strndup (text + i, MIN (3, len - i));
      gchar *shown = g_strescape (bad, NULL);

      set_error (error, "bad percent-encoding \"%s\"", shown);
      g_free (shown);
      g_free (bad);
      g_string_free (out, TRUE);
      return NULL;
    }
    g_string_append_c (out, (gchar) (hi << 4 | lo));
    i += 2;
  }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* Refuses a character at text + at, naming what came before it (which is
 * made of channel characters only, so it prints as it is). */
static void
set_unexpected (GError ** error, const gchar * text, gsize at)
{
  guchar c = text[at];

  if (g_ascii_isprint (c) && c != '"') {
    if (at == 0)
      set_error (error, "unexpected \"%c\" at the start of the channel", c);
    else
      set_error (error, "unexpected \"%c\" after \"%.*s\"", c, (gint) at, text);
  } else {
    if (at == 0)
      set_error (error, "unexpected byte 0x%02x at the start of the channel",
          c);
    else
      set_error (error, "unexpected byte 0x%02x after \"%.*s\"", c, (gint) at,
          text);
  }
}

static gboolean
parse_port (const gchar * text, guint16 * port, GError ** error)
{
  guint64 v = 0;
  const gchar *c;

  for (c = text; g_ascii_isdigit (*c) && v <= G_MAXUINT16; c++)
    v = v * 10 + (*c - '0');
  if (*text == '\0' || *c != '\0' || v == 0 || v > G_MAXUINT16) {
    set_error (error, "bad port \"%s\": must be 1-65535", text);
    return FALSE;
  }
  *port = v;
  return TRUE;
}

static gboolean
is_ipv6 (GInetAddress * addr)
{
  return g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6;
}

static const gchar *
family_name (GInetAddress * addr)
{
  return is_ipv6 (addr) ? "IPv6" : "IPv4";
}

/* The source of SOURCE@GROUP:PORT, brackets optional for IPv6; NULL for an
 * error. */
static GInetAddress *
parse_source (const gchar * text, GError ** error)
{
  gsize len = strlen (text);
  gchar *inner;
  GInetAddress *addr;

  if (text[0] == '[' && len >= 2 && text[len - 1] == ']')
    inner = g_strndup (text + 1, len - 2);
  else
    inner = g_strdup (text);
  if (*inner == '\0') {
    set_error (error, "missing the source before \"@\"");
    g_free (inner);
    return NULL;
  }
  if (strpbrk (inner, "[]")) {
    set_error (error, "source %s: not an IP address (an IPv6 source is "
        "written [ADDRESS]@)", text);
    g_free (inner);
    return NULL;
  }
  addr = mcp_parse_inet_address (inner, NULL);
  if (!addr)
    set_error (error, "source %s: not an IP address", inner);
  g_free (inner);
  return addr;
}

/* The channel after "/udp/" or "/rtp/" (or "udp://"), still
 * percent-encoded: [SOURCE@]GROUP:PORT. */
static gboolean
parse_channel_text (const gchar * text, gsize len, McpChannelKind kind,
    McpChannelSpec * spec, GError ** error)
{
  gchar *decoded, *rest, *at, *group_text = NULL, *source_text = NULL;
  const gchar *port_text;
  GInetAddress *group = NULL, *source = NULL;
  GError *err = NULL;
  guint16 port = 0;
  gsize n, decoded_len;
  gboolean ok = FALSE;

  decoded = percent_decode (text, len, &decoded_len, error);
  if (!decoded)
    return FALSE;
  /* the first byte that is no channel character, a NUL (%00) included */
  for (n = 0; n < decoded_len; n++) {
    if (!channel_char (decoded[n])) {
      set_unexpected (error, decoded, n);
      goto out;
    }
  }
  if (n == 0) {
    set_error (error, "missing the channel: GROUP:PORT or "
        "SOURCE@GROUP:PORT");
    goto out;
  }
  if (n > MAX_CHANNEL_LEN) {
    set_error (error, "channel too long (%" G_GSIZE_FORMAT " characters)", n);
    goto out;
  }

  rest = decoded;
  at = strchr (decoded, '@');
  if (at) {
    if (strchr (at + 1, '@')) {
      set_unexpected (error, decoded, strchr (at + 1, '@') - decoded);
      goto out;
    }
    source_text = g_strndup (decoded, at - decoded);
    rest = at + 1;
  }

  if (rest[0] == '[') {
    gchar *close = strchr (rest, ']');

    if (!close) {
      set_error (error, "missing \"]\" after \"%s\"", rest);
      goto out;
    }
    if (close[1] == '\0') {
      set_error (error, "missing :PORT after the group");
      goto out;
    }
    if (close[1] != ':') {
      set_unexpected (error, decoded, close + 1 - decoded);
      goto out;
    }
    group_text = g_strndup (rest + 1, close - rest - 1);
    port_text = close + 2;
  } else {
    gchar *colon = strrchr (rest, ':');

    if (!colon) {
      set_error (error, "missing :PORT after the group");
      goto out;
    }
    group_text = g_strndup (rest, colon - rest);
    port_text = colon + 1;
    if (strchr (group_text, ':')) {
      set_error (error, "an IPv6 group needs brackets: [%s]:%s", group_text,
          port_text);
      goto out;
    }
  }
  if (strpbrk (group_text, "[]")) {
    set_error (error, "group %s: not an IP address", group_text);
    goto out;
  }
  if (strpbrk (port_text, "[]")) {
    set_unexpected (error, decoded, strpbrk (port_text, "[]") - decoded);
    goto out;
  }
  if (*group_text == '\0') {
    set_error (error, "missing the group before \":%s\"", port_text);
    goto out;
  }

  group = mcp_parse_group (group_text, &err);
  if (!group) {
    if (g_error_matches (err, MCP_ADDRESS_ERROR,
            MCP_ADDRESS_ERROR_NOT_MULTICAST)) {
      GInetAddress *swapped = source_text ?
          mcp_parse_group (source_text, NULL) : NULL;

      /* "GROUP@SOURCE:PORT" is a likely mistake */
      set_error (error, "group %s is not a multicast address%s", group_text,
          swapped ? " (the form is SOURCE@GROUP:PORT)" : "");
      g_clear_object (&swapped);
    } else {
      set_error (error, "group %s: not an IP address", group_text);
    }
    g_clear_error (&err);
    goto out;
  }
  if (!parse_port (port_text, &port, error))
    goto out;

  if (source_text && *source_text) {
    gchar *s, *g;

    source = parse_source (source_text, error);
    if (!source)
      goto out;
    s = g_inet_address_to_string (source);
    g = g_inet_address_to_string (group);
    if (g_inet_address_get_is_multicast (source)) {
      set_error (error, "source %s is a multicast address: a source-specific "
          "group needs a unicast source", s);
    } else if (g_inet_address_get_family (source) !=
        g_inet_address_get_family (group)) {
      set_error (error, "source %s is %s but group %s is %s", s,
          family_name (source), g, family_name (group));
    } else {
      ok = TRUE;
    }
    g_free (s);
    g_free (g);
    if (!ok)
      goto out;
  }

  spec->kind = kind;
  spec->group = g_steal_pointer (&group);
  spec->port = port;
  spec->source = g_steal_pointer (&source);
  ok = TRUE;

out:
  g_clear_object (&group);
  g_clear_object (&source);
  g_free (group_text);
  g_free (source_text);
  g_free (decoded);
  return ok;
}

McpChannelParseResult
mcp_channel_parse (const gchar * path, McpChannelSpec * spec, GError ** error)
{
  McpChannelKind kind;
  gsize len;

  g_return_val_if_fail (spec != NULL, MCP_CHANNEL_PARSE_ERROR);

  if (!path)
    return MCP_CHANNEL_PARSE_NOT_CHANNEL;
  if (g_str_has_prefix (path, "/udp/"))
    kind = MCP_CHANNEL_UDP;
  else if (g_str_has_prefix (path, "/rtp/"))
    kind = MCP_CHANNEL_RTP;
  else
    return MCP_CHANNEL_PARSE_NOT_CHANNEL;

  path += 5;
  len = strlen (path);
  if (len > 0 && path[len - 1] == '/')
    len--;
  if (!parse_channel_text (path, len, kind, spec, error))
    return MCP_CHANNEL_PARSE_ERROR;
  return MCP_CHANNEL_PARSE_OK;
}

void
mcp_channel_spec_clear (McpChannelSpec * spec)
{
  g_clear_object (&spec->group);
  g_clear_object (&spec->source);
}

static void
append_address (GString * out, GInetAddress * addr)
{
  gchar *s = g_inet_address_to_string (addr);

  if (is_ipv6 (addr))
    g_string_append_printf (out, "[%s]", s);
  else
    g_string_append (out, s);
  g_free (s);
}

static void
append_channel_path (GString * out, const McpChannelSpec * spec)
{
  g_string_append (out, spec->kind == MCP_CHANNEL_RTP ? "/rtp/" : "/udp/");
  if (spec->source) {
    append_address (out, spec->source);
    g_string_append_c (out, '@');
  }
  append_address (out, spec->group);
  g_string_append_printf (out, ":%u", spec->port);
}

gchar *
mcp_channel_to_path (const McpChannelSpec * spec)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (spec != NULL && spec->group != NULL, NULL);
  append_channel_path (out, spec);
  return g_string_free (out, FALSE);
}

/* ---- playlists --------------------------------------------------------- */

/* The value of ffmpeg's "sources" option in a query (a new string), NULL
 * when there is none. */
static gchar *
query_sources (const gchar * query, const gchar * end)
{
  const gchar *p = query;

  while (p < end) {
    const gchar *amp = memchr (p, '&', end - p);
    const gchar *stop = amp ? amp : end;

    if (stop - p >= 8 && g_ascii_strncasecmp (p, "sources=", 8) == 0)
      return g_strndup (p + 8, stop - p - 8);
    p = stop + 1;
  }
  return NULL;
}

/* A udp:// or rtp:// URL, url[0..len), as a channel. */
static gboolean
parse_url (const gchar * url, gsize len, McpChannelSpec * spec)
{
  const gchar *end = url + len, *auth = url + 6, *auth_end, *fragment;
  McpChannelKind kind = g_ascii_tolower (url[0]) == 'r' ?
      MCP_CHANNEL_RTP : MCP_CHANNEL_UDP;
  gchar *sources, *text;
  gboolean ok;

  fragment = memchr (url, '#', len);
  if (fragment)
    end = fragment;
  for (auth_end = auth; auth_end < end && *auth_end != '/'
      && *auth_end != '?'; auth_end++);
  sources = NULL;
  if (auth_end < end) {
    const gchar *q = memchr (auth_end, '?', end - auth_end);

    if (q)
      sources = query_sources (q + 1, end);
  }
  if (sources) {
    /* the source twice is one too many */
    if (memchr (auth, '@', auth_end - auth) && auth[0] != '@') {
      g_free (sources);
      return FALSE;
    }
    if (auth[0] == '@')
      auth++;
    text = g_strdup_printf ("%s@%.*s", sources, (gint) (auth_end - auth), auth);
  } else {
    text = g_strndup (auth, auth_end - auth);
  }
  ok = parse_channel_text (text, strlen (text), kind, spec, NULL);
  g_free (text);
  g_free (sources);
  return ok;
}

static gboolean
is_blank (gchar c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

gchar *
mcp_playlist_rewrite (const gchar * playlist, gsize len, const gchar * base,
    guint * n_rewritten, guint * n_bad)
{
  return mcp_playlist_rewrite_full (playlist, len, base, NULL, n_rewritten,
      n_bad);
}

gchar *
mcp_playlist_rewrite_full (const gchar * playlist, gsize len,
    const gchar * base, const gchar * suffix, guint * n_rewritten,
    guint * n_bad)
{
  GString *out;
  gsize base_len;
  const gchar *line, *end;
  guint rewritten = 0, bad = 0;

  g_return_val_if_fail (playlist != NULL || len == 0, NULL);
  g_return_val_if_fail (base != NULL, NULL);

  if (!playlist)
    playlist = "";
  len = strnlen (playlist, len);
  end = playlist + len;
  base_len = strlen (base);
  if (base_len > 0 && base[base_len - 1] == '/')
    base_len--;
  out = g_string_sized_new (len + len / 4 + 16);

  for (line = playlist; line < end;) {
    const gchar *nl = memchr (line, '\n', end - line);
    const gchar *line_end = nl ? nl : end;
    const gchar *s = line, *e = line_end;
    McpChannelSpec spec = { 0, };

    while (s < e && is_blank (*s))
      s++;
    while (e > s && is_blank (e[-1]))
      e--;
    if (e - s >= 6 && (g_ascii_strncasecmp (s, "udp://", 6) == 0
            || g_ascii_strncasecmp (s, "rtp://", 6) == 0)) {
      if (parse_url (s, e - s, &spec)) {
        g_string_append_len (out, line, s - line);
        g_string_append_len (out, base, base_len);
        append_channel_path (out, &spec);
        if (suffix)
          g_string_append (out, suffix);
        g_string_append_len (out, e, line_end - e);
        mcp_channel_spec_clear (&spec);
        rewritten++;
      } else {
        g_string_append_len (out, line, line_end - line);
        bad++;
      }
    } else {
      g_string_append_len (out, line, line_end - line);
    }
    if (nl)
      g_string_append_c (out, '\n');
    line = line_end + (nl ? 1 : 0);
  }
  if (n_rewritten)
    *n_rewritten = rewritten;
  if (n_bad)
    *n_bad = bad;
  return g_string_free (out, FALSE);
}

/* ---- base URL ---------------------------------------------------------- */

/* HOST[:PORT] of a Host header: a name (letters, digits, "-", "." and
 * "_"), an IPv4 address or [IPv6]. */
static gboolean
host_header_valid (const gchar * host, gsize len)
{
  const gchar *end = host + len, *host_end;
  gsize i;

  if (len == 0 || len > 255)
    return FALSE;
  if (host[0] == '[') {
    const gchar *close = memchr (host, ']', len);
    gchar *inner;
    GInetAddress *addr;

    if (!close || close == host + 1)
      return FALSE;
    for (i = 1; host + i < close; i++)
      if (!g_ascii_isxdigit (host[i]) && host[i] != ':' && host[i] != '.')
        return FALSE;
    inner = g_strndup (host + 1, close - host - 1);
    addr = mcp_parse_inet_address (inner, NULL);
    g_free (inner);
    if (!addr || !is_ipv6 (addr)) {
      g_clear_object (&addr);
      return FALSE;
    }
    g_object_unref (addr);
    host_end = close + 1;
  } else {
    for (host_end = host; host_end < end && *host_end != ':'; host_end++)
      if (!g_ascii_isalnum (*host_end) && !strchr ("-._", *host_end))
        return FALSE;
    if (host_end == host)
      return FALSE;
  }
  if (host_end == end)
    return TRUE;
  if (*host_end != ':' || host_end + 1 == end || end - host_end > 6)
    return FALSE;
  {
    guint port = 0;
    const gchar *c;

    for (c = host_end + 1; c < end; c++) {
      if (!g_ascii_isdigit (*c))
        return FALSE;
      port = port * 10 + (*c - '0');
    }
    return port >= 1 && port <= G_MAXUINT16;
  }
}

gchar *
mcp_channel_base_url (const gchar * host_header, gboolean tls,
    const gchar * fallback_host, guint16 fallback_port)
{
  const gchar *scheme = tls ? "https" : "http";

  if (host_header) {
    const gchar *s = host_header, *e = host_header + strlen (host_header);

    /* the optional whitespace around a header value */
    while (s < e && (*s == ' ' || *s == '\t'))
      s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
      e--;
    if (host_header_valid (s, e - s))
      return g_strdup_printf ("%s://%.*s", scheme, (gint) (e - s), s);
  }
  if (!fallback_host || !*fallback_host)
    fallback_host = "localhost";
  if (strchr (fallback_host, ':') && fallback_host[0] != '[')
    return g_strdup_printf ("%s://[%s]:%u", scheme, fallback_host,
        fallback_port);
  return g_strdup_printf ("%s://%s:%u", scheme, fallback_host, fallback_port);
}
