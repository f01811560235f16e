/* mcastproxy — the shared-secret challenge-response of the mpx handshake
 * (docs/protocol.md, "Authentication"). Pure code: no sockets. */
#ifndef __MCP_AUTH_H__
#define __MCP_AUTH_H__

#include "mcp-wire.h"

G_BEGIN_DECLS

/* Fills nonce with MCP_AUTH_NONCE_LEN bytes from the kernel's random
 * source. */
void mcp_auth_make_nonce (guint8 * nonce);

/* What each end of a handshake announced. */
typedef struct
{
  McpRole role;
  guint64 peer_id;
  guint8 nonce[MCP_AUTH_NONCE_LEN];
} McpAuthParty;

/* The proof of one end (the caller's when from_caller) that it knows
 * secret, bound to both nonces, roles and peer ids and to its side of the
 * connection: HMAC-SHA256 (secret, label || caller || listener). */
void mcp_auth_compute_proof (GBytes * secret, gboolean from_caller,
    const McpAuthParty * caller, const McpAuthParty * listener,
    guint8 * proof);

/* Compares two proofs in constant time. */
gboolean mcp_auth_proof_equal (const guint8 * a, const guint8 * b);

/* Whether a token a client gave equals the expected one, in a time that
 * tells nothing of where they differ, nor of the expected one's length
 * (both are compared as SHA-256 digests). */
gboolean mcp_auth_token_equal (const gchar * given, const gchar * expected);

/* Reads a secret from a file: its bytes without a trailing newline. An
 * empty file, or one that group or others may read, is an error. */
GBytes *mcp_auth_load_secret_file (const gchar * path, GError ** error);

G_END_DECLS

#endif /* __MCP_AUTH_H__ */
