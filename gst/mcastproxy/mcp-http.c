/* mcastproxy — HTTP requests of players (see mcp-http.h). */
#include "config.h"

#include "mcp-http.h"
#include "mcp-wire.h"

#include <string.h>

static const gchar *const methods[] = {
  "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "PATCH ",
  "TRACE ", "CONNECT ",
};

McpHttpDetect
mcp_http_detect (const guint8 * data, gsize len)
{
  McpHttpDetect best = MCP_HTTP_DETECT_NO;
  guint i;

  if (len == 0)
    return MCP_HTTP_DETECT_MAYBE;
  for (i = 0; i < G_N_ELEMENTS (methods); i++) {
    gsize mlen = strlen (methods[i]);

    if (memcmp (data, methods[i], MIN (len, mlen)) != 0)
      continue;
    if (len >= mlen)
      return MCP_HTTP_DETECT_YES;
    best = MCP_HTTP_DETECT_MAYBE;
  }
  return best;
}

void
mcp_http_request_free (McpHttpRequest * req)
{
  if (!req)
    return;
  g_free (req->method);
  g_free (req->target);
  g_free (req->path);
  g_free (req->query);
  g_ptr_array_unref (req->names);
  g_ptr_array_unref (req->values);
  g_free (req);
}

const gchar *
mcp_http_request_get_header (const McpHttpRequest * req, const gchar * name)
{
  guint i;

  for (i = 0; i < req->names->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (req->names, i), name) == 0)
      return g_ptr_array_index (req->values, i);
  return NULL;
}

/* RFC 9110 token characters. */
static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != 0 && strchr ("!#$%&'*+-.^_`|~", c));
}

static McpHttpParseResult
bad (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static McpHttpParseResult bad (GError ** error, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  if (error)
    *error = g_error_new_valist (MCP_WIRE_ERROR, MCP_WIRE_ERROR_PROTOCOL,
        format, args);
  va_end (args);
  return MCP_HTTP_PARSE_ERROR;
}

static McpHttpParseResult
parse_request_line (McpHttpRequest * req, const gchar * line, GError ** error)
{
  const gchar *sp1 = strchr (line, ' '), *sp2, *p;
  const gchar *version;

  if (!sp1 || sp1 == line)
    return bad (error, "HTTP request line without a method");
  for (p = line; p < sp1; p++)
    if (!is_tchar (*p))
      return bad (error, "HTTP method contains byte 0x%02x", (guchar) * p);
  sp2 = strchr (sp1 + 1, ' ');
  if (!sp2)
    return bad (error, "HTTP request line without a version");
  if (sp2 == sp1 + 1)
    return bad (error, "HTTP request line without a target");
  for (p = sp1 + 1; p < sp2; p++)
    if ((guchar) * p <= 0x20 || (guchar) * p >= 0x7f)
      return bad (error, "HTTP target contains byte 0x%02x", (guchar) * p);
  version = sp2 + 1;
  if (strlen (version) != 8 || strncmp (version, "HTTP/1.", 7) != 0
      || !g_ascii_isdigit (version[7]))
    return bad (error, "not an HTTP/1.x request line");

  req->method = g_strndup (line, sp1 - line);
  req->target = g_strndup (sp1 + 1, sp2 - sp1 - 1);
  req->version_minor = version[7] - '0';

  p = req->target;
  /* absolute-form (as sent to proxies): keep the path */
  if (g_ascii_strncasecmp (p, "http://", 7) == 0
      || g_ascii_strncasecmp (p, "https://", 8) == 0) {
    p = strchr (strstr (p, "//") + 2, '/');
    if (!p)
      p = "/";
  } else if (*p != '/') {
    if (strcmp (req->method, "OPTIONS") == 0 && strcmp (p, "*") == 0)
      p = "*";
    else
      return bad (error, "HTTP target does not start with '/'");
  }
  sp1 = strchr (p, '?');
  if (sp1) {
    req->path = g_strndup (p, sp1 - p);
    req->query = g_strdup (sp1 + 1);
  } else {
    req->path = g_strdup (p);
  }
  return MCP_HTTP_PARSE_DONE;
}

static McpHttpParseResult
parse_header (McpHttpRequest * req, const gchar * line, GError ** error)
{
  const gchar *colon = strchr (line, ':'), *p;

  if (*line == ' ' || *line == '\t')
    return bad (error, "HTTP header folded over lines");
  if (!colon || colon == line)
    return bad (error, "HTTP header line without a name");
  for (p = line; p < colon; p++)
    if (!is_tchar (*p))
      return bad (error, "HTTP header name contains byte 0x%02x", (guchar) * p);
  for (p = colon + 1; *p; p++)
    if (((guchar) * p < 0x20 && *p != '\t') || *p == 0x7f)
      return bad (error, "HTTP header value contains byte 0x%02x",
          (guchar) * p);
  g_ptr_array_add (req->names, g_strndup (line, colon - line));
  g_ptr_array_add (req->values, g_strstrip (g_strdup (colon + 1)));
  return MCP_HTTP_PARSE_DONE;
}

McpHttpParseResult
mcp_http_parse_request (const guint8 * data, gsize len,
    McpHttpRequest ** request, gsize * head_len, GError ** error)
{
  gsize limit = MIN (len, MCP_HTTP_MAX_HEAD);
  gsize pos = 0, end = 0;
  McpHttpRequest *req;
  McpHttpParseResult r = MCP_HTTP_PARSE_DONE;
  gboolean first = TRUE;
  gsize lines = 0;

  *request = NULL;
  /* find the empty line that ends the head; lines end in LF or CRLF */
  while (pos < limit) {
    const guint8 *lf = memchr (data + pos, '\n', limit - pos);
    gsize line_len;

    if (!lf)
      break;
    line_len = lf - (data + pos);
    if (line_len > 0 && data[pos + line_len - 1] == '\r')
      line_len--;
    pos = lf - data + 1;
    if (line_len == 0 && lines == 0)
      return bad (error, "HTTP request starts with an empty line");
    if (line_len == 0) {
      end = pos;
      break;
    }
    lines++;
  }
  if (!end) {
    if (len >= MCP_HTTP_MAX_HEAD)
      return bad (error, "HTTP request head longer than %u bytes",
          MCP_HTTP_MAX_HEAD);
    return MCP_HTTP_PARSE_NEED_MORE;
  }
  if (memchr (data, 0, end))
    return bad (error, "HTTP request head contains a NUL byte");

  req = g_new0 (McpHttpRequest, 1);
  req->names = g_ptr_array_new_with_free_func (g_free);
  req->values = g_ptr_array_new_with_free_func (g_free);
  pos = 0;
  while (r == MCP_HTTP_PARSE_DONE) {
    const guint8 *lf = memchr (data + pos, '\n', end - pos);
    gsize line_len = lf - (data + pos);
    gchar *line;

    if (line_len > 0 && data[pos + line_len - 1] == '\r')
      line_len--;
    if (line_len == 0)
      break;
    line = g_strndup ((const gchar *) data + pos, line_len);
    if (memchr (line, '\r', line_len))
      r = bad (error, "HTTP request line contains a lone CR");
    else if (first)
      r = parse_request_line (req, line, error);
    else
      r = parse_header (req, line, error);
    first = FALSE;
    g_free (line);
    pos = lf - data + 1;
  }
  if (r != MCP_HTTP_PARSE_DONE) {
    mcp_http_request_free (req);
    return r;
  }
  *request = req;
  *head_len = end;
  return MCP_HTTP_PARSE_DONE;
}

const gchar *
mcp_http_status_reason (guint status)
{
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 401:
      return "Unauthorized";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

gchar *
mcp_http_response_head (guint version_minor, guint status,
    const gchar * content_type, gssize content_length, const gchar * extra)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "HTTP/1.%u %u %s\r\n", version_minor ? 1 : 0,
      status, mcp_http_status_reason (status));
  g_string_append (s, "Server: mcastproxy\r\n");
  g_string_append_printf (s, "Content-Type: %s\r\n", content_type);
  if (content_length >= 0)
    g_string_append_printf (s, "Content-Length: %" G_GSSIZE_FORMAT "\r\n",
        content_length);
  g_string_append (s, "Cache-Control: no-cache\r\nConnection: close\r\n");
  if (extra)
    g_string_append (s, extra);
  g_string_append (s, "\r\n");
  return g_string_free (s, FALSE);
}

