/* Unit tests of mcp-http: detection, the request parser and its bounds,
 * response heads, content types and JSON strings. */
#include "config.h"

#include <string.h>

#include "mcp-http.h"
#include "mcp-wire.h"

static McpHttpDetect
detect (const gchar * s)
{
  return mcp_http_detect ((const guint8 *) s, strlen (s));
}

static void
test_detect (void)
{
  g_assert_cmpint (detect (""), ==, MCP_HTTP_DETECT_MAYBE);
  g_assert_cmpint (detect ("G"), ==, MCP_HTTP_DETECT_MAYBE);
  g_assert_cmpint (detect ("GET"), ==, MCP_HTTP_DETECT_MAYBE);
  g_assert_cmpint (detect ("GET "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("GET / HTTP/1.0\r\n"), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("HEAD "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("P"), ==, MCP_HTTP_DETECT_MAYBE);
  g_assert_cmpint (detect ("PO"), ==, MCP_HTTP_DETECT_MAYBE);
  g_assert_cmpint (detect ("POST /x"), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("PUT "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("DELETE "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("OPTIONS "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("PATCH "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("TRACE "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("CONNECT "), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (detect ("GETX"), ==, MCP_HTTP_DETECT_NO);
  g_assert_cmpint (detect ("get "), ==, MCP_HTTP_DETECT_NO);
  g_assert_cmpint (detect ("\x89MPX"), ==, MCP_HTTP_DETECT_NO);
  g_assert_cmpint (detect ("hello"), ==, MCP_HTTP_DETECT_NO);
  g_assert_cmpint (detect ("X"), ==, MCP_HTTP_DETECT_NO);
}

static McpHttpParseResult
parse (const gchar * s, McpHttpRequest ** req, gsize * head_len, GError ** err)
{
  return mcp_http_parse_request ((const guint8 *) s, strlen (s), req,
      head_len, err);
}

static void
test_parse_get (void)
{
  const gchar *s = "GET /live.ts?x=1&y HTTP/1.1\r\nHost: h:80\r\n"
      "User-Agent:  curl/7.88 \r\nX-Empty:\r\nhost: again\r\n\r\nBODY";
  McpHttpRequest *req;
  gsize head_len = 0;
  GError *err = NULL;

  g_assert_cmpint (parse (s, &req, &head_len, &err), ==, MCP_HTTP_PARSE_DONE);
  g_assert_no_error (err);
  g_assert_cmpuint (head_len, ==, strlen (s) - 4);
  g_assert_cmpstr (req->method, ==, "GET");
  g_assert_cmpstr (req->target, ==, "/live.ts?x=1&y");
  g_assert_cmpstr (req->path, ==, "/live.ts");
  g_assert_cmpstr (req->query, ==, "x=1&y");
  g_assert_cmpuint (req->version_minor, ==, 1);
  g_assert_cmpuint (req->names->len, ==, 4);
  g_assert_cmpstr (mcp_http_request_get_header (req, "HOST"), ==, "h:80");
  g_assert_cmpstr (mcp_http_request_get_header (req, "user-agent"), ==,
      "curl/7.88");
  g_assert_cmpstr (mcp_http_request_get_header (req, "X-Empty"), ==, "");
  g_assert_null (mcp_http_request_get_header (req, "Accept"));
  mcp_http_request_free (req);
}

static void
test_parse_forms (void)
{
  McpHttpRequest *req;
  gsize head_len = 0;

  /* bare LF line ends, HTTP/1.0, no headers */
  g_assert_cmpint (parse ("HEAD / HTTP/1.0\n\n", &req, &head_len, NULL), ==,
      MCP_HTTP_PARSE_DONE);
  g_assert_cmpuint (head_len, ==, 17);
  g_assert_cmpstr (req->method, ==, "HEAD");
  g_assert_cmpstr (req->path, ==, "/");
  g_assert_null (req->query);
  g_assert_cmpuint (req->version_minor, ==, 0);
  mcp_http_request_free (req);

  /* absolute-form, as sent to a proxy */
  g_assert_cmpint (parse ("GET http://h:1/stats?a HTTP/1.1\r\n\r\n", &req,
          &head_len, NULL), ==, MCP_HTTP_PARSE_DONE);
  g_assert_cmpstr (req->path, ==, "/stats");
  g_assert_cmpstr (req->query, ==, "a");
  mcp_http_request_free (req);
  g_assert_cmpint (parse ("GET http://h HTTP/1.1\r\n\r\n", &req,
          &head_len, NULL), ==, MCP_HTTP_PARSE_DONE);
  g_assert_cmpstr (req->path, ==, "/");
  mcp_http_request_free (req);

  /* any method token parses; deciding what is allowed is the caller's */
  g_assert_cmpint (parse ("BREW /pot HTTP/1.1\r\n\r\n", &req, &head_len,
          NULL), ==, MCP_HTTP_PARSE_DONE);
  g_assert_cmpstr (req->method, ==, "BREW");
  mcp_http_request_free (req);
}

static void
test_parse_incremental (void)
{
  const gchar *s = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  gsize n = strlen (s), i;
  McpHttpRequest *req;
  gsize head_len;

  for (i = 0; i < n; i++) {
    g_assert_cmpint (mcp_http_parse_request ((const guint8 *) s, i, &req,
            &head_len, NULL), ==, MCP_HTTP_PARSE_NEED_MORE);
    g_assert_null (req);
  }
  g_assert_cmpint (mcp_http_parse_request ((const guint8 *) s, n, &req,
          &head_len, NULL), ==, MCP_HTTP_PARSE_DONE);
  g_assert_cmpuint (head_len, ==, n);
  mcp_http_request_free (req);
}

static void
test_parse_malformed (void)
{
  static const gchar *const cases[] = {
    "\r\nGET / HTTP/1.1\r\n\r\n",
    "GET\r\n\r\n",
    "GET /\r\n\r\n",
    "GET / \r\n\r\n",
    "GET  / HTTP/1.1\r\n\r\n",
    " GET / HTTP/1.1\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "GET / HTTP/1.10\r\n\r\n",
    "GET / http/1.1\r\n\r\n",
    "GET / HTTP/1.x\r\n\r\n",
    "GET / HTTP/1.1 extra\r\n\r\n",
    "GET relative HTTP/1.1\r\n\r\n",
    "G(T / HTTP/1.1\r\n\r\n",
    "GET /a\x01 HTTP/1.1\r\n\r\n",
    "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
    "GET / HTTP/1.1\r\n: novalue\r\n\r\n",
    "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
    "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    McpHttpRequest *req = NULL;
    gsize head_len = 0;
    GError *err = NULL;

    g_test_message ("case %u", i);
    g_assert_cmpint (parse (cases[i], &req, &head_len, &err), ==,
        MCP_HTTP_PARSE_ERROR);
    g_assert_error (err, MCP_WIRE_ERROR, MCP_WIRE_ERROR_PROTOCOL);
    g_assert_null (req);
    g_error_free (err);
  }
}

static void
test_parse_nul (void)
{
  static const guint8 s[] = "GET / HTTP/1.1\r\nA: \0\r\n\r\n";
  McpHttpRequest *req;
  gsize head_len;
  GError *err = NULL;

  g_assert_cmpint (mcp_http_parse_request (s, sizeof (s) - 1, &req,
          &head_len, &err), ==, MCP_HTTP_PARSE_ERROR);
  g_assert_error (err, MCP_WIRE_ERROR, MCP_WIRE_ERROR_PROTOCOL);
  g_error_free (err);
}

/* A head may take MCP_HTTP_MAX_HEAD bytes, not one more. */
static void
test_parse_limit (void)
{
  GString *s = g_string_new ("GET / HTTP/1.1\r\nX: ");
  McpHttpRequest *req;
  gsize head_len;
  GError *err = NULL;

  while (s->len < MCP_HTTP_MAX_HEAD - 4)
    g_string_append_c (s, 'a');
  g_string_append (s, "\r\n\r\n");
  g_assert_cmpuint (s->len, ==, MCP_HTTP_MAX_HEAD);
  g_assert_cmpint (mcp_http_parse_request ((const guint8 *) s->str, s->len,
          &req, &head_len, NULL), ==, MCP_HTTP_PARSE_DONE);
  g_assert_cmpuint (head_len, ==, MCP_HTTP_MAX_HEAD);
  g_assert_cmpuint (strlen (mcp_http_request_get_header (req, "X")), ==,
      MCP_HTTP_MAX_HEAD - 16 - 3 - 4);
  mcp_http_request_free (req);

  /* one byte more: the end is past the limit */
  g_string_insert_c (s, 20, 'a');
  g_assert_cmpint (mcp_http_parse_request ((const guint8 *) s->str,
          MCP_HTTP_MAX_HEAD - 1, &req, &head_len, NULL), ==,
      MCP_HTTP_PARSE_NEED_MORE);
  g_assert_cmpint (mcp_http_parse_request ((const guint8 *) s->str, s->len,
          &req, &head_len, &err), ==, MCP_HTTP_PARSE_ERROR);
  g_assert_cmpstr (err->message, ==, "HTTP request head longer than 8192 "
      "bytes");
  g_clear_error (&err);
  g_string_free (s, TRUE);
}

static void
test_response (void)
{
  gchar *head = mcp_http_response_head (1, 200, "video/mp2t", -1, NULL);
  const gchar *expected;
  GBytes *b;

  g_assert_cmpstr (head, ==, "HTTP/1.1 200 OK\r\nServer: mcastproxy\r\n"
      "Content-Type: video/mp2t\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\n\r\n");
  g_free (head);
  head = mcp_http_response_head (0, 405, "text/plain", 5,
      "Allow: GET, HEAD\r\n");
  g_assert_cmpstr (head, ==, "HTTP/1.0 405 Method Not Allowed\r\n"
      "Server: mcastproxy\r\nContent-Type: text/plain\r\n"
      "Content-Length: 5\r\nCache-Control: no-cache\r\n"
      "Connection: close\r\nAllow: GET, HEAD\r\n\r\n");
  g_free (head);

  b = mcp_http_response (0, 404, NULL, NULL, NULL, TRUE);
  expected = "HTTP/1.0 404 Not Found\r\nServer: mcastproxy\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\n\r\n" "404 Not Found\n";
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
      expected, strlen (expected));
  g_bytes_unref (b);
  b = mcp_http_response (1, 200, "application/json", "{}", NULL, FALSE);
  expected = "HTTP/1.1 200 OK\r\nServer: mcastproxy\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n"
      "Cache-Control: no-cache\r\nConnection: close\r\n\r\n";
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
      expected, strlen (expected));
  g_bytes_unref (b);
  g_assert_cmpstr (mcp_http_status_reason (400), ==, "Bad Request");
  g_assert_cmpstr (mcp_http_status_reason (403), ==, "Forbidden");
  g_assert_cmpstr (mcp_http_status_reason (599), ==, "Error");
}

static void
test_content_type (void)
{
  g_assert_cmpstr (mcp_http_content_type_for_caps ("video/mpegts, "
          "systemstream=(boolean)true, packetsize=(int)188"), ==, "video/mp2t");
  g_assert_cmpstr (mcp_http_content_type_for_caps ("video/mpegts"), ==,
      "video/mp2t");
  g_assert_cmpstr (mcp_http_content_type_for_caps ("video/mpegtsx"), ==,
      "application/octet-stream");
  g_assert_cmpstr (mcp_http_content_type_for_caps ("application/x-rtp, "
          "media=video"), ==, "application/octet-stream");
  g_assert_cmpstr (mcp_http_content_type_for_caps ("audio/x-raw"), ==,
      "application/octet-stream");
  g_assert_cmpstr (mcp_http_content_type_for_caps (NULL), ==,
      "application/octet-stream");
}

static void
test_json_string (void)
{
  GString *s = g_string_new (NULL);

  mcp_json_append_string (s, "a\"b\\c\nd\re\tf\x01g\x7f" "é");
  g_assert_cmpstr (s->str, ==,
      "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007f" "é\"");
  g_string_truncate (s, 0);
  mcp_json_append_string (s, "\xff");
  g_assert_cmpstr (s->str, ==, "\"\xef\xbf\xbd\"");
  g_string_truncate (s, 0);
  mcp_json_append_string (s, "");
  g_assert_cmpstr (s->str, ==, "\"\"");
  g_string_free (s, TRUE);
}

/* How mcp-conn takes a request off an AUTO decoder: peek, parse, skip
 * the head, go on raw. */
static void
test_decoder_peek_skip (void)
{
  const gchar in[] = "GET / HTTP/1.0\r\n\r\nxyz";
  McpDecoder *dec = mcp_decoder_new (MCP_FRAMING_AUTO);
  McpHttpRequest *req;
  McpMessage msg;
  const guint8 *p;
  gsize len, head_len;

  p = mcp_decoder_peek (dec, &len);
  g_assert_cmpuint (len, ==, 0);
  mcp_decoder_push (dec, (const guint8 *) in, strlen (in));
  p = mcp_decoder_peek (dec, &len);
  g_assert_cmpmem (p, len, in, strlen (in));
  g_assert_cmpint (mcp_http_detect (p, len), ==, MCP_HTTP_DETECT_YES);
  g_assert_cmpint (mcp_http_parse_request (p, len, &req, &head_len, NULL),
      ==, MCP_HTTP_PARSE_DONE);
  g_assert_cmpuint (head_len, ==, strlen (in) - 3);
  mcp_http_request_free (req);
  mcp_decoder_skip (dec, head_len);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 3);
  mcp_decoder_set_framing (dec, MCP_FRAMING_RAW);
  g_assert_cmpint (mcp_decoder_next (dec, &msg, NULL), ==, MCP_DECODE_DATA);
  g_assert_cmpmem (msg.payload, msg.payload_len, "xyz", 3);
  mcp_decoder_skip (dec, 0);
  g_assert_cmpuint (mcp_decoder_pending (dec), ==, 0);
  mcp_decoder_free (dec);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http/detect", test_detect);
  g_test_add_func ("/http/parse/get", test_parse_get);
  g_test_add_func ("/http/parse/forms", test_parse_forms);
  g_test_add_func ("/http/parse/incremental", test_parse_incremental);
  g_test_add_func ("/http/parse/malformed", test_parse_malformed);
  g_test_add_func ("/http/parse/nul", test_parse_nul);
  g_test_add_func ("/http/parse/limit", test_parse_limit);
  g_test_add_func ("/http/response", test_response);
  g_test_add_func ("/http/content-type", test_content_type);
  g_test_add_func ("/http/json-string", test_json_string);
  g_test_add_func ("/http/decoder-peek-skip", test_decoder_peek_skip);
  return g_test_run ();
}
