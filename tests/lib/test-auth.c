/* Unit tests of mcp-auth: proofs, their comparison, nonces and secret
 * files. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "mcp-auth.h"

static const gchar SECRET[] = "correct horse battery staple";

static void
fill_parties (McpAuthParty * caller, McpAuthParty * listener)
{
  guint i;

  caller->role = MCP_ROLE_RECEIVER;
  caller->peer_id = G_GUINT64_CONSTANT (0x0102030405060708);
  listener->role = MCP_ROLE_SOURCE;
  listener->peer_id = G_GUINT64_CONSTANT (0xa1a2a3a4a5a6a7a8);
  for (i = 0; i < MCP_AUTH_NONCE_LEN; i++) {
    caller->nonce[i] = i;
    listener->nonce[i] = 32 + i;
  }
}

/* The proofs are pinned (computed independently with Python's hmac), so
 * two builds always agree on the wire. */
static void
test_proof_vectors (void)
{
  static const guint8 caller_proof[MCP_AUTH_PROOF_LEN] = {
    0xe8, 0xd0, 0x1c, 0x6f, 0x98, 0x59, 0x9c, 0x08, 0xe0, 0x26, 0x3a, 0x39,
    0xac, 0x0e, 0x65, 0xc2, 0x2c, 0xca, 0xf1, 0x97, 0x13, 0x00, 0xbb, 0x0c,
    0x4c, 0x4d, 0xe3, 0x49, 0xdc, 0x27, 0xb6, 0xe9
  };
  static const guint8 listener_proof[MCP_AUTH_PROOF_LEN] = {
    0x95, 0x55, 0xf5, 0xc6, 0xbd, 0x1a, 0x98, 0x6e, 0xe6, 0x17, 0xf2, 0xec,
    0xd3, 0x71, 0xe9, 0xb5, 0x8d, 0x1c, 0x71, 0x53, 0x30, 0xd4, 0x43, 0x64,
    0xde, 0xd5, 0xa3, 0x2a, 0xd1, 0x49, 0xf5, 0x88
  };
  GBytes *secret = g_bytes_new_static (SECRET, strlen (SECRET));
  McpAuthParty c, l;
  guint8 proof[MCP_AUTH_PROOF_LEN];

  fill_parties (&c, &l);
  mcp_auth_compute_proof (secret, TRUE, &c, &l, proof);
  g_assert_cmpmem (proof, sizeof (proof), caller_proof, sizeof (caller_proof));
  mcp_auth_compute_proof (secret, FALSE, &c, &l, proof);
  g_assert_cmpmem (proof, sizeof (proof), listener_proof,
      sizeof (listener_proof));
  g_bytes_unref (secret);
}

/* Every input changes the proof: the secret, the side, each nonce, each
 * role and each peer id. */
static void
test_proof_binds_everything (void)
{
  GBytes *secret = g_bytes_new_static (SECRET, strlen (SECRET));
  GBytes *other = g_bytes_new_static ("correct horse battery stapler", 29);
  McpAuthParty c, l, c2, l2;
  guint8 ref[MCP_AUTH_PROOF_LEN], p[MCP_AUTH_PROOF_LEN];
  guint variant;

  fill_parties (&c, &l);
  mcp_auth_compute_proof (secret, TRUE, &c, &l, ref);
  mcp_auth_compute_proof (secret, TRUE, &c, &l, p);
  g_assert_true (mcp_auth_proof_equal (ref, p));

  mcp_auth_compute_proof (other, TRUE, &c, &l, p);
  g_assert_false (mcp_auth_proof_equal (ref, p));
  mcp_auth_compute_proof (secret, FALSE, &c, &l, p);
  g_assert_false (mcp_auth_proof_equal (ref, p));
  /* swapping the parties is not the same handshake */
  mcp_auth_compute_proof (secret, TRUE, &l, &c, p);
  g_assert_false (mcp_auth_proof_equal (ref, p));

  for (variant = 0; variant < 6; variant++) {
    c2 = c;
    l2 = l;
    switch (variant) {
      case 0:
        c2.nonce[31] ^= 1;
        break;
      case 1:
        l2.nonce[0] ^= 0x80;
        break;
      case 2:
        c2.role = MCP_ROLE_PEER;
        break;
      case 3:
        l2.role = MCP_ROLE_PEER;
        break;
      case 4:
        c2.peer_id ^= G_GUINT64_CONSTANT (1) << 63;
        break;
      case 5:
        l2.peer_id ^= 1;
        break;
    }
    mcp_auth_compute_proof (secret, TRUE, &c2, &l2, p);
    g_assert_false (mcp_auth_proof_equal (ref, p));
  }
  g_bytes_unref (secret);
  g_bytes_unref (other);
}