GBytes *
mcp_http_response (guint version_minor, guint status,
    const gchar * content_type, const gchar * body, const gchar * extra,
    gboolean with_body)
{
  gchar *text = NULL;
  gchar *head;
  GString *s;

  if (!content_type) {
    text = g_strdup_printf ("%u %s\n", status, mcp_http_status_reason (status));
    body = text;
    content_type = "text/plain; charset=utf-8";
  }
  head = mcp_http_response_head (version_minor, status, content_type,
      strlen (body), extra);
  s = g_string_new (head);
  if (with_body)
    g_string_append (s, body);
  g_free (head);
  g_free (text);
  return g_string_free_to_bytes (s);
}

const gchar *
mcp_http_content_type_for_caps (const gchar * caps)
{
  gsize n;

  if (!caps)
    return "application/octet-stream";
  n = strcspn (caps, ",; ");
  if (n == strlen ("video/mpegts") && strncmp (caps, "video/mpegts", n) == 0)
    return "video/mp2t";
  return "application/octet-stream";
}

void
mcp_json_append_string (GString * out, const gchar * s)
{
  gchar *valid = g_utf8_make_valid (s, -1);
  const gchar *p;

  g_string_append_c (out, '"');
  for (p = valid; *p; p++) {
    guchar c = *p;

    if (c == '"' || c == '\\') {
      g_string_append_c (out, '\\');
      g_string_append_c (out, c);
    } else if (c == '\n') {
      g_string_append (out, "\\n");
    } else if (c == '\r') {
      g_string_append (out, "\\r");
    } else if (c == '\t') {
      g_string_append (out, "\\t");
    } else if (c < 0x20 || c == 0x7f) {
      g_string_append_printf (out, "\\u%04x", c);
    } else {
      g_string_append_c (out, c);
    }
  }
  g_string_append_c (out, '"');
  g_free (valid);
}
