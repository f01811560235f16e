/* mcastproxy — shared-secret authentication (see mcp-auth.h). */
#include "config.h"

#include "mcp-auth.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

void
mcp_auth_make_nonce (guint8 * nonce)
{
  gsize got = 0;

  while (got < MCP_AUTH_NONCE_LEN) {
    ssize_t n = getrandom (nonce + got, MCP_AUTH_NONCE_LEN - got, 0);

    if (n < 0) {
      /* EINTR only: the kernel's pool is always there after boot */
      if (errno != EINTR)
        g_error ("getrandom failed: %s", g_strerror (errno));
      continue;
    }
    got += n;
  }
}

static void
hmac_party (GHmac * hmac, const McpAuthParty * p)
{
  guint8 b[9];
  gint i;

  b[0] = p->role;
  for (i = 0; i < 8; i++)
    b[1 + i] = p->peer_id >> (56 - 8 * i);
  g_hmac_update (hmac, b, sizeof (b));
  g_hmac_update (hmac, p->nonce, MCP_AUTH_NONCE_LEN);
}

void
mcp_auth_compute_proof (GBytes * secret, gboolean from_caller,
    const McpAuthParty * caller, const McpAuthParty * listener, guint8 * proof)
{
  /* The labels differ per side, so that one end's proof never serves as
   * the other's (no reflection). */
  static const gchar caller_label[] = "mpx-1 auth caller";
  static const gchar listener_label[] = "mpx-1 auth listener";
  const gchar *label = from_caller ? caller_label : listener_label;
  gsize key_len, len = MCP_AUTH_PROOF_LEN;
  gconstpointer key = g_bytes_get_data (secret, &key_len);
  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);

  g_hmac_update (hmac, (const guchar *) label, strlen (label) + 1);
  hmac_party (hmac, caller);
  hmac_party (hmac, listener);
  g_hmac_get_digest (hmac, proof, &len);
  g_assert (len == MCP_AUTH_PROOF_LEN);
  g_hmac_unref (hmac);
}

gboolean
mcp_auth_proof_equal (const guint8 * a, const guint8 * b)
{
  volatile guint8 diff = 0;
  gsize i;

  for (i = 0; i < MCP_AUTH_PROOF_LEN; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

static void
token_digest (const gchar * token, guint8 * digest)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = MCP_AUTH_PROOF_LEN;

  g_checksum_update (sum, (const guchar *) token, strlen (token));
  g_checksum_get_digest (sum, digest, &len);
  g_checksum_free (sum);
}

gboolean
mcp_auth_token_equal (const gchar * given, const gchar * expected)
{
  guint8 a[MCP_AUTH_PROOF_LEN], b[MCP_AUTH_PROOF_LEN];

  token_digest (given, a);
  token_digest (expected, b);
  return mcp_auth_proof_equal (a, b);
}

GBytes *
mcp_auth_load_secret_file (const gchar * path, GError ** error)
{
  GStatBuf st;
  gchar *data;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  if (g_stat (path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
    g_free (data);
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
        "secret file %s may be read by others (mode %03o): chmod 600 it",
        path, (guint) (st.st_mode & 0777));
    return NULL;
  }
  while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
    len--;
  if (len == 0) {
    g_free (data);
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "secret file %s is empty", path);
    return NULL;
  }
  return g_bytes_new_take (data, len);
}