static void
test_proof_equal (void)
{
  guint8 a[MCP_AUTH_PROOF_LEN], b[MCP_AUTH_PROOF_LEN];
  guint i;

  memset (a, 0x5a, sizeof (a));
  memcpy (b, a, sizeof (a));
  g_assert_true (mcp_auth_proof_equal (a, b));
  for (i = 0; i < MCP_AUTH_PROOF_LEN; i++) {
    b[i] ^= 0x01;
    g_assert_false (mcp_auth_proof_equal (a, b));
    b[i] ^= 0x01;
  }
}

/* Nonces differ from call to call (256 bits each: a repeat means a broken
 * random source). */
static void
test_token_equal (void)
{
  g_assert_true (mcp_auth_token_equal ("s3cret", "s3cret"));
  g_assert_false (mcp_auth_token_equal ("s3cre", "s3cret"));
  g_assert_false (mcp_auth_token_equal ("s3cret!", "s3cret"));
  g_assert_false (mcp_auth_token_equal ("", "s3cret"));
  g_assert_false (mcp_auth_token_equal ("S3cret", "s3cret"));
  g_assert_true (mcp_auth_token_equal ("", ""));
}

static void
test_nonces (void)
{
  GHashTable *seen = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
      (GDestroyNotify) g_bytes_unref, NULL);
  guint i;

  for (i = 0; i < 1000; i++) {
    guint8 n[MCP_AUTH_NONCE_LEN];

    mcp_auth_make_nonce (n);
    g_assert_true (g_hash_table_add (seen, g_bytes_new (n, sizeof (n))));
  }
  g_hash_table_unref (seen);
}

static gchar *
write_secret (const gchar * dir, const gchar * name, const gchar * content,
    gssize len, gint mode)
{
  gchar *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, content, len, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
test_secret_file (void)
{
  gchar *dir = g_dir_make_tmp ("mcp-auth-XXXXXX", NULL);
  gchar *path;
  GError *err = NULL;
  GBytes *b;

  /* the trailing newline of `echo secret > file` is not part of it */
  path = write_secret (dir, "a", "s3cret\r\n\n", -1, 0600);
  b = mcp_auth_load_secret_file (path, &err);
  g_assert_no_error (err);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
      "s3cret", 6);
  g_bytes_unref (b);
  g_unlink (path);
  g_free (path);

  /* binary secrets are fine, a newline inside too */
  path = write_secret (dir, "b", "a\0b\nc", 5, 0400);
  b = mcp_auth_load_secret_file (path, &err);
  g_assert_no_error (err);
  g_assert_cmpmem (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
      "a\0b\nc", 5);
  g_bytes_unref (b);
  g_unlink (path);
  g_free (path);

  /* readable by others: refused */
  path = write_secret (dir, "c", "s3cret", -1, 0644);
  g_assert_null (mcp_auth_load_secret_file (path, &err));
  g_assert_error (err, G_FILE_ERROR, G_FILE_ERROR_PERM);
  g_assert_nonnull (strstr (err->message, "chmod 600"));
  g_clear_error (&err);
  g_unlink (path);
  g_free (path);

  /* empty, or only a newline: refused */
  path = write_secret (dir, "d", "\n", -1, 0600);
  g_assert_null (mcp_auth_load_secret_file (path, &err));
  g_assert_error (err, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&err);
  g_unlink (path);
  g_free (path);

  /* missing */
  path = g_build_filename (dir, "missing", NULL);
  g_assert_null (mcp_auth_load_secret_file (path, &err));
  g_assert_error (err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&err);
  g_free (path);

  g_rmdir (dir);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/auth/proof/vectors", test_proof_vectors);
  g_test_add_func ("/auth/proof/binds-everything", test_proof_binds_everything);
  g_test_add_func ("/auth/proof/equal", test_proof_equal);
  g_test_add_func ("/auth/nonces", test_nonces);
  g_test_add_func ("/auth/token-equal", test_token_equal);
  g_test_add_func ("/auth/secret-file", test_secret_file);

  return g_test_run ();
}
