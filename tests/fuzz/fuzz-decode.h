/* mcastproxy fuzzing — decodes a stream into records of what the decoder
 * returned, fed in chunks of given sizes, checking on the way that every
 * message lies where the stream says; and compares two such lists. */
#ifndef __FUZZ_DECODE_H__
#define __FUZZ_DECODE_H__

#include <glib.h>

#include "mcp-wire.h"

G_BEGIN_DECLS

/* One thing the decoder returned, copied out of it. Kinds this file does
 * not know (message kinds added later) keep only their kind. */
typedef struct
{
  McpDecodeResult kind;
  McpFrameMeta meta;            /* DATA */
  GBytes *payload;              /* DATA */
  McpHello hello;               /* HELLO; its strings point into the record */
  gchar *caps;                  /* CAPS */
  guint8 auth_proof[MCP_AUTH_PROOF_LEN];        /* AUTH */
  gchar *reason;                /* PEER_ERROR */
  gint error_code;              /* ERROR: the McpWireError */
  gboolean at_finish;           /* ERROR: from mcp_decoder_finish() */
} FuzzRecord;

/* How a stream is fed: chunk sizes taken in turn from sizes (cycling; a
 * size of 0 means "the rest"), by mcp_decoder_reserve()/commit() or by
 * mcp_decoder_push(), and whether to decode after every chunk or only
 * after the chunks with a set bit in drain_mask (bit i % 32 for chunk i;
 * the last chunk is always decoded). */
typedef struct
{
  const gsize *sizes;
  guint n_sizes;
  gboolean reserve;
  guint32 drain_mask;
} FuzzFeed;

/* Decodes data with a new decoder of the framing, fed as feed says,
 * until the end (then mcp_decoder_finish()) or the first error. The
 * records end with that error, or with an ERROR record (at_finish) for a
 * failed finish; a clean finish adds nothing. Raw pieces (whose cut depends on
 * the chunks) are joined into one DATA record per run. *framing_out: what
 * the decoder settled on. Aborts when the decoder breaks its contract. */
GPtrArray *fuzz_decode (McpFraming framing, const guint8 * data, gsize len,
    const FuzzFeed * feed, McpFraming * framing_out);

/* Aborts unless the two lists hold the same records. */
void fuzz_records_assert_equal (GPtrArray * a, GPtrArray * b);

G_END_DECLS

#endif /* __FUZZ_DECODE_H__ */
