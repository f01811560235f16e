/* mcastproxy fuzzing — HTTP detection and the request parser (mcp-http).
 *
 * Input: the bytes a client sends first. Checks the parser's promises:
 * exactly one outcome, NEED_MORE only below MCP_HTTP_MAX_HEAD, a head
 * never longer than that nor than the input, the same answer for the head
 * alone, well-formed fields; and that JSON strings of any field carry no
 * raw control character.
 */
#include "config.h"

#include "mcp-http.h"
#include "mcp-wire.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static void
check_json (const gchar * s)
{
  GString *out = g_string_new (NULL);
  gsize i;

  mcp_json_append_string (out, s);
  g_assert (out->len >= 2 && out->str[0] == '"'
      && out->str[out->len - 1] == '"');
  for (i = 0; i < out->len; i++)
    g_assert ((guchar) out->str[i] >= 0x20);
  g_assert (g_utf8_validate (out->str, out->len, NULL));
  g_string_free (out, TRUE);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  McpHttpRequest *req = NULL, *again = NULL;
  GError *err = NULL;
  gsize head_len = 0, head_len2 = 0;
  McpHttpParseResult r;
  McpHttpDetect d = mcp_http_detect (data, size);
  guint i;

  /* a request starts with a method: it is never told from less */
  if (d == MCP_HTTP_DETECT_YES)
    g_assert (size >= 4 && memchr (data, ' ', MIN (size, 8)) != NULL);

  r = mcp_http_parse_request (data, size, &req, &head_len, &err);
  switch (r) {
    case MCP_HTTP_PARSE_NEED_MORE:
      g_assert (size < MCP_HTTP_MAX_HEAD);
      g_assert (!req && !err);
      break;
    case MCP_HTTP_PARSE_ERROR:
      g_assert (!req);
      g_assert (err && err->domain == MCP_WIRE_ERROR);
      check_json (err->message);
      g_error_free (err);
      break;
    case MCP_HTTP_PARSE_DONE:
      g_assert (req && !err);
      g_assert (head_len > 0 && head_len <= size
          && head_len <= MCP_HTTP_MAX_HEAD);
      g_assert (data[head_len - 1] == '\n');
      g_assert (*req->method && *req->target);
      g_assert (req->path[0] == '/' || strcmp (req->path, "*") == 0);
      g_assert (req->version_minor <= 9);
      g_assert (req->names->len == req->values->len);
      check_json (req->method);
      check_json (req->path);
      for (i = 0; i < req->names->len; i++) {
        const gchar *name = g_ptr_array_index (req->names, i);

        g_assert (*name);
        g_assert (mcp_http_request_get_header (req, name) != NULL);
        check_json (g_ptr_array_index (req->values, i));
      }
      /* the head alone parses the same */
      g_assert (mcp_http_parse_request (data, head_len, &again, &head_len2,
              NULL) == MCP_HTTP_PARSE_DONE);
      g_assert (head_len2 == head_len);
      g_assert (strcmp (again->target, req->target) == 0);
      mcp_http_request_free (again);
      mcp_http_request_free (req);
      break;
  }
  return 0;
}
